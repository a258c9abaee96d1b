/**
 * tcpdump's text for a big file on several cores: frames go in batches, round robin, to worker
 * threads that decode and format them (text-worker.ts); this thread takes the batches back in
 * order and writes them. The one thing a line owes to earlier packets is tcpdump's relative TCP
 * numbering: workers log those lookups and leave the numbers out, and the merge replays the log
 * against the one sequence-number table in packet order (tcp-seq.ts). -ttt/-ttttt get the stamps
 * they count from with each batch. The text is byte for byte the single-thread text.
 *
 * Waiting is synchronous (Atomics.wait on a counter each worker bumps after posting, then
 * receiveMessageOnPort), so the frame loop that feeds this stays a plain loop.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Frame } from '../core/frame.js';
import { stampedRecord, type TextOptions, type TextOut } from './text.js';
import { replayTcpNumbers, TcpSeqTable } from './tcp-seq.js';

/** Bytes before each frame's data in a batch: f64 seconds, f64 nanoseconds, u32 number, link type, caplen, len, interface. */
export const FRAME_HEADER = 40;

/**
 * What a worker gets: a batch of frames in shared memory and the stamps -ttt/-ttttt count from at
 * its start. Batches and replies live in SharedArrayBuffers reused all run: nothing is copied or
 * transferred between the threads but these small messages.
 */
export interface BatchToFormat {
  input: SharedArrayBuffer;
  frames: number;
  timeBase: [number, number, number, number];
}

/** A worker's reply: where its text and its log of deferred TCP numbers are. */
export type BatchDone =
  | { text: SharedArrayBuffer; textLen: number; log: SharedArrayBuffer; logLen: number; error?: undefined }
  | { error: string };

export interface TextWorkerData {
  port: MessagePort;
  /** One counter per worker, bumped after each reply. */
  signal: Int32Array;
  index: number;
}

/** Input bytes per batch (a bigger frame gets a batch of its own). */
const BATCH_BYTES = 1 << 20;
/** Batches a worker may hold (one being formatted, one waiting). */
const QUEUED_PER_WORKER = 2;
/** Files smaller than this are formatted in one thread: starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 16 << 20;

/**
 * How many worker threads format the text of a file of `fileBytes` bytes: WIRESCOPE_THREADS when
 * set (0: none), else one per core up to 4 for a file of PARALLEL_MIN_BYTES or more, none on a
 * single core.
 */
export function textThreads(fileBytes: number): number {
  const env = process.env.WIRESCOPE_THREADS;
  if (env !== undefined && /^\d+$/.test(env)) return Math.min(Number(env), 16);
  const cores = availableParallelism();
  return cores < 2 || fileBytes < PARALLEL_MIN_BYTES ? 0 : Math.min(cores, 4);
}

export class ParallelText {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly signal: Int32Array;
  /** Worker index of each batch sent and not yet merged, oldest first. */
  private readonly pending: number[] = [];
  private sent = 0;
  private writeFailed = false;
  /** The input buffers, used in turn: one being filled while the others are out. */
  private readonly slots: SharedArrayBuffer[] = [];
  private readonly table = new TcpSeqTable();
  /** The batch being filled, and views of it. */
  private input: SharedArrayBuffer | null = null;
  private bytes: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private stamps: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private at = 0;
  private frames = 0;
  private readonly batchFrames: number;
  private batchBase: [number, number, number, number] = [-1, 0, -1, 0];
  private prevSec = -1;
  private prevNsec = 0;
  private firstSec = -1;
  private firstNsec = 0;

  /**
   * Each batch's text goes to `write`, in order; `out` is where numbers are written into a batch's
   * text. WIRESCOPE_BATCH_FRAMES caps the frames per batch (tests use tiny batches).
   */
  constructor(opts: TextOptions, threads: number, private readonly out: TextOut, private readonly write: (bytes: Uint8Array, len: number) => void) {
    this.signal = new Int32Array(new SharedArrayBuffer(4 * threads));
    const cap = Number(process.env.WIRESCOPE_BATCH_FRAMES);
    this.batchFrames = Number.isInteger(cap) && cap > 0 ? cap : Infinity;
    for (let i = 0; i < threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const data: TextWorkerData & { opts: TextOptions } = { port: port2, signal: this.signal, index: i, opts };
      const w = new Worker(new URL('./text-worker.js', import.meta.url), { workerData: data, transferList: [port2] });
      w.unref();
      port1.unref();
      this.workers.push(w);
      this.ports.push(port1);
    }
  }

  push(f: Frame): void {
    const need = FRAME_HEADER + ((f.capLen + 7) & ~7);
    if (this.input !== null && (this.at + need > this.input.byteLength || this.frames >= this.batchFrames)) this.send();
    if (this.input === null) {
      const input = need > BATCH_BYTES ? new SharedArrayBuffer(need) : this.slot();
      this.input = input;
      this.bytes = new Uint8Array(input);
      this.words = new Uint32Array(input);
      this.stamps = new Float64Array(input);
      this.at = 0;
      this.frames = 0;
      this.batchBase = [this.prevSec, this.prevNsec, this.firstSec, this.firstNsec];
    }
    const at = this.at;
    this.stamps[at >> 3] = f.tsSec;
    this.stamps[(at >> 3) + 1] = f.tsNsec;
    const w = this.words;
    const k = at >> 2;
    w[k + 4] = f.number;
    w[k + 5] = f.linkType;
    w[k + 6] = f.capLen;
    w[k + 7] = f.origLen;
    w[k + 8] = f.ifIndex;
    this.bytes.set(f.capLen === f.data.length ? f.data : f.data.subarray(0, f.capLen), at + FRAME_HEADER);
    this.at = at + need;
    this.frames++;
    if (stampedRecord(f)) {
      if (this.firstSec < 0) { this.firstSec = f.tsSec; this.firstNsec = f.tsNsec; }
      this.prevSec = f.tsSec;
      this.prevNsec = f.tsNsec;
    }
  }

  /** Sends the batch being filled and writes every batch out, in order (nothing once a write failed). */
  drain(): void {
    if (this.writeFailed) return;
    if (this.input !== null) this.send();
    while (this.pending.length > 0) this.mergeOldest();
  }

  /** Drains, then stops the workers. */
  close(): void {
    try {
      this.drain();
    } finally {
      for (const w of this.workers) void w.terminate();
      for (const p of this.ports) p.close();
    }
  }

  private send(): void {
    const input = this.input!;
    this.input = null;
    if (this.pending.length >= QUEUED_PER_WORKER * this.workers.length) this.mergeOldest();
    const w = this.sent++ % this.workers.length;
    const batch: BatchToFormat = { input, frames: this.frames, timeBase: this.batchBase };
    this.ports[w].postMessage(batch);
    this.pending.push(w);
  }

  private mergeOldest(): void {
    const done = this.receive(this.pending.shift()!);
    if (done.error !== undefined) throw new Error(`text worker: ${done.error}`);
    const text = Buffer.from(done.text, 0, done.textLen);
    let bytes: Uint8Array = text;
    let n = done.textLen;
    if (done.logLen > 0) {
      replayTcpNumbers(new Uint32Array(done.log, 0, done.logLen), done.logLen, text, done.textLen, this.out, this.table);
      bytes = this.out.bytes;
      n = this.out.len;
      this.out.len = 0;
    }
    try {
      this.write(bytes, n);
    } catch (e) {
      // The reader is gone (EPIPE) or the disk failed: the batches still out are not waited for.
      this.writeFailed = true;
      throw e;
    }
  }

  /**
   * The next input buffer. With at most QUEUED_PER_WORKER batches per worker out, the one sent
   * that many batches ago plus one has been merged by the time its turn comes again.
   */
  private slot(): SharedArrayBuffer {
    const n = QUEUED_PER_WORKER * this.workers.length + 1;
    const k = this.sent % n;
    if (this.slots.length <= k) this.slots.push(new SharedArrayBuffer(BATCH_BYTES));
    return this.slots[k];
  }

  /** The next reply of worker w, waiting for it. */
  private receive(w: number): BatchDone {
    for (;;) {
      const seen = Atomics.load(this.signal, w);
      const m = receiveMessageOnPort(this.ports[w]);
      if (m !== undefined) return m.message as BatchDone;
      Atomics.wait(this.signal, w, seen);
    }
  }
}
