/**
 * The frames taken from libpcap and not yet handled, shared between the capture thread (the one
 * producer: it copies each frame in as cap delivers it) and the pipeline worker (the one consumer).
 * Frame bytes are packed in one ring in a SharedArrayBuffer, lengths and timestamps in typed
 * arrays beside it: no object per queued frame, and a backlog costs its size, not libpcap's fixed
 * 64 KiB ring slots. A full queue drops the new frame and counts it.
 *
 * Indices run over [0, 2N) for N frame slots, so full (N apart) and empty (equal) differ. The
 * producer publishes a frame by storing TAIL after writing it; the consumer frees one by storing
 * HEAD after it is done with it. Atomics give the ordering.
 */
import type { Frame } from '../core/frame.js';

/** Control words (Int32) at the start of the buffer. */
const TAIL = 0;
const HEAD = 1;
/** The consumer is (about to be) asleep in waitForFrames: the producer must notify. */
const WAITING = 2;
/** What the producer asks of the consumer: RUN, FINISH (handle what is queued, then end) or STOP. */
const STATE = 3;
const CONTROL_WORDS = 4;

export const QueueState = { Run: 0, Finish: 1, Stop: 2 } as const;

export interface QueueLayout {
  buffer: SharedArrayBuffer;
  frameCapacity: number;
  byteCapacity: number;
}

/** Allocates the shared memory for a queue of frameCapacity frames and byteCapacity bytes. */
export function allocateQueue(frameCapacity: number, byteCapacity: number): QueueLayout {
  // Control, then offset/capLen/origLen/tsNsec (Int32) and tsSec (Float64, 8-aligned), then bytes.
  const size = 8 * Math.ceil((CONTROL_WORDS + 4 * frameCapacity) / 2) + 8 * frameCapacity + byteCapacity;
  return { buffer: new SharedArrayBuffer(size), frameCapacity, byteCapacity };
}

export class FrameQueue {
  private readonly ctrl: Int32Array;
  private readonly offset: Int32Array;
  private readonly capLen: Int32Array;
  private readonly origLen: Int32Array;
  private readonly tsNsec: Int32Array;
  private readonly tsSec: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly n: number;
  /** Producer side: where the next frame's bytes go, and frames refused. */
  private writePos = 0;
  dropped = 0;
  /** Consumer side: a frame handed out and not yet freed. */
  private holding = false;

  constructor(layout: QueueLayout) {
    const { buffer, frameCapacity: n } = layout;
    this.n = n;
    this.ctrl = new Int32Array(buffer, 0, CONTROL_WORDS);
    let at = 4 * CONTROL_WORDS;
    const ints = (): Int32Array => {
      const a = new Int32Array(buffer, at, n);
      at += 4 * n;
      return a;
    };
    this.offset = ints();
    this.capLen = ints();
    this.origLen = ints();
    this.tsNsec = ints();
    at = 8 * Math.ceil(at / 8);
    this.tsSec = new Float64Array(buffer, at, n);
    at += 8 * n;
    this.bytes = new Uint8Array(buffer, at, layout.byteCapacity);
  }

  /** Frames queued, including one the consumer holds. */
  get length(): number {
    return (Atomics.load(this.ctrl, TAIL) - Atomics.load(this.ctrl, HEAD) + 2 * this.n) % (2 * this.n);
  }

  // --- producer ---

  /** Copies src[0, capLen) in; false (and counted in dropped) when there is no room. */
  push(src: Uint8Array, capLen: number, origLen: number, tsSec: number, tsNsec: number): boolean {
    const tail = Atomics.load(this.ctrl, TAIL);
    const head = Atomics.load(this.ctrl, HEAD);
    const size = (tail - head + 2 * this.n) % (2 * this.n);
    const at = size === this.n ? -1 : this.place(capLen, size, head);
    if (at < 0) {
      this.dropped++;
      return false;
    }
    this.bytes.set(capLen === src.length ? src : src.subarray(0, capLen), at);
    this.writePos = at + capLen;
    const i = tail % this.n;
    this.offset[i] = at;
    this.capLen[i] = capLen;
    this.origLen[i] = origLen;
    this.tsSec[i] = tsSec;
    this.tsNsec[i] = tsNsec;
    Atomics.store(this.ctrl, TAIL, (tail + 1) % (2 * this.n));
    return true;
  }

  /** Wakes the consumer if it sleeps: once per batch of pushes, not per frame (a wake-up is a system call). */
  wake(): void {
    if (Atomics.load(this.ctrl, WAITING) !== 0) Atomics.notify(this.ctrl, TAIL);
  }

  /** Tells the consumer what to do next, and wakes it. */
  setState(state: number): void {
    Atomics.store(this.ctrl, STATE, state);
    Atomics.notify(this.ctrl, TAIL);
  }

  /** Start of a free run of n bytes that overwrites nothing unconsumed, or -1. */
  private place(n: number, size: number, head: number): number {
    if (size === 0) {
      this.writePos = 0;
      return n <= this.bytes.length ? 0 : -1;
    }
    const readPos = this.offset[head % this.n];
    // Unconsumed bytes run from readPos up to writePos, or wrap past the end back to writePos.
    if (this.writePos > readPos) {
      if (this.writePos + n <= this.bytes.length) return this.writePos;
      return n < readPos ? 0 : -1;
    }
    return this.writePos + n <= readPos ? this.writePos : -1;
  }

  // --- consumer ---

  get state(): number {
    return Atomics.load(this.ctrl, STATE);
  }

  /**
   * Frees the frame handed out before, then hands out the oldest one, or null when none is
   * queued. Its data is a view into the queue: valid until the next call.
   */
  next(number: number, linkType: number): Frame | null {
    let head = Atomics.load(this.ctrl, HEAD);
    if (this.holding) {
      head = (head + 1) % (2 * this.n);
      Atomics.store(this.ctrl, HEAD, head);
      this.holding = false;
    }
    if (head === Atomics.load(this.ctrl, TAIL)) return null;
    const i = head % this.n;
    const off = this.offset[i], len = this.capLen[i];
    this.holding = true;
    return {
      number, linkType, tsSec: this.tsSec[i], tsNsec: this.tsNsec[i], capLen: len, origLen: this.origLen[i],
      data: this.bytes.subarray(off, off + len), ifIndex: 0,
    };
  }

  /** Sleeps until a frame is queued, the state changes, or timeoutMs pass. */
  waitForFrames(timeoutMs: number): void {
    const head = Atomics.load(this.ctrl, HEAD);
    Atomics.store(this.ctrl, WAITING, 1);
    const tail = Atomics.load(this.ctrl, TAIL);
    if (tail === (this.holding ? (head + 1) % (2 * this.n) : head) && this.state === QueueState.Run) {
      Atomics.wait(this.ctrl, TAIL, tail, timeoutMs);
    }
    Atomics.store(this.ctrl, WAITING, 0);
  }
}
