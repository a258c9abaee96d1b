/**
 * HTTP/1.x message heads (RFC 9112): the start line and header fields of one request or response,
 * read from the bytes of a complete head (start line through the empty line), as Wireshark's
 * packet-http.c reads them for its http.* fields. Pure functions over bytes; never throw.
 */

/** One HTTP/1.x message framed out of a connection: its head, and how its body travelled. */
export interface HttpMessage extends ParsedHead {
  /** tcp.stream of its connection and the direction it travelled. */
  stream: number;
  dir: 0 | 1;
  /** Bytes of the start line, headers and empty line. */
  headLen: number;
  /** Body bytes as they travelled (chunk framing included). */
  bodyLen: number;
  /** Body bytes after removing chunk framing. */
  contentLen: number;
  /** How the body is delimited. */
  framing: 'none' | 'length' | 'chunked' | 'close' | 'tunnel';
  /** The body ended as its framing says (false: the connection ended or a gap broke it first). */
  complete: boolean;
  /** Its body broke the framing rules (bad chunk size, bad line): it ends where the damage starts. */
  malformed: boolean;
  /** Some of its bytes were captured after later ones (a retransmission filled a hole). */
  reordered: boolean;
  /** Bytes of the body never captured (gaps the framing could skip over). */
  missing: number;
  /** Frame and time of the first byte, the end of the head, and the last byte. */
  firstFrame: number;
  headFrame: number;
  lastFrame: number;
  /** Seconds since the epoch (with fraction) of the first byte and of the last byte. */
  firstTime: number;
  lastTime: number;
  /** The last byte's capture time exactly (for tshark's http.time). */
  lastSec: number;
  lastNsec: number;
  /** For a response: the request it answers (null when unknown); for a request: its final response. */
  peer: HttpMessage | null;
  /** For a response: the frame that completed its request, when that came before the response began (else 0). */
  requestFrame: number;
  /** Interim (1xx) responses a request got before its final one. */
  interim: HttpMessage[];
  /** A multipart/* body read as it went by: each part's Content-Type ('' without one); null otherwise. */
  parts: string[] | null;
}

/**
 * Request methods recognised at the start of a stream or after a gap: RFC 9110's, WebDAV's
 * (RFC 4918, 3253, 3744), SSDP's and the others Wireshark's is_http_request_or_reply knows.
 */
export const HTTP_METHODS: readonly string[] = [
  'GET', 'PUT', 'HEAD', 'POST', 'COPY', 'MOVE', 'LOCK', 'POLL', 'PATCH', 'MKCOL', 'TRACE', 'LABEL', 'MERGE',
  'BCOPY', 'BMOVE', 'DELETE', 'SEARCH', 'UNLOCK', 'REPORT', 'UPDATE', 'NOTIFY', 'BDELETE', 'CONNECT', 'OPTIONS',
  'CHECKIN', 'PROPFIND', 'CHECKOUT', 'CCM_POST', 'M-SEARCH', 'SUBSCRIBE', 'PROPPATCH', 'BPROPFIND', 'BPROPPATCH',
  'UNCHECKOUT', 'MKACTIVITY', 'MKCALENDAR', 'MKWORKSPACE', 'ORDERPATCH', 'UNSUBSCRIBE', 'RPC_CONNECT',
  'RPC_IN_DATA', 'RPC_OUT_DATA', 'VERSION-CONTROL', 'BASELINE-CONTROL', 'ACL',
];

/** Methods by their bytes, for matching without building strings. */
const METHOD_BYTES: Uint8Array[] = HTTP_METHODS.map((m) => Uint8Array.from(m, (c) => c.charCodeAt(0)));
/** Bytes that hold any known method and the space after it. */
export const LONGEST_METHOD_AND_SPACE = Math.max(...HTTP_METHODS.map((m) => m.length)) + 1;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;

/** "HTTP/1." */
const HTTP1 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e];

function startsWithAt(b: Uint8Array, at: number, end: number, what: ArrayLike<number>): boolean {
  if (end - at < what.length) return false;
  for (let k = 0; k < what.length; k++) if (b[at + k] !== what[k]) return false;
  return true;
}

/**
 * Whether b[at, end) starts like an HTTP/1.x message: a status line ("HTTP/1.") or a known method
 * followed by a space. `end - at` may be short of a whole line.
 */
export function looksLikeMessageStart(b: Uint8Array, at: number, end: number): boolean {
  if (startsWithAt(b, at, end, HTTP1)) return true;
  return methodLengthAt(b, at, end) > 0;
}

/** Length of the known method at b[at] when a space follows it, else 0. */
export function methodLengthAt(b: Uint8Array, at: number, end: number): number {
  const first = b[at];
  if (first < 0x41 || first > 0x5a) return 0;
  for (let m = 0; m < METHOD_BYTES.length; m++) {
    const mb = METHOD_BYTES[m];
    if (mb[0] !== first || at + mb.length >= end) continue;
    if (b[at + mb.length] === SP && startsWithAt(b, at, end, mb)) return mb.length;
  }
  return 0;
}

/**
 * Whether the first bytes of a direction start an HTTP/1.x message: "HTTP/1." (a status line) or
 * a known method and a space. When a whole first line is there, it must also end in "HTTP/1.x", as
 * Wireshark's HTTP heuristic on TCP (dissect_http_heur_tcp) requires of a request line.
 */
export function sniffHttp(first: Uint8Array): boolean {
  const n = first.length;
  if (startsWithAt(first, 0, n, HTTP1)) return true;
  let eol = -1;
  for (let i = 0; i < n; i++) if (first[i] === LF) { eol = i; break; }
  if (eol < 0) return methodLengthAt(first, 0, n) > 0;
  let end = eol;
  if (end > 0 && first[end - 1] === CR) end--;
  return end >= 9 && first[end - 9] === SP && startsWithAt(first, end - 8, end, HTTP1) && methodLengthAt(first, 0, end) > 0;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]);
  return out;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** What parseHead found. */
export interface ParsedHead {
  isRequest: boolean;
  /** Request line parts (empty for a response). */
  method: string;
  uri: string;
  /** "HTTP/1.1" as sent. */
  version: string;
  /** Status line parts (0 and '' for a request). */
  status: number;
  reason: string;
  /** Header fields in order, names as sent, values without the whitespace before them (Wireshark keeps what follows). */
  headers: Array<[string, string]>;
}

/**
 * Parses a complete head b[0, len) (start line, fields, empty line). Returns null when the start
 * line is neither a request line with a known method nor an HTTP/1.x status line.
 */
export function parseHead(b: Uint8Array, len: number): ParsedHead | null {
  let eol = 0;
  while (eol < len && b[eol] !== LF) eol++;
  let lineEnd = eol > 0 && b[eol - 1] === CR ? eol - 1 : eol;
  const head: ParsedHead = { isRequest: false, method: '', uri: '', version: '', status: 0, reason: '', headers: [] };
  if (startsWithAt(b, 0, lineEnd, HTTP1)) {
    // HTTP-version SP status-code SP reason-phrase
    let i = 0;
    while (i < lineEnd && b[i] !== SP) i++;
    head.version = latin1(b, 0, i);
    while (i < lineEnd && b[i] === SP) i++;
    if (i + 3 > lineEnd || !isDigit(b[i]) || !isDigit(b[i + 1]) || !isDigit(b[i + 2])) return null;
    if (i + 3 < lineEnd && b[i + 3] !== SP) return null;
    head.status = (b[i] - 0x30) * 100 + (b[i + 1] - 0x30) * 10 + (b[i + 2] - 0x30);
    i += 3;
    while (i < lineEnd && b[i] === SP) i++;
    head.reason = latin1(b, i, lineEnd);
  } else {
    const ml = methodLengthAt(b, 0, lineEnd);
    if (ml === 0) return null;
    head.isRequest = true;
    head.method = latin1(b, 0, ml);
    let i = ml + 1;
    const uriStart = i;
    while (i < lineEnd && b[i] !== SP) i++;
    head.uri = latin1(b, uriStart, i);
    while (i < lineEnd && b[i] === SP) i++;
    head.version = latin1(b, i, lineEnd);
  }
  // Header fields, one per line. A line starting with whitespace (obs-fold) is not joined to the
  // previous field, as Wireshark does not join it: `Transfer-Encoding:` folded onto the next line
  // is not chunked to it (a request-smuggling vector either way).
  let at = eol + 1;
  while (at < len) {
    eol = at;
    while (eol < len && b[eol] !== LF) eol++;
    lineEnd = eol > at && b[eol - 1] === CR ? eol - 1 : eol;
    if (lineEnd === at) break;
    const first = b[at];
    if (first !== SP && first !== HT) {
      let colon = at;
      while (colon < lineEnd && b[colon] !== 0x3a) colon++;
      if (colon < lineEnd) head.headers.push([latin1(b, at, colon).trimEnd(), fieldValue(b, colon + 1, lineEnd)]);
    }
    at = eol + 1;
  }
  return head;
}

/** A field value as Wireshark shows it: the whitespace after the colon skipped, trailing whitespace kept. */
function fieldValue(b: Uint8Array, s: number, e: number): string {
  while (s < e && (b[s] === SP || b[s] === HT)) s++;
  return latin1(b, s, e);
}

/** Values of header `name` (case-insensitive), in order. */
export function headerValues(headers: ReadonlyArray<[string, string]>, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n.length === name.length && n.toLowerCase() === name) out.push(v);
  return out;
}

/** The first value of header `name`, or undefined. */
export function headerValue(headers: ReadonlyArray<[string, string]>, name: string): string | undefined {
  for (const [n, v] of headers) if (n.length === name.length && n.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Content-Length as RFC 9110 8.6 allows it: digits only; a list of identical values counts as one.
 * Returns -1 when absent, -2 when invalid or contradictory.
 */
export function contentLength(headers: ReadonlyArray<[string, string]>): number {
  let value = -1;
  for (const v of headerValues(headers, 'content-length')) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t.length === 0 || t.length > 15) return -2;
      for (let k = 0; k < t.length; k++) if (!isDigit(t.charCodeAt(k))) return -2;
      const n = Number(t);
      if (value >= 0 && n !== value) return -2;
      value = n;
    }
  }
  return value;
}

/** Whether Transfer-Encoding names chunked as its last coding; null when the header is absent. */
export function chunkedLast(headers: ReadonlyArray<[string, string]>): boolean | null {
  const te = headerValues(headers, 'transfer-encoding');
  if (te.length === 0) return null;
  const codings = te.join(',').split(',');
  return codings[codings.length - 1].trim().toLowerCase() === 'chunked';
}

/** Most multipart body parts whose types are kept per message. */
const MAX_PARTS = 1024;
/** Longest part header line kept (longer ones are cut: only Content-Type is read). */
const MAX_PART_LINE = 512;

const enum Mp {
  /** In a preamble or a part's body: looking for a delimiter at a line start. */
  Scan,
  /** After "--boundary": a part starts at the end of the line, unless "--" closes the body. */
  Delimiter,
  DelimiterDash,
  /** A part's header lines, up to the empty one. */
  Headers,
  /** After the close delimiter. */
  Done,
}

/**
 * The boundary parameter of a multipart/* Content-Type (quotes removed), or null when the type is
 * not multipart or names none.
 */
export function multipartBoundary(contentType: string): string | null {
  const lower = contentType.toLowerCase();
  if (!lower.trimStart().startsWith('multipart/')) return null;
  const at = lower.indexOf('boundary=');
  if (at < 0) return null;
  let end = contentType.indexOf(';', at);
  if (end < 0) end = contentType.length;
  let b = contentType.slice(at + 9, end).trim();
  if (b.length >= 2 && b.startsWith('"') && b.endsWith('"')) b = b.slice(1, -1);
  return b === '' ? null : b;
}

/**
 * Finds the body parts of a multipart/* body as its bytes go by (RFC 2046 5.1.1: each delimiter
 * line "--boundary" at a line start opens a part, "--boundary--" closes the body), for Wireshark's
 * mime_multipart, which names one protocol per part by the part's Content-Type. Bounded: at most
 * MAX_PARTS types and one header line held.
 */
export class MultipartScanner {
  readonly parts: string[] = [];
  private readonly delim: Uint8Array;
  private st = Mp.Scan;
  /** Bytes of the delimiter matched at the current line start (-1: not at a line start). */
  private matched = 0;
  private line = '';

  constructor(boundary: string) {
    this.delim = Uint8Array.from('--' + boundary, (c) => c.charCodeAt(0) & 0xff);
  }

  feed(b: Uint8Array, from: number, to: number): void {
    const d = this.delim;
    for (let i = from; i < to; i++) {
      const c = b[i];
      switch (this.st) {
        case Mp.Scan:
          if (this.matched >= 0 && c === d[this.matched]) {
            if (++this.matched === d.length) {
              this.st = Mp.Delimiter;
              this.matched = -1;
            }
          } else this.matched = c === LF ? 0 : -1;
          break;
        case Mp.Delimiter:
          if (c === 0x2d) this.st = Mp.DelimiterDash;
          else if (c === LF) this.openPart();
          break;
        case Mp.DelimiterDash:
          if (c === 0x2d) this.st = Mp.Done;
          else if (c === LF) this.openPart();
          else this.st = Mp.Delimiter;
          break;
        case Mp.Headers:
          if (c === LF) {
            if (this.line === '') {
              this.st = Mp.Scan;
              this.matched = 0;
            } else {
              if (this.line.length > 13 && this.line.slice(0, 13).toLowerCase() === 'content-type:') {
                this.parts[this.parts.length - 1] = this.line.slice(13).trim();
              }
              this.line = '';
            }
          } else if (c !== CR && this.line.length < MAX_PART_LINE) this.line += String.fromCharCode(c);
          break;
        default:
          return;
      }
    }
  }

  private openPart(): void {
    if (this.parts.length < MAX_PARTS) this.parts.push('');
    this.st = Mp.Headers;
    this.line = '';
  }
}
