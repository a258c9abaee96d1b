/**
 * IPv6 and the headers chained from it (hop-by-hop, destination options, routing, fragment, AH,
 * ESP): real frames field by field, encode/decode round trips, every prefix of real frames,
 * crafted and fuzzed headers against tcpdump, and the corpus's IPv6 captures against tcpdump
 * (text) and tshark (fields).
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer, type Layer, type Packet } from '../../src/core/dissector.js';
import { foldChecksum, sumWords } from '../../src/core/checksum.js';
import type { Frame } from '../../src/core/frame.js';
import { ethernet } from '../../dissectors/ethernet.js';
import { udp, UdpLayer } from '../../dissectors/udp.js';
import {
  destinationOptions, fragment, hopByHop, ipv6, Ipv6FragmentLayer, Ipv6Layer, Ipv6OptionsLayer, Ipv6RoutingLayer, parseIpv6, routing,
} from '../../dissectors/ipv6.js';
import { ah, AhLayer } from '../../dissectors/ah.js';
import { EspLayer } from '../../dissectors/esp.js';
import { icmpv6, Icmpv6Layer } from '../../dissectors/icmpv6.js';
import { ipProtoName } from '../../dissectors/ipproto.js';
import { corpusDir, frameProtocols, hasCorpus, hasTool, readTsv, repoRoot } from '../conformance/corpus.js';
import { readAll } from '../pcap/helpers.js';
import {
  TempDir, compareText, ethFrame, hexBytes, numbered, prefixes, rng, tcpdumpText, toHex, tsharkFields, wirescopeFields, wirescopeTextOf,
} from '../ip/helpers.js';

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!hasCorpus) console.log('IPv6 corpus tests skipped: ../shared/corpus is absent');
if (!haveTcpdump) console.log('IPv6 tests against tcpdump skipped: tcpdump is not installed');
if (!haveTshark) console.log('IPv6 tests against tshark skipped: tshark is not installed');

const fixture = (name: string): string => path.join(repoRoot, 'fixtures', name);
const corpus = (name: string): string => path.join(corpusDir, name);
const dir = new TempDir();
afterAll(() => dir.remove());

const SRC = '2001:db8::1';
const DST = '2001:db8::2';

/** An IPv6 header (payload length from the payload unless given) and its payload, as hex. */
function ip6Hex(nxt: number, payload: string, o: { plen?: number; hlim?: number; tclass?: number; flow?: number; version?: number } = {}): string {
  const h = new Uint8Array(40);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, (((o.version ?? 6) << 28) | ((o.tclass ?? 0) << 20) | (o.flow ?? 0)) >>> 0);
  dv.setUint16(4, o.plen ?? payload.length / 2);
  h[6] = nxt;
  h[7] = o.hlim ?? 64;
  h.set(parseIpv6(SRC), 8);
  h.set(parseIpv6(DST), 24);
  return toHex(h) + payload;
}

function ip6Frame(nxt: number, payload: string, o: Parameters<typeof ip6Hex>[2] = {}, number = 1): Frame {
  return ethFrame(ip6Hex(nxt, payload, o), number, '86dd');
}

function layerOf<T extends Layer>(p: Packet, cls: new () => T): T {
  const l = p.layers.find((x) => x instanceof cls);
  if (!l) throw new Error(`no ${cls.name} in ${p.layers.map((x) => x.dissector.name).join(':')}`);
  return l as T;
}

const names = (p: Packet): string[] => p.layers.map((l) => l.dissector.name);

/** IP protocols tcpdump hands to printers wirescope does not have (yet): their text is not this work's. */
const OTHER_PRINTERS = new Set([8, 9, 33, 46, 47, 55, 88, 89, 103, 108, 112, 113, 132, 143]);

describe.skipIf(!hasCorpus)('real IPv6 frames, field by field', () => {
  it('decodes the IPv6 header and a fragment header, and hands reassembly what it needs', () => {
    const frames = readAll(fixture('ipv6-fragments.pcap')).frames.map(decodeFrame);
    const first = frames[0];
    expect(names(first)).toEqual(['eth', 'ipv6', 'ipv6.fraghdr', 'icmpv6']);
    const ip = layerOf(first, Ipv6Layer);
    expect(ip).toMatchObject({ version: 6, tclass: 0, flow: 0x70382, plen: 1456, nxt: 44, hlim: 64, hdrLen: 40, payloadLen: 1456 });
    expect([ip.srcAddr, ip.dstAddr]).toEqual(['2001:db8:a::10', '2001:db8:b::20']);
    const f = layerOf(first, Ipv6FragmentLayer);
    expect(f).toMatchObject({ nxt: 58, fragOffset: 0, moreFragments: true, identification: 0x67807e94, fragment: true, hdrLen: 8 });
    expect(f.fragmentableStart).toBe(ip.off + 48);
    expect(f.nextHeaderFieldOff).toBe(ip.off + 6);
    expect(f.fragmentLength).toBe(1448);
    // A later fragment stops at its fragment header.
    const second = frames[1];
    expect(names(second)).toEqual(['eth', 'ipv6', 'ipv6.fraghdr']);
    expect(layerOf(second, Ipv6FragmentLayer)).toMatchObject({ fragOffset: 1448, moreFragments: true, fragmentLength: 1448 });
    expect(layerOf(frames[2], Ipv6FragmentLayer)).toMatchObject({ fragOffset: 2896, moreFragments: false, fragmentLength: 112 });
    const fields = ipv6.fields!;
    expect(fields['ipv6.flow'](ip, first)).toBe('0x070382');
    expect(fields['ipv6.tclass'](ip, first)).toBe('0x00000000');
    expect(fragment.fields!['ipv6.fraghdr.ident'](f, first)).toBe('0x67807e94');
    expect(fragment.fields!['ipv6.fraghdr.offset'](layerOf(second, Ipv6FragmentLayer), second)).toBe(181);
  });

  it('decodes hop-by-hop, destination options, a type 0 routing header and AH in one chain', () => {
    const p = decodeFrame(readAll(corpus('pcapplusplus/PacketExamples/ipv6_options.pcap')).frames[0]);
    expect(names(p)).toEqual(['eth', 'ipv6', 'ipv6.hopopts', 'ipv6.dstopts', 'ipv6.routing', 'ah']);
    const ip = layerOf(p, Ipv6Layer);
    expect(ip).toMatchObject({ tclass: 0xe0, hlim: 1, nxt: 0, plen: 104 });
    const [hbh, dst] = p.layers.filter((l) => l instanceof Ipv6OptionsLayer) as Ipv6OptionsLayer[];
    expect(hbh).toMatchObject({ nxt: 60, len: 0, hdrLen: 8 });
    expect(toHex(hbh.options)).toBe('050200000100');
    expect(hopByHop.fields!['ipv6.opt.router_alert'](hbh, p)).toEqual([0]);
    expect(dst).toMatchObject({ nxt: 43, hdrLen: 8 });
    expect(destinationOptions.fields!['ipv6.opt.type'](dst, p)).toEqual(['0x0b', '0x01']);
    const rt = layerOf(p, Ipv6RoutingLayer);
    expect(rt).toMatchObject({ nxt: 51, len: 2, type: 0, segLeft: 1, hdrLen: 24 });
    expect(rt.addresses).toEqual(['2200::210:2:0:0:4']);
    const a = layerOf(p, AhLayer);
    expect(a).toMatchObject({ nxt: 89, len: 4, spi: 0x100, seq: 0x20, hdrLen: 24 });
    expect(a.icv).toBe('35482148b2435a23dcdd5536');
    expect(ah.fields!['ah.spi'](a, p)).toBe('0x00000100');
  });

  it('takes the pseudo-header destination from the routing header (RFC 8200 8.1)', () => {
    const p = decodeFrame(readAll(corpus('zeek/chksums/ip6-route0-udp-good-chksum.pcap')).frames[0]);
    const ip = layerOf(p, Ipv6Layer);
    const rt = layerOf(p, Ipv6RoutingLayer);
    const u = layerOf(p, UdpLayer);
    expect(ip.finalDstOff).toBe(rt.off + 8 + 16 * ((rt.len >> 1) - 1));
    const n = u.length;
    expect(foldChecksum(sumWords(p.buf, u.off, u.off + n, ip.pseudoHeaderSum(17, n)))).toBe(0);
    // With the header's own destination the sum would not check out.
    const plain = Object.assign(Object.create(Ipv6Layer.prototype) as Ipv6Layer, ip, { finalDstOff: -1 });
    expect(foldChecksum(sumWords(p.buf, u.off, u.off + n, plain.pseudoHeaderSum(17, n)))).not.toBe(0);
  });

  it('takes the payload length from a jumbo payload option', () => {
    const p = decodeFrame(readAll(corpus('tcpdump/ipv6_jumbogram_1.pcap')).frames[0]);
    const ip = layerOf(p, Ipv6Layer);
    expect(ip).toMatchObject({ plen: 0, jumbo: 65536 });
    expect(layerOf(p, Icmpv6Layer).length).toBe(65528);
    expect(hopByHop.fields!['ipv6.opt.jumbo'](layerOf(p, Ipv6OptionsLayer), p)).toEqual([65536]);
  });

  it('reads ESP\'s SPI and sequence number', () => {
    const payload = '0000abcd00000007' + 'ee'.repeat(24);
    const p = decodeFrame(ip6Frame(50, payload));
    expect(names(p)).toEqual(['eth', 'ipv6', 'esp']);
    expect(layerOf(p, EspLayer)).toMatchObject({ spi: 0xabcd, seq: 7, hdrLen: 32, payloadLen: 0 });
  });

  it('keeps what a cut IPv6 header holds, as tshark shows it', () => {
    const f = ip6Frame(58, '80000000');
    const cut = { ...f, capLen: 14 + 30, data: f.data.subarray(0, 44) };
    const p = decodeFrame(cut);
    const ip = layerOf(p, Ipv6Layer);
    expect(ip.truncated).toBe(true);
    expect(ipv6.fields!['ipv6.src'](ip, p)).toBe(SRC);
    expect(ipv6.fields!['ipv6.dst'](ip, p)).toBeUndefined();
    expect(ipv6.fields!['ipv6.addr'](ip, p)).toEqual([SRC]);
  });
});

describe('encode', () => {
  it('builds a header chain with next headers, lengths, padding and the UDP checksum filled in', () => {
    const eth = makeLayer(ethernet, { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' });
    const ip = makeLayer(ipv6, { src: SRC, dst: DST, hlim: 33, tclass: 0x28, flow: 0x12345 });
    const hbh = makeLayer(hopByHop, { options: hexBytes('05020000') });
    const dst = makeLayer(destinationOptions, { options: hexBytes('1e0411223344') });
    const frag = makeLayer(fragment, { offlg: 0x0001, identification: 0xdeadbeef });
    const u = makeLayer(udp, { srcPort: 5000, dstPort: 9999 });
    const bytes = encodeStack([eth, ip, hbh, dst, frag, u], hexBytes('68656c6c6f'));
    const p = decodeFrame({ number: 1, linkType: 1, tsSec: 0, tsNsec: 0, capLen: bytes.length, origLen: bytes.length, data: bytes, ifIndex: 0 });
    expect(names(p)).toEqual(['eth', 'ipv6', 'ipv6.hopopts', 'ipv6.dstopts', 'ipv6.fraghdr', 'udp']);
    const dip = layerOf(p, Ipv6Layer);
    expect(dip).toMatchObject({ nxt: 0, plen: 8 + 8 + 8 + 8 + 5, hlim: 33, tclass: 0x28, flow: 0x12345 });
    expect([dip.srcAddr, dip.dstAddr]).toEqual([SRC, DST]);
    const [h, d] = p.layers.filter((l) => l instanceof Ipv6OptionsLayer) as Ipv6OptionsLayer[];
    // Four option bytes after the two-byte header pad to eight with a PadN; six fill the eight exactly.
    expect(toHex(h.options)).toBe('050200000100');
    expect(h.nxt).toBe(60);
    expect(toHex(d.options)).toBe('1e0411223344');
    expect(d.nxt).toBe(44);
    expect(layerOf(p, Ipv6FragmentLayer)).toMatchObject({ nxt: 17, moreFragments: true, identification: 0xdeadbeef });
    const du = layerOf(p, UdpLayer);
    expect(foldChecksum(sumWords(p.buf, du.off, du.off + 13, dip.pseudoHeaderSum(17, 13)))).toBe(0);
  });

  it('checksums over the final destination a built routing header names', () => {
    const eth = makeLayer(ethernet, { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' });
    const ip = makeLayer(ipv6, { src: SRC, dst: '2001:db8:ff::1', finalDst: DST });
    const rt = makeLayer(routing, { type: 0, segLeft: 2, addresses: ['2001:db8:ff::2', DST] });
    const u = makeLayer(udp, { srcPort: 1, dstPort: 2 });
    const bytes = encodeStack([eth, ip, rt, u], hexBytes('00'));
    const p = decodeFrame({ number: 1, linkType: 1, tsSec: 0, tsNsec: 0, capLen: bytes.length, origLen: bytes.length, data: bytes, ifIndex: 0 });
    const r = layerOf(p, Ipv6RoutingLayer);
    expect(r).toMatchObject({ len: 4, type: 0, segLeft: 2, nxt: 17 });
    expect(r.addresses).toEqual(['2001:db8:ff::2', DST]);
    const dip = layerOf(p, Ipv6Layer);
    const du = layerOf(p, UdpLayer);
    expect(foldChecksum(sumWords(p.buf, du.off, du.off + 9, dip.pseudoHeaderSum(17, 9)))).toBe(0);
  });

  it('parses IPv6 addresses in every notation and rejects malformed ones', () => {
    expect(toHex(parseIpv6('::'))).toBe('0'.repeat(32));
    expect(toHex(parseIpv6('::1'))).toBe('0'.repeat(31) + '1');
    expect(toHex(parseIpv6('2001:db8::1:2'))).toBe('20010db8000000000000000000010002');
    expect(toHex(parseIpv6('::ffff:192.0.2.1'))).toBe('00000000000000000000ffffc0000201');
    expect(toHex(parseIpv6('1:2:3:4:5:6:7:8'))).toBe('00010002000300040005000600070008');
    for (const bad of ['1:2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '::1.2.3', 'g::1', '1:2:3:4:5:6:7::8']) {
      expect(() => parseIpv6(bad), bad).toThrow();
    }
  });

  it('re-encodes decoded frames byte for byte', () => {
    const files = [fixture('ipv6-fragments.pcap'), fixture('ipv6-ndp-mld.pcap'), fixture('icmp6-echo.pcap'), fixture('icmp-pmtu.pcap')];
    if (hasCorpus) {
      files.push(...['pcapplusplus/PacketExamples/ipv6_options.pcap', 'libpcap/tests/filter/ipv6_ext_headers.pcap',
        'tcpdump/ipv6-routing-header.pcap', 'tcpdump/ipv6-srh-ext-header.pcap', 'libpcap/tests/filter/ipv6_ah_modes.pcap',
        'zeek/communityid/icmp6.pcap', 'zeek/icmp/icmp6-nd-options.pcap', 'tcpdump/icmpv6.pcap'].map(corpus));
    }
    let checked = 0;
    for (const file of files) {
      for (const f of readAll(file).frames) {
        const p = decodeFrame(f);
        const top = p.top!;
        if (top.truncated || !p.layers.some((l) => l instanceof Ipv6Layer) || p.layers.some((l) => !l.dissector.encode)) continue;
        const payload = p.payloadOf(top);
        const end = payload.end;
        const bytes = encodeStack(p.layers, p.buf.subarray(payload.start, end), { fixLengths: false, computeChecksums: false });
        expect(toHex(bytes), `${path.basename(file)} #${f.number}`).toBe(toHex(f.data.subarray(0, end)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(hasCorpus ? 100 : 30);
  });
});

/**
 * Protocol 62 (the mobility header's draft number) lacks its -v name "Mobile IP (old)" in
 * dissectors/ipproto.ts: left out until it has it.
 */
function unnamed(nh: number): boolean {
  return nh === 62 && ipProtoName(62) === 'unknown';
}

/** Hand-made headers for the corners of tcpdump's IPv6 printer. */
function craftedFrames(): Frame[] {
  const udp8 = '13881389000800';
  const icmpEcho = '800000000001000a';
  const frames: string[] = [
    // Every next header with eight zero bytes after the IPv6 header.
    ...Array.from({ length: 256 }, (_, nh) => (OTHER_PRINTERS.has(nh) || unnamed(nh) ? '' : ip6Hex(nh, '00'.repeat(8)))),
    ip6Hex(58, icmpEcho, { tclass: 0xb8, flow: 0xabcde, hlim: 1 }),
    ip6Hex(58, icmpEcho, { plen: 20 }),
    ip6Hex(58, icmpEcho, { plen: 0 }),
    ip6Hex(58, icmpEcho, { version: 4 }),
    ip6Hex(59, 'ffffffff'),
    // Hop-by-hop: Pad1s, PadN, router alert, jumbo (valid, too small, with a payload length, twice), bad lengths, unknown, home address.
    ip6Hex(0, '3a00' + '000000000000' + icmpEcho),
    ip6Hex(0, '3a000104000000000000' + icmpEcho.slice(0, 12)),
    ip6Hex(0, '3a00c2040001000a' + icmpEcho, { plen: 0 }),
    ip6Hex(0, '3a00c20400000100' + icmpEcho, { plen: 0 }),
    ip6Hex(0, '3a00c20400010010' + icmpEcho),
    ip6Hex(0, '3a01c20400010010c2040001002001' + '00' + icmpEcho, { plen: 0 }),
    ip6Hex(0, '3a00050300000000' + icmpEcho),
    ip6Hex(0, '3a0005020001' + '0000' + icmpEcho),
    ip6Hex(0, '3a00c20300000000' + icmpEcho, { plen: 0 }),
    ip6Hex(0, '3a00' + '3e0400000000' + icmpEcho),
    ip6Hex(0, '3a00' + '0106000000000000' + icmpEcho),
    ip6Hex(0, '3a02c910' + '20010db8000000000000000000000099' + '0100' + '0102aabb' + icmpEcho),
    ip6Hex(0, '3a01c90f' + '20010db8000000000000000000000099' + '00000000' + icmpEcho),
    ip6Hex(0, '3a00' + '000000000000', { plen: 0 }),
    // Hop-by-hop in the wrong place or twice; destination options at -v only.
    ip6Hex(60, '0000010400000000' + '3a00010400000000' + icmpEcho),
    ip6Hex(0, '0000010400000000' + '3a00010400000000' + icmpEcho),
    ip6Hex(60, '3a01' + 'c210000000010000' + '01040000000000' + icmpEcho.slice(0, 2) + icmpEcho),
    ip6Hex(60, '11000104000000' + '00' + udp8 + '00'),
    // Routing: type 0 with addresses and reserved bits, odd length, type 2, SRH, unknown type, cut.
    ip6Hex(43, '3a020001' + '00000000' + '20010db8000000000000000000000003' + icmpEcho),
    ip6Hex(43, '3a040002' + '01020304' + '20010db8000000000000000000000003' + '20010db8000000000000000000000004' + icmpEcho),
    ip6Hex(43, '3a010001' + '00000000' + '20010db8000000000000000000000003' + icmpEcho),
    ip6Hex(43, '3a020201' + '00000000' + '20010db8000000000000000000000005' + icmpEcho),
    ip6Hex(43, '3a040401' + '0105abcd' + '20010db8000000000000000000000006' + '20010db8000000000000000000000007' + icmpEcho),
    ip6Hex(43, '3a020401' + '0000abcd' + '20010db8000000000000000000000006' + icmpEcho),
    ip6Hex(43, '3a020301' + '00000000' + '20010db8000000000000000000000005' + icmpEcho),
    ip6Hex(43, '3a060001' + '00000000' + '20010db8000000000000000000000003', { plen: 200 }),
    // Fragments: first, later, atomic, one whose data length comes out negative, one with nothing after it.
    ip6Hex(44, '3a000001' + '12345678' + icmpEcho),
    ip6Hex(44, '3a0005a9' + '12345678' + 'abcdef0123456789'),
    ip6Hex(44, '11000000' + '00000001' + udp8 + '00'),
    ip6Hex(44, '3a000000' + '00000001', { plen: 0 }),
    ip6Hex(44, '3a000001' + '00000001'),
    ip6Hex(44, '3a000000' + '00000001' + icmpEcho, { plen: 4 }),
    // AH then ICMPv6, AH with reserved bits, AH with nothing after it; ESP; IPv6 in IPv6.
    ip6Hex(51, '3a040000' + '00001000' + '00000009' + '0102030405060708090a0b0c' + icmpEcho),
    ip6Hex(51, '3b01ffff' + '00001000' + '0000000a' + '00000000'),
    ip6Hex(51, '3a02'),
    ip6Hex(50, '0000abcd00000007' + 'ee'.repeat(24)),
    ip6Hex(50, '0000abcd'),
    ip6Hex(41, ip6Hex(58, icmpEcho)),
    ip6Hex(4, '450000200001000040018c7bc0000201c0000202' + '08000000000100010000000000000000'),
    ip6Hex(43, '3b000000' + '00000000'),
    // Mobility headers (RFC 6275): each message type, options, a header too short for its type, protocol 62.
    ip6Hex(135, '3b010500' + '0000' + '03e8' + '8000' + '00e1' + '01020000'),
    ip6Hex(135, '3b010600' + '0000' + '0080' + '03e8' + '00e1' + '00000000'),
    ip6Hex(135, '3b020700' + '0000' + '0100' + '20010db8000000000000000000000077'),
    ip6Hex(135, '3b020300' + '0000' + '1234' + '0102030405060708' + '1112131415161718'),
    ip6Hex(135, '3b010200' + '0000' + '0000' + 'a1a2a3a4a5a6a7a8'),
    ip6Hex(135, '3b000900' + '00000000'),
    ip6Hex(135, '3b000500' + '00000000'),
    ip6Hex(135, '3b060500' + '0000' + '0001' + 'f000' + '0010' + '02020010' + '040411112222' + '0310' + '20010db8000000000000000000000078' +
      '050a' + '0102030405060708090a' + '0900' + '0000'),
    unnamed(62) ? '' : ip6Hex(62, '3b010500' + '0000' + '0002' + '4000' + '0001' + '01020000' + 'ff'),
    ip6Hex(60, '3a00' + '000000000000' + '00', { plen: 8 }),
  ].filter((h) => h.length > 0);
  return frames.map((h, k) => ethFrame(h, k + 1, '86dd'));
}

describe.skipIf(!haveTcpdump)('text identical to tcpdump', () => {
  it('prints crafted headers: every next header, options, routing types, fragments, AH, ESP, jumbograms', () => {
    const frames = craftedFrames();
    for (const flags of [['-n'], ['-nv'], ['-nvv'], ['-ne'], ['-nvx'], ['-nq']]) {
      const c = compareText(dir, frames, flags);
      expect(c.diffs).toEqual([]);
      expect(c.compared).toBeGreaterThanOrEqual(frames.length);
    }
  });

  it('prints every prefix of real extension-header chains', () => {
    const real: Frame[] = [...readAll(fixture('ipv6-fragments.pcap')).frames.slice(0, 2), readAll(fixture('ipv6-ndp-mld.pcap')).frames[0]];
    if (hasCorpus) {
      real.push(readAll(corpus('pcapplusplus/PacketExamples/ipv6_options.pcap')).frames[0]);
      real.push(readAll(corpus('tcpdump/ipv6-routing-header.pcap')).frames[1]);
      real.push(readAll(corpus('tcpdump/ipv6-srh-ext-header.pcap')).frames[0]);
      real.push(readAll(corpus('zeek/ipv6-http-atomic-frag.pcap')).frames[3]);
    }
    let compared = 0;
    for (const f of real) {
      // Cut no further than where a protocol whose printer is not this work's begins.
      const other = decodeFrame(f).layers.find((l) => OTHER_PRINTERS.has(l.nextKey));
      const last = Math.min(f.capLen, 160, other ? other.off + other.hdrLen - 1 : Infinity);
      const cuts = numbered(prefixes(f).slice(1, last + 1));
      for (const p of cuts.map(decodeFrame)) expect(p.error).toBeNull();
      for (const flags of [['-n'], ['-nv'], ['-nvx']]) {
        const c = compareText(dir, cuts, flags);
        compared += c.compared;
        expect(c.diffs).toEqual([]);
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('prints 1500 fuzzed header chains', () => {
    const frames = fuzzed(7, 1500);
    for (const flags of [['-n'], ['-nv'], ['-nvx']]) {
      const c = compareText(dir, frames, flags);
      expect(c.diffs).toEqual([]);
      expect(c.compared).toBeGreaterThanOrEqual(1500);
    }
  });
});

/**
 * Real chains with random bytes changed in the IPv6 and extension headers, keeping frames whose
 * headers all lead to printers wirescope has.
 */
function fuzzed(seed: number, n: number): Frame[] {
  const random = rng(seed);
  const bases = craftedFrames().filter((f) => f.data[20] === 0 || f.data[20] === 43 || f.data[20] === 44 || f.data[20] === 60 || f.data[20] === 51);
  const out: Frame[] = [];
  for (let k = 0; out.length < n && k < n * 20; k++) {
    const base = bases[Math.floor(random() * bases.length)];
    const data = base.data.slice();
    const hdrEnd = Math.min(data.length, 14 + 40 + 48);
    for (let m = 1 + Math.floor(random() * 3); m > 0; m--) {
      const at = 14 + 4 + Math.floor(random() * (hdrEnd - 18));
      data[at] = random() < 0.5 ? Math.floor(random() * 256) : data[at] ^ (1 << Math.floor(random() * 8));
    }
    const cap = random() < 0.3 ? 14 + Math.floor(random() * (data.length - 13)) : data.length;
    const f: Frame = { ...base, number: out.length + 1, capLen: cap, data: data.subarray(0, cap), origLen: data.length };
    const p = decodeFrame(f);
    expect(p.error).toBeNull();
    if (p.layers.some((l) => l.nextKey >= 0 && OTHER_PRINTERS.has(l.nextKey)) || p.layers.some((l) => l.dissector.name === 'udp' || l.dissector.name === 'tcp')) continue;
    out.push(f);
  }
  return out;
}

/** tshark's protocols whose text is this work's (or the link below it): packets with others are other tests' business. */
const OWN = new Set(['eth', 'ethertype', 'vlan', 'sll', 'null', 'raw', 'ipv6', 'ipv6.hopopts', 'ipv6.routing', 'ipv6.fraghdr',
  'ipv6.dstopts', 'ah', 'esp', 'mipv6', 'icmpv6', 'data']);

function ownPacket(protocols: string | undefined): boolean {
  if (!protocols) return false;
  const list = protocols.split(':');
  const quote = list.indexOf('icmpv6');
  // An ICMPv6 error's quoted packet may hold UDP or TCP: tcpdump prints only its port.
  return list.every((x, k) => OWN.has(x) || (quote >= 0 && k > quote && (x === 'udp' || x === 'tcp')));
}

/** Packets whose tcpdump text needs printers outside this work, by file and packet number, with the reason. */
const KNOWN_TEXT: Record<string, string> = {
  'ipv6-srh-ipproto-ether.pcap#1': 'Ethernet in IPv6 (next header 143): the Ethernet dissector is not bound in IpProto',
  'cve2015-0261-ipv6.pcap': 'SLIP link type, which wirescope does not read',
  'icmp6_nodeinfo_oobr.pcap': 'SLIP link type, which wirescope does not read',
  'mobility_opt_asan.pcap': 'dissectors/ipproto.ts has no name for protocol 62 ("Mobile IP (old)") in -v output',
  'ipv6-mobility-header-oobr.pcap': 'dissectors/ipproto.ts has no name for protocol 62 ("Mobile IP (old)") in -v output',
};

/** A capture's frames (cut to the snapshot length as libpcap does, or whole as tshark reads them); none when the reader refuses the file. */
function framesOf(file: string, clipToSnaplen = true): Frame[] {
  try {
    return readAll(file, { clipToSnaplen }).frames;
  } catch {
    return [];
  }
}

/** The corpus captures holding IPv6: by tshark's protocols, or by name. */
function corpusFiles(): string[] {
  return readTsv(path.join(corpusDir, 'MANIFEST.tsv'))
    .filter((r) => !r.path.endsWith('.gz') && (/ipv6/.test(r.protocols_seen) || /ip6|ipv6|icmp6|icmpv6/.test(r.path)))
    .map((r) => corpus(r.path));
}

describe.skipIf(!hasCorpus || !haveTcpdump)('corpus text identical to tcpdump', () => {
  it('matches on the IPv6 and ICMPv6 packets of the corpus and the fixtures, at -n, -v, -vv, -e, -x and tcpdump\'s own flags', () => {
    const runs: Array<[string, string[]]> = [];
    const files = [...corpusFiles(), ...['icmp6-echo.pcap', 'ipv6-fragments.pcap', 'ipv6-ndp-mld.pcap', 'icmp-pmtu.pcap', 'icmp-port-unreachable.pcap'].map(fixture)];
    for (const f of files) for (const flags of [['-n'], ['-n', '-v'], ['-n', '-vv'], ['-n', '-e'], ['-n', '-x']]) runs.push([f, flags]);
    const inCorpus = new Set(files);
    for (const t of readTsv(path.join(corpusDir, 'tcpdump/TESTS.tsv'))) {
      const file = corpus(t.pcap);
      if (!inCorpus.has(file)) continue;
      const words = t.effective_command.replace(/^TZ=\S+ tcpdump /, '').split(/\s+/).filter((w) => w && w !== '-r' && w !== 'FILE' && w !== '-#');
      if (words.every((w) => /^-[nvtxXAeqSK]+$/.test(w))) runs.push([file, words]);
    }
    let compared = 0, identical = 0, packets = 0;
    const diffs: string[] = [];
    const protoCache = new Map<string, Map<number, string>>();
    for (const [file, flags] of runs) {
      let protos = protoCache.get(file);
      if (!protos) protoCache.set(file, (protos = frameProtocols(file)));
      const frames = framesOf(file);
      const want = tcpdumpText(file, flags);
      const got = wirescopeTextOf(frames, flags);
      for (const [n, a] of want) {
        if (!ownPacket(protos.get(n)) || KNOWN_TEXT[`${path.basename(file)}#${n}`] || KNOWN_TEXT[path.basename(file)]) continue;
        const b = got.get(n) ?? [];
        packets++;
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
          compared++;
          if (a[i] === b[i]) identical++;
          else if (diffs.length < 20) diffs.push(`${path.basename(file)} ${flags.join(' ')} #${n}\n  tcpdump:   ${a[i]}\n  wirescope: ${b[i]}`);
        }
      }
    }
    console.log(`IPv6/ICMPv6 corpus text: ${identical}/${compared} lines identical over ${packets} packet printings (${runs.length} runs)`);
    expect(diffs).toEqual([]);
    expect(packets).toBeGreaterThan(1500);
  }, 600_000);
});

const FIELDS = ['ipv6.version', 'ipv6.tclass', 'ipv6.tclass.dscp', 'ipv6.tclass.ecn', 'ipv6.flow', 'ipv6.plen', 'ipv6.nxt',
  'ipv6.hlim', 'ipv6.src', 'ipv6.dst', 'ipv6.addr', 'ipv6.hopopts.nxt', 'ipv6.hopopts.len', 'ipv6.hopopts.len_oct',
  'ipv6.dstopts.nxt', 'ipv6.dstopts.len', 'ipv6.dstopts.len_oct', 'ipv6.opt.type', 'ipv6.opt.length', 'ipv6.opt.router_alert',
  'ipv6.opt.jumbo', 'ipv6.routing.nxt', 'ipv6.routing.len', 'ipv6.routing.len_oct', 'ipv6.routing.type', 'ipv6.routing.segleft',
  'ipv6.routing.src.addr', 'ipv6.routing.srh.last_entry', 'ipv6.routing.srh.flags', 'ipv6.routing.srh.tag', 'ipv6.routing.srh.addr',
  'ipv6.fraghdr.nxt', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more', 'ipv6.fraghdr.ident', 'ipv6.fraghdr.reserved_octet',
  'ah.next_header', 'ah.length', 'ah.spi', 'ah.sequence', 'ah.icv', 'esp.spi', 'esp.sequence', 'mip6.proto', 'mip6.hlen',
  'mip6.mhtype', 'mip6.csum'];

/** Files where tshark decodes what wirescope does not (yet), with the reason. */
const KNOWN_FIELDS: Record<string, string> = {
  'AH-IPcomp-IPv6.pcap': 'tshark decompresses IPComp and shows the IPv6 packet inside',
  'ipv6-srh-ipproto-ether.pcap': 'Ethernet in IPv6 (next header 143) is not decoded',
  'kday1.pcap': 'tshark decodes IPv6 under EtherType IPv4',
  'pcap-invalid-version-2.pcap': 'a capture file the reader refuses',
  'bad-ipv4-version-pgm-heapoverflow.pcap': 'tshark decodes IPv6 under EtherType IPv4',
  'beep-oobr.pcap': 'tshark decodes a raw-IP version 3 packet as IPv6',
  'hoobr_rt6_print.pcap': 'tshark decodes a raw-IP version 3 packet as IPv6',
  'ipv6-too-long-jumbo.pcap': 'tshark ends the option list where its jumbo length check throws',
  'ipv6_jumbogram_invalid_length.pcap': 'tshark checks the ICMPv6 checksum of a jumbogram cut short',
};

describe.skipIf(!hasCorpus || !haveTshark)('fields identical to tshark', () => {
  it('on the crafted headers', () => {
    // Next headers of this work's (others, such as 48 or 53, tshark hands to heuristics of its own).
    const mine = new Set([0, 43, 44, 50, 51, 58, 59, 60]);
    const frames = numbered(craftedFrames().filter((f) => mine.has(f.data[20])));
    expect(wirescopeFields(frames.map(decodeFrame), FIELDS)).toEqual(tsharkFields(dir.file(frames), FIELDS));
  });

  it('on the IPv6 captures of the corpus and the fixtures', () => {
    const files = [...corpusFiles(), ...['icmp6-echo.pcap', 'ipv6-fragments.pcap', 'ipv6-ndp-mld.pcap'].map(fixture)];
    let rows = 0;
    for (const file of files) {
      if (KNOWN_FIELDS[path.basename(file)]) continue;
      const frames = framesOf(file, false);
      const ours = wirescopeFields(frames.map(decodeFrame), FIELDS);
      const theirs = tsharkFields(file, FIELDS);
      for (let k = 0; k < frames.length; k++) {
        expect(`${path.basename(file)} #${k + 1} ${ours[k]}`).toBe(`${path.basename(file)} #${k + 1} ${theirs[k]}`);
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(5000);
  }, 600_000);
});
