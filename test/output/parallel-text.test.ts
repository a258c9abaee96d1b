/**
 * The text of a big file is formatted by worker threads (src/output/parallel-text.ts); it must be
 * byte for byte the single-thread text. Forced here on small captures with tiny batches, so that
 * TCP conversations, -ttt deltas and frame numbers cross many batch boundaries and workers.
 */
import { describe, it, expect } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { corpusDir, hasCorpus, repoRoot, run, wirescopeBin } from '../conformance/corpus.js';

const fixtures = readdirSync(path.join(repoRoot, 'fixtures')).filter((n) => /\.pcap(ng)?$/.test(n)).map((n) => path.join(repoRoot, 'fixtures', n));
const corpusTcpdump = path.join(corpusDir, 'tcpdump');
const corpus = hasCorpus
  ? readdirSync(corpusTcpdump).filter((n) => /\.pcap(ng)?$/.test(n)).map((n) => path.join(corpusTcpdump, n))
  : [];
if (!hasCorpus) console.log('parallel text: ../shared/corpus is absent; comparing on fixtures/ only');

const SINGLE = { WIRESCOPE_THREADS: '0', TZ: 'UTC' };
/** Two workers (and the main thread), three frames a batch. */
const THREADED = { WIRESCOPE_THREADS: '2', WIRESCOPE_BATCH_FRAMES: '3', TZ: 'UTC' };

function both(args: string[]): { single: ReturnType<typeof run>; threaded: ReturnType<typeof run> } {
  return { single: run(process.execPath, [wirescopeBin, ...args], SINGLE), threaded: run(process.execPath, [wirescopeBin, ...args], THREADED) };
}

function expectSame(args: string[]): void {
  const { single, threaded } = both(args);
  expect(threaded.status).toBe(single.status);
  expect(threaded.stderr).toBe(single.stderr);
  expect(threaded.stdout).toBe(single.stdout);
}

/**
 * Every set has -n: without it names are looked up, a query to the machine's name server (the
 * names test covers threads without -n, in a namespace of its own).
 */
const OPTION_SETS = [['-n'], ['-nv', '-ttt', '-#'], ['-nS', '-e', '-x', '-ttttt'], ['-nq', '-tt', '-A']];

describe('text from worker threads is the single-thread text', () => {
  it.each(fixtures.flatMap((f) => OPTION_SETS.map((o) => [path.basename(f), o.join(' '), f, o] as const)))(
    '%s %s', (_name, _opts, file, opts) => {
      expectSame([...opts, '-r', file]);
    });

  it.skipIf(!hasCorpus).each(corpus.map((f) => [path.basename(f), f]))('corpus %s -n', (_name, file) => {
    expectSame(['-n', '-r', file]);
  });

  it('holds many TCP conversations across batches: the sequence numbers are relative', () => {
    const { single, threaded } = both(['-n', '-r', path.join(repoRoot, 'fixtures/http.pcap')]);
    expect(threaded.stdout).toBe(single.stdout);
    // Relative numbering is in play (tcpdump prints "ack 1" after the handshake).
    expect(single.stdout).toMatch(/, ack 1, /);
  });

  it('stops at -c N and with a filter, as in one thread', () => {
    expectSame(['-n', '-c', '7', '-r', path.join(repoRoot, 'fixtures/tls.pcap')]);
    expectSame(['-n', '-r', path.join(repoRoot, 'fixtures/tls.pcap'), 'tcp[tcpflags] & tcp-push != 0']);
  });

  it('prints every complete packet of a truncated file, then the one error line, status 1', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-par-'));
    try {
      const src = path.join(repoRoot, 'fixtures/tcp-sack-rst.pcap');
      const cut = path.join(dir, 'cut.pcap');
      const bytes = readFileSync(src);
      writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
      const { single, threaded } = both(['-n', '-r', cut]);
      expect(single.status).toBe(1);
      expect(single.stderr).toMatch(/truncated/);
      expect(threaded.stdout).toBe(single.stdout);
      expect(threaded.stderr).toBe(single.stderr);
      expect(threaded.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file past the size threshold gives the same text with worker threads as without', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-par-'));
    try {
      // A pcap of 17 MB: the fixture's records repeated (its header once).
      const src = readFileSync(path.join(repoRoot, 'fixtures/http.pcap'));
      const records = src.subarray(24);
      const copies = Math.ceil((17 << 20) / records.length);
      const file = path.join(dir, 'big.pcap');
      writeFileSync(file, Buffer.concat([src.subarray(0, 24), ...Array.from({ length: copies }, () => records)]));
      expect(statSync(file).size).toBeGreaterThan(16 << 20);
      const threaded = run(process.execPath, [wirescopeBin, '-n', '-r', file], { TZ: 'UTC', WIRESCOPE_THREADS: '1' });
      const single = run(process.execPath, [wirescopeBin, '-n', '-r', file], SINGLE);
      expect(threaded.status).toBe(0);
      expect(threaded.stdout.length).toBeGreaterThan(0);
      expect(threaded.stdout).toBe(single.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker whose own file is missing (a damaged install): one error line and status 1, not a hang', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-par-'));
    try {
      // The package's files, without the worker's.
      for (const part of ['bin', 'dist', 'package.json']) cpSync(path.join(repoRoot, part), path.join(dir, part), { recursive: true, preserveTimestamps: true });
      symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
      rmSync(path.join(dir, 'dist/src/output/text-worker.js'));
      const r = run(process.execPath, [path.join(dir, 'bin/wirescope.js'), '-n', '-r', path.join(repoRoot, 'fixtures/dns.pcap')], THREADED);
      expect(r.status).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^reading from file /);
      expect(lines[1]).toMatch(/^wirescope: text worker: cannot load file:\/\/\/.*\/dist\/src\/output\/text-worker\.js: Cannot find module /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
