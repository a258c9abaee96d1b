/**
 * What happens to each frame, whatever its source (file or interface): the filter, the -c
 * limit, then either a pcap writer or decoding and one formatted line per packet.
 */
import { PcapWriter, oneLinkTypeError } from '../pcap/writer.js';
import { decodeFrame, decodeFrameInto, Packet } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import { TextOut } from '../output/text.js';
import { textThreads } from '../output/text-threads.js';
import type { ParallelText } from '../output/parallel-text.js';
import type { FieldsOut } from '../output/fields.js';
import { TextSink } from '../output/sink.js';
import { errorLine, FieldListError } from '../output/errors.js';
import type { FilterProgram } from '../filter/index.js';
import { fs } from '../core/node-fs.js';
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

/** The modules a pipeline's options need, loaded by openPipeline: the others never load. */
interface PipelineModules {
  filter: typeof import('../filter/index.js') | null;
  json: typeof import('../output/json.js') | null;
  fields: typeof import('../output/fields.js') | null;
  parallel: typeof import('../output/parallel-text.js') | null;
  /** Host and port names, for tcpdump text without -n. */
  names: typeof import('../output/host-names.js') | null;
}

/**
 * A pipeline for the options, with only the modules they need loaded first (the filter compiler,
 * the fields or JSON formatter, the text worker threads): a run that prints text loads none of
 * them. Rejects with FilterError (bad expression) or FieldListError (bad -T/-e).
 */
export async function openPipeline(opts: Options, src: SourceInfo): Promise<FramePipeline> {
  const expr = src.kernelFiltered ? '' : filterExpression(opts);
  const prints = opts.write === undefined;
  const text = prints && !opts.json && opts.outputType === undefined;
  const [filter, json, fields, parallel, names] = await Promise.all([
    expr !== '' ? import('../filter/index.js') : null,
    prints && opts.json ? import('../output/json.js') : null,
    prints && !opts.json && opts.outputType !== undefined ? import('../output/fields.js') : null,
    text && textThreadsFor(opts) > 0 ? import('../output/parallel-text.js') : null,
    text && opts.n === 0 ? import('../output/host-names.js') : null,
  ]);
  return new FramePipeline(opts, src, { filter, json, fields, parallel, names });
}

/** Worker threads for the tcpdump text of a file (none for a live capture, line-buffered output or -c counting only). */
function textThreadsFor(opts: Options): number {
  const lineBuffered = opts.lineBuffered || opts.packetBuffered;
  return opts.read !== undefined && !lineBuffered && !opts.countOnly ? textThreads(fileBytes(opts.read)) : 0;
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

  /** Made by openPipeline, which loads the modules. Throws FilterError (bad expression) or FieldListError (bad -T/-e) before any output. */
  constructor(private readonly opts: Options, private readonly src: SourceInfo, private readonly modules: PipelineModules) {
    this.limit = opts.count ?? Infinity;
    this.expr = src.kernelFiltered ? '' : filterExpression(opts);
    if (src.linkType >= 0) this.filterFor(src.linkType);
    if (opts.write !== undefined) {
      this.writer = src.writer ?? new PcapWriter(opts.write, { linkType: src.linkType, snaplen: src.snaplen, packetBuffered: opts.packetBuffered });
    } else {
      if (opts.json || opts.outputType !== undefined) this.format = packetFormatter(opts, modules);
      else {
        this.text = textOut(opts);
        modules.names?.useHostNames(this.text);
      }
      this.sink = new TextSink(1);
      this.sink.lineBuffered = opts.lineBuffered || opts.packetBuffered;
      if (modules.parallel !== null) {
        const merge = new TextOut(this.text!.opts);
        modules.names?.useHostNames(merge);
        this.parallel = new modules.parallel.ParallelText(this.text!.opts, textThreadsFor(opts), merge, (bytes, n) => this.sink!.writeBytes(bytes, n));
      }
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
      prog = this.modules.filter!.compileFilter(this.expr, linkType, { snaplen: this.src.snaplen || undefined, bigEndianFile: this.src.bigEndian });
      this.filters.set(linkType, prog);
    }
    return prog;
  }
}

/** The size of the capture file read (0 for standard input, an interface, or an unreadable path). */
function fileBytes(path: string | undefined): number {
  if (path === undefined || path === '-') return 0;
  try {
    return fs.statSync(path).size;
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
function packetFormatter(opts: Options, modules: PipelineModules): PacketLines {
  if (modules.json !== null) return new modules.json.JsonOut(warn);
  if (opts.outputType !== 'fields') throw new FieldListError(`unsupported -T type '${opts.outputType}' (only -T fields)`);
  return new modules.fields!.FieldsOut(opts.fields, warn);
}

function textOut(opts: Options): TextOut {
  return new TextOut({
    n: opts.n, v: opts.v, e: opts.e, q: opts.q, N: opts.N, S: opts.S, t: opts.t, x: opts.x, X: opts.X, A: opts.A,
    number: opts.number, nano: opts.nano, K: opts.K,
  });
}
