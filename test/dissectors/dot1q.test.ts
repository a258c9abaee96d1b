/**
 * 802.1Q/802.1ad VLAN tags: stacked tags on real captures, the TPIDs tcpdump knows, tags in
 * cooked captures, building tagged frames, and text and fields identical to tcpdump and tshark.
 */
import { describe, it, expect } from 'vitest';
import { decodeFrame, encodeStack, makeLayer } from '../../src/core/dissector.js';
import { TextOut, defaultTextOptions } from '../../src/output/text.js';
import { ethernet, EthernetLayer } from '../../dissectors/ethernet.js';
import { dot1ad, dot1q, VlanLayer } from '../../dissectors/dot1q.js';
import { arp, ARPOP } from '../../dissectors/arp.js';
import {
  corpusFrames, corpusPath, expectReencodes, expectSameFields, expectSameText, framesOf, hasCorpus, readFrames,
  sweepTruncation, toolSkipReason,
} from './link-helpers.js';

const noCorpus = hasCorpus ? '' : '../shared/corpus is absent';
const noTcpdump = toolSkipReason('tcpdump');
const noTshark = toolSkipReason('tshark');
for (const r of new Set([noCorpus, noTcpdump, noTshark])) if (r) console.log(`VLAN tests partly skipped: ${r}`);

const MACS = '0a0000000002' + '0a0000000001';
const ARP_REQ = '0001080006040001' + '0a0000000001c0000201' + '000000000000c0000202';
const IPV4_UDP = '4500001c0001000040110000c0000201c00002021f901f9000080000';

const CRAFTED = [
  MACS + '8100' + '0064' + '0806' + ARP_REQ,                            // vlan 100
  MACS + '8100' + 'f0640806' + ARP_REQ,                                 // p 7, DEI
  MACS + '88a8' + '00c8' + '8100' + '07d1' + '0800' + IPV4_UDP,        // 802.1ad over 802.1Q
  MACS + '9100' + '00c8' + '88a8' + 'a0c8' + '8100' + '0064' + '0806' + ARP_REQ, // three TPIDs
  MACS + '9200' + '0001' + '0806' + ARP_REQ,
  MACS + '8100' + '0fff' + '1234' + '0102030405',                      // unknown inner type
  MACS + '8100' + 'e064' + '0010' + 'f0f003' + '11'.repeat(13),       // 802.3 inside the tag
  MACS + '8100' + '0064' + '0024' + 'aaaa03000000' + '0806' + ARP_REQ, // SNAP inside the tag
  MACS + '8100' + '0064',                                              // tag without an inner type
  MACS + '8100' + '00',                                                // tag cut short
  MACS + '8100' + '0064' + '8100',                                     // second tag cut short
];

/** Linux cooked v1 frames with tags: tcpdump's SLL printer handles only 0x8100, its own way. */
function sll(proto: number, body: string): string {
  return '0000' + '0001' + '0006' + '0a0b0c0d0e0f0000' + proto.toString(16).padStart(4, '0') + body;
}
const SLL_CRAFTED = [
  sll(0x8100, '00640806' + ARP_REQ),
  sll(0x8100, 'e0641234' + 'aabbcc'),
  sll(0x8100, '00640010' + 'f0f003' + '00'.repeat(13)),
  sll(0x8100, '0064810000c80806' + ARP_REQ),
  sll(0x88a8, '00640806' + ARP_REQ),
  sll(0x8100, '0064'),
];

describe('VLAN tag decoding', () => {
  it.skipIf(!!noCorpus)('decodes 802.1ad over 802.1Q (tcpdump/802.1ad_QinQ.pcap)', () => {
    const p = decodeFrame(readFrames(corpusPath('tcpdump/802.1ad_QinQ.pcap'))[0]);
    expect(p.layers.map((l) => l.dissector.name)).toEqual(['eth', 'ieee8021ad', 'vlan', 'arp']);
    const [e, s, c] = p.layers as [EthernetLayer, VlanLayer, VlanLayer];
    expect(e.type).toBe(0x88a8);
    expect([s.vid, s.pcp, s.dei, s.type, s.off, s.hdrLen]).toEqual([200, 0, 0, 0x8100, 14, 4]);
    expect([c.vid, c.pcp, c.dei, c.type, c.off]).toEqual([2001, 0, 0, 0x0806, 18]);
    expect(p.layers[3].length).toBe(42);
  });

  it.skipIf(!!noCorpus)('reads priority and DEI (ArpRequestWithVlan.pcap)', () => {
    const p = decodeFrame(readFrames(corpusPath('pcapplusplus/PacketExamples/ArpRequestWithVlan.pcap'))[0]);
    const [, outer, inner] = p.layers as [EthernetLayer, VlanLayer, VlanLayer];
    expect([outer.vid, outer.pcp, outer.dei, outer.tci]).toEqual([666, 5, 1, 0xb29a]);
    expect([inner.vid, inner.pcp, inner.dei]).toEqual([200, 2, 0]);
  });

  it('bounds the payload by an 802.3 length inside the tag', () => {
    const p = decodeFrame(framesOf(1, [CRAFTED[6]])[0]);
    expect(p.layers.map((l) => l.dissector.protocols)).toEqual(['eth:ethertype', 'vlan', 'llc']);
    expect(p.layers[1].payloadLen).toBe(16);
  });

  it('builds stacked tags from layers: TPIDs and inner types filled in', () => {
    const bytes = encodeStack([
      makeLayer(ethernet, { dst: 'ff:ff:ff:ff:ff:ff', src: '0a:00:00:00:00:01' }),
      makeLayer(dot1ad, { vid: 200 }),
      makeLayer(dot1q, { vid: 2001, pcp: 5, dei: 1 }),
      makeLayer(arp, { op: ARPOP.REQUEST, senderMac: '0a:00:00:00:00:01', senderIp: '192.0.2.1', targetIp: '192.0.2.2' }),
    ]);
    expect(Buffer.from(bytes.subarray(12, 22)).toString('hex')).toBe('88a8' + '00c8' + '8100' + 'b7d1' + '0806');
    const out = new TextOut({ ...defaultTextOptions, n: 1, e: true, t: 1 });
    expect(out.formatPacket(decodeFrame(framesOf(1, [Buffer.from(bytes).toString('hex')])[0]))).toBe(
      '0a:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype 802.1Q-QinQ (0x88a8), length 50: vlan 200, p 0, ' +
      'ethertype 802.1Q (0x8100), vlan 2001, p 5, DEI, ethertype ARP (0x0806), Request who-has 192.0.2.2 tell 192.0.2.1, length 28');
  });

  it.skipIf(!!noCorpus)('encodes decoded tagged frames back to the same bytes', () => {
    let checked = 0;
    for (const file of ['tcpdump/802.1ad_QinQ.pcap', 'pcapplusplus/PacketExamples/ArpRequestWithVlan.pcap', 'zeek/icmp_dot1q.pcap', 'zeek/vlan-pcp-dei.pcapng']) {
      for (const f of readFrames(corpusPath(file))) if (expectReencodes(f)) checked++;
    }
    for (const f of framesOf(1, CRAFTED)) if (expectReencodes(f)) checked++;
    expect(checked).toBeGreaterThan(15);
  });

  it('survives every truncation of tagged frames', () => {
    for (const f of framesOf(1, CRAFTED)) sweepTruncation(f);
    for (const f of framesOf(113, SLL_CRAFTED)) sweepTruncation(f);
  });
});

describe.skipIf(!!noTcpdump)('VLAN text identical to tcpdump', () => {
  const flagSets = [['-n'], ['-n', '-e'], ['-n', '-v'], ['-n', '-e', '-v'], ['-n', '-q'], ['-n', '-e', '-q'], ['-n', '-x'], ['-n', '-e', '-x'], ['-n', '-e', '-A']];

  it('on crafted tagged Ethernet frames (PCP/DEI/VID, all TPIDs, 802.3 inside, cut short)', () => {
    expectSameText(framesOf(1, CRAFTED), flagSets);
  });

  it('on tags in Linux cooked captures', () => {
    expectSameText(framesOf(113, SLL_CRAFTED), flagSets);
  });

  it.skipIf(!!noCorpus)('on corpus captures with VLAN and QinQ tags', () => {
    for (const file of [
      'tcpdump/802.1ad_QinQ.pcap', 'arkime/dot1ad.pcap', 'pcapplusplus/PacketExamples/ArpRequestWithVlan.pcap',
      'pcapplusplus/PacketExamples/QinQ_802.1_AD.pcapng', 'zeek/vlan-pcp-dei.pcapng', 'zeek/icmp_dot1q.pcap', 'zeek/q-in-q.pcap',
      'pcapplusplus/PcapExamples/VlanPackets.pcap',
    ]) {
      const frames = corpusFrames(file);
      expect(frames.length).toBeGreaterThan(0);
      expectSameText(frames, flagSets);
    }
  });
});

describe.skipIf(!!noTshark)('VLAN fields identical to tshark', () => {
  const names = [
    'frame.protocols', 'eth.type', 'vlan.id', 'vlan.priority', 'vlan.dei', 'vlan.etype', 'vlan.len',
    'ieee8021ad.id', 'ieee8021ad.priority', 'ieee8021ad.dei', 'ieee8021ah.etype', 'arp.opcode',
  ];

  it('on crafted frames', () => {
    // tshark does not take TPID 0x9200 as a tag (tcpdump does): frame 5 is left out.
    expectSameFields(framesOf(1, CRAFTED.slice(0, 8).filter((_, k) => k !== 4)), names.filter((n) => n !== 'frame.protocols'));
  });

  it.skipIf(!!noCorpus)('on corpus captures', () => {
    for (const file of ['tcpdump/802.1ad_QinQ.pcap', 'arkime/dot1ad.pcap', 'pcapplusplus/PacketExamples/ArpRequestWithVlan.pcap', 'zeek/vlan-pcp-dei.pcapng', 'pcapplusplus/PacketExamples/llc_vlan.pcap']) {
      expectSameFields(readFrames(corpusPath(file)), names.slice(1));
    }
  });
});
