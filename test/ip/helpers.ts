/**
 * Shared by the IPv4, ICMP and defragmentation tests: frame builders, pcap files in a temp dir,
 * and tcpdump's / tshark's output next to wirescope's for the same frames.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeFrame, type Packet } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { internetChecksum } from '../../src/core/checksum.js';
import { PcapWriter } from '../../src/pcap/writer.js';
import { TextOut } from '../../src/output/text.js';
import { FieldsOut } from '../../src/output/fields.js';
import { run, splitNumbered } from '../conformance/corpus.js';
import { textOptionsFromFlags } from '../conformance/tcpdump-text.js';
import { readAll } from '../pcap/helpers.js';
import { Ipv4Layer } from '../../dissectors/ipv4.js';
import '../../dissectors/index.js';

export const MACS = '020000000001' + '020000000002';

export function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** An IPv4 header (checksum filled in unless given) with options and payload, as hex. */
export function ipv4Hex(o: {
  proto: number; payload?: string; options?: string; id?: number; flagsFrag?: number; ttl?: number; tos?: number;
  src?: string; dst?: string; totalLen?: number; checksum?: number; ihl?: number;
}): string {
  const opts = hexBytes(o.options ?? '');
  const payload = hexBytes(o.payload ?? '');
  const hl = 20 + opts.length;
  const h = new Uint8Array(hl);
  const dv = new DataView(h.buffer);
  h[0] = 0x40 | ((o.ihl ?? hl) >> 2);
  h[1] = o.tos ?? 0;
  dv.setUint16(2, o.totalLen ?? hl + payload.length);
  dv.setUint16(4, o.id ?? 0x1234);
  dv.setUint16(6, o.flagsFrag ?? 0);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  h.set((o.src ?? '192.0.2.1').split('.').map(Number), 12);
  h.set((o.dst ?? '198.51.100.2').split('.').map(Number), 16);
  h.set(opts, 20);
  dv.setUint16(10, o.checksum ?? internetChecksum(h));
  return toHex(h) + (o.payload ?? '');
}

/** An ICMP message with its checksum filled in (unless given), as hex. */
export function icmpHex(type: number, code: number, rest: string, body = '', checksum?: number): string {
  const m = hexBytes(hex2(type) + hex2(code) + '0000' + rest + body);
  const sum = checksum ?? internetChecksum(m);
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  return toHex(m);
}

export function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** An Ethernet frame (EtherType IPv4 unless given) around the hex payload. */
export function ethFrame(payloadHex: string, number = 1, etherType = '0800'): Frame {
  const data = hexBytes(MACS + etherType + payloadHex);
  return { number, linkType: 1, tsSec: 1_700_000_000 + number, tsNsec: 0, capLen: data.length, origLen: data.length, data, ifIndex: 0 };
}

/** Every prefix of f (captured lengths 0..capLen), numbered from 1, keeping its wire length. */
export function prefixes(f: Frame): Frame[] {
  const out: Frame[] = [];
  for (let k = 0; k <= f.capLen; k++) {
    out.push({ ...f, number: k + 1, capLen: k, data: f.data.subarray(0, k), tsSec: f.tsSec + k });
  }
  return out;
}

/** Renumbers frames 1..n with rising timestamps (one second apart unless they are set). */
export function numbered(frames: Frame[]): Frame[] {
  return frames.map((f, k) => ({ ...f, number: k + 1 }));
}

export class TempDir {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'wirescope-ip-'));
  private n = 0;
  file(frames: Frame[], linkType = 1): string {
    const p = path.join(this.dir, `t${this.n++}.pcap`);
    const w = new PcapWriter(p, { linkType, snaplen: 262144 });
    for (const f of frames) w.write(f);
    w.close();
    return p;
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** tcpdump's text per packet number for a pcap file, with these flags (-# added). */
export function tcpdumpText(file: string, flags: string[]): Map<number, string[]> {
  return splitNumbered(run('tcpdump', ['-#', ...flags, '-r', file], { TZ: 'UTC' }).stdout);
}

/** wirescope's text per packet number for the same frames, in process. */
export function wirescopeTextOf(frames: Frame[], flags: string[]): Map<number, string[]> {
  const out = new TextOut(textOptionsFromFlags(['-#', ...flags])!);
  const m = new Map<number, string[]>();
  for (const f of frames) m.set(f.number, out.formatPacket(decodeFrame(f)).split('\n'));
  return m;
}

export interface Comparison {
  compared: number;
  identical: number;
  /** The first differences, tcpdump's line then wirescope's. */
  diffs: string[];
}

/** Compares wirescope with tcpdump, line by line, on frames written to a pcap in dir. */
export function compareText(dir: TempDir, frames: Frame[], flags: string[], linkType = 1): Comparison {
  const file = dir.file(frames, linkType);
  const want = tcpdumpText(file, flags);
  const got = wirescopeTextOf(frames, flags);
  const c: Comparison = { compared: 0, identical: 0, diffs: [] };
  for (const f of frames) {
    const a = want.get(f.number) ?? [];
    const b = got.get(f.number) ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      c.compared++;
      if (a[i] === b[i]) c.identical++;
      else if (c.diffs.length < 10) c.diffs.push(`${flags.join(' ')} #${f.number}\n  tcpdump:   ${a[i]}\n  wirescope: ${b[i]}`);
    }
  }
  return c;
}

/** tshark's -T fields lines (occurrence=a, aggregator=,) for a pcap file. */
export function tsharkFields(file: string, fields: string[], extra: string[] = []): string[] {
  const args = ['-n', '-r', file, ...extra, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  return run('tshark', args).stdout.split('\n').filter((l, i, a) => i < a.length - 1 || l.length > 0);
}

/** wirescope's -T fields lines for packets (already decoded, or reassembled). */
export function wirescopeFields(packets: Packet[], fields: string[]): string[] {
  const out = new FieldsOut(fields);
  return packets.map((p) => out.format(p));
}

/** A seeded pseudo-random generator (mulberry32) in [0, 1): fuzzed frames are the same on every run. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** tshark's protocols this IPv4/ICMP work prints alone; a quoted datagram may also hold UDP or TCP. */
const OWN = new Set(['eth', 'ethertype', 'vlan', 'ieee8021ad', 'ip', 'icmp', 'data', 'sll', 'null', 'raw']);

/** IP protocols tcpdump hands to a printer of its own (ip_demux_print) that are not this work's: IPv4 (4) and ICMP (1) are. */
const OTHER_PRINTERS = new Set([2, 6, 8, 9, 17, 33, 41, 46, 47, 50, 51, 55, 88, 89, 103, 108, 112, 113, 132]);

function ownPacket(protocols: string | undefined, p: Packet): boolean {
  if (!protocols) return false;
  const list = protocols.split(':');
  const quoted = list.indexOf('icmp');
  if (!list.every((x, k) => OWN.has(x) || (quoted >= 0 && k > quoted && (x === 'udp' || x === 'tcp')))) return false;
  for (const l of p.layers) if (l instanceof Ipv4Layer && l.fragOffset === 0 && OTHER_PRINTERS.has(l.proto)) return false;
  return true;
}

export interface CorpusComparison extends Comparison {
  packets: number;
}

/** tshark's frame.protocols per frame without reassembly (what tcpdump, fragment by fragment, prints). */
export function protocolsWithoutReassembly(file: string): Map<number, string> {
  const lines = tsharkFields(file, ['frame.number', 'frame.protocols'], ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE']);
  const m = new Map<number, string>();
  for (const l of lines) {
    const [n, p] = l.split('\t');
    if (n) m.set(Number(n), p ?? '');
  }
  return m;
}

/**
 * wirescope against tcpdump at -n, -n -v, -n -e and -n -x on capture files, over the packets
 * whose tshark frame.protocols (without reassembly) are IPv4/ICMP only.
 */
export function corpusConformance(files: string[]): CorpusComparison {
  const c: CorpusComparison = { compared: 0, identical: 0, packets: 0, diffs: [] };
  for (const file of files) {
    const protos = protocolsWithoutReassembly(file);
    const frames = readAll(file).frames;
    const own = new Set(frames.filter((f) => ownPacket(protos.get(f.number), decodeFrame(f))).map((f) => f.number));
    for (const flags of [['-n'], ['-n', '-v'], ['-n', '-e'], ['-n', '-x']]) {
      const want = tcpdumpText(file, flags);
      const got = wirescopeTextOf(frames, flags);
      for (const [n, a] of want) {
        if (!own.has(n)) continue;
        const b = got.get(n) ?? [];
        c.packets++;
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
          c.compared++;
          if (a[i] === b[i]) c.identical++;
          else if (c.diffs.length < 20) c.diffs.push(`${path.basename(file)} ${flags.join(' ')} #${n}\n  tcpdump:   ${a[i]}\n  wirescope: ${b[i]}`);
        }
      }
    }
  }
  return c;
}
