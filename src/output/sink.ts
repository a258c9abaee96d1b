/**
 * Buffered synchronous writes to a file descriptor. Synchronous writes mean nothing is lost when
 * the process exits right after (piped output stays complete); EAGAIN on a non-blocking pipe is
 * retried, EPIPE (reader gone) ends the output quietly.
 */
import { fs } from '../core/node-fs.js';

/** Characters of text gathered before they are encoded and written. */
const FLUSH_AT = 1 << 15;

/** Buffer's own encoder, without Buffer.prototype.write's argument juggling (a tenth of the text path). */
interface Utf8Writable {
  utf8Write(s: string, offset: number): number;
}
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class OutputClosed extends Error {
  constructor() {
    super('output closed');
  }
}

export class TextSink {
  /**
   * Text not yet written. Lines are appended to one string and encoded once per FLUSH_AT
   * characters: one native encode call per few hundred lines instead of one per line is about
   * a third less time in the sink (the rope is flattened once either way).
   */
  private pending = '';
  /** Room for FLUSH_AT characters and a line more as UTF-8 (at most 3 bytes per UTF-16 unit). */
  private readonly out = Buffer.allocUnsafe(FLUSH_AT * 3 * 2);
  /** Line-buffered: flush at every line (tcpdump -l). */
  lineBuffered = false;

  constructor(readonly fd: number) {}

  writeLine(s: string): void {
    this.pending += s + '\n';
    if (this.lineBuffered || this.pending.length >= FLUSH_AT) this.flush();
  }

  write(s: string): void {
    this.pending += s;
    if (this.lineBuffered || this.pending.length >= FLUSH_AT) this.flush();
  }

  /** Writes buf[0, end) after any pending text. */
  writeBytes(buf: Uint8Array, end: number): void {
    this.flush();
    writeAll(this.fd, end === buf.length ? buf : buf.subarray(0, end));
  }

  flush(): void {
    const s = this.pending;
    if (s === '') return;
    // Emptied first: after an error (EPIPE) the text is dropped, not written again by a later flush.
    this.pending = '';
    if (s.length * 3 > this.out.length) writeAll(this.fd, Buffer.from(s, 'utf8'));
    else writeAll(this.fd, this.out.subarray(0, (this.out as unknown as Utf8Writable).utf8Write(s, 0)));
  }
}

/** Writes every byte of data to fd, waiting out EAGAIN; throws OutputClosed on EPIPE. */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 1);
      else if (code === 'EPIPE') throw new OutputClosed();
      else throw e;
    }
  }
}
