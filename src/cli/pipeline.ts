/**
 * What happens to each frame, whatever its source (file or interface): the filter, the -c
 * limit, then either a pcap writer or decoding and one formatted line per packet.
 */
import { PcapWriter, oneLinkTypeError } from '../pcap/writer.js';
import { decodeFrame, decodeFrameInto, Packet } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import { TextOut } from '../output/text.js';
import { ParallelText, textThreads } from '../output/parallel-text.js';
import { FieldsOut, FieldListError } from '../output/fields.js';
import { JsonOut } from '../output/json.js';
import { TextSink } from '../output/sink.js';
import { errorLine } from '../output/errors.js';
import { compileFilter, type FilterProgram } from '../filter/index.js';
import { statSync } from 'node:fs';
import { filterExpression, type Options } from './args.js';
import '../../dissectors/index.js';

export interface SourceInfo {
  /** Link type of the first interface. */
  linkType: number;
  snaplen: number;
  /** For LINKTYPE_NULL filters: the capture's byte order, when it is a big-endian file. */
  bigEndian?: boolean;
  /** Names the source in errors (file path or interface). */
  name: string;
  /** The kernel already applied the filter expression (live capture): frames are not filtered again. */
  kernelFiltered?: boolean;
  /** Where -w frames go instead of one plain PcapWriter (live capture's -C/-G/-W rotation). */
  writer?: FrameWriter;
}

/** What -w frames are handed to. */
export interface FrameWriter {
  write(f: Frame): void;
  flush(): void;
  close(): void;
}

export class FramePipeline {
  /** Frames that passed the filter and were handled. */
  handled = 0;
  private readonly limit: number;
  private readonly filters = new Map<number, FilterProgram>();
  private readonly expr: string;
  private readonly writer: FrameWriter | null = null;
  private readonly sink: TextSink | null = null;
  /** -T fields and --json: lines written as their packets complete (in packet order). */
  private readonly format: PacketLines | null = null;
  /** tcpdump text: lines gather as bytes in the TextOut and are written every FLUSH_BYTES. */
  private readonly text: TextOut | null = null;
  /** tcpdump text of a big file: formatted by worker threads, merged into `text`. */
  private readonly parallel: ParallelText | null = null;
  /** The text path decodes every frame into this one packet: nothing keeps a packet once its line is written. */
  private readonly packet = new Packet(NO_FRAME, NO_FRAME.data);

  /** Throws FilterError (bad expression) or FieldListError (bad -T/-e) before any output. */
  constructor(private readonly opts: Options, private readonly src: SourceInfo) {
    this.limit = opts.count ?? Infinity;
    this.expr = src.kernelFiltered ? '' : filterExpression(opts);
    if (src.linkType >= 0) this.filterFor(src.linkType);
    if (opts.write !== undefined) {
      this.writer = src.writer ?? new PcapWriter(opts.write, { linkType: src.linkType, snaplen: src.snaplen, packetBuffered: opts.packetBuffered });
    } else {
      if (opts.json || opts.outputType !== undefined) this.format = packetFormatter(opts);
      else this.text = textOut(opts);
      this.sink = new TextSink(1);
      this.sink.lineBuffered = opts.lineBuffered || opts.packetBuffered;
      const threads = this.text !== null && opts.read !== undefined && !this.sink.lineBuffered && !opts.countOnly ? textThreads(fileBytes(opts.read)) : 0;
      if (threads > 0) this.parallel = new ParallelText(this.text!.opts, threads, new TextOut(this.text!.opts), (bytes, n) => this.sink!.writeBytes(bytes, n));
    }
  }

  /** True while more frames are wanted (-c not reached). */
  get wantsMore(): boolean {
    return this.handled < this.limit;
  }

  /** Handles one frame; returns wantsMore. */
  push(f: Frame): boolean {
    const filter = this.filterFor(f.linkType);
    if (filter !== null && filter.matches(f.data, f.capLen, f.origLen) === 0) return true;
    if (this.writer !== null) {
      if (f.linkType !== this.src.linkType) throw oneLinkTypeError(f.number, f.linkType, this.src.linkType, this.src.name);
      this.writer.write(f);
    } else {
      if (this.parallel !== null) this.parallel.push(f);
      else if (this.text !== null) {
        if (!this.opts.countOnly && (this.text.appendPacket(decodeFrameInto(this.packet, f)) >= FLUSH_BYTES || this.sink!.lineBuffered)) this.writeText();
      } else if (!this.opts.countOnly) this.format!.write(decodeFrame(f), this.sink!);
    }
    this.handled++;
    return this.handled < this.limit;
  }

  /** Writes out whatever is buffered (safe to call at any time, e.g. on a signal). */
  flush(): void {
    this.writer?.flush();
    this.parallel?.drain();
    this.writeText();
    this.sink?.flush();
  }

  close(): void {
    if (this.format !== null && !this.opts.countOnly) this.format.finish(this.sink!);
    if (this.opts.countOnly && this.sink !== null) this.sink.writeLine(`${this.handled} packet${this.handled === 1 ? '' : 's'}`);
    this.parallel?.close();
    this.writeText();
    this.sink?.flush();
    this.writer?.close();
  }

  /** Writes out the text lines gathered so far (emptied first: after EPIPE they are dropped, not written again). */
  private writeText(): void {
    const t = this.text;
    if (t === null || t.len === 0) return;
    const n = t.len;
    t.len = 0;
    this.sink!.writeBytes(t.bytes, n);
  }

  /** The compiled filter for a link type (compiled once, on first sight), or null without an expression. */
  private filterFor(linkType: number): FilterProgram | null {
    if (this.expr === '') return null;
    let prog = this.filters.get(linkType);
    if (prog === undefined) {
      prog = compileFilter(this.expr, linkType, { snaplen: this.src.snaplen || undefined, bigEndianFile: this.src.bigEndian });
      this.filters.set(linkType, prog);
    }
    return prog;
  }
}

/** The size of the capture file read (0 for standard input, an interface, or an unreadable path). */
function fileBytes(path: string | undefined): number {
  if (path === undefined || path === '-') return 0;
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** What the reused packet holds before its first frame. */
const NO_FRAME: Frame = { number: 0, linkType: -1, tsSec: 0, tsNsec: 0, capLen: 0, origLen: 0, data: new Uint8Array(0), ifIndex: 0 };

/** Bytes of text lines gathered before they are written. */
const FLUSH_BYTES = 1 << 15;

/** -T fields and --json: write() takes each packet, finish() ends the input. */
type PacketLines = Pick<FieldsOut, 'write' | 'finish'>;

/** Warnings of the formatters (a hole given up to bound the lines waiting for it). */
const warn = (message: string): void => {
  process.stderr.write(errorLine(message) + '\n');
};

/** The per-packet formatter the options ask for: tshark fields or JSON. */
function packetFormatter(opts: Options): PacketLines {
  if (opts.json) return new JsonOut(warn);
  if (opts.outputType !== 'fields') throw new FieldListError(`unsupported -T type '${opts.outputType}' (only -T fields)`);
  return new FieldsOut(opts.fields, warn);
}

function textOut(opts: Options): TextOut {
  return new TextOut({
    n: opts.n, v: opts.v, e: opts.e, q: opts.q, S: opts.S, t: opts.t, x: opts.x, X: opts.X, A: opts.A,
    number: opts.number, nano: opts.nano, K: opts.K,
  });
}
