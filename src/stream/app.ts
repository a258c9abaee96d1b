/**
 * Application protocols over reassembled TCP streams (TLS, HTTP, DNS over TCP).
 *
 * Dissectors stay stateless: an application protocol's stream parser (an AppProtocol) frames
 * messages out of a connection's reassembled bytes and decodes each with its dissector, which
 * yields an ordinary Layer (so -T fields, --json and frame.protocols read it like any other).
 * Each message is reported with the frame that completed it, as tshark shows a reassembled PDU
 * on the frame holding its last segment.
 */
import type { Dissector, Layer } from '../core/dissector.js';
import type { Connection } from '../tcp/conntrack.js';
import type { SegmentTime, StreamSink } from '../tcp/reassembler.js';

/** Protocol modules register themselves at import (src/stream/protocols.ts imports them all). */
export { registerAppProtocol } from './registry.js';

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
  /**
   * Frame number of the segment holding its first byte. When earlier than the frame completing it,
   * tshark shows a reassembled PDU, which gets its own entry in frame.protocols ("tcp:dns:dns" for a
   * reassembled message followed by whole ones); whole messages of one segment are named once.
   */
  readonly firstFrame?: number;
}

export interface AppProtocol {
  /** Protocol name, as in frame.protocols ('tls', 'http', 'dns'). */
  readonly name: string;
  /** TCP ports that select this protocol for a connection outright (either endpoint). */
  readonly ports: readonly number[];
  /**
   * Whether the first bytes of a direction look like this protocol (used on any other port). It
   * gets `sniffBytes` bytes (default 8), fewer only when the direction ended sooner.
   */
  sniff(first: Uint8Array): boolean;
  /** Bytes sniff() needs to decide (default 8); the dispatcher holds a direction's chunks until then. */
  readonly sniffBytes?: number;
  /**
   * The dissector of its messages, when it is bound to no dispatch table (so -T fields knows its
   * field names); a protocol whose dissector is bound needs none.
   */
  readonly dissector?: Dissector<any>;
  /** A parser of one connection's reassembled bytes, both directions; calls emit per message. */
  open(conn: Connection, emit: (m: AppMessage) => void): StreamSink;
}
