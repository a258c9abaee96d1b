/**
 * tcpdump's TCP sequence-number table (print-tcp.c's tcp_seq_hash): one entry per address/port
 * pair, both directions sharing it, created by the first ACK-bearing segment and reset by every
 * SYN. Relative numbers are printed against it.
 *
 * The text printer uses it two ways: in one thread, directly (track, then the shown numbers); or,
 * when worker threads format packets in parallel, a worker records each segment's lookup and the
 * places of its numbers (TcpNumberLog), and the thread that puts the batches back in order replays
 * the lookups in packet order and writes the numbers in (replayTcpNumbers): the table sees every
 * segment in file order either way, so the text is the same.
 */
import type { TextOut } from './text.js';

/** A conversation's entry after a segment's lookup: what its numbers are printed against. */
export interface TcpSeqBase {
  /** The segment goes from the higher to the lower end of the key. */
  rev: boolean;
  /** The entry was just created or reset by a SYN: this segment's numbers print as they are. */
  fresh: boolean;
  /** Initial sequence numbers of the "forward" (lower port) side and of the other side. */
  seq: number;
  ack: number;
}

interface SeqEntry {
  seq: number;
  ack: number;
  /** CLOCK bit: touched since the last eviction sweep passed it. */
  used: boolean;
  /** The key's 16-bit words paired into 32-bit ones (3 for IPv4, 9 for IPv6), and their hash. */
  key: Uint32Array;
  hash: number;
  /** The next entry of the same hash. */
  chain: SeqEntry | null;
  /** Neighbours in the sweep order (oldest first). */
  older: SeqEntry | null;
  newer: SeqEntry | null;
}

/**
 * Bound on remembered conversations. tcpdump's table only grows; ours forgets the least recently
 * used conversation past this many, which only changes output for a conversation that comes back
 * after this many others were seen since.
 */
export const MAX_CONVERSATIONS = 1 << 18;

/**
 * Conversations are found by a 30-bit hash of their key words (a number key: no string per
 * segment), chained on collisions, and kept in one sweep order for eviction.
 */
export class TcpSeqTable {
  private readonly byHash = new Map<number, SeqEntry>();
  private count = 0;
  private oldest: SeqEntry | null = null;
  private newest: SeqEntry | null = null;
  private readonly paired = new Uint32Array(KEY_WORDS_V6 >> 1);
  private readonly base: TcpSeqBase = { rev: false, fresh: false, seq: 0, ack: 0 };

  constructor(private readonly cap: number = MAX_CONVERSATIONS) {}

  get size(): number {
    return this.count;
  }

  /**
   * Finds or records the conversation whose key is w[at..at+n) (conversationKey's words; n is
   * KEY_WORDS_V4 or KEY_WORDS_V6) for a segment with the ACK flag. The result is reused by the next call.
   */
  track(w: Uint32Array, at: number, n: number, rev: boolean, syn: boolean, seq: number, ack: number): TcpSeqBase {
    const k = this.paired;
    const m = n >> 1;
    let hash = n;
    for (let i = 0; i < m; i++) {
      const x = ((w[at + 2 * i] << 16) | w[at + 2 * i + 1]) >>> 0;
      k[i] = x;
      hash = Math.imul(hash ^ x, 0x9e3779b1);
      hash ^= hash >>> 15;
    }
    hash &= 0x3fffffff;
    let e: SeqEntry | null = this.byHash.get(hash) ?? null;
    while (e !== null && !sameKey(e.key, k, m)) e = e.chain;
    const b = this.base;
    b.rev = rev;
    b.fresh = e === null || syn;
    if (e === null) {
      if (this.count >= this.cap) this.evict();
      e = { seq: 0, ack: 0, used: false, key: k.slice(0, m), hash, chain: this.byHash.get(hash) ?? null, older: null, newer: null };
      this.byHash.set(hash, e);
      this.append(e);
      this.count++;
    }
    if (b.fresh) {
      if (rev) { e.ack = seq; e.seq = (ack - 1) >>> 0; }
      else { e.seq = seq; e.ack = (ack - 1) >>> 0; }
    } else e.used = true;
    b.seq = e.seq;
    b.ack = e.ack;
    return b;
  }

  /** CLOCK eviction: the oldest entry not used since the sweep last passed it goes; used ones go to the back, unmarked. */
  private evict(): void {
    for (let e = this.oldest; e !== null; e = this.oldest) {
      this.unlink(e);
      if (e.used) {
        e.used = false;
        this.append(e);
        continue;
      }
      const head = this.byHash.get(e.hash)!;
      if (head === e) {
        if (e.chain !== null) this.byHash.set(e.hash, e.chain);
        else this.byHash.delete(e.hash);
      } else {
        let p = head;
        while (p.chain !== e) p = p.chain!;
        p.chain = e.chain;
      }
      this.count--;
      return;
    }
  }

  private append(e: SeqEntry): void {
    e.older = this.newest;
    e.newer = null;
    if (this.newest !== null) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlink(e: SeqEntry): void {
    if (e.older !== null) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer !== null) e.newer.older = e.older;
    else this.newest = e.older;
  }
}

function sameKey(a: Uint32Array, b: Uint32Array, m: number): boolean {
  if (a.length !== m) return false;
  for (let i = 0; i < m; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A sequence number as printed (a segment's seq, or seq + length). */
export function shownSeq(b: TcpSeqBase, seq: number): number {
  return b.fresh ? seq : (seq - (b.rev ? b.ack : b.seq)) >>> 0;
}

/** An acknowledgment number as printed. */
export function shownAck(b: TcpSeqBase, ack: number): number {
  return b.fresh ? ack : (ack - (b.rev ? b.seq : b.ack)) >>> 0;
}

/** What SACK block edges are printed relative to. */
export function sackBase(b: TcpSeqBase): number {
  return b.rev ? b.seq : b.ack;
}

/** Words of an IPv4 key (two addresses and two ports as 16-bit units) and of an IPv6 key. */
export const KEY_WORDS_V4 = 6;
export const KEY_WORDS_V6 = 18;

/**
 * Writes the conversation key of a segment into w[0..6) (IPv4, alen 4) or w[0..18) (IPv6): the
 * address pair in collating order, then the ports the same way, as 16-bit units. Returns rev.
 */
export function conversationKey(buf: Uint8Array, src: number, dst: number, alen: number, sport: number, dport: number, w: Uint32Array, at: number): boolean {
  let rev = sport > dport;
  if (sport === dport) {
    for (let k = 0; k < alen; k++) {
      if (buf[src + k] !== buf[dst + k]) { rev = buf[src + k] > buf[dst + k]; break; }
    }
  }
  const a = rev ? dst : src;
  const b = rev ? src : dst;
  const half = alen >> 1;
  for (let k = 0; k < half; k++) {
    w[at + k] = (buf[a + 2 * k] << 8) | buf[a + 2 * k + 1];
    w[at + half + k] = (buf[b + 2 * k] << 8) | buf[b + 2 * k + 1];
  }
  w[at + alen] = rev ? dport : sport;
  w[at + alen + 1] = rev ? sport : dport;
  return rev;
}


// ---------------------------------------------------------------------------------------------
// Worker threads: the log of lookups and number places, and its replay.

/** Log entries: a lookup [TRACK, n, key words…, flags, seq, ack], or a number [kind, text offset, raw value]. */
const OP_TRACK = 0;
export const NUM_SEQ = 1;
export const NUM_ACK = 2;
export const NUM_SACK = 3;
const TRACK_REV = 1;
const TRACK_SYN = 2;

/** What a worker's TextOut records instead of looking segments up and printing their numbers. */
export class TcpNumberLog {
  words: Uint32Array<ArrayBufferLike> = new Uint32Array(1 << 12);
  len = 0;

  /** Records a lookup of the segment; the key is computed here. */
  track(buf: Uint8Array, src: number, dst: number, alen: number, sport: number, dport: number, syn: boolean, seq: number, ack: number): void {
    const n = alen + 2;
    this.room(n + 5);
    const w = this.words;
    let k = this.len;
    w[k] = OP_TRACK;
    w[k + 1] = n;
    const rev = conversationKey(buf, src, dst, alen, sport, dport, w, k + 2);
    k += 2 + n;
    w[k] = (rev ? TRACK_REV : 0) | (syn ? TRACK_SYN : 0);
    w[k + 1] = seq;
    w[k + 2] = ack;
    this.len = k + 3;
  }

  /** Records a number of the kind given, to be written at text offset `at`. */
  number(kind: number, at: number, raw: number): void {
    this.room(3);
    const w = this.words;
    const k = this.len;
    w[k] = kind;
    w[k + 1] = at;
    w[k + 2] = raw;
    this.len = k + 3;
  }

  private room(n: number): void {
    if (this.len + n <= this.words.length) return;
    const bigger = new Uint32Array(Math.max(this.words.length * 2, this.len + n));
    bigger.set(this.words.subarray(0, this.len));
    this.words = bigger;
  }
}

/**
 * Writes a worker's text text[0..textLen) into out, with the numbers its log defers, replaying the
 * log's lookups in table (in packet order, batch after batch).
 */
export function replayTcpNumbers(log: Uint32Array, logLen: number, text: Buffer, textLen: number, out: TextOut, table: TcpSeqTable): void {
  let from = 0;
  let b: TcpSeqBase | null = null;
  for (let i = 0; i < logLen;) {
    const op = log[i];
    if (op === OP_TRACK) {
      const n = log[i + 1];
      const k = i + 2 + n;
      b = table.track(log, i + 2, n, (log[k] & TRACK_REV) !== 0, (log[k] & TRACK_SYN) !== 0, log[k + 1], log[k + 2]);
      i = k + 3;
      continue;
    }
    const at = log[i + 1];
    const raw = log[i + 2];
    i += 3;
    out.putBytes(text, from, at);
    from = at;
    out.num(op === NUM_SEQ ? shownSeq(b!, raw) : op === NUM_ACK ? shownAck(b!, raw) : (raw - sackBase(b!)) >>> 0);
  }
  out.putBytes(text, from, textLen);
}
