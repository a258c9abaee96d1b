/**
 * tcpdump's text for a big file on several cores: frames go in batches to worker threads that
 * decode and format them (text-worker.ts); when every worker has its fill, this thread formats the
 * batch itself instead of waiting. Batches are written in order. The one thing a line owes to
 * earlier packets is tcpdump's relative TCP numbering: formatters log those lookups and leave the
 * numbers out, and the merge replays the log against the one sequence-number table in packet order
 * (tcp-seq.ts). -ttt/-ttttt get the stamps they count from with each batch. The text is byte for
 * byte the single-thread text.
 *
 * Waiting is synchronous (Atomics.wait on a counter each worker bumps after posting, then
 * receiveMessageOnPort), so the frame loop that feeds this stays a plain loop.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Frame } from '../core/frame.js';
import { stampedRecord, type TextOptions, type TextOut } from './text.js';
import { replayTcpNumbers, TcpSeqTable } from './tcp-seq.js';
import { BatchFormatter, FRAME_HEADER, type BatchDone, type BatchToFormat } from './batch-format.js';

export interface TextWorkerData {
  port: MessagePort;
  /** One counter per worker, bumped after each reply. */
  signal: Int32Array;
  index: number;
}

/**
 * What a worker runs first: it imports text-worker.js, and if that file itself cannot be loaded
 * (a damaged install), answers every batch with the error as text-worker.js answers when its
 * formatter cannot load, so the merge waiting on the worker's counter wakes up instead of waiting
 * forever. Spelt from dist/src/ so that it also resolves from the bundle in dist/src/cli/
 * (package.json's bundle script).
 */
const TEXT_WORKER_URL = new URL('../output/text-worker.js', import.meta.url).href;
const TEXT_WORKER_BOOT = `const { workerData: w } = require('node:worker_threads');
import(w.url).catch((e) => {
  const error = 'cannot load ' + w.url + ': ' + (e instanceof Error ? e.message : String(e));
  w.port.on('message', () => {
    w.port.postMessage({ error });
    Atomics.add(w.signal, w.index, 1);
    Atomics.notify(w.signal, w.index);
  });
});`;

/** Input bytes per batch (a bigger frame gets a batch of its own). */
const BATCH_BYTES = 1 << 20;
/** Batches a worker may hold (one being formatted, one waiting). */
const QUEUED_PER_WORKER = 2;
/** Batches this thread may hold formatted ahead of the oldest unfinished one. */
const FORMATTED_AHEAD = 2;
/** Formatted by this thread, not a worker. */
const HERE = -1;


/** A batch out for formatting: who formats it, and the result once here. */
interface Pending {
  worker: number;
  done: BatchDone | null;
}

export class ParallelText {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly signal: Int32Array;
  /** Batches each worker holds. */
  private readonly held: number[] = [];
  /** Per worker: its output buffers, merged, to hand back with its next batch. */
  private readonly spareOutput: ArrayBuffer[][] = [];
  /** Batches sent or formatted and not yet written, oldest first. */
  private readonly pending: Pending[] = [];
  private readonly here: BatchFormatter;
  private writeFailed = false;
  private readonly table = new TcpSeqTable();
  /** Input buffers back from formatting. */
  private readonly spareInput: ArrayBuffer[] = [];
  /** The batch being filled, and views of it. */
  private input: ArrayBuffer | null = null;
  private bytes = new Uint8Array(0);
  private words = new Uint32Array(0);
  private stamps = new Float64Array(0);
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
    this.here = new BatchFormatter(opts);
    this.signal = new Int32Array(new SharedArrayBuffer(4 * Math.max(threads, 1)));
    const cap = Number(process.env.WIRESCOPE_BATCH_FRAMES);
    this.batchFrames = Number.isInteger(cap) && cap > 0 ? cap : Infinity;
    for (let i = 0; i < threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const data: TextWorkerData & { opts: TextOptions; url: string } = { port: port2, signal: this.signal, index: i, opts, url: TEXT_WORKER_URL };
      const w = new Worker(TEXT_WORKER_BOOT, { eval: true, workerData: data, transferList: [port2] });
      w.unref();
      port1.unref();
      this.workers.push(w);
      this.ports.push(port1);
      this.held.push(0);
      this.spareOutput.push([]);
    }
  }

  push(f: Frame): void {
    const need = FRAME_HEADER + ((f.capLen + 7) & ~7);
    if (this.input !== null && (this.at + need > this.input.byteLength || this.frames >= this.batchFrames)) this.send();
    if (this.input === null) {
      const input = need > BATCH_BYTES ? new ArrayBuffer(need) : (this.spareInput.pop() ?? new ArrayBuffer(BATCH_BYTES));
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

  /** Hands the batch being filled to a worker with room, or formats it here when none has. */
  private send(): void {
    const input = this.input!;
    this.input = null;
    this.mergeReady();
    let w = HERE;
    for (let i = 0; i < this.workers.length; i++) if (this.held[i] < QUEUED_PER_WORKER && (w === HERE || this.held[i] < this.held[w])) w = i;
    if (w === HERE) {
      this.pending.push({ worker: HERE, done: this.here.format({ input, frames: this.frames, timeBase: this.batchBase, spare: [] }) });
      // Formatted here ahead of a worker's batch: bounded, then the worker's is waited for.
      while (this.pending.length > QUEUED_PER_WORKER * this.workers.length + FORMATTED_AHEAD) this.mergeOldest();
      return;
    }
    const spare = this.spareOutput[w];
    this.spareOutput[w] = [];
    const batch: BatchToFormat = { input, frames: this.frames, timeBase: this.batchBase, spare };
    this.ports[w].postMessage(batch, [input, ...spare]);
    this.held[w]++;
    this.pending.push({ worker: w, done: null });
  }

  /** Writes out the batches done so far, in order, without waiting. */
  private mergeReady(): void {
    while (this.pending.length > 0) {
      const e = this.pending[0];
      if (e.done === null && !this.collect(e.worker, false)) return;
      this.mergeOldest();
    }
  }

  /** Writes out the oldest batch, waiting for it if need be. */
  private mergeOldest(): void {
    const e = this.pending[0];
    if (e.done === null) this.collect(e.worker, true);
    this.pending.shift();
    const done = e.done!;
    if (done.error !== undefined) throw new Error(`text worker: ${done.error}`);
    if (done.input.byteLength === BATCH_BYTES) this.spareInput.push(done.input);
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
    } catch (err) {
      // The reader is gone (EPIPE) or the disk failed: the batches still out are not waited for.
      this.writeFailed = true;
      throw err;
    }
    if (e.worker === HERE) this.here.giveBack([done.text, done.log]);
    else this.spareOutput[e.worker].push(done.text, done.log);
  }

  /**
   * Takes worker w's next reply, if there is one (or waiting for it), into the oldest of its
   * batches still without one. Returns whether it got one.
   */
  private collect(w: number, wait: boolean): boolean {
    for (;;) {
      const seen = Atomics.load(this.signal, w);
      const m = receiveMessageOnPort(this.ports[w]);
      if (m !== undefined) {
        this.held[w]--;
        for (const e of this.pending) {
          if (e.worker === w && e.done === null) {
            e.done = m.message as BatchDone;
            break;
          }
        }
        return true;
      }
      if (!wait) return false;
      Atomics.wait(this.signal, w, seen);
    }
  }
}
