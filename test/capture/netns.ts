/**
 * Two network namespaces made by a test, joined by a veth (nothing added to the root namespace),
 * capturers started inside them, and traffic that stays between them.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasTool, repoRoot, wirescopeBin } from '../conformance/corpus.js';
import type { Frame } from '../../src/core/frame.js';
import { openCapture } from '../../src/pcap/reader.js';

/** Why the live tests cannot run here, or null. */
export function liveUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (!hasTool('ip')) return 'iproute2 (ip) not installed';
  if (!existsSync(path.join(repoRoot, 'dist/src/cli/main.js'))) return 'wirescope is not built (npx tsc -p tsconfig.json)';
  if (spawnSync(process.execPath, ['-e', 'require("cap")'], { cwd: repoRoot }).status !== 0) return 'the cap addon does not load';
  const probe = `wstest-probe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return 'cannot create network namespaces';
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

let serial = 0;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Namespaces a (10.77.0.1) and b (10.77.0.2) joined by veth a0 <-> b0, IPv6 off (no background chatter). */
export class NetnsPair {
  readonly a: string;
  readonly b: string;
  readonly aIf = 'wsa0';
  readonly bIf = 'wsb0';
  readonly aAddr = '10.77.0.1';
  readonly bAddr = '10.77.0.2';

  constructor() {
    const id = `${process.pid}-${++serial}`;
    this.a = `wstest-a-${id}`;
    this.b = `wstest-b-${id}`;
    ip('netns', 'add', this.a);
    ip('netns', 'add', this.b);
    ip('link', 'add', this.aIf, 'netns', this.a, 'type', 'veth', 'peer', 'name', this.bIf, 'netns', this.b);
    for (const [ns, dev, addr] of [[this.a, this.aIf, this.aAddr], [this.b, this.bIf, this.bAddr]]) {
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // Carrier comes up a moment after "link set up"; libpcap orders interfaces by it.
    for (const [ns, dev] of [[this.a, this.aIf], [this.b, this.bIf]]) {
      for (let i = 0; i < 100 && !/ UP /.test(spawnSync('ip', ['-n', ns, '-br', 'link', 'show', dev], { encoding: 'utf8' }).stdout); i++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
  }

  /** Runs a command in a namespace to completion. */
  exec(ns: string, argv: string[], opts: { input?: string; timeout?: number } = {}): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: opts.timeout ?? 20000, input: opts.input, maxBuffer: 1 << 26 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  close(): void {
    spawnSync('ip', ['netns', 'del', this.a]);
    spawnSync('ip', ['netns', 'del', this.b]);
  }
}

export interface Running {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Exit code (or null and the signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a process in a namespace; resolves once its stderr says "listening on" (tshark's formats: "Capturing on"), or it exits. */
export function startListening(ns: string, argv: string[], opts: SpawnOptions = {}): Promise<Running> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const r: Running = {
    child, stdout: '', stderr: '',
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (r.stdout += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} did not start listening: ${r.stderr}`)), 20000);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      r.stderr += s;
      if (r.stderr.includes('listening on') || r.stderr.includes('Capturing on')) {
        clearTimeout(timer);
        resolve(r);
      }
    });
    void r.exited.then(() => {
      clearTimeout(timer);
      resolve(r);
    });
  });
}

/** wirescope's command line inside a namespace. */
export function wirescope(...args: string[]): string[] {
  return [process.execPath, wirescopeBin, ...args];
}

/**
 * tcpdump as the reference: staying root (Debian's tcpdump otherwise becomes user "tcpdump" and
 * cannot write into the test's directory), with a 16 MiB ring so it loses nothing on a busy
 * machine. Not in immediate mode, whose fixed 64 KiB slots would hold few frames: it hands
 * packets over in blocks within TPACKET_BLOCK_MS.
 */
export function tcpdump(...args: string[]): string[] {
  return ['tcpdump', '-Z', 'root', '-B', '16384', ...args];
}

/** tcpdump's block timeout (its 1 s read timeout): wait longer than this before stopping it. */
export const TPACKET_BLOCK_MS = 1000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Stops a capturer with a signal and waits for it. */
export async function stop(r: Running, signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  r.child.kill(signal);
  return r.exited;
}

/** Every frame of a capture file, bytes copied. */
export function framesOf(file: string): Frame[] {
  const out: Frame[] = [];
  const rd = openCapture(file);
  try {
    for (let f = rd.next(); f !== null; f = rd.next()) out.push({ ...f, data: f.data.slice() });
  } finally {
    rd.close();
  }
  return out;
}

export function hex(f: Frame): string {
  return Buffer.from(f.data).toString('hex');
}

/** Varied traffic from a to b: ARP, ICMP echo, a TCP exchange (HTTP with curl), UDP datagrams. */
export async function makeTraffic(pair: NetnsPair): Promise<void> {
  pair.exec(pair.a, ['ping', '-c', '3', '-i', '0.2', '-W', '1', pair.bAddr]);
  const server = spawn('ip', ['netns', 'exec', pair.b, process.execPath, '-e', `
    const http = require('http');
    const s = http.createServer((q, r) => { r.end('x'.repeat(1000)); s.close(); });
    s.listen(8080, '${pair.bAddr}', () => console.log('up'));
    setTimeout(() => process.exit(0), 10000).unref();
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
  if (hasTool('curl')) pair.exec(pair.a, ['curl', '-s', '-o', '/dev/null', `http://${pair.bAddr}:8080/`]);
  else pair.exec(pair.a, [process.execPath, '-e', `require('http').get('http://${pair.bAddr}:8080/', (r) => r.resume())`]);
  await new Promise<void>((resolve) => server.on('close', () => resolve()));
  pair.exec(pair.a, [process.execPath, '-e', `
    const s = require('dgram').createSocket('udp4');
    let n = 0;
    const send = () => s.send(Buffer.alloc(100 + n * 10, n), 5353, '${pair.bAddr}', () => (++n < 10 ? send() : s.close()));
    send();
  `]);
}

/** UDP from a to b: count datagrams of size bytes, perMs of them a millisecond (0: as fast as the socket takes them). */
export function udpFlood(pair: NetnsPair, count: number, size: number, perMs = 0): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', pair.a, process.execPath, '-e', `
    const s = require('dgram').createSocket('udp4');
    const b = Buffer.alloc(${size}, 7);
    let n = 0;
    const fast = () => { if (n++ >= ${count}) return s.close(); s.send(b, 9, '${pair.bAddr}', fast); };
    const paced = setInterval(() => {
      for (let k = 0; k < ${perMs}; k++) if (n++ < ${count}) s.send(b, 9, '${pair.bAddr}');
      if (n >= ${count}) { clearInterval(paced); setTimeout(() => s.close(), 100); }
    }, 1);
    if (${perMs} === 0) { clearInterval(paced); fast(); }
  `], { stdio: 'ignore' });
  return new Promise((resolve) => child.on('close', () => resolve()));
}
