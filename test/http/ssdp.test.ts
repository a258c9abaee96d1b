/**
 * SSDP (HTTP over UDP port 1900, tshark's ssdp) against live tshark and tcpdump on the corpus
 * captures that have it: every http.* field and frame.protocols of every frame through FieldsOut
 * (what `-T fields` writes), and the text tcpdump prints (it has no SSDP printer).
 */
import '../../dissectors/index.js';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/core/dissector.js';
import { FieldsOut } from '../../src/output/fields.js';
import { openCapture } from '../../src/pcap/reader.js';
import { ALL_HTTP_FIELDS, compareColumns, corpusDir, haveCorpus, haveTcpdump, haveTshark, tsharkColumns } from './harness.js';
import { wirescopeBin } from '../conformance/corpus.js';

const CAPTURES = ['zeek/raw_packets.pcap', 'pcapplusplus/PacketExamples/IPv6UdpPacket.pcap'];
const FIELDS = ['frame.protocols', ...ALL_HTTP_FIELDS];

if (!haveTshark || !haveCorpus) console.log('ssdp: tshark or ../shared/corpus missing, skipped');

function ours(file: string): string[][] {
  const out = new FieldsOut(FIELDS);
  const rows: string[][] = [];
  const sink = { writeLine: (s: string) => rows.push(s.split('\t')) };
  const r = openCapture(file, { clipToSnaplen: false });
  try {
    for (let f = r.next(); f !== null; f = r.next()) out.write(decodeFrame(f), sink);
  } finally {
    r.close();
  }
  out.finish(sink);
  return rows;
}

describe.skipIf(!haveTshark || !haveCorpus)('SSDP as tshark and tcpdump show it', () => {
  it('http.* fields and frame.protocols identical to tshark on every SSDP frame', () => {
    let ssdp = 0;
    for (const rel of CAPTURES) {
      const file = path.join(corpusDir, rel);
      const theirs = tsharkColumns(file, FIELDS);
      ssdp += theirs.filter((r) => r[0].endsWith(':ssdp')).length;
      const c = compareColumns(
        ours(file).filter((_, i) => theirs[i]?.[0].includes(':udp')),
        theirs.filter((r) => r[0].includes(':udp')),
      );
      expect(c.diffs, rel).toEqual([]);
    }
    expect(ssdp).toBe(13);
  });

  it.skipIf(!haveTcpdump)('text identical to tcpdump (UDP, length N)', () => {
    for (const rel of CAPTURES) {
      const file = path.join(corpusDir, rel);
      for (const flags of [['-n'], ['-n', '-vv'], ['-n', '-q']]) {
        const args = [...flags, '-r', file, 'udp port 1900'];
        const theirs = execFileSync('tcpdump', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        const mine = execFileSync('node', [wirescopeBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        expect(mine, `${rel} ${flags.join(' ')}`).toBe(theirs);
      }
    }
  });
});
