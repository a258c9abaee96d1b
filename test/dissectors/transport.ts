/**
 * Helpers for the UDP and TCP tests: frames built with the encoders, tcpdump's text and tshark's
 * fields for the same capture, and wirescope's for comparison.
 */
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeFrame, dissectors, encodeStack, makeLayer, type Layer, type Packet } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { openCapture } from '../../src/pcap/reader.js';
import { ethernet } from '../../dissectors/ethernet.js';
import { ipv4 } from '../../dissectors/ipv4.js';
import { run, splitNumbered } from '../conformance/corpus.js';
import { textOptionsFromFlags, wirescopeText } from '../conformance/tcpdump-text.js';
import { frame, writeNsecPcap } from '../output/frames.js';
import '../../dissectors/index.js';

export const tmp = mkdtempSync(path.join(os.tmpdir(), 'wirescope-transport-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An Ethernet frame 02:..:01 > 02:..:02 carrying IPv4 10.0.0.1 > 10.0.0.2 (TTL 64, id 1) and the given layers. */
export function ipv4Frame(inner: Layer[], payload: Uint8Array = new Uint8Array(0), ipFields: Partial<{ flagsFrag: number; src: number; dst: number }> = {}): Uint8Array {
  const eth = makeLayer(ethernet, { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' });
  const f = { src: 0x0a000001, dst: 0x0a000002, id: 1, ttl: 64, ...ipFields };
  // finalDst (the pseudo-header's destination) is only derived when decoding; a built layer names it.
  const ip = makeLayer(ipv4, { ...f, finalDst: f.dst });
  return encodeStack([eth, ip, ...inner], payload);
}

/** The same over IPv6 2001:db8::1 > 2001:db8::2, when the IPv6 dissector is registered (null otherwise). */
export function ipv6Frame(inner: Layer[], payload: Uint8Array = new Uint8Array(0)): Uint8Array | null {
  const ip6 = dissectors().get('ipv6');
  if (!ip6) return null;
  const eth = makeLayer(ethernet, { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' });
  const ip = makeLayer(ip6, { src: '2001:db8::1', dst: '2001:db8::2' } as never);
  return encodeStack([eth, ip, ...inner], payload);
}

/** Frames numbered from 1, one second apart, each cut to `caps[k]` bytes when given. */
export function frames(data: Array<Uint8Array | [Uint8Array, number]>): Frame[] {
  return data.map((d, k) => {
    const [bytes, cap] = Array.isArray(d) ? d : [d, d.length];
    return frame(k + 1, 1_000_000 + k, 0, bytes.subarray(0, cap), bytes.length);
  });
}

export function writeCapture(name: string, fs: Frame[]): string {
  const file = path.join(tmp, name);
  writeNsecPcap(file, fs);
  return file;
}

/** Lines where wirescope's text differs from tcpdump's for the capture and flags (-# -tt added). */
export function textDifferences(file: string, flags: string[]): string[] {
  const all = ['-tt', ...flags];
  const want = splitNumbered(run('tcpdump', ['-#', ...all, '-r', file], { TZ: 'UTC' }).stdout);
  const got = wirescopeText(file, textOptionsFromFlags(all)!).packets;
  const diffs: string[] = [];
  if (want.size === 0) diffs.push(`${file} ${flags.join(' ')}: tcpdump printed nothing`);
  for (const [n, lines] of want) {
    // splitNumbered drops empty lines (-A prints the newlines a packet holds): so do we.
    const ours = (got.get(n) ?? []).filter((l) => l.length > 0);
    for (let k = 0; k < Math.max(lines.length, ours.length); k++) {
      if (lines[k] !== ours[k]) diffs.push(`${path.basename(file)} ${flags.join(' ')} #${n}\n  tcpdump:   ${lines[k]}\n  wirescope: ${ours[k]}`);
    }
  }
  return diffs;
}

/** tshark's -T fields values per frame (occurrences joined by ","), as strings. */
export function tsharkFields(file: string, fields: string[]): string[][] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  return run('tshark', args).stdout.split('\n').filter((l) => l.length).map((l) => l.split('\t'));
}

/** wirescope's values of the same fields from the top-level layers of each frame, formatted like tshark's. */
export function ourFields(file: string, fields: string[]): string[][] {
  const rows: string[][] = [];
  const r = openCapture(file);
  try {
    for (let f = r.next(); f !== null; f = r.next()) {
      const p = decodeFrame(f);
      rows.push(fields.map((name) => fieldOf(p, name)));
    }
  } finally {
    r.close();
  }
  return rows;
}

function fieldOf(p: Packet, name: string): string {
  const vals: string[] = [];
  for (const l of p.layers) {
    const get = l.dissector.fields?.[name];
    if (!get) continue;
    const v = get(l, p);
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) vals.push(...v.map(String));
    else vals.push(String(v));
  }
  return vals.join(',');
}

/** Decodes every prefix of each frame; returns the packets (for assertions on the last layer). */
export function prefixes(data: Uint8Array): Packet[] {
  const out: Packet[] = [];
  for (let cut = 0; cut <= data.length; cut++) out.push(decodeFrame(frame(1, 0, 0, data.subarray(0, cut), data.length)));
  return out;
}
