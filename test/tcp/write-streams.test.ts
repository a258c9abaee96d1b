/**
 * --write-streams stays bounded: StreamFiles with small caps on open files and held bytes, over
 * many interleaved directions (contents, `written`, open descriptors counted in /proc/self/fd),
 * and the command on thousands of concurrent connections under a low `ulimit -n`.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeLayer } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { tcp, TH } from '../../dissectors/tcp.js';
import { StreamFileError, StreamFiles, tcpflowName, type WrittenFile } from '../../src/tcp/follow.js';
import { hasTool, repoRoot, run, wirescopeBin } from '../conformance/corpus.js';
import { ipv4Frame, writeCapture } from '../dissectors/transport.js';
import { frame } from '../output/frames.js';
import { payload } from '../pcap/helpers.js';
import { rng } from '../ip/helpers.js';
import { tsharkFollowRaw } from './tshark-streams.js';

const hasTshark = hasTool('tshark');
const hasProcFd = existsSync('/proc/self/fd');
const built = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!hasProcFd) console.log('skipping the open-descriptor count: /proc/self/fd is absent');
if (!built) console.log('skipping the --write-streams command test: dist/ is not built (npx tsc -p tsconfig.json)');
if (!hasTshark) console.log('--write-streams command test: tshark is not installed, files are compared with wirescope follow --format raw');

/** Runs fn on a new temporary directory, removed afterwards. */
function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-write-streams-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Descriptors this process has open on files in dir. */
function openIn(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir + '/')) n++;
    } catch {
      // The descriptor readdir itself used, closed since.
    }
  }
  return n;
}

describe('StreamFiles under caps on open files and held bytes', () => {
  it('500 interleaved directions with 8 files open and 64 KiB held at most: every file as fed, each written once', () => {
    withTempDir((dir) => {
      const maxOpenFiles = 8;
      const maxBufferedBytes = 64 << 10;
      const files = new StreamFiles(dir, { maxOpenFiles, maxBufferedBytes });
      const rnd = rng(32);
      const t = { sec: 0, nsec: 0, frame: 1 };
      const streams = 250;
      const sinks = Array.from({ length: streams }, (_, s) =>
        files.sink(s, [{ addr: '10.0.0.1', port: 10000 + s }, { addr: '10.0.0.2', port: 80 }]));
      /** What each direction's file must hold: bytes at their offsets, holes as NULs. */
      const expected = Array.from({ length: streams * 2 }, () => [] as Uint8Array[]);
      const gaps = new Array<number>(streams * 2).fill(0);
      const done = new Array<boolean>(streams * 2).fill(false);
      /** Offset after the last byte fed, and the bytes fed, of each direction. */
      const dataEnd = new Array<number>(streams * 2).fill(0);
      const dataBytes = new Array<number>(streams * 2).fill(0);
      const fedLength = new Array<number>(streams * 2).fill(0);
      let peakOpen = 0;
      let peakHeld = 0;
      const check = (): void => {
        if (hasProcFd) peakOpen = Math.max(peakOpen, openIn(dir));
        peakHeld = Math.max(peakHeld, files.bufferedBytes);
      };
      for (let step = 0; step < 12_000; step++) {
        const k = Math.floor(rnd() * streams * 2);
        if (done[k]) continue;
        const s = k >> 1;
        const d = (k & 1) as 0 | 1;
        const r = rnd();
        if (r < 0.03 && expected[k].length > 0) {
          // A gap after some bytes: a hole of NULs in the file, held bytes written first.
          const length = 1 + Math.floor(rnd() * 3000);
          sinks[s].event({ type: 'gap', dir: d, seq: 0, length, reason: 'end', time: t });
          expected[k].push(new Uint8Array(length));
          fedLength[k] += length;
          gaps[k]++;
        } else if (r < 0.04 && expected[k].length > 0) {
          sinks[s].complete(d, 'fin', t);
          done[k] = true;
        } else {
          const bytes = payload(1 + Math.floor(rnd() * (rnd() < 0.1 ? 40_000 : 1500)), step);
          sinks[s].chunk({ dir: d, seq: 0, bytes, time: t });
          expected[k].push(bytes.slice());
          fedLength[k] += bytes.length;
          dataEnd[k] = fedLength[k];
          dataBytes[k] += bytes.length;
        }
        check();
      }
      // The end of the capture: every direction not yet complete ends (as the tracker's finish does).
      for (let k = 0; k < streams * 2; k++) {
        if (!done[k]) {
          sinks[k >> 1].complete((k & 1) as 0 | 1, 'end', null);
          check();
        }
      }
      if (hasProcFd) {
        expect(peakOpen).toBeGreaterThan(1);
        expect(peakOpen).toBeLessThanOrEqual(maxOpenFiles);
        expect(openIn(dir)).toBe(0);
      }
      expect(peakHeld).toBeGreaterThan(0);
      expect(peakHeld).toBeLessThanOrEqual(maxBufferedBytes);
      const fed = expected.filter((parts) => parts.length > 0).length;
      expect(fed).toBeGreaterThan(450);
      expect(files.written.length).toBe(fed);
      expect(new Set(files.written.map((w) => w.file)).size).toBe(fed);
      expect(readdirSync(dir).length).toBe(fed);
      const byFile = new Map<string, WrittenFile>(files.written.map((w) => [w.file, w]));
      for (let k = 0; k < streams * 2; k++) {
        if (expected[k].length === 0) continue;
        const s = k >> 1;
        const name = k & 1 ? tcpflowName('10.0.0.2', 80, '10.0.0.1', 10000 + s) : tcpflowName('10.0.0.1', 10000 + s, '10.0.0.2', 80);
        const file = path.join(dir, name);
        // A file ends with its last byte: a gap at the end of a direction leaves no hole after it.
        const all = Buffer.concat(expected[k]);
        expect(Buffer.compare(readFileSync(file), all.subarray(0, dataEnd[k])), name).toBe(0);
        expect(byFile.get(file), name).toMatchObject({ stream: s, dir: k & 1, gaps: gaps[k], bytes: dataBytes[k] });
      }
    });
  });

  it("a file closed to make room is reopened under the name it claimed (tcpflow's c1 included), its bytes at their offsets", () => {
    withTempDir((dir) => {
      // One file open at once, every chunk written at once.
      const files = new StreamFiles(dir, { maxOpenFiles: 1, maxBufferedBytes: 1 });
      const t = { sec: 0, nsec: 0, frame: 1 };
      const ends = [{ addr: '10.0.0.1', port: 1000 }, { addr: '10.0.0.2', port: 80 }] as const;
      const first = files.sink(0, ends);
      const later = files.sink(1, ends);
      const chunk = (sink: typeof first, text: string): void => sink.chunk({ dir: 0, seq: 0, bytes: Buffer.from(text), time: t });
      chunk(first, 'ab');
      chunk(later, 'XY');
      first.event({ type: 'gap', dir: 0, seq: 0, length: 2, reason: 'end', time: t });
      chunk(first, 'cd');
      chunk(later, 'Z');
      first.complete(0, 'fin', t);
      later.complete(0, 'fin', t);
      const base = path.join(dir, tcpflowName('10.0.0.1', 1000, '10.0.0.2', 80));
      expect(readFileSync(base, 'latin1')).toBe('ab\0\0cd');
      expect(readFileSync(base + 'c1', 'latin1')).toBe('XYZ');
      expect(files.written).toEqual([
        { stream: 0, dir: 0, file: base, bytes: 4, gaps: 1 },
        { stream: 1, dir: 0, file: base + 'c1', bytes: 3, gaps: 0 },
      ]);
    });
  });

  it('a file that cannot be reopened is a StreamFileError naming it', () => {
    withTempDir((dir) => {
      const files = new StreamFiles(dir, { maxOpenFiles: 1, maxBufferedBytes: 4 });
      const t = { sec: 0, nsec: 0, frame: 1 };
      const a = files.sink(0, [{ addr: '10.0.0.1', port: 1 }, { addr: '10.0.0.2', port: 80 }]);
      const b = files.sink(1, [{ addr: '10.0.0.1', port: 2 }, { addr: '10.0.0.2', port: 80 }]);
      a.chunk({ dir: 0, seq: 0, bytes: payload(8, 1), time: t });
      // b's file takes the one descriptor; a's, closed, is replaced by a directory before a writes again.
      b.chunk({ dir: 0, seq: 0, bytes: payload(8, 2), time: t });
      const aFile = path.join(dir, tcpflowName('10.0.0.1', 1, '10.0.0.2', 80));
      rmSync(aFile);
      mkdirSync(aFile);
      expect(() => a.chunk({ dir: 0, seq: 0, bytes: payload(8, 3), time: t })).toThrow(new StreamFileError(`${aFile}: Is a directory`));
    });
  });
});

/** One raw-format follow output's bytes per direction (direction 1's lines start with a tab). */
function followRawHex(text: string): [string, string] {
  const hex: [string, string] = ['', ''];
  for (const line of text.split('\n')) {
    if (/^\t[0-9a-f]+$/.test(line)) hex[1] += line.slice(1);
    else if (/^[0-9a-f]+$/.test(line)) hex[0] += line;
  }
  return hex;
}

const CLIENT = 0x0a000001; // 10.0.0.1, ports 20000 + i
const SERVER = 0x0a000002; // 10.0.0.2:80

/**
 * conns connections, all open at once: every handshake, then `rounds` rounds in which each one
 * sends a segment each way, then every FIN. Returns the frames and each direction's bytes.
 */
function concurrentConnections(conns: number, rounds: number): { frames: Frame[]; sent: Uint8Array[][] } {
  const rnd = rng(3000);
  const frames: Frame[] = [];
  const sent = Array.from({ length: conns }, () => [[], []] as Uint8Array[][]);
  const next = Array.from({ length: conns }, (_, i) => [(i * 7919 + 1) >>> 0, (i * 104729 + 5) >>> 0]);
  const add = (i: number, d: 0 | 1, flags: number, data: Uint8Array = new Uint8Array(0)): void => {
    const [src, dst, sp, dp] = d === 0 ? [CLIENT, SERVER, 20000 + i, 80] : [SERVER, CLIENT, 80, 20000 + i];
    const l = makeLayer(tcp, { srcPort: sp, dstPort: dp, seq: next[i][d] >>> 0, ack: next[i][1 - d] >>> 0, flags, window: 65535 });
    const n = frames.length;
    frames.push(frame(n + 1, 1_000_000 + Math.floor(n / 1000), (n % 1000) * 1_000_000, ipv4Frame([l], data, { src, dst })));
    next[i][d] = (next[i][d] + data.length + (flags & (TH.SYN | TH.FIN) ? 1 : 0)) >>> 0;
    if (data.length > 0) sent[i][d].push(data);
  };
  for (let i = 0; i < conns; i++) {
    add(i, 0, TH.SYN);
    add(i, 1, TH.SYN | TH.ACK);
    add(i, 0, TH.ACK);
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < conns; i++) {
      add(i, 0, TH.ACK | TH.PUSH, payload(1 + Math.floor(rnd() * 1400), i + r));
      add(i, 1, TH.ACK | TH.PUSH, payload(1 + Math.floor(rnd() * 1400), i * 3 + r));
    }
  }
  for (let i = 0; i < conns; i++) {
    add(i, 0, TH.FIN | TH.ACK);
    add(i, 1, TH.FIN | TH.ACK);
    add(i, 0, TH.ACK);
  }
  return { frames, sent: sent.map(([a, b]) => [Buffer.concat(a), Buffer.concat(b)]) };
}

const conns = 3000;
let built3000: { capture: string; sent: Uint8Array[][] } | null = null;
/** The capture of conns concurrent connections (built once) and what each direction sent. */
function concurrentCapture(): { capture: string; sent: Uint8Array[][] } {
  if (built3000 === null) {
    const { frames, sent } = concurrentConnections(conns, 3);
    built3000 = { capture: writeCapture('concurrent.pcap', frames), sent };
  }
  return built3000;
}

/** Runs `wirescope follow -r capture --write-streams dir --json` under `ulimit -n limit`. */
function writeStreamsUnder(limit: number, capture: string, dir: string): ReturnType<typeof run> {
  return run('sh', ['-c', `ulimit -n ${limit} && exec node "$0" follow -r "$1" --write-streams "$2" --json`, wirescopeBin, capture, dir]);
}

/** Every direction's file holds exactly what it sent, and the --json lines list each file once. */
function expectAllFiles(r: ReturnType<typeof run>, dir: string, sent: Uint8Array[][]): void {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const summary = lines.pop()!.summary as { files: number };
  expect(summary.files).toBe(2 * conns);
  expect(new Set(lines.map((w) => w.file)).size).toBe(2 * conns);
  expect(readdirSync(dir).length).toBe(2 * conns);
  for (let i = 0; i < conns; i++) {
    const client = tcpflowName('10.0.0.1', 20000 + i, '10.0.0.2', 80);
    const server = tcpflowName('10.0.0.2', 80, '10.0.0.1', 20000 + i);
    expect(Buffer.compare(readFileSync(path.join(dir, client)), sent[i][0]), client).toBe(0);
    expect(Buffer.compare(readFileSync(path.join(dir, server)), sent[i][1]), server).toBe(0);
  }
}

/** Whether this process may mount a small tmpfs in a mount namespace of its own (to fill a disk). */
const canMountTmpfs = process.getuid?.() === 0 && hasTool('unshare') && run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k none /mnt']).status === 0;
if (!canMountTmpfs) console.log('skipping the full-disk --write-streams test: needs root and unshare -m to mount a small tmpfs');

describe.skipIf(!built)('wirescope follow --write-streams on 3,000 concurrent connections', () => {
  it('under ulimit -n 256: status 0, a file per direction holding its bytes (all of them against the frames, a sample against follow)', () => {
    const { capture, sent } = concurrentCapture();
    withTempDir((dir) => {
      expectAllFiles(writeStreamsUnder(256, capture, dir), dir, sent);
      for (const n of [0, 1, 1777, conns - 1]) {
        const client = readFileSync(path.join(dir, tcpflowName('10.0.0.1', 20000 + n, '10.0.0.2', 80))).toString('hex');
        const server = readFileSync(path.join(dir, tcpflowName('10.0.0.2', 80, '10.0.0.1', 20000 + n))).toString('hex');
        const ours = run('node', [wirescopeBin, 'follow', '-r', capture, '--stream', String(n), '--format', 'raw']);
        expect(ours.status).toBe(0);
        expect(followRawHex(ours.stdout)).toEqual([client, server]);
        if (hasTshark) expect(tsharkFollowRaw(capture, n).hex).toEqual([client, server]);
      }
    });
  }, 300_000);

  it('under ulimit -n 64, below the 128 files it keeps open: it closes more of its own files and loses nothing', () => {
    const { capture, sent } = concurrentCapture();
    withTempDir((dir) => {
      expectAllFiles(writeStreamsUnder(64, capture, dir), dir, sent);
    });
  }, 300_000);

  it('a directory that cannot be made: one line naming it, status 1', () => {
    withTempDir((dir) => {
      const plain = path.join(dir, 'plain');
      writeFileSync(plain, '');
      const r = run('node', [wirescopeBin, 'follow', '-r', path.join(repoRoot, 'fixtures/http.pcap'), '--write-streams', path.join(plain, 'out')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`wirescope: follow: ${path.join(plain, 'out')}: Not a directory\n`);
    });
  });

  it.skipIf(!canMountTmpfs)('a full disk: one line naming the file, status 1', () => {
    const { capture } = concurrentCapture();
    withTempDir((dir) => {
      // The tmpfs lives in the namespace only: gone with the command.
      const r = run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=256k none "$2" && exec node "$0" follow -r "$1" --write-streams "$2/out"', wirescopeBin, capture, dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^wirescope: follow: ${dir}/out/[0-9.]+-[0-9.]+: No space left on device\n$`));
    });
  }, 120_000);
});
