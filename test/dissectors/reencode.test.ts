/**
 * encode(decode(frame)) gives the frame's bytes back, for every complete frame of the fixtures and
 * of the corpus (outside its deliberately malformed captures) that decodes whole: every dissector
 * on the way has an encoder over the same field layout, and none drops what its decoder read.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeFrame } from '../../src/core/dissector.js';
import { plainCapture } from '../conformance/corpus.js';
import { corpusDir, expectReencodes, fixturePath, hasCorpus, readFrames } from './link-helpers.js';

if (!hasCorpus) console.log('re-encoding of corpus frames skipped: ../shared/corpus is absent');

/** Captures below dir, but for the ones made to be malformed or cut. */
function captures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'malformed' && e.name !== 'trunc') out.push(...captures(p));
    } else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(e.name) && !/trunc|invalid|corrupt|malformed/i.test(e.name)) out.push(plainCapture(p));
  }
  return out;
}

/** Re-encodes the complete frames of files; returns how many were checked and which layers lacked an encoder. */
function reencodeAll(files: string[]): { checked: number; withoutEncoder: Set<string> } {
  let checked = 0;
  const withoutEncoder = new Set<string>();
  for (const file of files) {
    let frames;
    try {
      frames = readFrames(file);
    } catch {
      continue; // A capture the reader refuses (other link types, damaged files) has its own tests.
    }
    for (const f of frames) {
      if (f.capLen !== f.origLen) continue;
      if (expectReencodes(f)) checked++;
      else for (const l of decodeFrame(f).layers) if (!l.dissector.encode) withoutEncoder.add(`${l.dissector.name} (${path.basename(file)})`);
    }
  }
  return { checked, withoutEncoder };
}

describe('decode then encode gives the same bytes', () => {
  it('every complete fixture frame', () => {
    const dir = fixturePath('');
    const { checked, withoutEncoder } = reencodeAll(captures(dir));
    console.log(`fixtures: ${checked} frames re-encoded byte for byte`);
    expect([...withoutEncoder]).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  });

  it.skipIf(!hasCorpus)('every complete corpus frame that decodes whole', () => {
    const { checked, withoutEncoder } = reencodeAll(captures(corpusDir));
    console.log(`corpus: ${checked} frames re-encoded byte for byte`);
    expect([...withoutEncoder]).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
  }, 300_000);
});
