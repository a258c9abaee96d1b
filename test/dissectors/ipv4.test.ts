/**
 * IPv4: real headers decoded field by field, encode/decode round trips, every prefix of real and
 * built frames against tcpdump, fuzzed options against tcpdump -v, tshark's ip.* fields, and
 * text conformance on the corpus captures with IPv4 options, fragments and ICMP.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer, type Packet } from '../../src/core/dissector.js';
import { foldChecksum, sumWords } from '../../src/core/checksum.js';
import type { Frame } from '../../src/core/frame.js';
import { ethernet } from '../../dissectors/ethernet.js';
import { checksumShouldBe, ipv4, Ipv4Layer } from '../../dissectors/ipv4.js';
import { icmp, IcmpLayer } from '../../dissectors/icmp.js';
import { corpusDir, hasCorpus, hasTool, readTsv, repoRoot } from '../conformance/corpus.js';
import { readAll } from '../pcap/helpers.js';
import {
  TempDir, compareText, ethFrame, hex2, hexBytes, icmpHex, ipv4Hex, numbered, prefixes, rng, tsharkFields, wirescopeFields,
  corpusConformance,
} from '../ip/helpers.js';

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!haveTcpdump) console.log('IPv4 tests against tcpdump skipped: tcpdump is not installed');
if (!haveTshark) console.log('IPv4 tests against tshark skipped: tshark is not installed');
if (!hasCorpus) console.log('IPv4 corpus tests skipped: ../shared/corpus is absent');

const fixture = (name: string): string => path.join(repoRoot, 'fixtures', name);
const dir = new TempDir();
afterAll(() => dir.remove());

function ipOf(p: Packet): Ipv4Layer {
  const l = p.layers.find((x) => x instanceof Ipv4Layer);
  if (!l) throw new Error('no IPv4 layer');
  return l as Ipv4Layer;
}

describe('real IPv4 headers, field by field', () => {
  const { frames } = readAll(fixture('ip-options.pcap'));

  it('decodes a record-route option header', () => {
    const ip = ipOf(decodeFrame(frames[0]));
    expect(ip).toMatchObject({ version: 4, ihl: 60, tos: 0, totalLen: 124, id: 64905, ttl: 64, proto: 1, flagsFrag: 0x4000 });
    expect(ip.srcAddr).toBe('192.0.2.10');
    expect(ip.dstAddr).toBe('198.51.100.20');
    expect(ip.options.length).toBe(40);
    expect(ip.options[0]).toBe(1); // NOP
    expect(ip.options[1]).toBe(7); // RR
    expect(ip.dontFragment).toBe(true);
    expect(ip.moreFragments).toBe(false);
    expect(foldChecksum(sumWords(ip.buf, ip.off, ip.off + ip.ihl))).toBe(0);
    expect(ip.hdrLen).toBe(60);
    expect(ip.payloadLen).toBe(64);
  });

  it('gives tshark-formatted fields', () => {
    const p = decodeFrame(frames[0]);
    const ip = ipOf(p);
    const f = ipv4.fields!;
    expect(f['ip.id'](ip, p)).toBe('0xfd89');
    expect(f['ip.flags'](ip, p)).toBe('0x02');
    expect(f['ip.flags.df'](ip, p)).toBe(1);
    expect(f['ip.flags.mf'](ip, p)).toBe(0);
    expect(f['ip.frag_offset'](ip, p)).toBe(0);
    expect(f['ip.hdr_len'](ip, p)).toBe(60);
    expect(f['ip.dsfield'](ip, p)).toBe('0x00');
    expect(f['ip.checksum'](ip, p)).toBe('0x' + ip.checksum.toString(16).padStart(4, '0'));
    expect(f['ip.addr'](ip, p)).toEqual(['192.0.2.10', '198.51.100.20']);
  });

  it('decodes later fragments without a transport layer, offsets in bytes and in tshark units', () => {
    const { frames: fr } = readAll(fixture('ipv4-fragments.pcap'));
    const p = decodeFrame(fr[1]);
    const ip = ipOf(p);
    expect(p.layers[p.layers.length - 1]).toBe(ip);
    expect(ip.fragOffset).toBe(1480);
    expect(ipv4.fields!['ip.frag_offset'](ip, p)).toBe(185);
    expect(ip.moreFragments).toBe(true);
    const first = decodeFrame(fr[0]);
    expect(first.layers.map((l) => l.dissector.name)).toEqual(['eth', 'ip', 'icmp']);
  });
});

describe('tcpdump helpers', () => {
  it('computes what the checksum should have been as in_cksum_shouldbe does', () => {
    // From tcpdump's own output on the corpus: "bad cksum a09b (->90a7)!" and "bad cksum 101 (->6470)!".
    for (const [field, good] of [[0xa09b, 0x90a7], [0x0101, 0x6470], [0xcdf9, 0xbdf9]]) {
      // A header whose only error is its checksum field: sum with the field = ~(good - field) in one's complement.
      const computed = foldChecksum(0xffff - good + field);
      expect(checksumShouldBe(field, computed)).toBe(good);
    }
  });
});

describe('encode and decode', () => {
  it('builds IPv4 with options and ICMP, fills lengths, protocol and checksums', () => {
    const eth = makeLayer(ethernet, {});
    eth.src = '02:00:00:00:00:01';
    eth.dst = '02:00:00:00:00:02';
    const ip = makeLayer(ipv4, { src: 0xc0000201, dst: 0xc6336402, id: 7, ttl: 9, tos: 0x10, flagsFrag: 0x4000, options: hexBytes('01070b040000000000000000') });
    const echo = makeLayer(icmp, { type: 8, code: 0, rest: 0x12340005 });
    const bytes = encodeStack([eth, ip, echo], hexBytes('0102030405060708'));
    const p = decodeFrame({ number: 1, linkType: 1, tsSec: 0, tsNsec: 0, capLen: bytes.length, origLen: bytes.length, data: bytes, ifIndex: 0 });
    const got = ipOf(p);
    expect(got).toMatchObject({ ihl: 32, totalLen: 48, proto: 1, id: 7, ttl: 9, tos: 0x10, flagsFrag: 0x4000 });
    expect(foldChecksum(sumWords(bytes, 14, 14 + 32))).toBe(0);
    const m = p.layers[2] as IcmpLayer;
    expect(m).toMatchObject({ type: 8, ident: 0x1234, seq: 5 });
    expect(foldChecksum(sumWords(bytes, 46, bytes.length))).toBe(0);
  });

  it('re-encodes decoded frames to the same bytes (no length or checksum fixing)', () => {
    const files = ['ip-options.pcap', 'ipv4-fragments.pcap', 'icmp-echo.pcap', 'icmp-redirect.pcap', 'icmp-pmtu.pcap', 'icmp-timestamp.pcap', 'traceroute.pcap'];
    let checked = 0;
    for (const name of files) {
      for (const f of readAll(fixture(name)).frames) {
        const p = decodeFrame(f);
        const i = p.layers.findIndex((l) => l instanceof Ipv4Layer);
        if (i < 0) continue;
        // The stack up to and including ICMP (or IP for a later fragment); what follows its header is payload.
        const top = p.layers[p.layers.length - 1];
        const stack = top instanceof IcmpLayer ? p.layers : p.layers.slice(0, i + 1);
        const last = stack[stack.length - 1];
        const rest = f.data.subarray(last.off + last.hdrLen);
        const out = encodeStack(stack, rest, { fixLengths: false, computeChecksums: false });
        expect(Buffer.from(out).equals(Buffer.from(f.data))).toBe(true);
        // And with lengths and checksums recomputed, a well-formed frame comes out the same.
        if (top instanceof IcmpLayer && !top.fragmented) {
          expect(Buffer.from(encodeStack(stack, rest)).equals(Buffer.from(f.data))).toBe(true);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

/** Built frames that reach every branch of ip_print and ip_optprint. */
function builtFrames(): Frame[] {
  const echo = icmpHex(8, 0, '12340001', 'abcdabcd');
  const list = [
    ipv4Hex({ proto: 1, payload: echo }),
    ipv4Hex({ proto: 1, options: '0101' + '8307040a000001' + '00', payload: echo }), // NOP NOP LSRR EOL
    ipv4Hex({ proto: 1, options: '44140d01' + '0a000001' + '00000001' + '0a000002' + '00000002', payload: echo }), // TS+ADDR
    ipv4Hex({ proto: 1, options: '440c0500' + '00000001' + '00000002', payload: echo }), // TSONLY
    ipv4Hex({ proto: 1, options: '9404' + '0000' + '8204' + '0102', payload: echo }), // RA, security
    ipv4Hex({ proto: 1, options: '8903' + '05' + '00', payload: echo }), // SSRR with a bad length and pointer
    ipv4Hex({ proto: 1, options: '0728' + '04' + '00'.repeat(37), payload: echo }), // RR, all empty
    ipv4Hex({ proto: 1, options: '44' + '00' + '0000', payload: echo }), // option length 0
    ipv4Hex({ proto: 1, options: '0730' + '04000000', payload: echo }), // option longer than the header
    ipv4Hex({ proto: 1, payload: echo, checksum: 0x1234, tos: 0x03, ttl: 0 }), // bad checksum, CE, ttl 0
    ipv4Hex({ proto: 1, payload: echo, flagsFrag: 0xe000 }), // rsvd, DF, MF
    ipv4Hex({ proto: 17, payload: '1234003500100000abcdabcd', flagsFrag: 0x2000 | 100 }), // later fragment
    ipv4Hex({ proto: 99, payload: 'abcdabcd' }), // no printer: ip-proto-99
    ipv4Hex({ proto: 77, payload: 'abcdabcd' }), // nd
    ipv4Hex({ proto: 59, payload: 'abcdabcd' }), // no next header
    ipv4Hex({ proto: 58, payload: 'abcdabcd' }), // ICMPv6 requires IPv6
    ipv4Hex({ proto: 4, payload: ipv4Hex({ proto: 1, payload: echo }) }), // IPIP
    ipv4Hex({ proto: 1, payload: echo, totalLen: 10 }), // bad-len
    ipv4Hex({ proto: 1, payload: echo, totalLen: 0 }), // zero length: bad-len for tcpdump, TSO for tshark
    ipv4Hex({ proto: 1, payload: echo, ihl: 16 }), // bad-hlen
    ipv4Hex({ proto: 1, payload: echo, totalLen: 200 }), // truncated-ip - N bytes missing
    '6' + ipv4Hex({ proto: 1, payload: echo }).slice(1), // version 6 on EtherType IPv4
    '5' + ipv4Hex({ proto: 1, payload: echo }).slice(1), // version 5
  ];
  return list.map((h, k) => ethFrame(h, k + 1));
}

describe.skipIf(!haveTcpdump)('text identical to tcpdump', () => {
  it('prints every branch of ip_print on built frames', () => {
    for (const flags of [['-n'], ['-nv'], ['-ne'], ['-nx'], ['-nvvq'], ['-nqq'], ['-nqqv']]) {
      const c = compareText(dir, builtFrames(), flags);
      expect(c.diffs).toEqual([]);
    }
  });

  it('prints every prefix of built and real frames as tcpdump does', () => {
    const real = [...readAll(fixture('ip-options.pcap')).frames.slice(0, 6), readAll(fixture('ipv4-fragments.pcap')).frames[1]];
    let compared = 0;
    for (const f of [...builtFrames().slice(1, 7), ...real]) {
      // From one byte: a frame with nothing captured is the reader's business, not IPv4's.
      const cuts = numbered(prefixes(f).slice(1));
      for (const p of cuts.map(decodeFrame)) expect(p.error).toBeNull();
      for (const flags of [['-n'], ['-nv'], ['-nx']]) {
        const c = compareText(dir, cuts, flags);
        compared += c.compared;
        expect(c.diffs).toEqual([]);
      }
    }
    expect(compared).toBeGreaterThan(2000);
  });

  it('prints fuzzed options, captured whole or cut short, as tcpdump -v does', () => {
    const r = rng(7);
    const codes = [0, 1, 7, 68, 130, 131, 137, 148, 82, 25, 255];
    const frames: Frame[] = [];
    for (let n = 1; n <= 600; n++) {
      const words = 1 + Math.floor(r() * 10);
      let opts = '';
      while (opts.length / 2 < words * 4) {
        const c = codes[Math.floor(r() * codes.length)];
        if (c <= 1) { opts += hex2(c); continue; }
        const len = r() < 0.7 ? [3, 4, 7, 8, 11, 12, 36, 40][Math.floor(r() * 8)] : Math.floor(r() * 44);
        let body = '';
        if (c === 68) body = hex2(Math.floor(r() * 45)) + hex2(Math.floor(r() * 256));
        else if (c === 7 || c === 131 || c === 137) body = hex2([4, 8, 12, 0, 1, 5][Math.floor(r() * 6)]);
        while (body.length / 2 < len - 2) body += hex2(Math.floor(r() * 256));
        opts += hex2(c) + hex2(len) + body;
      }
      opts = opts.slice(0, words * 8);
      const f = ethFrame(ipv4Hex({ proto: 1, options: opts, payload: icmpHex(8, 0, '12340001', 'abcd'), checksum: r() < 0.2 ? 0x1234 : undefined }), n);
      if (r() < 0.3) { const k = 14 + Math.floor(r() * (f.capLen - 14)); f.capLen = k; f.data = f.data.subarray(0, k); }
      frames.push(f);
    }
    for (const flags of [['-nv'], ['-nvx']]) {
      const c = compareText(dir, frames, flags);
      expect(c.diffs).toEqual([]);
      expect(c.compared).toBeGreaterThan(1000);
    }
  });
});

describe.skipIf(!haveTshark)('fields identical to tshark', () => {
  const FIELDS = ['ip.version', 'ip.hdr_len', 'ip.dsfield', 'ip.dsfield.dscp', 'ip.dsfield.ecn', 'ip.len', 'ip.id', 'ip.flags',
    'ip.flags.rb', 'ip.flags.df', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl', 'ip.proto', 'ip.checksum', 'ip.checksum.status',
    'ip.src', 'ip.dst', 'ip.addr', 'ip.src_host', 'ip.dst_host', 'ip.host', 'ip.cur_rt'];

  it('on built frames, bad ones and every prefix of some', () => {
    const frames = builtFrames().filter((_, k) => k !== 21); // version 6 on EtherType IPv4: tshark's IPv6 dissector adds an ip.version (next test)
    const all = numbered([...frames, ...prefixes(frames[2]).slice(1)]);
    const file = dir.file(all);
    expect(wirescopeFields(all.map(decodeFrame), FIELDS)).toEqual(tsharkFields(file, FIELDS));
  });

  it('hands a version-6 header on EtherType IPv4 to IPv6, as tshark does', () => {
    const v6 = '6000000000083a40' + 'fe800000000000000000000000000001' + 'ff020000000000000000000000000001' + '8000f7ff00010001';
    const frames = numbered([ethFrame(v6), ethFrame(v6.slice(0, 60)), ethFrame('6' + ipv4Hex({ proto: 1 }).slice(1))]);
    const fields = ['frame.protocols', 'ip.hdr_len', 'ip.src', 'ipv6.src', 'ipv6.dst', 'ipv6.plen', 'ipv6.nxt', 'icmpv6.type'];
    const p = frames.map(decodeFrame);
    expect(wirescopeFields(p, fields)).toEqual(tsharkFields(dir.file(frames), fields));
    // The IPv4 layer is only the start of the IPv6 header: the frame re-encodes to itself.
    const out = encodeStack(p[0].layers.slice(0, 3), p[0].frame.data.subarray(p[0].layers[2].off + 40), { fixLengths: false, computeChecksums: false });
    expect(Buffer.from(out).equals(Buffer.from(p[0].frame.data))).toBe(true);
  });

  it('on the fixtures with IPv4 options and fragments', () => {
    // ip.version left out: tshark's IPv6 dissector fills it too (these files hold IPv6 as well).
    const fields = FIELDS.slice(1);
    for (const name of ['ip-options.pcap', 'ipv4-fragments.pcap', 'icmp-pmtu.pcap', 'traceroute.pcap']) {
      const { frames } = readAll(fixture(name));
      const ours = wirescopeFields(frames.map(decodeFrame), fields);
      // wirescopeFields reassembles fragments, as tshark does by default.
      const theirs = tsharkFields(fixture(name), fields);
      expect(ours).toEqual(theirs);
    }
  });
});

describe.skipIf(!hasCorpus || !haveTcpdump || !haveTshark)('corpus captures with IPv4 options, fragments and ICMP', () => {
  it('prints them as tcpdump does at -n, -v, -e and -x', () => {
    const files = readTsv(path.join(corpusDir, 'MANIFEST.tsv'))
      .filter((r) => /fragment|IPv4 options|ICMP(?!v6)/.test(r.note) && !r.path.endsWith('.gz'))
      .map((r) => path.join(corpusDir, r.path));
    const c = corpusConformance(files);
    console.log(`IPv4/ICMP corpus conformance: ${c.identical}/${c.compared} lines identical in ${c.packets} packets of ${files.length} files`);
    expect(c.diffs).toEqual([]);
    expect(c.compared).toBeGreaterThan(1000);
  }, 600_000);
});
