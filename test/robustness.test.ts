/**
 * Hostile input never escapes a dissector: malformed and truncated captures decode and print
 * with -v -x without an exception; every prefix of real frames decodes without throwing; seeded
 * random mutations likewise. A dissector bug shows as Packet.error, which must stay null.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { corpusDir, hasCorpus, repoRoot, run, wirescopeBin } from './conformance/corpus.js';
import { openCapture, CaptureFileError } from '../src/pcap/reader.js';
import { decodeFrame, type Packet } from '../src/core/dissector.js';
import type { Frame } from '../src/core/frame.js';
import { TextOut, defaultTextOptions } from '../src/output/text.js';
import '../dissectors/index.js';

function capturesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...capturesUnder(p));
    else if (/\.(pcap|pcapng|cap)$/.test(name)) out.push(p);
  }
  return out;
}

const printers = [
  new TextOut({ ...defaultTextOptions, v: 2, x: 1 }),
  new TextOut({ ...defaultTextOptions, e: true, X: 2 }),
  new TextOut({ ...defaultTextOptions, q: 1, A: 1, S: true }),
];

/** Decodes and prints one frame every way; returns a description of any bug. */
function exercise(frame: Frame): string | null {
  let p: Packet;
  try {
    p = decodeFrame(frame);
  } catch (e) {
    return `decodeFrame threw: ${(e as Error).stack}`;
  }
  if (p.error) return `dissector bug: ${(p.error as Error).stack ?? p.error}`;
  for (const t of printers) {
    try {
      t.formatPacket(p);
    } catch (e) {
      return `printer threw: ${(e as Error).stack}`;
    }
  }
  return null;
}

/** Copies each frame of a capture (the reader's buffer is reused). */
function framesOf(file: string, max = Infinity): Frame[] {
  const frames: Frame[] = [];
  const r = openCapture(file);
  try {
    for (let f = r.next(); f !== null && frames.length < max; f = r.next()) frames.push({ ...f, data: f.data.slice() });
  } catch (e) {
    if (!(e instanceof CaptureFileError)) throw e;
  } finally {
    r.close();
  }
  return frames;
}

const malformed = hasCorpus
  ? [
      ...capturesUnder(path.join(corpusDir, 'tcpdump/malformed')),
      ...capturesUnder(path.join(corpusDir, 'zeek/trunc')),
      ...capturesUnder(path.join(corpusDir, 'libpcap/tests')),
      ...capturesUnder(path.join(corpusDir, 'pcapplusplus')).filter((f) => /malformed/i.test(f)),
    ]
  : [];
if (!hasCorpus) console.log('robustness on corpus captures skipped: ../shared/corpus is absent');

describe.skipIf(!hasCorpus)('malformed corpus captures', () => {
  it(`decodes and prints ${malformed.length} malformed captures without an uncaught exception`, () => {
    const bugs: string[] = [];
    let frames = 0;
    for (const file of malformed) {
      let r;
      try {
        r = openCapture(file);
      } catch (e) {
        if (e instanceof CaptureFileError) continue;
        bugs.push(`${file}: open threw ${(e as Error).stack}`);
        continue;
      }
      try {
        for (let f = r.next(); f !== null; f = r.next()) {
          frames++;
          const bug = exercise(f);
          if (bug) bugs.push(`${path.relative(corpusDir, file)} frame ${f.number}: ${bug}`);
        }
      } catch (e) {
        if (!(e instanceof CaptureFileError)) bugs.push(`${file}: read threw ${(e as Error).stack}`);
      } finally {
        r.close();
      }
    }
    console.log(`malformed captures: ${malformed.length} files, ${frames} frames, ${bugs.length} bugs`);
    expect(bugs.slice(0, 5)).toEqual([]);
  }, 300_000);

  it('the CLI reports damaged files in one line, never a stack trace', () => {
    for (const file of malformed.slice(0, 40)) {
      const r = run('node', [wirescopeBin, '-v', '-x', '-n', '-r', file]);
      expect(r.stderr, file).not.toMatch(/\n\s+at /);
      expect([0, 1], file).toContain(r.status);
    }
  }, 300_000);
});

function sampleCaptures(): string[] {
  const fixtures = capturesUnder(path.join(repoRoot, 'fixtures'));
  const corpus = hasCorpus
    ? ['tcpdump/print-flags.pcap', 'tcpdump/QinQpacket.pcap', 'tcpdump/icmpv6.pcap', 'tcpdump/ipv6-routing-header.pcap']
        .map((p) => path.join(corpusDir, p))
        .filter(existsSync)
    : [];
  return [...fixtures, ...corpus];
}

describe('truncation sweep and random mutations', () => {
  const files = sampleCaptures();
  it.skipIf(files.length === 0)('every prefix of every sample frame decodes without a bug', () => {
    const bugs: string[] = [];
    let decoded = 0;
    for (const file of files) {
      for (const f of framesOf(file, 200)) {
        for (let n = 0; n <= f.capLen; n++) {
          decoded++;
          const bug = exercise({ ...f, data: f.data.subarray(0, n), capLen: n });
          if (bug) { bugs.push(`${path.basename(file)} frame ${f.number} cut at ${n}: ${bug}`); break; }
        }
      }
    }
    console.log(`truncation sweep: ${decoded} prefixes of frames from ${files.length} captures`);
    expect(bugs.slice(0, 5)).toEqual([]);
  }, 300_000);

  it.skipIf(files.length === 0)('seeded random mutations decode without a bug', () => {
    let seed = 0x2545f491;
    const rand = (): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const bugs: string[] = [];
    let mutated = 0;
    for (const file of files) {
      for (const f of framesOf(file, 100)) {
        for (let k = 0; k < 50; k++) {
          const data = f.data.slice();
          const flips = 1 + Math.floor(rand() * 4);
          for (let j = 0; j < flips; j++) data[Math.floor(rand() * data.length)] = Math.floor(rand() * 256);
          mutated++;
          const bug = exercise({ ...f, data });
          if (bug) { bugs.push(`${path.basename(file)} frame ${f.number} mutation ${k}: ${bug}`); break; }
        }
      }
    }
    console.log(`random mutations: ${mutated} mutated frames`);
    expect(bugs.slice(0, 5)).toEqual([]);
  }, 300_000);
});
