/**
 * Constant memory: a 300 MB capture read to the end, from a file and through a pipe, in a child
 * process that samples its RSS; the growth must stay far below the file size.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { makeTempDir, distPcapDir, pcapFile, payload } from './helpers.js';

const tmp = makeTempDir('pcap-memory');
afterAll(() => tmp.cleanup());

const RECORDS_PER_BLOCK = 1024;
const BLOCKS = 300;
const DATA_LEN = 1008; // 16 + 1008: 1 KiB per record, 1 MiB per block

const big = path.join(tmp.dir, 'big.pcap');
const script = path.join(tmp.dir, 'measure.mjs');

function makeBigFile(): void {
  const withHeader = pcapFile({
    le: true,
    records: Array.from({ length: RECORDS_PER_BLOCK }, (_, i) => ({ sec: 1700000000 + i, frac: i, data: payload(DATA_LEN, i) })),
  });
  const fd = openSync(big, 'w');
  writeSync(fd, withHeader);
  const block = withHeader.subarray(24);
  for (let i = 1; i < BLOCKS; i++) writeSync(fd, block);
  closeSync(fd);
  writeFileSync(script, `
    import { openCapture } from ${JSON.stringify(path.join(distPcapDir(), 'reader.js'))};
    const r = openCapture(process.argv[2]);
    const base = process.memoryUsage().rss;
    let peak = base, frames = 0, bytes = 0;
    for (let f = r.next(); f; f = r.next()) {
      frames++;
      bytes += f.data.length;
      if ((frames & 1023) === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    r.close();
    process.stdout.write(JSON.stringify({ frames, bytes, growth: peak - base }));
  `);
}

describe('constant memory', () => {
  beforeAll(makeBigFile, 60_000);
  const expected = { frames: RECORDS_PER_BLOCK * BLOCKS, bytes: RECORDS_PER_BLOCK * BLOCKS * DATA_LEN };

  it('reads a 300 MB file with RSS growth under 100 MB', () => {
    const r = spawnSync('node', [script, big], { encoding: 'utf8' });
    const got = JSON.parse(r.stdout);
    console.log(`300 MB pcap from a file: ${got.frames} frames, RSS growth ${(got.growth / 1048576).toFixed(1)} MB`);
    expect({ frames: got.frames, bytes: got.bytes }).toEqual(expected);
    expect(got.growth).toBeLessThan(100 * 1024 * 1024);
  }, 60_000);

  it('reads it through a pipe on standard input with RSS growth under 100 MB', () => {
    const r = spawnSync('sh', ['-c', `cat '${big}' | node '${script}' -`], { encoding: 'utf8' });
    const got = JSON.parse(r.stdout);
    console.log(`300 MB pcap from a pipe: ${got.frames} frames, RSS growth ${(got.growth / 1048576).toFixed(1)} MB`);
    expect({ frames: got.frames, bytes: got.bytes }).toEqual(expected);
    expect(got.growth).toBeLessThan(100 * 1024 * 1024);
  }, 60_000);
});
