/**
 * Classic pcap output (tcpdump -w): the file header goes out at once, records are buffered whole
 * and written in large chunks, so the file is valid after any flush (e.g. on SIGINT).
 */
import { fs } from '../core/node-fs.js';
import type { Frame } from '../core/frame.js';
import type { RecordRuns } from './reader.js';
import { systemMessage, writeFully } from './io.js';
import { CaptureFileError } from './error.js';
import { MAXIMUM_SNAPLEN } from './limits.js';
import { linkTypeDescription } from '../core/linktypes.js';
import { PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './pcap.js';

export interface PcapWriterOptions {
  /** LINKTYPE_* of every frame written. */
  linkType: number;
  /** Written in the header; longer frames are cut to it. Default 262144. */
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nano?: boolean;
  /** Flush after every record (tcpdump -U). */
  packetBuffered?: boolean;
  /** Bytes buffered before a write. */
  bufferSize?: number;
}

/** A frame whose link type is not the file's: a pcap file holds one. */
export function oneLinkTypeError(frameNumber: number, linkType: number, fileLinkType: number, name: string): CaptureFileError {
  return new CaptureFileError(
    `frame ${frameNumber} has link type ${linkTypeDescription(linkType)}, but a pcap file holds one link type (${linkTypeDescription(fileLinkType)})`,
    name, -1,
  );
}

const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
const DEFAULT_BUFFER_SIZE = 256 * 1024;
const PRIMING_RUNS = 16;

/** Writes little-endian (as libpcap does on x86 and ARM) pcap to a path, or to standard output for "-". */
export class PcapWriter implements RecordRuns {
  readonly fileName: string;
  readonly snaplen: number;
  private fd: number;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private len = 0;
  /** Flush before buffering more than this: the buffer's size (see the constructor). */
  private flushAt = 0;
  /** Bytes handed to the system so far: the file offset of buf[0]. */
  private written = 0;
  readonly nano: boolean;
  private readonly packetBuffered: boolean;

  constructor(
    /** The path as given ("-" for standard output). */
    readonly path: string,
    opts: PcapWriterOptions,
  ) {
    this.fileName = path === '-' ? 'standard output' : path;
    this.snaplen = opts.snaplen ?? MAXIMUM_SNAPLEN;
    this.nano = opts.nano ?? false;
    this.packetBuffered = opts.packetBuffered ?? false;
    this.buf = new Uint8Array(Math.max(opts.bufferSize ?? DEFAULT_BUFFER_SIZE, FILE_HEADER_LEN + RECORD_HEADER_LEN));
    this.view = new DataView(this.buf.buffer);
    if (path === '-') this.fd = 1;
    else {
      try {
        this.fd = fs.openSync(path, 'w');
      } catch (e) {
        throw new CaptureFileError(`${path}: ${systemMessage(e)}`, path, -1, (e as NodeJS.ErrnoException).code);
      }
    }
    const v = this.view;
    v.setUint32(0, this.nano ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(8, 0, true); // thiszone
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, opts.linkType, true);
    this.len = FILE_HEADER_LEN;
    this.flush();
    // V8 compiles a copy loop with run() inlined and drops the compiled code at a branch it has
    // never seen taken, as run()'s flush branch is until the first full buffer, part-way through a
    // file (measured on 1M packets, -w with a filter: ~15 ms more CPU while the loop is compiled
    // again). So the branch is taken here, writing nothing, often enough to be seen (V8 records
    // nothing on a function's first calls).
    for (let i = 0; i < PRIMING_RUNS; i++) {
      this.flushAt = -1;
      this.run(this.buf, 0, 0);
    }
  }

  /** Appends one record (frame.capLen bytes of frame.data, cut to snaplen). */
  write(frame: Frame): void {
    this.record(frame.tsSec, frame.tsNsec, frame.capLen, frame.origLen, frame.data, 0);
  }

  /** Appends one record: capLen bytes of data from `at` (cut to snaplen), and its header fields as in Frame. */
  record(tsSec: number, tsNsec: number, capLen: number, origLen: number, data: Uint8Array, at: number): void {
    if (this.fd < 0) throw new CaptureFileError(`${this.fileName}: write after close`, this.path, this.written);
    if (capLen > this.snaplen) capLen = this.snaplen;
    const size = RECORD_HEADER_LEN + capLen;
    if (this.len + size > this.flushAt) this.flush();
    const v = this.view;
    let o = this.len;
    v.setUint32(o, tsSec >>> 0, true);
    // Division, not a shift: an out-of-range sub-second value written by a broken capturer is passed on as read.
    v.setUint32(o + 4, (this.nano ? tsNsec : Math.floor(tsNsec / 1000)) >>> 0, true);
    v.setUint32(o + 8, capLen, true);
    v.setUint32(o + 12, origLen, true);
    o += RECORD_HEADER_LEN;
    if (size <= this.buf.length) {
      this.buf.set(data.subarray(at, at + capLen), o);
      this.len = o + capLen;
    } else {
      // Bigger than the buffer: the header (alone in the buffer) goes out, then the data straight from the frame.
      this.len = o;
      this.flush();
      this.send(data, at, at + capLen);
    }
    if (this.packetBuffered) this.flush();
  }

  /**
   * Appends whole records as they are to be written (headers included, each cut to snaplen
   * already, in this writer's timestamp unit): buf[start, end). A run as big as the buffer is
   * written straight from buf, without a copy.
   */
  run(buf: Uint8Array, start: number, end: number): void {
    if (this.fd < 0) throw new CaptureFileError(`${this.fileName}: write after close`, this.path, this.written);
    const n = end - start;
    if (n >= this.buf.length) {
      this.flush();
      this.send(buf, start, end);
      return;
    }
    if (this.len + n > this.flushAt) this.flush();
    this.buf.set(buf.subarray(start, end), this.len);
    this.len += n;
    if (this.packetBuffered) this.flush();
  }

  /** Writes out every buffered record. */
  flush(): void {
    this.flushAt = this.buf.length;
    if (this.len === 0 || this.fd < 0) return;
    const n = this.len;
    // Emptied first: after an error (EPIPE) the records are dropped, not retried by close().
    this.len = 0;
    this.send(this.buf, 0, n);
  }

  /** Flushes and closes the file (standard output stays open). */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      if (this.fd > 2) fs.closeSync(this.fd);
      this.fd = -1;
    }
  }

  private send(buf: Uint8Array, start: number, end: number): void {
    try {
      writeFully(this.fd, buf, start, end);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CaptureFileError(`${this.fileName}: ${systemMessage(e)}`, this.path, this.written, code);
    }
    this.written += end - start;
  }
}
