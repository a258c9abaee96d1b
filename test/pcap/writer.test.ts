/**
 * PcapWriter: corpus round trips judged by tcpdump, header/record atomicity, -U mode, snaplen,
 * records bigger than the buffer, and standard output (a pipe, non-blocking pipes, a reader that
 * goes away).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { openCapture, CaptureFileError } from '../../src/pcap/reader.js';
import { PcapWriter } from '../../src/pcap/writer.js';
import { corpusDir, hasCorpus, hasTool, readTsv } from '../conformance/corpus.js';
import { makeTempDir, readAll, parseClassicPcap, payload, distPcapDir } from './helpers.js';
import type { Frame } from '../../src/core/frame.js';

const tmp = makeTempDir('pcap-writer');
afterAll(() => tmp.cleanup());
const haveTcpdump = hasTool('tcpdump');
if (!haveTcpdump) console.log('pcap writer: tcpdump checks skipped (tcpdump is not installed)');

function frame(n: number, len: number, tsSec = 1700000000 + n, tsNsec = n * 1000): Frame {
  const data = payload(len, n);
  return { number: n, linkType: 1, tsSec, tsNsec, capLen: len, origLen: len, data, ifIndex: 0 };
}

/** Copies a capture to a pcap with PcapWriter; false when it has other link types than Ethernet. */
function rewrite(src: string, out: string, nano = false): boolean {
  const r = openCapture(src);
  try {
    if (r.linkType !== 1) return false;
    const w = new PcapWriter(out, { linkType: 1, snaplen: r.snaplen, nano });
    try {
      for (let f = r.next(); f; f = r.next()) {
        if (f.linkType !== 1) return false;
        w.write(f);
      }
    } finally {
      w.close();
    }
    return true;
  } finally {
    r.close();
  }
}

function tcpdumpText(file: string, ...flags: string[]): { out: string; status: number | null } {
  const r = spawnSync('tcpdump', ['-n', ...flags, '-r', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28 });
  return { out: r.stdout, status: r.status };
}

/** Round trips tcpdump prints differently, and why. */
const ROUND_TRIP_DIFFERENCES = new Map<string, string>([
  ['tcpdump/time_2106_overflow.pcapng', 'seconds past 2^32 (year 2106) do not fit a pcap record'],
  ['tcpdump/time_2107.pcapng', 'seconds past 2^32 (year 2106) do not fit a pcap record'],
]);

describe.skipIf(!hasCorpus || !haveTcpdump)('round trip through PcapWriter, judged by tcpdump', () => {
  it('every Ethernet corpus capture prints exactly as the original, and tcpdump -w accepts the copy', () => {
    const pairs: Array<{ rel: string; src: string; copy: string }> = [];
    for (const row of readTsv(path.join(corpusDir, 'MANIFEST.tsv'))) {
      if (row.path.endsWith('.gz') || !row.link_types.startsWith('EN10MB(1)')) continue;
      const src = path.join(corpusDir, row.path);
      const copy = path.join(tmp.dir, `copy${pairs.length}.pcap`);
      try {
        if (rewrite(src, copy)) pairs.push({ rel: row.path, src, copy });
      } catch (e) {
        if (!(e instanceof CaptureFileError)) throw e;
      }
    }
    // One shell runs every tcpdump (a process per spawnSync from here costs several times more).
    const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const script = pairs.map((p) =>
      `tcpdump -n -r ${q(p.src)} 2>/dev/null; echo "@@ $?"; tcpdump -n -r ${q(p.copy)} 2>/dev/null; echo "@@ $?"; ` +
      `tcpdump -r ${q(p.copy)} -w /dev/null 2>/dev/null; echo "@@ $?"`).join('\n');
    // On stdin: as one argument the script can pass the kernel's 128 KiB limit on an argument's length.
    const out = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 30 }).stdout;
    const parts = out.split(/^@@ (\d+)\n/m);
    let files = 0;
    const known: string[] = [];
    const unexpected: string[] = [];
    pairs.forEach((p, i) => {
      const [orig, origStatus, copy, copyStatus, , rewriteStatus] = parts.slice(i * 6, i * 6 + 6);
      if (origStatus !== '0') return; // tcpdump cannot read the original to the end: nothing to compare with
      files++;
      if (copy === orig && copyStatus === '0' && rewriteStatus === '0') return;
      if (ROUND_TRIP_DIFFERENCES.has(p.rel)) known.push(`${p.rel}: ${ROUND_TRIP_DIFFERENCES.get(p.rel)}`);
      else unexpected.push(`${p.rel}: tcpdump status ${copyStatus}, -w status ${rewriteStatus}, same text ${copy === orig}`);
    });
    console.log(`pcap writer round trip: ${files} Ethernet captures, ${unexpected.length} unexpected differences, ${known.length} known:\n  ${known.join('\n  ')}`);
    expect(unexpected).toEqual([]);
    expect(files).toBeGreaterThan(400);
  });

  it('nanosecond files keep their nanoseconds with the nano option', () => {
    const src = path.join(corpusDir, 'pcapplusplus/PcapExamples/nanosecs_big_endian.pcap');
    const out = path.join(tmp.dir, 'nano.pcap');
    expect(rewrite(src, out, true)).toBe(true);
    expect(readFileSync(out).readUInt32LE(0)).toBe(0xa1b23c4d);
    const theirs = tcpdumpText(src, '--nano').out;
    expect(theirs).toMatch(/\.\d{9} /);
    expect(tcpdumpText(out, '--nano').out).toBe(theirs);
  });
});

describe('what is on disk, and when', () => {
  it('writes the file header at once and only whole records, on flush', () => {
    const out = path.join(tmp.dir, 'atomic.pcap');
    const w = new PcapWriter(out, { linkType: 1, snaplen: 1500 });
    expect(statSync(out).size).toBe(24);
    for (let i = 1; i <= 3; i++) w.write(frame(i, 100));
    expect(statSync(out).size).toBe(24);
    w.flush();
    expect(statSync(out).size).toBe(24 + 3 * 116);
    const p = parseClassicPcap(readFileSync(out));
    expect([p.nano, p.linkType, p.snaplen, p.records.length]).toEqual([false, 1, 1500, 3]);
    expect(p.records.map((r) => [r.sec, r.frac, r.capLen, r.origLen])).toEqual([1, 2, 3].map((i) => [1700000000 + i, i, 100, 100]));
    w.close();
    if (haveTcpdump) expect(spawnSync('tcpdump', ['-r', out, '-w', '/dev/null']).status).toBe(0);
  });

  it('packet-buffered mode (-U) puts each record out as it is written', () => {
    const out = path.join(tmp.dir, 'unbuffered.pcap');
    const w = new PcapWriter(out, { linkType: 1, packetBuffered: true });
    for (let i = 1; i <= 3; i++) {
      w.write(frame(i, 50 + i));
      expect(parseClassicPcap(readFileSync(out)).records.length).toBe(i);
    }
    w.close();
  });

  it('cuts frames to the snaplen, keeping the original length', () => {
    const out = path.join(tmp.dir, 'snap.pcap');
    const w = new PcapWriter(out, { linkType: 1, snaplen: 60 });
    w.write(frame(1, 100));
    w.close();
    const rec = parseClassicPcap(readFileSync(out)).records[0];
    expect([rec.capLen, rec.origLen]).toEqual([60, 100]);
    expect(Buffer.from(rec.data).equals(Buffer.from(payload(100, 1).subarray(0, 60)))).toBe(true);
  });

  it('writes records bigger than its buffer, in order with the small ones', () => {
    const out = path.join(tmp.dir, 'big.pcap');
    const w = new PcapWriter(out, { linkType: 1, bufferSize: 64 });
    const frames = [frame(1, 10), frame(2, 5000), frame(3, 20), frame(4, 48)];
    for (const f of frames) w.write(f);
    w.close();
    const { frames: back, error } = readAll(out);
    expect(error).toBeNull();
    expect(back.map((f) => [f.tsSec, f.tsNsec, f.capLen, Buffer.from(f.data).toString('hex')])).toEqual(
      frames.map((f) => [f.tsSec, f.tsNsec, f.capLen, Buffer.from(f.data).toString('hex')]));
  });

  it('passes an out-of-range sub-second value on as read', () => {
    const out = path.join(tmp.dir, 'invalid-us.pcap');
    const w = new PcapWriter(out, { linkType: 1 });
    w.write(frame(1, 10, 5, 1_000_000_000));
    w.close();
    expect(parseClassicPcap(readFileSync(out)).records[0].frac).toBe(1_000_000);
  });

  it('cannot create the file: one line naming it', () => {
    const bad = path.join(tmp.dir, 'no/such/dir/x.pcap');
    expect(() => new PcapWriter(bad, { linkType: 1 })).toThrow(`${bad}: No such file or directory`);
  });
});

describe('standard output', () => {
  const dist = distPcapDir();
  const script = path.join(tmp.dir, 'to-stdout.mjs');
  // argv: capture to copy, "nonblock" to make fd 1 non-blocking first, repeat count.
  writeFileSync(script, `
    import { openCapture } from ${JSON.stringify(path.join(dist, 'reader.js'))};
    import { PcapWriter } from ${JSON.stringify(path.join(dist, 'writer.js'))};
    const [src, mode, times] = process.argv.slice(2);
    if (mode === 'nonblock') process.stdout._handle.setBlocking(false);
    const r0 = openCapture(src);
    const w = new PcapWriter('-', { linkType: r0.linkType, snaplen: r0.snaplen });
    r0.close();
    try {
      for (let k = 0; k < Number(times); k++) {
        const r = openCapture(src);
        for (let f = r.next(); f; f = r.next()) w.write(f);
        r.close();
      }
      w.close();
    } catch (e) {
      process.stderr.write(e.code + ' ' + e.message + '\\n');
      process.exitCode = 3;
    }
  `);
  const sample = hasCorpus ? path.join(corpusDir, 'tcpdump/print-flags.pcap') : '';

  it.skipIf(!hasCorpus)('writes the same bytes to a pipe as to a file, and tcpdump reads them', () => {
    const fileOut = path.join(tmp.dir, 'same.pcap');
    rewrite(sample, fileOut);
    const r = spawnSync('node', [script, sample, 'block', '1'], { maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, readFileSync(fileOut))).toBe(0);
    if (haveTcpdump) {
      const td = spawnSync('tcpdump', ['-n', '-r', '-'], { input: r.stdout, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      expect(td.stdout).toBe(tcpdumpText(sample).out);
    }
  });

  it.skipIf(!hasCorpus)('retries a non-blocking pipe whose reader is slow (EAGAIN)', () => {
    const once = readFileSync(path.join(tmp.dir, 'same.pcap'));
    const r = spawnSync('sh', ['-c', `node '${script}' '${sample}' nonblock 300 | (sleep 0.3; cat)`], { maxBuffer: 1 << 28 });
    expect(r.stderr.toString()).toBe('');
    const body = once.subarray(24);
    expect(r.stdout.length).toBe(24 + 300 * body.length);
    expect(Buffer.compare(r.stdout.subarray(24 + 299 * body.length), body)).toBe(0);
  });

  it.skipIf(!hasCorpus)('reports EPIPE in one line when the reader goes away', () => {
    const r = spawnSync('sh', ['-c', `node '${script}' '${sample}' block 2000 | head -c 100 > /dev/null`], { encoding: 'utf8' });
    expect(r.stderr.trim()).toBe('EPIPE standard output: Broken pipe');
  });
});
