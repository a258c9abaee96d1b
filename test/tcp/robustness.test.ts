/**
 * The tracker never throws on what the decoder hands it: every corpus capture (malformed ones
 * included) and seeded random mutations of TCP frames, with reassembly on; nothing stays buffered
 * after finish().
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { decodeFrame } from '../../src/core/dissector.js';
import { ConnTracker } from '../../src/tcp/conntrack.js';
import { ReassemblyBudget, type StreamSink } from '../../src/tcp/reassembler.js';
import { corpusDir, hasCorpus, repoRoot } from '../conformance/corpus.js';
import { ourStreams } from './tshark-streams.js';
import { readFrames } from '../dissectors/link-helpers.js';

if (!hasCorpus) console.log('skipping corpus robustness run: ../shared/corpus is absent');

function* captures(d: string): Generator<string> {
  for (const e of readdirSync(d)) {
    const p = path.join(d, e);
    if (statSync(p).isDirectory()) {
      if (e !== 'reference') yield* captures(p);
    } else if (/\.(pcap|pcapng|cap)$/.test(e)) yield p;
  }
}

const counting = (): StreamSink => ({ chunk: () => {}, event: () => {}, complete: () => {} });

describe.skipIf(!hasCorpus)('tracker on every corpus capture', () => {
  it('tracks and reassembles without throwing', () => {
    let files = 0;
    for (const file of captures(corpusDir)) {
      files++;
      expect(() => ourStreams(file, { sink: counting })).not.toThrow();
    }
    expect(files).toBeGreaterThan(100);
  });
});

describe('seeded mutations of TCP frames', () => {
  const fixture = path.join(repoRoot, 'fixtures/tcp-sack-rst.pcap');
  it.skipIf(!existsSync(fixture))('never throw and leave nothing buffered', () => {
    const base = readFrames(fixture);
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
    const budget = new ReassemblyBudget({ maxBufferedPerDirection: 4096, maxBufferedTotal: 16384, conflictWindow: 256 });
    const tracker = new ConnTracker({ sink: counting, limits: budget.limits, maxConnections: 8 });
    for (let round = 0; round < 20; round++) {
      for (const f of base) {
        const data = f.data.slice();
        // Flip bytes in the IP and TCP headers and payload (ports, sequence numbers, flags, lengths).
        const flips = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < flips; k++) data[14 + Math.floor(rand() * (data.length - 14))] = Math.floor(rand() * 256);
        const cap = rand() < 0.2 ? Math.floor(rand() * data.length) : data.length;
        const p = decodeFrame({ ...f, data: data.subarray(0, cap), capLen: cap });
        expect(() => tracker.push(p)).not.toThrow();
      }
    }
    tracker.finish();
    for (const c of tracker.connections()) for (const r of c.reassembly!) expect(r.bufferedBytes).toBe(0);
  });
});
