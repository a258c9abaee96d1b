/**
 * A worker thread of the parallel text path (parallel-text.ts): decodes and formats batches of
 * frames, leaving the TCP numbers that depend on earlier packets to the merging thread.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { Frame } from '../core/frame.js';
import type { TextOptions } from './text.js';
import type { BatchDone, BatchToFormat, TextWorkerData } from './parallel-text.js';

const { opts, port, signal, index } = workerData as TextWorkerData & { opts: TextOptions; port: MessagePort };

/** Replies to the merging thread: the message, then the counter it waits on. */
function reply(m: BatchDone): void {
  port.postMessage(m);
  Atomics.add(signal, index, 1);
  Atomics.notify(signal, index);
}

/**
 * The batch formatter. Its modules are loaded here rather than imported above: one that fails to
 * load gives error replies instead of a thread that dies while the merging thread waits on it.
 */
async function formatter(): Promise<((m: BatchToFormat) => BatchDone) | string> {
  let modules;
  try {
    modules = await Promise.all([import('../core/dissector.js'), import('./text.js'), import('./tcp-seq.js'), import('./parallel-text.js'), import('../../dissectors/index.js')]);
  } catch (e) {
    return `cannot load the formatter: ${e instanceof Error ? e.message : String(e)}`;
  }
  const [{ decodeFrame }, { TextOut }, { TcpNumberLog }, { FRAME_HEADER }] = modules;
  const out = new TextOut(opts);
  const log = new TcpNumberLog();
  out.tcpLog = log;
  /** One frame object for the whole run: a frame's decoding is done before the next is read. */
  const frame: Frame = { number: 0, linkType: 0, tsSec: 0, tsNsec: 0, capLen: 0, origLen: 0, data: new Uint8Array(0), ifIndex: 0 };
  /**
   * Two output buffers (text and log) used in turn: the merging thread reads one batch's while
   * the next is formatted, and is done with it before this worker gets the batch after next.
   */
  const outputs = [0, 1].map(() => ({ text: new SharedArrayBuffer(1 << 20), log: new SharedArrayBuffer(1 << 18) }));
  let turn = 0;

  return (m: BatchToFormat): BatchDone => {
    try {
      const o = outputs[turn];
      turn ^= 1;
      out.bytes = Buffer.from(o.text);
      log.words = new Uint32Array(o.log);
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
        out.appendPacket(decodeFrame(frame));
        at += FRAME_HEADER + ((frame.capLen + 7) & ~7);
      }
      // Past a shared buffer the printer grew into its own: a bigger shared one takes its place.
      if (out.bytes.buffer !== o.text) o.text = sharedCopy(out.bytes, out.len);
      if (log.words.buffer !== o.log) o.log = sharedCopy(new Uint8Array(log.words.buffer, 0, log.words.byteLength), log.len * 4);
      return { text: o.text, textLen: out.len, log: o.log, logLen: log.len };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  };
}

/** A SharedArrayBuffer a quarter bigger than `from`, holding its first n bytes. */
function sharedCopy(from: Uint8Array, n: number): SharedArrayBuffer {
  const to = new SharedArrayBuffer(from.byteLength + (from.byteLength >> 2));
  new Uint8Array(to).set(from.subarray(0, n));
  return to;
}

const format = await formatter();
port.on('message', (m: BatchToFormat) => reply(typeof format === 'string' ? { error: format } : format(m)));
