/**
 * ARP, RARP, InARP and ATM ARP: real requests and replies, every operation and odd hardware or
 * protocol types, malformed and cut-short packets, building requests and replies, and text and
 * fields identical to tcpdump and tshark.
 */
import { describe, it, expect } from 'vitest';
import { decodeFrame, encodeStack, makeLayer } from '../../src/core/dissector.js';
import { ethernet } from '../../dissectors/ethernet.js';
import { arp, ArpLayer, ARPHRD, ARPOP } from '../../dissectors/arp.js';
import {
  corpusPath, expectReencodes, expectSameFields, expectSameText, framesOf, hasCorpus, readFrames, sweepTruncation,
  toolSkipReason,
} from './link-helpers.js';

const noCorpus = hasCorpus ? '' : '../shared/corpus is absent';
const noTcpdump = toolSkipReason('tcpdump');
const noTshark = toolSkipReason('tshark');
for (const r of new Set([noCorpus, noTcpdump, noTshark])) if (r) console.log(`ARP tests partly skipped: ${r}`);

const ETH = 'ffffffffffff' + '020000000001';
const M1 = '020000000001', M2 = '0a0b0c0d0e0f', Z = '000000000000';
const I1 = 'c0000201', I2 = 'c0000202';

function h(n: number, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}

/** An Ethernet frame carrying an ARP packet with the given header and address fields. */
function arpFrame(hrd: number, pro: number, hln: number, pln: number, op: number, addrs: string, type = '0806'): string {
  return ETH + type + h(hrd, 4) + h(pro, 4) + h(hln, 2) + h(pln, 2) + h(op, 4) + addrs;
}

/** ATM ARP (RFC 2225): type/length bytes for each address. */
function atmFrame(op: number, shtl: number, sstl: number, spln: number, thtl: number, tstl: number, tpln: number, addrs: string): string {
  return ETH + '0806' + h(ARPHRD.ATM2225, 4) + '0800' + h(shtl, 2) + h(sstl, 2) + h(op, 4) + h(spln, 2) + h(thtl, 2) + h(tstl, 2) + h(tpln, 2) + addrs;
}

const V6A = '20010db8' + '00'.repeat(11) + '01', V6B = '20010db8' + '00'.repeat(11) + '02';

const CRAFTED = [
  arpFrame(1, 0x0800, 6, 4, 1, M1 + I1 + Z + I2),
  arpFrame(1, 0x0800, 6, 4, 1, M1 + I1 + M2 + I2),                   // request naming the target MAC
  arpFrame(1, 0x0800, 6, 4, 2, M1 + I1 + M2 + I2) + '00'.repeat(18), // reply with padding
  arpFrame(1, 0x0800, 6, 4, 3, M1 + '00000000' + M1 + '00000000', '8035'),
  arpFrame(1, 0x0800, 6, 4, 4, M2 + I2 + M1 + I1, '8035'),
  arpFrame(1, 0x0800, 6, 4, 8, M1 + I1 + M2 + '00000000'),
  arpFrame(1, 0x0800, 6, 4, 9, M2 + I2 + M1 + I1),
  arpFrame(1, 0x0800, 6, 4, 5, M1 + I1 + M2 + I2),                   // unknown operation: dumped
  arpFrame(1, 0x0800, 6, 4, 10, M1 + I1 + M2 + I2),                  // NAK outside ATM: dumped too
  arpFrame(6, 0x0800, 6, 4, 1, M1 + I1 + Z + I2),                    // token ring
  arpFrame(1, 0x86dd, 6, 16, 1, M1 + V6A + Z + V6B),                 // not IPv4
  arpFrame(1, 0x0800, 0, 4, 1, I1 + I2),                             // no hardware addresses
  arpFrame(1, 0x1000, 6, 4, 1, M1 + I1 + Z + I2),                    // trailer encapsulation
  arpFrame(1, 0x0800, 8, 4, 2, M1 + '0102' + I1 + Z + '0000' + I2),  // 8-byte hardware addresses
  arpFrame(15, 0x0800, 2, 4, 2, '1841' + I1 + '0000' + I2),          // frame relay: Q.922 DLCI
  arpFrame(15, 0x0800, 4, 4, 2, '18400481' + I1 + '00000000' + I2),
  arpFrame(1, 0x0800, 6, 3, 1, M1 + 'c00002' + Z + 'c00002'),        // wrong protocol length
  arpFrame(24, 0x0800, 6, 4, 2, M1 + I1 + M2 + I2),
  arpFrame(99, 0x0800, 6, 4, 1, M1 + I1 + M2 + I2),                  // unknown hardware
  arpFrame(1, 0x0800, 0, 0, 1, ''),
  arpFrame(1, 0x0800, 6, 4, 2, M1 + I1 + M2 + I2).slice(0, -4),      // cut in the target address
  arpFrame(1, 0x0800, 6, 4, 1, M1).slice(0, 30),                     // cut in the fixed part
  atmFrame(1, 20, 0, 4, 0, 0, 4, '47'.repeat(20) + I1 + I2),
  atmFrame(2, 20, 2, 4, 20, 0, 4, '47'.repeat(20) + 'aabb' + I1 + '39'.repeat(20) + I2),
  atmFrame(8, 0x54, 0, 4, 3, 0, 4, '11'.repeat(20) + I1 + '223344' + I2),
  atmFrame(9, 4, 0, 4, 0, 0, 4, '01020304' + I1 + I2),
  atmFrame(10, 0, 0, 4, 0, 0, 4, I1 + I2),
  atmFrame(1, 0, 0, 6, 0, 0, 4, '010203040506' + I2),
  atmFrame(5, 0, 0, 4, 0, 0, 4, I1 + I2),
  atmFrame(1, 20, 0, 4, 0, 0, 4, '47'.repeat(20) + I1 + 'c000'),
];

describe('ARP decoding', () => {
  it.skipIf(!!noCorpus)('decodes a real request and reply field by field', () => {
    const req = decodeFrame(readFrames(corpusPath('pcapplusplus/PacketExamples/ArpRequestPacket.pcap'))[0]).layers[1] as ArpLayer;
    expect([req.hrd, req.pro, req.hln, req.pln, req.op, req.hdrLen]).toEqual([1, 0x0800, 6, 4, ARPOP.REQUEST, 28]);
    expect([req.senderMac, req.senderIp, req.targetMac, req.targetIp]).toEqual(['6c:f0:49:b2:de:6e', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.138']);
    const rep = decodeFrame(readFrames(corpusPath('pcapplusplus/PacketExamples/ArpResponsePacket.pcap'))[0]).layers[1] as ArpLayer;
    expect([rep.op, rep.senderMac, rep.senderIp, rep.targetMac, rep.targetIp]).toEqual([ARPOP.REPLY, '30:46:9a:23:fb:fa', '10.0.0.138', '6c:f0:49:b2:de:6e', '10.0.0.1']);
  });

  it.skipIf(!!noCorpus)('decodes RARP (libpcap rarp_req_reply.pcapng)', () => {
    const [q, r] = readFrames(corpusPath('libpcap/tests/filter/rarp_req_reply.pcapng')).map((f) => decodeFrame(f).layers[1] as ArpLayer);
    expect([q.op, q.targetMac]).toEqual([ARPOP.REVREQUEST, '00:0c:29:34:0b:de']);
    expect([r.op, r.targetIp]).toEqual([ARPOP.REVREPLY, '10.1.1.100']);
  });

  it('decodes ATM ARP addresses and subaddresses', () => {
    const l = decodeFrame(framesOf(1, [CRAFTED[23]])[0]).layers[1] as ArpLayer;
    expect([l.atm, l.sha.length, l.ssa.length, l.tha.length, l.tsa.length, l.senderIp, l.targetIp]).toEqual([true, 20, 2, 20, 0, '192.0.2.1', '192.0.2.2']);
  });

  it('marks a packet cut before its last address as truncated', () => {
    const p = decodeFrame(framesOf(1, [CRAFTED[20]])[0]);
    expect([p.layers.length, p.layers[1].truncated]).toEqual([2, true]);
  });

  it('builds requests and replies from layers', () => {
    const req = encodeStack([
      makeLayer(ethernet, { dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01' }),
      makeLayer(arp, { op: ARPOP.REQUEST, senderMac: '02:00:00:00:00:01', senderIp: '192.0.2.1', targetIp: '192.0.2.2' }),
    ]);
    expect(Buffer.from(req).toString('hex')).toBe(CRAFTED[0]);
    const rep = encodeStack([
      makeLayer(ethernet, { dst: '02:00:00:00:00:01', src: '0a:0b:0c:0d:0e:0f' }),
      makeLayer(arp, { op: ARPOP.REPLY, senderMac: '0a:0b:0c:0d:0e:0f', senderIp: '192.0.2.2', targetMac: '02:00:00:00:00:01', targetIp: '192.0.2.1' }),
    ]);
    const l = decodeFrame(framesOf(1, [Buffer.from(rep).toString('hex')])[0]).layers[1] as ArpLayer;
    expect([l.op, l.senderMac, l.senderIp, l.targetMac, l.targetIp]).toEqual([2, '0a:0b:0c:0d:0e:0f', '192.0.2.2', '02:00:00:00:00:01', '192.0.2.1']);
    expect(() => makeLayer(arp, { senderIp: '192.0.2.300' })).toThrow(/bad IPv4 address/);
  });

  it('encodes decoded packets back to the same bytes', () => {
    let checked = 0;
    for (const f of framesOf(1, CRAFTED)) if (!(decodeFrame(f).layers[1] as ArpLayer).atm && expectReencodes(f)) checked++;
    if (hasCorpus) {
      for (const file of ['zeek/arp-leak.pcap', 'zeek/arp-who-has.pcap', 'libpcap/tests/filter/rarp_req_reply.pcapng', 'tcpdump/802.1ad_QinQ.pcap']) {
        for (const f of readFrames(corpusPath(file))) if (expectReencodes(f)) checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('survives every truncation', () => {
    for (const f of framesOf(1, CRAFTED)) sweepTruncation(f);
  });
});

describe.skipIf(!!noTcpdump)('ARP text identical to tcpdump', () => {
  const flagSets = [['-n'], ['-n', '-v'], ['-n', '-e'], ['-n', '-e', '-v'], ['-n', '-q'], ['-n', '-x'], ['-n', '-e', '-x'], ['-n', '-A']];

  it('on every operation, hardware and protocol type, ATM ARP and cut-short packets', () => {
    expectSameText(framesOf(1, CRAFTED), flagSets);
  });

  it.skipIf(!!noCorpus)('on corpus ARP captures, malformed ones included', () => {
    for (const file of [
      'zeek/arp-leak.pcap', 'zeek/arp-who-has.pcap', 'libpcap/tests/filter/rarp_req_reply.pcapng', 'zeek/snap-arp.pcapng',
      'pcapplusplus/PacketExamples/ArpRequestPacket.pcap', 'pcapplusplus/PacketExamples/ArpResponsePacket.pcap',
      'tcpdump/malformed/arp-too-long-tha.pcap', 'tcpdump/malformed/getname_2_read4_asan.pcap',
    ]) expectSameText(readFrames(corpusPath(file)), flagSets);
    // tcpdump's own test: 2282 fuzzed ARP frames at -vvv -e.
    expectSameText(readFrames(corpusPath('tcpdump/malformed/arp-oobr.pcap')), [['-n', '-vvv', '-e']]);
  });
});

describe.skipIf(!!noTshark)('ARP fields identical to tshark', () => {
  const names = [
    'arp.hw.type', 'arp.proto.type', 'arp.hw.size', 'arp.proto.size', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.hw',
    'arp.src.proto_ipv4', 'arp.src.proto', 'arp.dst.hw_mac', 'arp.dst.hw', 'arp.dst.proto_ipv4', 'arp.dst.proto',
  ];

  it('on crafted packets', () => {
    // Frame relay, ATM and cut-short packets are dissected differently by tshark.
    expectSameFields(framesOf(1, CRAFTED.slice(0, 14).concat(CRAFTED.slice(16, 20))), names);
  });

  it.skipIf(!!noCorpus)('on corpus captures', () => {
    for (const file of ['zeek/arp-leak.pcap', 'libpcap/tests/filter/rarp_req_reply.pcapng', 'zeek/snap-arp.pcapng', 'tcpdump/802.1ad_QinQ.pcap']) {
      expectSameFields(readFrames(corpusPath(file)), ['frame.protocols', ...names]);
    }
  });
});
