/**
 * The default command: frames from a capture file (or, later, an interface), filtered,
 * then written to a pcap or decoded and printed — one loop for every source and format.
 */
import { openCapture, CaptureFileError } from '../pcap/reader.js';
import { PcapWriter } from '../pcap/writer.js';
import { decodeFrame } from '../core/dissector.js';
import { linkTypeDescription } from '../core/linktypes.js';
import { TextOut } from '../output/text.js';
import { FieldsOut, FieldListError } from '../output/fields.js';
import { JsonOut } from '../output/json.js';
import type { Packet } from '../core/dissector.js';
import { TextSink } from '../output/sink.js';
import { errorLine } from '../output/errors.js';
import type { Options } from './args.js';
import { compileFilter, FilterError, type FilterProgram } from '../filter/index.js';
import { readFileSync } from 'node:fs';
import '../../dissectors/index.js';

export function runCapture(opts: Options): number {
  if (!opts.read) {
    process.stderr.write(errorLine('no capture file given: use -r FILE (live capture with -i comes later)') + '\n');
    return 1;
  }
  let reader;
  try {
    reader = openCapture(opts.read);
  } catch (e) {
    return reportReadError(e);
  }
  let filterFor: (linkType: number) => FilterProgram | null;
  try {
    filterFor = filterCompiler(opts, reader.linkType);
  } catch (e) {
    reader.close();
    if (e instanceof FilterError) {
      process.stderr.write(errorLine(e.message) + '\n');
      return 1;
    }
    throw e;
  }
  if (!opts.json && opts.outputType === undefined) {
    process.stderr.write(
      `reading from file ${opts.read}, link-type ${linkTypeDescription(reader.linkType)}, snapshot length ${reader.snaplen}\n`,
    );
  }
  const limit = opts.count ?? Infinity;
  let seen = 0;
  let status = 0;
  if (opts.write !== undefined) {
    const writer = new PcapWriter(opts.write, { linkType: reader.linkType, snaplen: reader.snaplen, packetBuffered: opts.packetBuffered });
    try {
      for (let f = reader.next(); f !== null && seen < limit; f = seen < limit ? reader.next() : null) {
        if (f.linkType !== reader.linkType) {
          throw new CaptureFileError(
            `${opts.read}: frame ${f.number} has link type ${linkTypeDescription(f.linkType)}, but a pcap file holds one link type (${linkTypeDescription(reader.linkType)})`,
            opts.read, -1,
          );
        }
        const filter = filterFor(f.linkType);
        if (filter !== null && filter.matches(f.data, f.capLen, f.origLen) === 0) continue;
        writer.write(f);
        seen++;
      }
    } catch (e) {
      status = reportReadError(e);
    } finally {
      writer.close();
      reader.close();
    }
    return status;
  }
  let format: (p: Packet) => string;
  try {
    format = packetFormatter(opts);
  } catch (e) {
    reader.close();
    if (e instanceof FieldListError) {
      process.stderr.write(errorLine(e.message) + '\n');
      return 1;
    }
    throw e;
  }
  const sink = new TextSink(1);
  sink.lineBuffered = opts.lineBuffered || opts.packetBuffered;
  try {
    for (let f = reader.next(); f !== null; f = seen < limit ? reader.next() : null) {
      const filter = filterFor(f.linkType);
      if (filter !== null && filter.matches(f.data, f.capLen, f.origLen) === 0) continue;
      seen++;
      sink.writeLine(format(decodeFrame(f)));
      if (seen >= limit) break;
    }
  } catch (e) {
    sink.flush();
    status = reportReadError(e);
  } finally {
    sink.flush();
    reader.close();
  }
  return status;
}

/**
 * The filter expression (trailing words, or -F FILE as tcpdump reads it: '#' comments dropped),
 * compiled once per link type met; null when there is none. The first link type compiles at once
 * so that a bad expression fails before any output.
 */
function filterCompiler(opts: Options, firstLinkType: number): (linkType: number) => FilterProgram | null {
  const expr = opts.filterFile !== undefined
    ? readFileSync(opts.filterFile, 'utf8').split('\n').map((l) => l.replace(/#.*/, '')).join(' ').trim()
    : opts.expression.join(' ').trim();
  if (expr === '') return () => null;
  const programs = new Map<number, FilterProgram>();
  const get = (lt: number): FilterProgram => {
    let prog = programs.get(lt);
    if (prog === undefined) {
      prog = compileFilter(expr, lt);
      programs.set(lt, prog);
    }
    return prog;
  };
  if (firstLinkType >= 0) get(firstLinkType);
  return get;
}

/** The per-packet formatter the options ask for: tcpdump text, tshark fields, or JSON. */
function packetFormatter(opts: Options): (p: Packet) => string {
  if (opts.json) {
    const json = new JsonOut();
    return (p) => json.format(p);
  }
  if (opts.outputType !== undefined) {
    if (opts.outputType !== 'fields') throw new FieldListError(`unsupported -T type '${opts.outputType}' (only -T fields)`);
    const fields = new FieldsOut(opts.fields);
    return (p) => fields.format(p);
  }
  const text = new TextOut({
    n: opts.n, v: opts.v, e: opts.e, q: opts.q, S: opts.S, t: opts.t, x: opts.x, X: opts.X, A: opts.A,
    number: opts.number, nano: opts.nano, K: opts.K,
  });
  return (p) => text.formatPacket(p);
}

/** A damaged file ends the run after every complete packet was handled: one line, status 1. */
function reportReadError(e: unknown): number {
  if (e instanceof CaptureFileError) {
    const msg = e.message.includes(e.file) ? e.message : `${e.file}: ${e.message}`;
    process.stderr.write(errorLine(msg) + '\n');
    return 1;
  }
  throw e;
}
