/**
 * The HTTP/1.x transactions of a capture file (`wirescope http`): every connection on an HTTP port
 * (HTTP_TCP_PORTS) or whose first bytes look like HTTP (sniffHttp) is parsed by an
 * HttpConnectionParser; each request becomes a row with the response paired to it, and each
 * response without a known request a row of its own.
 */
import { trackFile } from '../tcp/conns.js';
import type { Connection, ConnTrackOptions } from '../tcp/conntrack.js';
import type { SegmentTime, StreamChunk, StreamEvent, StreamSink } from '../tcp/reassembler.js';
import { endpointText } from '../tcp/flow-key.js';
import type { CaptureFileError } from '../pcap/reader.js';
import { HttpConnectionParser } from './parser.js';
import { headerValue, sniffHttp, type HttpMessage } from './message.js';
import { HTTP_TCP_PORTS, httpProtocol } from './stream.js';

/**
 * A connection's bytes go to an HTTP parser when one of its ports is an HTTP port or its first
 * chunk (either direction) sniffs as HTTP; otherwise they are dropped.
 */
export class HttpSelector implements StreamSink {
  private parser: StreamSink | null = null;
  private decided = false;
  /** `open` makes the connection's HTTP parser once the connection is taken as HTTP. */
  constructor(conn: Connection, private readonly open: () => StreamSink) {
    const [a, b] = conn.ends;
    if (HTTP_TCP_PORTS.includes(a.port) || HTTP_TCP_PORTS.includes(b.port)) this.use();
  }

  private use(): void {
    this.decided = true;
    this.parser = this.open();
  }

  chunk(c: StreamChunk): void {
    if (!this.decided) {
      // The same bytes the stream dispatcher sniffs (src/stream/registry.ts), so both take the same connections.
      if (sniffHttp(c.bytes.subarray(0, httpProtocol.sniffBytes))) this.use();
      else this.decided = true;
    }
    if (this.parser !== null) this.parser.chunk(c);
  }

  event(e: StreamEvent): void {
    if (this.parser !== null) this.parser.event(e);
  }

  complete(dir: 0 | 1, how: 'fin' | 'rst' | 'end', time: SegmentTime | null): void {
    if (this.parser !== null) this.parser.complete(dir, how, time);
  }
}

/** One row of `wirescope http`. */
export interface HttpTransaction {
  stream: number;
  /** Client and server as address.port (the request's sender first; for a lone response, its receiver). */
  client: string;
  server: string;
  method: string | null;
  host: string | null;
  uri: string | null;
  status: number | null;
  reason: string | null;
  /** Interim (1xx) status codes seen before the final response. */
  interim: number[];
  /** Bytes of the request and of the response (head and body as sent), null when not seen. */
  requestBytes: number | null;
  responseBytes: number | null;
  /** Frames that completed the request and the response. */
  requestFrame: number | null;
  responseFrame: number | null;
  /** Seconds from the request's last byte to the response's first byte, and to its last byte (tshark's http.time). */
  firstByteTime: number | null;
  responseTime: number | null;
  /** The request or response ended before its framing said (gap, end of connection). */
  incomplete: boolean;
}

export interface HttpTable {
  rows: HttpTransaction[];
  frames: number;
  error: CaptureFileError | null;
  evicted: number;
}

function ns(s: number): number {
  return Math.round(s * 1e9) / 1e9;
}

function row(conn: Connection, req: HttpMessage | null, resp: HttpMessage | null): HttpTransaction {
  const ends = conn.ends;
  const clientDir = req !== null ? req.dir : ((1 - resp!.dir) as 0 | 1);
  return {
    stream: conn.stream,
    client: endpointText(ends[clientDir].addr, ends[clientDir].port),
    server: endpointText(ends[1 - clientDir].addr, ends[1 - clientDir].port),
    method: req?.method ?? null,
    host: req !== null ? headerValue(req.headers, 'host') ?? null : null,
    uri: req?.uri ?? null,
    status: resp?.status ?? null,
    reason: resp?.reason ?? null,
    interim: req !== null ? req.interim.map((m) => m.status) : [],
    requestBytes: req !== null ? req.headLen + req.bodyLen : null,
    responseBytes: resp !== null ? resp.headLen + resp.bodyLen : null,
    requestFrame: req?.lastFrame ?? null,
    responseFrame: resp?.lastFrame ?? null,
    firstByteTime: req !== null && resp !== null ? ns(resp.firstTime - req.lastTime) : null,
    responseTime: req !== null && resp !== null ? ns(resp.lastTime - req.lastTime) : null,
    incomplete: (req !== null && !req.complete) || (resp !== null && !resp.complete),
  };
}

/**
 * The HTTP transactions of a capture, in the order their requests (or lone responses) began;
 * with a filter, those of connections with a frame it selects.
 */
export function httpTransactions(file: string, filter = '', opts: ConnTrackOptions = {}): HttpTable {
  const conns = new Map<number, Connection>();
  /** Requests and lone responses in order of their first byte, with the connection they came on. */
  const started: Array<{ conn: Connection; m: HttpMessage }> = [];
  const seen = new Set<HttpMessage>();
  const picked = new Set<number>();
  const res = trackFile(file, {
    ...opts,
    filter,
    sink: (c) => {
      conns.set(c.stream, c);
      return new HttpSelector(c, () => new HttpConnectionParser(c.stream, {
        message(m) {
          if (m.isRequest) {
            if (!seen.has(m)) { seen.add(m); started.push({ conn: c, m }); }
          } else if (m.peer === null || !m.peer.isRequest) {
            // Interim and paired responses are shown with their request.
            if (m.status < 100 || m.status >= 200) started.push({ conn: c, m });
          }
        },
      }));
    },
    onFrame: filter.trim() === '' ? undefined : (selected, t) => {
      if (selected) for (const s of t.streams) if (s >= 0) picked.add(s);
      return true;
    },
  });
  started.sort((x, y) => x.m.firstFrame - y.m.firstFrame || x.conn.stream - y.conn.stream);
  const rows: HttpTransaction[] = [];
  for (const { conn, m } of started) {
    if (filter.trim() !== '' && !picked.has(conn.stream)) continue;
    rows.push(m.isRequest ? row(conn, m, m.peer) : row(conn, null, m));
  }
  return { rows, frames: res.frames, error: res.error, evicted: res.tracker.evicted };
}
