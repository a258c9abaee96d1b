/**
 * Ethernet II and 802.3/LLC/SNAP frames: decoding real bytes, encoding, truncation, and text and
 * fields identical to tcpdump 4.99.3 and tshark 4.0.17.
 */
import { describe, it, expect } from 'vitest';
import { decodeFrame, encodeStack, makeLayer } from '../../src/core/dissector.js';
import { ethernet, EthernetLayer } from '../../dissectors/ethernet.js';
import { llc, LlcLayer, snapFields } from '../../dissectors/llc.js';
import { arp, ArpLayer, ARPOP } from '../../dissectors/arp.js';
import {
  corpusPath, expectReencodes, expectSameFields, expectSameText, framesOf, hasCorpus, readFrames, sweepTruncation,
  toolSkipReason,
} from './link-helpers.js';

const noCorpus = hasCorpus ? '' : '../shared/corpus is absent';
const noTcpdump = toolSkipReason('tcpdump');
const noTshark = toolSkipReason('tshark');
for (const r of new Set([noCorpus, noTcpdump, noTshark])) if (r) console.log(`ethernet tests partly skipped: ${r}`);

const MACS = '0a0000000002' + '0a0000000001';
const IPV4_UDP = '4500001c0001000040110000c0000201c00002021f901f9000080000';

/** Ethernet, 802.3 and LLC frames tcpdump prints with the printers wirescope has. */
const CRAFTED = [
  MACS + '0800' + IPV4_UDP,
  MACS + '0806' + '0001080006040001' + '0a0000000001c0000201' + '000000000000c0000202',
  MACS + '1234' + '00112233445566778899',           // unknown EtherType: hex dump
  MACS + '88b5' + '0102',                            // local experimental type, unknown to tcpdump
  MACS + '0010' + 'f0f003' + '11'.repeat(13),        // 802.3 length 16: NetBEUI UI
  MACS + '0040' + 'f0f003' + '11'.repeat(13),        // length beyond the frame
  MACS + '0020' + '1234' + '0300' + '00'.repeat(10), // I frame, unknown SAPs
  MACS + '0020' + '1335' + '0100' + '00'.repeat(10), // S frame, group DSAP, response
  MACS + '0020' + '12130501' + '00'.repeat(10),
  MACS + '0020' + 'f0f0' + '53' + '00'.repeat(10),   // disc with poll
  MACS + '0020' + 'f0f1' + '87' + '00'.repeat(10),   // frmr, response
  MACS + '0020' + 'f0f0' + '2b' + '00'.repeat(10),   // unknown U command
  MACS + '0004' + 'f0f0afbb',                        // XID without its format byte
  MACS + '0006' + 'f0f0af810102',                    // XID with it
  MACS + '0005' + 'f0f0af8101',                      // XID cut short
  MACS + '0020' + 'aaaa03000000' + '1234' + '00'.repeat(20), // SNAP, unknown EtherType
  MACS + '0020' + 'aaaa03123456' + '0007' + '00'.repeat(20), // SNAP, unknown OUI
  MACS + '0024' + 'aaaa03000000' + '0800' + IPV4_UDP,         // SNAP IPv4
  MACS + '0024' + 'aaaa03000000' + '0806' + '0001080006040002' + '0a0000000001c0000201' + '0a0000000002c0000202',
  MACS + '0023' + '060603' + IPV4_UDP,                        // RFC 948 IP over LLC
  MACS + '0004' + 'f0',                              // LLC cut short by its length
  MACS + '0008' + 'aaaa03000000',                    // SNAP cut short
  MACS + '08',                                       // Ethernet header cut short
];

describe('Ethernet decoding', () => {
  it.skipIf(!!noCorpus)('decodes an Ethernet II frame field by field', () => {
    const f = readFrames(corpusPath('zeek/vlan-pcp-dei.pcapng'))[2];
    const p = decodeFrame(f);
    const e = p.layers[0] as EthernetLayer;
    expect(e.dissector).toBe(ethernet);
    expect([e.dst, e.src, e.type, e.hdrLen, e.payloadLen]).toEqual(['ff:ff:ff:ff:ff:ff', '16:4b:df:50:b2:93', 0x0800, 14, 40]);
    expect(p.layers[1].dissector.name).toBe('ip');
  });

  it.skipIf(!!noCorpus)('decodes an 802.3 frame with LLC/SNAP carrying ARP', () => {
    const p = decodeFrame(readFrames(corpusPath('zeek/snap-arp.pcapng'))[0]);
    const [e, l, a] = p.layers as [EthernetLayer, LlcLayer, ArpLayer];
    expect([e.dst, e.src, e.type, e.payloadLen]).toEqual(['ff:ff:ff:ff:ff:ff', 'c2:3d:19:6c:00:01', 36, 36]);
    expect(e.dissector.protocols).toBe('eth');
    expect([l.dsap, l.ssap, l.control, l.snap, l.oui, l.pid, l.hdrLen]).toEqual([0xaa, 0xaa, 3, true, 0, 0x0806, 8]);
    expect([a.hrd, a.op, a.senderIp, a.targetIp]).toEqual([6, ARPOP.REQUEST, '10.0.0.1', '10.0.0.2']);
    expect(p.layers.length).toBe(3);
  });

  it.skipIf(!!noCorpus)('decodes NetBEUI LLC frames and raw 802.3 IPX', () => {
    const frames = readFrames(corpusPath('libpcap/tests/filter/llc.pcap'));
    const u = decodeFrame(frames[1]).layers[1] as LlcLayer;
    expect([u.dsap, u.ssap, u.control, u.isU, u.hdrLen]).toEqual([0xf0, 0xf0, 0x7f, true, 3]);
    const i = decodeFrame(frames[5]).layers[1] as LlcLayer;
    expect([i.control, i.isU, i.hdrLen]).toEqual([0x0101, false, 4]);
    expect(decodeFrame(frames[2]).layers[1].dissector.protocols).toBe('ipx');
  });

  it.skipIf(!!noCorpus)('encodes decoded frames back to the same bytes', () => {
    let checked = 0;
    for (const file of ['zeek/vlan-pcp-dei.pcapng', 'zeek/snap-arp.pcapng', 'libpcap/tests/filter/llc.pcap', 'zeek/arp-leak.pcap']) {
      for (const f of readFrames(corpusPath(file))) if (expectReencodes(f)) checked++;
    }
    for (const f of framesOf(1, CRAFTED)) if (expectReencodes(f)) checked++;
    expect(checked).toBeGreaterThan(40);
  });

  it('builds an 802.3 SNAP frame from layers: lengths and types filled in', () => {
    const layers = [
      makeLayer(ethernet, { dst: 'ff:ff:ff:ff:ff:ff', src: '0a:00:00:00:00:01' }),
      makeLayer(llc, snapFields(0)),
      makeLayer(arp, { op: ARPOP.REQUEST, senderMac: '0a:00:00:00:00:01', senderIp: '192.0.2.1', targetIp: '192.0.2.2' }),
    ];
    const bytes = encodeStack(layers);
    expect(Buffer.from(bytes).toString('hex')).toBe(
      'ffffffffffff0a0000000001' + '0024' + 'aaaa03000000' + '0806' + '0001080006040001' + '0a0000000001c0000201000000000000c0000202');
    const p = decodeFrame(framesOf(1, [Buffer.from(bytes).toString('hex')])[0]);
    expect(p.layers.map((l) => l.dissector.name)).toEqual(['eth', 'llc', 'arp']);
  });

  it('keeps a type field that already selects the payload (RARP stays 0x8035)', () => {
    const e = makeLayer(ethernet, { dst: 'ff:ff:ff:ff:ff:ff', src: '0a:00:00:00:00:01', type: 0x8035 });
    const bytes = encodeStack([e, makeLayer(arp, { op: ARPOP.REVREQUEST })]);
    expect((bytes[12] << 8) | bytes[13]).toBe(0x8035);
    const plain = encodeStack([makeLayer(ethernet, {}), makeLayer(arp, {})]);
    expect((plain[12] << 8) | plain[13]).toBe(0x0806);
  });

  it('survives every truncation of real frames, marking the cut layer', () => {
    for (const f of framesOf(1, CRAFTED)) sweepTruncation(f);
    if (hasCorpus) for (const f of readFrames(corpusPath('zeek/snap-arp.pcapng'))) sweepTruncation(f);
  });
});

describe.skipIf(!!noTcpdump)('Ethernet text identical to tcpdump', () => {
  const flagSets = [['-n'], ['-n', '-e'], ['-n', '-v'], ['-n', '-q'], ['-n', '-e', '-q'], ['-n', '-x'], ['-n', '-e', '-x'], ['-n', '-X'], ['-n', '-e', '-A']];

  it('on crafted Ethernet, 802.3, LLC and SNAP frames', () => {
    expectSameText(framesOf(1, CRAFTED), flagSets);
  });

  it('names MAC addresses without -n (Broadcast, OUI names)', () => {
    expectSameText(framesOf(1, [
      'ffffffffffff' + '00000c123456' + '1234' + '0011',
      '0180c2000000' + '080007000001' + '0020' + '1234' + '0300' + '00'.repeat(10),
      '02000000000a' + '00005e000001' + '0020' + 'aaaa0300000c' + '2222' + '00'.repeat(20),
    ]), [[], ['-e']]);
  });

  it.skipIf(!!noCorpus)('on corpus 802.3/LLC captures', () => {
    // llc.pcap's NetBIOS and IPX frames need printers wirescope does not have.
    const llcFrames = readFrames(corpusPath('libpcap/tests/filter/llc.pcap')).filter((_, k) => [1, 3, 5, 8].includes(k));
    expectSameText(llcFrames, flagSets);
    expectSameText(readFrames(corpusPath('zeek/snap-arp.pcapng')), flagSets);
  });
});

describe.skipIf(!!noTshark)('Ethernet fields identical to tshark', () => {
  const names = ['frame.protocols', 'eth.dst', 'eth.src', 'eth.addr', 'eth.type', 'eth.len', 'llc.dsap', 'llc.ssap', 'llc.control', 'llc.oui', 'llc.type', 'llc.pid'];

  it('on crafted frames', () => {
    // tshark's own LLC sub-dissectors (NetBEUI) and padding heuristics differ on the rest.
    expectSameFields(framesOf(1, [CRAFTED[0], CRAFTED[1], CRAFTED[2], CRAFTED[15], CRAFTED[16], CRAFTED[17], CRAFTED[18]]), names);
  });

  it.skipIf(!!noCorpus)('on corpus captures', () => {
    expectSameFields(readFrames(corpusPath('zeek/snap-arp.pcapng')), names);
    expectSameFields(readFrames(corpusPath('zeek/vlan-pcp-dei.pcapng')), names.filter((n) => n !== 'frame.protocols'));
    expectSameFields(readFrames(corpusPath('libpcap/tests/filter/llc.pcap')), names.slice(1));
  });
});
