/**
 * HTTP/1.x as an application protocol over reassembled TCP streams (src/stream/app.ts): each
 * request and response that ends as its framing says becomes a message layer of the http
 * dissector, reported on the frame that completed it (tshark's default reassembly shows http.*
 * there); a malformed one on the frame where the damage is (tshark shows it there, marked
 * malformed). Messages cut by a gap or by the end of the connection are not reported: tshark never
 * completes their reassembly either; nor are messages with bytes captured out of order, which
 * tshark 4.0 does not reassemble (tcp.reassemble_out_of_order is off by default).
 * HttpConnectionParser's listeners (`wirescope http`) still see them all.
 */
import type { AppProtocol } from '../stream/app.js';
import { continuationLayer, messageLayer } from '../../dissectors/http.js';
import { HttpConnectionParser } from './parser.js';
import { FlaggedSegments } from '../stream/flagged.js';
import { LONGEST_METHOD_AND_SPACE, sniffHttp } from './message.js';

/**
 * Wireshark 4.0's TCP ports for HTTP (`tshark -G decodes`: 80, 631, 1900, 2710, 2869, 3128, 3132,
 * 3689, 5985, 8080, 8088, 11371) and 8000; any other port is recognised by sniff.
 */
export const HTTP_TCP_PORTS: readonly number[] = [80, 631, 1900, 2710, 2869, 3128, 3132, 3689, 5985, 8000, 8080, 8088, 11371];

export const httpProtocol: AppProtocol = {
  name: 'http',
  ports: HTTP_TCP_PORTS,
  sniff: sniffHttp,
  // Enough for the longest method and its space ("BASELINE-CONTROL "); any request line is longer.
  sniffBytes: LONGEST_METHOD_AND_SPACE,
  open(conn, emit) {
    const stream = conn.stream;
    const flagged = new FlaggedSegments(conn);
    // Whether the chunk being read came from a segment tshark hands to no dissector.
    let repeated = false;
    const parser = new HttpConnectionParser(stream, {
      message(m, time) {
        if ((!m.complete && !m.malformed) || m.missing > 0 || m.reordered) return;
        emit({ layer: messageLayer(m), stream, dir: m.dir, time, firstFrame: m.firstFrame });
      },
      continuation(dir, time, afterMessage) {
        if (!repeated) emit({ layer: continuationLayer(afterMessage), stream, dir, time, firstFrame: time.frame });
      },
    });
    return {
      chunk(c) {
        repeated = flagged.repeated(c);
        parser.chunk(c);
      },
      event: (e) => parser.event(e),
      complete: (dir, how, time) => parser.complete(dir, how, time),
    };
  },
};
