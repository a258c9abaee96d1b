/**
 * TCP connection tracking over decoded packets: connections keyed by their endpoints, numbered as
 * tshark 4.0 numbers tcp.stream, the RFC 9293 (793) state of both endpoints inferred from the
 * segments seen, per-connection counters, and (optionally) per-direction reassembly.
 *
 * Stream numbering follows Wireshark's packet-tcp.c: a segment belongs to the current conversation
 * of its address/port pair, a new one being made (numbered in order of appearance) when there is
 * none, or when a SYN without ACK carries a sequence number other than the base sequence number
 * already recorded for its sender's direction (port reuse; a retransmitted SYN keeps the stream).
 * The base sequence number of a direction is set by its first segment (the SYN's sequence number,
 * else seq - 1) or, before that, by the first ACK from the other side (ack - 1); segments in
 * unreassembled IP fragments or quoted in ICMP errors set none. A header cut before its window
 * field gets no stream (tshark stops before the conversation lookup).
 *
 * Memory: the least recently seen connections beyond `maxConnections`, and (when `idleTimeout` is
 * given) those idle longer than it in capture time, are closed and forgotten (their reassembly
 * flushed); `evicted` counts them. A forgotten connection seen again starts a new stream number,
 * which tshark never does, so there is no idle timeout by default: capture files jump in time
 * (by days, or backwards) between segments of one connection.
 */
import type { Layer, Packet } from '../core/dissector.js';
import { isNetworkLayer, type NetworkLayer } from '../../dissectors/ipproto.js';
import { Ipv4Layer } from '../../dissectors/ipv4.js';
import { IP6, Ipv6Layer } from '../../dissectors/ipv6.js';
import { TcpLayer, TH } from '../../dissectors/tcp.js';
import type { Frame } from '../core/frame.js';
import type { NestingLayer } from '../output/frame-fields.js';
import { addressText, FlowKey, type AddressWords } from './flow-key.js';
import { seqAdd, seqGt, seqLe, seqLt } from './seq.js';
import { DEFAULT_REASSEMBLY_LIMITS, DirectionReassembler, ReassemblyBudget, type ReassemblyLimits, type SegmentTime, type StreamSink } from './reassembler.js';

export type TcpState =
  | 'CLOSED' | 'LISTEN' | 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2'
  | 'CLOSE-WAIT' | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT';

/** One side of a connection and what it sent. */
export class Endpoint implements AddressWords {
  /** The address as the tracker compares it (flow-key.ts). */
  version = 0;
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
  state: TcpState = 'CLOSED';
  /** tshark's base_seq for this direction (stream numbering). */
  baseSeqSet = false;
  baseSeq = 0;
  /** Initial sequence number, when its SYN was seen. */
  sawSyn = false;
  isn = 0;
  /** Sequence number after the highest byte (SYN/FIN counted) sent so far; valid once seqSet. */
  seqSet = false;
  nextSeq = 0;
  sawFin = false;
  /** Sequence number the FIN occupies. */
  finSeq = 0;
  sawRst = false;
  packets = 0;
  /** Frame bytes on the wire. */
  bytes = 0;
  /** TCP payload bytes. */
  payloadBytes = 0;
  retransmissions = 0;
  outOfOrder = 0;
  zeroWindows = 0;
  /**
   * tshark's sequence analysis state of this direction (packet-tcp.c's tcp_analyze_seq_info), raw
   * sequence numbers; as in tshark, 0 in nextseq, lastack and maxseqtobeacked means "not yet".
   */
  aNextSeq = 0;
  aNextSeqSec = 0;
  aNextSeqNsec = 0;
  aLastAck = 0;
  aLastAckSec = 0;
  aLastAckNsec = 0;
  aDupAcks = 0;
  aMaxSeqToBeAcked = 0;
  /** Last window advertised (-1: none yet; tshark starts at G_MAXUINT32). */
  aWindow = -1;
  /** Analysis flags of the last segment sent. */
  aLastFlags = 0;
  constructor(readonly addr: string, readonly port: number, at?: AddressWords) {
    if (at !== undefined) {
      this.version = at.version;
      this.w0 = at.w0;
      this.w1 = at.w1;
      this.w2 = at.w2;
      this.w3 = at.w3;
    }
  }
}

export class Connection {
  /** The first sender (index 0 of direction numbers) and its peer. */
  readonly ends: [Endpoint, Endpoint];
  firstFrame = 0;
  lastFrame = 0;
  startSec = 0;
  startNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  /** Capture began after the connection opened (its first segment seen was not a SYN). */
  midstream = false;
  /** Started by a SYN on an address/port pair that already had a stream. */
  portReused = false;
  /** Seconds from the first SYN to the first SYN/ACK, and to the ACK completing the handshake (tshark's tcp.analysis.initial_rtt); -1 until seen. */
  synAckRtt = -1;
  handshakeRtt = -1;
  private synTime = -1;
  private synAckTime = -1;
  /** tshark's ts_mru_syn (the latest SYN) and ts_first_rtt (first bare ACK after it), nanoseconds; 0: not yet. */
  mruSynSec = 0;
  mruSynNsec = 0;
  firstRttNs = 0;
  /** Who closed first (direction number) and how; null while open. */
  closedBy: 0 | 1 | null = null;
  closeHow: 'fin' | 'rst' | null = null;
  /** Reassemblers by direction, when the tracker reassembles. */
  reassembly: [DirectionReassembler, DirectionReassembler] | null = null;
  /** The tracker's links: the next connection with the same hash, and the neighbours in least-recently-seen order. */
  sameHash: Connection | null = null;
  older: Connection | null = null;
  newer: Connection | null = null;
  constructor(readonly stream: number, readonly hash: number, first: Endpoint, second: Endpoint) {
    this.ends = [first, second];
  }

  /** Handshake timing (called for every segment until both are known). */
  noteHandshake(flags: number, dir: 0 | 1, t: number, ack: number): void {
    const syn = flags & (TH.SYN | TH.ACK);
    if (syn === TH.SYN) {
      if (this.synTime < 0) this.synTime = t;
    } else if (syn === (TH.SYN | TH.ACK)) {
      if (this.synAckTime < 0 && this.synTime >= 0) {
        this.synAckTime = t;
        this.synAckRtt = t - this.synTime;
      }
    } else if ((flags & TH.ACK) !== 0 && this.synAckTime >= 0 && this.handshakeRtt < 0) {
      const peer = this.ends[1 - dir];
      if (peer.sawSyn && ack === seqAdd(peer.isn, 1)) this.handshakeRtt = t - this.synTime;
    }
  }
}

export interface ConnTrackOptions {
  /** Makes the consumer of a new connection's reassembled bytes; without it there is no reassembly. */
  sink?: (c: Connection) => StreamSink;
  limits?: ReassemblyLimits;
  /** Most connections held; the least recently seen beyond it are closed and forgotten. */
  maxConnections?: number;
  /** Seconds of capture time without a segment after which a connection is closed and forgotten (default: never). */
  idleTimeout?: number;
}

/** What the tracker reads of a TCP header: a decoded TcpLayer, or one read straight from a frame (frame-scan.ts). */
export type TcpHeader = Readonly<Pick<TcpLayer, 'srcPort' | 'dstPort' | 'seq' | 'ack' | 'dataOffset' | 'flags' | 'window'
  | 'length' | 'caplen' | 'off' | 'hdrLen' | 'truncated' | 'invalid'>>;

/** One TCP header met in a packet, as the tracker saw it. */
export interface TrackedSegment {
  readonly conn: Connection;
  readonly dir: 0 | 1;
  /** The decoded header; null when the tracker read it from the frame's bytes (pushPlain). */
  readonly tcp: TcpLayer | null;
  /** The header was wholly captured and valid (tshark's taps, as conv,tcp, see only those). */
  readonly counted: boolean;
  /**
   * tshark analysed the segment (its sequence analysis and follow tap see it): not quoted in an
   * ICMP error, not in an unreassembled IP fragment, header length within the segment.
   */
  readonly analyzed: boolean;
  /** tshark's tcp.analysis.retransmission: a retransmission, fast retransmission or spurious retransmission. */
  readonly retransmission: boolean;
  readonly outOfOrder: boolean;
  /** Every tshark analysis flag of the segment (ANALYSIS bits). */
  readonly analysis: number;
}

/** tshark's TCP analysis flags (packet-tcp.h TCP_A_*), as TrackedSegment.analysis bits. */
export const ANALYSIS = {
  RETRANSMISSION: 0x1,
  LOST_PACKET: 0x2,
  ACK_LOST_PACKET: 0x4,
  KEEP_ALIVE: 0x8,
  DUPLICATE_ACK: 0x10,
  ZERO_WINDOW: 0x20,
  ZERO_WINDOW_PROBE: 0x40,
  ZERO_WINDOW_PROBE_ACK: 0x80,
  KEEP_ALIVE_ACK: 0x100,
  OUT_OF_ORDER: 0x200,
  FAST_RETRANSMISSION: 0x400,
  WINDOW_UPDATE: 0x800,
  SPURIOUS_RETRANSMISSION: 0x2000,
} as const;

/** The payload of segments without one (no subarray made for each). */
const NO_PAYLOAD = new Uint8Array(0);

/** The flags tshark shows tcp.analysis.retransmission for. */
const ANY_RETRANSMISSION = ANALYSIS.RETRANSMISSION | ANALYSIS.FAST_RETRANSMISSION | ANALYSIS.SPURIOUS_RETRANSMISSION;

export class ConnTracker {
  /** Current connection of each address/port pair, by FlowKey hash (chained through sameHash). */
  private readonly table = new Map<number, Connection>();
  /** Connections held, and the ends of their least-recently-seen list. */
  private held = 0;
  private oldest: Connection | null = null;
  private newest: Connection | null = null;
  /** The key of the segment being tracked (refilled for each). */
  private readonly key = new FlowKey();
  private nextStream = 0;
  private readonly budget: ReassemblyBudget;
  private readonly maxConnections: number;
  private readonly idleTimeout: number;
  private lastSweepSec = 0;
  /** Connections closed and forgotten for a limit or the idle timeout. */
  evicted = 0;
  /** tcp.stream of every TCP header of the last packet pushed, in tshark's tree order (-1: none). */
  readonly streams: number[] = [];
  /** Those TCP headers, in the same order (null: read by pushPlain). */
  private readonly streamLayers: Array<TcpLayer | null> = [];
  /** The segments of the last packet pushed that carried a stream number. */
  readonly segments: TrackedSegment[] = [];

  constructor(private readonly opts: ConnTrackOptions = {}) {
    this.budget = new ReassemblyBudget(opts.limits ?? DEFAULT_REASSEMBLY_LIMITS);
    this.maxConnections = opts.maxConnections ?? 1 << 18;
    this.idleTimeout = opts.idleTimeout ?? Infinity;
  }

  /** Connections held, least recently seen first. */
  *connections(): IterableIterator<Connection> {
    for (let c = this.oldest; c !== null; c = c.newer) yield c;
  }

  /** Tracks the TCP headers of a decoded packet (after IP defragmentation, as tshark sees it). */
  push(p: Packet): void {
    this.skip(p.frame);
    this.visit(p, p, false);
  }

  /** Takes a frame that holds no TCP header (nor an IP fragment): the last packet's segments are cleared. */
  skip(f: Frame): void {
    // pop, not `length = 0`: setting a length is a runtime call, a pop of the usual one entry is not.
    while (this.streams.length > 0) {
      this.streams.pop();
      this.streamLayers.pop();
    }
    while (this.segments.length > 0) this.segments.pop();
    const sec = f.tsSec;
    if (this.idleTimeout !== Infinity && sec - this.lastSweepSec >= 1) this.sweep(sec);
  }

  /**
   * Tracks a frame whose only TCP header is h, read from the frame's bytes: sent between the
   * endpoints of k, neither quoted nor in an IP fragment. What push does for such a frame, without
   * decoding it.
   */
  pushPlain(f: Frame, k: FlowKey, h: TcpHeader): void {
    this.skip(f);
    this.streamLayers.push(null);
    this.streams.push(this.track(f, f.data, k, h, null, false, false));
  }

  /** tcp.stream of a TCP header of the last packet pushed (for -T fields), or undefined when it has none. */
  streamOf(l: TcpLayer): number | undefined {
    const k = this.streamLayers.indexOf(l);
    return k >= 0 && this.streams[k] >= 0 ? this.streams[k] : undefined;
  }

  /** Ends every connection's reassembly (end of input). */
  finish(): void {
    for (let c = this.oldest; c !== null; c = c.newer) this.closeReassembly(c, null);
  }

  private visit(frame: Packet, p: Packet, quoted: boolean): void {
    const layers = p.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      if (l instanceof TcpLayer) this.segment(frame, p, i, l, quoted);
      const nested = (l as Partial<NestingLayer>).nested;
      if (nested !== undefined) for (let k = 0; k < nested.length; k++) this.visit(frame, nested[k], true);
    }
  }

  private segment(frame: Packet, p: Packet, i: number, l: TcpLayer, quoted: boolean): void {
    this.streamLayers.push(l);
    if (l.caplen < 16) {
      this.streams.push(-1);
      return;
    }
    let net: (Layer & NetworkLayer) | null = null;
    let fragmented = false;
    // An unreassembled fragment (a reassembled datagram's layer carries its `reassembly` record).
    for (let k = i - 1; k >= 0; k--) {
      const below = p.layers[k] as Layer & { fragment?: boolean; reassembly?: unknown; moreFragments?: boolean; fragOffset?: number };
      if (below.fragment === true && !below.reassembly && (below.moreFragments === true || below.fragOffset! > 0)) fragmented = true;
      if (isNetworkLayer(below)) {
        net = below as Layer & NetworkLayer;
        if (below.moreFragments === true) fragmented = true;
        break;
      }
    }
    const k = this.key;
    if (net instanceof Ipv4Layer) k.setV4(net.src, net.dst, l.srcPort, l.dstPort);
    else if (net instanceof Ipv6Layer) k.setV6(net.buf, net.off + IP6.SRC, net.off + IP6.DST, l.srcPort, l.dstPort);
    else {
      this.streams.push(-1);
      return;
    }
    this.streams.push(this.track(frame.frame, p.buf, k, l, l, quoted, fragmented));
  }

  /** Tracks one TCP header h from k's sender, in buf (the frame's bytes or a reassembled datagram); returns its stream. */
  private track(f: Frame, buf: Uint8Array, k: FlowKey, l: TcpHeader, layer: TcpLayer | null, quoted: boolean, fragmented: boolean): number {
    let c = this.find(k);
    const flags = l.flags;
    const analyzed = !quoted && !fragmented && l.length >= l.dataOffset * 4 && !l.invalid;
    const t = f.tsSec + f.tsNsec / 1e9;
    if (c === undefined) {
      c = this.open(k, f, flags, false);
    } else {
      const fwd = c.ends[k.is(c.ends[0], true) ? 0 : 1];
      if ((flags & (TH.SYN | TH.ACK)) === TH.SYN && fwd.baseSeqSet && l.seq !== fwd.baseSeq) {
        this.closeReassembly(c, null);
        this.remove(c);
        c = this.open(k, f, flags, true);
      } else if (c !== this.newest) {
        // Keep the list in least-recently-seen order for eviction.
        this.unlink(c);
        this.append(c);
      }
    }
    const dir = k.is(c.ends[0], true) ? 0 : 1;
    const me = c.ends[dir];
    const peer = c.ends[1 - dir];
    c.lastFrame = f.number;
    c.lastSec = f.tsSec;
    c.lastNsec = f.tsNsec;
    if (quoted) return c.stream;

    // tshark's segment length: what IP claims, but no more than the frame had on the wire (as tcp.len).
    const reported = buf === f.data ? Math.min(l.length, f.origLen - l.off) : l.length;
    const payloadLen = analyzed ? Math.max(0, reported - l.dataOffset * 4) : 0;
    if (analyzed) {
      if (!me.baseSeqSet) {
        me.baseSeq = (flags & TH.SYN) !== 0 ? l.seq : seqAdd(l.seq, -1);
        me.baseSeqSet = true;
      }
      if (!peer.baseSeqSet && (flags & TH.ACK) !== 0) {
        peer.baseSeq = seqAdd(l.ack, -1);
        peer.baseSeqSet = true;
      }
    }
    me.packets++;
    me.bytes += f.origLen;
    me.payloadBytes += payloadLen;
    if (l.window === 0 && (flags & (TH.SYN | TH.FIN | TH.RST)) === 0) me.zeroWindows++;

    const segLen = payloadLen + ((flags & TH.SYN) !== 0 ? 1 : 0) + ((flags & TH.FIN) !== 0 ? 1 : 0);
    if ((flags & TH.SYN) !== 0) {
      me.sawSyn = true;
      me.isn = l.seq;
    }
    const end = seqAdd(l.seq, segLen);
    if (!me.seqSet || seqGt(end, me.nextSeq)) {
      me.nextSeq = end;
      me.seqSet = true;
    }
    const analysis = analyzed ? analyze(c, me, peer, l, payloadLen, f.tsSec, f.tsNsec) : 0;
    const retransmission = (analysis & ANY_RETRANSMISSION) !== 0;
    const outOfOrder = (analysis & ANALYSIS.OUT_OF_ORDER) !== 0;
    if (retransmission) me.retransmissions++;
    if (outOfOrder) me.outOfOrder++;

    c.noteHandshake(flags, dir, t, l.ack);
    this.states(c, dir, l, seqAdd(l.seq, payloadLen + ((flags & TH.SYN) !== 0 ? 1 : 0)));
    this.segments.push({ conn: c, dir, tcp: layer, counted: !l.truncated && l.invalid === null, analyzed, retransmission, outOfOrder, analysis });

    const ra = c.reassembly;
    if (ra !== null && analyzed) {
      const time: SegmentTime = { sec: f.tsSec, nsec: f.tsNsec, frame: f.number };
      const r = ra[dir];
      if ((flags & TH.SYN) !== 0) r.syn(l.seq);
      if ((flags & TH.ACK) !== 0) ra[1 - dir].acked(l.ack, time);
      const start = l.off + l.hdrLen;
      const payloadEnd = Math.min(buf.length, start + payloadLen, l.off + l.caplen);
      const payload = payloadEnd > start ? buf.subarray(start, payloadEnd) : NO_PAYLOAD;
      const seq = (flags & TH.SYN) !== 0 ? seqAdd(l.seq, 1) : l.seq;
      // Captured short of the frame's length on the wire: the rest was there, only not captured.
      const uncaptured = f.capLen < f.origLen ? payloadLen - payload.length : 0;
      r.segment(seq, payload, (flags & TH.FIN) !== 0 && payload.length === payloadLen, (flags & TH.RST) !== 0, time, uncaptured);
    }
    return c.stream;
  }

  /** The connection of k's endpoints, if held. */
  private find(k: FlowKey): Connection | undefined {
    for (let c: Connection | null = this.table.get(k.hash()) ?? null; c !== null; c = c.sameHash) {
      const [a, b] = c.ends;
      if ((k.is(a, true) && k.is(b, false)) || (k.is(a, false) && k.is(b, true))) return c;
    }
    return undefined;
  }

  /** Opens the connection of k's endpoints (the sender first) at frame f. */
  private open(k: FlowKey, f: Frame, flags: number, reused: boolean): Connection {
    const src = k.address(true);
    const dst = k.address(false);
    const c = new Connection(this.nextStream++, k.hash(), new Endpoint(addressText(src), k.srcPort, src), new Endpoint(addressText(dst), k.dstPort, dst));
    c.firstFrame = f.number;
    c.startSec = f.tsSec;
    c.startNsec = f.tsNsec;
    c.midstream = (flags & TH.SYN) === 0;
    c.portReused = reused;
    const mk = this.opts.sink;
    if (mk !== undefined) {
      const sink = mk(c);
      c.reassembly = [new DirectionReassembler(0, sink, this.budget), new DirectionReassembler(1, sink, this.budget)];
    }
    const first = this.table.get(c.hash);
    if (first !== undefined) c.sameHash = first;
    this.table.set(c.hash, c);
    this.append(c);
    this.held++;
    if (this.held > this.maxConnections) this.forget(this.oldest!);
    return c;
  }

  /** Drops c from the table and the list. */
  private remove(c: Connection): void {
    const first = this.table.get(c.hash)!;
    if (first === c) {
      if (c.sameHash === null) this.table.delete(c.hash);
      else this.table.set(c.hash, c.sameHash);
    } else {
      let before = first;
      while (before.sameHash !== c) before = before.sameHash!;
      before.sameHash = c.sameHash;
    }
    c.sameHash = null;
    this.unlink(c);
    this.held--;
  }

  private unlink(c: Connection): void {
    if (c.older === null) this.oldest = c.newer;
    else c.older.newer = c.newer;
    if (c.newer === null) this.newest = c.older;
    else c.newer.older = c.older;
    c.older = c.newer = null;
  }

  private append(c: Connection): void {
    c.older = this.newest;
    if (this.newest === null) this.oldest = c;
    else this.newest.newer = c;
    this.newest = c;
  }

  /**
   * RFC 9293 transitions of both endpoints for a segment from ends[dir], as an observer between
   * them infers them: the sender's state from what it sends, the receiver's from what it receives.
   */
  private states(c: Connection, dir: 0 | 1, l: TcpHeader, finSeq: number): void {
    const me = c.ends[dir];
    const peer = c.ends[1 - dir];
    const flags = l.flags;
    if ((flags & TH.RST) !== 0) {
      me.sawRst = true;
      if (c.closedBy === null) {
        c.closedBy = dir;
        c.closeHow = 'rst';
      }
      me.state = 'CLOSED';
      // A reset sent to a listener's SYN-RECEIVED returns it to LISTEN; otherwise the receiver closes.
      peer.state = peer.state === 'SYN-RECEIVED' && !peer.sawFin ? 'LISTEN' : 'CLOSED';
      return;
    }
    if ((flags & TH.SYN) !== 0) {
      if ((flags & TH.ACK) === 0) {
        if (me.state === 'CLOSED' || me.state === 'LISTEN' || me.state === 'TIME-WAIT') me.state = 'SYN-SENT';
        if (peer.state === 'CLOSED' || peer.state === 'TIME-WAIT') peer.state = 'LISTEN';
        else if (peer.state === 'SYN-SENT') peer.state = 'SYN-RECEIVED'; // simultaneous open
      } else {
        if (me.state === 'CLOSED' || me.state === 'LISTEN' || me.state === 'SYN-SENT') me.state = 'SYN-RECEIVED';
        if (peer.state === 'SYN-SENT' || peer.state === 'SYN-RECEIVED' || peer.state === 'CLOSED') peer.state = 'ESTABLISHED';
      }
    } else if ((flags & TH.ACK) !== 0) {
      if (me.state === 'CLOSED' || me.state === 'LISTEN') {
        // Capture started mid-connection: both ends are past the handshake.
        if (!me.sawSyn) me.state = 'ESTABLISHED';
        if (peer.state === 'CLOSED' && !peer.sawSyn) peer.state = 'ESTABLISHED';
      } else if (me.state === 'SYN-SENT') me.state = 'ESTABLISHED';
      if (peer.state === 'SYN-RECEIVED' && peer.sawSyn && l.ack === seqAdd(peer.isn, 1)) peer.state = 'ESTABLISHED';
    }
    // An ACK of the peer's FIN.
    if ((flags & TH.ACK) !== 0 && peer.sawFin && l.ack === seqAdd(peer.finSeq, 1)) {
      if (peer.state === 'FIN-WAIT-1') peer.state = 'FIN-WAIT-2';
      else if (peer.state === 'CLOSING') peer.state = 'TIME-WAIT';
      else if (peer.state === 'LAST-ACK') peer.state = 'CLOSED';
    }
    if ((flags & TH.FIN) !== 0) {
      if (!me.sawFin) {
        me.sawFin = true;
        me.finSeq = finSeq;
        if (c.closedBy === null) {
          c.closedBy = dir;
          c.closeHow = 'fin';
        }
      }
      if (me.state === 'ESTABLISHED' || me.state === 'SYN-RECEIVED') me.state = 'FIN-WAIT-1';
      else if (me.state === 'CLOSE-WAIT') me.state = 'LAST-ACK';
      if (peer.state === 'ESTABLISHED') peer.state = 'CLOSE-WAIT';
      else if (peer.state === 'FIN-WAIT-1') peer.state = 'CLOSING';
      else if (peer.state === 'FIN-WAIT-2') peer.state = 'TIME-WAIT';
    }
  }

  private closeReassembly(c: Connection, time: SegmentTime | null): void {
    const ra = c.reassembly;
    if (ra === null) return;
    ra[0].close(time);
    ra[1].close(time);
  }

  private forget(c: Connection): void {
    this.closeReassembly(c, null);
    this.remove(c);
    this.evicted++;
  }

  /** Forgets connections idle longer than the timeout (the list is in least-recently-seen order; times only move forward here). */
  private sweep(sec: number): void {
    this.lastSweepSec = sec;
    while (this.oldest !== null && sec - this.oldest.lastSec > this.idleTimeout) this.forget(this.oldest);
  }
}

/** Nanoseconds from (sec0, nsec0) to (sec, nsec); negative when time went backwards. */
function nsSince(sec: number, nsec: number, sec0: number, nsec0: number): number {
  return (sec - sec0) * 1e9 + (nsec - nsec0);
}

const NOT_SYN_FIN_RST = TH.SYN | TH.FIN | TH.RST;

/**
 * tshark 4.0's sequence analysis of one segment from `fwd` (packet-tcp.c, tcp_analyze_sequence_number
 * and the initial RTT kept by dissect_tcp), as far as its flags go: raw sequence numbers, 0 meaning
 * "unset" as there. Returns the segment's ANALYSIS flags and updates both directions' state.
 */
function analyze(c: Connection, fwd: Endpoint, rev: Endpoint, l: TcpHeader, seglen: number, sec: number, nsec: number): number {
  const flags = l.flags;
  const seq = l.seq;
  const ack = l.ack;
  const window = l.window;
  if ((flags & (TH.SYN | TH.ACK)) === TH.SYN) {
    c.mruSynSec = sec;
    c.mruSynNsec = nsec;
  } else if ((flags & (TH.SYN | TH.ACK)) === TH.ACK && (c.mruSynSec !== 0 || c.mruSynNsec !== 0) && c.firstRttNs === 0) {
    c.firstRttNs = nsSince(sec, nsec, c.mruSynSec, c.mruSynNsec);
  }
  let a = 0;
  const plain = (flags & NOT_SYN_FIN_RST) === 0;
  const atNext = seq === fwd.aNextSeq;
  if (seglen === 1 && atNext && rev.aWindow === 0) {
    a |= ANALYSIS.ZERO_WINDOW_PROBE;
  } else {
    if (window === 0 && plain) a |= ANALYSIS.ZERO_WINDOW;
    if (fwd.aNextSeq !== 0 && seqGt(seq, fwd.aNextSeq) && (flags & TH.RST) === 0) a |= ANALYSIS.LOST_PACKET;
    if ((seglen === 0 || seglen === 1) && seq === seqAdd(fwd.aNextSeq, -1) && plain) a |= ANALYSIS.KEEP_ALIVE;
    const sameAck = seglen === 0 && atNext && ack === fwd.aLastAck && plain;
    if (sameAck && window !== 0 && window !== fwd.aWindow) a |= ANALYSIS.WINDOW_UPDATE;
    if (sameAck && window !== 0 && window === fwd.aWindow && (rev.aLastFlags & ANALYSIS.KEEP_ALIVE) !== 0) {
      a |= ANALYSIS.KEEP_ALIVE_ACK;
    } else if (sameAck && window === 0 && fwd.aWindow === 0 && (rev.aLastFlags & ANALYSIS.ZERO_WINDOW_PROBE) !== 0) {
      a |= ANALYSIS.ZERO_WINDOW_PROBE_ACK;
    } else if (sameAck && window !== 0 && window === fwd.aWindow) {
      fwd.aDupAcks++;
      a |= ANALYSIS.DUPLICATE_ACK;
    }
  }
  if (ack !== fwd.aLastAck) fwd.aDupAcks = 0;
  if (rev.aMaxSeqToBeAcked !== 0 && seqGt(ack, rev.aMaxSeqToBeAcked) && (flags & TH.ACK) !== 0) {
    a |= ANALYSIS.ACK_LOST_PACKET;
    // Not again for the same missing bytes.
    rev.aMaxSeqToBeAcked = rev.aNextSeq;
  }
  const synFin = (flags & (TH.SYN | TH.FIN)) !== 0 ? 1 : 0;
  if ((seglen > 0 || synFin !== 0) && (a & ANALYSIS.KEEP_ALIVE) === 0) {
    let notAdvanced = fwd.aNextSeq !== 0 && seqLt(seq, fwd.aNextSeq);
    // New data starting one byte early (after a possible zero window probe) is not a retransmission.
    if (seglen > 1 && seqAdd(fwd.aNextSeq, -1) === seq) notAdvanced = false;
    const sinceAck = nsSince(sec, nsec, rev.aLastAckSec, rev.aLastAckNsec);
    const sinceNext = nsSince(sec, nsec, fwd.aNextSeqSec, fwd.aNextSeqNsec);
    const oooThreshold = c.firstRttNs !== 0 ? c.firstRttNs : 3e6;
    if (notAdvanced && rev.aDupAcks >= 2 && rev.aLastAck === seq && sinceAck >= 0 && sinceAck < 2e7) {
      a |= ANALYSIS.FAST_RETRANSMISSION;
    } else if (notAdvanced && sinceNext >= 0 && sinceNext < oooThreshold && fwd.aNextSeq !== seqAdd(seq, seglen + synFin)) {
      a |= ANALYSIS.OUT_OF_ORDER;
    } else if (seglen > 0 && rev.aLastAck !== 0 && seqLe(seqAdd(seq, seglen), rev.aLastAck)) {
      a |= ANALYSIS.SPURIOUS_RETRANSMISSION;
    } else if (notAdvanced) {
      a |= ANALYSIS.RETRANSMISSION;
    }
  }
  const next = seqAdd(seq, seglen + synFin);
  const probe = (a & ANALYSIS.ZERO_WINDOW_PROBE) !== 0;
  if ((seqGt(next, fwd.aNextSeq) || fwd.aNextSeq === 0) && !probe) {
    fwd.aNextSeq = next;
    fwd.aNextSeqSec = sec;
    fwd.aNextSeqNsec = nsec;
  }
  if ((seq === fwd.aMaxSeqToBeAcked || fwd.aMaxSeqToBeAcked === 0) && !probe) fwd.aMaxSeqToBeAcked = fwd.aNextSeq;
  fwd.aWindow = window;
  fwd.aLastAck = ack;
  fwd.aLastAckSec = sec;
  fwd.aLastAckNsec = nsec;
  fwd.aLastFlags = a;
  return a;
}
