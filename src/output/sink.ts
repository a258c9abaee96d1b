/**
 * Buffered synchronous writes to a file descriptor. Synchronous writes mean nothing is lost when
 * the process exits right after (piped output stays complete); EAGAIN on a non-blocking pipe is
 * retried, EPIPE (reader gone) ends the output quietly.
 */
import { writeSync } from 'node:fs';

const FLUSH_AT = 1 << 16;

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
  /** Encoded output not yet written; lines are encoded into it as they come (no rope to flatten). */
  private readonly out = Buffer.allocUnsafe(FLUSH_AT * 2);
  private used = 0;
  /** Line-buffered: flush at every line (tcpdump -l). */
  lineBuffered = false;

  constructor(readonly fd: number) {}

  writeLine(s: string): void {
    this.write(s);
    this.out[this.used++] = 0x0a;
    if (this.lineBuffered || this.used >= FLUSH_AT) this.flush();
  }

  write(s: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit; keep room for the newline too.
    if (this.used + s.length * 3 + 1 > this.out.length) {
      this.flush();
      if (s.length * 3 + 1 > this.out.length) {
        writeAll(this.fd, Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.used += (this.out as unknown as Utf8Writable).utf8Write(s, this.used);
    if (this.lineBuffered) this.flush();
  }

  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    writeAll(this.fd, this.out.subarray(0, n));
  }
}

/** Writes every byte of data to fd, waiting out EAGAIN; throws OutputClosed on EPIPE. */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 1);
      else if (code === 'EPIPE') throw new OutputClosed();
      else throw e;
    }
  }
}
