/**
 * traceroute(8) (Dmitry Butskoy's traceroute 2.1, Debian's): probes with growing TTLs, up to
 * simProbes of them in flight at once, the reply to each matched by the header an ICMP error
 * quotes (or, from the destination, by the echo identifier/sequence or the TCP ports), one line
 * per hop printed in order as soon as it is complete, and the end at the hop that answered "final"
 * (port unreachable, echo reply, SYN-ACK/RST, or an unreachable such as !H).
 *
 * The scheduling, the waiting rule (-w MAX,HERE,NEAR: a probe waits at most MAX seconds, or HERE
 * times the round trip of an answered probe of its hop, or NEAR times that of a later hop) and the
 * reordering of a "final" answer that came for a later probe (check_expired) are traceroute.c's
 * do_it, get_timeout and check_expired, so the same network gives the same lines.
 */
import type { Layer } from '../core/dissector.js';
import { Ipv6Layer } from '../../dissectors/ipv6.js';
import { ICMP_ECHOREPLY } from '../../dissectors/icmp.js';
import { ICMP6, ICMP6_TYPE } from '../../dissectors/icmpv6.js';
import type { PacketView } from './engine.js';
import { Sleeper } from './sleeper.js';
import { echoProbe, tracerouteSyn, udpProbe, TRACEROUTE_TCP_PORT, TRACEROUTE_UDP_PORT, type IpLayerOf, type Probe } from './probe-builders.js';
import { icmpErrorOf, tracerouteAnnotation } from './probe-replies.js';

export type TraceMethod = 'udp' | 'icmp' | 'tcp';

export interface TraceOptions {
  method: TraceMethod;
  /** -f */
  firstTtl: number;
  /** -m */
  maxTtl: number;
  /** -q */
  queries: number;
  /** -w MAX,HERE,NEAR (seconds, factors) */
  waitSecs: number;
  hereFactor: number;
  nearFactor: number;
  /** -N */
  simProbes: number;
  /** -p: the first UDP port, the first ICMP sequence, or the TCP port; undefined for the method's default. */
  port?: number;
}

export const defaultTraceOptions: TraceOptions = {
  method: 'udp', firstTtl: 1, maxTtl: 30, queries: 3, waitSecs: 5, hereFactor: 3, nearFactor: 10, simProbes: 16,
};

/** One probe: what was sent, and what (if anything) answered. Times are performance.now() ms. */
export interface TraceProbe {
  ttl: number;
  /** What identifies it in replies: UDP destination port, ICMP sequence, or TCP source port. */
  key: number;
  sendAt: number;
  /** 0 until answered. */
  recvAt: number;
  /** The answering address, or null ("*"). */
  from: string | null;
  /** The annotation after the time (!H, !X, ...), '' for none. */
  err: string;
  /** The trace ends at this hop. */
  final: boolean;
  done: boolean;
  /** TTL / hop limit of the answer (check_expired's guess of the hop count back). */
  recvTtl: number;
  /** ICMP type and code of the answer, or -1 (a TCP or echo answer, or none): for --json. */
  icmpType: number;
  icmpCode: number;
}

/** Sends a probe and says when (ProbeEngine satisfies it). */
export interface ProbeSender {
  ipLayer: IpLayerOf;
  send(layers: Layer[], payload?: Uint8Array): { at: number };
}

/** Where printed probes go: called in order, one hop's probes after another. */
export interface TraceSink {
  probe(pb: TraceProbe, index: number, hop: readonly TraceProbe[]): void | Promise<void>;
}

/** traceroute's DEF_WAIT_PREC: 1 ms added to a round trip before it scales a wait. */
const WAIT_PREC_MS = 1;
/**
 * The least a wait scaled by HERE or NEAR may be. traceroute's round trips are kernel timestamps;
 * ours are taken when JavaScript sees the frame, so a later probe's answer can be late by a busy
 * event loop's worth of milliseconds that a few times a sub-millisecond round trip does not cover.
 */
const MIN_SCALED_WAIT_MS = 50;

function emptyProbe(ttl: number): TraceProbe {
  return { ttl, key: -1, sendAt: 0, recvAt: 0, from: null, err: '', final: false, done: false, recvTtl: 0, icmpType: -1, icmpCode: -1 };
}

/** tracepath's guess of the hops back from a TTL that started at 64, 128 or 255 (ttl2hops). */
function ttl2hops(ttl: number): number {
  return (ttl <= 64 ? 65 : ttl <= 128 ? 129 : 256) - ttl;
}

export class Traceroute {
  private readonly probes: TraceProbe[];
  private readonly byKey = new Map<number, TraceProbe>();
  private sent = 0;
  private readonly firstKey: number;
  /** ICMP identifier (the process id, as traceroute -I) and the TCP probes' first source port. */
  private readonly ident: number;
  private readonly sleeper = new Sleeper();
  /** An answer came in since the loop last looked (while it printed, say): do not sleep. */
  private answered = false;

  constructor(
    private readonly sender: ProbeSender,
    readonly src: string,
    readonly dst: string,
    private readonly o: TraceOptions,
    private readonly sink: TraceSink,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.probes = [];
    for (let n = 0; n < o.maxTtl * o.queries; n++) this.probes.push(emptyProbe(Math.floor(n / o.queries) + 1));
    this.ident = process.pid & 0xffff;
    this.firstKey = o.method === 'udp' ? o.port ?? TRACEROUTE_UDP_PORT
      : o.method === 'icmp' ? o.port ?? 1
      // Source ports of TCP probes: from a random point of the ephemeral range (traceroute's kernel-chosen ports).
      : 32768 + Math.floor(Math.random() * 20000);
  }

  /** The probe for a ttl (its length is traceroute's "N byte packets"). */
  probeFor(ttl: number, key: number): Probe {
    const ipOf: IpLayerOf = (f) => this.sender.ipLayer(f);
    switch (this.o.method) {
      case 'udp': return udpProbe(ipOf, ttl, this.ident | 0x8000, key & 0xffff);
      case 'icmp': return echoProbe(ipOf, ttl, this.ident, key & 0xffff);
      case 'tcp': return tracerouteSyn(ipOf, ttl, key, this.o.port ?? TRACEROUTE_TCP_PORT, (Math.random() * 0x100000000) >>> 0, Math.floor(this.now()));
    }
  }

  /** The probes so far (after run: the whole trace up to the final hop). */
  get result(): readonly TraceProbe[] {
    return this.probes;
  }

  /** Runs the trace to the end (traceroute.c's do_it); sink.probe is called for each probe in order. */
  async run(): Promise<number> {
    const q = this.o.queries;
    let start = (this.o.firstTtl - 1) * q;
    let end = this.probes.length;
    while (start < end) {
      this.answered = false;
      let num = 0;
      let next = 0;
      const now = this.now();
      for (let n = start; n < end; n++) {
        let pb = this.probes[n];
        if (n === start && !pb.done && pb.sendAt) {
          const expire = pb.sendAt + this.timeoutOf(n);
          if (expire > now) next = expire;
          else {
            pb.done = true;
            this.checkExpired(n);
            pb = this.probes[n];
          }
        }
        if (pb.done) {
          if (n === start) {
            await this.sink.probe(pb, n, this.probes.slice(n - (n % q), n + 1));
            start++;
          }
          if (pb.final) end = (Math.floor(n / q) + 1) * q;
          continue;
        }
        if (!pb.sendAt) this.send(pb);
        if (!next) next = pb.sendAt + this.timeoutOf(n);
        if (++num >= this.o.simProbes) break;
      }
      if (next && !this.answered) await this.sleeper.sleep(next - this.now());
    }
    return end;
  }

  private send(pb: TraceProbe): void {
    const key = this.keyOf(this.sent++);
    const p = this.probeFor(pb.ttl, key);
    pb.key = key;
    this.byKey.set(key, pb);
    pb.sendAt = this.sender.send(p.layers, p.payload).at;
  }

  /** The key of the i-th probe sent: ports and sequence numbers count up from the first. */
  private keyOf(i: number): number {
    if (this.o.method === 'tcp') return 1024 + ((this.firstKey - 1024 + i) % (65536 - 1024));
    return (this.firstKey + i) & 0xffff;
  }


  /** A received frame: if it answers a probe, record it and let the loop go on. */
  onFrame(v: PacketView, at: number): void {
    const m = this.match(v);
    if (m === null) return;
    const { pb, from } = m;
    pb.from = from;
    pb.recvAt = at;
    pb.recvTtl = v.ip instanceof Ipv6Layer ? v.ip.hlim : v.ip?.ttl ?? 0;
    pb.done = true;
    this.answered = true;
    this.sleeper.wake();
  }

  /** The probe v answers (and marks it final with its annotation), or null. */
  private match(v: PacketView): { pb: TraceProbe; from: string } | null {
    const ip = v.ip;
    if (!ip || ip.dstAddr !== this.src) return null;
    const e = icmpErrorOf(v);
    if (e !== null) {
      const q = e.quoted;
      if (q.ip?.srcAddr !== this.src || q.ip.dstAddr !== this.dst) return null;
      let key = -1;
      if (this.o.method === 'udp') key = q.udp?.dstPort ?? -1;
      else if (this.o.method === 'tcp') key = q.tcp?.dstPort === (this.o.port ?? TRACEROUTE_TCP_PORT) ? q.tcp.srcPort : -1;
      else if (q.icmp && q.icmp.ident === this.ident) key = q.icmp.seq;
      else if (q.icmp6 && q.icmp6.type === ICMP6_TYPE.ECHO_REQUEST && q.icmp6.u16At(ICMP6.ID) === this.ident) key = q.icmp6.u16At(ICMP6.SEQ);
      const pb = this.byKey.get(key);
      if (pb === undefined || pb.done) return null;
      const ann = tracerouteAnnotation(e);
      pb.icmpType = e.type;
      pb.icmpCode = e.code;
      if (ann !== null) {
        pb.final = true;
        pb.err = ann;
      }
      return { pb, from: e.from };
    }
    if (ip.srcAddr !== this.dst) return null;
    let pb: TraceProbe | undefined;
    if (this.o.method === 'tcp' && v.tcp) {
      if (v.tcp.srcPort === (this.o.port ?? TRACEROUTE_TCP_PORT)) pb = this.byKey.get(v.tcp.dstPort);
    } else if (this.o.method === 'icmp') {
      if (v.icmp?.type === ICMP_ECHOREPLY && v.icmp.ident === this.ident) pb = this.byKey.get(v.icmp.seq);
      else if (v.icmp6?.type === ICMP6_TYPE.ECHO_REPLY && v.icmp6.u16At(ICMP6.ID) === this.ident) pb = this.byKey.get(v.icmp6.u16At(ICMP6.SEQ));
    }
    if (pb === undefined || pb.done) return null;
    pb.final = true;
    return { pb, from: ip.srcAddr };
  }

  /** get_timeout: how long probe n may wait for its answer, in ms. */
  private timeoutOf(n: number): number {
    const o = this.o;
    const wait = o.waitSecs * 1000;
    if (o.hereFactor) {
      const first = n - (n % o.queries);
      for (let i = first; i < first + o.queries; i++) {
        const p = this.probes[i];
        const rtt = p.recvAt - p.sendAt;
        if (p.done && p.recvAt && rtt > 0) return Math.min(wait, Math.max(MIN_SCALED_WAIT_MS, (rtt + WAIT_PREC_MS) * o.hereFactor));
      }
    }
    if (o.nearFactor) {
      for (let i = n + 1; i < this.probes.length && this.probes[i].sendAt; i++) {
        const p = this.probes[i];
        const rtt = p.recvAt - p.sendAt;
        if (p.done && p.recvAt && rtt > 0) return Math.min(wait, Math.max(MIN_SCALED_WAIT_MS, (rtt + WAIT_PREC_MS) * o.nearFactor));
      }
    }
    return wait;
  }

  /**
   * check_expired: probe idx got no answer, but a later probe got a "final" unreachable. A host
   * that answers only the latest of simultaneous probes puts its answer too far on: when it seems
   * to belong here (same hop, a hop already seen, or the answer's TTL says so), move it here.
   */
  private checkExpired(idx: number): void {
    const q = this.o.queries;
    const probes = this.probes;
    let previousFinal = false;
    for (let i = idx - (idx % q); i < idx; i++) {
      if (!probes[i].done || !probes[i].final) return;
      previousFinal = true;
    }
    let fi = -1;
    for (let i = idx + 1; i < probes.length && probes[i].sendAt; i++) {
      if (probes[i].done) {
        if (!probes[i].final) return;
        fi = i;
        break;
      }
    }
    if (fi < 0) return;
    const fp = probes[fi];
    if (!fp.err) return;
    let replace = previousFinal || (idx % q) + (fi - idx) < q;
    for (let i = idx - 1; !replace && i >= 0; i--) if (probes[i].from === fp.from) replace = true;
    if (!replace && fp.recvTtl) {
      let backHops = ttl2hops(fp.recvTtl);
      for (let i = idx - 1; i >= 0; i--) {
        const p = probes[i];
        if (p.done && !p.final && p.recvTtl) {
          const hops = ttl2hops(p.recvTtl);
          if (hops < backHops) {
            backHops = backHops - hops + Math.floor(i / q) + 1;
            break;
          }
        }
      }
      replace = backHops <= Math.floor(idx / q) + 1;
    }
    if (!replace) return;
    fp.ttl = probes[idx].ttl;
    probes[idx] = fp;
    const blocked = emptyProbe(Math.floor(fi / q) + 1);
    // "Sent" before any time: it expires at once and is never sent again.
    blocked.sendAt = -Infinity;
    probes[fi] = blocked;
  }
}

/** traceroute's first line, without its newline (each hop line starts with one): to stdout. */
export function traceHeader(name: string, addr: string, maxTtl: number, packetLen: number): string {
  return 'traceroute to ' + name + ' (' + addr + '), ' + maxTtl + ' hops max, ' + packetLen + ' byte packets';
}

/**
 * print_probe: a probe's part of its hop line. The hop number starts the line; the address is
 * printed for the first answer and whenever it differs from the previous answer of the hop; then
 * the round trip ("  0.123 ms") and the annotation. `name` is the answering host's name (without -n).
 */
export function probeText(pb: TraceProbe, hop: readonly TraceProbe[], numeric: boolean, name: string | null): string {
  const np = hop.length - 1;
  let s = np === 0 ? '\n' + (pb.ttl < 10 ? ' ' : '') + pb.ttl + ' ' : '';
  if (pb.from === null) s += ' *';
  else {
    let print = np === 0;
    if (!print) {
      let k = np - 1;
      while (k >= 0 && hop[k].from === null) k--;
      print = k < 0 || hop[k].from !== pb.from;
    }
    if (print) s += numeric ? ' ' + pb.from : ' ' + (name ?? pb.from) + ' (' + pb.from + ')';
  }
  if (pb.recvAt) s += '  ' + (pb.recvAt - pb.sendAt).toFixed(3) + ' ms';
  if (pb.err) s += ' ' + pb.err;
  return s;
}
