/**
 * The other link-layer headers: BSD loopback (NULL 0, LOOP 108), raw IP (RAW 101/12/14, IPV4 228,
 * IPV6 229) and Linux cooked captures (SLL 113, SLL2 276): decoding, encoding, truncation, text
 * and fields identical to tcpdump and tshark; and the link-layer conformance figure over the corpus.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer } from '../../src/core/dissector.js';
import { nullLink, loopLink, NullLayer } from '../../dissectors/null.js';
import { raw, rawIp, RawLayer } from '../../dissectors/raw.js';
import { sll, SllLayer, SLL_PKTTYPE } from '../../dissectors/sll.js';
import { sll2, Sll2Layer, interfaceName } from '../../dissectors/sll2.js';
import { arp, ARPOP } from '../../dissectors/arp.js';
import { readTsv, splitNumbered, run } from '../conformance/corpus.js';
import { textOptionsFromFlags, wirescopeText as corpusText } from '../conformance/tcpdump-text.js';
import { frameProtocols } from '../conformance/corpus.js';
import {
  corpusDir, corpusFrames, corpusPath, expectReencodes, expectSameFields, expectSameText, fixturePath, framesOf, hasCorpus,
  readFrames, sweepTruncation, toolSkipReason,
} from './link-helpers.js';

const noCorpus = hasCorpus ? '' : '../shared/corpus is absent';
const noTcpdump = toolSkipReason('tcpdump');
const noTshark = toolSkipReason('tshark');
for (const r of new Set([noCorpus, noTcpdump, noTshark])) if (r) console.log(`link-type tests partly skipped: ${r}`);

const IPV4_UDP = '4500001c0001000040110000c0000201c00002021f901f9000080000';
const IPV6_UDP = '6000000000081140' + '20010db8000000000000000000000001' + '20010db8000000000000000000000002' + '1f901f9000080000';
const ARP_REQ = '0001080006040001' + '0a0000000001c0000201' + '000000000000c0000202';

const NULL_FRAMES = [
  '02000000' + IPV4_UDP,    // little-endian AF_INET
  '00000002' + IPV4_UDP,    // big-endian: swapped
  '1e000000' + IPV6_UDP,    // Darwin's AF_INET6
  '18000000' + IPV6_UDP,    // OpenBSD's
  '1c000000' + IPV6_UDP,    // FreeBSD's
  '63000000' + 'aabbcc',    // unknown family: dumped
  '00000063' + '0011',
  '020000',                 // header cut short
];
const LOOP_FRAMES = ['00000002' + IPV4_UDP, '00000018' + IPV6_UDP, '02000000' + IPV4_UDP, '00000063' + 'aabbcc', '0000'];
const RAW_FRAMES = [IPV4_UDP, IPV6_UDP, '5500', '00'];

function sllFrame(pt: number, proto: number, body: string, haLen = 6): string {
  return pt.toString(16).padStart(4, '0') + '0001' + haLen.toString(16).padStart(4, '0') + '0a0b0c0d0e0f0000' + proto.toString(16).padStart(4, '0') + body;
}
function sll2Frame(pt: number, proto: number, body: string, haLen = 6, ifIndex = 1): string {
  return proto.toString(16).padStart(4, '0') + '0000' + ifIndex.toString(16).padStart(8, '0') + '0001' +
    pt.toString(16).padStart(2, '0') + haLen.toString(16).padStart(2, '0') + '0a0b0c0d0e0f0000' + body;
}
/** The same payloads under both cooked headers: packet types, address lengths, 802.2, tags, unknown types. */
function cookedFrames(make: (pt: number, proto: number, body: string, haLen?: number, ifIndex?: number) => string): string[] {
  return [
    make(0, 0x0800, IPV4_UDP), make(1, 0x0806, ARP_REQ), make(2, 0x0806, ARP_REQ, 4), make(3, 0x0806, ARP_REQ, 0),
    make(4, 0x0806, ARP_REQ, 6, 2), make(7, 0x0806, ARP_REQ, 6, 99), make(0, 0x86dd, IPV6_UDP),
    make(0, 0x0004, 'f0f003' + '00'.repeat(10)), make(0, 0x0004, 'aaaa03000000' + '0806' + ARP_REQ),
    make(0, 0x0060, '00112233'), make(0, 0x1234, '00112233'), make(0, 0x8100, '00640806' + ARP_REQ),
    make(0, 0x8100, 'e0641234aabbcc'), make(0, 0x88a8, '00640806' + ARP_REQ), make(0, 0x0806, '').slice(0, 20),
  ];
}
const SLL_FRAMES = cookedFrames(sllFrame);
const SLL2_FRAMES = cookedFrames(sll2Frame);

describe('loopback and raw IP decoding', () => {
  it('reads the NULL family in either byte order, LOOP in network order', () => {
    const fams = framesOf(0, NULL_FRAMES.slice(0, 7)).map((f) => (decodeFrame(f).layers[0] as NullLayer).family);
    expect(fams).toEqual([2, 2, 30, 24, 28, 99, 99]);
    const next = framesOf(0, NULL_FRAMES.slice(0, 3)).map((f) => decodeFrame(f).layers[1]?.dissector.name);
    expect(next).toEqual(['ip', 'ip', 'ipv6']);
    expect(framesOf(108, LOOP_FRAMES.slice(0, 4)).map((f) => (decodeFrame(f).layers[0] as NullLayer).family)).toEqual([2, 24, 2, 99]);
    expect(decodeFrame(framesOf(0, [NULL_FRAMES[7]])[0]).layers[0].truncated).toBe(true);
  });

  it.skipIf(!!noCorpus)('decodes corpus NULL captures (IPv4 from Linux, IPv6 from macOS)', () => {
    const v4 = decodeFrame(readFrames(corpusPath('tcpdump/dns-badcookie.pcap'))[0]);
    expect([(v4.layers[0] as NullLayer).family, v4.layers[0].hdrLen, v4.layers[1].dissector.name]).toEqual([2, 4, 'ip']);
    const v6 = decodeFrame(readFrames(corpusPath('gopacket/pcap/test_loopback.pcap'))[0]);
    expect([(v6.layers[0] as NullLayer).family, v6.layers[1].dissector.name]).toEqual([30, 'ipv6']);
  });

  it('dispatches raw IP on the version nibble, whatever the link type claims', () => {
    for (const lt of [101, 12, 14, 228, 229]) {
      const names = framesOf(lt, RAW_FRAMES).map((f) => decodeFrame(f).layers.map((l) => l.dissector.name).slice(0, 2));
      const first = lt === 228 || lt === 229 ? 'ipn' : 'raw';
      expect(names).toEqual([[first, 'ip'], [first, 'ipv6'], [first], [first]]);
      expect((decodeFrame(framesOf(lt, ['5500'])[0]).layers[0] as RawLayer).version).toBe(5);
    }
  });

  it('builds loopback and raw frames from layers, filling in the family', () => {
    const ipLayers = decodeFrame(framesOf(101, [IPV4_UDP])[0]).layers.slice(1);
    for (const [d, lt, head] of [[nullLink, 0, '02000000'], [loopLink, 108, '00000002'], [raw, 101, ''], [rawIp, 228, '']] as const) {
      const bytes = encodeStack([makeLayer(d as typeof nullLink, {}), ...ipLayers], new Uint8Array(0), { computeChecksums: false });
      expect(Buffer.from(bytes).toString('hex')).toBe(head + IPV4_UDP);
      expect(decodeFrame(framesOf(lt, [Buffer.from(bytes).toString('hex')])[0]).layers[1].dissector.name).toBe('ip');
    }
  });
});

describe('Linux cooked capture decoding', () => {
  it.skipIf(!!noCorpus)('decodes SLL v1 (zeek/linuxsll-arp.pcap)', () => {
    const p = decodeFrame(readFrames(corpusPath('zeek/linuxsll-arp.pcap'))[0]);
    const l = p.layers[0] as SllLayer;
    expect([l.pktType, l.haType, l.haLen, l.srcAddr, l.protocol, l.hdrLen]).toEqual([SLL_PKTTYPE.BROADCAST, 1, 6, 'cc:2d:e0:26:19:99', 0x0806, 16]);
    expect(p.layers[1].dissector).toBe(arp);
  });

  it.skipIf(!!noCorpus)('decodes SLL v2 with its interface index (zeek/linux_dlt_sll2.pcap, Sll2PacketLLC.pcap)', () => {
    const l = decodeFrame(readFrames(corpusPath('zeek/linux_dlt_sll2.pcap'))[0]).layers[0] as Sll2Layer;
    expect([l.protocol, l.ifIndex, l.haType, l.pktType, l.haLen, l.srcAddr, l.hdrLen]).toEqual([0x0800, 1, 772, 0, 6, '00:00:00:00:00:00', 20]);
    const p = decodeFrame(readFrames(corpusPath('pcapplusplus/PacketExamples/Sll2PacketLLC.pcap'))[0]);
    expect(p.layers.map((x) => x.dissector.protocols)).toEqual(['sll', 'llc']);
  });

  it('names interfaces as if_indextoname does', () => {
    expect(interfaceName(0)).toBe('?');
    if (process.platform === 'linux') expect(interfaceName(1)).toBe('lo');
  });

  it('builds cooked headers from layers', () => {
    const arpLayer = makeLayer(arp, { op: ARPOP.REQUEST, senderMac: '0a:00:00:00:00:01', senderIp: '192.0.2.1', targetIp: '192.0.2.2' });
    const v1 = encodeStack([makeLayer(sll, { pktType: SLL_PKTTYPE.BROADCAST, srcAddr: '0a:0b:0c:0d:0e:0f' }), arpLayer]);
    expect(Buffer.from(v1).toString('hex')).toBe(sllFrame(1, 0x0806, ARP_REQ));
    const v2 = encodeStack([makeLayer(sll2, { pktType: SLL_PKTTYPE.BROADCAST, srcAddr: '0a:0b:0c:0d:0e:0f', ifIndex: 1 }), arpLayer]);
    expect(Buffer.from(v2).toString('hex')).toBe(sll2Frame(1, 0x0806, ARP_REQ));
  });

  it('encodes decoded frames back to the same bytes', () => {
    let checked = 0;
    for (const f of [...framesOf(113, SLL_FRAMES), ...framesOf(276, SLL2_FRAMES), ...framesOf(0, NULL_FRAMES), ...framesOf(108, LOOP_FRAMES)]) {
      if (expectReencodes(f)) checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('survives every truncation', () => {
    for (const f of [...framesOf(113, SLL_FRAMES), ...framesOf(276, SLL2_FRAMES), ...framesOf(0, NULL_FRAMES), ...framesOf(108, LOOP_FRAMES)]) sweepTruncation(f);
  });
});

describe.skipIf(!!noTcpdump)('link-type text identical to tcpdump', () => {
  // -A is left out: TextOut's ASCII dump drops a CR differently from tcpdump's ascii_print (reported).
  const flagSets = [['-n'], ['-n', '-e'], ['-n', '-v'], ['-n', '-q'], ['-n', '-e', '-q'], ['-n', '-x'], ['-n', '-e', '-x'], ['-n', '-e', '-X']];

  it('NULL and LOOP', () => {
    expectSameText(framesOf(0, NULL_FRAMES), flagSets);
    expectSameText(framesOf(108, LOOP_FRAMES), flagSets);
  });

  it('RAW, IPV4 and IPV6', () => {
    // libpcap reads no pcap file of link type 14 (OpenBSD's DLT_RAW); wirescope takes it as raw IP.
    for (const lt of [101, 12, 228, 229]) expectSameText(framesOf(lt, RAW_FRAMES), flagSets);
  });

  it('SLL and SLL2: packet types, addresses, 802.2, tags, unknown types, cut short', () => {
    expectSameText(framesOf(113, SLL_FRAMES), flagSets);
    expectSameText(framesOf(276, SLL2_FRAMES), flagSets);
  });

  it.skipIf(!!noCorpus)('on corpus captures of these link types', () => {
    for (const file of [
      'tcpdump/dns-badcookie.pcap', 'tcpdump/icmpv6-RFC2894-RR.pcap', 'zeek/linuxsll-arp.pcap', 'zeek/linux_dlt_sll2.pcap',
      'pcapplusplus/PacketExamples/Sll2Packet.pcap', 'tcpdump/tcp-handshake-nano.pcap', 'tcpdump/mptcp-tcprst.pcap',
      'pcapplusplus/PacketExamples/NullLoopback.pcap', 'tcpdump/ipv6_mobility_1.pcap',
    ]) {
      const frames = corpusFrames(file);
      if (frames.length) expectSameText(frames, flagSets);
    }
  });
});

describe.skipIf(!!noTshark)('link-type fields identical to tshark', () => {
  const names = ['frame.protocols', 'null.family', 'sll.pkttype', 'sll.hatype', 'sll.halen', 'sll.src.eth', 'sll.unused', 'sll.etype', 'sll.ltype', 'sll.ifindex'];

  it('on crafted frames', () => {
    expectSameFields(framesOf(0, NULL_FRAMES.slice(0, 7)), names.slice(1, 2));
    expectSameFields(framesOf(113, SLL_FRAMES.slice(0, 13)), names.slice(2));
    expectSameFields(framesOf(276, SLL2_FRAMES.slice(0, 13)), names.slice(2));
  });

  it.skipIf(!!noCorpus)('on corpus captures', () => {
    for (const file of ['zeek/linuxsll-arp.pcap', 'zeek/linux_dlt_sll2.pcap', 'pcapplusplus/PacketExamples/Sll2PacketLLC.pcap', 'pcapplusplus/PacketExamples/SllPacket.pcap', 'tcpdump/dns-badcookie.pcap', 'gopacket/pcap/test_loopback.pcap']) {
      expectSameFields(readFrames(corpusPath(file)), names.slice(1));
    }
  });
});

const FIXTURES = ['arp.pcap', 'vlan.pcap', 'linux-sll.pcap', 'linux-sll2.pcap'].map(fixturePath).filter((f) => existsSync(f));
if (FIXTURES.length < 4) console.log('link-layer fixture tests partly skipped: fixtures/ lacks some of arp, vlan, linux-sll, linux-sll2.pcap');

describe.skipIf(!!(noTcpdump || noTshark) || FIXTURES.length === 0)('fixtures of real traffic (arping, tagged pings, cooked captures)', () => {
  it('print as tcpdump prints them', () => {
    // tshark names the frames' protocols, so the DNS queries (another issue's printer) are left out.
    for (const file of FIXTURES) expectSameText(corpusFrames(file), [['-n'], ['-n', '-e'], ['-n', '-v'], ['-n', '-e', '-x'], ['-n', '-e', '-q']]);
  });

  it('give the fields tshark gives', () => {
    const names = ['eth.src', 'eth.dst', 'eth.type', 'vlan.id', 'vlan.priority', 'vlan.dei', 'vlan.etype', 'arp.opcode', 'arp.src.hw_mac',
      'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4', 'sll.pkttype', 'sll.hatype', 'sll.halen', 'sll.src.eth', 'sll.etype', 'sll.ifindex'];
    for (const file of FIXTURES) expectSameFields(readFrames(file), names);
  });
});

/** tshark's names for the protocols printed by the link-layer dissectors. */
const LINK_PROTOCOLS = new Set(['eth', 'ethertype', 'vlan', 'ieee8021ad', 'llc', 'arp', 'sll', 'null', 'raw']);
const IP_PROTOCOLS = new Set([...LINK_PROTOCOLS, 'ip', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp', 'data']);

describe.skipIf(!!(noCorpus || noTcpdump))('link-layer conformance over the corpus', () => {
  it('prints every frame of link-layer protocols as tcpdump does, at -n and -e', () => {
    const files = readTsv(path.join(corpusDir, 'MANIFEST.tsv'))
      .filter((r) => !r.path.endsWith('.gz') && /EN10MB|LINUX_SLL|NULL|RAW|IPV4|IPV6/.test(r.link_types) &&
        /(^|,)(vlan|ieee8021ad|arp|llc|sll|null|raw)(,|$)/.test(r.protocols_seen))
      .map((r) => path.join(corpusDir, r.path));
    const tally = { l2: [0, 0], ip: [0, 0] };
    const misses: string[] = [];
    for (const file of files) {
      const protos = frameProtocols(file);
      for (const flags of [['-n'], ['-n', '-e']]) {
        const want = splitNumbered(run('tcpdump', ['-#', ...flags, '-r', file], { TZ: 'UTC' }).stdout);
        const got = corpusText(file, textOptionsFromFlags(flags)!).packets;
        for (const [n, lines] of want) {
          const ps = (protos.get(n) ?? '').split(':');
          const bucket = ps.every((p) => LINK_PROTOCOLS.has(p)) ? tally.l2 : ps.every((p) => IP_PROTOCOLS.has(p)) ? tally.ip : null;
          if (!bucket) continue;
          const mine = got.get(n) ?? [];
          for (let k = 0; k < lines.length; k++) {
            bucket[1]++;
            if (mine[k] === lines[k]) bucket[0]++;
            else if (bucket === tally.l2) misses.push(`${path.relative(corpusDir, file)} ${flags.join(' ')} #${n}: ${lines[k]} | ${mine[k]}`);
          }
        }
      }
    }
    const pct = (t: number[]): string => (100 * t[0] / Math.max(t[1], 1)).toFixed(2) + '%';
    console.log(`link-layer conformance on ${files.length} corpus captures at -n and -e: ` +
      `link-layer-only frames ${tally.l2[0]}/${tally.l2[1]} lines identical (${pct(tally.l2)}); ` +
      `frames of link layer + IP/ICMP/UDP/TCP ${tally.ip[0]}/${tally.ip[1]} (${pct(tally.ip)})`);
    expect(misses.slice(0, 10)).toEqual([]);
    expect(tally.l2[1]).toBeGreaterThan(2000);
  }, 600_000);
});
