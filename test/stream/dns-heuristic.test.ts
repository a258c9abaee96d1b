/**
 * tshark's DNS-over-UDP heuristic in the tshark views: header checks on crafted headers, and the
 * corpus captures where tshark 4.0.17 took DNS on other ports (stored references).
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { looksLikeDns } from '../../src/stream/dns-heuristic.js';
import { encodeDnsMessage, FLAG, RR } from '../../dissectors/dns.js';
import { FieldsOut } from '../../src/output/fields.js';
import { decodeFrame } from '../../src/core/dissector.js';
import { openCapture } from '../../src/pcap/reader.js';
import { corpusDir, hasCorpus, readTsv } from '../conformance/corpus.js';
import '../../dissectors/index.js';

if (!hasCorpus) console.log('skipping the corpus part of the DNS heuristic test: ../shared/corpus is absent');

function header(flags: number, qd: number, an: number, ns: number, ar: number, extra = 20): Uint8Array {
  const b = Buffer.alloc(12 + extra);
  b.writeUInt16BE(0x1234, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return new Uint8Array(b);
}

const ok = (b: Uint8Array): boolean => looksLikeDns(b, 0, b.length, b.length);

describe('looksLikeDns', () => {
  it('takes plain queries and responses', () => {
    expect(ok(encodeDnsMessage({ id: 1, flags: FLAG.RD, questions: [{ name: 'a.example', type: RR.A }] }))).toBe(true);
    expect(ok(header(0x8180, 1, 2, 0, 1))).toBe(true);
    expect(ok(header(0x8100, 0, 64, 0, 0))).toBe(true);
  });

  it('refuses other opcodes, odd counts and bare headers', () => {
    expect(ok(header(0x2800, 1, 0, 0, 0))).toBe(false); // UPDATE
    expect(ok(header(0x0100, 2, 0, 0, 0))).toBe(false); // a query with two questions
    expect(ok(header(0x0100, 1, 1, 0, 0))).toBe(false); // a query with an answer
    expect(ok(header(0x8180, 2, 1, 0, 0))).toBe(false);
    expect(ok(header(0x8180, 1, 101, 0, 0))).toBe(false);
    expect(ok(header(0x8180, 1, 1, 11, 0))).toBe(false);
    expect(ok(header(0x8180, 1, 1, 0, 11))).toBe(false);
    expect(ok(header(0x8180, 0, 0, 1, 1))).toBe(false);
    expect(ok(header(0x0100, 1, 0, 0, 0, 0))).toBe(false);
  });
});

describe.skipIf(!hasCorpus)('DNS on other UDP ports, as tshark takes it', () => {
  it.each(['tcpdump/someip1.pcap', 'tcpdump/dns_udp_8053.pcap'])('%s', (rel) => {
    const names = ['frame.protocols', 'dns.id', 'dns.qry.name'];
    const want = readTsv(path.join(corpusDir, 'reference', rel + '.fields.tsv.gz')).map((r) => names.map((n) => r[n]).join('\t'));
    const out = new FieldsOut(names);
    const got: string[] = [];
    const r = openCapture(path.join(corpusDir, rel), { clipToSnaplen: false });
    for (let f = r.next(); f !== null; f = r.next()) got.push(out.format(decodeFrame(f)));
    r.close();
    expect(got).toEqual(want);
  });
});
