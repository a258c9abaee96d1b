/**
 * HTTP/1.x. Two kinds of layer, one dissector:
 * - a segment layer, bound to tcpdump's HTTP ports (80 and 8080): the payload of one TCP segment,
 *   printed as tcpdump 4.99 prints it (print-http.c over util-print.c's txtproto_print: ": HTTP",
 *   then the request or status line, or with -v every printable line). It holds no HTTP fields
 *   and adds nothing to frame.protocols: tshark shows HTTP only on reassembled messages.
 * - a message layer, made by the stream parser (src/http/stream.ts) for each request or response
 *   framed out of a reassembled connection, reported on the frame that completed the message as
 *   tshark does with its default reassembly: it carries the http.* fields and the JSON view.
 * SSDP (HTTP over UDP port 1900) has a dissector of its own, `ssdp`: one message per datagram, with
 * the http.* fields, named "ssdp" in frame.protocols as tshark names it; tcpdump has no printer for it.
 */
import { bind, Layer, makeLayer, Table, type Dissector, type FieldValue, type Packet } from '../src/core/dissector.js';
import { ByteView } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { contentLength, headerValue, headerValues, parseHead, type HttpMessage } from '../src/http/message.js';
import { TcpLayer } from './tcp.js';
import { networkIndex, putUdpLength } from './udp.js';
import { formatTimeDiff } from '../src/output/frame-fields.js';

/** SSDP's UDP port (tshark's ssdp: its HTTP dissector on UDP). */
export const SSDP_PORT = 1900;

/** tcpdump's HTTP_PORT and HTTP_PORT_ALT. */
export const HTTP_PORT = 80;
export const HTTP_PORT_ALT = 8080;

/**
 * Ports tcpdump's TCP printer tests before HTTP's (telnet, smtp, whois, bgp, pptp, redis, ssh,
 * netbios-ssn, smb, beep, openflow, ftp): a segment with one of them is not printed as HTTP.
 */
const PORTS_BEFORE_HTTP = new Set([23, 25, 43, 179, 1723, 6379, 22, 139, 445, 10288, 6633, 6653, 21]);

export class HttpLayer extends Layer {
  /** The framed message (message layers), or null for a segment layer. */
  msg: HttpMessage | null = null;
  /** Captured payload bytes of a segment layer. */
  capLen = 0;
  /** This layer's part of frame.protocols (see src/output/frame-fields.ts): none for a segment. */
  protocols = '';
  /** Bytes of a stream where a message should start but none does (Wireshark's "Continuation"). */
  continuation = false;
}

const EMPTY = new Uint8Array(0);

/** tcpdump's httpcmds (WebDAV included), matched without regard to case. */
const TCPDUMP_HTTP_COMMANDS = new Set([
  'GET', 'PUT', 'COPY', 'HEAD', 'LOCK', 'MOVE', 'POLL', 'POST', 'BCOPY', 'BMOVE', 'MKCOL', 'TRACE', 'LABEL', 'MERGE',
  'DELETE', 'SEARCH', 'UNLOCK', 'REPORT', 'UPDATE', 'NOTIFY', 'BDELETE', 'CONNECT', 'OPTIONS', 'CHECKIN', 'PROPFIND',
  'CHECKOUT', 'CCM_POST', 'SUBSCRIBE', 'PROPPATCH', 'BPROPFIND', 'BPROPPATCH', 'UNCHECKOUT', 'MKACTIVITY',
  'MKWORKSPACE', 'UNSUBSCRIBE', 'RPC_CONNECT', 'VERSION-CONTROL', 'BASELINE-CONTROL',
]);

/** tcpdump's MAX_TOKEN: longer tokens are not commands or codes. */
const MAX_TOKEN = 128;

function isPrint(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

/**
 * The txtproto_print state for one segment: the bytes, the claimed length `len` and the captured
 * end. `token` is the last token fetched (fetch_token's buffer).
 */
class TextScan {
  token = '';
  constructor(readonly b: Uint8Array, readonly start: number, readonly len: number, readonly capEnd: number) {}

  /** fetch_token: the index after the token and the blanks after it, or 0 for no token. */
  fetchToken(idx: number): number {
    const b = this.b;
    const s = this.start;
    let tok = '';
    for (; idx < this.len; idx++) {
      if (s + idx >= this.capEnd) return 0;
      const c = b[s + idx];
      if (c >= 0x80) return 0;
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
      if (!isPrint(c)) return 0;
      if (tok.length + 2 > MAX_TOKEN + 1) return 0;
      tok += String.fromCharCode(c);
    }
    if (tok.length === 0) return 0;
    this.token = tok;
    for (; idx < this.len; idx++) {
      if (s + idx >= this.capEnd) break;
      const c = b[s + idx];
      // Only spaces are skipped: a tab is not "printable" to tcpdump, so it stops the skip too.
      if (c !== 0x20) break;
    }
    return idx;
  }

  /**
   * print_txt_line: prints the line at idx after `prefix` when it is printable text ending in LF
   * or CRLF (or at len, marked truncated); returns the next line's index, 0 when there is none, -1 when it read past
   * the captured bytes (tcpdump's truncation longjmp).
   */
  printLine(out: TextOut, prefix: string, idx: number): number {
    const b = this.b;
    const s = this.start;
    const from = idx;
    let lineEnd: number;
    for (;;) {
      if (idx >= this.len) {
        // Printable to the end without a line ending: tcpdump 4.99.3 calls that truncated.
        out.s += prefix + latin1(b, s + from, s + idx);
        out.trunc('http');
        return 0;
      }
      if (s + idx >= this.capEnd) return -1;
      const c = b[s + idx];
      if (c === 0x0a) { lineEnd = idx; idx++; break; }
      if (c === 0x0d) {
        if (idx + 1 >= this.len) return 0;
        if (s + idx + 1 >= this.capEnd) return -1;
        if (b[s + idx + 1] === 0x0a) { lineEnd = idx; idx += 2; break; }
        return 0;
      }
      if (!isPrint(c) && c !== 0x09) return 0;
      idx++;
    }
    out.s += prefix + latin1(b, s + from, s + lineEnd);
    return idx;
  }
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]);
  return out;
}

/** tcpdump's http_print for one segment's payload (after its ": "). */
function printSegment(out: TextOut, v: ByteView, len: number): void {
  const scan = new TextScan(v.buf, v.start, len, v.end);
  let printThis = false;
  let idx = scan.fetchToken(0);
  if (idx !== 0) {
    if (TCPDUMP_HTTP_COMMANDS.has(scan.token.toUpperCase())) printThis = true;
    // RESP_CODE_SECOND_TOKEN: the status code is the second token.
    idx = scan.fetchToken(idx);
    if (idx !== 0) {
      const t = scan.token;
      if (t.length === 3 && isDigit(t.charCodeAt(0)) && isDigit(t.charCodeAt(1)) && isDigit(t.charCodeAt(2))) printThis = true;
    }
  }
  out.s += 'HTTP';
  if (!printThis) return;
  if (out.opts.v) {
    out.s += ', length: ' + len;
    let eol = 0;
    for (idx = 0; idx < len; idx = eol) {
      eol = scan.printLine(out, '\n\t', idx);
      if (eol <= 0) break;
    }
    if (eol < 0) out.truncJump('http');
  } else if (scan.printLine(out, ': ', 0) < 0) out.truncJump('http');
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Wireshark's media-type dissector for a body of this Content-Type (its part of frame.protocols). */
function mediaProtocol(contentType: string | undefined): string {
  if (contentType === undefined) return 'data';
  let t = contentType;
  const semi = t.indexOf(';');
  if (semi >= 0) t = t.slice(0, semi);
  t = t.trim().toLowerCase();
  switch (t) {
    case 'text/xml': case 'application/xml': return 'xml';
    case 'application/json': return 'json';
    case 'application/x-www-form-urlencoded': return 'urlencoded-form';
    case 'image/gif': return 'image-gif';
    case 'image/jpeg': return 'image-jfif';
    case 'image/png': return 'png';
    case 'message/rfc822': return 'imf';
    // tshark 4.0 shows an octet-stream body as data, not as a media type.
    case 'application/octet-stream': return 'data';
    case 'application/javascript': case 'application/x-javascript': return 'data-text-lines';
  }
  return t.startsWith('text/') ? 'data-text-lines' : 'media';
}

/** A message layer of the http dissector for a framed message. */
export function messageLayer(m: HttpMessage): HttpLayer {
  const l = makeLayer(http);
  l.buf = EMPTY;
  l.off = 0;
  l.length = m.headLen + m.bodyLen;
  l.msg = m;
  l.protocols = m.contentLen > 0 ? 'http:' + bodyProtocols(m) : 'http';
  return l;
}

/**
 * What a body adds to frame.protocols: its media type's dissector; for a multipart body Wireshark's
 * mime_multipart, then each part's (data when it has no type or one without a dissector).
 */
function bodyProtocols(m: HttpMessage): string {
  if (m.parts === null) return mediaProtocol(headerValue(m.headers, 'content-type'));
  let s = 'mime_multipart';
  for (const t of m.parts) {
    const p = t === '' ? 'data' : mediaProtocol(t);
    s += p === 'media' ? ':data' : ':' + p;
  }
  return s;
}

/**
 * A continuation layer: Wireshark's HTTP shows such bytes as data, in a new "http" unless a message
 * began earlier in the same call (afterMessage).
 */
export function continuationLayer(afterMessage: boolean): HttpLayer {
  const l = makeLayer(http);
  l.buf = EMPTY;
  l.off = 0;
  l.continuation = true;
  l.protocols = afterMessage ? 'data' : 'http:data';
  return l;
}

function requestField(l: HttpLayer, get: (m: HttpMessage) => FieldValue): FieldValue {
  const m = l.msg;
  return m !== null && m.isRequest ? get(m) : undefined;
}

function responseField(l: HttpLayer, get: (m: HttpMessage) => FieldValue): FieldValue {
  const m = l.msg;
  return m !== null && !m.isRequest ? get(m) : undefined;
}

/**
 * tshark's full URI of a request: an absolute URI (http:// or https://, any case) or a CONNECT's
 * authority as sent; any other ("/path", SSDP's "*") after "http://" and the Host. Without Host
 * there is none (http.request.full_uri), or the URI itself (http.response_for.uri): `bare`.
 */
function fullUri(m: HttpMessage, bare: boolean): string | undefined {
  const u = m.uri;
  if (m.method === 'CONNECT' || hasPrefixIgnoringCase(u, 'http://') || hasPrefixIgnoringCase(u, 'https://')) return u;
  const host = headerValue(m.headers, 'host');
  return host !== undefined ? 'http://' + host.trim() + u : bare ? u : undefined;
}

function hasPrefixIgnoringCase(s: string, prefix: string): boolean {
  return s.length >= prefix.length && s.slice(0, prefix.length).toLowerCase() === prefix;
}

/** A response's link to its request, when the request was complete before the response began (tshark's). */
function answered(m: HttpMessage): HttpMessage | null {
  return m.requestFrame > 0 ? m.peer : null;
}

/** A layer's captured bytes as decoded, then the payload encoded above it (none for a built layer). */
function ownBytesThen(l: HttpLayer, payload: Uint8Array): Uint8Array {
  if (l.buf === undefined) return payload;
  const own = l.buf.subarray(l.off, l.off + l.capLen);
  if (payload.length === 0) return own.slice();
  const out = new Uint8Array(own.length + payload.length);
  out.set(own);
  out.set(payload, own.length);
  return out;
}

/**
 * Header fields tshark names (packet-http.c's headers[] table, those checked on the corpus):
 * field name → header name, lower case.
 */
const HEADER_FIELDS: ReadonlyArray<[string, string]> = [
  ['http.host', 'host'], ['http.user_agent', 'user-agent'], ['http.content_type', 'content-type'], ['http.server', 'server'],
  ['http.connection', 'connection'], ['http.accept', 'accept'], ['http.referer', 'referer'], ['http.location', 'location'],
  ['http.cookie', 'cookie'], ['http.set_cookie', 'set-cookie'], ['http.transfer_encoding', 'transfer-encoding'],
  ['http.accept_encoding', 'accept-encoding'], ['http.accept_language', 'accept-language'], ['http.cache_control', 'cache-control'],
  ['http.last_modified', 'last-modified'], ['http.date', 'date'], ['http.content_encoding', 'content-encoding'],
  ['http.upgrade', 'upgrade'],
];

function headerField(l: HttpLayer, name: string): FieldValue {
  const m = l.msg;
  if (m === null) return undefined;
  const vs = headerValues(m.headers, name);
  return vs.length === 0 ? undefined : vs.length === 1 ? vs[0] : vs;
}

export const http: Dissector<HttpLayer> = {
  name: 'http',
  protocols: 'http',
  create: () => new HttpLayer(),

  decode(l, v) {
    // The whole payload is this layer's: nothing is handed on, and nothing is left over as data.
    l.capLen = v.length;
    l.hdrLen = l.length;
    l.payloadLen = 0;
    l.truncated = v.length < l.length;
  },

  encode(l, payload) {
    return l.msg !== null ? payload : ownBytesThen(l, payload);
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as HttpLayer;
    if (l.msg !== null) return;
    const tcp = p.layers[i - 1];
    if (tcp instanceof TcpLayer && (PORTS_BEFORE_HTTP.has(tcp.srcPort) || PORTS_BEFORE_HTTP.has(tcp.dstPort))) return;
    out.s += ': ';
    printSegment(out, new ByteView(l.buf, l.off, l.off + l.capLen), l.length);
  },

  fields: {
    'http.request.method': (l) => requestField(l, (m) => m.method),
    'http.request.uri': (l) => requestField(l, (m) => m.uri),
    'http.request.version': (l) => requestField(l, (m) => m.version),
    'http.request.full_uri': (l) => requestField(l, (m) => fullUri(m, false)),
    'http.response.code': (l) => responseField(l, (m) => m.status),
    'http.response.version': (l) => responseField(l, (m) => m.version),
    'http.response.phrase': (l) => responseField(l, (m) => m.reason),
    'http.content_length': (l) => {
      const m = l.msg;
      if (m === null) return undefined;
      const n = contentLength(m.headers);
      return n >= 0 ? n : undefined;
    },
    // A response's request: where it was, the time since, and its URI (tshark's links).
    'http.request_in': (l) => responseField(l, (m) => (m.requestFrame > 0 ? m.requestFrame : undefined)),
    'http.time': (l) => responseField(l, (m) => {
      const q = answered(m);
      return q === null ? undefined : formatTimeDiff(m.lastSec, m.lastNsec, q.lastSec, q.lastNsec);
    }),
    'http.response_for.uri': (l) => responseField(l, (m) => {
      const q = answered(m);
      return q === null ? undefined : fullUri(q, true);
    }),
    ...Object.fromEntries(HEADER_FIELDS.map(([field, header]) => [field, (l: HttpLayer) => headerField(l, header)])),
  },

  json(l) {
    const m = l.msg;
    if (l.continuation) return { continuation: true };
    if (m === null) return { segment: true, length: l.length };
    const o: Record<string, unknown> = m.isRequest
      ? { request: true, method: m.method, uri: m.uri, version: m.version }
      : { response: true, version: m.version, status: m.status, reason: m.reason };
    o.headers = m.headers.map(([name, value]) => ({ name, value }));
    o.headLength = m.headLen;
    o.bodyLength = m.bodyLen;
    o.contentLength = m.contentLen;
    o.framing = m.framing;
    if (m.missing > 0) o.missing = m.missing;
    o.stream = m.stream;
    o.firstFrame = m.firstFrame;
    if (m.peer !== null) {
      if (m.isRequest) o.responseIn = m.peer.lastFrame;
      else {
        o.requestIn = m.peer.lastFrame;
        o.time = +(m.lastTime - m.peer.lastTime).toFixed(9);
      }
    }
    return o;
  },
};

/** Length of the head at the start of b: through its empty line, or all of b when it has none. */
function headLength(b: Uint8Array): number {
  let lineLen = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x0a) {
      if (lineLen === 0) return i + 1;
      lineLen = 0;
    } else if (c !== 0x0d) lineLen++;
  }
  return b.length;
}

/**
 * SSDP: one HTTP message per UDP datagram (tshark's ssdp). A datagram whose start line is not
 * HTTP's is still SSDP to tshark (continuation data) but has no http.* fields.
 */
export const ssdp: Dissector<HttpLayer> = {
  name: 'ssdp',
  protocols: 'ssdp',
  create: () => new HttpLayer(),

  decode(l, v, p) {
    l.capLen = v.length;
    l.hdrLen = l.length;
    l.payloadLen = 0;
    l.truncated = v.length < l.length;
    // tshark hands an empty datagram to nothing.
    if (l.length === 0) return;
    l.protocols = 'ssdp';
    const b = v.buf.subarray(v.start, v.end);
    const headLen = headLength(b);
    const h = parseHead(b, headLen);
    if (h === null) return;
    const n = p.frame.number;
    const t = p.frame.tsSec + p.frame.tsNsec / 1e9;
    const declared = contentLength(h.headers);
    const bodyLen = b.length - headLen;
    const m: HttpMessage = {
      ...h, stream: -1, dir: 0, headLen, bodyLen, contentLen: declared >= 0 ? Math.min(declared, bodyLen) : bodyLen,
      framing: declared >= 0 ? 'length' : 'none', complete: !l.truncated, malformed: false, reordered: false, missing: 0,
      firstFrame: n, headFrame: n, lastFrame: n, firstTime: t, lastTime: t, lastSec: p.frame.tsSec, lastNsec: p.frame.tsNsec,
      peer: null, requestFrame: 0, interim: [], parts: null,
    };
    l.msg = m;
    if (m.contentLen > 0) l.protocols = 'ssdp:' + mediaProtocol(headerValue(h.headers, 'content-type'));
  },

  // One datagram holds the whole message: its bytes are the layer's.
  encode: ownBytesThen,

  // tcpdump prints no SSDP: UDP's own line for a payload it does not decode.
  print(p: Packet, i: number, out: TextOut) {
    putUdpLength(p, i - 1, networkIndex(p, i - 1), out);
  },

  fields: http.fields,
  json: http.json,
};

bind(Table.UdpPort, SSDP_PORT, ssdp);
bind(Table.TcpPort, HTTP_PORT, http);
bind(Table.TcpPort, HTTP_PORT_ALT, http);
