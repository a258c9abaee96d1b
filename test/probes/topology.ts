/**
 * The network-namespace topology the probe tests run in (issue #6, item 7), built from nothing in
 * the root namespace: every address and route lives in namespaces made here, deleted by close().
 *
 *   client --c0/r1a-- r1 --r1b/r2a-- r2 --r2b/s0-- server
 *     \--c1-- [bridge br0 in "lan"] --+-- h1
 *                                     +-- h2        (and .99 / ::99: an address with no host)
 *
 *   link           IPv4            IPv6
 *   client-r1      10.81.1.0/24    fd81:1::/64     client .2/::2, r1 .1/::1
 *   r1-r2          10.81.2.0/24    fd81:2::/64     r1 .1/::1,     r2 .2/::2
 *   r2-server      10.81.3.0/24    fd81:3::/64     r2 .1/::1,     server .2/::2
 *   lan            10.81.4.0/24    fd81:4::/64     client .1/::1, h1 .11/::11, h2 .12/::12
 *
 * The client's default route is r1; r1 has no default route (10.81.50.1 / fd81:50::1: no route,
 * ICMP net unreachable). r1 has an `unreachable` route for 10.81.9.0/24 and
 * fd81:9::/64 (ICMP net unreachable / no route) and a `prohibit` route for 10.81.10.0/24 and
 * fd81:10::/64 (administratively prohibited). The server listens on TCP port 8080 (IPv4 and
 * IPv6), has nothing on 8081 (RST), and nftables drops 8082 and rejects 8083 with ICMP
 * administratively prohibited (PORTS).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasTool, repoRoot, wirescopeBin } from '../conformance/corpus.js';

/** Why the probe tests cannot run here, or null. */
export function topologyUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const t of ['ip', 'nft']) if (!hasTool(t)) return `${t} not installed`;
  if (!existsSync(path.join(repoRoot, 'dist/src/cli/main.js'))) return 'wirescope is not built (npx tsc -p tsconfig.json)';
  if (spawnSync(process.execPath, ['-e', 'require("cap")'], { cwd: repoRoot }).status !== 0) return 'the cap addon does not load';
  const probe = `wsprobe-check-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return 'cannot create network namespaces';
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

export const ADDR = {
  client: '10.81.1.2', r1: '10.81.1.1', r1Far: '10.81.2.1', r2: '10.81.2.2', r2Far: '10.81.3.1', server: '10.81.3.2',
  /** On the server's link, no host: r2's ARP fails and it answers host unreachable. */
  serverLinkNoHost: '10.81.3.99',
  clientLan: '10.81.4.1', h1: '10.81.4.11', h2: '10.81.4.12', lanNoHost: '10.81.4.99',
  /** r1 has no route to it: ICMP net unreachable (IPv6: no route). */
  noRouteNet: '10.81.50.1',
  /** Behind r1's `unreachable` route (Linux answers host unreachable) and `prohibit` route (packet filtered). */
  unreachableNet: '10.81.9.1', prohibitedNet: '10.81.10.1',
  client6: 'fd81:1::2', r16: 'fd81:1::1', r26: 'fd81:2::2', server6: 'fd81:3::2', serverLinkNoHost6: 'fd81:3::99',
  clientLan6: 'fd81:4::1', h16: 'fd81:4::11', h26: 'fd81:4::12', lanNoHost6: 'fd81:4::99',
  noRouteNet6: 'fd81:50::1', unreachableNet6: 'fd81:9::1', prohibitedNet6: 'fd81:10::1',
} as const;

/**
 * More client addresses on c0, each used once: Linux rate-limits the ICMP errors a router sends
 * for a routing failure (no route, unreachable, prohibit) per source address, with a budget the
 * router's other ICMP errors to that source also drain, so tests that count such errors each
 * take a fresh source.
 */
export const SPARE_SOURCES = Array.from({ length: 24 }, (_, i) => `10.81.1.${100 + i}`);

export const PORTS = { open: 8080, closed: 8081, dropped: 8082, rejected: 8083 } as const;

/** Interface names inside the client namespace. */
export const CLIENT_IF = { up: 'c0', lan: 'c1' } as const;

export interface Topology {
  /** Namespace names by role. */
  ns: { client: string; r1: string; r2: string; server: string; lan: string; h1: string; h2: string };
  /** Runs argv in namespace ns to completion (default timeout 30 s). */
  exec(ns: string, argv: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  /** Kills the server's listener and deletes every namespace. */
  close(): void;
}

let serial = 0;

function run(argv: string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
}

/** The server's TCP listener on PORTS.open, IPv4 and IPv6 (dual-stack ::), accepting and closing. */
const LISTENER = `require('net').createServer((s) => { s.on('error', () => {}); s.end(); }).listen(${PORTS.open}, '::', () => console.log('up'))`;

/** Builds the topology; throws (after cleaning up) when a step fails. */
export async function buildTopology(): Promise<Topology> {
  const id = `${process.pid}-${++serial}`;
  const ns = {
    client: `wsprobe-client-${id}`, r1: `wsprobe-r1-${id}`, r2: `wsprobe-r2-${id}`, server: `wsprobe-server-${id}`,
    lan: `wsprobe-lan-${id}`, h1: `wsprobe-h1-${id}`, h2: `wsprobe-h2-${id}`,
  };
  let listener: ChildProcess | null = null;
  const close = (): void => {
    if (listener !== null && listener.exitCode === null) listener.kill('SIGKILL');
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
  };
  const exec = (n: string, argv: string[], timeoutMs = 30000): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('ip', ['netns', 'exec', n, ...argv], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 24 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  try {
    for (const n of Object.values(ns)) {
      run(['ip', 'netns', 'add', n]);
      run(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
      // No duplicate address detection (addresses usable at once), no router solicitations.
      run(['ip', 'netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.default.router_solicitations=0']);
    }
    const veth = (a: string, aIf: string, b: string, bIf: string): void =>
      run(['ip', 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
    const addr = (n: string, dev: string, ...cidrs: string[]): void => {
      for (const c of cidrs) run(['ip', '-n', n, 'addr', 'add', c, 'dev', dev, ...(c.includes(':') ? ['nodad'] : [])]);
      run(['ip', '-n', n, 'link', 'set', dev, 'up']);
    };
    veth(ns.client, 'c0', ns.r1, 'r1a');
    veth(ns.r1, 'r1b', ns.r2, 'r2a');
    veth(ns.r2, 'r2b', ns.server, 's0');
    addr(ns.client, 'c0', `${ADDR.client}/24`, `${ADDR.client6}/64`, ...SPARE_SOURCES.map((a) => `${a}/24`));
    addr(ns.r1, 'r1a', `${ADDR.r1}/24`, `${ADDR.r16}/64`);
    addr(ns.r1, 'r1b', `${ADDR.r1Far}/24`, 'fd81:2::1/64');
    addr(ns.r2, 'r2a', `${ADDR.r2}/24`, `${ADDR.r26}/64`);
    addr(ns.r2, 'r2b', `${ADDR.r2Far}/24`, 'fd81:3::1/64');
    addr(ns.server, 's0', `${ADDR.server}/24`, `${ADDR.server6}/64`);
    // The LAN: a bridge in its own namespace, the client and two hosts plugged into it.
    run(['ip', '-n', ns.lan, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    run(['ip', '-n', ns.lan, 'link', 'set', 'br0', 'up']);
    for (const [n, dev, port, cidrs] of [
      [ns.client, 'c1', 'pc', [`${ADDR.clientLan}/24`, `${ADDR.clientLan6}/64`]],
      [ns.h1, 'e0', 'p1', [`${ADDR.h1}/24`, `${ADDR.h16}/64`]],
      [ns.h2, 'e0', 'p2', [`${ADDR.h2}/24`, `${ADDR.h26}/64`]],
    ] as const) {
      veth(n, dev, ns.lan, port);
      run(['ip', '-n', ns.lan, 'link', 'set', port, 'master', 'br0', 'up']);
      addr(n, dev, ...cidrs);
    }
    // Forwarding on; ICMP errors not rate-limited, so every probe that earns one gets it (counts comparable run to run).
    for (const r of [ns.r1, ns.r2, ns.server]) {
      run(['ip', 'netns', 'exec', r, 'sysctl', '-q', '-w', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0',
        ...(r === ns.server ? [] : ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'])]);
    }
    run(['ip', '-n', ns.client, 'route', 'add', 'default', 'via', ADDR.r1]);
    run(['ip', '-n', ns.client, '-6', 'route', 'add', 'default', 'via', ADDR.r16]);
    run(['ip', '-n', ns.r1, 'route', 'add', '10.81.3.0/24', 'via', ADDR.r2]);
    run(['ip', '-n', ns.r1, '-6', 'route', 'add', 'fd81:3::/64', 'via', ADDR.r26]);
    run(['ip', '-n', ns.r1, 'route', 'add', 'unreachable', '10.81.9.0/24']);
    run(['ip', '-n', ns.r1, '-6', 'route', 'add', 'unreachable', 'fd81:9::/64']);
    run(['ip', '-n', ns.r1, 'route', 'add', 'prohibit', '10.81.10.0/24']);
    run(['ip', '-n', ns.r1, '-6', 'route', 'add', 'prohibit', 'fd81:10::/64']);
    run(['ip', '-n', ns.r2, 'route', 'add', 'default', 'via', ADDR.r1Far]);
    run(['ip', '-n', ns.r2, '-6', 'route', 'add', 'default', 'via', 'fd81:2::1']);
    run(['ip', '-n', ns.server, 'route', 'add', 'default', 'via', ADDR.r2Far]);
    run(['ip', '-n', ns.server, '-6', 'route', 'add', 'default', 'via', 'fd81:3::1']);
    const rules = [
      'table inet wsprobe {', 'chain input {', 'type filter hook input priority 0; policy accept;',
      `tcp dport ${PORTS.dropped} drop`, `tcp dport ${PORTS.rejected} reject with icmpx type admin-prohibited`, '}', '}', '',
    ].join('\n');
    const r = spawnSync('ip', ['netns', 'exec', ns.server, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nft: ${r.stderr.trim()}`);
    // Settle the links (carrier, IPv6 multicast) before any test: the routers learn their neighbours.
    for (const a of [ADDR.server, ADDR.server6]) {
      for (let i = 0; i < 10 && exec(ns.client, ['ping', '-c', '1', '-W', '1', a]).status !== 0; i++);
    }
    listener = spawn('ip', ['netns', 'exec', ns.server, process.execPath, '-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server listener did not start')), 10000);
      listener!.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
      listener!.once('exit', () => { clearTimeout(timer); reject(new Error('the server listener exited')); });
    });
  } catch (e) {
    close();
    throw e;
  }
  return { ns, exec, close };
}

/** The compiled tree the commands run from: dist/, or the one holding WIRESCOPE_MAIN (dist/src/cli/main.js). */
export const distDir = process.env.WIRESCOPE_MAIN ? path.resolve(process.env.WIRESCOPE_MAIN, '../../..') : path.join(repoRoot, 'dist');

/** wirescope's command line (the built CLI, or the main.js WIRESCOPE_MAIN names) for exec. */
export function wirescope(...args: string[]): string[] {
  return [process.execPath, process.env.WIRESCOPE_MAIN ?? wirescopeBin, ...args];
}
