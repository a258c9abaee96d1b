/**
 * Formatting one batch of the parallel text path (parallel-text.ts), the same in a worker thread
 * and in the thread that merges: frames decoded and printed as tcpdump text, with the TCP numbers
 * that depend on earlier packets left in a log for the merge.
 */
import { decodeFrameInto, Packet } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import { TextOut, type TextOptions } from './text.js';
import { TcpNumberLog } from './tcp-seq.js';
import { useHostNames } from './host-names.js';

/** Bytes before each frame's data in a batch: f64 seconds, f64 nanoseconds, u32 number, link type, caplen, len, interface. */
export const FRAME_HEADER = 40;

/**
 * A batch of frames, the stamps -ttt/-ttttt count from at its start, and (to a worker) output
 * buffers of its earlier batches, handed back for reuse once merged. Buffers are moved
 * (transferred) between threads, never copied, and reused all run: a copy into or out of shared
 * memory costs V8 two to three times a plain copy, and fresh buffers per batch cost GC work.
 */
export interface BatchToFormat {
  input: ArrayBuffer;
  frames: number;
  timeBase: [number, number, number, number];
  spare: ArrayBuffer[];
}

/** A formatted batch: its text, its log of deferred TCP numbers, and the batch's input buffer back. */
export type BatchDone =
  | { text: ArrayBuffer; textLen: number; log: ArrayBuffer; logLen: number; input: ArrayBuffer; error?: undefined }
  | { error: string; input?: undefined };

/** Starting sizes of a batch's output buffers. */
const TEXT_BYTES = 1 << 20;
const LOG_BYTES = 1 << 18;

export class BatchFormatter {
  private readonly out: TextOut;
  private readonly log = new TcpNumberLog();
  /** One frame object for every frame: a frame's decoding is done before the next is read. */
  private readonly frame: Frame = { number: 0, linkType: 0, tsSec: 0, tsNsec: 0, capLen: 0, origLen: 0, data: new Uint8Array(0), ifIndex: 0 };
  /** One packet for every frame, likewise. */
  private readonly packet = new Packet(this.frame, this.frame.data);
  /** Output buffers handed back (text and log alike: any may serve either). */
  private readonly spare: ArrayBuffer[] = [];

  constructor(opts: TextOptions) {
    this.out = new TextOut(opts);
    this.out.tcpLog = this.log;
    if (opts.n === 0) useHostNames(this.out);
  }

  /** Output buffers of merged batches, for reuse. */
  giveBack(buffers: ArrayBuffer[]): void {
    for (const b of buffers) this.spare.push(b);
  }

  format(m: BatchToFormat): BatchDone {
    const out = this.out, log = this.log, frame = this.frame;
    try {
      this.giveBack(m.spare);
      out.bytes = Buffer.from(this.buffer(TEXT_BYTES));
      log.words = new Uint32Array(this.buffer(LOG_BYTES));
      out.len = 0;
      log.len = 0;
      out.timeBase = m.timeBase;
      const bytes = new Uint8Array(m.input);
      const words = new Uint32Array(m.input);
      const stamps = new Float64Array(m.input);
      let at = 0;
      for (let i = 0; i < m.frames; i++) {
        const w = at >> 2;
        frame.tsSec = stamps[at >> 3];
        frame.tsNsec = stamps[(at >> 3) + 1];
        frame.number = words[w + 4];
        frame.linkType = words[w + 5];
        frame.capLen = words[w + 6];
        frame.origLen = words[w + 7];
        frame.ifIndex = words[w + 8];
        frame.data = bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + frame.capLen);
        out.appendPacket(decodeFrameInto(this.packet, frame));
        at += FRAME_HEADER + ((frame.capLen + 7) & ~7);
      }
      // A printer that outgrew its buffer moved to a bigger one of its own (big, so never in Node's shared pool).
      return { text: out.bytes.buffer as ArrayBuffer, textLen: out.len, log: log.words.buffer as ArrayBuffer, logLen: log.len, input: m.input };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }

  private buffer(bytes: number): ArrayBuffer {
    const b = this.spare.pop();
    return b !== undefined && b.byteLength >= bytes ? b : new ArrayBuffer(Math.max(bytes, b?.byteLength ?? 0));
  }
}
