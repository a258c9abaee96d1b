/**
 * DNS and mDNS: real messages decoded field by field, the pure message decoder and printer, building
 * messages, every truncation, and text and fields identical to tcpdump 4.99.3 and tshark 4.0 on the
 * corpus DNS captures, the fixtures and crafted messages (EDNS options, every RR type tcpdump prints,
 * compression pointers and loops, bad labels, mDNS bits, DNS over TCP framings).
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer, type Packet } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { ByteView } from '../../src/core/view.js';
import { frameProtocols as ourProtocols } from '../../src/output/frame-fields.js';
import { defaultTextOptions, TextOut } from '../../src/output/text.js';
import { ethernet } from '../../dissectors/ethernet.js';
import { ipv4 } from '../../dissectors/ipv4.js';
import { udp } from '../../dissectors/udp.js';
import { tcp } from '../../dissectors/tcp.js';
import {
  decodeDnsMessage, dns, dnsTcp, DnsLayer, encodeDnsMessage, FLAG, formatText, mdns, printDnsMessage, relativeTime, RR,
} from '../../dissectors/dns.js';
import { frameProtocols, readTsv, repoRoot } from '../conformance/corpus.js';
import { frame } from '../output/frames.js';
import {
  corpusDir, corpusPath, expectReencodes, hasCorpus, readFrames, sweepTruncation, tcpdumpText, toolSkipReason, tsharkFields,
  wirescopeFields, wirescopeText, withPcap,
} from './link-helpers.js';

const noCorpus = hasCorpus ? '' : '../shared/corpus is absent';
const noTcpdump = toolSkipReason('tcpdump');
const noTshark = toolSkipReason('tshark');
for (const r of new Set([noCorpus, noTcpdump, noTshark])) if (r) console.log(`DNS tests partly skipped: ${r}`);

const FIXTURE = path.join(repoRoot, 'fixtures/dns.pcap');
const noFixture = existsSync(FIXTURE) ? '' : 'fixtures/dns.pcap is absent';

// ---------------------------------------------------------------------------------------------
// Building messages byte by byte (malformed ones included) and frames around them.

function bytes(...parts: Array<number[] | Uint8Array | string | number>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of Buffer.from(p, 'latin1')) out.push(c);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [...u16(n >>> 16), ...u16(n & 0xffff)];

/** A name in wire form, uncompressed. */
function name(s: string): Uint8Array {
  const out: number[] = [];
  for (const l of s === '.' ? [] : s.replace(/\.$/, '').split('.')) out.push(l.length, ...Buffer.from(l, 'latin1'));
  out.push(0);
  return Uint8Array.from(out);
}

function header(flags: number, qd: number, an = 0, ns = 0, ar = 0, id = 0x1234): number[] {
  return [...u16(id), ...u16(flags), ...u16(qd), ...u16(an), ...u16(ns), ...u16(ar)];
}

function question(n: string | Uint8Array, type: number = RR.A, cls = 1): Uint8Array {
  return bytes(typeof n === 'string' ? name(n) : n, u16(type), u16(cls));
}

function record(n: string | Uint8Array, type: number, cls: number, ttl: number, rdata: Uint8Array | number[]): Uint8Array {
  const rd = Uint8Array.from(rdata);
  return bytes(typeof n === 'string' ? name(n) : n, u16(type), u16(cls), u32(ttl), u16(rd.length), rd);
}

/** An OPT pseudo-record with these options. */
function opt(options: Array<[number, number[] | Uint8Array]>, udpSize = 4096, flags = 0x8000): Uint8Array {
  const data = bytes(...options.map(([code, d]) => bytes(u16(code), u16(d.length), Uint8Array.from(d))));
  return bytes(0, u16(RR.OPT), u16(udpSize), u32(flags), u16(data.length), data);
}

function query(...qs: Uint8Array[]): Uint8Array {
  return bytes(header(FLAG.RD, qs.length), ...qs);
}

function response(answers: Uint8Array[], authorities: Uint8Array[] = [], additionals: Uint8Array[] = [], flags = 0x8180): Uint8Array {
  return bytes(header(flags, 1, answers.length, authorities.length, additionals.length), question('example.com.'), ...answers, ...authorities, ...additionals);
}

const ETH = () => makeLayer(ethernet, { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' });
const IP = () => makeLayer(ipv4, { src: 0xc0000201, dst: 0xc0000202, ttl: 64, id: 1 });

let tcpPort = 41000;

/** Ethernet/IPv4/UDP frames (valid checksums) carrying each payload; `[payload, capLen]` cuts the capture. */
function udpFrames(payloads: Array<Uint8Array | [Uint8Array, number]>, sport = 40000, dport = 53): Frame[] {
  return payloads.map((p, k) => {
    const [msg, cut] = p instanceof Uint8Array ? [p, -1] : p;
    const data = encodeStack([ETH(), IP(), makeLayer(udp, { srcPort: sport, dstPort: dport })], msg);
    return frame(k + 1, 1_600_000_000 + k, 0, cut < 0 ? data : data.slice(0, cut), data.length);
  });
}

/** Ethernet/IPv4/TCP PSH+ACK segments carrying each payload, each on its own connection. */
function tcpFrames(payloads: Uint8Array[]): Frame[] {
  return payloads.map((p, k) => {
    const seg = makeLayer(tcp, { srcPort: tcpPort++, dstPort: 53, seq: 1000, ack: 2000, flags: 0x18, window: 65535 });
    const data = encodeStack([ETH(), IP(), seg], p);
    return frame(k + 1, 1_600_000_000 + k, 0, data);
  });
}

function prefixed(...msgs: Uint8Array[]): Uint8Array {
  return bytes(...msgs.map((m) => bytes(u16(m.length), m)));
}

function renumber(frames: Frame[]): Frame[] {
  return frames.map((f, k) => ({ ...f, number: k + 1, tsSec: 1_600_000_000 + k }));
}

function dnsLayer(p: Packet): DnsLayer {
  const l = p.layers.find((x) => x instanceof DnsLayer);
  if (!l) throw new Error('no DNS layer');
  return l as DnsLayer;
}

/** Crafted messages: every feature and malformation the printer and the decoder handle. */
function craftedMessages(): Uint8Array[] {
  const out: Uint8Array[] = [];
  // EDNS options: valid and invalid lengths of each kind tcpdump prints.
  const options: Array<Array<[number, number[]]>> = [
    [[10, Array(8).fill(1)]], [[10, Array(24).fill(2)]], [[10, Array(7).fill(1)]], [[10, Array(12).fill(1)]], [[10, Array(41).fill(1)]],
    [[11, [0, 150]]], [[11, [0]]], [[9, u32(3600)]], [[9, [1]]], [[12, Array(20).fill(0)]], [[12, []]],
    [[14, [0, 1, 0, 2, 0x4e, 0x20]]], [[14, [0, 1, 0]]], [[5, Array.from({ length: 256 }, (_, k) => k)]], [[6, [0, 1, 2, 3, 4, 5]]],
    [[7, [0, 1, 2]]], [[13, Array.from(name('example.com.'))]], [[13, [7, ...Buffer.from('example'), 0xc0, 0]]],
    [[8, [0, 1, 24, 0, 192, 0, 2]]], [[8, [0, 2, 48, 0, 0x20, 1, 0x0d, 0xb8, 0, 0]]], [[8, [0, 1, 25, 0, 192, 0, 2]]],
    [[8, [0, 3, 24, 0, 192, 0, 2]]], [[8, [0, 1]]], [[8, [0, 1, 33, 0, 192, 0, 2, 1, 5]]],
    [[3, [0x61, 0x62]]], [[3, []]], [[1, [1, 2]]], [[2, [0, 0, 1, 0]]], [[17, [1]]], [[65001, [1, 2, 3]]],
    [[10, Array(8).fill(1)], [3, []], [12, [0, 0]]],
  ];
  for (const o of options) {
    out.push(bytes(header(FLAG.RD, 1, 0, 0, 1), question('example.com.'), opt(o)));
    out.push(response([], [], [opt(o, 1232, 0)]));
  }
  // An option running past the OPT record, and one running past the message.
  out.push(bytes(header(FLAG.RD, 1, 0, 0, 1), question('example.com.'), 0, u16(RR.OPT), u16(512), u32(0), u16(12), u16(10), u16(20), Array(8).fill(1)));
  // The record types tcpdump prints, well-formed and not, in each section.
  const records = [
    record('example.com.', RR.A, 1, 3600, [192, 0, 2, 1]), record('example.com.', RR.A, 1, 3600, [192, 0, 2]),
    record('example.com.', RR.AAAA, 1, 86400, Array.from({ length: 16 }, (_, k) => k)),
    record('example.com.', RR.NS, 1, 60, name('ns1.example.com.')), record('www.example.com.', RR.CNAME, 1, 60, [3, ...Buffer.from('web'), 0xc0, 12]),
    record('1.2.0.192.in-addr.arpa.', RR.PTR, 1, 60, name('host.example.')), record('example.com.', RR.DNAME, 1, 60, name('example.net.')),
    record('example.com.', RR.SOA, 1, 60, bytes(name('ns.example.com.'), name('admin.example.com.'), u32(2024010101), u32(7200), u32(3600), u32(1209600), u32(300))),
    record('example.com.', RR.SOA, 1, 60, bytes(name('ns.example.com.'), name('admin.example.com.'), u32(1))),
    record('example.com.', RR.MX, 1, 60, bytes(u16(10), name('mail.example.com.'))),
    record('example.com.', RR.TXT, 1, 60, bytes(5, 'hello', 5, 'world')), record('example.com.', RR.TXT, 1, 60, bytes(10, 'hi')),
    record('example.com.', RR.TXT, 1, 60, bytes(6, 'a\tb\x01\xffc')),
    record('_sip._tcp.example.com.', RR.SRV, 1, 60, bytes(u16(10), u16(20), u16(5060), name('sip.example.com.'))),
    record('example.com.', RR.A6, 1, 60, bytes(0, Array.from({ length: 16 }, (_, k) => k))),
    record('example.com.', RR.A6, 1, 60, bytes(64, Array(8).fill(0xab), name('prefix.example.'))), record('example.com.', RR.A6, 1, 60, [0x81]),
    record('example.com.', RR.URI, 1, 60, bytes(u16(10), u16(5), 'http://www.example.com/')), record('example.com.', RR.URI, 1, 60, u16(10)),
    record('example.com.', RR.UNSPECA, 1, 60, bytes('unspecified text')),
    record('key.example.', RR.TSIG, 255, 0, bytes(name('hmac-sha256.'), [0, 0, 0x5f, 0, 0, 1], u16(300), u16(4), 'abcd', u16(0x1234), u16(0), u16(0))),
    record('example.com.', RR.CAA, 1, 60, bytes(0, 5, 'issue', 'letsencrypt.org')),
    record('example.com.', RR.HTTPS, 1, 60, bytes(u16(1), 0, u16(1), u16(3), 2, 'h2')),
    record('example.com.', RR.SVCB, 1, 60, bytes(u16(1), name('svc.example.com.'), u16(3), u16(2), u16(8443))),
    record('example.com.', RR.RRSIG, 1, 60, bytes(u16(1), 13, 2, u32(3600), u32(1700000000), u32(1690000000), u16(12345), name('example.com.'), Array(16).fill(7))),
    record('example.com.', RR.DS, 1, 60, bytes(u16(12345), 13, 2, Array(32).fill(9))),
    record('example.com.', RR.NSEC, 1, 60, bytes(name('next.example.com.'), 0, 6, 0x40, 0x01, 0, 0, 0, 0x03, 1, 1, 0x40)),
    record('example.com.', RR.DNSKEY, 1, 60, bytes(u16(257), 3, 13, Array(32).fill(5))),
    record('abc.example.com.', RR.NSEC3, 1, 60, bytes(1, 0, u16(10), 2, 0xab, 0xcd, 4, 1, 2, 3, 4, 0, 1, 0x62)),
    record('example.com.', RR.HINFO, 1, 60, bytes(3, 'cpu', 2, 'os')),
    record('example.com.', RR.A, 3, 60, [1, 2, 3, 4]), record('example.com.', RR.A, 255, 60, [1, 2, 3, 4]), record('example.com.', RR.A, 7, 60, [1, 2, 3, 4]),
    record('example.com.', RR.A, 1, 0, [1, 2, 3, 4]), record('example.com.', RR.A, 1, 31536000 + 2 * 604800 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6, [1, 2, 3, 4]),
    record('example.com.', RR.A, 1, 0x80000001, [1, 2, 3, 4]),
  ];
  for (const r of records) {
    out.push(response([r]));
    out.push(response([], [r], [r]));
    out.push(bytes(header(FLAG.RD, 1, 1, 1, 1), question('example.com.'), r, r, r));
  }
  out.push(response(records.slice(0, 12)));
  // Names: bit labels, unknown and reserved label types, NULs and controls, long names, pointers.
  const names = [
    [0], name('abc.'), [0x41, 8, 0xab, 0], [0x41, 0, ...Array(32).fill(0xff), 0], [0x41, 12, 0xab, 0xcd, 3, 0x61, 0x62, 0x63, 0], [0x41, 3, 0xe0, 0],
    [0x42, 0], [0x7f, 0], [0x80, 0], [0xbf, 0], [3, 0x61, 0x62, 0x63, 0x80], [3, 0x61, 0, 0x62, 0], [3, 0x61, 0x7f, 0x62, 0], [4, 0x61, 0x20, 0x62, 0x80, 0],
    [2, 0xc3, 0xa9, 0], [2, 0xc1, 0xa0, 0], [3, 0xe2, 0x82, 0x41, 0], [2, 0xc0, 0x82, 0], [4, 0xf0, 0x9f, 0x98, 0x80, 0],
    bytes(...Array.from({ length: 5 }, () => bytes(63, 'a'.repeat(63))), 0),
    ...[60, 61, 62, 63].map((n) => bytes(63, 'a'.repeat(63), 63, 'b'.repeat(63), 63, 'c'.repeat(63), n, 'd'.repeat(n), 0)),
    [0xc0, 12], [0xc0, 11], [0xc0, 0], [0xff, 0xff], [0xc0],
  ].map((n) => Uint8Array.from(n));
  for (const n of names) {
    out.push(bytes(header(FLAG.RD, 1), question(n)));
    out.push(bytes(header(0x8180, 1, 1), question('x.'), n, u16(RR.CNAME), u16(1), u32(60), u16(2), 0xc0, 12));
    out.push(bytes(header(0x8180, 1, 1), question('x.'), record('x.', RR.CNAME, 1, 60, n)));
  }
  // Pointer chains: backwards, a loop, forwards.
  out.push(bytes(header(0x8180, 1, 3), question('a.b.c.'), record(Uint8Array.from([1, 0x78, 0xc0, 12]), RR.A, 1, 1, [1, 2, 3, 4]),
    record(Uint8Array.from([1, 0x79, 0xc0, 27]), RR.A, 1, 1, [1, 2, 3, 4]), record(Uint8Array.from([0xc0, 41]), RR.A, 1, 1, [1, 2, 3, 4])));
  out.push(bytes(header(0x8180, 0, 1), 0xc0, 12, u16(RR.A), u16(1), u32(5), u16(4), 1, 2, 3, 4));
  out.push(bytes(header(0x8180, 0, 1), 0xc0, 14, 0xc0, 12, u16(RR.A), u16(1), u32(5), u16(4), 1, 2, 3, 4));
  out.push(bytes(header(0x8180, 1, 1), 1, 0x61, 0xc0, 20, u16(1), u16(1), record('b.', RR.A, 1, 100, [1, 2, 3, 4])));
  // Names that go round a pointer loop through a run of labels, hundreds of times over.
  const loopRecord = bytes(0xc0, 12, u16(RR.A), u16(1), u32(0), u16(0));
  out.push(bytes(header(0x8180, 0, 301), Array(200).fill([1, 0x61]).flat(), 0xc0, 12, u16(RR.A), u16(1), u32(0), u16(0),
    ...Array.from({ length: 300 }, () => loopRecord)));
  // Header flags and opcodes, counts that do not match the message.
  for (let op = 0; op < 16; op++) {
    out.push(bytes(header((op << 11) | FLAG.RD, 1), question('a.')));
    out.push(bytes(header(0x8000 | (op << 11), 1), question('a.')));
  }
  for (let f = 0; f < 0x800; f += 0x10) {
    out.push(bytes(header(f, 1), question('a.')));
    out.push(bytes(header(0x8000 | f, 1), question('a.')));
  }
  for (let rc = 0; rc < 16; rc++) out.push(bytes(header(0x8000 | rc, 1), question('a.')));
  for (const ext of [1, 2, 255]) out.push(bytes(header(0x8000 | 6, 1, 0, 0, 1), question('a.'), 0, u16(RR.OPT), u16(512), ext, 0, u16(0), u16(0)));
  out.push(bytes(header(0x0800, 0, 1), record('a.', RR.A, 1, 5, [1, 2, 3, 4])));
  out.push(bytes(header(0x0000, 2, 1, 1, 1), question('a.'), question('b.'), record('a.', RR.A, 1, 5, [1, 2, 3, 4]),
    record('a.', RR.NS, 1, 5, name('ns.a.')), record('ns.a.', RR.A, 1, 5, [1, 2, 3, 5])));
  out.push(bytes(header(0x8000, 0, 0)), bytes(header(0x8000, 3, 2, 1, 1), question('a.')), bytes(header(0x2800, 1, 1, 1), question('zone.'), record('a.zone.', RR.A, 1, 5, [1, 2, 3, 4])));
  // Shorter than a header.
  for (let k = 0; k < DNS_HEADER; k++) out.push(bytes(header(FLAG.RD, 1)).slice(0, k));
  return out;
}
const DNS_HEADER = 12;

/** mDNS messages: unicast-response and cache-flush bits on every class. */
function craftedMdns(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const cls of [1, 0x8001, 0x8003, 3, 0x80ff]) {
    out.push(bytes(header(0, 1, 0, 0, 0, 0), question('_ipp._tcp.local.', RR.PTR, cls)));
    out.push(bytes(header(0x8400, 0, 1, 0, 0, 0), record('host.local.', RR.A, cls, 120, [10, 0, 0, 1])));
  }
  out.push(bytes(header(0x8400, 0, 1, 0, 1, 0), record('host.local.', RR.TXT, 0x8001, 120, bytes(6, 'a\xc3\xa9\xffbc')), opt([[4, Array(14).fill(0)]], 1440, 0)));
  out.push(bytes(header(0x8400, 0, 1, 0, 0, 0), record('inst._http._tcp.local.', RR.SRV, 0x8001, 120, bytes(u16(0), u16(0), u16(80), name('host.local.')))));
  return out;
}

/** DNS over TCP: one message, a wrong prefix, several messages, part of one, nothing useful. */
function craftedTcp(): Uint8Array[] {
  const m = query(question('example.com.'));
  const r = response([record('example.com.', RR.A, 1, 60, [192, 0, 2, 1])]);
  return [
    prefixed(m), bytes(u16(m.length + 1), m), bytes(u16(5), m), prefixed(m, r), bytes(prefixed(m), u16(m.length), m.slice(0, 5)),
    prefixed(m, r, m), bytes(u16(300), m), Uint8Array.from([0]), Uint8Array.from([0, 0]), bytes(u16(5), 'abcde'), prefixed(bytes(header(0, 1)).slice(0, 6)),
  ];
}

/** A response with EDNS, every section, cut at every length from the DNS header on. */
function truncatedResponses(): Frame[] {
  const rich = response(
    [record('example.com.', RR.A, 1, 60, [192, 0, 2, 1]), record('example.com.', RR.AAAA, 1, 60, Array(16).fill(1))],
    [record('example.com.', RR.NS, 1, 60, name('ns.example.com.')), record('example.com.', RR.TXT, 1, 60, bytes(5, 'hello'))],
    [opt([[10, Array(8).fill(1)], [8, [0, 1, 24, 0, 192, 0, 2]]])],
  );
  const [full] = udpFrames([rich], 53, 40000);
  const start = 42;
  return Array.from({ length: full.capLen - start }, (_, k) => ({ ...full, capLen: start + k, data: full.data.slice(0, start + k) }));
}

function craftedFrames(): Frame[] {
  return renumber([
    ...udpFrames(craftedMessages()), ...udpFrames(craftedMessages().slice(0, 40), 53, 40000),
    ...udpFrames(craftedMdns(), 5353, 5353), ...tcpFrames(craftedTcp()), ...truncatedResponses(),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Corpus captures with DNS.

/** Corpus captures tshark found DNS or mDNS in, and tcpdump's own DNS tests. */
function corpusFiles(): string[] {
  if (!hasCorpus) return [];
  const rows = readTsv(path.join(corpusDir, 'MANIFEST.tsv'));
  const files = rows.filter((r) => /(^|,)m?dns(,|$)/.test(r.protocols_seen) && !r.path.endsWith('.gz')).map((r) => r.path);
  return [...files, 'tcpdump/dns-zlip-1.pcap', 'tcpdump/dns_tcp_8053.pcap', 'tcpdump/malformed/dns-badlabel.pcap'].filter((f, k, a) => a.indexOf(f) === k);
}

interface CorpusFrames {
  frames: Frame[];
  /** The capture each frame came from. */
  files: string[];
  /** wirescope decodes DNS in the frame (tshark may find DNS where tcpdump does not print it). */
  ours: boolean[];
  /** The frame carries TCP: tshark needs its whole capture around it (stream analysis). */
  tcp: boolean[];
}

let corpusCache: Map<number, CorpusFrames> | null = null;

/**
 * Every corpus frame tshark or wirescope finds DNS in, by link type (one pcap per link type),
 * renumbered, with the capture each came from.
 */
function corpusDnsFrames(): Map<number, CorpusFrames> {
  if (corpusCache) return corpusCache;
  const byLink = new Map<number, CorpusFrames>();
  for (const file of corpusFiles()) {
    const protos = frameProtocols(corpusPath(file));
    for (const f of readFrames(corpusPath(file))) {
      const p = decodeFrame(f);
      if (p.layers.length === 0) continue;
      const ours = p.layers.some((l) => l instanceof DnsLayer);
      if (!ours && !/(^|:)m?dns(:|$)/.test(protos.get(f.number) ?? '')) continue;
      const entry = byLink.get(f.linkType) ?? { frames: [], files: [], ours: [], tcp: [] };
      entry.frames.push(f);
      entry.files.push(file);
      entry.ours.push(ours);
      entry.tcp.push(p.layers.some((l) => l.dissector.name === 'tcp'));
      byLink.set(f.linkType, entry);
    }
  }
  for (const entry of byLink.values()) entry.frames = renumber(entry.frames);
  corpusCache = byLink;
  return byLink;
}

interface Tally {
  compared: number;
  identical: number;
  diffs: string[];
}

/** Compares wirescope's text with tcpdump's for frames (one link type), under each flag set. */
function compareText(frames: Frame[], flagSets: string[][], t: Tally): void {
  withPcap(frames, (file) => {
    for (const flags of flagSets) {
      const want = tcpdumpText(file, flags);
      const got = wirescopeText(frames, flags);
      for (const f of frames) {
        const w = want.get(f.number) ?? [];
        const g = got.get(f.number) ?? [];
        for (let k = 0; k < Math.max(w.length, g.length); k++) {
          t.compared++;
          if (w[k] === g[k]) t.identical++;
          else if (t.diffs.length < 10) t.diffs.push(`${flags.join(' ')} #${f.number}\n  tcpdump:   ${w[k]}\n  wirescope: ${g[k]}`);
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!!noFixture)('DNS decoding of real messages (fixtures/dns.pcap, dig against a DNS server)', () => {
  const packets = () => readFrames(FIXTURE).map((f) => decodeFrame(f));

  it('decodes queries and responses field by field', () => {
    const p = packets();
    const q = dnsLayer(p[0]);
    expect([q.dissector.name, q.id, q.qr, q.opcode, q.flags & FLAG.RD, q.qdcount, q.ancount, q.arcount])
      .toEqual(['dns', (q.buf[q.off] << 8) | q.buf[q.off + 1], false, 0, FLAG.RD, 1, 0, 1]);
    expect(dnsLayer(p[1]).id).toBe(q.id);
    const qm = q.message!;
    expect(qm.questions).toEqual([{ name: 'www.wirescope.example', nameLength: 21, labels: 3, type: RR.A, class: 1, unicastResponse: false }]);
    expect(qm.additionals.map((r) => [r.name, r.type, r.data?.opt?.udpPayloadSize])).toEqual([['<Root>', RR.OPT, 1232]]);
    const a = dnsLayer(p[1]).message!;
    expect(a.answers.map((r) => [r.name, r.type, r.ttl, r.data?.address])).toEqual([['www.wirescope.example', RR.A, 300, '198.51.100.20']]);
    expect(dnsLayer(p[3]).message!.answers[0].data?.address).toBe('2001:db8:b::20');
    expect(dnsLayer(p[5]).message!.answers.map((r) => [r.data?.preference, r.data?.exchange])).toEqual([[10, 'mail.wirescope.example']]);
    expect(dnsLayer(p[7]).message!.answers.map((r) => r.data?.strings)).toEqual([['v=spf1 -all'], expect.any(Array)]);
    const nx = dnsLayer(p[9]);
    expect([nx.qr, nx.rcode, nx.ancount]).toEqual([true, 3, 0]);
  });

  it('decodes a DNS over TCP exchange and IPv6 transport', () => {
    const p = packets();
    const tcpQuery = p.map((x) => x.layers.find((l) => l instanceof DnsLayer && (l as DnsLayer).overTcp) as DnsLayer | undefined).filter((l) => l);
    expect(tcpQuery.length).toBe(2);
    const [tq, tr] = tcpQuery as DnsLayer[];
    expect([tq.prefix, tq.msgLen, tq.segmentMismatch, tq.qr, tr.qr, tr.id]).toEqual([tq.length - 2, tq.length - 2, false, false, true, tq.id]);
    const v6 = p.filter((x) => x.layers.some((l) => l.dissector.name === 'ipv6')).map(dnsLayer);
    expect(v6.map((l) => l.message!.questions[0].type)).toEqual([RR.AAAA, RR.AAAA]);
  });
});

/** tcpdump's text for a message alone: `end` captured bytes of a message of `length`, at -v count v. */
function dnsText(msg: Uint8Array, end = msg.length, length = msg.length, v = 0): { text: string; jumped: boolean } {
  const out = new TextOut({ ...defaultTextOptions, v });
  out.linkHdrLen = 14;
  printDnsMessage(out, msg, 0, end, length, false);
  // The printer writes bytes and may leave text in out.s (the markers): put moves that after them.
  out.put('');
  return { text: out.bytes.toString('utf8', 0, out.len), jumped: out.linkHdrLen === 0 };
}

describe('DNS message decoder and printer (pure functions over bytes)', () => {
  const q = encodeDnsMessage({ id: 12345, flags: FLAG.RD, questions: [{ name: 'example.com', type: RR.A }] });
  const r = bytes(header(0x8180, 1, 1, 0, 0, 12345), question('example.com.'), record(Uint8Array.from([0xc0, 12]), RR.A, 1, 3600, [93, 184, 216, 34]));

  it('prints a query and a response as tcpdump does', () => {
    expect(dnsText(q).text).toBe('12345+ A? example.com. (29)');
    expect(dnsText(r).text).toBe('12345 1/0/0 A 93.184.216.34 (45)');
    expect(dnsText(r, r.length, r.length, 3).text).toBe('12345 q: A? example.com. 1/0/0 example.com. [1h] A 93.184.216.34 (45)');
    expect(dnsText(q, 5, 5).text).toBe('domain [length 5 < 12] (invalid)');
  });

  it('stops at the end of the capture as tcpdump does: a failed check returns, a read past the end jumps', () => {
    // A record whose fixed part is cut off ends the section quietly: tcpdump then prints the length.
    expect(dnsText(r, 40)).toEqual({ text: '12345 1/0/0 (45)', jumped: false });
    expect(dnsText(r, 20)).toEqual({ text: '12345 [|domain]', jumped: false });
    expect(dnsText(r, 8)).toEqual({ text: ' [|domain]', jumped: false });
    const uri = bytes(header(0x8180, 1, 1), question('a.'), record('a.', RR.URI, 1, 60, u16(10)));
    // A 2-byte URI record: tcpdump reads its 4-byte header past the end of the capture.
    expect(dnsText(uri)).toEqual({ text: '4660 1/0/0 URI [|domain]', jumped: true });
  });

  it('decodes a message with compression pointers', () => {
    const m = decodeDnsMessage(ByteView.of(bytes(header(0x8180, 1, 1), question('www.example.com.'), record(Uint8Array.from([0xc0, 12]), RR.CNAME, 1, 60, [3, 0x77, 0x65, 0x62, 0xc0, 16]))));
    expect([m.truncated, m.error, m.answers[0].name, m.answers[0].data?.target]).toEqual([false, null, 'www.example.com', 'web.example.com']);
  });

  it('stops at pointer loops and bad labels without throwing', () => {
    const loop = bytes(header(0x8180, 0, 1), 0xc0, 12, u16(RR.A), u16(1), u32(5), u16(4), 1, 2, 3, 4);
    expect(decodeDnsMessage(ByteView.of(loop)).answers[0].name).toBe('<Name contains a pointer that loops>');
    expect(dnsText(loop, loop.length, loop.length, 1).text).toBe('4660 [0q] 1/0/0 <BAD PTR> [|domain]');
    const reserved = bytes(header(0x100, 1), 0x80, 0, u16(1), u16(1));
    expect(decodeDnsMessage(ByteView.of(reserved)).error).toBe('reserved label type');
    expect(dnsText(reserved).text).toBe('4660+ [|domain]');
    const cut = decodeDnsMessage(ByteView.of(r.slice(0, 40)));
    expect([cut.truncated, cut.questions.length, cut.answers.length]).toEqual([true, 1, 0]);
  });

  it('formats times and text as tcpdump and tshark do', () => {
    expect([relativeTime(0), relativeTime(3600), relativeTime(90061), relativeTime(31536000 + 604800 + 1)]).toEqual(['0s', '1h', '1d1h1m1s', '1y1w1s']);
    expect(formatText(Uint8Array.from([0x61, 0x0a, 0x01, 0x7f, 0xc3, 0xa9, 0xc1, 0xa0, 0xff, 0xc0, 0x82]))).toBe('a\\n\\001\\177é`\ufffd\\u0002');
  });

  it.skipIf(!!noCorpus)('survives the corpus stress captures (deep pointer chains, recursion bait)', () => {
    for (const file of ['pcapplusplus/PacketExamples/dns_stack_overflow.pcap', 'zeek/dns/max-compression-depth.pcap', 'zeek/dns/dns-corrupt.pcap']) {
      for (const f of readFrames(corpusPath(file))) {
        const p = decodeFrame(f);
        expect(p.error).toBeNull();
        const m = dnsLayer(p).message;
        expect(m === null || typeof m.id === 'number').toBe(true);
      }
    }
  });
});

describe('DNS encoding', () => {
  it('builds a query and a response from layers', () => {
    const [frameQ] = udpFrames([encodeDnsMessage({ id: 7, flags: FLAG.RD, questions: [{ name: 'example.org', type: RR.AAAA }] })]);
    const built = encodeStack([ETH(), IP(), makeLayer(udp, { srcPort: 40000, dstPort: 53 }),
      makeLayer(dns, { build: { id: 7, flags: FLAG.RD, questions: [{ name: 'example.org', type: RR.AAAA }] } })]);
    expect(Buffer.from(built).toString('hex')).toBe(Buffer.from(frameQ.data).toString('hex'));
    const resp = encodeStack([ETH(), IP(), makeLayer(udp, { srcPort: 53, dstPort: 40000 }), makeLayer(dns, {
      build: {
        id: 7, flags: 0x8180, questions: [{ name: 'example.org', type: RR.AAAA }],
        answers: [{ name: 'example.org', type: RR.AAAA, ttl: 60, address: '2001:db8::1' }, { name: 'example.org', type: RR.TXT, strings: ['a', 'bc'] }],
        authorities: [{ name: 'example.org', type: RR.NS, target: 'ns.example.org' }],
        additionals: [{ name: 'example.org', type: RR.MX, preference: 5, target: 'mx.example.org' }],
      },
    })]);
    const m = dnsLayer(decodeFrame(frame(1, 0, 0, resp))).message!;
    expect([m.answers[0].data?.address, m.answers[1].data?.strings, m.authorities[0].data?.target, m.additionals[0].data?.exchange])
      .toEqual(['2001:db8::1', ['a', 'bc'], 'ns.example.org', 'mx.example.org']);
    expect(() => encodeDnsMessage({ answers: [{ name: 'x', type: RR.A, address: '1.2.3' }] })).toThrow(/bad IPv4 address/);
  });

  it('writes the TCP length prefix, recomputed when fixing lengths', () => {
    const seg = (fix: boolean) => encodeStack([makeLayer(dnsTcp, { overTcp: true, prefix: 99, build: { id: 1, questions: [{ name: 'a' }] } })], new Uint8Array(0), { fixLengths: fix });
    expect(Array.from(seg(true).slice(0, 2))).toEqual([0, 19]);
  });

  it('encodes decoded frames back to the same bytes', () => {
    let checked = 0;
    const frames = [...craftedFrames()];
    if (!noFixture) frames.push(...readFrames(FIXTURE));
    if (hasCorpus) for (const { frames: list, ours } of corpusDnsFrames().values()) frames.push(...list.filter((_, k) => ours[k]));
    for (const f of frames) if (expectReencodes(f)) checked++;
    expect(checked).toBeGreaterThan(400);
  });
});

describe('DNS truncation', () => {
  it('survives every truncation of real and crafted frames', () => {
    const frames: Frame[] = [...udpFrames(craftedMdns().slice(-2), 5353, 5353), ...tcpFrames(craftedTcp().slice(3, 6))];
    if (!noFixture) {
      const fx = readFrames(FIXTURE);
      frames.push(fx[1], fx[7], fx[13], fx[15], fx[fx.length - 1]);
    }
    for (const f of frames) sweepTruncation(f);
  });

  it('marks the DNS layer truncated and prints tcpdump\'s marker', () => {
    const frames = truncatedResponses();
    for (const f of frames) {
      const p = decodeFrame(f);
      expect(p.error).toBeNull();
      const l = p.layers[p.layers.length - 1];
      expect([l instanceof DnsLayer, l.truncated]).toEqual([true, f.capLen < f.origLen]);
    }
  });
});

describe.skipIf(!!noTcpdump)('DNS text identical to tcpdump', () => {
  const flagSets = [['-n'], ['-n', '-v'], ['-n', '-vv'], ['-n', '-vvv'], ['-n', '-e'], ['-n', '-x'], ['-n', '-q'], ['-n', '-vvv', '-e']];

  it('on crafted messages: EDNS options, every record type, bad names, flags, mDNS, TCP framings, truncations', () => {
    const t: Tally = { compared: 0, identical: 0, diffs: [] };
    compareText(craftedFrames(), flagSets, t);
    console.log(`DNS text on crafted frames: ${t.identical}/${t.compared} lines identical to tcpdump`);
    expect(t.diffs).toEqual([]);
  });

  it.skipIf(!!noCorpus || !!noFixture)('on every corpus DNS frame and the fixture', () => {
    const t: Tally = { compared: 0, identical: 0, diffs: [] };
    for (const { frames, ours } of corpusDnsFrames().values()) compareText(renumber(frames.filter((_, k) => ours[k])), flagSets, t);
    compareText(renumber(readFrames(FIXTURE)), flagSets, t);
    console.log(`DNS text on the corpus DNS frames and fixtures/dns.pcap: ${t.identical}/${t.compared} lines identical to tcpdump ` +
      `(${((100 * t.identical) / Math.max(1, t.compared)).toFixed(2)}%)`);
    expect(t.diffs).toEqual([]);
  });
});

/** Every DNS field wirescope provides, as tshark names them. */
const FIELDS = [
  'frame.protocols', 'dns.length', 'dns.id', 'dns.flags', 'dns.flags.response', 'dns.flags.opcode', 'dns.flags.authoritative',
  'dns.flags.truncated', 'dns.flags.recdesired', 'dns.flags.recavail', 'dns.flags.z', 'dns.flags.authenticated',
  'dns.flags.checkdisable', 'dns.flags.rcode', 'dns.count.queries', 'dns.count.zones', 'dns.count.answers',
  'dns.count.prerequisites', 'dns.count.auth_rr', 'dns.count.updates', 'dns.count.add_rr', 'dns.qry.name', 'dns.qry.name.len',
  'dns.count.labels', 'dns.qry.type', 'dns.qry.class', 'dns.qry.qu', 'dns.resp.name', 'dns.srv.service', 'dns.srv.proto',
  'dns.srv.name', 'dns.resp.type', 'dns.resp.class', 'dns.resp.cache_flush', 'dns.resp.ttl', 'dns.resp.len', 'dns.a', 'dns.aaaa',
  'dns.cname', 'dns.ns', 'dns.ptr.domain_name', 'dns.dname', 'dns.mx.preference', 'dns.mx.mail_exchange', 'dns.txt',
  'dns.soa.mname', 'dns.soa.rname', 'dns.soa.serial_number', 'dns.soa.refresh_interval', 'dns.soa.retry_interval',
  'dns.soa.expire_limit', 'dns.soa.minimum_ttl', 'dns.srv.priority', 'dns.srv.weight', 'dns.srv.port', 'dns.srv.target',
  'dns.rr.udp_payload_size', 'dns.resp.ext_rcode', 'dns.resp.edns0_version', 'dns.resp.z.do', 'dns.opt.code', 'dns.opt.len',
];

/**
 * Corpus frames where tshark's DNS differs for reasons outside a per-packet DNS decoder: its UDP
 * heuristic finds DNS on other ports, its TCP reassembly joins segments, its TCP analysis drops a
 * segment, and non-DNS layers below.
 */
const TSHARK_ONLY = new Map<string, string>([
  ['tcpdump/dns_udp_8053.pcap', 'tshark\'s UDP heuristic dissects DNS on port 8053'],
  ['tcpdump/someip1.pcap', 'tshark\'s UDP heuristic dissects DNS on SOME/IP ports'],
  ['zeek/dns/tkey.pcap', 'a message reassembled from three TCP segments (the stream consumer\'s)'],
  ['pcapplusplus/PacketExamples/dns_over_tcp.pcapng', 'tshark\'s TCP analysis takes the last segment as a retransmission'],
  ['pcapplusplus/PacketExamples/NullLoopback.pcap', 'a NULL-link frame of an unknown family that tshark reads as IPv4'],
  ['pcapplusplus/PcapExamples/null_loopback.pcap', 'a NULL-link frame of an unknown family that tshark reads as IPv4'],
  ['tcpdump/malformed/LINKTYPE_IPV4_invalid.pcap', 'tshark lists the IPv4 link type\'s IPv6 packet as ip:ipv6'],
]);

function compareFields(frames: Frame[], names: string[], skip: (k: number) => boolean, t: Tally, label: string): void {
  const want = withPcap(frames, (file) => tsharkFields(file, names));
  const got = wirescopeFields(frames, names);
  for (let k = 0; k < frames.length; k++) {
    if (skip(k)) continue;
    const w = (want[k] ?? '').split('\t');
    const g = got[k].split('\t');
    for (let c = 0; c < names.length; c++) {
      if (w[c] === '' && g[c] === '') continue;
      t.compared++;
      if (w[c] === g[c]) t.identical++;
      else if (t.diffs.length < 10) t.diffs.push(`${label} #${k + 1} ${names[c]}\n  tshark:    ${w[c]}\n  wirescope: ${g[c]}`);
    }
  }
}

describe.skipIf(!!noTshark)('DNS fields identical to tshark', () => {
  it.skipIf(!!noFixture)('on fixtures/dns.pcap', () => {
    const t: Tally = { compared: 0, identical: 0, diffs: [] };
    compareFields(readFrames(FIXTURE), FIELDS, () => false, t, 'dns.pcap');
    expect(t.diffs).toEqual([]);
  });

  it('on crafted messages', () => {
    const t: Tally = { compared: 0, identical: 0, diffs: [] };
    const frames = renumber([...udpFrames(craftedMessages()), ...udpFrames(craftedMdns(), 5353, 5353), ...truncatedResponses()]);
    compareFields(frames, FIELDS, () => false, t, 'crafted');
    // TCP framings: a segment starting with a bad message is left to reassembly here, tshark dissects it.
    const tcpFramesList = tcpFrames(craftedTcp());
    compareFields(tcpFramesList, FIELDS, (k) => k === 2 || k === 10, t, 'crafted TCP');
    console.log(`DNS fields on crafted frames: ${t.identical}/${t.compared} values identical to tshark`);
    expect(t.diffs).toEqual([]);
  });

  it.skipIf(!!noCorpus)('on every corpus DNS frame (live tshark, every field)', () => {
    const t: Tally = { compared: 0, identical: 0, diffs: [] };
    let known = 0;
    // Datagrams together in one capture per link type; TCP segments in their own capture, which
    // tshark's stream analysis needs whole.
    const runs: Array<{ frames: Frame[]; files: string[]; want: string[] }> = [];
    const tcpFiles = new Set<string>();
    for (const { frames, files, tcp: isTcp } of corpusDnsFrames().values()) {
      const keep = frames.map((_, k) => k).filter((k) => !isTcp[k]);
      const chosen = renumber(keep.map((k) => frames[k]));
      runs.push({ frames: chosen, files: keep.map((k) => files[k]), want: withPcap(chosen, (file) => tsharkFields(file, FIELDS)) });
      for (let k = 0; k < frames.length; k++) if (isTcp[k]) tcpFiles.add(files[k]);
    }
    for (const file of tcpFiles) {
      const frames = readFrames(corpusPath(file));
      runs.push({ frames, files: frames.map(() => file), want: tsharkFields(corpusPath(file), FIELDS) });
    }
    for (const { frames, files, want } of runs) {
      const got = wirescopeFields(frames, FIELDS);
      for (let k = 0; k < frames.length; k++) {
        const w = (want[k] ?? '').split('\t');
        const g = got[k].split('\t');
        if (!/(^|:)m?dns(:|$)/.test(w[0]) && !/(^|:)m?dns(:|$)/.test(g[0])) continue;
        for (let c = 0; c < FIELDS.length; c++) {
          if (w[c] === '' && g[c] === '') continue;
          t.compared++;
          if (w[c] === g[c]) t.identical++;
          else if (TSHARK_ONLY.has(files[k])) known++;
          else if (t.diffs.length < 10) t.diffs.push(`${files[k]} (#${k + 1}) ${FIELDS[c]}\n  tshark:    ${w[c]}\n  wirescope: ${g[c]}`);
        }
      }
    }
    console.log(`DNS fields on the corpus DNS frames: ${t.identical}/${t.compared} values identical to tshark ` +
      `(${((100 * t.identical) / Math.max(1, t.compared)).toFixed(2)}%); ${known} differ for the listed non-DNS reasons`);
    expect(t.diffs).toEqual([]);
  });

  it.skipIf(!!noCorpus)('on the stored tshark references of every corpus capture', () => {
    const columns = ['frame.protocols', 'dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.a', 'dns.aaaa'];
    const t: Tally = { compared: 0, identical: 0, diffs: [] };
    let known = 0;
    for (const file of corpusFiles()) {
      const ref = path.join(corpusDir, 'reference', file + '.fields.tsv.gz');
      if (!existsSync(ref)) continue;
      const rows = readTsv(ref);
      const frames = readFrames(corpusPath(file));
      if (!frames.length || decodeFrame(frames[0]).layers.length === 0) continue;
      const got = wirescopeFields(frames, columns);
      for (let k = 0; k < frames.length; k++) {
        const g = got[k].split('\t');
        if (!/(^|:)m?dns(:|$)/.test(rows[k]['frame.protocols']) && !/(^|:)m?dns(:|$)/.test(g[0])) continue;
        for (let c = 0; c < columns.length; c++) {
          const w = rows[k][columns[c]] ?? '';
          if (w === '' && g[c] === '') continue;
          t.compared++;
          if (w === g[c]) t.identical++;
          else if (TSHARK_ONLY.has(file)) known++;
          else if (t.diffs.length < 10) t.diffs.push(`${file} #${k + 1} ${columns[c]}\n  tshark:    ${w}\n  wirescope: ${g[c]}`);
        }
      }
    }
    console.log(`DNS columns of the stored tshark references: ${t.identical}/${t.compared} values identical ` +
      `(${((100 * t.identical) / Math.max(1, t.compared)).toFixed(2)}%); ${known} differ for the listed non-DNS reasons`);
    expect(t.diffs).toEqual([]);
  });
});

describe('DNS in frame.protocols', () => {
  it('names DNS, mDNS, and leaves out what tshark does not dissect', () => {
    const proto = (f: Frame) => ourProtocols(decodeFrame(f));
    const [udpQ] = udpFrames([query(question('a.'))]);
    const [empty] = udpFrames([new Uint8Array(0)]);
    const [m] = udpFrames([craftedMdns()[0]], 5353, 5353);
    const [one, partial, two] = tcpFrames([prefixed(query(question('a.'))), bytes(u16(300), query(question('a.'))), prefixed(query(question('a.')), query(question('b.')))]);
    expect([proto(udpQ), proto(empty), proto(m), proto(one), proto(partial), proto(two)]).toEqual([
      'eth:ethertype:ip:udp:dns', 'eth:ethertype:ip:udp', 'eth:ethertype:ip:udp:mdns', 'eth:ethertype:ip:tcp:dns',
      'eth:ethertype:ip:tcp', 'eth:ethertype:ip:tcp:dns',
    ]);
    expect(decodeFrame(two).layers.filter((l) => l instanceof DnsLayer).map((l) => (l as DnsLayer).message!.questions[0].name)).toEqual(['a', 'b']);
    expect(mdns.protocols).toBe('mdns');
  });
});
