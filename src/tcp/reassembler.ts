/**
 * Per-direction TCP stream reassembly (gopacket reassembly's Stream contract: segments are
 * accepted, ordered bytes come out as chunks, then the stream is complete).
 *
 * - Sequence numbers go through seq.ts only (modulo 2^32).
 * - Segments after the next expected byte are buffered (copied) whole until the hole before them
 *   fills. Bytes are chosen as tshark's follow chooses them (check_follow_fragments): in-order data
 *   is delivered whole; then, of the held segments that start at or before the next byte, the one
 *   that arrived first gives its new part, and so on. So in-order data replaces held bytes it
 *   overlaps, and a held segment covering another's start replaces it even if it came later.
 * - Bytes already delivered are never delivered again: a retransmission or overlap is trimmed.
 *   Bytes that differ where segments overlap (a retransmission against the delivered bytes, as far
 *   as the recent-bytes window reaches; held segments against each other or against what replaced
 *   them) are reported by an `overlap-conflict` event.
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
  /** Arrival order: of the held segments that fit, the first to arrive is delivered. */
  order: number;
  /** Its bytes were already reported as differing from another held segment's. */
  conflicted: boolean;
}

export class DirectionReassembler {
  /** Next byte to deliver; valid once `started`. */
  nextSeq = 0;
  started = false;
  /** Sequence number of the FIN (the byte it occupies), once seen. */
  finSeq = 0;
  sawFin = false;
  done = false;
  /** Out-of-order segments, by sequence number (then arrival); they may overlap. */
  private readonly pending: Pending[] = [];
  /** Arrivals counted, for Pending.order. */
  private arrivals = 0;
  /** No held segment is longer (held segments starting this far before a byte cannot reach it). */
  private longestPending = 0;
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
        this.drain(time);
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
    if (this.differsFromDelivered(seq, bytes)) this.conflict(seq, bytes.length, time);
  }

  /** Whether bytes at seq (before nextSeq) differ from the delivered ones, as far as the window reaches. */
  private differsFromDelivered(seq: number, bytes: Uint8Array): boolean {
    const back = -seqDiff(seq, this.nextSeq); // how far before nextSeq the bytes start
    if (back > this.recentLen) return false;
    const from = this.recentLen - back;
    const n = Math.min(bytes.length, this.recentLen - from);
    for (let i = 0; i < n; i++) if (this.recent[from + i] !== bytes[i]) return true;
    return false;
  }

  private conflict(seq: number, length: number, time: SegmentTime): void {
    this.conflicts++;
    this.sink.event({ type: 'overlap-conflict', dir: this.dir, seq, length, time });
  }

  /**
   * Holds a segment that starts after the next byte, whole (tshark's follow keeps each one, and
   * chooses among overlapping ones when the stream reaches them); one lying wholly within a segment
   * held before it is dropped: that one is always chosen first, so its bytes would never show.
   */
  private buffer(seq: number, data: Uint8Array, time: SegmentTime): void {
    const pend = this.pending;
    const end = seqAdd(seq, data.length);
    // Where it goes: after the held segments starting at or before it.
    let at = pend.length;
    while (at > 0 && seqGt(pend[at - 1].seq, seq)) at--;
    let conflict = false;
    let covered = false;
    // The held segments it overlaps: those starting before its end, back to the longest one's reach.
    let k = at;
    while (k < pend.length && seqGt(end, pend[k].seq)) k++;
    for (let i = k - 1; i >= 0 && seqDiff(seq, pend[i].seq) < this.longestPending; i--) {
      const p = pend[i];
      const pEnd = seqAdd(p.seq, p.bytes.length);
      if (!seqGt(pEnd, seq)) continue;
      if (seqLe(p.seq, seq) && seqLe(end, pEnd)) covered = true;
      const from = seqGt(p.seq, seq) ? p.seq : seq;
      const to = seqGt(pEnd, end) ? end : pEnd;
      const n = seqDiff(to, from);
      const pi = seqDiff(from, p.seq);
      const di = seqDiff(from, seq);
      for (let j = 0; j < n; j++) {
        if (p.bytes[pi + j] !== data[di + j]) {
          conflict = true;
          p.conflicted = true;
          break;
        }
      }
    }
    if (conflict) this.conflict(seq, data.length, time);
    if (covered) return;
    pend.splice(at, 0, { seq, bytes: data.slice(), time, order: this.arrivals++, conflicted: conflict });
    if (data.length > this.longestPending) this.longestPending = data.length;
    this.bufferedBytes += data.length;
    this.budget.buffered += data.length;
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
    this.drain(time);
  }

  /**
   * Delivers held segments that now start at or before the next byte: the first to arrive among
   * them gives what it holds past the next byte, then again (tshark's check_follow_fragments).
   * `time`: of the segment that let them through (for conflicts found now).
   */
  private drain(time: SegmentTime): void {
    const pend = this.pending;
    while (pend.length > 0 && seqLe(pend[0].seq, this.nextSeq)) {
      let k = 0;
      for (let i = 1; i < pend.length && seqLe(pend[i].seq, this.nextSeq); i++) if (pend[i].order < pend[k].order) k = i;
      const p = pend[k];
      pend.splice(k, 1);
      this.bufferedBytes -= p.bytes.length;
      this.budget.buffered -= p.bytes.length;
      const skip = seqDiff(this.nextSeq, p.seq);
      // Its start was replaced by bytes delivered since it came: say so if they differ.
      if (skip > 0 && !p.conflicted) {
        const old = p.bytes.subarray(0, Math.min(skip, p.bytes.length));
        if (this.differsFromDelivered(p.seq, old)) this.conflict(p.seq, old.length, time);
      }
      if (skip < p.bytes.length) this.deliver(this.nextSeq, p.bytes.subarray(skip), p.time);
    }
    if (pend.length === 0) {
      this.budget.holders.delete(this);
      this.longestPending = 0;
    }
  }

  private flushAll(reason: 'end' | 'rst', time: SegmentTime): void {
    while (this.pending.length > 0) this.skipTo(this.pending[0].seq, reason, time);
  }

  private dropPendingBeyondFin(time: SegmentTime): void {
    const pend = this.pending;
    // Held segments overlap: any of them may run past the FIN.
    for (let k = pend.length - 1; k >= 0; k--) {
      const p = pend[k];
      const room = seqDiff(this.finSeq, p.seq);
      if (room >= p.bytes.length) continue;
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
