import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer, Table, type Packet } from '../../src/core/dissector.js';
import { foldChecksum, sumWords } from '../../src/core/checksum.js';
import { openCapture } from '../../src/pcap/reader.js';
import { udp, UdpLayer, checksumShouldBe } from '../../dissectors/udp.js';
import type { NetworkLayer } from '../../dissectors/ipproto.js';
import { corpusDir, hasCorpus, hasTool } from '../conformance/corpus.js';
import { frames, ipv4Frame, ipv6Frame, ourFields, prefixes, textDifferences, tsharkFields, writeCapture } from './transport.js';

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!hasCorpus) console.log('UDP corpus tests skipped: ../shared/corpus is absent');
if (!haveTcpdump) console.log('UDP tcpdump comparisons skipped: tcpdump is not installed');
if (!haveTshark) console.log('UDP tshark field comparisons skipped: tshark is not installed');

const FLAGS = [['-n'], ['-n', '-v'], ['-n', '-vv'], ['-n', '-q'], ['-n', '-e'], ['-n', '-x'], ['-n', '-X']];
const DATA = new TextEncoder().encode('hello world!');

function udpLayer(p: Packet): UdpLayer {
  const l = p.layers.find((x) => x instanceof UdpLayer);
  if (!l) throw new Error('no UDP layer');
  return l as UdpLayer;
}

function datagram(fields: Partial<UdpLayer> = {}, payload = DATA): Uint8Array {
  return ipv4Frame([makeLayer(udp, { srcPort: 1234, dstPort: 9999, ...fields })], payload);
}

/** Rewrites the 16-bit field at o of the UDP header in a frame built by ipv4Frame (Ethernet 14 + IPv4 20). */
function patched(frame: Uint8Array, o: number, v: number): Uint8Array {
  const f = frame.slice();
  f[34 + o] = v >> 8;
  f[34 + o + 1] = v & 0xff;
  return f;
}

describe('UDP decode', () => {
  it('reads the header of an encoded datagram field by field', () => {
    const p = decodeFrame(frames([datagram()])[0]);
    const l = udpLayer(p);
    expect([l.srcPort, l.dstPort, l.ulen, l.hdrLen, l.payloadLen, l.truncated, l.invalid]).toEqual([1234, 9999, 20, 8, 12, false, null]);
    expect([l.nextTable, l.nextKey, l.altKey]).toEqual([Table.UdpPort, 1234, 9999]);
    // The encoder's checksum verifies: the sum over pseudo-header and datagram folds to zero.
    const net = p.layers[1] as unknown as NetworkLayer;
    expect(foldChecksum(sumWords(p.buf, l.off, l.off + 20, net.pseudoHeaderSum(17, 20)))).toBe(0);
  });

  it('marks lengths that contradict the IP layer', () => {
    const short = udpLayer(decodeFrame(frames([patched(datagram(), 4, 4)])[0]));
    expect(short.invalid).toBe('truncated-udplength');
    const long = udpLayer(decodeFrame(frames([patched(datagram(), 4, 40)])[0]));
    expect([long.invalid, long.payloadLen]).toEqual(['bad length', 12]);
    const inner = udpLayer(decodeFrame(frames([patched(datagram(), 4, 10)])[0]));
    expect([inner.invalid, inner.payloadLen]).toEqual([null, 2]);
  });

  it('decodes every prefix of a datagram without throwing, truncated when cut inside the header', () => {
    for (const p of prefixes(datagram())) {
      expect(p.error).toBeNull();
      const cut = p.frame.capLen;
      const l = p.layers.find((x) => x instanceof UdpLayer);
      if (cut < 34) expect(l).toBeUndefined();
      else expect(l!.truncated).toBe(cut < 42);
    }
  });

  it.skipIf(!hasCorpus)('decodes real datagrams of the corpus and re-encodes them byte for byte', () => {
    let n = 0;
    let recomputed = 0;
    for (const rel of ['zeek/chksums/ip4-udp-bad-chksum.pcap', 'zeek/udp-broadcast.pcap', 'tcpdump/dns_udp.pcap', 'tcpdump/edns-opts.pcap', 'tcpdump/dhcp-rfc4388.pcap']) {
      const r = openCapture(path.join(corpusDir, rel));
      for (let f = r.next(); f !== null; f = r.next()) {
        const p = decodeFrame(f);
        const i = p.layers.findIndex((x) => x instanceof UdpLayer);
        if (i < 0 || p.layers[i].truncated || p.layers[i].invalid) continue;
        const l = p.layers[i] as UdpLayer;
        const payload = p.payloadOf(l);
        const bytes = encodeStack([l], payload.buf.subarray(payload.start, payload.end), { fixLengths: false, computeChecksums: false });
        expect(bytes).toEqual(p.buf.subarray(l.off, l.off + 8 + l.payloadLen));
        // Recomputed over the IP layer's pseudo-header, a checksum that verifies stays as it was.
        const net = p.layers[i - 1] as unknown as NetworkLayer;
        const n8 = 8 + l.payloadLen;
        const verifies = foldChecksum(sumWords(p.buf, l.off, l.off + n8, net.pseudoHeaderSum(17, n8))) === 0;
        const again = encodeStack(p.layers.slice(i - 1, i + 1), payload.buf.subarray(payload.start, payload.end), { fixLengths: false, computeChecksums: true });
        const sum = (again[again.length - l.payloadLen - 2] << 8) | again[again.length - l.payloadLen - 1];
        if (verifies && l.checksum !== 0) {
          expect(sum).toBe(l.checksum);
          recomputed++;
        }
        n++;
      }
      r.close();
    }
    expect(n).toBeGreaterThan(50);
    expect(recomputed).toBeGreaterThan(10);
  });

  it('computes in_cksum_shouldbe as tcpdump does, end-around carry included', () => {
    expect(checksumShouldBe(0x1234, 0xdbbe)).toBe(0xedf2);
    expect(checksumShouldBe(0x8000, 0x7fff)).toBe(0xffff);
    expect(checksumShouldBe(0xffff, 0xffff)).toBe(0xffff);
  });
});

describe.skipIf(!haveTcpdump)('UDP text identical to tcpdump 4.99', () => {
  it('prints the generic line, lengths, truncation and checksums as tcpdump does', () => {
    const good = datagram();
    const list: Array<Uint8Array | [Uint8Array, number]> = [
      good,
      patched(good, 6, 0x1234), // bad checksum
      patched(good, 6, 0), // no checksum
      [good, 34 + 2], [good, 34 + 4], [good, 34 + 6], [good, 34 + 8], [good, 34 + 12], // captured short
      patched(good, 4, 4), // length field < 8
      patched(good, 4, 40), // length field past the IP payload
      patched(good, 4, 10), // length field inside it
      patched(good, 4, 0),
      ipv4Frame([makeLayer(udp, { srcPort: 1234, dstPort: 9999 })], DATA.subarray(0, 0)),
      ipv4Frame([makeLayer(udp, { srcPort: 7777, dstPort: 7777 })], DATA),
      // A first fragment: no checksum check, no "bad length".
      ipv4Frame([makeLayer(udp, { srcPort: 1234, dstPort: 9999 })], new Uint8Array(100), { flagsFrag: 0x2000 }).subarray(0, 34 + 8 + 12),
    ];
    const v6 = ipv6Frame([makeLayer(udp, { srcPort: 1234, dstPort: 9999 })], DATA);
    if (v6) list.push(v6, patched6(v6, 6, 0), patched6(v6, 6, 0x4321), [v6, 54 + 3]);
    const file = writeCapture('udp-cases.pcap', frames(list));
    for (const flags of FLAGS) expect(textDifferences(file, flags)).toEqual([]);
  });

  it.skipIf(!hasCorpus)('matches tcpdump on the corpus captures of plain UDP', () => {
    const files = ['zeek/chksums/ip4-udp-bad-chksum.pcap', 'zeek/chksums/ip4-bad-chksum.pcap', 'zeek/udp-broadcast.pcap',
      'tcpdump/malformed/udp-length-heapoverflow.pcap', 'pcapplusplus/PcapExamples/frag_with_padding.pcap', 'zeek/udp-contents-truncated-oob.pcap'];
    for (const rel of files) for (const flags of FLAGS) expect(textDifferences(path.join(corpusDir, rel), flags)).toEqual([]);
  });
});

/** Rewrites a UDP header field in an IPv6 frame built by ipv6Frame (Ethernet 14 + IPv6 40). */
function patched6(frame: Uint8Array, o: number, v: number): Uint8Array {
  const f = frame.slice();
  f[54 + o] = v >> 8;
  f[54 + o + 1] = v & 0xff;
  return f;
}

describe.skipIf(!haveTshark || !hasCorpus)('UDP fields as tshark 4.0 prints them', () => {
  const FIELDS = ['udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum'];
  it('gives the same values on the corpus', () => {
    for (const rel of ['zeek/udp-broadcast.pcap', 'zeek/chksums/ip4-udp-bad-chksum.pcap', 'pcapplusplus/PcapExamples/frag_with_padding.pcap', 'tcpdump/dns_udp.pcap']) {
      const file = path.join(corpusDir, rel);
      expect(ourFields(file, FIELDS), rel).toEqual(tsharkFields(file, FIELDS));
    }
  });

  it('gives the same values on short and malformed datagrams', () => {
    const good = datagram();
    const file = writeCapture('udp-fields.pcap', frames([good, [good, 34 + 4], [good, 34 + 6], [good, 34 + 8], patched(good, 4, 4), patched(good, 4, 40), patched(good, 6, 0)]));
    expect(ourFields(file, FIELDS)).toEqual(tsharkFields(file, FIELDS));
  });
});
