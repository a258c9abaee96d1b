/**
 * The packets as tshark's tree shows them once TCP is tracked: what -T fields and --json read.
 *
 * StreamView runs a ConnTracker over the packets (in input order) and, with application protocols,
 * reassembles each connection and hands its bytes to the AppDispatcher. On a segment of a
 * connection an application protocol reads, the frame's own layers above TCP (a per-segment
 * decode, or bare data) give way to the messages placed on it, as tshark shows a reassembled PDU
 * on the frame holding its last segment and nothing on the segments before it.
 *
 * A message is placed on the frame that brought its last bytes (AppMessage.time.frame). Bytes held
 * behind a missing segment come out when the hole is filled (or given up), frames later, so a
 * frame's output waits while bytes of its direction are held out of order (or while its
 * connection's protocol is still being sniffed); frames behind it wait too, to keep frame order.
 * Memory is bounded: beyond `maxHeld` waiting frames the oldest one's hole is given up as lost (as
 * the reassembler does at its own limits) and a warning says so.
 *
 * A formatter sees each frame as start → message* → end (FrameBuilder): it turns what it needs
 * into text at start, while the frame's bytes are valid (a capture reader reuses its buffer), and
 * each message as it is placed, while the message's bytes are valid.
 */
import { Layer, makeLayer, Packet, type Dissector } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import type { ProtocolsLayer } from '../output/frame-fields.js';
import { TcpLayer } from '../../dissectors/tcp.js';
import { ConnTracker, type TrackedSegment } from '../tcp/conntrack.js';
import { DEFAULT_REASSEMBLY_LIMITS, type SegmentTime } from '../tcp/reassembler.js';
import { seqAdd } from '../tcp/seq.js';
import type { AppMessage } from './app.js';
import { AppDispatcher } from './registry.js';

/**
 * Where the application messages of a claimed segment go, below its TCP layer: in claimedView, it
 * holds none, so frame.protocols reads the segment's layers up to TCP and no payload after them.
 */
export class AppLayers extends Layer {
  nested: Packet[] = [];
  protocols = '';
  readonly protocolsCoverNested = true;
}

/** Holds AppLayers: no header of its own, nothing printed (text output never sees it). */
export const appLayersDissector: Dissector<AppLayers> = {
  name: 'app',
  protocols: '',
  create: () => new AppLayers(),
  decode: () => {},
  print: () => {},
};

/** p as tshark's tree shows a segment of a claimed connection: its layers up to TCP (index tcp), then no messages yet. */
export function claimedView(p: Packet, tcp: number): Packet {
  const view = new Packet(p.frame, p.buf);
  for (let i = 0; i <= tcp; i++) view.layers.push(p.layers[i]);
  const a = makeLayer(appLayersDissector);
  a.buf = p.buf;
  view.layers.push(a);
  return view;
}

/** What a formatter makes of the frames: each goes start → message* → end, ends in frame order. */
export interface FrameBuilder<E> {
  /**
   * Frame p was pushed; the tracker's state is p's (segmentOf, streamOf read it). tcp: index of its
   * TCP layer (-1: none). claimed: whether its layers above TCP give way to messages (undefined:
   * not known yet, its connection's protocol is undecided). held: whether the frame outlives this
   * push (its record must not be scratch state, nor keep p's bytes).
   */
  start(p: Packet, tcp: number, claimed: boolean | undefined, held: boolean): E;
  /** A message placed on the frame, as a packet of its own bytes (valid only during the call). */
  message(e: E, q: Packet): void;
  /** The frame is complete: whether its layers above TCP gave way, and what its messages add to frame.protocols. */
  end(e: E, claimed: boolean, protocols: string): void;
}

export interface StreamViewOptions {
  /** Reassemble and decode application protocols (else only stream numbers and sequence analysis). */
  apps: boolean;
  /** Most frames waiting for their messages (0: none wait; a message whose frame is gone goes on the frame being pushed). */
  maxHeld?: number;
  /** Says that a hole was given up to bound the waiting frames. */
  warn?: (message: string) => void;
}

/** Frames waiting at most, by default: the output lines of a few seconds of a busy link. */
export const DEFAULT_MAX_HELD = 20000;

/** A frame between start and end. */
interface Placement<E> {
  readonly number: number;
  /** The segment of its TCP layer (undefined: none tracked). */
  readonly seg: TrackedSegment | undefined;
  readonly record: E;
  readonly claimed: boolean | undefined;
  messages: number;
  /** frame.protocols of its messages, and the protocol of the last whole one (see name()). */
  protocols: string;
  last: string;
}

export class StreamView<E> {
  readonly tracker: ConnTracker;
  readonly dispatcher: AppDispatcher | null;
  /** Frames waiting for messages, in frame order. */
  private readonly held: Placement<E>[] = [];
  /** Frames whose hole was given up, and messages placed on another frame than theirs (their own was written). */
  gaveUp = 0;
  misplaced = 0;
  maxHeld: number;
  /** The frame of the last packet pushed (a message placed at end of input is carried by it; its data is not read). */
  private lastFrame: Frame | null = null;
  private readonly warn: (message: string) => void;

  constructor(private readonly builder: FrameBuilder<E>, opts: StreamViewOptions) {
    this.dispatcher = opts.apps ? new AppDispatcher() : null;
    this.maxHeld = opts.maxHeld ?? DEFAULT_MAX_HELD;
    this.warn = opts.warn ?? (() => {});
    // No window of delivered bytes kept to report conflicting retransmissions: these views do not
    // show them, and 16 KiB per connection adds up over a capture's connections.
    const limits = { ...DEFAULT_REASSEMBLY_LIMITS, conflictWindow: 0 };
    this.tracker = new ConnTracker(this.dispatcher !== null ? { sink: this.dispatcher.sink, limits } : {});
  }

  /** Tracks p (after IP defragmentation, in input order); the builder gets the frames as they complete. */
  push(p: Packet): void {
    this.tracker.push(p);
    this.lastFrame = p.frame;
    const d = this.dispatcher;
    const b = this.builder;
    if (d === null) {
      b.end(b.start(p, -1, false, false), false, '');
      return;
    }
    const layers = p.layers;
    let tcp = -1;
    for (let i = 0; i < layers.length; i++) {
      if (layers[i] instanceof TcpLayer) {
        tcp = i;
        break;
      }
    }
    const seg = tcp >= 0 ? this.segmentOf(layers[tcp] as TcpLayer) : undefined;
    let claimed: boolean | undefined = false;
    if (seg !== undefined) {
      const proto = d.protocolOf(seg.conn);
      claimed = proto === undefined ? undefined : proto !== null;
    }
    const hold = this.maxHeld > 0 && (this.held.length > 0 || (seg !== undefined && this.waiting(seg)));
    const cur: Placement<E> = {
      number: p.frame.number, seg, record: b.start(p, tcp, claimed, hold), claimed, messages: 0, protocols: '', last: '',
    };
    this.place(p, cur);
    if (!hold) {
      this.end(cur);
      return;
    }
    this.held.push(cur);
    this.release();
    while (this.held.length > this.maxHeld) {
      this.giveUp(p);
      this.release();
    }
  }

  /** The tracker's record of TCP layer l of the last packet pushed (undefined: l carried no analysed segment). */
  segmentOf(l: TcpLayer): TrackedSegment | undefined {
    const segs = this.tracker.segments;
    for (let k = 0; k < segs.length; k++) if (segs[k].tcp === l) return segs[k];
    return undefined;
  }

  /** End of input: flushes reassembly, places what it completes on the frames still waiting, and ends them. */
  finish(): void {
    this.tracker.finish();
    if (this.dispatcher !== null) this.place(null, null);
    const held = this.held;
    for (let k = 0; k < held.length; k++) this.end(held[k]);
    held.length = 0;
    if (this.gaveUp > 1) this.warn(`${this.gaveUp} holes in all were given up as lost to bound the frames waiting for them`);
  }

  /** Whether messages may still land on a frame of seg's direction: bytes of it are held out of order, or sniffing holds the connection's. */
  private waiting(seg: TrackedSegment): boolean {
    const r = seg.conn.reassembly;
    return (r !== null && r[seg.dir].bufferedBytes > 0) || this.dispatcher!.holds(seg.conn);
  }

  /**
   * Places the messages emitted since the last call on their frames: a waiting one, else (its own
   * was written) the frame being pushed when it is of the same stream, else nowhere.
   */
  private place(p: Packet | null, cur: Placement<E> | null): void {
    const messages = this.dispatcher!.messages;
    if (messages.length === 0) return;
    const held = this.held;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const f = m.time.frame;
      let to: Placement<E> | null = null;
      if (cur !== null && f === cur.number) to = cur;
      else {
        for (let k = held.length - 1; k >= 0; k--) {
          if (held[k].number === f) {
            to = held[k];
            break;
          }
          if (held[k].number < f) break;
        }
        if (to === null) {
          this.misplaced++;
          if (cur !== null && cur.seg !== undefined && cur.seg.conn.stream === m.stream) to = cur;
          else continue;
        }
      }
      const q = new Packet(p !== null ? p.frame : this.lastFrame!, m.layer.buf);
      q.layers.push(m.layer);
      this.builder.message(to.record, q);
      name(to, m);
    }
    messages.length = 0;
  }

  /** Ends the waiting frames at the head whose messages are all known. */
  private release(): void {
    const held = this.held;
    let n = 0;
    while (n < held.length) {
      const h = held[n];
      if (h.seg !== undefined && this.waiting(h.seg)) break;
      this.end(h);
      n++;
    }
    if (n > 0) held.splice(0, n);
  }

  /** Too many frames wait: the oldest one's hole is given up as lost, as the reassembler does at a limit. */
  private giveUp(p: Packet): void {
    const h = this.held[0];
    const seg = h.seg!;
    const r = seg.conn.reassembly?.[seg.dir];
    if (r !== undefined && r.bufferedBytes > 0) {
      // An acknowledgement of everything held makes the reassembler skip its holes (as lost).
      const time: SegmentTime = { sec: p.frame.tsSec, nsec: p.frame.tsNsec, frame: p.frame.number };
      for (let before = -1; r.bufferedBytes > 0 && r.bufferedBytes !== before;) {
        before = r.bufferedBytes;
        r.acked(seqAdd(r.nextSeq, 0x7fffffff), time);
      }
      this.place(p, null);
    }
    this.gaveUp++;
    if (this.gaveUp === 1) {
      this.warn(`more than ${this.maxHeld} frames waited for bytes missing from TCP stream ${seg.conn.stream} (frame ${h.number} on): that hole is given up as lost`);
    }
    this.held.shift();
    this.end(h);
  }

  private end(h: Placement<E>): void {
    const claimed = h.claimed ?? (h.messages > 0 || (h.seg !== undefined && this.dispatcher!.protocolOf(h.seg.conn) != null));
    this.builder.end(h.record, claimed || h.messages > 0, h.protocols);
  }
}

/**
 * Adds m to what frame h's messages add to frame.protocols. tshark names a PDU reassembled from
 * earlier segments on its own; the PDUs lying whole in the segment are one call of the protocol's
 * dissector, named once per protocol. A layer with its own names (TLS certificates: x509sat, ...)
 * gives them.
 */
function name(h: Placement<unknown>, m: AppMessage): void {
  h.messages++;
  const own = (m.layer as Partial<ProtocolsLayer>).protocols ?? m.layer.dissector.protocols;
  const reassembled = m.firstFrame !== undefined && m.firstFrame < h.number;
  if (own !== '' && (reassembled || own !== h.last)) h.protocols = h.protocols ? h.protocols + ':' + own : own;
  h.last = reassembled ? '' : own;
}
