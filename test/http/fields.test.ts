/**
 * http.* fields against live tshark 4.0: our stream parser's messages (on the frames completing
 * them) and tshark's -T fields columns, on the fixtures and the corpus HTTP captures.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareColumns, plainCapture, corpusDir, corpusHttpCaptures, haveCorpus, haveTshark, ourHttpColumns, repoRoot, tsharkColumns } from './harness.js';

if (!haveTshark) console.log('http fields: tshark not installed, conformance tests skipped');
if (!haveCorpus) console.log('http fields: ../shared/corpus absent, corpus conformance skipped');

function compare(file: string) {
  return compareColumns(ourHttpColumns(file), tsharkColumns(file));
}

describe.skipIf(!haveTshark)('http.* fields identical to tshark', () => {
  for (const name of ['http.pcap', 'snaplen-60.pcap']) {
    it(`fixtures/${name}`, () => {
      const c = compare(path.join(repoRoot, 'fixtures', name));
      expect(c.diffs).toEqual([]);
    });
  }

  it.skipIf(!haveCorpus)('corpus HTTP captures: at least 99% of cells identical', () => {
    let cells = 0;
    let same = 0;
    const report: string[] = [];
    for (const rel of corpusHttpCaptures()) {
      const c = compare(plainCapture(path.join(corpusDir, rel)));
      cells += c.cells;
      same += c.same;
      if (c.diffs.length > 0) {
        report.push(`${rel}: ${c.same}/${c.cells}`);
        for (const d of c.diffs.slice(0, 3)) report.push(`  #${d.frame} ours=${JSON.stringify(d.ours)} tshark=${JSON.stringify(d.tshark)}`);
      }
    }
    console.log(report.join('\n') + `\nhttp fields vs tshark: ${same}/${cells} cells identical (${((100 * same) / cells).toFixed(2)}%)`);
    expect(cells).toBeGreaterThan(100);
    expect(same / cells).toBeGreaterThanOrEqual(0.99);
  });
});
