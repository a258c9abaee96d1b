/**
 * Per-direction TCP stream reassembly (gopacket reassembly's Stream contract: segments are
 * accepted, ordered bytes come out as chunks, then the stream is complete).
 *
 * - Sequence numbers go through seq.ts only (modulo 2^32).
 * - Segments after the next expected byte are buffered (copied) until the hole before them fills.
 * - Bytes already delivered are never delivered again: a retransmission or overlap is trimmed;
 *   when its bytes differ from what was delivered (as far as the recent-bytes window reaches) or
 *   from a buffered segment, an `overlap-conflict` event says so. The first bytes seen win.
 * - A hole is never silently joined: when the stream must move past it (FIN/RST/end with data
 *   buffered beyond it, or a memory limit), a `gap` event with its size comes first.
 * - FIN ends the direction once every byte before it was delivered; data after the FIN is
 *   reported and dropped. RST ends it at once (buffered data is delivered after gap events).
 * - Memory is bounded: buffered bytes per direction and in total (shared ReassemblyBudget). Over a
 *   limit, the direction (or, for the total, the direction holding the most) stops waiting: the
 *   hole is reported as a gap with reason 'limit' and the buffered bytes are delivered.
 */
import { seqAdd, seqDiff, seqGt, seqLe } from './seq.js';

export interface ReassemblyLimits {
  /** Most bytes one direction may hold out of order. */
  maxBufferedPerDirection: number;
  /** Most bytes all directions sharing a budget may hold out of order. */
  maxBufferedTotal: number;
  /** Delivered bytes kept per direction to tell retransmissions with different bytes. */
  conflictWindow: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxBufferedPerDirection: 4 << 20,
  maxBufferedTotal: 256 << 20,
  conflictWindow: 8192,
};

/** Capture time of a segment. */
export interface SegmentTime {
  sec: number;
  nsec: number;
  /** Frame number (1-based). */
  frame: number;
}

export interface StreamChunk {
  /** 0: from the connection's first endpoint (the one seen sending first), 1: the other. */
  dir: 0 | 1;
  /** Sequence number of the first byte. */
  seq: number;
  /**
   * The bytes: valid only during the sink's chunk() call (they may be the capture's reused frame
   * buffer, as on live capture); copy them to keep them.
   */
  bytes: Uint8Array;
  /** Time and frame of the segment that brought the bytes (for buffered ones: the one that arrived). */
  time: SegmentTime;
}

export type StreamEvent =
  /**
   * Bytes never seen were skipped: `length` of them starting at `seq`. 'snaplen': they were on the
   * wire, but past the snapshot length of the segment that carried them.
   */
  | { type: 'gap'; dir: 0 | 1; seq: number; length: number; reason: 'end' | 'limit' | 'fin' | 'rst' | 'snaplen'; time: SegmentTime }
  /** A segment repeated bytes with different contents; the first ones were kept. */
  | { type: 'overlap-conflict'; dir: 0 | 1; seq: number; length: number; time: SegmentTime }
  /** A segment came after the end of the direction (beyond its FIN, or after RST) and was dropped. */
  | { type: 'data-after-end'; dir: 0 | 1; seq: number; length: number; time: SegmentTime }
  /** A segment for bytes the stream already skipped as a gap came late and was dropped. */
  | { type: 'late-data'; dir: 0 | 1; seq: number; length: number; time: SegmentTime };

/** What consumes a reassembled direction (gopacket's Stream: ReassembledSG / ReassemblyComplete). */
export interface StreamSink {
  chunk(c: StreamChunk): void;
  event(e: StreamEvent): void;
  /** The direction ended: 'fin' (all bytes before the FIN delivered), 'rst', or 'end' (flushed by close()). */
  complete(dir: 0 | 1, how: 'fin' | 'rst' | 'end', time: SegmentTime | null): void;
}

/** Bytes held out of order by every direction sharing it. */
export class ReassemblyBudget {
  buffered = 0;
  /** Directions with bytes buffered, to find the largest when the total is over the limit. */
  readonly holders = new Set<DirectionReassembler>();
  constructor(readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}
}

interface Pending {
  seq: number;
  bytes: Uint8Array;
  time: SegmentTime;
}

export class DirectionReassembler {
  /** Next byte to deliver; valid once `started`. */
  nextSeq = 0;
  started = false;
  /** Sequence number of the FIN (the byte it occupies), once seen. */
  finSeq = 0;
  sawFin = false;
  done = false;
  /** Out-of-order segments, by sequence number. */
  private readonly pending: Pending[] = [];
  bufferedBytes = 0;
  /** The last delivered bytes (up to conflictWindow), ending at nextSeq. */
  private recent: Uint8Array;
  private recentLen = 0;
  /** The most recent gap [lastGapSeq, lastGapSeq + lastGapLen), to tell its bytes when they come late. */
  private lastGapSeq = 0;
  private lastGapLen = 0;
  /** Counters. */
  deliveredBytes = 0;
  gapBytes = 0;
  gaps = 0;
  conflicts = 0;

  constructor(
    readonly dir: 0 | 1,
    private readonly sink: StreamSink,
    private readonly budget: ReassemblyBudget = new ReassemblyBudget(),
  ) {
    this.recent = new Uint8Array(0);
  }

  /** A SYN with sequence number isn: data starts at isn + 1. */
  syn(isn: number): void {
    if (this.started) return;
    this.nextSeq = seqAdd(isn, 1);
    this.started = true;
  }

  /**
   * One segment of this direction: its sequence number, payload (copied when kept), FIN and RST.
   * A SYN must have gone through syn() first (its payload, if any, starts at isn + 1).
   * `uncaptured`: bytes of the payload that followed `payload` on the wire but were not captured.
   */
  segment(seq: number, payload: Uint8Array, fin: boolean, rst: boolean, time: SegmentTime, uncaptured = 0): void {
    if (this.done) {
      if (payload.length > 0) this.sink.event({ type: 'data-after-end', dir: this.dir, seq, length: payload.length, time });
      return;
    }
    if (!this.started) {
      // Capture started mid-connection: the first byte seen is where the stream starts.
      this.nextSeq = seq;
      this.started = true;
    }
    let data = payload;
    let at = seq;
    if (this.sawFin && data.length > 0) {
      const room = seqDiff(this.finSeq, at);
      if (room < data.length) {
        const cut = Math.max(0, room);
        this.sink.event({ type: 'data-after-end', dir: this.dir, seq: seqAdd(at, cut), length: data.length - cut, time });
        data = data.subarray(0, cut);
      }
    }
    if (fin && !this.sawFin) {
      this.sawFin = true;
      this.finSeq = seqAdd(at, data.length);
      this.dropPendingBeyondFin(time);
    }
    if (data.length > 0) this.accept(at, data, time);
    // A segment cut by the snapshot length: the stream moves past its uncaptured tail at once (as
    // tshark's follow does) instead of holding what follows behind a hole no ACK may ever close.
    if (uncaptured > 0 && !this.sawFin && this.nextSeq === seqAdd(at, data.length)) this.skipTo(seqAdd(at, data.length + uncaptured), 'snaplen', time);
    if (rst) {
      this.flushAll('rst', time);
      this.finish('rst', time);
      return;
    }
    if (this.sawFin && this.nextSeq === this.finSeq) this.finish('fin', time);
  }

  /** The connection ended without FIN/RST for this direction (end of capture, eviction): flush what is held. */
  close(time: SegmentTime | null): void {
    if (this.done) return;
    if (this.pending.length > 0) this.flushAll('end', time ?? this.pending[0].time);
    if (this.sawFin && seqGt(this.finSeq, this.nextSeq) && time !== null) this.skipTo(this.finSeq, 'fin', time);
    this.finish(this.sawFin ? 'fin' : 'end', time);
  }

  /** The peer acknowledged up to ack: bytes before it will never be retransmitted, so a hole there is lost. */
  acked(ack: number, time: SegmentTime): void {
    if (!this.started || this.done || this.pending.length === 0) return;
    if (!seqGt(ack, this.nextSeq)) return;
    // Everything below ack was received by the peer: every hole under it is final (tshark moves
    // past all of them at once, and only for an ACK beyond the start of the data held after one).
    while (this.pending.length > 0 && seqGt(ack, this.pending[0].seq)) this.skipTo(this.pending[0].seq, 'end', time);
    if (this.sawFin && this.nextSeq === this.finSeq) this.finish('fin', time);
  }

  private accept(seq: number, data: Uint8Array, time: SegmentTime): void {
    const d = seqDiff(seq, this.nextSeq);
    if (d <= 0) {
      // Starts at or before the next byte: the part already delivered is compared, the rest delivered.
      const old = Math.min(-d, data.length);
      if (old > 0) this.checkDelivered(seq, data.subarray(0, old), time);
      if (old < data.length) {
        this.deliver(seqAdd(seq, old), data.subarray(old), time);
        this.drain();
      }
      return;
    }
    this.buffer(seq, data, time);
  }

  /** Compares bytes of a retransmission with the delivered ones still in the window. */
  private checkDelivered(seq: number, bytes: Uint8Array, time: SegmentTime): void {
    if (this.lastGapLen > 0 && seqDiff(seq, this.lastGapSeq) < this.lastGapLen && seqGt(seqAdd(seq, bytes.length), this.lastGapSeq)) {
      this.sink.event({ type: 'late-data', dir: this.dir, seq, length: bytes.length, time });
      return;
    }
    const back = -seqDiff(seq, this.nextSeq); // how far before nextSeq the bytes start
    if (back > this.recentLen) return;
    const from = this.recentLen - back;
    const n = Math.min(bytes.length, this.recentLen - from);
    for (let i = 0; i < n; i++) {
      if (this.recent[from + i] !== bytes[i]) {
        this.conflicts++;
        this.sink.event({ type: 'overlap-conflict', dir: this.dir, seq, length: bytes.length, time });
        return;
      }
    }
  }

  private buffer(seq: number, data: Uint8Array, time: SegmentTime): void {
    const pend = this.pending;
    // Trim against buffered segments (first bytes win), reporting differing overlaps.
    let i = 0;
    while (i < pend.length && seqLe(seqAdd(pend[i].seq, pend[i].bytes.length), seq)) i++;
    let s = seq;
    let rest = data;
    const pieces: Pending[] = [];
    let conflict = false;
    for (; i < pend.length && rest.length > 0; i++) {
      const p = pend[i];
      const gapBefore = seqDiff(p.seq, s);
      if (gapBefore > 0) {
        const n = Math.min(gapBefore, rest.length);
        pieces.push({ seq: s, bytes: rest.slice(0, n), time });
        s = seqAdd(s, n);
        rest = rest.subarray(n);
        if (rest.length === 0) break;
      }
      const into = seqDiff(s, p.seq);
      const n = Math.min(p.bytes.length - into, rest.length);
      if (n > 0) {
        if (!conflict) for (let k = 0; k < n; k++) if (p.bytes[into + k] !== rest[k]) { conflict = true; break; }
        s = seqAdd(s, n);
        rest = rest.subarray(n);
      }
    }
    if (rest.length > 0) pieces.push({ seq: s, bytes: rest.slice(), time });
    if (conflict) {
      this.conflicts++;
      this.sink.event({ type: 'overlap-conflict', dir: this.dir, seq, length: data.length, time });
    }
    if (pieces.length === 0) return;
    for (const piece of pieces) {
      let k = pend.length;
      while (k > 0 && seqGt(pend[k - 1].seq, piece.seq)) k--;
      pend.splice(k, 0, piece);
      this.bufferedBytes += piece.bytes.length;
      this.budget.buffered += piece.bytes.length;
    }
    this.budget.holders.add(this);
    this.enforceLimits(time);
  }

  private enforceLimits(time: SegmentTime): void {
    const lim = this.budget.limits;
    while (this.bufferedBytes > lim.maxBufferedPerDirection && this.pending.length > 0) {
      this.skipTo(this.pending[0].seq, 'limit', time);
    }
    while (this.budget.buffered > lim.maxBufferedTotal) {
      let largest: DirectionReassembler | null = null;
      for (const h of this.budget.holders) if (largest === null || h.bufferedBytes > largest.bufferedBytes) largest = h;
      if (largest === null || largest.pending.length === 0) break;
      largest.skipTo(largest.pending[0].seq, 'limit', time);
    }
  }

  /** Declares the hole up to `to` a gap, then delivers what follows it. */
  private skipTo(to: number, reason: 'end' | 'limit' | 'fin' | 'rst' | 'snaplen', time: SegmentTime): void {
    const n = seqDiff(to, this.nextSeq);
    if (n > 0) {
      this.gaps++;
      this.gapBytes += n;
      this.sink.event({ type: 'gap', dir: this.dir, seq: this.nextSeq, length: n, reason, time });
      this.lastGapSeq = this.nextSeq;
      this.lastGapLen = n;
      this.nextSeq = to;
      this.recentLen = 0;
    }
    this.drain();
  }

  /** Delivers buffered segments that now start at or before the next byte. */
  private drain(): void {
    const pend = this.pending;
    while (pend.length > 0 && seqLe(pend[0].seq, this.nextSeq)) {
      const p = pend.shift()!;
      this.bufferedBytes -= p.bytes.length;
      this.budget.buffered -= p.bytes.length;
      const skip = seqDiff(this.nextSeq, p.seq);
      if (skip < p.bytes.length) this.deliver(this.nextSeq, p.bytes.subarray(skip), p.time);
    }
    if (pend.length === 0) this.budget.holders.delete(this);
  }

  private flushAll(reason: 'end' | 'rst', time: SegmentTime): void {
    while (this.pending.length > 0) this.skipTo(this.pending[0].seq, reason, time);
  }

  private dropPendingBeyondFin(time: SegmentTime): void {
    const pend = this.pending;
    for (let k = pend.length - 1; k >= 0; k--) {
      const p = pend[k];
      const room = seqDiff(this.finSeq, p.seq);
      if (room >= p.bytes.length) break;
      const keep = Math.max(0, room);
      this.sink.event({ type: 'data-after-end', dir: this.dir, seq: seqAdd(p.seq, keep), length: p.bytes.length - keep, time });
      this.bufferedBytes -= p.bytes.length - keep;
      this.budget.buffered -= p.bytes.length - keep;
      if (keep === 0) pend.splice(k, 1);
      else p.bytes = p.bytes.subarray(0, keep);
    }
    if (pend.length === 0) this.budget.holders.delete(this);
  }

  private deliver(seq: number, bytes: Uint8Array, time: SegmentTime): void {
    this.nextSeq = seqAdd(seq, bytes.length);
    this.deliveredBytes += bytes.length;
    this.remember(bytes);
    this.sink.chunk({ dir: this.dir, seq, bytes, time });
  }

  /** Keeps the last conflictWindow delivered bytes. */
  private remember(bytes: Uint8Array): void {
    const w = this.budget.limits.conflictWindow;
    if (w === 0) return;
    if (this.recent.length < w) {
      const grown = new Uint8Array(w);
      grown.set(this.recent.subarray(0, this.recentLen));
      this.recent = grown;
    }
    if (bytes.length >= w) {
      this.recent.set(bytes.subarray(bytes.length - w));
      this.recentLen = w;
      return;
    }
    const keep = Math.min(this.recentLen, w - bytes.length);
    this.recent.copyWithin(0, this.recentLen - keep, this.recentLen);
    this.recent.set(bytes, keep);
    this.recentLen = keep + bytes.length;
  }

  private finish(how: 'fin' | 'rst' | 'end', time: SegmentTime | null): void {
    this.done = true;
    this.recent = new Uint8Array(0);
    this.recentLen = 0;
    this.sink.complete(this.dir, how, time);
  }
}
