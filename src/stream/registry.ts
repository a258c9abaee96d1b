/**
 * Which application protocol reads a TCP connection, and the messages they decode.
 *
 * Protocol modules call registerAppProtocol at import (src/stream/protocols.ts imports them all).
 * An AppDispatcher's `sink` is a ConnTracker `sink` factory: per connection it picks the first
 * registered protocol whose `ports` hold either endpoint's port; on any other port, the first whose
 * sniff() accepts the first bytes of a direction (whichever direction has enough bytes first; the
 * other is tried when the first is refused). Until then the connection's chunks and events are
 * held (copied, a few KiB at most) and replayed to the chosen parser. A connection no protocol
 * takes is left alone. While bytes are held so, messages may still come out of them (holds()).
 * Messages the parsers emit are collected in `messages` until the caller takes them; each names
 * the frame that brought its last bytes (time.frame), which is not always the frame just pushed.
 */
import type { Connection } from '../tcp/conntrack.js';
import type { SegmentTime, StreamChunk, StreamEvent, StreamSink } from '../tcp/reassembler.js';
import type { AppMessage, AppProtocol } from './app.js';

const registered: AppProtocol[] = [];

/** Adds a protocol (once); the order of registration is the order of preference. */
export function registerAppProtocol(p: AppProtocol): void {
  if (!registered.includes(p)) registered.push(p);
}

/** The registered protocols, in order. */
export function appProtocols(): readonly AppProtocol[] {
  return registered;
}

/** Bytes a direction must have before its first bytes are sniffed (unless it ends sooner), unless a protocol asks for more. */
export const SNIFF_BYTES = 8;
/** Most bytes held for a connection while no protocol is chosen; beyond it the connection is left alone. */
export const MAX_HELD_BYTES = 16384;

type Held =
  | { kind: 'chunk'; chunk: StreamChunk }
  | { kind: 'event'; event: StreamEvent }
  | { kind: 'complete'; dir: 0 | 1; how: 'fin' | 'rst' | 'end'; time: SegmentTime | null };

/** What a direction's sniffing has come to. */
const enum Sniff { Waiting, Refused, Ended }

export class AppDispatcher {
  /** Messages emitted since the last take(), in emission order. */
  readonly messages: AppMessage[] = [];
  /** The protocol chosen for each connection held by the tracker (null: none). */
  private readonly chosen = new WeakMap<Connection, AppProtocol | null>();
  /** The dispatch of each connection still undecided. */
  private readonly undecided = new WeakMap<Connection, ConnectionDispatch>();
  /** Bytes a direction must have before it is sniffed: the most any protocol asks for. */
  readonly sniffBytes: number;
  readonly emit = (m: AppMessage): void => {
    this.messages.push(m);
  };
  /** For ConnTrackOptions.sink. */
  readonly sink = (c: Connection): StreamSink => {
    const x = new ConnectionDispatch(this, c);
    if (!this.chosen.has(c)) this.undecided.set(c, x);
    return x;
  };

  constructor(readonly protocols: readonly AppProtocol[] = registered) {
    let n = SNIFF_BYTES;
    for (const p of protocols) if (p.sniffBytes !== undefined && p.sniffBytes > n) n = p.sniffBytes;
    this.sniffBytes = n;
  }

  /** The protocol reading connection c: a protocol, null when none takes it, undefined while undecided. */
  protocolOf(c: Connection): AppProtocol | null | undefined {
    return this.chosen.get(c);
  }

  /** Records the choice for c (ConnectionDispatch). */
  choose(c: Connection, p: AppProtocol | null): void {
    this.chosen.set(c, p);
    this.undecided.delete(c);
  }

  /**
   * Whether connection c is undecided with bytes held that a protocol may still decode (neither
   * direction refused yet): messages may then come out later on the frames that brought them.
   */
  holds(c: Connection): boolean {
    return this.undecided.get(c)?.mayDecode() === true;
  }

  /** Empties `messages`, returning what it held (a new array). */
  take(): AppMessage[] {
    if (this.messages.length === 0) return EMPTY;
    const out = this.messages.slice();
    this.messages.length = 0;
    return out;
  }
}

const EMPTY: AppMessage[] = [];

/** The sink of one connection: holds its bytes until a protocol is chosen, then forwards to it. */
class ConnectionDispatch implements StreamSink {
  private target: StreamSink | null = null;
  /** No protocol takes the connection: everything is dropped. */
  private ignored = false;
  private held: Held[] = [];
  private heldBytes = 0;
  /** First bytes of each direction (for sniffing), and how far sniffing got. */
  private readonly first: [Uint8Array, Uint8Array] = [EMPTY_BYTES, EMPTY_BYTES];
  private readonly sniffState: [Sniff, Sniff] = [Sniff.Waiting, Sniff.Waiting];

  constructor(private readonly d: AppDispatcher, private readonly conn: Connection) {
    const a = conn.ends[0].port;
    const b = conn.ends[1].port;
    for (const p of d.protocols) {
      if (p.ports.includes(a) || p.ports.includes(b)) {
        this.open(p);
        return;
      }
    }
    if (d.protocols.length === 0) this.ignore();
  }

  chunk(c: StreamChunk): void {
    if (this.target !== null) return this.target.chunk(c);
    if (this.ignored) return;
    const copy: StreamChunk = { dir: c.dir, seq: c.seq, bytes: c.bytes.slice(), time: c.time };
    this.held.push({ kind: 'chunk', chunk: copy });
    this.heldBytes += copy.bytes.length;
    if (this.sniffState[c.dir] === Sniff.Waiting) {
      const f = this.first[c.dir];
      const need = this.d.sniffBytes;
      if (f.length < need) {
        const n = Math.min(need - f.length, copy.bytes.length);
        const grown = new Uint8Array(f.length + n);
        grown.set(f);
        grown.set(copy.bytes.subarray(0, n), f.length);
        this.first[c.dir] = grown;
      }
      if (this.first[c.dir].length >= need) this.sniff(c.dir);
    }
    if (this.target === null && !this.ignored && this.heldBytes > MAX_HELD_BYTES) this.ignore();
  }

  event(e: StreamEvent): void {
    if (this.target !== null) return this.target.event(e);
    if (this.ignored) return;
    this.held.push({ kind: 'event', event: e });
  }

  complete(dir: 0 | 1, how: 'fin' | 'rst' | 'end', time: SegmentTime | null): void {
    if (this.target !== null) return this.target.complete(dir, how, time);
    if (this.ignored) return;
    this.held.push({ kind: 'complete', dir, how, time });
    // A direction that ended before sniffBytes is sniffed on what it sent.
    if (this.sniffState[dir] === Sniff.Waiting) {
      if (this.first[dir].length > 0) this.sniff(dir);
      else this.sniffState[dir] = Sniff.Ended;
    }
    if (this.target === null && this.sniffState[0] !== Sniff.Waiting && this.sniffState[1] !== Sniff.Waiting) this.ignore();
  }

  mayDecode(): boolean {
    return this.heldBytes > 0 && this.sniffState[0] !== Sniff.Refused && this.sniffState[1] !== Sniff.Refused;
  }

  private sniff(dir: 0 | 1): void {
    const bytes = this.first[dir];
    for (const p of this.d.protocols) {
      if (p.sniff(bytes)) {
        this.open(p);
        return;
      }
    }
    this.sniffState[dir] = Sniff.Refused;
    if (this.sniffState[1 - dir] !== Sniff.Waiting) this.ignore();
  }

  private open(p: AppProtocol): void {
    this.d.choose(this.conn, p);
    const target = p.open(this.conn, this.d.emit);
    this.target = target;
    const held = this.held;
    this.release();
    for (const h of held) {
      if (h.kind === 'chunk') target.chunk(h.chunk);
      else if (h.kind === 'event') target.event(h.event);
      else target.complete(h.dir, h.how, h.time);
    }
  }

  private ignore(): void {
    this.ignored = true;
    this.d.choose(this.conn, null);
    this.release();
  }

  private release(): void {
    this.held = [];
    this.heldBytes = 0;
    this.first[0] = this.first[1] = EMPTY_BYTES;
  }
}

const EMPTY_BYTES = new Uint8Array(0);
