/**
 * Live-capture load benchmark: a large capture replayed with tcpreplay into a veth pair joined
 * across two network namespaces made for the run, captured on the receiving end by wirescope and,
 * in the same run, by tcpdump. For each rate (packets/s, then --topspeed) and each wirescope mode
 * (-w FILE, and text to /dev/null): frames sent, captured by each, wirescope's own drops, and the
 * lowest rate at which each starts losing frames. Target: wirescope >= tcpdump at every rate.
 *
 *   node dist/bench/live.js [--capture FILE] [--rates 20000,40000,80000,top] [--frames N] [--buffer KiB]
 *
 * As a module: runLiveBench(options) returns the report (bench/run.ts can call it and merge the
 * JSON). Needs root, iproute2 with netns, tcpreplay, tcpdump, the cap addon and a built dist/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openCapture } from '../src/pcap/reader.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const wirescope = path.join(repoRoot, 'bin/wirescope.js');
const DEFAULT_CAPTURE = path.join(repoRoot, 'bench/data/mixed-1000000.pcap');

export interface LiveBenchOptions {
  /** Capture to replay (Ethernet). Default bench/data/mixed-1000000.pcap, made by bench/run.ts. */
  capture?: string;
  /** Packets/s for each run; 0 means tcpreplay --topspeed. */
  rates?: number[];
  /** Frames replayed per fixed-rate run (the whole file at top speed). */
  frames?: number;
  /** wirescope -B (KiB); default: wirescope's own default. */
  bufferKiB?: number;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
}

export type LiveMode = 'write' | 'text';

export interface LiveRunResult {
  mode: LiveMode;
  /** Requested packets/s; 0 = top speed. */
  rate: number;
  /** tcpreplay's achieved rate and frames sent. */
  sentPps: number;
  sent: number;
  tcpdump: { captured: number; droppedByKernel: number | null };
  wirescope: { captured: number; droppedByWirescope: number; peakRssMB: number | null };
  /** For -w: frames in each written file (must equal the captured counts). */
  fileFrames?: { tcpdump: number; wirescope: number };
  met: boolean;
}

export interface LiveBenchReport {
  skipped?: string;
  date: string;
  capture: string;
  runs: LiveRunResult[];
  /** Per mode, the lowest tested rate (0 = top speed) at which each tool lost frames, or null. */
  startsLosing: Record<LiveMode, { tcpdump: number | null; wirescope: number | null }>;
  allMet: boolean;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', cmd]).status === 0;
}

/** Why the benchmark cannot run here, or null. */
export function liveBenchUnavailable(capture: string): string | null {
  if (process.getuid?.() !== 0) return 'not root (network namespaces and capture need root)';
  for (const tool of ['ip', 'tcpreplay', 'tcpdump']) if (!have(tool)) return `${tool} not found (tcpreplay: Debian package "tcpreplay")`;
  if (!existsSync(path.join(repoRoot, 'dist/src/cli/main.js'))) return 'wirescope is not built (npx tsc -p tsconfig.json)';
  if (!existsSync(capture)) return `${capture} not found (npm run bench makes it; or pass --capture FILE)`;
  const probe = spawnSync(process.execPath, ['-e', 'require("cap")'], { cwd: repoRoot });
  if (probe.status !== 0) return 'the cap addon does not load';
  const ns = `wsbench-probe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) return 'cannot create network namespaces';
  spawnSync('ip', ['netns', 'del', ns]);
  return null;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Two namespaces joined by a veth: tx sends, rx captures. Nothing touches the root namespace. */
class VethPair {
  readonly tx = `wsbench-tx-${process.pid}`;
  readonly rx = `wsbench-rx-${process.pid}`;
  readonly txIf = 'wsbtx0';
  readonly rxIf = 'wsbrx0';

  constructor() {
    ip('netns', 'add', this.tx);
    ip('netns', 'add', this.rx);
    ip('link', 'add', this.txIf, 'netns', this.tx, 'type', 'veth', 'peer', 'name', this.rxIf, 'netns', this.rx);
    // An address on the capture side keeps libpcap's pcap_lookupnet (called by cap) quiet.
    ip('-n', this.rx, 'addr', 'add', '198.18.0.2/24', 'dev', this.rxIf);
    for (const [ns, dev] of [[this.tx, this.txIf], [this.rx, this.rxIf]]) {
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  }

  close(): void {
    spawnSync('ip', ['netns', 'del', this.tx]);
    spawnSync('ip', ['netns', 'del', this.rx]);
  }
}

interface Capturer {
  child: ChildProcess;
  stderr: string;
  closed: Promise<void>;
}

/** Starts a capturer in the rx namespace and resolves once it says "listening on". */
function startCapturer(ns: string, argv: string[], stdoutToNull: boolean): Promise<Capturer> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', stdoutToNull ? 'ignore' : 'inherit', 'pipe'] });
  const c: Capturer = { child, stderr: '', closed: new Promise((resolve) => child.on('close', () => resolve())) };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv[0]} did not start: ${c.stderr.trim()}`)), 15000);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      c.stderr += s;
      if (c.stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve(c);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv[0]} exited (${code}): ${c.stderr.trim()}`));
    });
  });
}

function countLine(stderr: string, what: RegExp): number | null {
  const m = what.exec(stderr);
  return m ? Number(m[1]) : null;
}

/** Peak resident memory of a process (VmHWM), read before it is stopped. */
function peakRssMB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function framesIn(file: string): number {
  const r = openCapture(file);
  let n = 0;
  try {
    while (r.next() !== null) n++;
  } finally {
    r.close();
  }
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type RunOptions = LiveBenchOptions & { capture: string; frames: number };

async function oneRun(pair: VethPair, o: RunOptions, mode: LiveMode, rate: number, dir: string): Promise<LiveRunResult> {
  const wsOut = path.join(dir, `wirescope-${mode}-${rate}.pcap`);
  const tdOut = path.join(dir, `tcpdump-${mode}-${rate}.pcap`);
  const wsArgs = [process.execPath, wirescope, '-i', pair.rxIf, ...(o.bufferKiB ? ['-B', String(o.bufferKiB)] : [])];
  const tdArgs = ['tcpdump', '-i', pair.rxIf];
  if (mode === 'write') {
    wsArgs.push('-w', wsOut);
    tdArgs.push('-w', tdOut);
  } else {
    wsArgs.push('-n');
    tdArgs.push('-n');
  }
  const ws = await startCapturer(pair.rx, wsArgs, true);
  const td = await startCapturer(pair.rx, tdArgs, true);
  const replay = spawnSync('ip', ['netns', 'exec', pair.tx, 'tcpreplay', ...(rate > 0 ? [`--pps=${rate}`, `--limit=${o.frames}`] : ['--topspeed']),
    '-i', pair.txIf, o.capture], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const out = replay.stdout + replay.stderr;
  const sent = countLine(out, /Actual: (\d+) packets/);
  const pps = /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(out);
  if (replay.status !== 0 || sent === null) throw new Error(`tcpreplay failed: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  // Let both finish what the kernel already handed them before they are told to stop.
  await sleep(2000);
  const rss = peakRssMB(ws.child.pid);
  ws.child.kill('SIGINT');
  td.child.kill('SIGINT');
  await Promise.all([ws.closed, td.closed]);
  const wsCaptured = countLine(ws.stderr, /(\d+) packets? captured/) ?? 0;
  const tdCaptured = countLine(td.stderr, /(\d+) packets? captured/) ?? 0;
  const r: LiveRunResult = {
    mode, rate, sentPps: pps ? Number(pps[1]) : 0, sent,
    tcpdump: { captured: tdCaptured, droppedByKernel: countLine(td.stderr, /(\d+) packets? dropped by kernel/) },
    wirescope: { captured: wsCaptured, droppedByWirescope: countLine(ws.stderr, /(\d+) packets? dropped by wirescope/) ?? 0, peakRssMB: rss },
    met: wsCaptured >= tdCaptured,
  };
  if (mode === 'write') {
    r.fileFrames = { tcpdump: framesIn(tdOut), wirescope: framesIn(wsOut) };
    rmSync(wsOut, { force: true });
    rmSync(tdOut, { force: true });
  }
  return r;
}

function rateName(rate: number): string {
  return rate === 0 ? 'top speed' : `${rate.toLocaleString('en-US')}/s`;
}

export async function runLiveBench(opts: LiveBenchOptions = {}): Promise<LiveBenchReport> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const o = { ...opts, capture: opts.capture ?? DEFAULT_CAPTURE, rates: opts.rates ?? [20000, 40000, 80000, 0], frames: opts.frames ?? 300000 };
  const report: LiveBenchReport = {
    date: new Date().toISOString(), capture: path.relative(repoRoot, o.capture), runs: [],
    startsLosing: { write: { tcpdump: null, wirescope: null }, text: { tcpdump: null, wirescope: null } }, allMet: false,
  };
  const why = liveBenchUnavailable(o.capture);
  if (why !== null) {
    report.skipped = why;
    log(`live capture bench skipped: ${why}`);
    return report;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-live-bench-'));
  const pair = new VethPair();
  const cleanup = (): void => {
    pair.close();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', cleanup);
  try {
    for (const mode of ['write', 'text'] as LiveMode[]) {
      for (const rate of o.rates) {
        const r = await oneRun(pair, o, mode, rate, dir);
        report.runs.push(r);
        log(`live ${mode} at ${rateName(rate)}: sent ${r.sent} (${Math.round(r.sentPps)}/s), tcpdump ${r.tcpdump.captured}, ` +
          `wirescope ${r.wirescope.captured} (${r.wirescope.droppedByWirescope} dropped inside)${r.met ? '' : '  BELOW tcpdump'}`);
      }
    }
  } finally {
    process.off('SIGINT', cleanup);
    cleanup();
  }
  for (const mode of ['write', 'text'] as LiveMode[]) {
    // Rates in the order tested: increasing, top speed last.
    for (const r of report.runs.filter((x) => x.mode === mode)) {
      const s = report.startsLosing[mode];
      if (s.tcpdump === null && r.tcpdump.captured < r.sent) s.tcpdump = r.rate;
      if (s.wirescope === null && r.wirescope.captured < r.sent) s.wirescope = r.rate;
    }
  }
  report.allMet = report.runs.every((r) => r.met);
  return report;
}

/** The report as a plain-text table. */
export function formatLiveReport(rep: LiveBenchReport): string {
  if (rep.skipped) return `live capture: skipped (${rep.skipped})`;
  const rows = [['mode', 'rate', 'sent', 'sent/s', 'tcpdump', 'wirescope', 'ws dropped inside', 'ws peak RSS MB', 'ws >= tcpdump']];
  for (const r of rep.runs) {
    rows.push([r.mode === 'write' ? '-w FILE' : 'text', rateName(r.rate), String(r.sent), String(Math.round(r.sentPps)),
      String(r.tcpdump.captured), String(r.wirescope.captured), String(r.wirescope.droppedByWirescope),
      r.wirescope.peakRssMB?.toFixed(0) ?? '', r.met ? 'yes' : 'NO']);
  }
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  const lines = rows.map((r) => r.map((c, k) => (k < 2 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  '));
  const losing = (m: LiveMode): string => {
    const s = rep.startsLosing[m];
    const f = (x: number | null): string => (x === null ? 'no loss at tested rates' : `from ${rateName(x)}`);
    return `${m === 'write' ? '-w FILE' : 'text'}: tcpdump loses ${f(s.tcpdump)}; wirescope loses ${f(s.wirescope)}`;
  };
  return [...lines, '', losing('write'), losing('text'), `target (wirescope >= tcpdump at every rate): ${rep.allMet ? 'met' : 'NOT met'}`].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      capture: { type: 'string' },
      rates: { type: 'string' },
      frames: { type: 'string' },
      buffer: { type: 'string' },
    },
  });
  const rates = values.rates?.split(',').map((r) => (r === 'top' ? 0 : Number(r)));
  if (rates?.some((r) => !(r >= 0))) throw new Error('--rates takes packets/s values or "top"');
  const report = await runLiveBench({
    capture: values.capture, rates, frames: values.frames ? Number(values.frames) : undefined,
    bufferKiB: values.buffer ? Number(values.buffer) : undefined,
  });
  console.log('\n' + formatLiveReport(report));
  const out = path.join(repoRoot, 'bench/data/live-last.json');
  if (!report.skipped) {
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    console.log(`\nwrote ${path.relative(repoRoot, out)}`);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`bench/live: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
