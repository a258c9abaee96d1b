/**
 * Names in the text output without -n, as tcpdump's addrtoname.c gives them: host names from
 * gethostbyaddr() (the system's NSS sources: /etc/hosts, then DNS), asked once per address and
 * kept, and port names from /etc/services. A TextOut resolves only once useHostNames() was
 * called on it (the CLI does for a run without -n): formatting elsewhere (tests, probes) stays
 * numeric and never queries a name server. The printers check opts.n before anything here,
 * so a -n run costs nothing and loads nothing more.
 */
import type { TextOut } from './text.js';
import { ipv4At, ipv6At } from './format.js';
import { portName } from '../filter/names.js';
import { createRequire } from 'node:module';

/** Host names by address text (null: none), kept for the process (tcpdump never forgets one either). */
const hostNames = new Map<string, string | null>();
/** IPv4 names (null: none) by 32-bit address: the common case, without building the address text. */
const ipv4Names = new Map<number, string | null>();
/** IPv6 names (null: none) by the address's 16 bytes as 8 UTF-16 units: cheaper to build than its text. */
const ipv6Names = new Map<string, string | null>();

/** The TextOut state key marking an output that resolves names. */
const RESOLVES = 'host-names';

/** Makes `out` print host and port names where tcpdump does without -n. */
export function useHostNames(out: TextOut): void {
  out.state.set(RESOLVES, true);
}

/** Whether `out` prints names (no -n, and useHostNames called). */
export function resolves(out: TextOut): boolean {
  return out.opts.n === 0 && out.state.has(RESOLVES);
}

/** Appends the IPv4 address `a` as tcpdump's GET_IPADDR_STRING (ipaddr_string) does. */
export function putIpv4(out: TextOut, a: number): void {
  if (!resolves(out)) { out.ipv4(a); return; }
  let name = ipv4Names.get(a);
  if (name === undefined) {
    name = hostName(((a >>> 24) & 0xff) + '.' + ((a >>> 16) & 0xff) + '.' + ((a >>> 8) & 0xff) + '.' + (a & 0xff));
    ipv4Names.set(a, name);
  }
  if (name === null) out.ipv4(a);
  else out.put(shown(out, name));
}

/** Appends the IPv6 address at buf[o] as tcpdump's GET_IP6ADDR_STRING (ip6addr_string) does. */
export function putIpv6(out: TextOut, buf: Uint8Array, o: number): void {
  const name = resolves(out) ? ipv6Name(buf, o) : null;
  if (name === null) out.ipv6(buf, o);
  else out.put(shown(out, name));
}

/** GET_IPADDR_STRING of the 4 bytes at buf[o], as a string. */
export function ipv4Text(out: TextOut, buf: Uint8Array, o: number): string {
  return hostText(out, ipv4At(buf, o));
}

/** GET_IP6ADDR_STRING of the 16 bytes at buf[o], as a string. */
export function ipv6Text(out: TextOut, buf: Uint8Array, o: number): string {
  const name = resolves(out) ? ipv6Name(buf, o) : null;
  return name === null ? ipv6At(buf, o) : shown(out, name);
}

/** The name of the IPv6 address at buf[o], or null. */
function ipv6Name(buf: Uint8Array, o: number): string | null {
  const key = String.fromCharCode(
    (buf[o] << 8) | buf[o + 1], (buf[o + 2] << 8) | buf[o + 3], (buf[o + 4] << 8) | buf[o + 5], (buf[o + 6] << 8) | buf[o + 7],
    (buf[o + 8] << 8) | buf[o + 9], (buf[o + 10] << 8) | buf[o + 11], (buf[o + 12] << 8) | buf[o + 13], (buf[o + 14] << 8) | buf[o + 15]);
  let name = ipv6Names.get(key);
  if (name === undefined) {
    name = hostName(ipv6At(buf, o));
    ipv6Names.set(key, name);
  }
  return name;
}

/** An address's name where `out` resolves and it has one, else the address. */
function hostText(out: TextOut, addr: string): string {
  if (!resolves(out)) return addr;
  const name = hostName(addr);
  return name === null ? addr : shown(out, name);
}

/** A name as printed: -N drops its domain, as tcpdump does, from the first dot. */
function shown(out: TextOut, name: string): string {
  if (!out.opts.N) return name;
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

/** tcpport_string / udpport_string: the port's first /etc/services name for the protocol, or its number. */
export function portText(out: TextOut, proto: 'tcp' | 'udp', port: number): string {
  return resolves(out) ? portName(proto, port) ?? String(port) : String(port);
}

/** Appends portText(). */
export function putPort(out: TextOut, proto: 'tcp' | 'udp', port: number): void {
  if (resolves(out)) out.put(portName(proto, port) ?? String(port));
  else out.num(port);
}

let resolver: Resolver | null = null;

/** The name of an address given as text, or null when it has none. */
function hostName(addr: string): string | null {
  let name = hostNames.get(addr);
  if (name === undefined) {
    name = (resolver ??= new Resolver()).lookup(addr);
    hostNames.set(addr, name);
  }
  return name;
}

/**
 * How long one lookup may block the printer before the address is printed as a number (and no
 * more lookups are waited for): far beyond the resolver's own timeouts and retries.
 */
const LOOKUP_TIMEOUT_MS = 60_000;

/**
 * gethostbyaddr(), synchronously: getnameinfo() (node:dns lookupService, the same NSS sources)
 * runs in a worker thread while this thread waits on a shared flag. The printers are
 * synchronous and tcpdump blocks on its lookups too. The worker's code is given inline: it is
 * loaded from no file, so it starts the same from the sources and from dist/.
 */
class Resolver {
  private readonly port: import('node:worker_threads').MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly receive: typeof import('node:worker_threads').receiveMessageOnPort;
  private next = 0;
  /** Set when a lookup went unanswered for LOOKUP_TIMEOUT_MS: the rest are not waited for. */
  private stalled = false;

  constructor() {
    // Loaded here, on the first name asked for: a -n run never loads the worker machinery.
    const wt = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    const { port1, port2 } = new wt.MessageChannel();
    // No execArgv: the parent's (--input-type=module, say) would change how the code is read.
    const worker = new wt.Worker(WORKER_CODE, { eval: true, execArgv: [], workerData: { port: port2, flag: this.flag }, transferList: [port2] });
    worker.unref();
    port1.unref();
    this.port = port1;
    this.receive = wt.receiveMessageOnPort;
  }

  /** The host name of `addr`, or null (no name, or no answer in time). */
  lookup(addr: string): string | null {
    if (this.stalled) return null;
    const id = ++this.next;
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ id, addr });
    const deadline = Date.now() + LOOKUP_TIMEOUT_MS;
    for (;;) {
      Atomics.wait(this.flag, 0, 0, Math.max(0, deadline - Date.now()));
      Atomics.store(this.flag, 0, 0);
      // Replies to lookups that timed out earlier are dropped here.
      for (let m = this.receive(this.port); m !== undefined; m = this.receive(this.port)) {
        const reply = m.message as { id: number; name: string | null };
        if (reply.id === id) return reply.name;
      }
      if (Date.now() >= deadline) {
        this.stalled = true;
        return null;
      }
    }
  }
}

/** The worker: one getnameinfo() per request; NI_NAMEREQD (node's flag) makes a nameless address an error. */
const WORKER_CODE = `
const { workerData } = require('node:worker_threads');
const { lookupService } = require('node:dns');
const { port, flag } = workerData;
port.on('message', ({ id, addr }) => {
  lookupService(addr, 0, (err, host) => {
    port.postMessage({ id, name: err ? null : host });
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
});
`;
