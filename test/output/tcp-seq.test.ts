/**
 * tcpdump's TCP sequence-number table (src/output/tcp-seq.ts) against a plain model of it: a Map
 * keyed by the key words as a string, swept in insertion order (CLOCK). Random conversations,
 * IPv4 and IPv6, SYNs among them, a small bound so that eviction runs all the time.
 */
import { describe, it, expect } from 'vitest';
import { conversationKey, KEY_WORDS_V4, KEY_WORDS_V6, TcpSeqTable } from '../../src/output/tcp-seq.js';

interface ModelEntry { seq: number; ack: number; used: boolean }

class Model {
  readonly map = new Map<string, ModelEntry>();
  constructor(private readonly cap: number) {}
  track(key: string, rev: boolean, syn: boolean, seq: number, ack: number): { fresh: boolean; seq: number; ack: number } {
    let e = this.map.get(key);
    const fresh = e === undefined || syn;
    if (e === undefined) {
      if (this.map.size >= this.cap) {
        for (const [k, v] of this.map) {
          this.map.delete(k);
          if (!v.used) break;
          v.used = false;
          this.map.set(k, v);
        }
      }
      e = { seq: 0, ack: 0, used: false };
      this.map.set(key, e);
    }
    if (fresh) {
      if (rev) { e.ack = seq; e.seq = (ack - 1) >>> 0; } else { e.seq = seq; e.ack = (ack - 1) >>> 0; }
    } else e.used = true;
    return { fresh, seq: e.seq, ack: e.ack };
  }
}

/** A deterministic generator (xorshift32). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

describe('TCP sequence-number table', () => {
  it.each([[7, 40, 1], [64, 200, 2], [1000, 5000, 3]])('matches the model: bound %i, %i conversations', (cap, conversations, seed) => {
    const next = random(seed);
    // Each conversation: address family, addresses and ports, as a packet would carry them.
    const convs = Array.from({ length: conversations }, () => {
      const v6 = next() % 4 === 0;
      const alen = v6 ? 16 : 4;
      const buf = new Uint8Array(2 * alen).map(() => next() & 0xff);
      // Some pairs share the port (the addresses then decide the direction).
      const sport = next() % 8 === 0 ? 443 : next() & 0xffff;
      const dport = next() % 8 === 0 ? sport : next() & 0xffff;
      return { alen, buf, sport, dport };
    });
    const table = new TcpSeqTable(cap);
    const model = new Model(cap);
    const w = new Uint32Array(KEY_WORDS_V6);
    for (let i = 0; i < 20000; i++) {
      const c = convs[next() % conversations];
      const back = next() % 2 === 0;
      const [src, dst, sport, dport] = back ? [c.alen, 0, c.dport, c.sport] : [0, c.alen, c.sport, c.dport];
      const rev = conversationKey(c.buf, src, dst, c.alen, sport, dport, w, 0);
      const n = c.alen + 2;
      expect(n === KEY_WORDS_V4 || n === KEY_WORDS_V6).toBe(true);
      const syn = next() % 50 === 0;
      const seq = next(), ack = next();
      const got = table.track(w, 0, n, rev, syn, seq, ack);
      const want = model.track(String.fromCharCode(...w.subarray(0, n)), rev, syn, seq, ack);
      expect({ fresh: got.fresh, seq: got.seq, ack: got.ack }).toEqual(want);
      expect(table.size).toBe(model.map.size);
    }
  });

  it('keys a conversation the same both ways', () => {
    const buf = Uint8Array.from([10, 0, 0, 1, 10, 0, 0, 2]);
    const a = new Uint32Array(KEY_WORDS_V4), b = new Uint32Array(KEY_WORDS_V4);
    const ra = conversationKey(buf, 0, 4, 4, 40000, 80, a, 0);
    const rb = conversationKey(buf, 4, 0, 4, 80, 40000, b, 0);
    expect(a).toEqual(b);
    expect(ra).not.toBe(rb);
  });
});
