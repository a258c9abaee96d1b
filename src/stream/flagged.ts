/**
 * Which chunks of a connection come from segments tshark flags as a retransmission or out of order,
 * whose payload its TCP hands to no application dissector: the tracker analyses a segment before
 * the reassembler delivers its bytes. Bytes held behind a hole come later, with the frame that
 * brought them: those were not flagged. Used by the TLS and HTTP stream parsers.
 */
import { ANALYSIS, type Connection } from '../tcp/conntrack.js';
import type { StreamChunk } from '../tcp/reassembler.js';

/** tshark's analysis flags whose segments its TCP hands to no application dissector. */
const NOT_DISSECTED = ANALYSIS.RETRANSMISSION | ANALYSIS.FAST_RETRANSMISSION | ANALYSIS.SPURIOUS_RETRANSMISSION | ANALYSIS.OUT_OF_ORDER;

export class FlaggedSegments {
  constructor(private readonly conn: Connection) {}

  /** Whether chunk c came from a flagged segment. */
  repeated(c: StreamChunk): boolean {
    return c.time.frame === this.conn.lastFrame && (this.conn.ends[c.dir].aLastFlags & NOT_DISSECTED) !== 0;
  }
}
