/**
 * Synchronous file I/O for capture files: a chunked input buffer over a file descriptor (files
 * and pipes alike, so stdin works), and whole-buffer writes. Non-blocking descriptors (a pipe
 * another process set O_NONBLOCK on) answer EAGAIN; we sleep briefly and retry.
 */
import { fs, util } from '../core/node-fs.js';
import type { Frame } from '../core/frame.js';
import { CaptureFileError } from './error.js';
import type { CaptureReader } from './reader.js';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for ms milliseconds (there is no synchronous poll in Node). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

const EAGAIN_SLEEP_MS = 2;

/** Where libuv's wording differs from the C library's strerror(), which tcpdump prints. */
const STRERROR: Record<string, string> = { EISDIR: 'Is a directory' };

/** strerror() text for a Node system error: "No such file or directory". */
export function systemMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code && STRERROR[err.code]) return STRERROR[err.code];
  const entry = typeof err.errno === 'number' ? util.getSystemErrorMap().get(err.errno) : undefined;
  const text = entry ? entry[1] : err.message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isEagain(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/** Writes all of buf to fd, retrying short writes and EAGAIN; throws the system error otherwise. */
export function writeFully(fd: number, buf: Uint8Array, start: number, end: number): void {
  while (start < end) {
    try {
      start += fs.writeSync(fd, buf, start, end - start);
    } catch (e) {
      if (!isEagain(e)) throw e;
      sleepMs(EAGAIN_SLEEP_MS);
    }
  }
}

/**
 * CaptureReader.next() of a reader whose frames are in `src`: advance(), then the Frame of the
 * reader's fields (one object a frame, its data aliasing src's buffer), or null at the end.
 */
export function nextFrame(r: CaptureReader, src: ByteSource): Frame | null {
  const at = r.advance();
  if (at < 0) return null;
  return {
    number: r.frameNumber, linkType: r.frameLinkType, tsSec: r.tsSec, tsNsec: r.tsNsec,
    capLen: r.capLen, origLen: r.origLen, data: src.bytesAt(at, r.capLen), ifIndex: r.ifIndex,
  };
}

/**
 * A window buf[pos, end) onto the input; buf[0] is at file offset `base`. Readers parse straight
 * out of buf through `view`, consume by advancing pos, and call fill() when they need more.
 * Memory stays at one chunk (at most maxChunkSize), or the largest single record/block seen if that is bigger.
 */
export class ByteSource {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  end = 0;
  base = 0;
  private eof = false;

  /**
   * The buffer starts at chunkSize bytes and doubles, up to maxChunkSize, each time four buffers'
   * worth have been consumed: a small file never pays for a big buffer's first touch, a big one
   * is read in few system calls (1 MiB reads take ~20% less time than 128 KiB ones over a file).
   */
  constructor(
    private fd: number,
    readonly file: string,
    chunkSize: number,
    private readonly maxChunkSize = chunkSize,
  ) {
    this.buf = new Uint8Array(chunkSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** buf[at, at + len), not copied: a frame's bytes (the constructor costs half what subarray() does). */
  bytesAt(at: number, len: number): Uint8Array {
    const b = this.buf;
    return new Uint8Array(b.buffer, b.byteOffset + at, len);
  }

  /** File offset of buf[pos]. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes available at pos without reading. */
  get available(): number {
    return this.end - this.pos;
  }

  /**
   * Makes n bytes available at pos (moving them to the start of buf, so pos may change and
   * earlier subarrays become stale). Returns how many are available: fewer than n only at EOF.
   */
  fill(n: number): number {
    if (this.end - this.pos >= n) return n;
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    const grow = this.buf.length < this.maxChunkSize && this.base >= 4 * this.buf.length;
    if (n > this.buf.length || grow) {
      const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.end));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
    }
    while (this.end < n && !this.eof) this.readMore();
    return Math.min(n, this.end);
  }

  /** Consumes n bytes without keeping them (for blocks bigger than the buffer). Returns the bytes skipped: < n at EOF. */
  skip(n: number): number {
    let done = 0;
    while (done < n) {
      if (this.end === this.pos) {
        this.base += this.end;
        this.pos = this.end = 0;
        if (this.eof) break;
        this.readMore();
        continue;
      }
      const k = Math.min(n - done, this.end - this.pos);
      this.pos += k;
      done += k;
    }
    return done;
  }

  /** Closes the descriptor (never standard input) and drops the buffer. */
  close(): void {
    if (this.fd > 2) fs.closeSync(this.fd);
    this.fd = -1;
    this.buf = new Uint8Array(0);
    this.view = new DataView(this.buf.buffer);
    this.pos = this.end = 0;
    this.eof = true;
  }

  private readMore(): void {
    let got: number;
    for (;;) {
      try {
        got = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
        break;
      } catch (e) {
        if (isEagain(e)) { sleepMs(EAGAIN_SLEEP_MS); continue; }
        if ((e as NodeJS.ErrnoException).code === 'EOF') { got = 0; break; }
        throw new CaptureFileError(`error reading dump file: ${systemMessage(e)}`, this.file, this.base + this.end,
          (e as NodeJS.ErrnoException).code);
      }
    }
    if (got === 0) this.eof = true;
    else this.end += got;
  }
}
