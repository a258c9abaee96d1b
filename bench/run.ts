/**
 * Benchmark: wirescope next to tcpdump and tshark on one capture of 1M+ packets of mixed real
 * traffic (the Ethernet fixtures, repeated with increasing timestamps), in one run, TZ=UTC,
 * output to /dev/null. Best wall time of N runs, packets/s, peak RSS, and the target ratios.
 * wirescope runs as a user runs it: the package's bin entry, in the bench's own environment.
 *
 *   npm run bench -- [--runs N] [--packets N] [--only GROUP,...] [--regen] [GROUP ...]
 *
 * GROUPs (as --only or as words) pick the cases to run: read, copy, filter1..3, conns, follow,
 * follow-to-end, http, tls, live. Each case is an entry of CASES, each target one of TARGETS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Frame } from '../src/core/frame.js';
import { openCapture } from '../src/pcap/reader.js';
import { PcapWriter } from '../src/pcap/writer.js';
import { runLiveBench, formatLiveReport } from './live.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = path.join(repoRoot, 'bench/data');
const fixturesDir = path.join(repoRoot, 'fixtures');
const LINKTYPE_ETHERNET = 1;

/** Placeholders in a case's args: the big capture, and a scratch output file named after the case. */
const BIG = '{big}';
const OUT = '{out}';

interface Case {
  /** Cases of a group run on the same input and are compared with each other. */
  group: string;
  name: string;
  command: string;
  args: string[];
  /** Environment added to the run's. */
  env?: Record<string, string>;
}

/** wirescope as users run it: the package's bin entry (a launcher that starts node), run directly. */
const wirescope = path.join(repoRoot, (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.wirescope);

/** Filter-and-write runs: expressions of different shapes (byte access, port, address or version). */
const FILTERS = [
  'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not port 22',
  'tcp port 443 or udp port 53',
  'host 192.0.2.10 or ip6',
];

/**
 * Streams of the big capture for `follow`: stream 1 (an HTTP connection of http.pcap) ends with FIN
 * both ways early in the file, where wirescope stops reading (nothing more can come for it) while
 * tshark reads on; stream 5 (SYN answered by RST, tcp-sack-rst.pcap) never ends one direction, so
 * both read the whole file.
 */
const FOLLOW_ENDED = 1;
const FOLLOW_TO_END = 5;

/** tshark's TLS hello fields, as `wirescope tls` shows them. */
const TLS_FIELDS = ['tcp.stream', 'tls.handshake.type', 'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str',
  'tls.handshake.version', 'tls.handshake.ciphersuite', 'tls.handshake.ja3', 'tls.handshake.ja3s'];

/** Stream tables (issue 5): wirescope beside the tshark run printing the same. */
const STREAM_CASES: Case[] = [
  { group: 'conns', name: 'wirescope conns', command: wirescope, args: ['conns', '-r', BIG] },
  { group: 'conns', name: 'tshark -q -z conv,tcp', command: 'tshark', args: ['-n', '-q', '-r', BIG, '-z', 'conv,tcp'] },
  ...([['follow', FOLLOW_ENDED], ['follow-to-end', FOLLOW_TO_END]] as const).flatMap(([group, n]): Case[] => [
    { group, name: `wirescope follow --stream ${n} --format raw`, command: wirescope, args: ['follow', '-r', BIG, '--stream', String(n), '--format', 'raw'] },
    { group, name: `tshark -q -z follow,tcp,raw,${n}`, command: 'tshark', args: ['-n', '-q', '-r', BIG, '-z', `follow,tcp,raw,${n}`] },
  ]),
  { group: 'http', name: 'wirescope http', command: wirescope, args: ['http', '-r', BIG] },
  { group: 'http', name: 'tshark -q -z http,tree', command: 'tshark', args: ['-n', '-q', '-r', BIG, '-z', 'http,tree'] },
  { group: 'tls', name: 'wirescope tls', command: wirescope, args: ['tls', '-r', BIG] },
  {
    group: 'tls', name: 'tshark -T fields (TLS hellos)', command: 'tshark',
    args: ['-n', '-r', BIG, '-Y', 'tls.handshake.type == 1 || tls.handshake.type == 2', '-T', 'fields', ...TLS_FIELDS.flatMap((f) => ['-e', f])],
  },
];

const CASES: Case[] = [
  { group: 'read', name: 'wirescope -n -r', command: wirescope, args: ['-n', '-r', BIG] },
  // The same with one worker thread formatting beside the main one (the default on 4 cores or more).
  { group: 'read', name: 'wirescope -n -r, WIRESCOPE_THREADS=1', command: wirescope, args: ['-n', '-r', BIG], env: { WIRESCOPE_THREADS: '1' } },
  { group: 'read', name: 'tcpdump -n -r', command: 'tcpdump', args: ['-n', '-r', BIG] },
  { group: 'read', name: 'tshark -n -r', command: 'tshark', args: ['-n', '-r', BIG] },
  { group: 'copy', name: 'wirescope -r -w', command: wirescope, args: ['-r', BIG, '-w', OUT] },
  { group: 'copy', name: 'tcpdump -r -w', command: 'tcpdump', args: ['-r', BIG, '-w', OUT] },
  ...FILTERS.flatMap((expr, k): Case[] => [
    { group: `filter${k + 1}`, name: `wirescope -r -w '${expr}'`, command: wirescope, args: ['-r', BIG, '-w', OUT, expr] },
    { group: `filter${k + 1}`, name: `tcpdump -r -w '${expr}'`, command: 'tcpdump', args: ['-r', BIG, '-w', OUT, expr] },
  ]),
  ...STREAM_CASES,
];

interface Target {
  /** a's best wall time divided by b's. */
  a: string;
  b: string;
  /** The ratio must be at most max, or at least min. */
  max?: number;
  min?: number;
}

const TARGETS: Target[] = [
  { a: 'wirescope -n -r', b: 'tcpdump -n -r', max: 1.25 },
  { a: 'tshark -n -r', b: 'wirescope -n -r', min: 10 },
  { a: 'wirescope -r -w', b: 'tcpdump -r -w', max: 1.25 },
  ...FILTERS.map((expr): Target => ({ a: `wirescope -r -w '${expr}'`, b: `tcpdump -r -w '${expr}'`, max: 1.2 })),
  // Issue 5: at least 5x faster than tshark printing the same.
  ...STREAM_CASES.filter((c) => c.command === 'tshark').map((t): Target => ({
    a: t.name, b: STREAM_CASES.find((w) => w.group === t.group && w.command !== 'tshark')!.name, min: 5,
  })),
];

/** Peak RSS limit for every wirescope case. */
const RSS_LIMIT_MB = 200;

interface Result {
  group: string;
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Set when the case did not run (missing command) or failed. */
  skipped?: string;
  failed?: string;
  wallSeconds: number[];
  bestSeconds?: number;
  packetsPerSecond?: number;
  peakRssMB?: number;
  /** Least CPU time (user + system) of the runs: what a loaded machine disturbs least. */
  bestCpuSeconds?: number;
}

// --- the big capture -----------------------------------------------------------------------

interface BigCapture {
  file: string;
  packets: number;
  bytes: number;
  sources: string[];
}

/** Copies of every Ethernet frame of the fixtures, in file order. */
function fixtureFrames(): { frames: Frame[]; sources: string[] } {
  const frames: Frame[] = [];
  const sources: string[] = [];
  for (const name of readdirSync(fixturesDir).sort()) {
    if (!/\.(pcap|pcapng)$/.test(name)) continue;
    const r = openCapture(path.join(fixturesDir, name));
    let used = false;
    try {
      for (let f = r.next(); f !== null; f = r.next()) {
        if (f.linkType !== LINKTYPE_ETHERNET) continue;
        frames.push({ ...f, data: f.data.slice() });
        used = true;
      }
    } finally {
      r.close();
    }
    if (used) sources.push(name);
  }
  return { frames, sources };
}

/** True when a capture in fixtures/ changed after `time` (ms). */
function fixturesNewerThan(time: number): boolean {
  return readdirSync(fixturesDir).some((n) => /\.(pcap|pcapng)$/.test(n) && statSync(path.join(fixturesDir, n)).mtimeMs > time);
}

/** Makes (or reuses, while the fixtures are unchanged) bench/data/mixed-N.pcap: the fixture frames over and over, 10 µs apart. */
function bigCapture(packets: number, regen: boolean): BigCapture {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, `mixed-${packets}.pcap`);
  const metaFile = file + '.json';
  if (!regen && existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as BigCapture;
    const st = statSync(file);
    if (meta.packets === packets && st.size === meta.bytes && !fixturesNewerThan(st.mtimeMs)) {
      console.log(`reusing ${path.relative(repoRoot, file)} (${packets} packets, ${mb(meta.bytes)} MB)`);
      return meta;
    }
  }
  const { frames, sources } = fixtureFrames();
  if (frames.length === 0) throw new Error('no Ethernet frames in fixtures/');
  const t0 = performance.now();
  const w = new PcapWriter(file, { linkType: LINKTYPE_ETHERNET, bufferSize: 4 << 20 });
  const start = Date.UTC(2026, 0, 1) / 1000;
  for (let i = 0; i < packets; i++) {
    const f = frames[i % frames.length];
    const us = i * 10;
    f.number = i + 1;
    f.tsSec = start + Math.floor(us / 1e6);
    f.tsNsec = (us % 1e6) * 1000;
    w.write(f);
  }
  w.close();
  const big: BigCapture = { file, packets, bytes: statSync(file).size, sources };
  writeFileSync(metaFile, JSON.stringify(big, null, 2) + '\n');
  console.log(`wrote ${path.relative(repoRoot, file)}: ${packets} packets, ${mb(big.bytes)} MB, from ${frames.length} frames of ${sources.length} fixtures, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return big;
}

// --- running ---------------------------------------------------------------------------------

const TIME = '/usr/bin/time';

function haveCommand(cmd: string): boolean {
  return path.isAbsolute(cmd) ? existsSync(cmd) : spawnSync('sh', ['-c', 'command -v "$0"', cmd]).status === 0;
}

/** Why a case cannot run here, or null. */
function missing(c: Case): string | null {
  if (!haveCommand(c.command)) return `${c.command} not found`;
  if (c.command === wirescope && !existsSync(path.join(repoRoot, 'dist/src/cli/main.js'))) return 'wirescope is not built (dist/src/cli/main.js)';
  return null;
}

interface Run {
  seconds: number;
  rssKB: number | null;
  cpuSeconds: number | null;
  status: number | null;
  stderr: string;
}

/** One run, stdout to /dev/null, under /usr/bin/time for the peak RSS when it is installed. */
function runOnce(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const useTime = existsSync(TIME);
  const rssFile = path.join(tmpdir(), `wirescope-bench-rss-${process.pid}`);
  const argv = useTime ? ['-f', '%M %U %S', '-o', rssFile, command, ...args] : args;
  const devNull = openSync('/dev/null', 'w');
  const t0 = process.hrtime.bigint();
  const child = spawn(useTime ? TIME : command, argv, { stdio: ['ignore', devNull, 'pipe'], env: { ...process.env, TZ: 'UTC', ...env } });
  closeSync(devNull);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      let rssKB: number | null = null;
      let cpuSeconds: number | null = null;
      if (useTime && existsSync(rssFile)) {
        const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
        const m = /^(\d+) ([\d.]+) ([\d.]+)$/.exec(last);
        rssKB = m ? Number(m[1]) : null;
        cpuSeconds = m ? Number(m[2]) + Number(m[3]) : null;
        rmSync(rssFile);
      }
      resolve({ seconds, rssKB, cpuSeconds, status, stderr });
    });
  });
}

function newResult(c: Case, big: BigCapture): Result {
  const out = path.join(dataDir, `out-${c.name.replace(/[^a-z0-9]+/gi, '-')}.pcap`);
  const args = c.args.map((a) => (a === BIG ? big.file : a === OUT ? out : a));
  const r: Result = { group: c.group, name: c.name, command: c.command, args, env: c.env, wallSeconds: [] };
  const why = missing(c);
  if (why) r.skipped = why;
  return r;
}

/** One more run of a case; a failure marks the result, which then runs no more. */
async function runAgain(r: Result, big: BigCapture): Promise<void> {
  const run = await runOnce(r.command, r.args, r.env);
  if (run.status !== 0) {
    r.failed = `exit ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    return;
  }
  r.wallSeconds.push(run.seconds);
  r.bestSeconds = Math.min(...r.wallSeconds);
  r.packetsPerSecond = big.packets / r.bestSeconds;
  if (run.rssKB !== null) r.peakRssMB = Math.max(r.peakRssMB ?? 0, run.rssKB / 1024);
  if (run.cpuSeconds !== null) r.bestCpuSeconds = Math.min(r.bestCpuSeconds ?? Infinity, run.cpuSeconds);
  // The file written goes to disk now, untimed: otherwise its writeback (340 MB after a copy) runs
  // during, and slows, whichever case comes next.
  const w = r.args.indexOf('-w');
  if (w >= 0) {
    const fd = openSync(r.args[w + 1], 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

// --- report ------------------------------------------------------------------------------------

function mb(bytes: number): string {
  return (bytes / (1 << 20)).toFixed(1);
}

/** Plain-text table; align has one letter per column, l (left) or r (right, for numbers). */
function table(rows: string[][], align: string): string {
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  return rows.map((r) => r.map((cell, k) => (align[k] === 'l' ? cell.padEnd(widths[k]) : cell.padStart(widths[k]))).join('  ').trimEnd()).join('\n');
}

interface RatioResult {
  label: string;
  value: number | null;
  /** The same ratio of CPU times. */
  cpu?: number | null;
  target: string;
  ok: boolean | null;
}

function ratios(results: Result[]): RatioResult[] {
  const best = new Map(results.filter((r) => r.bestSeconds !== undefined).map((r) => [r.name, r.bestSeconds!]));
  const cpu = new Map(results.filter((r) => r.bestCpuSeconds !== undefined).map((r) => [r.name, r.bestCpuSeconds!]));
  const ran = new Set(results.map((r) => r.name));
  const out: RatioResult[] = TARGETS.filter((t) => ran.has(t.a) && ran.has(t.b)).map((t) => {
    const a = best.get(t.a), b = best.get(t.b);
    const value = a !== undefined && b !== undefined ? a / b : null;
    const ca = cpu.get(t.a), cb = cpu.get(t.b);
    const target = t.max !== undefined ? `<= ${t.max}` : `>= ${t.min}`;
    const ok = value === null ? null : t.max !== undefined ? value <= t.max : value >= t.min!;
    return { label: `${t.a} / ${t.b}`, value, cpu: ca !== undefined && cb !== undefined ? ca / cb : null, target, ok };
  });
  for (const r of results) {
    if (r.command !== wirescope || r.peakRssMB === undefined) continue;
    out.push({ label: `${r.name} peak RSS (MB)`, value: r.peakRssMB, target: `< ${RSS_LIMIT_MB}`, ok: r.peakRssMB < RSS_LIMIT_MB });
  }
  return out;
}

/** Whether the copy cases wrote the same bytes (they should: pcap in, pcap out). */
function sameCopies(results: Result[]): boolean | null {
  const outs = results.filter((r) => r.group === 'copy' && r.bestSeconds !== undefined).map((r) => r.args[r.args.indexOf('-w') + 1]);
  if (outs.length < 2) return null;
  const first = readFileSync(outs[0]);
  return outs.slice(1).every((o) => readFileSync(o).equals(first));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string', default: '3' },
      packets: { type: 'string', default: '1000000' },
      only: { type: 'string' },
      regen: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const packets = Number(values.packets);
  if (!(runs >= 1) || !(packets >= 1)) throw new Error('--runs and --packets take positive numbers');
  const named = [...(values.only ? values.only.split(',') : []), ...positionals];
  const groups = named.length > 0 ? new Set(named) : null;

  const big = bigCapture(packets, values.regen);
  if (!existsSync(TIME)) console.log(`${TIME} not found (Debian package "time"): no peak RSS`);
  const results = CASES.filter((c) => !groups || groups.has(c.group)).map((c) => newResult(c, big));
  for (const r of results) if (r.skipped) console.log(`${r.group}: ${r.name}: skipped: ${r.skipped}`);
  // Round after round over every case, so a change in the machine's load hits all of them alike.
  for (let round = 1; round <= runs; round++) {
    for (const r of results) {
      if (r.skipped || r.failed) continue;
      process.stdout.write(`run ${round}/${runs}: ${r.group}: ${r.name} ... `);
      await runAgain(r, big);
      console.log(r.failed ? `FAILED: ${r.failed}` : `${r.wallSeconds[r.wallSeconds.length - 1].toFixed(2)} s`);
    }
  }

  console.log(`\n${big.packets} packets, ${mb(big.bytes)} MB, best of ${runs}, TZ=UTC, output to /dev/null, node ${process.version}, NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}\n`);
  const rows = [['group', 'case', 'best s', 'CPU s', 'packets/s', 'peak RSS MB', '']];
  for (const r of results) {
    const note = r.skipped ? `skipped: ${r.skipped}` : r.failed ? `FAILED: ${r.failed}` : '';
    rows.push([r.group, r.name, r.bestSeconds?.toFixed(2) ?? '', r.bestCpuSeconds?.toFixed(2) ?? '', r.packetsPerSecond ? Math.round(r.packetsPerSecond).toLocaleString('en-US') : '', r.peakRssMB?.toFixed(0) ?? '', note]);
  }
  console.log(table(rows, 'llrrrrl') + '\n');
  const rr = ratios(results);
  console.log(table([['ratio', 'value', 'CPU', 'target', 'met'], ...rr.map((r) => [r.label, r.value?.toFixed(2) ?? 'n/a', r.cpu?.toFixed(2) ?? '', r.target, r.ok === null ? 'n/a' : r.ok ? 'yes' : 'NO'])], 'lrrrl'));
  const identical = sameCopies(results);
  if (identical !== null) console.log(`\ncopy outputs byte-identical: ${identical ? 'yes' : 'NO'}`);
  for (const r of results) if (r.args.includes('-w')) rmSync(r.args[r.args.indexOf('-w') + 1], { force: true });

  // Live capture (issue 3): replay into namespaces at several rates, wirescope beside tcpdump (needs root).
  let live: unknown = null;
  if (!groups || groups.has('live')) {
    live = await runLiveBench({ capture: big.file });
    console.log('\n' + formatLiveReport(live as Awaited<ReturnType<typeof runLiveBench>>));
  }

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    capture: { file: path.relative(repoRoot, big.file), packets: big.packets, bytes: big.bytes, sources: big.sources },
    runs,
    results,
    ratios: rr,
    copyOutputsIdentical: identical,
    live,
  };
  writeFileSync(path.join(dataDir, 'last.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(repoRoot, path.join(dataDir, 'last.json'))}`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
