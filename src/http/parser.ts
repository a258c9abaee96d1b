/**
 * HTTP/1.x over one TCP connection's reassembled bytes (both directions): frames each message
 * (head, then a body delimited by Content-Length, chunked coding, or the end of the connection,
 * RFC 9112 6.3), pairs responses with requests in order (pipelining, interim 1xx responses,
 * Expect: 100-continue), and reports each message once it ends.
 *
 * Gaps: a gap inside a body of known length (or a read-until-close body) is skipped and counted
 * as missing; anywhere else the direction has lost its framing, so the message in progress is
 * reported incomplete, request/response pairing restarts, and the direction resynchronises on the
 * next line that starts like a message. Nothing is guessed across a gap.
 * Memory per direction is bounded by MAX_HEAD (heads) and MAX_LINE (chunk-size and trailer lines).
 */
import type { SegmentTime, StreamChunk, StreamEvent, StreamSink } from '../tcp/reassembler.js';
import { chunkedLast, contentLength, headerValue, looksLikeMessageStart, MultipartScanner, multipartBoundary, parseHead, type HttpMessage } from './message.js';

/** Largest head kept (start line and fields); a longer one makes the direction give up until resync. */
export const MAX_HEAD = 64 * 1024;
/** Largest chunk-size line (with extensions) or trailer section. */
const MAX_LINE = 8 * 1024;
/** Most requests waiting for responses (a one-sided capture never answers them); the oldest go first. */
const MAX_PENDING = 1024;
/** Most interim responses kept per request. */
const MAX_INTERIM = 16;

const enum St {
  /** Between messages. */
  Idle,
  Head,
  Body,
  ChunkSize,
  ChunkData,
  /** The CRLF after a chunk's data. */
  ChunkEnd,
  Trailers,
  UntilClose,
  /** After a 101 or a successful CONNECT: not HTTP any more. */
  Tunnel,
  /** Framing lost (gap, malformed input): waiting for a line that starts like a message. */
  Lost,
  Done,
}

const CR = 0x0d;
const LF = 0x0a;

class Direction {
  st = St.Idle;
  head = new Uint8Array(512);
  headLen = 0;
  /** Bytes of the current line seen so far, CR excluded (head, chunk-size line, trailers). */
  lineLen = 0;
  msg: HttpMessage | null = null;
  /** Body or chunk bytes still to come. */
  remaining = 0;
  /** Chunk size being read (hex digits before any extension). */
  chunkSize = 0;
  chunkDigits = 0;
  chunkExt = false;
  trailerBytes = 0;
  /** The head's first line ended (and was checked). */
  startLineSeen = false;
  /** Highest frame number that brought this direction's bytes: a lower one later means reordering. */
  lastFrame = 0;
  /** Expect: 100-continue request whose body has not started. */
  awaitingContinue = false;
  /** Messages started in the chunk being read. */
  starts = 0;
  /** Framing was lost to bytes that start no message (not to a gap): later segments are continuations too. */
  continuing = false;
  /** The parts of the multipart body being read (uncompressed multipart/* only). */
  multipart: MultipartScanner | null = null;
  constructor(readonly dir: 0 | 1) {}
}

function seconds(t: SegmentTime): number {
  return t.sec + t.nsec / 1e9;
}

/** Records t as the time of m's last byte so far. */
function lastByte(m: HttpMessage, t: SegmentTime): void {
  m.lastFrame = t.frame;
  m.lastTime = seconds(t);
  m.lastSec = t.sec;
  m.lastNsec = t.nsec;
}

export interface HttpParserListener {
  /** A message ended (complete or not); `time` is the segment that ended it. */
  message(m: HttpMessage, time: SegmentTime): void;
  /**
   * Bytes of segment `time` stand where a message should start but start none (a start line that
   * is not HTTP's, or a segment while framing is lost): Wireshark's "Continuation", the rest of the
   * segment shown as data. afterMessage: a message began earlier in the segment (the same call of
   * Wireshark's HTTP dissector, which is not named again).
   */
  continuation?(dir: 0 | 1, time: SegmentTime, afterMessage: boolean): void;
}

export class HttpConnectionParser implements StreamSink {
  private readonly dirs: [Direction, Direction] = [new Direction(0), new Direction(1)];
  /** Requests whose head was read, oldest first, waiting for their final response. */
  private readonly pending: HttpMessage[] = [];
  /** Requests dropped from the front of `pending` for MAX_PENDING, still owed a response. */
  private forgotten = 0;
  /**
   * Framing was lost in a direction: how many requests or responses went with it is unknown, so
   * the next final response pairs with the latest request sent before it began, as Wireshark
   * pairs them (right unless requests were pipelined across the loss), not with the oldest.
   */
  private pairingLost = false;
  /** A message head was read: Wireshark reports continuations only on a connection it has seen HTTP on. */
  private seenMessage = false;
  /**
   * The connection switched (101) to a protocol Wireshark has no dissector for ("Upgrade: tcp"):
   * it shows every later segment as data under HTTP, reported as continuations.
   */
  private opaqueTunnel = false;

  constructor(readonly stream: number, private readonly listener: HttpParserListener) {}

  chunk(c: StreamChunk): void {
    const d = this.dirs[c.dir];
    const b = c.bytes;
    let i = 0;
    const n = b.length;
    // Bytes held for a hole come after the retransmission that filled it, with earlier frame numbers.
    const reordered = c.time.frame < d.lastFrame;
    if (!reordered) d.lastFrame = c.time.frame;
    d.starts = 0;
    if (reordered && d.msg !== null) d.msg.reordered = true;
    while (i < n) {
      switch (d.st) {
        case St.Idle: {
          // Start lines begin with an upper-case method or "HTTP/": anything else, the empty lines
          // RFC 9112 2.2 lets a server skip included, is not a message to Wireshark.
          if (b[i] < 0x41 || b[i] > 0x5a) {
            // The rest of the segment goes with it.
            this.continuation(d, c.time, d.starts > 0);
            i = n;
          } else {
            this.startMessage(d, c.time);
            d.msg!.reordered = reordered;
          }
          break;
        }
        case St.Head:
          i = this.readHead(d, b, i, c.time);
          break;
        case St.Body: {
          if (d.awaitingContinue && d.msg!.peer !== null && d.msg!.bodyLen === 0 && looksLikeMessageStart(b, i, n)) {
            // The client got a final answer instead of 100 Continue and sends its next request, not the body.
            d.awaitingContinue = false;
            this.endMessage(d, true, c.time);
            break;
          }
          d.awaitingContinue = false;
          const k = Math.min(d.remaining, n - i);
          d.multipart?.feed(b, i, i + k);
          d.remaining -= k;
          d.msg!.bodyLen += k;
          d.msg!.contentLen += k;
          i += k;
          if (d.remaining === 0) this.endMessage(d, true, c.time);
          break;
        }
        case St.ChunkSize:
          i = this.readChunkSize(d, b, i, c.time);
          break;
        case St.ChunkData: {
          const k = Math.min(d.remaining, n - i);
          d.multipart?.feed(b, i, i + k);
          d.remaining -= k;
          d.msg!.bodyLen += k;
          d.msg!.contentLen += k;
          i += k;
          if (d.remaining === 0) { d.st = St.ChunkEnd; d.lineLen = 0; }
          break;
        }
        case St.ChunkEnd: {
          const c0 = b[i++];
          d.msg!.bodyLen++;
          if (c0 === LF) this.chunkSizeStart(d);
          else if (c0 !== CR || d.lineLen++ > 0) this.lose(d, c.time, true);
          break;
        }
        case St.Trailers:
          i = this.readTrailers(d, b, i, c.time);
          break;
        case St.UntilClose:
          d.multipart?.feed(b, i, n);
          d.msg!.bodyLen += n - i;
          d.msg!.contentLen += n - i;
          i = n;
          break;
        case St.Lost: {
          // A segment read while framing is lost (not the rest of the one that lost it).
          const whole = i === 0;
          i = this.resync(d, b, i, n);
          if (whole && i === n && d.continuing && this.seenMessage) this.listener.continuation?.(d.dir, c.time, false);
          break;
        }
        case St.Tunnel:
          if (this.opaqueTunnel) this.listener.continuation?.(d.dir, c.time, d.starts > 0);
          i = n;
          break;
        default:
          i = n;
      }
    }
    const m = d.msg;
    if (m !== null) lastByte(m, c.time);
  }

  event(e: StreamEvent): void {
    if (e.type !== 'gap') return;
    const d = this.dirs[e.dir];
    const m = d.msg;
    if ((d.st === St.Body || d.st === St.ChunkData) && e.length <= d.remaining) {
      // Inside a body of known size: skipping it keeps the framing.
      d.remaining -= e.length;
      m!.bodyLen += e.length;
      m!.contentLen += e.length;
      m!.missing += e.length;
      if (d.remaining === 0) {
        if (d.st === St.Body) this.endMessage(d, true, e.time);
        else { d.st = St.ChunkEnd; d.lineLen = 0; }
      }
      return;
    }
    if (d.st === St.UntilClose) {
      m!.bodyLen += e.length;
      m!.missing += e.length;
      return;
    }
    if (d.st === St.Tunnel || d.st === St.Done) return;
    if (m !== null) m.missing += e.length;
    this.lose(d, e.time, false);
  }

  complete(dir: 0 | 1, _how: 'fin' | 'rst' | 'end', time: SegmentTime | null): void {
    const d = this.dirs[dir];
    const m = d.msg;
    if (m !== null) this.endMessage(d, d.st === St.UntilClose, time ?? { sec: m.lastSec, nsec: m.lastNsec, frame: m.lastFrame });
    d.st = St.Done;
  }

  private startMessage(d: Direction, t: SegmentTime): void {
    const s = seconds(t);
    d.starts++;
    d.msg = {
      stream: this.stream, dir: d.dir, isRequest: false, method: '', uri: '', version: '', status: 0, reason: '',
      headers: [], headLen: 0, bodyLen: 0, contentLen: 0, framing: 'none', complete: false, malformed: false, reordered: false, missing: 0,
      firstFrame: t.frame, headFrame: 0, lastFrame: t.frame, firstTime: s, lastTime: s, lastSec: t.sec, lastNsec: t.nsec,
      peer: null, requestFrame: 0, interim: [], parts: null,
    };
    d.headLen = 0;
    d.lineLen = 0;
    d.startLineSeen = false;
    d.st = St.Head;
  }

  /** Copies head bytes until the empty line; then frames the body. */
  private readHead(d: Direction, b: Uint8Array, i: number, t: SegmentTime): number {
    const n = b.length;
    const start = i;
    let ended = false;
    let startLineEnded = false;
    for (; i < n; i++) {
      const c = b[i];
      if (c === LF) {
        if (d.lineLen === 0) { i++; ended = true; break; }
        if (!d.startLineSeen) startLineEnded = true;
        d.lineLen = 0;
      } else if (c !== CR) d.lineLen++;
    }
    const add = i - start;
    if (d.headLen + add > MAX_HEAD) {
      this.lose(d, t, true);
      return i;
    }
    if (d.headLen + add > d.head.length) {
      const grown = new Uint8Array(Math.min(MAX_HEAD, Math.max(d.head.length * 2, d.headLen + add)));
      grown.set(d.head.subarray(0, d.headLen));
      d.head = grown;
    }
    d.head.set(b.subarray(start, i), d.headLen);
    d.headLen += add;
    if (startLineEnded && !d.startLineSeen) {
      d.startLineSeen = true;
      // A start line that is neither a request line nor a status line: give up at once, not at MAX_HEAD.
      if (!looksLikeMessageStart(d.head, 0, d.headLen)) {
        this.notAMessage(d, t);
        return i;
      }
    }
    if (ended) this.headDone(d, t);
    return i;
  }

  private headDone(d: Direction, t: SegmentTime): void {
    const m = d.msg!;
    const h = parseHead(d.head, d.headLen);
    if (h === null) {
      m.headLen = d.headLen;
      this.notAMessage(d, t);
      return;
    }
    m.isRequest = h.isRequest;
    m.method = h.method;
    m.uri = h.uri;
    m.version = h.version;
    m.status = h.status;
    m.reason = h.reason;
    m.headers = h.headers;
    m.headLen = d.headLen;
    m.headFrame = t.frame;
    this.seenMessage = true;
    // Wireshark reads the parts of a body it need not decompress first.
    const boundary = headerValue(h.headers, 'content-encoding') === undefined ? multipartBoundary(headerValue(h.headers, 'content-type') ?? '') : null;
    d.multipart = boundary === null ? null : new MultipartScanner(boundary);
    // A head buffer grown for one big head is not kept for the rest of the connection.
    if (d.head.length > 4096) d.head = new Uint8Array(512);

    const chunked = chunkedLast(h.headers);
    const length = contentLength(h.headers);
    if (h.isRequest) {
      if (this.pending.length >= MAX_PENDING) {
        // Forgotten, not skipped: the response that answers it still takes its turn, unpaired.
        this.pending.shift();
        this.forgotten++;
      }
      this.pending.push(m);
      if (chunked === true) return this.frameBody(d, 'chunked', 0, t);
      // A request whose transfer coding is not chunked cannot be framed (RFC 9112 6.3 item 4);
      // Wireshark reads it as having no body, and so do we.
      if (chunked === false) return this.frameBody(d, 'none', 0, t);
      if (length === -2) return this.lose(d, t, true);
      if (length > 0) {
        const expect = headerValue(h.headers, 'expect');
        d.awaitingContinue = expect !== undefined && expect.trim().toLowerCase() === '100-continue';
        return this.frameBody(d, 'length', length, t);
      }
      return this.frameBody(d, 'none', 0, t);
    }

    // A response: pair it with the oldest request still waiting, sent before it began.
    const status = h.status;
    const interim = status >= 100 && status < 200;
    let req: HttpMessage | null = null;
    const pending = this.pending;
    if (this.pairingLost) {
      let k = pending.length - 1;
      while (k >= 0 && pending[k].headFrame > m.firstFrame) k--;
      if (k >= 0) {
        req = pending[k];
        if (!interim) {
          pending.splice(0, k);
          this.pairingLost = false;
        }
      }
    } else if (this.forgotten > 0) {
      if (!interim) this.forgotten--;
    } else if (pending.length > 0 && pending[0].headFrame <= m.firstFrame) req = pending[0];
    m.peer = req;
    if (req !== null && this.dirs[req.dir].msg !== req) m.requestFrame = req.lastFrame;
    if (interim) {
      if (req !== null && req.interim.length < MAX_INTERIM) req.interim.push(m);
      if (status === 101) return this.tunnel(d, t);
      return this.frameBody(d, 'none', 0, t);
    }
    if (req !== null) {
      pending.shift();
      req.peer = m;
      if (req.method === 'CONNECT' && status < 300) return this.tunnel(d, t);
    }
    if ((req !== null && req.method === 'HEAD') || status === 204 || status === 304) return this.frameBody(d, 'none', 0, t);
    if (chunked === true) return this.frameBody(d, 'chunked', 0, t);
    if (chunked === false) return this.frameBody(d, 'close', 0, t);
    if (length === -2) return this.lose(d, t, true);
    if (length >= 0) return this.frameBody(d, length > 0 ? 'length' : 'none', length, t);
    return this.frameBody(d, 'close', 0, t);
  }

  private frameBody(d: Direction, framing: HttpMessage['framing'], length: number, t: SegmentTime): void {
    const m = d.msg!;
    m.framing = framing;
    switch (framing) {
      case 'none':
        this.endMessage(d, true, t);
        return;
      case 'length':
        d.remaining = length;
        d.st = St.Body;
        return;
      case 'chunked':
        this.chunkSizeStart(d);
        return;
      default:
        d.st = St.UntilClose;
    }
  }

  /** Both directions stop parsing: the connection carries another protocol from here. */
  private tunnel(d: Direction, t: SegmentTime): void {
    const m = d.msg!;
    if (m.status === 101) {
      const upgrade = (headerValue(m.headers, 'upgrade') ?? '').trim().toLowerCase();
      // WebSocket and HTTP/2 (h2c) have dissectors of their own in Wireshark (not decoded here).
      this.opaqueTunnel = upgrade !== '' && upgrade !== 'websocket' && !upgrade.startsWith('h2c');
    }
    m.framing = 'tunnel';
    this.endMessage(d, true, t);
    for (const x of this.dirs) {
      if (x.msg !== null && x !== d) this.endMessage(x, false, t);
      if (x.st !== St.Done) x.st = St.Tunnel;
    }
  }

  private chunkSizeStart(d: Direction): void {
    d.st = St.ChunkSize;
    d.chunkSize = 0;
    d.chunkDigits = 0;
    d.chunkExt = false;
    d.lineLen = 0;
  }

  /** chunk-size [; extensions] CRLF (RFC 9112 7.1). */
  private readChunkSize(d: Direction, b: Uint8Array, i: number, t: SegmentTime): number {
    const n = b.length;
    const m = d.msg!;
    while (i < n) {
      const c = b[i++];
      m.bodyLen++;
      if (c === LF) {
        if (d.chunkDigits === 0) { this.lose(d, t, true); return i; }
        if (d.chunkSize === 0) {
          d.st = St.Trailers;
          d.lineLen = 0;
          d.trailerBytes = 0;
        } else {
          d.remaining = d.chunkSize;
          d.st = St.ChunkData;
        }
        return i;
      }
      if (++d.lineLen > MAX_LINE) { this.lose(d, t, true); return i; }
      if (d.chunkExt || c === CR) continue;
      const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (v >= 0 && d.chunkDigits >= 0) {
        // Sizes beyond 2^48 are not believable on a capture: lose framing rather than overflow.
        if (++d.chunkDigits > 12) { this.lose(d, t, true); return i; }
        d.chunkSize = d.chunkSize * 16 + v;
      } else if (c === 0x3b || c === 0x20 || c === 0x09) {
        d.chunkExt = true;
      } else {
        this.lose(d, t, true);
        return i;
      }
    }
    return i;
  }

  /** Trailer fields after the last chunk, up to the empty line. */
  private readTrailers(d: Direction, b: Uint8Array, i: number, t: SegmentTime): number {
    const n = b.length;
    const m = d.msg!;
    while (i < n) {
      const c = b[i++];
      m.bodyLen++;
      if (c === LF) {
        if (d.lineLen === 0) { this.endMessage(d, true, t); return i; }
        d.lineLen = 0;
      } else if (c !== CR) d.lineLen++;
      if (++d.trailerBytes > MAX_LINE) { this.lose(d, t, true); return i; }
    }
    return i;
  }

  private endMessage(d: Direction, complete: boolean, t: SegmentTime): void {
    const m = d.msg;
    if (m === null) return;
    d.msg = null;
    d.awaitingContinue = false;
    if (d.multipart !== null) {
      m.parts = d.multipart.parts;
      d.multipart = null;
    }
    if (d.st !== St.Done && d.st !== St.Tunnel) d.st = St.Idle;
    m.complete = complete && m.headFrame > 0;
    lastByte(m, t);
    if (m.headFrame > 0) this.listener.message(m, t);
  }

  /**
   * Framing lost (malformed input, or a gap): the message in progress ends incomplete, pairing
   * falls back to the latest request, and the direction waits for a chunk that starts like a message.
   */
  private lose(d: Direction, t: SegmentTime, malformed: boolean): void {
    if (d.msg !== null) {
      d.msg.malformed = malformed;
      this.endMessage(d, false, t);
    }
    this.forgotten = 0;
    this.pairingLost = true;
    d.st = St.Lost;
    d.continuing = false;
  }

  /** The message being read has no HTTP start line after all: its bytes were a continuation. */
  private notAMessage(d: Direction, t: SegmentTime): void {
    // Messages started in this chunk before the one failing: its start was in the same call.
    this.continuation(d, t, d.starts > 1);
  }

  /** Bytes where a message should start start none: framing is lost to them, and they are reported. */
  private continuation(d: Direction, t: SegmentTime, afterMessage: boolean): void {
    this.lose(d, t, true);
    d.continuing = true;
    if (this.seenMessage) this.listener.continuation?.(d.dir, t, afterMessage);
  }

  /**
   * Resumes at a chunk that starts like a message (as Wireshark does, which takes the rest of a
   * segment that does not start a message as continuation data); the rest is skipped.
   */
  private resync(d: Direction, b: Uint8Array, i: number, n: number): number {
    if (i === 0 && looksLikeMessageStart(b, 0, n)) {
      d.st = St.Idle;
      return 0;
    }
    return n;
  }
}
