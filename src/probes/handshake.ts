/**
 * The TCP handshake probe, as `hping3 -S -p PORT HOST`: a SYN from a new source port each time
 * (the first one -p, then counting up, as hping3 without -k), every interval; the answer says the
 * port's state: SYN-ACK open (with the round trip), RST closed, an ICMP unreachable filtered (which
 * code), nothing filtered or no answer. Reply lines and the statistics block are hping3's
 * (waitpacket.c log_ip/recv_tcp, log_icmp_unreach, print_statistics).
 *
 * After a SYN-ACK the probe sends the RST that closes the half-open connection. This host's kernel
 * sees the SYN-ACK too, has no socket for it, and also answers it with a RST of its own.
 *
 * --full completes the handshake and closes it: SYN, SYN-ACK, ACK, then FIN and the peer's ACK and
 * FIN, answered with the last ACK, timing each step. The kernel's RST to the SYN-ACK would reset the
 * connection before our ACK arrives: blockKernelRst (the CLI's --block-kernel-rst) adds an
 * nftables rule, in this network namespace and for the duration of the run, dropping the RSTs this
 * host sends from the probe's source ports (frames sent through libpcap do not pass netfilter, so
 * the probe's own segments still go out).
 */
import { spawnSync } from 'node:child_process';
import { Ipv6Layer } from '../../dissectors/ipv6.js';
import { TH } from '../../dissectors/tcp.js';
import type { PacketView, ProbeFrame } from './engine.js';
import { Sleeper } from './sleeper.js';
import { hpingSyn, tcpSegment, type IpLayerOf, type Probe } from './probe-builders.js';
import { hpingFlags, hpingIcmpPrefix, icmpErrorOf, tcpVerdict, type IcmpError, type PortVerdict } from './probe-replies.js';
import type { Layer } from '../core/dissector.js';

export interface HandshakeOptions {
  /** Destination port. */
  port: number;
  /** -c: probes to send (Infinity: until stopped). */
  count: number;
  /** -i: between probes, ms. */
  intervalMs: number;
  /** -p: the first probe's source port. */
  sport: number;
  /** How long to wait for answers after the last probe (hping3's COUNTREACHED_TIMEOUT, 1 s). */
  lingerMs: number;
  /** --full: a whole handshake and close per probe. */
  full: boolean;
}

/** What answered one SYN. */
export interface HandshakeReply {
  at: number;
  from: string;
  /** Bytes captured from the IP header on: hping3's ip_size (a short frame's Ethernet padding included, as it counts it). */
  len: number;
  ttl: number;
  /** IPv4 identification and whether any of flags/offset is set (hping3's "DF"); -1 and false for IPv6. */
  ipId: number;
  df: boolean;
  /** The TCP answer, or null for an ICMP error. */
  tcpFlags: number;
  window: number;
  /** The ICMP error, or null for a TCP answer. */
  icmp: IcmpError | null;
  verdict: PortVerdict;
  /** A second answer to the same probe (hping3's "DUP!"). */
  dup: boolean;
}

export interface HandshakeProbe {
  /** hping3's seq: the probe's number from 0. */
  seq: number;
  sport: number;
  isn: number;
  sendAt: number;
  replies: HandshakeReply[];
  /** --full: each step, with the time since the SYN in ms (NaN when it did not happen). */
  steps: FullStep[];
}

export interface FullStep {
  step: string;
  /** ms since the SYN was sent. */
  atMs: number;
}

/** Sends a probe and says when (ProbeEngine satisfies it). */
export interface SegmentSender {
  ipLayer: IpLayerOf;
  send(layers: Layer[], payload?: Uint8Array): Pick<ProbeFrame, 'at' | 'packet'>;
}

/** Where the probe reports, as things happen. */
export interface HandshakeSink {
  /** A segment sent for probe pb: the SYN, or --full's and the RST's later segments (flags: TH bits). */
  sent?(pb: HandshakeProbe, frame: Pick<ProbeFrame, 'packet'>, flags: number): void;
  received?(frame: ProbeFrame): void;
  reply(pb: HandshakeProbe, r: HandshakeReply): void | Promise<void>;
  step?(pb: HandshakeProbe, s: FullStep, detail: string): void;
}

export interface HandshakeSummary {
  sent: number;
  received: number;
  /** hping3's integer loss percentage. */
  loss: number;
  rttMin: number;
  rttAvg: number;
  rttMax: number;
  verdict: PortVerdict;
  /** The reply the verdict rests on, or null. */
  because: HandshakeReply | null;
}

/** --full waits this long for each answer. */
const STEP_TIMEOUT_MS = 2000;

interface Waiter {
  match: (v: PacketView) => boolean;
  resolve: (f: ProbeFrame | null) => void;
  timer: NodeJS.Timeout;
}

export class Handshake {
  readonly probes: HandshakeProbe[] = [];
  private readonly bySport = new Map<number, HandshakeProbe>();
  private received = 0;
  private stopped = false;
  private readonly sleeper = new Sleeper();
  /** All probes are sent: an answer to the last one ends the wait (an interval is never cut short). */
  private lingering = false;
  private readonly waiters = new Set<Waiter>();
  private readonly ipOf: IpLayerOf;

  constructor(
    private readonly sender: SegmentSender,
    readonly src: string,
    readonly dst: string,
    private readonly o: HandshakeOptions,
    private readonly sink: HandshakeSink,
  ) {
    this.ipOf = (f) => sender.ipLayer(f);
  }

  /** Ends the run early (SIGINT): no more probes, no more waiting. */
  stop(): void {
    this.stopped = true;
    this.sleeper.wake();
    this.cancelWaiters();
  }

  async run(): Promise<HandshakeSummary> {
    for (let i = 0; i < this.o.count && !this.stopped; i++) {
      const pb = this.sendSyn(i);
      if (this.o.full) {
        await this.complete(pb);
        this.cancelWaiters();
      }
      if (this.received >= this.o.count) break;
      if (i + 1 < this.o.count) await this.sleep(this.o.intervalMs);
    }
    // hping3 waits a second after the last probe, and stops as soon as every probe is answered.
    this.lingering = true;
    const until = performance.now() + this.o.lingerMs;
    while (!this.stopped && this.received < this.probes.length && performance.now() < until) await this.sleep(until - performance.now());
    return this.summary();
  }

  private sendSyn(i: number): HandshakeProbe {
    const sport = 1024 + ((this.o.sport - 1024 + i) % (65536 - 1024));
    const isn = (Math.random() * 0x100000000) >>> 0;
    const pb: HandshakeProbe = { seq: i, sport, isn, sendAt: 0, replies: [], steps: [] };
    this.probes.push(pb);
    this.bySport.set(sport, pb);
    const f = this.sendProbe(hpingSyn(this.ipOf, sport, this.o.port, isn));
    pb.sendAt = f.at;
    this.sink.sent?.(pb, f, TH.SYN);
    return pb;
  }

  private sendProbe(p: Probe): Pick<ProbeFrame, 'at' | 'packet'> {
    return this.sender.send(p.layers, p.payload);
  }

  private segment(pb: HandshakeProbe, flags: number, seq: number, ack: number): Pick<ProbeFrame, 'at' | 'packet'> {
    const f = this.sendProbe(tcpSegment(this.ipOf, { ttl: 64, sport: pb.sport, dport: this.o.port, seq, ack, flags, window: flags & TH.RST ? 0 : 64240 }));
    this.sink.sent?.(pb, f, flags);
    return f;
  }

  private sleep(ms: number): Promise<void> {
    return this.stopped ? Promise.resolve() : this.sleeper.sleep(ms);
  }

  /** The next frame match accepts within ms, or null. */
  private expect(match: (v: PacketView) => boolean, ms: number): Promise<ProbeFrame | null> {
    if (this.stopped) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w: Waiter = { match, resolve, timer: setTimeout(() => { this.waiters.delete(w); resolve(null); }, ms) };
      this.waiters.add(w);
    });
  }

  /** A received frame: a reply to one of the probes is reported (and a SYN-ACK reset). */
  onFrame(f: ProbeFrame): void {
    const v = f.view;
    const ip = v.ip;
    if (!ip || ip.dstAddr !== this.src) return;
    for (const w of this.waiters) {
      if (w.match(v)) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(f);
      }
    }
    let pb: HandshakeProbe | undefined;
    let icmp: IcmpError | null = null;
    if (v.tcp && ip.srcAddr === this.dst && v.tcp.srcPort === this.o.port) {
      pb = this.bySport.get(v.tcp.dstPort);
      // Only the answer to the SYN counts; --full's later segments are its own steps.
      if (pb && (pb.replies.length && this.o.full || tcpVerdict(v.tcp.flags) === null)) return;
    } else if ((icmp = icmpErrorOf(v)) !== null) {
      const q = icmp.quoted;
      if (q.ip?.srcAddr === this.src && q.ip.dstAddr === this.dst && q.tcp?.dstPort === this.o.port) pb = this.bySport.get(q.tcp.srcPort);
    }
    if (pb === undefined) return;
    this.sink.received?.(f);
    const tcp = icmp === null ? v.tcp! : null;
    const r: HandshakeReply = {
      at: f.at, from: ip.srcAddr,
      len: f.packet.frame.capLen - ip.off,
      ttl: ip instanceof Ipv6Layer ? ip.hlim : ip.ttl,
      ipId: ip instanceof Ipv6Layer ? -1 : ip.id,
      df: ip instanceof Ipv6Layer ? false : ip.flagsFrag !== 0,
      tcpFlags: tcp ? tcp.flags : 0, window: tcp ? tcp.window : 0, icmp,
      verdict: tcp ? tcpVerdict(tcp.flags)! : 'filtered',
      dup: pb.replies.length > 0,
    };
    pb.replies.push(r);
    this.received++;
    // The half-open connection is closed at once (--full goes on instead).
    if (tcp && r.verdict === 'open' && !this.o.full && !r.dup) this.segment(pb, TH.RST, tcp.ack, 0);
    void this.sink.reply(pb, r);
    if (this.lingering && this.received >= this.probes.length) this.sleeper.wake();
  }

  /** --full: SYN-ACK, ACK, FIN, the peer's ACK and FIN, the last ACK. */
  private async complete(pb: HandshakeProbe): Promise<void> {
    const fromPeer = (v: PacketView): boolean => v.tcp !== undefined && v.ip?.srcAddr === this.dst && v.tcp.srcPort === this.o.port && v.tcp.dstPort === pb.sport;
    const step = (name: string, at: number, detail: string): void => {
      const s = { step: name, atMs: at - pb.sendAt };
      pb.steps.push(s);
      this.sink.step?.(pb, s, detail);
    };
    const synAck = await this.expect((v) => fromPeer(v) || this.isIcmpFor(v, pb), STEP_TIMEOUT_MS);
    if (synAck === null) { step('no answer', performance.now(), 'no answer to the SYN'); return; }
    const t = synAck.view.tcp;
    if (!t || (t.flags & (TH.SYN | TH.ACK)) !== (TH.SYN | TH.ACK)) { step('refused', synAck.at, t ? 'answered with flags ' + hpingFlags(t.flags) : 'ICMP error'); return; }
    step('syn-ack', synAck.at, 'SYN-ACK received');
    const iss = (pb.isn + 1) >>> 0;
    let rcvNxt = (t.seq + 1) >>> 0;
    // Set before the ACK goes out: a RST answering it (the connection was reset) ends the exchange too.
    const finAck = this.expect((v) => fromPeer(v) && ((v.tcp!.flags & TH.RST) !== 0 || ((v.tcp!.flags & TH.ACK) !== 0 && v.tcp!.ack === ((iss + 1) >>> 0))), STEP_TIMEOUT_MS);
    const peerFin = this.expect((v) => fromPeer(v) && (v.tcp!.flags & TH.FIN) !== 0, STEP_TIMEOUT_MS);
    step('ack', this.segment(pb, TH.ACK, iss, rcvNxt).at, 'ACK sent: connection established');
    step('fin', this.segment(pb, TH.FIN | TH.ACK, iss, rcvNxt).at, 'FIN sent');
    const acked = await finAck;
    if (acked === null) {
      step('no ack', performance.now(), 'no ACK of the FIN');
      return;
    }
    if (acked.view.tcp!.flags & TH.RST) {
      step('reset', acked.at, 'the peer reset the connection (this host\'s kernel RST to the SYN-ACK reached it first: see --block-kernel-rst)');
      return;
    }
    step('fin-acked', acked.at, 'ACK of the FIN received');
    const fin = (acked.view.tcp!.flags & TH.FIN) !== 0 ? acked : await peerFin;
    if (fin === null) {
      step('rst', this.segment(pb, TH.RST, (iss + 1) >>> 0, 0).at, 'the peer did not close within ' + STEP_TIMEOUT_MS + ' ms: RST sent');
      return;
    }
    step('peer-fin', fin.at, 'FIN received from the peer');
    rcvNxt = (fin.view.tcp!.seq + 1) >>> 0;
    step('last-ack', this.segment(pb, TH.ACK, (iss + 1) >>> 0, rcvNxt).at, 'last ACK sent: connection closed');
  }

  /** Resolves every pending expect with null (a --full exchange is over). */
  private cancelWaiters(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiters.clear();
  }

  private isIcmpFor(v: PacketView, pb: HandshakeProbe): boolean {
    const e = icmpErrorOf(v);
    return e !== null && e.quoted.tcp?.srcPort === pb.sport && e.quoted.tcp.dstPort === this.o.port;
  }

  summary(): HandshakeSummary {
    let min = 0, max = 0, sum = 0, n = 0;
    let because: HandshakeReply | null = null;
    const rank: Record<PortVerdict, number> = { open: 3, closed: 2, filtered: 1, 'no answer': 0 };
    for (const pb of this.probes) {
      for (const r of pb.replies) {
        if (because === null || rank[r.verdict] > rank[because.verdict]) because = r;
        // hping3 times TCP answers only.
        if (r.icmp !== null || r.dup) continue;
        const rtt = r.at - pb.sendAt;
        if (n === 0 || rtt < min) min = rtt;
        if (n === 0 || rtt > max) max = rtt;
        sum += rtt;
        n++;
      }
    }
    const sent = this.probes.length;
    const received = this.received;
    const loss = received > 0 ? Math.max(0, 100 - Math.floor((received * 100) / sent)) : sent ? 100 : 0;
    return {
      sent, received, loss, rttMin: min, rttAvg: n ? sum / n : 0, rttMax: max,
      verdict: because === null ? 'no answer' : because.verdict, because,
    };
  }
}

/** hping3's line for a reply (without the newline). `name` is the ICMP sender's name (hping3 without -n), or null. */
export function replyLine(pb: HandshakeProbe, r: HandshakeReply, port: number, numeric: boolean, name: string | null): string {
  if (r.icmp !== null) return hpingIcmpPrefix(r.icmp) + r.from + (numeric ? '' : ' name=' + (name ?? 'UNKNOWN'));
  let s = (r.dup ? 'DUP! ' : '') + 'len=' + r.len + ' ip=' + r.from + ' ttl=' + r.ttl + ' ';
  if (r.ipId >= 0) s += (r.df ? 'DF ' : '') + 'id=' + r.ipId + ' ';
  return s + 'sport=' + port + ' flags=' + hpingFlags(r.tcpFlags) + ' seq=' + pb.seq + ' win=' + r.window +
    ' rtt=' + (r.at - pb.sendAt).toFixed(1) + ' ms';
}

/** hping3's first line. */
export function handshakeHeader(target: string, iface: string, addr: string): string {
  return 'HPING ' + target + ' (' + iface + ' ' + addr + '): S set, ' + (addr.includes(':') ? 60 : 40) + ' headers + 0 data bytes';
}

/** hping3's statistics block (it goes to stderr), lines ending in newlines. */
export function statisticsBlock(target: string, s: HandshakeSummary): string {
  return '\n--- ' + target + ' hping statistic ---\n' +
    s.sent + ' packets transmitted, ' + s.received + ' packets received, ' + s.loss + '% packet loss\n' +
    'round-trip min/avg/max = ' + s.rttMin.toFixed(1) + '/' + s.rttAvg.toFixed(1) + '/' + s.rttMax.toFixed(1) + ' ms\n';
}

/** The port's state in one line (wirescope's addition after hping3's output). */
export function verdictLine(addr: string, port: number, s: HandshakeSummary): string {
  const b = s.because;
  let why: string;
  if (b === null) why = 'no answer to ' + s.sent + ' SYN' + (s.sent === 1 ? '' : 's');
  else if (b.icmp !== null) why = hpingIcmpPrefix(b.icmp).replace(/^ICMP /, '').replace(/ from ip=$/, '') + ' (ICMP type ' + b.icmp.type + ' code ' + b.icmp.code + ') from ' + b.from;
  else why = (b.verdict === 'open' ? 'SYN-ACK' : 'RST') + ' from ' + b.from;
  return addr + ' port ' + port + '/tcp ' + (s.verdict === 'no answer' ? 'filtered/no answer' : s.verdict) + ': ' + why;
}

/**
 * --block-kernel-rst: an nftables table in this network namespace dropping the RSTs this host's
 * kernel sends from ports first..last to the target; returns the function that removes it.
 */
export function blockKernelRst(dst: string, first: number, last: number): () => void {
  const table = 'wirescope_handshake_' + process.pid;
  const family = dst.includes(':') ? 'ip6' : 'ip';
  const rules = `table inet ${table} { chain out { type filter hook output priority 0; policy accept; ` +
    `${family} daddr ${dst} tcp sport ${first}-${last} tcp flags & rst == rst drop; }; }`;
  const r = spawnSync('nft', ['-f', '-'], { input: rules, encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error('--block-kernel-rst: nft could not add the rule: ' + (r.error?.message ?? r.stderr.trim().split('\n')[0]));
  }
  return () => {
    spawnSync('nft', ['delete', 'table', 'inet', table]);
  };
}
