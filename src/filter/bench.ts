/**
 * Filter-and-write benchmark: `-r BIG -w OUT EXPR` through openCapture, compileFilter and
 * PcapWriter, timed beside `tcpdump -r BIG -w OUT EXPR` (best of N runs each).
 * Run: node dist/src/filter/bench.js BIG.pcap [EXPR] [RUNS]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCapture } from '../pcap/reader.js';
import { PcapWriter } from '../pcap/writer.js';
import { compileFilter } from './index.js';

export interface FilterBenchResult {
  expr: string;
  frames: number;
  matched: number;
  oursMs: number;
  tcpdumpMs: number | null;
}

/** Reads `input`, writes the frames matching `expr` to `output`; returns counts. */
export function filterToFile(input: string, output: string, expr: string): { frames: number; matched: number } {
  const r = openCapture(input);
  const w = new PcapWriter(output, { linkType: r.linkType, snaplen: r.snaplen, nano: r.nanosecond });
  const prog = compileFilter(expr, r.linkType, { snaplen: r.snaplen });
  let frames = 0;
  let matched = 0;
  try {
    for (let f = r.next(); f; f = r.next()) {
      frames++;
      if (prog.matches(f.data, f.capLen, f.origLen) !== 0) {
        matched++;
        w.write(f);
      }
    }
  } finally {
    w.close();
    r.close();
  }
  return { frames, matched };
}

export function benchFilterWrite(input: string, expr: string, runs = 5): FilterBenchResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-filter-bench-'));
  try {
    const out = path.join(dir, 'out.pcap');
    let oursMs = Infinity;
    let counts = { frames: 0, matched: 0 };
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      counts = filterToFile(input, out, expr);
      oursMs = Math.min(oursMs, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    let tcpdumpMs: number | null = Infinity;
    for (let i = 0; i < runs && tcpdumpMs !== null; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('tcpdump', ['-r', input, '-w', out, expr], { stdio: 'ignore' });
      if (r.status !== 0) tcpdumpMs = null;
      else tcpdumpMs = Math.min(tcpdumpMs, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { expr, ...counts, oursMs, tcpdumpMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [input, expr = "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not port 22", runs = '5'] = process.argv.slice(2);
  if (!input) {
    console.error('usage: bench.js BIG.pcap [EXPR] [RUNS]');
    process.exit(2);
  }
  const r = benchFilterWrite(input, expr, Number(runs));
  const ratio = r.tcpdumpMs ? (r.oursMs / r.tcpdumpMs).toFixed(2) : 'n/a';
  console.log(`filter+write '${r.expr}': ${r.frames} frames, ${r.matched} matched; wirescope ${r.oursMs.toFixed(1)} ms, tcpdump ${r.tcpdumpMs?.toFixed(1) ?? 'n/a'} ms, ratio ${ratio}`);
}
