/**
 * TLS over a reassembled TCP stream: frames records out of each direction's bytes the way tshark
 * 4.0's TCP desegmentation hands them to its TLS dissector, and decodes each hand-over (one
 * "Transport Layer Security" tree, one TlsLayer) with the connection's TlsSession.
 *
 * tshark's rules, kept because -T fields and frame.protocols show them:
 * - a segment is dissected from its first byte unless it continues a pending PDU; every complete
 *   record in it is decoded, and a record it only starts leaves a PDU pending (the call still makes
 *   an empty tree: tshark lists "tls" on that frame);
 * - a pending PDU whose record header was complete waits for exactly the bytes it needs: the
 *   segment completing it is decoded as that PDU, and the rest of the segment as a second call;
 * - a pending PDU whose header was cut (under 5 bytes) takes the whole next segment into one call.
 * A hole in the stream loses the pending PDU, and with it the bytes after the hole up to that PDU's
 * end (tshark files them under the PDU, which never completes); the next segment starts afresh.
 * A segment tshark flags as a retransmission or out of order is not read at all, as in tshark (its
 * bytes count as lost): which one that is, the parser infers from the tracker's counters.
 * A hand-over of more than 4 bytes whose first 4 are printable ASCII is refused (dissect_ssl takes
 * it for plaintext): tshark shows those bytes as data, and nothing is left pending.
 * Memory: at most one record (64 KiB + header) pending per direction, and one handshake message
 * carried between records (see dissectors/tls.ts).
 */
import { Layer, makeLayer, type Dissector } from '../core/dissector.js';
import { ByteView } from '../core/view.js';
import { ContentType, decodeTls, GMTLS, tls, TlsSession, type TlsLayer } from '../../dissectors/tls.js';
import type { Connection } from '../tcp/conntrack.js';
import { FlaggedSegments } from '../stream/flagged.js';
import { seqAdd, seqDiff } from '../tcp/seq.js';
import type { SegmentTime, StreamChunk, StreamEvent, StreamSink } from '../tcp/reassembler.js';
import type { AppMessage, AppProtocol } from '../stream/app.js';
import { registerAppProtocol } from '../stream/registry.js';

/** TCP ports tshark 4.0 decodes as TLS outright (`tshark -G decodes`, table tcp.port). */
export const TLS_PORTS: readonly number[] = [
  324, 443, 465, 636, 802, 853, 993, 995, 1300, 2221, 2443, 3249, 3250, 3251, 3252, 3496, 5061, 5671, 5684, 5868,
  8883, 11207, 19999, 27017,
];

/** Longest record tshark's heuristic accepts (TLS_MAX_RECORD_LENGTH + 2048, exclusive). */
const MAX_SNIFFED_RECORD = 0x4000 + 2048;

/**
 * tshark's heuristic for TLS on other ports (dissect_ssl_heur): a Handshake or Application Data
 * record of SSL 3.0 to TLS 1.2 (or GM/T) with a plausible length, or an SSLv2-compatible
 * ClientHello (two-byte header, cipher specs a non-zero multiple of 3, session id of 0 or 16
 * bytes, 32-byte challenge).
 */
export function looksLikeTls(first: Uint8Array): boolean {
  if (first.length >= 5 && (first[0] === ContentType.Handshake || first[0] === ContentType.ApplicationData)) {
    const version = (first[1] << 8) | first[2];
    const len = (first[3] << 8) | first[4];
    return ((version >= 0x0300 && version <= 0x0303) || version === GMTLS) && len > 0 && len < MAX_SNIFFED_RECORD;
  }
  if (first.length < SNIFF_BYTES || first[0] !== 0x80 || first[2] !== 1) return false;
  const specLen = (first[5] << 8) | first[6];
  const sidLen = (first[7] << 8) | first[8];
  return specLen !== 0 && specLen % 3 === 0 && (sidLen === 0 || sidLen === 16) && ((first[9] << 8) | first[10]) === 32;
}

/** Bytes sniffing needs: the SSLv2 hello's fields up to its challenge length. */
const SNIFF_BYTES = 11;

/**
 * Bytes tshark's TLS dissector refused (see refused()): its TCP shows them as "data". A layer of
 * its own, so that frame.protocols and --json name it as tshark does.
 */
export const refusedData: Dissector<Layer> = {
  name: 'data',
  protocols: 'data',
  create: () => new Layer(),
  decode: () => {},
  print: () => {},
  json: (l) => ({ length: l.length }),
};

/** dissect_ssl's first test: more than 4 bytes, the first 4 printable ASCII, look like plaintext, not TLS. */
function refused(b: Uint8Array): boolean {
  return b.length > 4 && isPrint(b[0]) && isPrint(b[1]) && isPrint(b[2]) && isPrint(b[3]);
}

function isPrint(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/** One direction's PDU waiting for more bytes. */
class Pending {
  /** Bytes held; for an exact need, allocated at its full length and filled up to `have`. */
  bytes: Uint8Array = EMPTY;
  have = 0;
  /** Total bytes the PDU needs, or -1: the whole next segment (header cut). */
  need = -1;
  active = false;
  /** Sequence number of the PDU's first byte, and the frame that brought it. */
  seq = 0;
  frame = 0;
  /** After a hole inside a PDU: bytes before this sequence number belong to the lost PDU. */
  skipping = false;
  skipTo = 0;

  hold(b: Uint8Array, need: number, seq: number, frame: number): void {
    this.active = true;
    this.seq = seq;
    this.frame = frame;
    this.need = need;
    if (need > 0) {
      this.bytes = new Uint8Array(need);
      this.bytes.set(b);
    } else this.bytes = b.slice();
    this.have = b.length;
  }

  clear(): void {
    this.active = false;
    this.need = -1;
    this.bytes = EMPTY;
    this.have = 0;
  }
}

const EMPTY = new Uint8Array(0);

/** The TLS reader of one connection (both directions). */
export class TlsStreamParser implements StreamSink {
  readonly session = new TlsSession();
  private readonly pending: [Pending, Pending] = [new Pending(), new Pending()];
  private readonly flagged: FlaggedSegments;

  constructor(private readonly conn: Connection, private readonly emit: (m: AppMessage) => void) {
    this.flagged = new FlaggedSegments(conn);
  }

  chunk(c: StreamChunk): void {
    if (this.flagged.repeated(c)) {
      this.lose(c.dir);
      return;
    }
    const p = this.pending[c.dir];
    let data = c.bytes;
    let seq = c.seq;
    if (p.skipping) {
      const lost = seqDiff(p.skipTo, seq);
      if (lost >= data.length) return;
      p.skipping = false;
      if (lost > 0) {
        data = data.subarray(lost);
        seq = p.skipTo;
      }
    }
    if (p.active) {
      if (p.need < 0) {
        const joined = new Uint8Array(p.have + data.length);
        joined.set(p.bytes.subarray(0, p.have));
        joined.set(data, p.have);
        const joinedSeq = p.seq;
        const firstFrame = p.frame;
        p.clear();
        this.call(c.dir, joined, joinedSeq, c.time, firstFrame);
        return;
      }
      const take = Math.min(p.need - p.have, data.length);
      p.bytes.set(data.subarray(0, take), p.have);
      p.have += take;
      if (p.have < p.need) return;
      const pdu = p.bytes;
      const pduSeq = p.seq;
      const firstFrame = p.frame;
      p.clear();
      this.call(c.dir, pdu, pduSeq, c.time, firstFrame);
      data = data.subarray(take);
      seq = seqAdd(seq, take);
      if (data.length === 0) return;
    }
    // The layer keeps its bytes: chunks may be the capture's reused buffer.
    this.call(c.dir, data.slice(), seq, c.time, c.time.frame);
  }

  event(e: StreamEvent): void {
    if (e.type === 'gap') this.lose(e.dir);
  }

  /** Bytes of a direction were lost (a hole) or are not to be read (a repeated segment). */
  private lose(dir: 0 | 1): void {
    const p = this.pending[dir];
    // tshark files segments inside a pending PDU's range under that PDU, which the hole leaves
    // incomplete: they are never dissected. A PDU waiting for "one more segment" ends at the hole.
    if (p.active && p.need > 0) {
      p.skipping = true;
      p.skipTo = seqAdd(p.seq, p.need);
    }
    p.clear();
    this.session.carry[dir] = null;
  }

  complete(dir: 0 | 1): void {
    this.pending[dir].clear();
    this.session.carry[dir] = null;
  }

  /**
   * One hand-over to the TLS dissector: decodes buf (owned by the layer; its first byte at seq,
   * brought by frame firstFrame) and emits it.
   */
  private call(dir: 0 | 1, buf: Uint8Array, seq: number, time: SegmentTime, firstFrame: number): void {
    if (refused(buf)) {
      const d = makeLayer(refusedData);
      d.buf = buf;
      d.off = 0;
      d.length = buf.length;
      this.emit({ layer: d, stream: this.conn.stream, dir, time, firstFrame });
      return;
    }
    const l: TlsLayer = makeLayer(tls);
    l.buf = buf;
    l.off = 0;
    l.length = buf.length;
    l.dir = dir;
    l.frameNo = time.frame;
    l.session = this.session;
    decodeTls(l, ByteView.of(buf));
    if (l.partialAt >= 0) this.pending[dir].hold(buf.subarray(l.partialAt), l.partialNeed, seqAdd(seq, l.partialAt), time.frame);
    this.emit({ layer: l, stream: this.conn.stream, dir, time, firstFrame });
  }
}

export const tlsProtocol: AppProtocol = {
  name: 'tls',
  ports: TLS_PORTS,
  sniff: looksLikeTls,
  sniffBytes: SNIFF_BYTES,
  open: (conn, emit) => new TlsStreamParser(conn, emit),
};

registerAppProtocol(tlsProtocol);
