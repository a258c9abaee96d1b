/**
 * tcpdump's -w file rotation (-C size, -G seconds, -W count), with its exact file names
 * (tcpdump.c MakeFilename and dump_packet_and_trunc):
 * - -C N: a new file once the current one is larger than N * 1,000,000 bytes, checked before each
 *   packet; files are FILE, FILE1, FILE2, ...; with -W K they are numbered with the digits of
 *   K-1 (FILE0, FILE1, ... FILE{K-1}) and the numbers wrap, overwriting the oldest.
 * - -G S: FILE is a strftime pattern, expanded at the rotation time; a new file on the first
 *   packet S or more seconds after the last rotation; with -C the size count restarts at 0 in
 *   each period; with -W K and no -C, tcpdump stops after K files ("Maximum file limit reached").
 */
import type { Frame } from '../core/frame.js';
import { PcapWriter } from '../pcap/writer.js';
import { strftime } from './strftime.js';

const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

export interface RotationOptions {
  /** The -w argument. */
  path: string;
  linkType: number;
  snaplen: number;
  nano: boolean;
  packetBuffered: boolean;
  /** -C in bytes. */
  sizeLimit?: number;
  /** -G. */
  seconds?: number;
  /** -W. */
  fileCount?: number;
  /** Wall-clock seconds now (tcpdump's time(NULL)); replaceable for tests. */
  now?: () => number;
}

/** Thrown by write() when -G with -W has produced its last file: the capture ends. */
export class FileLimitReached extends Error {
  constructor(readonly fileCount: number) {
    super(`Maximum file limit reached: ${fileCount}`);
    this.name = 'FileLimitReached';
  }
}

/** Digits for -W K: those of K-1 (tcpdump's getWflagChars). */
export function fileNumberWidth(fileCount: number): number {
  let chars = 0;
  for (let x = fileCount - 1; x > 0; x = Math.floor(x / 10)) chars++;
  return chars;
}

export class RotatingWriter {
  /** Every file name opened, in order (a name reused by -W wrapping appears again). */
  readonly opened: string[] = [];
  private writer: PcapWriter;
  /** Bytes in the current file, as ftell() would say. */
  private size = 0;
  private sizeCount = 0;
  private timeCount = 0;
  private rotatedAt: number;
  private readonly width: number;
  private readonly now: () => number;

  constructor(private readonly o: RotationOptions) {
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.rotatedAt = this.now();
    this.width = o.fileCount !== undefined ? fileNumberWidth(o.fileCount) : 0;
    this.writer = this.open(0, o.sizeLimit !== undefined ? this.width : 0);
  }

  /** The file being written. */
  get current(): string {
    return this.opened[this.opened.length - 1];
  }

  write(f: Frame): void {
    const o = this.o;
    if (o.seconds !== undefined) {
      const t = this.now();
      if (t - this.rotatedAt >= o.seconds) {
        this.rotatedAt = t;
        this.timeCount++;
        this.writer.close();
        if (o.sizeLimit === undefined && o.fileCount !== undefined && this.timeCount >= o.fileCount) {
          throw new FileLimitReached(o.fileCount);
        }
        this.sizeCount = 0;
        this.writer = this.open(0, o.sizeLimit !== undefined ? this.width : 0);
      }
    }
    if (o.sizeLimit !== undefined && this.size > o.sizeLimit) {
      this.writer.close();
      this.sizeCount++;
      if (o.fileCount !== undefined && this.sizeCount >= o.fileCount) this.sizeCount = 0;
      this.writer = this.open(this.sizeCount, this.width);
    }
    this.writer.write(f);
    this.size += RECORD_HEADER_LEN + (f.capLen < o.snaplen ? f.capLen : o.snaplen);
  }

  flush(): void {
    this.writer.flush();
  }

  close(): void {
    this.writer.close();
  }

  /** tcpdump's MakeFilename: strftime under -G, then the number unless it is 0 with no width. */
  private fileName(count: number, width: number): string {
    const base = this.o.seconds !== undefined ? strftime(this.o.path, this.rotatedAt) : this.o.path;
    return count === 0 && width === 0 ? base : base + String(count).padStart(width, '0');
  }

  private open(count: number, width: number): PcapWriter {
    const name = this.fileName(count, width);
    const w = new PcapWriter(name, {
      linkType: this.o.linkType, snaplen: this.o.snaplen, nano: this.o.nano, packetBuffered: this.o.packetBuffered,
    });
    this.opened.push(name);
    this.size = FILE_HEADER_LEN;
    return w;
  }
}
