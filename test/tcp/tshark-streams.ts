/** Helpers for comparing the tracker with tshark: tcp.stream per frame and follow,tcp,raw bytes. */
import '../../dissectors/index.js';
import { execFileSync } from 'node:child_process';
import { decodeFrame } from '../../src/core/dissector.js';
import { CaptureFileError, openCapture, type CaptureReader } from '../../src/pcap/reader.js';
import { Defragmenter } from '../../src/ip/defrag.js';
import { ConnTracker, type ConnTrackOptions } from '../../src/tcp/conntrack.js';
import { FieldsOut } from '../../src/output/fields.js';

/** Our tcp.stream column for each frame (tshark's -E occurrence=a -E aggregator=, form). */
export function ourStreams(file: string, opts: ConnTrackOptions = {}): { column: string[]; tracker: ConnTracker } {
  const tracker = new ConnTracker(opts);
  const column: string[] = [];
  let r: CaptureReader;
  try {
    r = openCapture(file, { clipToSnaplen: false });
  } catch (e) {
    if (e instanceof CaptureFileError) return { column, tracker };
    throw e;
  }
  const defrag = new Defragmenter();
  try {
    for (let f = r.next(); f !== null; f = r.next()) {
      const data = f.data.slice();
      const p = defrag.push(decodeFrame({ ...f, data }));
      tracker.push(p);
      column.push(tracker.streams.filter((s) => s >= 0).join(','));
    }
  } catch (e) {
    // A damaged file: compare the frames before the damage.
    if (!(e instanceof CaptureFileError)) throw e;
  } finally {
    r.close();
  }
  tracker.finish();
  return { column, tracker };
}

/** wirescope's -T fields lines for the names (FieldsOut, as the CLI prints them). */
export function ourColumns(file: string, names: string[]): string[] {
  const out = new FieldsOut(names);
  const lines: string[] = [];
  const r = openCapture(file, { clipToSnaplen: false });
  try {
    for (let f = r.next(); f !== null; f = r.next()) lines.push(out.format(decodeFrame(f)));
  } finally {
    r.close();
  }
  return lines;
}

/** tshark's -T fields lines for the names, live. */
export function tsharkColumns(file: string, names: string[]): string[] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const n of names) args.push('-e', n);
  const lines = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** tshark's tcp.stream column, live. */
export function tsharkStreams(file: string): string[] {
  const out = execFileSync('tshark', ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'tcp.stream'], {
    encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Bytes of each direction of stream n as tshark's follow,tcp,raw prints them: [node 0, node 1] hex, and the node lines. */
export function tsharkFollowRaw(file: string, n: number): { nodes: [string, string]; hex: [string, string] } {
  const out = execFileSync('tshark', ['-n', '-r', file, '-q', '-z', `follow,tcp,raw,${n}`], {
    encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'],
  });
  const nodes: [string, string] = ['', ''];
  const hex: [string, string] = ['', ''];
  for (const line of out.split('\n')) {
    if (line.startsWith('Node 0: ')) nodes[0] = line.slice(8);
    else if (line.startsWith('Node 1: ')) nodes[1] = line.slice(8);
    else if (/^\t[0-9a-f]+$/.test(line)) hex[1] += line.slice(1);
    else if (/^[0-9a-f]+$/.test(line)) hex[0] += line;
  }
  return { nodes, hex };
}
