/**
 * http.* fields against live tshark 4.0: our stream parser's messages (on the frames completing
 * them) and tshark's -T fields columns, on the fixtures and the corpus HTTP captures.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_HTTP_FIELDS, HTTP_FIELDS, compareColumns, plainCapture, corpusDir, corpusHttpCaptures, haveCorpus, haveTshark, ourHttpColumns, repoRoot, tsharkColumns } from './harness.js';

if (!haveTshark) console.log('http fields: tshark not installed, conformance tests skipped');
if (!haveCorpus) console.log('http fields: ../shared/corpus absent, corpus conformance skipped');

/**
 * Captures whose HTTP tshark reaches through layers wirescope does not decode, or through frames cut
 * by the snaplen (tshark dissects a cut segment's head on its own; the reassembled chunk does not
 * say it was cut). Counted in the overall figure, left out of the 99% assertion.
 */
const OUT_OF_SCOPE: Record<string, string> = {
  'libpcap/tests/filter/AH-IPcomp-IPv4.pcap': 'IPComp (deflate) payloads: no IPComp decompression',
  'libpcap/tests/filter/AH-IPcomp-IPv6.pcap': 'IPComp (deflate) payloads: no IPComp decompression',
  'libpcap/tests/filter/arcnet-rfc1051-arp-icmp-http.pcap': 'ARCNET link type not decoded',
  'pcapplusplus/PcapExamples/one_http_stream_rst.pcap': 'PPPoE session frames not decoded',
  'pcapplusplus/PacketExamples/SllPacket.pcap': 'response head in a frame cut by the snaplen',
  'pcapplusplus/PcapExamples/pcapng-example.pcapng': 'response head in a frame cut by the snaplen',
};

function compare(file: string, fields = ALL_HTTP_FIELDS) {
  return compareColumns(ourHttpColumns(file, fields), tsharkColumns(file, fields));
}

describe.skipIf(!haveTshark)('http.* fields identical to tshark', () => {
  for (const name of ['http.pcap', 'snaplen-60.pcap', 'tcp-sack-rst.pcap']) {
    it(`fixtures/${name}`, () => {
      const c = compare(path.join(repoRoot, 'fixtures', name));
      expect(c.diffs).toEqual([]);
    });
  }

  it.skipIf(!haveCorpus)('corpus HTTP captures: at least 99% of cells identical', () => {
    let cells = 0;
    let same = 0;
    let allCells = 0;
    let allSame = 0;
    const columnCells = new Array<number>(ALL_HTTP_FIELDS.length).fill(0);
    const columnSame = new Array<number>(ALL_HTTP_FIELDS.length).fill(0);
    const report: string[] = [];
    const files = corpusHttpCaptures();
    for (const rel of files) {
      const c = compare(plainCapture(path.join(corpusDir, rel)));
      allCells += c.cells;
      allSame += c.same;
      if (OUT_OF_SCOPE[rel] !== undefined) {
        if (c.diffs.length > 0) report.push(`${rel}: ${c.same}/${c.cells} (${OUT_OF_SCOPE[rel]})`);
        continue;
      }
      cells += c.cells;
      same += c.same;
      c.columnCells.forEach((n, k) => { columnCells[k] += n; columnSame[k] += c.columnSame[k]; });
      if (c.diffs.length > 0) {
        report.push(`${rel}: ${c.same}/${c.cells}`);
        for (const d of c.diffs.slice(0, 3)) report.push(`  #${d.frame} ours=${JSON.stringify(d.ours)} tshark=${JSON.stringify(d.tshark)}`);
      }
    }
    const pct = (a: number, b: number) => `${a}/${b} (${((100 * a) / b).toFixed(2)}%)`;
    let six = 0;
    let sixSame = 0;
    for (let k = 0; k < HTTP_FIELDS.length; k++) { six += columnCells[k]; sixSame += columnSame[k]; }
    console.log(report.join('\n') + `\nhttp fields vs tshark on ${files.length} captures: all ${ALL_HTTP_FIELDS.length} fields ${pct(allSame, allCells)} ` +
      `cells identical; without the out-of-scope captures ${pct(same, cells)}; issue #5's six fields ${pct(sixSame, six)}\n` +
      ALL_HTTP_FIELDS.map((f, k) => `  ${f} ${columnSame[k]}/${columnCells[k]}`).join('\n'));
    expect(six).toBeGreaterThan(500);
    expect(sixSame / six).toBeGreaterThanOrEqual(0.99);
    expect(same / cells).toBeGreaterThanOrEqual(0.99);
  }, 600_000);
});
