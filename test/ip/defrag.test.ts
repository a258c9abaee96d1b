/**
 * IP reassembly (src/ip/defrag.ts): the datagram's bytes, the frame that shows it, overlaps,
 * duplicates and bounds; tshark's fields on the corpus and fixture captures with fragments and
 * on built fragment sets full of overlaps, duplicates and extra tails (IPv4 and IPv6).
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { decodeFrame, type Packet } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { Defragmenter } from '../../src/ip/defrag.js';
import { FRAG_CONFLICT, FRAG_MULTIPLE_TAILS, FRAG_OVERLAP, FRAG_TOO_LONG } from '../../src/ip/reassembly.js';
import { Ipv4Layer } from '../../dissectors/ipv4.js';
import { IcmpLayer } from '../../dissectors/icmp.js';
import { corpusDir, hasCorpus, hasTool, repoRoot } from '../conformance/corpus.js';
import { readAll } from '../pcap/helpers.js';
import { TempDir, ethFrame, hex2, icmpHex, ipv4Hex, numbered, rng, toHex, tsharkFields, wirescopeFields } from './helpers.js';

const haveTshark = hasTool('tshark');
if (!haveTshark) console.log('reassembly tests against tshark skipped: tshark is not installed');
const dir = new TempDir();
afterAll(() => dir.remove());

/** A datagram's payload cut into fragments [offset, bytes, more]: IPv4 frames, id and protocol as given. */
function v4Fragments(parts: Array<[number, number[], boolean]>, o: { id?: number; proto?: number; src?: string; first?: number; sec?: number } = {}): Frame[] {
  return parts.map(([off, bytes, more], k) => {
    const f = ethFrame(ipv4Hex({
      proto: o.proto ?? 99, id: o.id ?? 0x4242, src: o.src, flagsFrag: (more ? 0x2000 : 0) | (off >> 3), payload: bytes.map(hex2).join(''),
    }), (o.first ?? 1) + k);
    f.tsSec = o.sec ?? 1_700_000_000;
    f.tsNsec = k * 1000;
    return f;
  });
}

/** An IPv6 frame (Ethernet) with a fragment header: 2001:db8::1 > 2001:db8::2, next header nxt after reassembly. */
function v6Fragment(off: number, bytes: number[], more: boolean, id: number, nxt: number, number: number): Frame {
  const frag = hex2(nxt) + '00' + ((off | (more ? 1 : 0)) & 0xffff).toString(16).padStart(4, '0') + id.toString(16).padStart(8, '0');
  const payload = frag + bytes.map(hex2).join('');
  const plen = payload.length / 2;
  const hdr = '60000000' + plen.toString(16).padStart(4, '0') + '2c40' + '20010db8000000000000000000000001' + '20010db8000000000000000000000002';
  const f = ethFrame(hdr + payload, number, '86dd');
  f.tsSec = 1_700_000_000;
  f.tsNsec = number * 1000;
  return f;
}

function pushAll(frames: Frame[], d = new Defragmenter()): Packet[] {
  return frames.map((f) => d.push(decodeFrame(f)));
}

const names = (p: Packet): string[] => p.layers.map((l) => l.dissector.name);

describe('reassembling IPv4', () => {
  const data = Array.from({ length: 40 }, (_, i) => (i * 7) & 0xff);

  it('shows the datagram on the fragment that completes it, in any order', () => {
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
      const parts: Array<[number, number[], boolean]> = [[0, data.slice(0, 16), true], [16, data.slice(16, 32), true], [32, data.slice(32), false]];
      const frames = v4Fragments(order.map((k) => parts[k]));
      const out = pushAll(frames);
      for (const p of out.slice(0, 2)) expect(names(p)).toEqual(['eth', 'ip']);
      const last = out[2];
      const ip = last.layers[1] as Ipv4Layer;
      expect(ip.reassembly).not.toBeNull();
      expect(Array.from(ip.reassembly!.data)).toEqual(data);
      expect(ip.reassembly!.fragments.map((f) => f.offset)).toEqual([0, 16, 32]);
      // Frames in offset order: the frame that carried part k is order.indexOf(k) + 1.
      expect(ip.reassembly!.frames(false)).toEqual(parts.map((_, k) => order.indexOf(k) + 1));
      // The frame's own header is unchanged; only its copy carries the datagram.
      expect((decodeFrame(frames[2]).layers[1] as Ipv4Layer).reassembly).toBeNull();
    }
  });

  it('decodes the reassembled payload with the upper dissectors', () => {
    const echo = Array.from(Buffer.from(icmpHex(8, 0, '12340007', '61'.repeat(40)), 'hex'));
    const out = pushAll(v4Fragments([[24, echo.slice(24), false], [0, echo.slice(0, 24), true]], { proto: 1 }));
    expect(names(out[0])).toEqual(['eth', 'ip']);
    expect(names(out[1])).toEqual(['eth', 'ip', 'icmp']);
    const icmp = out[1].layers[2] as IcmpLayer;
    expect(icmp).toMatchObject({ type: 8, seq: 7, fragmented: false, length: 48 });
    // The completing fragment has MF set; its copy says the payload above it is whole.
    expect((out[1].layers[1] as Ipv4Layer).moreFragments).toBe(false);
    expect((out[1].layers[1] as Ipv4Layer).flagsFrag & 0x2000).toBe(0x2000);
  });

  it('keeps the first pieces of overlapping data and flags overlaps as Wireshark does', () => {
    const other = data.map((b) => b ^ 0xff);
    const out = pushAll(v4Fragments([[0, data.slice(0, 24), true], [8, other.slice(8, 16), true], [16, data.slice(16, 40), false]]));
    const r = (out[2].layers[1] as Ipv4Layer).reassembly!;
    expect(Array.from(r.data)).toEqual(data);
    expect(r.fragments.map((f) => f.flags)).toEqual([0, FRAG_OVERLAP | FRAG_CONFLICT, FRAG_OVERLAP]);
    expect(r.frames(false)).toEqual([1, 3]);
    expect(r.frames(true)).toEqual([2]);
  });

  it('flags a second tail and a fragment past the end', () => {
    const out = pushAll(v4Fragments([[16, data.slice(16, 32), false], [16, data.slice(16, 40), false], [0, data.slice(0, 16), true]]));
    const r = (out[2].layers[1] as Ipv4Layer).reassembly!;
    expect(r.length).toBe(32);
    // In offset order: frame 3 at 0, then frames 1 and 2 at 16 in arrival order.
    expect(r.fragments.map((f) => f.frame)).toEqual([3, 1, 2]);
    expect(r.fragments.map((f) => f.flags)).toEqual([0, 0, FRAG_OVERLAP | FRAG_TOO_LONG | FRAG_MULTIPLE_TAILS]);
  });

  it('starts over after a completed datagram: a late duplicate does not complete anything', () => {
    const d = new Defragmenter();
    pushAll(v4Fragments([[0, data.slice(0, 16), true], [16, data.slice(16), false]]), d);
    expect(d.pending).toBe(0);
    const again = pushAll(v4Fragments([[16, data.slice(16), false]], { first: 3 }), d);
    expect(names(again[0])).toEqual(['eth', 'ip']);
    expect((again[0].layers[1] as Ipv4Layer).reassembly).toBeNull();
    expect(d.pending).toBe(1);
  });

  it('keys by addresses, protocol and id', () => {
    const d = new Defragmenter();
    const a = v4Fragments([[0, data.slice(0, 16), true]], { id: 1 });
    const b = v4Fragments([[16, data.slice(16), false]], { id: 2, first: 2 });
    const c = v4Fragments([[16, data.slice(16), false]], { id: 1, proto: 98, first: 3 });
    const out = pushAll([...a, ...b, ...c], d);
    expect(out.every((p) => !(p.layers[1] as Ipv4Layer).reassembly)).toBe(true);
    expect(d.pending).toBe(3);
  });

  it('leaves alone what tshark does not reassemble: unfragmented, cut-short and empty fragments', () => {
    const whole = v4Fragments([[0, data, false]]);
    const p = decodeFrame(whole[0]);
    expect(new Defragmenter().push(p)).toBe(p);
    const cut = v4Fragments([[0, data.slice(0, 16), true]])[0];
    cut.capLen -= 4;
    cut.data = cut.data.subarray(0, cut.capLen);
    const d = new Defragmenter();
    const q = decodeFrame(cut);
    expect(d.push(q)).toBe(q);
    expect(d.pending).toBe(0);
  });

  it('bounds memory: per datagram, in total, in count and by capture time', () => {
    const one = (id: number, sec: number, n: number): Frame => v4Fragments([[0, data.slice(0, 16), true]], { id, sec, first: n })[0];
    const byCount = new Defragmenter({ maxDatagrams: 4 });
    for (let k = 0; k < 10; k++) byCount.push(decodeFrame(one(k, 1_700_000_000, k + 1)));
    expect(byCount.pending).toBe(4);
    expect(byCount.dropped).toBe(6);
    const byBytes = new Defragmenter({ maxTotalBytes: 40 });
    for (let k = 0; k < 10; k++) byBytes.push(decodeFrame(one(k, 1_700_000_000, k + 1)));
    expect(byBytes.pending).toBe(2);
    const perDatagram = new Defragmenter({ maxDatagramBytes: 40 });
    for (let k = 0; k < 3; k++) perDatagram.push(decodeFrame(one(7, 1_700_000_000, k + 1)));
    expect(perDatagram.pending).toBe(0);
    expect(perDatagram.dropped).toBe(1);
    const byTime = new Defragmenter({ timeout: 30 });
    byTime.push(decodeFrame(one(1, 1_700_000_000, 1)));
    byTime.push(decodeFrame(one(2, 1_700_000_020, 2)));
    expect(byTime.pending).toBe(2);
    // The rest of datagram 1 comes 31 s after its first fragment: too late.
    const late = v4Fragments([[16, data.slice(16), false]], { id: 1, sec: 1_700_000_031, first: 3 });
    const out = byTime.push(decodeFrame(late[0]));
    expect((out.layers[1] as Ipv4Layer).reassembly).toBeNull();
    expect(byTime.dropped).toBe(1);
  });

  it('reassembles fragments a quoted datagram holds, as tshark does', () => {
    const innerPart = (more: boolean, off: number, bytes: number[]): string => ipv4Hex({ proto: 99, id: 9, flagsFrag: (more ? 0x2000 : 0) | (off >> 3), payload: bytes.map(hex2).join('') });
    const frames = [
      ethFrame(ipv4Hex({ proto: 1, payload: icmpHex(3, 1, '00000000', innerPart(true, 0, data.slice(0, 8))) }), 1),
      ethFrame(ipv4Hex({ proto: 1, payload: icmpHex(3, 1, '00000000', innerPart(false, 8, data.slice(8, 16))) }), 2),
    ];
    const out = pushAll(frames);
    const quoted = (out[1].layers[2] as IcmpLayer).nested[0];
    const ip = quoted.layers[0] as Ipv4Layer;
    expect(Array.from(ip.reassembly!.data)).toEqual(data.slice(0, 16));
    // The frame's own decode is untouched.
    expect((decodeFrame(frames[1]).layers[2] as IcmpLayer).nested[0].layers[0]).not.toBe(ip);
  });
});

describe('reassembling IPv6', () => {
  it('shows the datagram after the fragment header on the completing frame', () => {
    const udp = [0x9c, 0x40, 0x9c, 0x41, 0x00, 0x30, 0x00, 0x00, ...Array.from({ length: 40 }, (_, i) => i)];
    const out = pushAll([v6Fragment(24, udp.slice(24), false, 77, 17, 1), v6Fragment(0, udp.slice(0, 24), true, 77, 17, 2)]);
    expect(names(out[0])).toEqual(['eth', 'ipv6', 'ipv6.fraghdr']);
    expect(names(out[1])).toEqual(['eth', 'ipv6', 'ipv6.fraghdr', 'udp']);
    expect(toHex(out[1].buf.subarray(out[1].layers[3].off))).toBe(toHex(Uint8Array.from(udp)));
    expect((out[1].layers[2] as unknown as { fragment: boolean }).fragment).toBe(false);
  });
});

/** Random fragment sets of random datagrams: cuts, duplicates, changed copies, overlaps, extra tails, losses, shuffles. */
function scenarios(seed: number, count: number, build: (id: number, off: number, bytes: number[], more: boolean, n: number) => Frame): Frame[] {
  const r = rng(seed);
  const ri = (n: number): number => Math.floor(r() * n);
  const frames: Frame[] = [];
  for (let s = 0; s < count; s++) {
    const len = 8 * (1 + ri(12)) + ri(8);
    const data = Array.from({ length: len }, () => ri(256));
    const cuts = [0];
    while (cuts[cuts.length - 1] < len) cuts.push(Math.min(len, cuts[cuts.length - 1] + 8 * (1 + ri(4))));
    const fr: Array<{ off: number; bytes: number[]; more: boolean }> = [];
    for (let k = 0; k + 1 < cuts.length; k++) fr.push({ off: cuts[k], bytes: data.slice(cuts[k], cuts[k + 1]), more: k + 2 < cuts.length });
    for (let e = ri(4); e > 0; e--) {
      const kind = ri(5);
      if (kind === 0 && fr.length) fr.push({ ...fr[ri(fr.length)] });
      else if (kind === 1 && fr.length) { const f = fr[ri(fr.length)]; fr.push({ ...f, bytes: f.bytes.map((b) => (r() < 0.3 ? b ^ 1 : b)) }); }
      else if (kind === 2) { const off = 8 * ri(Math.ceil(len / 8) + 1); fr.push({ off, bytes: Array.from({ length: 1 + ri(24) }, (_, i) => (r() < 0.5 ? data[off + i] ?? 7 : ri(256))), more: r() < 0.7 }); }
      else if (kind === 3) fr.push({ off: 8 * ri(Math.ceil(len / 8)), bytes: Array.from({ length: 8 + ri(16) }, () => ri(256)), more: false });
      else if (fr.length > 1) fr.splice(ri(fr.length), 1);
    }
    for (let k = fr.length - 1; k > 0; k--) if (r() < 0.5) { const j = ri(k + 1); [fr[k], fr[j]] = [fr[j], fr[k]]; }
    for (const f of fr) frames.push(build(0x100 + s, f.off, f.bytes, f.more, frames.length + 1));
  }
  return frames;
}

describe.skipIf(!haveTshark)('tshark reassembles the same', () => {
  const V4 = ['frame.protocols', 'ip.id', 'ip.fragment', 'ip.fragment.error', 'ip.fragment.count', 'ip.reassembled.length',
    'ip.fragment.overlap', 'ip.fragment.overlap.conflict', 'ip.fragment.multipletails', 'ip.fragment.toolongfragment', 'ip.reassembled.data'];

  it('on 300 IPv4 datagrams of overlapping, duplicated, lost and shuffled fragments', () => {
    const frames = scenarios(3, 300, (id, off, bytes, more, n) => {
      // Private and public sources (the VLAN id joins the key for private ones); protocols without a heuristic dissector.
      const f = ethFrame(ipv4Hex({ proto: [99, 253][id & 1], id, src: id & 2 ? '10.0.0.1' : '192.0.2.1', flagsFrag: (more ? 0x2000 : 0) | (off >> 3), payload: bytes.map(hex2).join('') }), n);
      f.tsSec = 1_700_000_000;
      f.tsNsec = n * 1000;
      return f;
    });
    const file = dir.file(frames);
    expect(wirescopeFields(frames.map(decodeFrame), V4)).toEqual(tsharkFields(file, V4));
  });

  it('on 200 IPv6 datagrams of the same kind', () => {
    const fields = ['frame.protocols', 'ipv6.fraghdr.ident', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more'];
    const frames = scenarios(8, 200, (id, off, bytes, more, n) => v6Fragment(off, bytes, more, id, 59, n));
    const file = dir.file(frames);
    expect(wirescopeFields(frames.map(decodeFrame), fields)).toEqual(tsharkFields(file, fields));
  });

  it('on the fixtures and corpus captures with fragments', () => {
    const files = ['ipv4-fragments.pcap', 'ipv6-fragments.pcap', 'icmp-pmtu.pcap'].map((n) => path.join(repoRoot, 'fixtures', n));
    if (hasCorpus) {
      files.push(...['zeek/ipv4/fragmented-1.pcap', 'zeek/ipv4/fragmented-2.pcap', 'zeek/ipv4/fragmented-3.pcap', 'zeek/ipv4/fragmented-4.pcap',
        'zeek/ipv4/fragmented-syn.pcap', 'pcapplusplus/PcapExamples/frag_http_req.pcap', 'pcapplusplus/PcapExamples/frag_with_padding.pcap',
        'pcapplusplus/PcapExamples/ip4_fragments.pcap', 'pcapplusplus/PacketExamples/IPv4Frag.pcap', 'pcapplusplus/ExamplesTest/ipv6-frag.pcap',
        'pcapplusplus/PcapExamples/ip6_fragments.pcap', 'pcapplusplus/PacketExamples/ipv6_opt_fragments.pcap', 'zeek/ipv6-fragmented-dns.pcap',
        'zeek/dns-edns-ecs.pcap', 'libpcap/tests/filter/ah-ipip-ping.pcap'].map((n) => path.join(corpusDir, n)));
    } else console.log('reassembly corpus comparison skipped: ../shared/corpus is absent');
    // The reassembly fields and what the reassembled datagram starts with; upper protocols' own fields are their tests'.
    const fields = [...V4.slice(1), 'ipv6.fraghdr.ident', 'udp.srcport', 'udp.length', 'tcp.srcport', 'icmp.type', 'icmp.seq'];
    let rows = 0;
    for (const file of files) {
      const frames = readAll(file, { clipToSnaplen: false }).frames;
      const ours = wirescopeFields(frames.map(decodeFrame), fields);
      const theirs = tsharkFields(file, fields);
      for (let k = 0; k < frames.length; k++) expect(`${path.basename(file)} #${k + 1} ${ours[k]}`).toBe(`${path.basename(file)} #${k + 1} ${theirs[k]}`);
      rows += frames.length;
    }
    expect(rows).toBeGreaterThan(20);
  }, 300_000);
});

describe('tshark order of fragment frames', () => {
  it('lists frames by offset, earlier arrivals first among equal offsets', () => {
    const eight = [9, 9, 9, 9, 9, 9, 9, 9];
    const out = pushAll(numbered(v4Fragments([[0, eight, true], [0, eight, true], [8, [1, 2, 3, 4, 5, 6, 7, 8], false]])));
    const r = (out[2].layers[1] as Ipv4Layer).reassembly!;
    expect(r.fragments.map((f) => f.frame)).toEqual([1, 2, 3]);
    expect(r.fragments.map((f) => f.flags)).toEqual([0, FRAG_OVERLAP, 0]);
    expect(r.count).toBe(3);
  });
});
