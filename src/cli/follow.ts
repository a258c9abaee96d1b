/**
 * `wirescope follow -r FILE (--stream N | FILTER) [--format ascii|hex|raw] [--json] [--write-streams DIR]`:
 * one TCP stream's reassembled conversation as `tshark -q -z follow,tcp,FORMAT,N` prints it.
 * A pcap-filter expression instead of --stream follows the stream of the first frame it matches
 * (the Filter line then names that stream, as tshark's follow names its stream). --write-streams
 * writes each direction of each stream (the selected ones, or all) to its own file, named as
 * tcpflow names them.
 */
import { mkdirSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { errorLine } from '../output/errors.js';
import { TextSink } from '../output/sink.js';
import { endpointText } from '../tcp/flow-key.js';
import { connectionBytes, relevanceTo, trackFile, type ConnectionBytes, type TrackFileResult } from '../tcp/conns.js';
import { FOLLOW_FORMATS, FOLLOW_SEPARATOR, FollowPrinter, followHeader, followSink, streamFileError, StreamFiles, streamFilter, type FollowFormat, type FollowRecord } from '../tcp/follow.js';
import type { StreamSink } from '../tcp/reassembler.js';
import type { Connection } from '../tcp/conntrack.js';
import type { CaptureFileError } from '../pcap/reader.js';
import { command, parseCommand, reportFailure } from './command-line.js';

interface FollowOptions {
  read: string;
  stream?: number;
  format: FollowFormat;
  json?: boolean;
  writeStreams?: string;
}

const NO_BYTES: StreamSink = { chunk() {}, event() {}, complete() {} };

function streamNumber(s: string): number {
  if (!/^\d+$/.test(s)) throw new InvalidArgumentError('a stream number (0, 1, ...) is expected');
  return Number(s);
}

function format(s: string): FollowFormat {
  if (!(FOLLOW_FORMATS as readonly string[]).includes(s)) throw new InvalidArgumentError(`one of ${FOLLOW_FORMATS.join(', ')} is expected`);
  return s as FollowFormat;
}

function time(t: { sec: number; nsec: number }): string {
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
}

/** Streams with a frame the filter selects: the first one only, or all of them. */
function selectStreams(file: string, filter: string, all: boolean): Set<number> | Error {
  const picked = new Set<number>();
  const res = trackFile(file, {
    filter,
    onFrame: (selected, t) => {
      if (selected) for (const s of t.streams) if (s >= 0) picked.add(s);
      return all || picked.size === 0;
    },
  });
  return res.error ?? picked;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = command('follow')
    .description('one TCP stream reassembled, as tshark -q -z follow,tcp,FORMAT,N prints it')
    .requiredOption('-r, --read <file>', 'capture file (pcap or pcapng)')
    .option('--stream <n>', 'the stream to follow (tcp.stream)', streamNumber)
    .option('--format <format>', 'ascii, hex or raw', format, 'ascii')
    .option('--json', 'one JSON object per chunk, then a summary')
    .option('--write-streams <dir>', "write each direction of each stream (or of the selected ones) to its own file, named as tcpflow names them")
    .option('-n', 'accepted for tcpdump/tshark habit (names are never resolved)')
    .argument('[filter...]', 'pcap-filter expression: follow the stream of the first frame it matches');
  const early = parseCommand(cmd, argv);
  if (early !== null) return early;
  const opts = cmd.opts<FollowOptions>();
  const filter = cmd.args.join(' ').trim();
  if (opts.stream !== undefined && filter !== '') return usage(cmd, 'give --stream N or a filter, not both');
  if (opts.stream === undefined && filter === '' && opts.writeStreams === undefined) return usage(cmd, 'give --stream N or a filter');
  // The filter picks the stream in a first reading, the second one follows it.
  if (opts.read === '-' && filter !== '') return usage(cmd, 'a filter needs a capture file (it is read twice); on standard input give --stream N');
  try {
    return opts.writeStreams !== undefined ? writeStreams(opts, filter) : follow(opts, filter);
  } catch (e) {
    return reportFailure('follow', e);
  }
}

function usage(cmd: Command, message: string): number {
  process.stderr.write(errorLine(`follow: ${message}`) + '\n' + cmd.helpInformation());
  return 1;
}

function follow(opts: FollowOptions, filter: string): number {
  let n = opts.stream;
  if (n === undefined) {
    const picked = selectStreams(opts.read, filter, false);
    if (picked instanceof Error) return reportFailure('follow', picked);
    if (picked.size === 0) {
      process.stderr.write(errorLine(`follow: no TCP stream has a frame matching '${filter}'`) + '\n');
      return 1;
    }
    n = picked.values().next().value as number;
  }
  const out = new TextSink(1);
  const { error, unprinted } = printFollow(opts.read, n, opts.format, opts.json === true, (text) => out.write(text));
  out.flush();
  if (unprinted[0] + unprinted[1] > 0) {
    process.stderr.write(errorLine(`follow: stream ${n}: ${unprinted[0]} + ${unprinted[1]} bytes (node 0, node 1) held after a hole nothing acknowledged were not printed, as tshark does not; --json shows them`) + '\n');
  }
  return error === null ? 0 : reportFailure('follow', error);
}

export interface FollowResult {
  /** What cut a damaged file short. */
  error: CaptureFileError | null;
  /** Bytes of each direction (as Node 0/1) held after a hole nothing acknowledged: tshark never prints them, nor do we but in JSON. */
  unprinted: [number, number];
}

/**
 * Writes stream n of a capture as tshark's follow prints it (or, json, one object per chunk and a
 * summary) through write.
 *
 * tshark prints a missing-bytes record for a hole the receiver acknowledged, and nothing of the
 * bytes after a hole nothing acknowledged (they stay held to the end). Our reassembler also moves
 * past a hole at the end of the capture, on RST and over its memory limits: in text, a direction
 * is not printed from such a hole on (as tshark), the bytes are counted in `unprinted`; in JSON
 * every chunk and gap is listed, those with "held": true.
 */
export function printFollow(file: string, n: number, fmt: FollowFormat, json: boolean, write: (text: string) => void): FollowResult {
  const printer = new FollowPrinter(fmt);
  let conn: Connection | null = null;
  // tshark's Node 0 sent the first segment its follow tap saw (header wholly captured and valid,
  // not in an unreassembled IP fragment); flip: that is our direction 1.
  let nodes: [string, string] | null = null;
  let flip = false;
  const chunks = [0, 0];
  const bytes = [0, 0];
  const gaps = [0, 0];
  const missing = [0, 0];
  const events: string[] = [];
  let completed = 0;
  let ended = false;
  /** Per direction (as Node 0/1): past a hole tshark would hold the bytes after. */
  const held = [false, false];
  const unprinted: [number, number] = [0, 0];
  // Once the stream exists, only frames holding its addresses (and ports, or a fragment) can add to it or reuse its ports.
  let bytesOf: ConnectionBytes | null = null;
  const setNodes = (c: Connection, sender: 0 | 1): void => {
    const a = c.ends[sender];
    const b = c.ends[1 - sender];
    nodes = [endpointText(a.addr, a.port), endpointText(b.addr, b.port)];
    flip = sender === 1;
    if (!json) write(followHeader(fmt, streamFilter(n), nodes));
  };
  const emit = (r: FollowRecord): void => {
    if (nodes === null) setNodes(conn!, r.dir);
    const dir = (flip ? 1 - r.dir : r.dir) as 0 | 1;
    if (r.missing > 0) {
      gaps[dir]++;
      missing[dir] += r.missing;
      // Only a hole the receiver acknowledged (while reading) is one tshark moves past.
      if (r.reason !== 'end' || ended) held[dir] = true;
    } else {
      chunks[dir]++;
      bytes[dir] += r.bytes.length;
      if (held[dir]) unprinted[dir] += r.bytes.length;
    }
    if (!json) {
      if (!held[dir]) write(printer.record(dir, r.bytes));
      return;
    }
    const o: Record<string, unknown> = { stream: n, dir, src: nodes![dir], dst: nodes![1 - dir], frame: r.time.frame, time: time(r.time) };
    if (held[dir]) o.held = true;
    if (r.missing > 0) Object.assign(o, { gap: r.missing, reason: r.reason });
    else {
      o.offset = bytes[dir] - r.bytes.length;
      o.length = r.bytes.length;
      o.data = Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.length).toString('hex');
      if (fmt === 'ascii') o.text = Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.length).toString('latin1');
    }
    write(JSON.stringify(o) + '\n');
  };
  const res = trackFile(file, {
    sink: (c: Connection): StreamSink => {
      if (c.stream !== n) return NO_BYTES;
      conn = c;
      bytesOf = connectionBytes(c.ends[0].addr, c.ends[0].port, c.ends[1].addr, c.ends[1].port);
      return followSink(emit, (e) => events.push(e.type), () => completed++);
    },
    relevant: (f) => (bytesOf === null ? 'yes' : relevanceTo(f, bytesOf)),
    onEnd: () => { ended = true; },
    onFrame: (_selected, t) => {
      if (nodes === null && conn !== null) {
        for (const seg of t.segments) if (nodes === null && seg.conn === conn && seg.counted && seg.analyzed) setNodes(conn, seg.dir);
      }
      // Both directions ended (FIN/RST): nothing more can come for this stream number.
      return completed < 2;
    },
  });
  if (json) {
    write(JSON.stringify({
      summary: { stream: n, filter: streamFilter(n), nodes, format: fmt, chunks, bytes, gaps, missing, held: unprinted, events: countEvents(events) },
    }) + '\n');
  } else {
    if (nodes === null) write(followHeader(fmt, streamFilter(n), null));
    write(FOLLOW_SEPARATOR + '\n');
  }
  return { error: res.error, unprinted };
}

function countEvents(types: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of types) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

function writeStreams(opts: FollowOptions, filter: string): number {
  let wanted: Set<number> | null = null;
  if (opts.stream !== undefined) wanted = new Set([opts.stream]);
  else if (filter !== '') {
    const picked = selectStreams(opts.read, filter, true);
    if (picked instanceof Error) return reportFailure('follow', picked);
    wanted = picked;
  }
  const dir = opts.writeStreams!;
  // A directory that cannot be made, a full disk: one line, as for an unreadable capture.
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    return reportFailure('follow', streamFileError(dir, e));
  }
  const files = new StreamFiles(dir);
  let res: TrackFileResult;
  try {
    res = trackFile(opts.read, {
      sink: (c) => (wanted === null || wanted.has(c.stream) ? files.sink(c.stream, c.ends) : NO_BYTES),
    });
  } catch (e) {
    return reportFailure('follow', e);
  }
  if (opts.json) {
    const out = new TextSink(1);
    for (const w of files.written) out.writeLine(JSON.stringify(w));
    out.writeLine(JSON.stringify({ summary: { directory: dir, files: files.written.length, bytes: files.written.reduce((s, w) => s + w.bytes, 0) } }));
    out.flush();
  }
  return res.error === null ? 0 : reportFailure('follow', res.error);
}
