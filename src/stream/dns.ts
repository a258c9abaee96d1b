/**
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766) as an application protocol: each direction is a run of
 * messages, each after a two-byte length. Messages may span segments and segments may hold several;
 * each whole message is decoded by the DNS dissector (dissectors/dns.ts) into a layer of its own
 * bytes, reported with the chunk that completed it. Ports 53 and 5353, as tshark's DNS over TCP
 * (no sniffing on other ports: tshark has no DNS-over-TCP heuristic either).
 *
 * After a gap the direction's message boundaries are lost: the partial message is dropped and the
 * next delivered byte is taken as the start of a length prefix.
 */
import { decodeChain, Packet, type Dissector } from '../core/dissector.js';
import { ByteView } from '../core/view.js';
import type { Frame } from '../core/frame.js';
import { DNS_PORT, dnsTcp, MDNS_PORT, TCP_PREFIX_LEN } from '../../dissectors/dns.js';
import type { Connection } from '../tcp/conntrack.js';
import type { SegmentTime, StreamChunk, StreamEvent, StreamSink } from '../tcp/reassembler.js';
import type { AppMessage, AppProtocol } from './app.js';
import { registerAppProtocol } from './registry.js';

/** The bytes of one direction not yet made into messages. */
class Direction {
  /** Held bytes: buf[0, len). */
  buf = new Uint8Array(0);
  len = 0;
  /** Frame that brought buf[0]. */
  firstFrame = 0;

  append(b: Uint8Array): void {
    if (this.len + b.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.len + b.length, this.buf.length * 2, 512));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Drops the first n held bytes. */
  consume(n: number): void {
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
  }

  reset(): void {
    this.buf = new Uint8Array(0);
    this.len = 0;
  }
}

/** One connection's DNS messages, both directions. */
export class DnsTcpParser implements StreamSink {
  private readonly dirs: [Direction, Direction] = [new Direction(), new Direction()];

  constructor(private readonly conn: Connection, private readonly emit: (m: AppMessage) => void) {}

  chunk(c: StreamChunk): void {
    const d = this.dirs[c.dir];
    let bytes = c.bytes;
    // Whole messages straight from the chunk when nothing is held (the common case: no copy kept).
    while (d.len === 0 && bytes.length >= TCP_PREFIX_LEN) {
      const total = TCP_PREFIX_LEN + ((bytes[0] << 8) | bytes[1]);
      if (bytes.length < total) break;
      this.message(bytes.subarray(0, total), c.dir, c.time, c.time.frame);
      bytes = bytes.subarray(total);
    }
    if (bytes.length === 0) return;
    if (d.len === 0) d.firstFrame = c.time.frame;
    d.append(bytes);
    while (d.len >= TCP_PREFIX_LEN) {
      const total = TCP_PREFIX_LEN + ((d.buf[0] << 8) | d.buf[1]);
      if (d.len < total) break;
      this.message(d.buf.subarray(0, total), c.dir, c.time, d.firstFrame);
      d.consume(total);
      // What follows came with this chunk.
      d.firstFrame = c.time.frame;
    }
    if (d.len === 0 && d.buf.length > 4096) d.reset();
  }

  event(e: StreamEvent): void {
    if (e.type === 'gap') this.dirs[e.dir].reset();
  }

  complete(dir: 0 | 1): void {
    this.dirs[dir].reset();
  }

  /** Decodes one length-prefixed message (copied: chunk bytes are valid during the call only). */
  private message(bytes: Uint8Array, dir: 0 | 1, time: SegmentTime, firstFrame: number): void {
    const own = bytes.slice();
    const frame: Frame = {
      number: time.frame, linkType: -1, tsSec: time.sec, tsNsec: time.nsec, capLen: own.length, origLen: own.length, data: own, ifIndex: 0,
    };
    const p = new Packet(frame, own);
    decodeChain(p, dnsTcp as Dissector, ByteView.of(own), own.length);
    this.emit({ layer: p.layers[0], stream: this.conn.stream, dir, time, firstFrame });
  }
}

export const dnsOverTcp: AppProtocol = {
  name: 'dns',
  ports: [DNS_PORT, MDNS_PORT],
  sniff: () => false,
  open: (conn, emit) => new DnsTcpParser(conn, emit),
};

registerAppProtocol(dnsOverTcp);
