/**
 * ICMP: real messages decoded field by field (the quoted datagram as a nested packet), every type
 * and code and fuzzed messages against tcpdump (-n, -v, -x), every prefix of error messages,
 * tshark's icmp.* fields (quoted datagrams as further occurrences), and encode/decode.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer, type Packet } from '../../src/core/dissector.js';
import { foldChecksum, sumWords } from '../../src/core/checksum.js';
import type { Frame } from '../../src/core/frame.js';
import { FieldsOut } from '../../src/output/fields.js';
import { ethernet } from '../../dissectors/ethernet.js';
import { ipv4, Ipv4Layer } from '../../dissectors/ipv4.js';
import { icmp, IcmpLayer } from '../../dissectors/icmp.js';
import { corpusDir, hasCorpus, hasTool, readTsv, repoRoot } from '../conformance/corpus.js';
import { readAll } from '../pcap/helpers.js';
import {
  TempDir, compareText, ethFrame, hex2, hexBytes, icmpHex, ipv4Hex, numbered, prefixes, rng, tsharkFields, wirescopeFields,
} from '../ip/helpers.js';

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!haveTcpdump) console.log('ICMP tests against tcpdump skipped: tcpdump is not installed');
if (!haveTshark) console.log('ICMP tests against tshark skipped: tshark is not installed');

const fixture = (name: string): string => path.join(repoRoot, 'fixtures', name);
const dir = new TempDir();
afterAll(() => dir.remove());

function icmpOf(p: Packet): IcmpLayer {
  const l = p.layers.find((x) => x instanceof IcmpLayer);
  if (!l) throw new Error('no ICMP layer');
  return l as IcmpLayer;
}

describe('real ICMP messages, field by field', () => {
  it('decodes an echo request and reply', () => {
    const frames = readAll(fixture('icmp-echo.pcap')).frames.map(decodeFrame).filter((p) => p.layers.some((l) => l instanceof IcmpLayer));
    const req = icmpOf(frames[0]);
    const rep = icmpOf(frames[1]);
    expect(req).toMatchObject({ type: 8, code: 0, seq: 1, hdrLen: 16, payloadLen: 48, fragmented: false, quoted: false });
    expect(rep).toMatchObject({ type: 0, code: 0, ident: req.ident, seq: 1 });
    expect(foldChecksum(sumWords(req.buf, req.off, req.off + req.length))).toBe(0);
    // Linux ping's timeval, read as tshark 4.0 reads it.
    expect(req.dataSec).toBeGreaterThan(1_700_000_000);
    const f = icmp.fields!;
    expect(f['icmp.checksum.status'](req, frames[0])).toBe(1);
    expect(f['icmp.ident_le'](req, frames[0])).toBe(((req.ident & 0xff) << 8) | (req.ident >> 8));
  });

  it('decodes a need-to-frag error with its quoted datagram as a nested packet', () => {
    const p = readAll(fixture('icmp-pmtu.pcap')).frames.map(decodeFrame).find((q) => q.layers.some((l) => l instanceof IcmpLayer && l.type === 3))!;
    const err = icmpOf(p);
    expect(err).toMatchObject({ type: 3, code: 4, seq: 1280 });
    expect(icmp.fields!['icmp.mtu'](err, p)).toBe(1280);
    expect(err.nested).toHaveLength(1);
    const inner = err.nested[0];
    expect(inner.layers.map((l) => l.dissector.name)).toEqual(['ip', 'icmp']);
    const innerIp = inner.layers[0] as Ipv4Layer;
    expect(innerIp.srcAddr).toBe('192.0.2.10');
    expect(innerIp.dstAddr).toBe('198.51.100.20');
    expect((inner.layers[1] as IcmpLayer).quoted).toBe(true);
    expect(icmp.fields!['icmp.checksum.status'](inner.layers[1] as IcmpLayer, inner)).toBe(2);
  });

  it('shows the quoted datagram as further field occurrences, in tshark order', () => {
    const p = readAll(fixture('icmp-redirect.pcap')).frames.map(decodeFrame).find((q) => q.layers.some((l) => l instanceof IcmpLayer && l.type === 5))!;
    const line = new FieldsOut(['ip.src', 'ip.dst', 'icmp.type', 'icmp.redir_gw', 'frame.protocols']).format(p).split('\t');
    expect(line[0].split(',')).toHaveLength(2);
    expect(line[2]).toBe('5,8');
    // tshark keeps only the header and 8 bytes of a redirect's datagram: no data after the quoted echo.
    expect(line[4]).toBe('eth:ethertype:ip:icmp:ip:icmp');
  });

  it('decodes timestamp requests and replies', () => {
    const ps = readAll(fixture('icmp-timestamp.pcap')).frames.map(decodeFrame).filter((q) => q.layers.some((l) => l instanceof IcmpLayer));
    const types = ps.map((q) => icmpOf(q).type);
    expect(types).toContain(13);
    expect(types).toContain(14);
    for (const q of ps) {
      const m = icmpOf(q);
      expect(m.hdrLen).toBe(20);
      expect(icmp.fields!['icmp.originate_timestamp'](m, q)).toBe(m.u32At(8));
    }
  });
});

describe('encode', () => {
  it('computes the checksum over header and payload and round-trips every field', () => {
    const eth = makeLayer(ethernet, {});
    eth.src = '02:00:00:00:00:01';
    eth.dst = '02:00:00:00:00:02';
    const ip = makeLayer(ipv4, { src: 0xc0000201, dst: 0xc6336402, id: 1 });
    const quote = hexBytes(ipv4Hex({ proto: 17, payload: '1234829a00200000' }));
    const m = makeLayer(icmp, { type: 3, code: 3 });
    const bytes = encodeStack([eth, ip, m], quote);
    expect(foldChecksum(sumWords(bytes, 34, bytes.length))).toBe(0);
    const p = decodeFrame({ number: 1, linkType: 1, tsSec: 0, tsNsec: 0, capLen: bytes.length, origLen: bytes.length, data: bytes, ifIndex: 0 });
    const got = icmpOf(p);
    expect(got).toMatchObject({ type: 3, code: 3, rest: 0 });
    expect(got.nested[0].layers.map((l) => l.dissector.name)).toEqual(['ip', 'udp']);
    const again = encodeStack(p.layers, bytes.subarray(got.off + 8), { fixLengths: false, computeChecksums: false });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });
});

/** One message of every type and code icmp_print distinguishes, with quoted datagrams for errors. */
function everyTypeAndCode(): Frame[] {
  const quoteUdp = ipv4Hex({ proto: 17, payload: '1234829a00200000' });
  const quoteTcp = ipv4Hex({ proto: 6, payload: '1234005000000001' });
  const quoteOther = ipv4Hex({ proto: 99, payload: '0000080000000000' });
  const out: string[] = [];
  out.push(icmpHex(8, 0, '12340001', 'abcdef01'), icmpHex(0, 0, '12340001', 'abcdef01'));
  for (let code = 0; code <= 16; code++) out.push(icmpHex(3, code, code === 4 ? '000005dc' : '00000000', quoteUdp));
  out.push(icmpHex(3, 3, '00000000', quoteTcp), icmpHex(3, 3, '00000000', quoteOther), icmpHex(3, 4, '00000000', quoteUdp));
  out.push(icmpHex(4, 0, '00000000', quoteUdp));
  for (let code = 0; code <= 4; code++) out.push(icmpHex(5, code, 'c0000201', quoteUdp));
  out.push(icmpHex(9, 0, '02020708', 'c00002010000000ac0000202ffffffff'), icmpHex(9, 0, '0003003c', 'c0000201'), icmpHex(9, 0, '01020e10', 'c0000201'));
  out.push(icmpHex(10, 0, '00000000'));
  for (let code = 0; code <= 2; code++) out.push(icmpHex(11, code, '00000000', quoteUdp));
  out.push(icmpHex(12, 0, '14000000', quoteUdp), icmpHex(12, 1, '00000000', quoteUdp));
  out.push(icmpHex(13, 0, '12340001', '00000001' + '00000000' + '00000000'));
  out.push(icmpHex(14, 0, '12340001', '0336c5a0' + '05265c00' + 'ffffffff'));
  out.push(icmpHex(15, 0, '12340001'), icmpHex(16, 0, '12340001'), icmpHex(17, 0, '12340001', '00000000'), icmpHex(18, 0, '12340001', 'ffffff00'));
  out.push(icmpHex(42, 0, '12340100', ''), icmpHex(200, 7, '00000000', 'abcd'));
  // Wrong checksums, with and without -v; a message inside a first fragment (no checksum test).
  out.push(icmpHex(8, 0, '12340001', 'abcd', 0xbeef), icmpHex(3, 1, '00000000', quoteUdp, 0));
  const frames = out.map((h, k) => ethFrame(ipv4Hex({ proto: 1, payload: h }), k + 1));
  frames.push(ethFrame(ipv4Hex({ proto: 1, payload: icmpHex(8, 0, '12340001', 'abcd', 0xbeef), flagsFrag: 0x2000 }), frames.length + 1));
  // RFC 4884 / MPLS extensions after 128 bytes of quoted datagram.
  frames.push(ethFrame(ipv4Hex({ proto: 1, payload: icmpHex(11, 0, '00200000', extendedQuote(quoteUdp)) }), frames.length + 1));
  frames.push(ethFrame(ipv4Hex({ proto: 1, payload: icmpHex(3, 3, '00000000', extendedQuote(quoteUdp)) }), frames.length + 1));
  return frames;
}

/** A quoted datagram padded to 128 bytes and followed by an RFC 4884 extension holding one MPLS label. */
function extendedQuote(quote: string): string {
  const padded = quote.padEnd(256, '0');
  const ext = hexBytes('2000000000080101000161ff');
  const sum = foldChecksum(sumWords(ext, 0, ext.length));
  ext[2] = sum >> 8;
  ext[3] = sum & 0xff;
  return padded + Buffer.from(ext).toString('hex');
}

/** Fuzzed messages: types and codes tcpdump knows, odd lengths, bad checksums, extensions, cut short. */
function fuzzed(seed: number, count: number): Frame[] {
  const r = rng(seed);
  const rb = (n: number): string => { let s = ''; for (let i = 0; i < n; i++) s += hex2(Math.floor(r() * 256)); return s; };
  const frames: Frame[] = [];
  for (let n = 1; n <= count; n++) {
    const type = r() < 0.85 ? [0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18][Math.floor(r() * 15)] : Math.floor(r() * 256);
    const code = r() < 0.7 ? Math.floor(r() * 17) : Math.floor(r() * 256);
    let rest = rb(4);
    let body: string;
    if ([3, 4, 5, 11, 12].includes(type)) {
      // Quoted ICMP or an unknown protocol: UDP/TCP ports would reach other printers.
      const proto = r() < 0.5 ? 1 : 99;
      const inner = ipv4Hex({
        proto, flagsFrag: r() < 0.1 ? 0x2000 : 0,
        payload: proto === 1 ? icmpHex(8, 0, rb(4), rb(Math.floor(r() * 40))) : rb(8 + Math.floor(r() * 30)),
        totalLen: r() < 0.1 ? Math.floor(r() * 100) : undefined,
      });
      if (r() < 0.3) {
        body = extendedQuote(inner.slice(0, 256));
        if (r() < 0.3) body = body.slice(0, 256) + rb(4 + Math.floor(r() * 20));
        if (r() < 0.5) rest = rest.slice(0, 2) + hex2(r() < 0.5 ? 32 : Math.floor(r() * 40)) + rest.slice(4);
      } else body = inner;
    } else if (type === 9) {
      const num = Math.floor(r() * 4);
      rest = hex2(num) + hex2(r() < 0.8 ? 2 : Math.floor(r() * 4)) + rb(2);
      body = rb(8 * num + (r() < 0.5 ? 0 : Math.floor(r() * 12)));
    } else if (type === 13 || type === 14) body = rb(12);
    else if (type === 17 || type === 18) body = rb(4);
    else body = rb(Math.floor(r() * 56));
    const f = ethFrame(ipv4Hex({
      proto: 1, flagsFrag: r() < 0.05 ? 0x2000 : 0,
      payload: icmpHex(type, code, rest, body, r() < 0.15 ? Math.floor(r() * 65536) : undefined),
    }), n);
    if (r() < 0.35) {
      const k = 14 + Math.floor(r() * (f.capLen - 14));
      f.capLen = k;
      f.data = f.data.subarray(0, k);
    }
    frames.push(f);
  }
  return frames;
}

describe.skipIf(!haveTcpdump)('text identical to tcpdump', () => {
  it('prints every type and code', () => {
    for (const flags of [['-n'], ['-nv'], ['-nvx'], ['-ne'], ['-nvvv']]) {
      expect(compareText(dir, everyTypeAndCode(), flags).diffs).toEqual([]);
    }
  });

  it('prints every prefix of error messages and their quoted datagrams', () => {
    const errors = everyTypeAndCode().filter((f) => [3, 5, 11, 12].includes(f.data[34]));
    const real = [...readAll(fixture('icmp-pmtu.pcap')).frames.slice(1, 2), ...readAll(fixture('traceroute.pcap')).frames.slice(0, 4)];
    let compared = 0;
    for (const f of [...errors.slice(0, 4), ...errors.slice(-2), ...real]) {
      const cuts = numbered(prefixes(f).slice(1));
      for (const p of cuts.map(decodeFrame)) expect(p.error).toBeNull();
      for (const flags of [['-n'], ['-nv'], ['-nvx']]) {
        const c = compareText(dir, cuts, flags);
        compared += c.compared;
        expect(c.diffs).toEqual([]);
      }
    }
    expect(compared).toBeGreaterThan(5000);
  });

  it('prints 1500 fuzzed messages', () => {
    const frames = fuzzed(11, 1500);
    for (const flags of [['-n'], ['-nv'], ['-nvx']]) {
      const c = compareText(dir, frames, flags);
      expect(c.diffs).toEqual([]);
      expect(c.compared).toBeGreaterThanOrEqual(1500);
    }
  });

  it('prints the ICMP fixtures', () => {
    for (const name of ['icmp-echo.pcap', 'icmp-pmtu.pcap', 'icmp-port-unreachable.pcap', 'icmp-redirect.pcap', 'icmp-timestamp.pcap', 'traceroute.pcap']) {
      const frames = readAll(fixture(name)).frames.filter((f) => decodeFrame(f).layers.some((l) => l instanceof IcmpLayer));
      for (const flags of [['-n'], ['-nv'], ['-ne'], ['-nx']]) expect(compareText(dir, numbered(frames), flags).diffs).toEqual([]);
    }
  });
});

const FIELDS = ['frame.protocols', 'icmp.type', 'icmp.code', 'icmp.checksum', 'icmp.checksum.status', 'icmp.ident', 'icmp.ident_le',
  'icmp.seq', 'icmp.seq_le', 'icmp.unused', 'icmp.length', 'icmp.length.original_datagram', 'icmp.mtu', 'icmp.pointer',
  'icmp.redir_gw', 'icmp.num_addrs', 'icmp.addr_entry_size', 'icmp.lifetime', 'icmp.router_address', 'icmp.pref_level',
  'icmp.originate_timestamp', 'icmp.receive_timestamp', 'icmp.transmit_timestamp', 'icmp.address_mask', 'icmp.data_time',
  'icmp.data_time_relative', 'icmp.ext.version', 'icmp.ext.res', 'icmp.ext.checksum', 'icmp.ext.checksum.status', 'icmp.ext.length',
  'icmp.ext.class', 'icmp.ext.ctype', 'icmp.mpls.label', 'icmp.mpls.exp', 'icmp.mpls.s', 'icmp.mpls.ttl',
  'ip.src', 'ip.dst', 'ip.len', 'ip.id', 'ip.proto', 'ip.ttl'];

describe.skipIf(!haveTshark)('fields identical to tshark', () => {
  it('on every type and code and on 800 fuzzed messages', () => {
    // Whole messages: tshark's view of cut ones follows its exceptions, compared on the fixtures' cuts below.
    const frames = [...everyTypeAndCode(), ...fuzzed(5, 800).filter((f) => f.capLen === f.origLen)];
    const all = numbered(frames);
    expect(wirescopeFields(all.map(decodeFrame), FIELDS)).toEqual(tsharkFields(dir.file(all), FIELDS));
  });

  it('on every prefix of real error messages', () => {
    const errors = (name: string): Frame[] => readAll(fixture(name)).frames
      .filter((f) => decodeFrame(f).layers.some((l) => l instanceof IcmpLayer && (l.type === 3 || l.type === 11)));
    const real = [...errors('icmp-pmtu.pcap'), ...errors('traceroute.pcap').slice(0, 2)];
    expect(real.length).toBeGreaterThanOrEqual(3);
    // frame.protocols left out: what a quoted UDP probe's payload looks like to tshark's heuristics is not ICMP's.
    const fields = FIELDS.slice(1);
    for (const f of real) {
      const cuts = numbered(prefixes(f).slice(1));
      expect(wirescopeFields(cuts.map(decodeFrame), fields)).toEqual(tsharkFields(dir.file(cuts), fields));
    }
  });

  it('on the ICMP fixtures and corpus captures', () => {
    const files = ['icmp-echo.pcap', 'icmp-pmtu.pcap', 'icmp-port-unreachable.pcap', 'icmp-redirect.pcap', 'icmp-timestamp.pcap', 'traceroute.pcap'].map(fixture);
    if (hasCorpus) {
      for (const r of readTsv(path.join(corpusDir, 'MANIFEST.tsv'))) {
        if (/ICMP(?!v6)/.test(r.note) && /EN10MB|LINUX_SLL|IPV4/.test(r.link_types) && !r.path.endsWith('.gz')) files.push(path.join(corpusDir, r.path));
      }
    } else console.log('ICMP corpus fields skipped: ../shared/corpus is absent');
    // IPv4/ICMP fields only: frame.protocols and the fields of other protocols are other tests' business.
    const fields = FIELDS.filter((f) => f.startsWith('icmp.') || f === 'ip.src' || f === 'ip.proto');
    let rows = 0;
    for (const file of files) {
      const frames = readAll(file, { clipToSnaplen: false }).frames;
      const ours = wirescopeFields(frames.map(decodeFrame), fields);
      const lines = tsharkFields(file, ['frame.protocols', ...fields]);
      const theirs = lines.map((l) => l.slice(l.indexOf('\t') + 1));
      for (let k = 0; k < frames.length; k++) {
        // Only frames of IPv4 and ICMP (and the UDP or TCP header a quote holds): the rest are other tests' business.
        const list = (lines[k] ?? '').split('\t')[0].split(':');
        const quote = list.indexOf('icmp');
        if (!list.every((x, j) => ['eth', 'ethertype', 'vlan', 'ieee8021ad', 'sll', 'ip', 'icmp', 'data'].includes(x) ||
          (quote >= 0 && j > quote && (x === 'udp' || x === 'tcp')))) continue;
        expect(`${path.basename(file)} #${k + 1} ${ours[k]}`).toBe(`${path.basename(file)} #${k + 1} ${theirs[k]}`);
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(100);
  }, 600_000);
});
