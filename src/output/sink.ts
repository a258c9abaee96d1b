/**
 * Buffered synchronous writes to a file descriptor. Synchronous writes mean nothing is lost when
 * the process exits right after (piped output stays complete); EAGAIN on a non-blocking pipe is
 * retried, EPIPE (reader gone) ends the output quietly.
 */
import { writeSync } from 'node:fs';

const FLUSH_AT = 1 << 16;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class OutputClosed extends Error {
  constructor() {
    super('output closed');
  }
}

export class TextSink {
  private buf = '';
  /** Line-buffered: flush at every line (tcpdump -l). */
  lineBuffered = false;

  constructor(readonly fd: number) {}

  writeLine(s: string): void {
    this.buf += s + '\n';
    if (this.lineBuffered || this.buf.length >= FLUSH_AT) this.flush();
  }

  write(s: string): void {
    this.buf += s;
    if (this.lineBuffered || this.buf.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (!this.buf) return;
    const data = Buffer.from(this.buf, 'utf8');
    this.buf = '';
    writeAll(this.fd, data);
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
