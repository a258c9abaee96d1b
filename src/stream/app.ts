/**
 * Application protocols over reassembled TCP streams (TLS, HTTP, DNS over TCP).
 *
 * Dissectors stay stateless: an application protocol's stream parser (an AppProtocol) frames
 * messages out of a connection's reassembled bytes and decodes each with its dissector, which
 * yields an ordinary Layer (so -T fields, --json and frame.protocols read it like any other).
 * Each message is reported with the frame that completed it, as tshark shows a reassembled PDU
 * on the frame holding its last segment.
 */
import type { Layer } from '../core/dissector.js';
import type { Connection } from '../tcp/conntrack.js';
import type { SegmentTime, StreamSink } from '../tcp/reassembler.js';

/** One application message decoded from a stream. */
export interface AppMessage {
  /** The decoded message (a Layer of the protocol's dissector). */
  readonly layer: Layer;
  /** tcp.stream of its connection. */
  readonly stream: number;
  /** Direction it travelled (0: from the connection's first endpoint). */
  readonly dir: 0 | 1;
  /** Time and frame number of the segment that completed it. */
  readonly time: SegmentTime;
}

export interface AppProtocol {
  /** Protocol name, as in frame.protocols ('tls', 'http', 'dns'). */
  readonly name: string;
  /** TCP ports that select this protocol for a connection outright (either endpoint). */
  readonly ports: readonly number[];
  /** Whether the first bytes of a direction look like this protocol (used on any other port). */
  sniff(first: Uint8Array): boolean;
  /** A parser of one connection's reassembled bytes, both directions; calls emit per message. */
  open(conn: Connection, emit: (m: AppMessage) => void): StreamSink;
}
