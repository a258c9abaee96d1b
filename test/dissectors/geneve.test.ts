/**
 * Geneve: real frames of the corpus decoded field by field and re-encoded byte for byte, frames
 * built with the encoders (options, flags, versions, payload types, cut short), and tcpdump's text
 * and tshark's fields for all of them.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer, type Layer, type Packet } from '../../src/core/dissector.js';
import { openCapture } from '../../src/pcap/reader.js';
import { frameProtocols } from '../../src/output/frame-fields.js';
import { ethernet, EthernetLayer } from '../../dissectors/ethernet.js';
import { ipv4 } from '../../dissectors/ipv4.js';
import { udp, UdpLayer } from '../../dissectors/udp.js';
import { ETHERTYPE_TEB, geneve, GeneveLayer, GENEVE_PORT } from '../../dissectors/geneve.js';
import { corpusDir, hasCorpus, hasTool, run } from '../conformance/corpus.js';
import { frames, ipv4Frame, ourFields, prefixes, textDifferences, tsharkFields, writeCapture } from './transport.js';

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!hasCorpus) console.log('Geneve corpus tests skipped: ../shared/corpus is absent');
if (!haveTcpdump) console.log('Geneve tcpdump comparisons skipped: tcpdump is not installed');
if (!haveTshark) console.log('Geneve tshark field comparisons skipped: tshark is not installed');

const CORPUS = ['tcpdump/geneve.pcap', 'libpcap/tests/filter/geneve.pcap'].map((f) => path.join(corpusDir, f));
const FLAGS = [['-n'], ['-n', '-v'], ['-n', '-vv'], ['-n', '-q'], ['-n', '-e'], ['-n', '-e', '-v'], ['-n', '-x'], ['-n', '-X']];
const FIELDS = [
  'geneve.version', 'geneve.flags', 'geneve.flags.oam', 'geneve.flags.critical', 'geneve.flags.reserved', 'geneve.proto_type',
  'geneve.vni', 'geneve.reserved', 'geneve.option.length', 'geneve.options', 'geneve.option', 'geneve.option.class',
  'geneve.option.type', 'geneve.option.type.critical', 'geneve.option.flags', 'geneve.option.flags.reserved',
  'geneve.option.unknown.data', 'eth.src', 'ip.src', 'udp.dstport',
];

/** An option: class, type, data words (the length field counts them). */
function option(cls: number, type: number, data: number[] = [], lengthWords = data.length / 4): number[] {
  return [cls >> 8, cls & 0xff, type, lengthWords, ...data];
}

/** IPv4 > UDP 6081 > Geneve (fields) > the inner layers (by default Ethernet > IPv4 > UDP) with a payload. */
function tunnel(fields: Partial<GeneveLayer> = {}, inner?: Layer[], payload = new TextEncoder().encode('inner payload')): Uint8Array {
  const layers = inner ?? [
    makeLayer(ethernet, { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' }),
    makeLayer(ipv4, { src: 0xc0000201, dst: 0xc0000202, finalDst: 0xc0000202, ttl: 64, id: 7 }),
    makeLayer(udp, { srcPort: 4000, dstPort: 5000 }),
  ];
  return ipv4Frame([makeLayer(udp, { srcPort: 43443, dstPort: GENEVE_PORT }), makeLayer(geneve, { vni: 0xb, ...fields }), ...layers], payload);
}

function geneveOf(p: Packet): GeneveLayer {
  const l = p.layers.find((x) => x instanceof GeneveLayer);
  if (!l) throw new Error('no Geneve layer');
  return l as GeneveLayer;
}

/** Sets the UDP length field of a frame built by tunnel() (Ethernet 14 + IPv4 20). */
function udpLength(f: Uint8Array, len: number): Uint8Array {
  const g = f.slice();
  g[38] = len >> 8;
  g[39] = len & 0xff;
  return g;
}

const OPTIONS = Uint8Array.from([...option(0x0000, 0x80, [0, 0, 0, 0x0c]), ...option(0x0102, 0x03), ...option(0xfff3, 0x01, [1, 2, 3, 4, 5, 6, 7, 8])]);

/** Built frames: options of several classes, every flag, a reserved byte, another version, other payload types, cut short. */
function craftedFrames(): Array<Uint8Array | [Uint8Array, number]> {
  const plain = tunnel();
  const withOptions = tunnel({ options: OPTIONS, flags: 0x40 });
  return [
    plain,
    withOptions,
    tunnel({ flags: 0xff, reserved: 5 }),
    tunnel({ version: 1 }),
    tunnel({ options: Uint8Array.from([...option(0x0101, 0x02, [9, 9, 9, 9]), ...option(0x0000, 0x01, [], 9)]) }),
    // IPv4 straight after the header; a payload type nothing takes.
    tunnel({}, [makeLayer(ipv4, { src: 0xc0000201, dst: 0xc0000202, finalDst: 0xc0000202, ttl: 64, id: 7 }), makeLayer(udp, { srcPort: 4000, dstPort: 5000 })]),
    tunnel({ proto: 0x1234 }, []),
    // UDP says the datagram ends inside the options; the capture ends inside the header, then inside the options.
    udpLength(withOptions, 8 + 10),
    [plain, 42 + 5],
    [withOptions, 42 + 12],
  ];
}

describe('Geneve decode and encode', () => {
  it('reads the header, options and payload type of a built frame', () => {
    const p = decodeFrame(frames([tunnel({ options: OPTIONS, flags: 0x40, vni: 0x123456 })])[0]);
    const l = geneveOf(p);
    expect([l.version, l.flags, l.proto, l.vni, l.reserved, l.optLen, l.hdrLen, l.truncated, l.invalid]).toEqual([0, 0x40, ETHERTYPE_TEB, 0x123456, 0, 24, 32, false, null]);
    expect(Buffer.from(l.options).toString('hex')).toBe(Buffer.from(OPTIONS).toString('hex'));
    // The Ethernet frame inside, and its IPv4 and UDP.
    const i = p.layers.indexOf(l);
    expect(p.layers.slice(i + 1).map((x) => x.dissector.name)).toEqual(['eth', 'ip', 'udp']);
    expect(frameProtocols(p)).toBe('eth:ethertype:ip:udp:geneve:eth:ethertype:ip:udp:data');
  });

  it('names the payload type from the inner layer when fixing lengths', () => {
    const direct = geneveOf(decodeFrame(frames([craftedFrames()[5] as Uint8Array])[0]));
    expect(direct.proto).toBe(0x0800);
    expect(geneveOf(decodeFrame(frames([tunnel({ proto: 0x86dd })])[0])).proto).toBe(ETHERTYPE_TEB);
  });

  it('marks a datagram too short for its options invalid, and cuts inside the header or options truncated', () => {
    const c = craftedFrames();
    expect(geneveOf(decodeFrame(frames([c[7] as Uint8Array])[0])).invalid).toBe('truncated-geneve');
    for (const p of prefixes(tunnel({ options: OPTIONS }))) {
      expect(p.error).toBeNull();
      const cut = p.frame.capLen;
      const l = p.layers.find((x) => x instanceof GeneveLayer);
      if (cut < 42) expect(l).toBeUndefined();
      else expect(l!.truncated).toBe(cut < 42 + 8 + OPTIONS.length);
    }
  });

  it('re-encodes built frames byte for byte (lengths and payload type kept or fixed)', () => {
    for (const bytes of craftedFrames().filter((f): f is Uint8Array => !Array.isArray(f))) {
      const p = decodeFrame(frames([bytes])[0]);
      const l = geneveOf(p);
      if (l.invalid) continue;
      const payload = p.payloadOf(l);
      const again = encodeStack([l], payload.buf.subarray(payload.start, payload.end), { fixLengths: false, computeChecksums: false });
      expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(p.buf.subarray(l.off, l.off + l.length)).toString('hex'));
    }
  });

  it.skipIf(!hasCorpus)('decodes the corpus frames and re-encodes their UDP and Geneve headers byte for byte', () => {
    let n = 0;
    for (const file of CORPUS) {
      const r = openCapture(file);
      for (let f = r.next(); f !== null; f = r.next()) {
        const p = decodeFrame(f);
        const l = geneveOf(p);
        expect([l.version, l.proto, l.truncated, l.invalid]).toEqual([0, ETHERTYPE_TEB, false, null]);
        expect([0xa, 0xb]).toContain(l.vni);
        expect(p.layers[p.layers.indexOf(l) + 1]).toBeInstanceOf(EthernetLayer);
        const u = p.layers[p.layers.indexOf(l) - 1] as UdpLayer;
        const rest = p.payloadOf(l);
        const bytes = encodeStack([u, l], rest.buf.subarray(rest.start, rest.end), { fixLengths: false, computeChecksums: false });
        expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(p.buf.subarray(u.off, u.off + u.length)).toString('hex'));
        // Fixing lengths and the payload type changes nothing either.
        const fixed = encodeStack([u, l, ...p.layers.slice(p.layers.indexOf(l) + 1, p.layers.indexOf(l) + 2)], rest.buf.subarray(rest.start + 14, rest.end), { fixLengths: true, computeChecksums: false });
        expect(Buffer.from(fixed).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
        n++;
      }
      r.close();
    }
    expect(n).toBe(49);
  });
});

/** tcpdump prints the SSH banner inside the tunnel (print-ssh.c); wirescope has no SSH printer. */
function withoutSshBanner(diffs: string[]): string[] {
  return diffs.filter((d) => !/\n {2}tcpdump: {3}.*: SSH: SSH-2\.0-/.test(d));
}

describe.skipIf(!haveTcpdump)('Geneve text identical to tcpdump 4.99', () => {
  it('on built frames: options, flags, versions, payload types, short datagrams and captures', () => {
    const file = writeCapture('geneve-cases.pcap', frames(craftedFrames()));
    for (const flags of FLAGS) expect(textDifferences(file, flags)).toEqual([]);
  });

  it.skipIf(!hasCorpus)('on the corpus captures (all but the SSH banners tcpdump prints inside)', () => {
    let lines = 0;
    for (const file of CORPUS) {
      for (const flags of FLAGS) {
        expect(withoutSshBanner(textDifferences(file, flags))).toEqual([]);
        lines += run('tcpdump', [...flags, '-r', file]).stdout.split('\n').length - 1;
      }
    }
    expect(lines).toBeGreaterThan(400);
  });
});

describe.skipIf(!haveTshark)('Geneve fields as tshark 4.0 prints them', () => {
  it('on built frames', () => {
    const file = writeCapture('geneve-fields.pcap', frames(craftedFrames()));
    expect(ourFields(file, FIELDS)).toEqual(tsharkFields(file, FIELDS));
    const theirs = tsharkFields(file, ['frame.protocols']).map((r) => r[0]);
    const ours: string[] = [];
    const r = openCapture(file);
    for (let f = r.next(); f !== null; f = r.next()) ours.push(frameProtocols(decodeFrame(f)));
    r.close();
    expect(ours).toEqual(theirs);
  });

  it.skipIf(!hasCorpus)('on the corpus captures (frame.protocols up to TCP: no SSH dissector here)', () => {
    for (const file of CORPUS) {
      expect(ourFields(file, FIELDS)).toEqual(tsharkFields(file, FIELDS));
      const theirs = tsharkFields(file, ['frame.protocols']).map((r) => r[0].replace(/:ssh$/, ':data'));
      const ours: string[] = [];
      const r = openCapture(file);
      for (let f = r.next(); f !== null; f = r.next()) ours.push(frameProtocols(decodeFrame(f)));
      r.close();
      expect(ours).toEqual(theirs);
    }
  });
});
