/**
 * The frames taken from libpcap and not yet handled: their bytes packed in one ring buffer, their
 * lengths and timestamps in typed arrays (no object per frame). Live capture copies each frame
 * here as cap delivers it, so libpcap's ring (fixed-size slots, see live.ts) is emptied at once and
 * a backlog waits here, packed, instead of there. A full queue drops the new frame and counts it.
 */
import type { Frame } from '../core/frame.js';

export class FrameQueue {
  /** Frames refused because the queue was full. */
  dropped = 0;
  private readonly bytes: Uint8Array;
  private readonly offset: Int32Array;
  private readonly capLen: Int32Array;
  private readonly origLen: Int32Array;
  private readonly tsSec: Float64Array;
  private readonly tsNsec: Int32Array;
  /** Index of the oldest frame, and how many there are. */
  private head = 0;
  private size = 0;
  /** Where the next frame's bytes go. */
  private writePos = 0;

  constructor(byteCapacity: number, readonly frameCapacity: number) {
    this.bytes = new Uint8Array(byteCapacity);
    this.offset = new Int32Array(frameCapacity);
    this.capLen = new Int32Array(frameCapacity);
    this.origLen = new Int32Array(frameCapacity);
    this.tsSec = new Float64Array(frameCapacity);
    this.tsNsec = new Int32Array(frameCapacity);
  }

  get length(): number {
    return this.size;
  }

  /** Copies src[0, capLen) in; false (and counted in dropped) when there is no room. */
  push(src: Uint8Array, capLen: number, origLen: number, tsSec: number, tsNsec: number): boolean {
    const at = this.place(capLen);
    if (at < 0 || this.size === this.frameCapacity) {
      this.dropped++;
      return false;
    }
    this.bytes.set(capLen === src.length ? src : src.subarray(0, capLen), at);
    this.writePos = at + capLen;
    const i = (this.head + this.size) % this.frameCapacity;
    this.offset[i] = at;
    this.capLen[i] = capLen;
    this.origLen[i] = origLen;
    this.tsSec[i] = tsSec;
    this.tsNsec[i] = tsNsec;
    this.size++;
    return true;
  }

  /**
   * Takes the oldest frame (the queue must not be empty). Its data is a view into the queue, valid
   * until later pushes reuse that space.
   */
  shift(number: number, linkType: number): Frame {
    const i = this.head;
    const off = this.offset[i], len = this.capLen[i];
    this.head = (i + 1) % this.frameCapacity;
    if (--this.size === 0) this.writePos = 0;
    return {
      number, linkType, tsSec: this.tsSec[i], tsNsec: this.tsNsec[i], capLen: len, origLen: this.origLen[i],
      data: this.bytes.subarray(off, off + len), ifIndex: 0,
    };
  }

  clear(): void {
    this.head = this.size = this.writePos = 0;
  }

  /** Start of a free run of n bytes that overwrites nothing unread, or -1. */
  private place(n: number): number {
    if (this.size === 0) return n <= this.bytes.length ? 0 : -1;
    const readPos = this.offset[this.head];
    // Unread bytes run from readPos up to writePos, or wrap past the end back to writePos.
    if (this.writePos > readPos) {
      if (this.writePos + n <= this.bytes.length) return this.writePos;
      return n < readPos ? 0 : -1;
    }
    return this.writePos + n <= readPos ? this.writePos : -1;
  }
}
