/**
 * ICMP echo (ping) over the probe engine, with iputils ping's timing rules, output and exit
 * statuses (iputils 20221126, ping_common.c / ping.c / ping6_common.c):
 * - one probe at once, then one every -i seconds; with -c N, stop sending after N probes unless -w
 *   is given (then keep sending until N replies or the deadline);
 * - after the last probe, wait max(2 x the largest RTT, the interval) when some reply came, else
 *   -W seconds (default 10), then print the statistics;
 * - stop early when replies + errors reach -c, or at the first error with -w;
 * - exit 0 when a reply came (with -w: when -c replies came), 1 otherwise, 2 on an error before sending.
 * The payload is iputils' own: a struct timeval (16 bytes on 64-bit Linux) then bytes 0x10, 0x11 ...;
 * times are printed only when the payload holds the timeval (-s 16 and up), as iputils does.
 */
import { lookupService } from 'node:dns/promises';
import { isIP } from 'node:net';
import { makeLayer } from '../core/dissector.js';
import { icmp, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_UNREACH, ICMP_SOURCEQUENCH, ICMP_REDIRECT, ICMP_TIMXCEED, ICMP_PARAMPROB, type IcmpLayer } from '../../dissectors/icmp.js';
import { icmpv6, ICMP6, ICMP6_TYPE, type Icmpv6Layer } from '../../dissectors/icmpv6.js';
import { IPPROTO } from '../../dissectors/ipv6.js';
import { Ipv4Layer } from '../../dissectors/ipv4.js';
import { ipv4Of } from '../output/format.js';
import { formatText, type ProbeFrame } from './engine.js';
import { Sleeper } from './sleeper.js';
import { openPath, resolveHost, solicit, nextHop, type Family, type Route } from './path.js';

export interface PingOptions {
  host: string;
  family?: Family;
  /** -c: probes to send (0: until interrupted or the deadline). */
  count: number;
  /** -i: seconds between probes. */
  interval: number;
  /** -s: ICMP data bytes. */
  size: number;
  /** -t: IP TTL / hop limit. */
  ttl: number;
  /** -W: seconds to wait for a reply when none came (0: no limit). */
  timeout: number;
  /** -w: seconds before exiting whatever happened (0: none). */
  deadline: number;
  /** -I: interface name or source address. */
  iface?: string;
  source?: string;
  quiet: boolean;
  /** -n: no reverse lookups of reply sources. */
  numeric: boolean;
  /** -D: each line starts with the Unix time of its arrival, "[sec.usec] ". */
  timestamps: boolean;
  json: boolean;
  /** -v: print each frame sent and received with the capture printer. */
  verbose: boolean;
}

/** Where output goes (stdout lines); tests capture it. */
export type Write = (s: string) => void;

/** The kernel's neighbour resolution: mcast_solicit probes, retrans_time apart (Linux defaults). */
const NEIGH_SOLICITS = 3;
const NEIGH_RETRANS_MS = 1000;

/** Size of the struct timeval iputils puts at the start of the data. */
const TIMEVAL_LEN = 16;

/** iputils' ping payload: the send time as a timeval, then the byte pattern i & 0xff. */
function payloadOf(size: number, wallMs: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = i & 0xff;
  if (size >= TIMEVAL_LEN) {
    const v = new DataView(d.buffer);
    const sec = Math.floor(wallMs / 1000);
    v.setBigUint64(0, BigInt(sec), true);
    v.setBigUint64(8, BigInt(Math.floor((wallMs - sec * 1000) * 1000)), true);
  }
  return d;
}

const UNREACH4 = [
  'Destination Net Unreachable', 'Destination Host Unreachable', 'Destination Protocol Unreachable',
  'Destination Port Unreachable', '', 'Source Route Failed', 'Destination Net Unknown', 'Destination Host Unknown',
  'Source Host Isolated', 'Destination Net Prohibited', 'Destination Host Prohibited',
  'Destination Net Unreachable for Type of Service', 'Destination Host Unreachable for Type of Service',
  'Packet filtered', 'Precedence Violation', 'Precedence Cutoff',
];
const REDIRECT4 = ['Redirect Network', 'Redirect Host', 'Redirect Type of Service and Network', 'Redirect Type of Service and Host'];

/** iputils ping4's pr_icmph text for an ICMP error. */
export function icmpErrorText(l: IcmpLayer): string {
  const c = l.code;
  switch (l.type) {
    case ICMP_UNREACH:
      if (c === 4) return `Frag needed and DF set (mtu = ${l.rest & 0xffff})`;
      return UNREACH4[c] ?? `Dest Unreachable, Bad Code: ${c}`;
    case ICMP_SOURCEQUENCH: return 'Source Quench';
    case ICMP_REDIRECT: return (REDIRECT4[c] ?? `Redirect, Bad Code: ${c}`) + `(New nexthop: ${ipv4Of(l.rest)})`;
    case ICMP_TIMXCEED: return c === 0 ? 'Time to live exceeded' : c === 1 ? 'Frag reassembly time exceeded' : `Time exceeded, Bad Code: ${c}`;
    case ICMP_PARAMPROB: return `Parameter problem: pointer = ${l.rest >>> 24}`;
  }
  return `Bad ICMP type: ${l.type}`;
}

const UNREACH6 = ['No route', 'Administratively prohibited', 'Beyond scope of source address', 'Address unreachable', 'Port unreachable'];
const PARAMPROB6 = ['Wrong header field ', 'Unknown header ', 'Unknown option '];

/** iputils ping6's pr_icmph text for an ICMPv6 error. */
export function icmpv6ErrorText(l: Icmpv6Layer): string {
  const c = l.code;
  switch (l.type) {
    case ICMP6_TYPE.DST_UNREACH: return 'Destination unreachable: ' + (UNREACH6[c] ?? `Unknown code ${c}`);
    case ICMP6_TYPE.PACKET_TOO_BIG: return `Packet too big: mtu=${l.u32At(ICMP6.MTU)}` + (c ? `, code=${c}` : '');
    case ICMP6_TYPE.TIME_EXCEEDED: return 'Time exceeded: ' + (c === 0 ? 'Hop limit' : c === 1 ? 'Defragmentation failure' : `code ${c}`);
    case ICMP6_TYPE.PARAM_PROB: return 'Parameter problem: ' + (PARAMPROB6[c] ?? `code ${c} `) + `at ${l.u32At(ICMP6.POINTER)}`;
  }
  return `Bad ICMP type: ${l.type}`;
}

/** iputils' RTT text: three significant decimals below 1 ms, fewer above (triptime in microseconds). */
export function rttText(us: number): string {
  if (us >= 100000 - 50) return String(Math.floor((us + 500) / 1000));
  if (us >= 10000 - 5) return `${Math.floor((us + 50) / 1000)}.${Math.floor(((us + 50) % 1000) / 100)}`;
  if (us >= 1000) return `${Math.floor((us + 5) / 1000)}.${String(Math.floor(((us + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;
}

/** "%ld.%03ld" of microseconds. */
function msText(us: number): string {
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;
}

/** printf's %g (6 significant digits, no trailing zeros) of a percentage. */
function percentText(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** Integer square root as iputils' llsqrt. */
function isqrt(n: number): number {
  return n <= 0 ? 0 : Math.floor(Math.sqrt(n));
}

/** The echo request's identifier: the process id, as ping takes it. */
export const echoIdent = process.pid & 0xffff;

interface Stats {
  transmitted: number;
  received: number;
  duplicates: number;
  errors: number;
  /** RTTs in microseconds (replies and duplicates, as iputils sums them). */
  tmin: number;
  tmax: number;
  tsum: number;
  tsum2: number;
  timed: number;
  /** iputils' moving average of the RTT, times 8 (rtt += triptime - rtt / 8). */
  ewma8: number;
}

/** Runs ping to completion; returns the exit status. Errors before sending are one line on stderr. */
export async function ping(o: PingOptions, write: Write, fail: (line: string) => void): Promise<number> {
  let dst: { address: string; family: Family; zone?: string };
  try {
    dst = await resolveHost(o.host, o.family);
  } catch (e) {
    fail(`ping: ${(e as Error).message}`);
    return 2;
  }
  const v4 = dst.family === 4;
  let path;
  try {
    path = await openPath(dst, { filter: v4 ? 'icmp' : 'icmp6', iface: o.iface ?? dst.zone, src: o.source, allowUnresolved: true });
  } catch (e) {
    const err = e as Error & { syscall?: string };
    fail(`ping: ${err.syscall ? err.syscall + ': ' : ''}${err.message}`);
    return 2;
  }
  const { route, engine } = path;
  const numeric = o.numeric || isIP(o.host) !== 0;
  // getnameinfo's text: a link-local IPv6 source carries the interface it came in on.
  const scoped = (a: string): string => (!v4 && /^fe[89ab]/i.test(a) ? `${a}%${route.iface.name}` : a);
  const names = new Map<string, Promise<string>>();
  const nameOf = (a: string): Promise<string> => {
    if (numeric) return Promise.resolve(scoped(a));
    let n = names.get(a);
    if (n === undefined) {
      n = lookupService(a, 0).then((r) => `${r.hostname} (${scoped(a)})`, () => scoped(a));
      names.set(a, n);
    }
    return n;
  };
  const timing = o.size >= TIMEVAL_LEN;
  const st: Stats = { transmitted: 0, received: 0, duplicates: 0, errors: 0, tmin: Infinity, tmax: 0, tsum: 0, tsum2: 0, timed: 0, ewma8: 0 };
  const sentAt = new Map<number, number>();
  const seen = new Set<number>();
  const emit = (obj: Record<string, unknown>): void => write(JSON.stringify(obj) + '\n');
  /** iputils' print_timestamp for -D: "[seconds.microseconds] " of the wall clock at `at`. */
  const stamp = (at: number): string => {
    if (!o.timestamps) return '';
    const us = Math.floor((performance.timeOrigin + at) * 1000);
    return `[${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}] `;
  };

  if (o.json) {
    emit({ type: 'start', host: o.host, address: dst.address, family: dst.family, source: route.src, interface: route.iface.name, size: o.size });
  } else {
    const from = o.iface !== undefined || o.source !== undefined ? `from ${route.src} ${o.iface ?? ''}: ` : '';
    write(v4 ? `PING ${o.host} (${dst.address}) ${from}${o.size}(${o.size + 28}) bytes of data.\n`
      : `PING ${o.host}(${dst.address}${dst.zone !== undefined ? '%' + dst.zone : ''}) ${from}${o.size} data bytes\n`);
  }

  const sleeper = new Sleeper();
  // Lines are printed in arrival order; a hostname lookup must not reorder them.
  let printing = Promise.resolve();
  const print = (make: () => Promise<string>): void => { printing = printing.then(make).then((s) => write(s)); };

  const onFrame = (f: ProbeFrame): void => {
    const r = classify(f, route, v4);
    if (r === null || !sentAt.has(r.seq)) return;
    const ip = f.view.ip!;
    const from = ip.srcAddr;
    if (r.kind === 'reply') {
      const dup = seen.has(r.seq);
      seen.add(r.seq);
      const us = Math.max(0, Math.round((f.at - sentAt.get(r.seq)!) * 1000));
      if (dup) st.duplicates++;
      else st.received++;
      if (timing) {
        st.timed++;
        st.tsum += us;
        st.tsum2 += us * us;
        st.ewma8 = st.ewma8 === 0 ? us * 8 : st.ewma8 + us - Math.floor(st.ewma8 / 8);
        if (us < st.tmin) st.tmin = us;
        if (us > st.tmax) st.tmax = us;
      }
      const ttl = ip instanceof Ipv4Layer ? ip.ttl : ip.hlim;
      if (o.verbose && !o.json) print(async () => formatText(f.packet) + '\n');
      if (o.json) emit({ type: 'reply', seq: r.seq, from, ttl, bytes: r.bytes, ...(timing ? { rtt_ms: us / 1000 } : {}), duplicate: dup });
      else if (!o.quiet) {
        print(async () => stamp(f.at) + `${r.bytes} bytes from ${await nameOf(from)}: icmp_seq=${r.seq} ttl=${ttl}` +
          (timing ? ` time=${rttText(us)} ms` : '') + (dup ? ' (DUP!)' : '') + '\n');
      }
    } else {
      st.errors++;
      if (o.verbose && !o.json) print(async () => formatText(f.packet) + '\n');
      if (o.json) emit({ type: 'error', seq: r.seq, from, icmp_type: r.type, icmp_code: r.code, message: r.text });
      else if (!o.quiet) print(async () => stamp(f.at) + `From ${await nameOf(from)} icmp_seq=${r.seq} ${r.text}\n`);
    }
    sleeper.wake();
  };
  engine.listen(onFrame);

  /** Sends probe seq; heldSince: when it was queued waiting for the next hop's MAC, if it was. */
  const transmit = (seq: number, heldSince?: number): void => {
    const ip = engine.ipLayer({ proto: v4 ? IPPROTO.ICMP : IPPROTO.ICMPV6, ttl: o.ttl });
    const echo = v4 ? makeLayer(icmp, { type: ICMP_ECHO, code: 0, ident: echoIdent, seq })
      : makeLayer(icmpv6, { type: ICMP6_TYPE.ECHO_REQUEST, code: 0, body: identSeq(echoIdent, seq) });
    const sent = engine.send([ip, echo], payloadOf(o.size, performance.timeOrigin + (heldSince ?? performance.now())));
    // A held probe keeps its queueing time, as the kernel's queue does (iputils times from the payload's stamp).
    sentAt.set(seq, heldSince ?? sent.at);
    if (o.json) emit({ type: 'probe', seq, to: dst.address, ttl: o.ttl, bytes: o.size + 8 });
    if (o.verbose && !o.json) print(async () => formatText(sent.packet) + '\n');
  };

  // While the next hop does not answer, probes wait as the kernel queues them: it solicits
  // NEIGH_SOLICITS times a second apart, then fails every queued probe with host unreachable.
  const queued: number[] = [];
  let resolving = false;
  let closed = false;
  const resolveNextHop = async (): Promise<void> => {
    resolving = true;
    let mac: string | null = null;
    for (let k = 0; k < NEIGH_SOLICITS && mac === null && !closed; k++) mac = await solicit(engine, nextHop(route), NEIGH_RETRANS_MS);
    resolving = false;
    if (closed) return;
    const waiting = queued.splice(0);
    engine.nextHopMac = mac;
    for (const seq of waiting) {
      if (mac !== null) { transmit(seq, sentAt.get(seq)!); continue; }
      st.errors++;
      const text = v4 ? 'Destination Host Unreachable' : 'Destination unreachable: Address unreachable';
      if (o.json) emit({ type: 'error', seq, from: route.src, message: text });
      else if (!o.quiet) print(async () => stamp(performance.now()) + `From ${route.src} icmp_seq=${seq} ${text}\n`);
    }
    sleeper.wake();
  };

  const sendProbe = (): void => {
    const seq = (st.transmitted + 1) & 0xffff;
    st.transmitted++;
    const now = performance.now();
    sentAt.set(seq, now);
    if (engine.ethernet && engine.nextHopMac === null) {
      queued.push(seq);
      if (!resolving) void resolveNextHop();
      return;
    }
    transmit(seq);
  };

  let interrupted = false;
  const onSignal = (): void => { interrupted = true; sleeper.wake(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const start = performance.now();
  let lastSend = start;
  let nextSend = start;
  let exitAt = -1;
  const deadlineAt = o.deadline > 0 ? start + o.deadline * 1000 : Infinity;
  try {
    for (;;) {
      const now = performance.now();
      if (interrupted) break;
      if (o.count && st.received + st.errors >= o.count) break;
      if (o.deadline && st.errors) break;
      if (now >= deadlineAt) break;
      const moreToSend = !o.count || st.transmitted < o.count || o.deadline > 0;
      if (moreToSend) {
        if (now >= nextSend) {
          lastSend = now;
          nextSend = now + o.interval * 1000;
          sendProbe();
          // After the last probe, the wait for replies starts now.
          if (o.count && st.transmitted >= o.count && !o.deadline) continue;
        }
        // Yields even when the next probe is due at once (-i 0), so replies and signals are handled.
        await sleeper.sleep(Math.min(nextSend, deadlineAt) - performance.now());
        continue;
      }
      if (exitAt < 0) {
        // A wait of 0 disarms iputils' exit timer (setitimer): it then waits for every reply.
        const wait = (st.received ? Math.max(2 * st.tmax / 1000, o.interval * 1000) : o.timeout * 1000) || Infinity;
        exitAt = now + wait;
      }
      if (now >= exitAt) break;
      await sleeper.sleep(Math.min(exitAt, deadlineAt) - now);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    closed = true;
    engine.close();
  }
  await printing;
  const elapsed = st.transmitted > 1 ? Math.round(lastSend - start) : 0;
  const loss = st.transmitted ? ((st.transmitted - st.received) * 100) / st.transmitted : 0;
  const n = st.timed;
  const avg = n ? Math.floor(st.tsum / n) : 0;
  const mdev = n ? isqrt(Math.floor(st.tsum2 / n) - avg * avg) : 0;
  if (o.json) {
    emit({
      type: 'summary', host: o.host, address: dst.address, transmitted: st.transmitted, received: st.received,
      duplicates: st.duplicates, errors: st.errors, loss_percent: Number(loss.toPrecision(6)), time_ms: elapsed,
      ...(st.received && timing ? { rtt_ms: { min: st.tmin / 1000, avg: avg / 1000, max: st.tmax / 1000, mdev: mdev / 1000 } } : {}),
    });
  } else {
    let s = `\n--- ${o.host} ping statistics ---\n${st.transmitted} packets transmitted, ${st.received} received`;
    if (st.duplicates) s += `, +${st.duplicates} duplicates`;
    if (st.errors) s += `, +${st.errors} errors`;
    if (st.transmitted) s += `, ${percentText(loss)}% packet loss, time ${elapsed}ms`;
    s += '\n';
    if (st.received && timing) s += `rtt min/avg/max/mdev = ${msText(st.tmin)}/${msText(avg)}/${msText(st.tmax)}/${msText(mdev)} ms`;
    // Back-to-back probes (-i 0): the mean gap between sends and the moving average RTT.
    if (st.received && o.interval === 0 && st.transmitted > 1) {
      const ipg = Math.floor(Math.round((lastSend - start) * 1000) / (st.transmitted - 1));
      s += `${timing ? ', ' : ''}ipg/ewma ${msText(ipg)}/${msText(Math.floor(st.ewma8 / 8))} ms`;
    }
    write(s + '\n');
  }
  return !st.received || (o.deadline > 0 && o.count > 0 && st.received < o.count) ? 1 : 0;
}

/** The identifier and sequence words of an ICMPv6 echo (the message body after the checksum). */
function identSeq(id: number, seq: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, ((id << 16) | seq) >>> 0);
  return b;
}

interface Classified {
  kind: 'reply' | 'error';
  seq: number;
  /** ICMP message bytes (reply) as "N bytes from". */
  bytes: number;
  type: number;
  code: number;
  text: string;
}

/** An echo reply to one of our probes, or an ICMP error quoting one; null for anything else. */
function classify(f: ProbeFrame, route: Route, v4: boolean): Classified | null {
  const v = f.view;
  if (v4) {
    const m = v.icmp;
    if (m === undefined || m.quoted) return null;
    if (m.type === ICMP_ECHOREPLY && m.ident === echoIdent) {
      return { kind: 'reply', seq: m.seq, bytes: m.length, type: m.type, code: m.code, text: '' };
    }
    const q = v.quoted;
    if (q?.icmp !== undefined && q.icmp.type === ICMP_ECHO && q.icmp.ident === echoIdent && q.ip?.dstAddr === route.dst) {
      return { kind: 'error', seq: q.icmp.seq, bytes: m.length, type: m.type, code: m.code, text: icmpErrorText(m) };
    }
    return null;
  }
  const m = v.icmp6;
  if (m === undefined || m.quoted) return null;
  if (m.type === ICMP6_TYPE.ECHO_REPLY && m.u16At(ICMP6.ID) === echoIdent) {
    return { kind: 'reply', seq: m.u16At(ICMP6.SEQ), bytes: m.length, type: m.type, code: m.code, text: '' };
  }
  const q = v.quoted?.icmp6;
  if (q !== undefined && q.type === ICMP6_TYPE.ECHO_REQUEST && q.u16At(ICMP6.ID) === echoIdent && v.quoted!.ip?.dstAddr === route.dst) {
    return { kind: 'error', seq: q.u16At(ICMP6.SEQ), bytes: m.length, type: m.type, code: m.code, text: icmpv6ErrorText(m) };
  }
  return null;
}
