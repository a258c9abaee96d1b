/**
 * The packet as tshark's tree shows it once TCP is tracked: what -T fields and --json read.
 *
 * StreamView runs a ConnTracker over the packets (in input order) and, with application protocols,
 * reassembles each connection and hands its bytes to the AppDispatcher. On a segment of a
 * connection an application protocol reads, the frame's own layers above TCP (a per-segment
 * decode, or bare data) give way to the messages the frame completed, as tshark shows a
 * reassembled PDU on the frame holding its last segment and nothing on the segments before it.
 * The messages hang below the TCP layer in an AppLayers layer (the nesting convention of
 * src/output/frame-fields.ts: each message is a packet of its own bytes), so field occurrences,
 * frame.protocols and JSON walk them in tree order.
 */
import { Layer, makeLayer, Packet, type Dissector } from '../core/dissector.js';
import { TcpLayer } from '../../dissectors/tcp.js';
import { ConnTracker, type TrackedSegment } from '../tcp/conntrack.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../tcp/reassembler.js';
import type { AppMessage } from './app.js';
import { AppDispatcher } from './registry.js';

/** The application messages a frame completed, nested below its TCP layer. */
export class AppLayers extends Layer {
  /** One packet per message, each over the message's own bytes. */
  nested: Packet[] = [];
  /** The messages, in order. */
  messages: AppMessage[] = [];
  /** What the messages add to frame.protocols (see appLayers). */
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

export interface StreamViewOptions {
  /** Reassemble and decode application protocols (else only stream numbers and sequence analysis). */
  apps: boolean;
}

export class StreamView {
  readonly tracker: ConnTracker;
  readonly dispatcher: AppDispatcher | null;

  constructor(opts: StreamViewOptions) {
    this.dispatcher = opts.apps ? new AppDispatcher() : null;
    // No window of delivered bytes kept to report conflicting retransmissions: these views do not
    // show them, and 16 KiB per connection adds up over a capture's connections.
    const limits = { ...DEFAULT_REASSEMBLY_LIMITS, conflictWindow: 0 };
    this.tracker = new ConnTracker(this.dispatcher !== null ? { sink: this.dispatcher.sink, limits } : {});
  }

  /** Tracks p (after IP defragmentation) and returns it as tshark's tree shows it: p itself or a view of it. */
  push(p: Packet): Packet {
    this.tracker.push(p);
    const d = this.dispatcher;
    if (d === null) return p;
    const messages = d.take();
    const layers = p.layers;
    let tcp = -1;
    for (let i = 0; i < layers.length; i++) {
      if (layers[i] instanceof TcpLayer) {
        tcp = i;
        break;
      }
    }
    if (tcp < 0) return p;
    const seg = this.segmentOf(layers[tcp] as TcpLayer);
    const claimed = seg !== undefined && d.protocolOf(seg.conn) != null;
    if (messages.length === 0) {
      // Nothing above TCP to hide: a pure ACK needs no view.
      if (!claimed || (tcp === layers.length - 1 && p.payloadOf(layers[tcp]).length === 0)) return p;
    }
    const view = new Packet(p.frame, p.buf);
    for (let i = 0; i <= tcp; i++) view.layers.push(layers[i]);
    view.layers.push(appLayers(p, messages));
    return view;
  }

  /** The tracker's record of TCP layer l of the last packet pushed (undefined: l carried no analysed segment). */
  segmentOf(l: TcpLayer): TrackedSegment | undefined {
    const segs = this.tracker.segments;
    for (let k = 0; k < segs.length; k++) if (segs[k].tcp === l) return segs[k];
    return undefined;
  }

  /** End of input: flushes reassembly (messages completed only now belong to no frame and are dropped). */
  finish(): void {
    this.tracker.finish();
    this.dispatcher?.take();
  }
}

function appLayers(p: Packet, messages: AppMessage[]): AppLayers {
  const a = makeLayer(appLayersDissector);
  a.buf = p.buf;
  a.messages = messages;
  const frame = p.frame.number;
  let names = '';
  let last = '';
  for (const m of messages) {
    const q = new Packet(p.frame, m.layer.buf);
    q.layers.push(m.layer);
    a.nested.push(q);
    // tshark names a PDU reassembled from earlier segments on its own; the PDUs lying whole in this
    // segment are one call of the protocol's dissector, named once per protocol.
    const name = m.layer.dissector.protocols;
    const reassembled = m.firstFrame !== undefined && m.firstFrame < frame;
    if (name !== '' && (reassembled || name !== last)) names = names ? names + ':' + name : name;
    last = reassembled ? '' : name;
  }
  a.protocols = names;
  return a;
}
