/**
 * The default command on a capture file. With -w, frames are filtered and copied here without
 * decoding (and without loading the decoders); otherwise they go through the frame pipeline.
 */
import { openCapture, CaptureFileError, type CaptureReader } from '../pcap/reader.js';
import { PcapReader } from '../pcap/pcap.js';
import { PcapWriter, oneLinkTypeError } from '../pcap/writer.js';
import { linkTypeDescription } from '../core/linktypes.js';
import { errorLine, FieldListError, writeStderr } from '../output/errors.js';
import { FilterError } from '../filter/error.js';
import type { FilterProgram } from '../filter/index.js';
import { filterExpression, type Options } from './args.js';

const LINKTYPE_LINUX_SLL2 = 276;

export function runCapture(opts: Options): number | Promise<number> {
  if (!opts.read) {
    writeStderr(errorLine('no capture file given: use -r FILE') + '\n');
    return 1;
  }
  let reader: CaptureReader;
  try {
    // tcpdump shows records cut to the file's snaplen (libpcap); tshark's fields and JSON keep them whole.
    // -w writes them cut (the header's snaplen), whatever the output options.
    const whole = opts.write === undefined && (opts.json || opts.outputType === 'fields');
    reader = openCapture(opts.read, { clipToSnaplen: !whole });
  } catch (e) {
    return reportError(e);
  }
  // Modules are loaded as needed: the filter compiler only for an expression, the decoders only to print.
  if (opts.write !== undefined) {
    let expr: string;
    try {
      expr = filterExpression(opts);
    } catch (e) {
      closeOn(reader, e);
    }
    if (expr === '') return copyCapture(opts, reader, null);
    return import('../filter/index.js').then(({ compileFilter }) => {
      const compile: FilterFor = (linkType, snaplen, bigEndianFile) => compileFilter(expr, linkType, { snaplen, bigEndianFile });
      return copyCapture(opts, reader, compile);
    }, (e) => closeOn(reader, e));
  }
  return import('./pipeline.js')
    .then(({ openPipeline }) => openPipeline(opts, {
      linkType: reader.linkType, snaplen: reader.snaplen, name: opts.read!,
      bigEndian: reader instanceof PcapReader ? !reader.le : undefined,
    }))
    .then((pipeline) => {
      printReading(opts, reader);
      let status = 0;
      try {
        for (let f = reader.next(); f !== null && pipeline.push(f); f = reader.next());
      } catch (e) {
        pipeline.flush();
        status = reportError(e);
      } finally {
        pipeline.close();
        reader.close();
      }
      return status;
    }, (e) => {
      reader.close();
      if (e instanceof FieldListError) return failure(e.message);
      return reportError(e);
    });
}

/** The filter expression compiled for a link type. */
type FilterFor = (linkType: number, snaplen: number | undefined, bigEndianFile: boolean | undefined) => FilterProgram;

/**
 * -w: the frames that pass the filter (and -c) to a pcap file, as tcpdump -r -w. A file whose
 * records are already as written goes out in runs straight from the read buffer; others record
 * by record, from the reader's fields (no Frame objects either way).
 */
function copyCapture(opts: Options, reader: CaptureReader, compile: FilterFor | null): number {
  const limit = opts.count ?? Infinity;
  const name = opts.read!;
  const bigEndianFile = reader instanceof PcapReader ? !reader.le : undefined;
  const filters = new Map<number, FilterProgram>();
  // Compiled once per link type, on first sight (a pcapng file may have several).
  const filterFor = (linkType: number): FilterProgram | null => {
    if (compile === null) return null;
    let prog = filters.get(linkType);
    if (prog === undefined) {
      prog = compile(linkType, reader.snaplen || undefined, bigEndianFile);
      filters.set(linkType, prog);
    }
    return prog;
  };
  let writer: PcapWriter;
  try {
    if (reader.linkType >= 0) filterFor(reader.linkType);
    writer = new PcapWriter(opts.write!, { linkType: reader.linkType, snaplen: reader.snaplen, packetBuffered: opts.packetBuffered });
  } catch (e) {
    reader.close();
    return reportError(e);
  }
  printReading(opts, reader);
  let status = 0;
  try {
    if (reader instanceof PcapReader && reader.recordsAsWritten && writer.snaplen >= reader.snaplen && !writer.nano) {
      reader.copyRuns(filterFor(reader.linkType)?.matchesAt ?? null, limit, writer);
    } else {
      let prog: FilterProgram | null = null;
      let progLinkType = -1;
      for (let passed = 0; passed < limit; ) {
        const at = reader.advance();
        if (at < 0) break;
        const linkType = reader.frameLinkType;
        if (linkType !== progLinkType) {
          prog = filterFor(linkType);
          progLinkType = linkType;
        }
        if (prog !== null && prog.matchesAt(reader.buf, at, reader.capLen, reader.origLen) === 0) continue;
        if (linkType !== reader.linkType) throw oneLinkTypeError(reader.frameNumber, linkType, reader.linkType, name);
        writer.record(reader.tsSec, reader.tsNsec, reader.capLen, reader.origLen, reader.buf, at);
        passed++;
      }
    }
  } catch (e) {
    writer.flush();
    status = reportError(e);
  } finally {
    writer.close();
    reader.close();
  }
  return status;
}

/** tcpdump's first line on stderr (not with tshark-style output). */
function printReading(opts: Options, reader: CaptureReader): void {
  if (opts.json || opts.outputType !== undefined) return;
  writeStderr(`reading from file ${opts.read}, link-type ${linkTypeDescription(reader.linkType)}, snapshot length ${reader.snaplen}\n`);
  // SLL2 names interfaces by index: the names printed are this machine's, as tcpdump warns.
  if (reader.linkTypes.includes(LINKTYPE_LINUX_SLL2)) writeStderr('Warning: interface names might be incorrect\n');
}

function closeOn(reader: CaptureReader, e: unknown): never {
  reader.close();
  throw e;
}

function failure(message: string): number {
  writeStderr(errorLine(message) + '\n');
  return 1;
}

/** Expected failures end the run with one line and status 1; anything else is a bug and propagates. */
function reportError(e: unknown): number {
  if (e instanceof CaptureFileError) return failure(e.message.includes(e.file) ? e.message : `${e.file}: ${e.message}`);
  if (e instanceof FilterError) return failure(e.message);
  throw e;
}
