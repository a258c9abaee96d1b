/**
 * Classic pcap files (pcap-savefile(5)): a 24-byte file header, then records of a 16-byte header
 * (seconds, micro- or nanoseconds, captured length, original length) and the captured bytes.
 * Version and length-order rules follow libpcap's sf-pcap.c.
 */
import type { Frame } from '../core/frame.js';
import type { CaptureInterface, CaptureReader, RecordRuns } from './reader.js';
import type { MatchAtFn } from '../filter/codegen.js';
import { nextFrame, type ByteSource } from './io.js';
import { CaptureFileError } from './error.js';
import { adjustSnaplen, maxCapLenFor } from './limits.js';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** Alexey Kuznetzov's patched libpcap: 8 more bytes (ifindex, protocol, pkt_type) per record header. */
export const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;

const FILE_HEADER_LEN = 24;
const LINKTYPE_ETHERNET = 1;
/** Bits 16-25 of the link-type field are reserved; the FCS bits above them are ignored, as libpcap does. */
const LINKTYPE_RESERVED_BITS = 0x03ff0000;

/** The byte-swapped form of a 32-bit magic number. */
export function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

export class PcapReader implements CaptureReader {
  readonly format = 'pcap' as const;
  readonly linkType: number;
  readonly snaplen: number;
  readonly linkTypes: readonly number[];
  readonly interfaces: readonly CaptureInterface[];
  readonly nanosecond: boolean;
  /** The file's byte order is little-endian (LINKTYPE_NULL headers follow the writer's order). */
  readonly le: boolean;
  private readonly recordLen: number;
  /** Multiplier from the file's sub-second unit to nanoseconds. */
  private readonly nsScale: number;
  /** 0: lengths in bpf order; 1: caplen/len swapped (before 2.3, DG/UX 543.0); 2: 2.3, swapped when caplen > len. */
  private readonly lengthOrder: 0 | 1 | 2;
  private readonly maxCapLen: number;
  /** Records longer than this are cut to it (libpcap's snaplen rule), or Infinity. */
  private readonly clipLen: number;
  private count = 0;
  private failure: CaptureFileError | null = null;
  /** The frame advance() reached. */
  tsSec = 0;
  tsNsec = 0;
  capLen = 0;
  origLen = 0;

  /** Reads the file header; `magic` is the first 4 bytes as a big-endian number. Throws CaptureFileError if unusable. */
  constructor(private readonly src: ByteSource, magic: number, clipToSnaplen: boolean) {
    const file = src.file;
    const got = src.fill(FILE_HEADER_LEN);
    if (got < FILE_HEADER_LEN) {
      throw new CaptureFileError(`truncated dump file: the file header is ${FILE_HEADER_LEN} bytes, only ${got} present`, file, 0);
    }
    this.le = magic !== PCAP_MAGIC_USEC && magic !== PCAP_MAGIC_NSEC && magic !== PCAP_MAGIC_KUZNETZOV;
    const base = this.le ? swap32(magic) : magic;
    const v = src.view, p = src.pos, le = this.le;
    const major = v.getUint16(p + 4, le), minor = v.getUint16(p + 6, le);
    if (major < 2) throw new CaptureFileError(`archaic pcap savefile format (version ${major}.${minor})`, file, 4);
    if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
      throw new CaptureFileError(`unsupported pcap savefile version ${major}.${minor}`, file, 4);
    }
    const rawSnaplen = v.getUint32(p + 16, le);
    const linkField = v.getUint32(p + 20, le);
    if ((linkField & LINKTYPE_RESERVED_BITS) !== 0) {
      throw new CaptureFileError(
        `bad link-layer type field 0x${linkField.toString(16).padStart(8, '0')}: reserved bits 0x${(linkField & LINKTYPE_RESERVED_BITS).toString(16).padStart(8, '0')} are not zero`,
        file, 20);
    }
    this.linkType = linkField & 0xffff;
    let snaplen = adjustSnaplen(this.linkType, rawSnaplen);
    // libpcap assumes a patched-libpcap Ethernet capture was cooked, with a 14-byte fake header on top of snaplen.
    if (base === PCAP_MAGIC_KUZNETZOV && this.linkType === LINKTYPE_ETHERNET) snaplen = Math.min(snaplen + 14, 0x7fffffff);
    this.snaplen = snaplen;
    this.maxCapLen = maxCapLenFor(this.linkType);
    this.clipLen = clipToSnaplen ? this.snaplen : Infinity;
    this.linkTypes = [this.linkType];
    this.interfaces = [{ linkType: this.linkType, snaplen: this.snaplen, name: '' }];
    this.nanosecond = base === PCAP_MAGIC_NSEC;
    this.nsScale = this.nanosecond ? 1 : 1000;
    this.recordLen = base === PCAP_MAGIC_KUZNETZOV ? 24 : 16;
    this.lengthOrder = major === 543 || minor < 3 ? 1 : minor === 3 ? 2 : 0;
    src.pos += FILE_HEADER_LEN;
  }

  get fileName(): string {
    return this.src.file;
  }

  next(): Frame | null {
    return nextFrame(this, this.src);
  }

  get buf(): Uint8Array {
    return this.src.buf;
  }

  get frameLinkType(): number {
    return this.linkType;
  }

  get ifIndex(): number {
    return 0;
  }

  get frameNumber(): number {
    return this.count;
  }

  advance(): number {
    if (this.failure) throw this.failure;
    const src = this.src;
    const hl = this.recordLen;
    if (src.end - src.pos < hl) {
      const got = src.fill(hl);
      if (got === 0) return -1;
      if (got < hl) return this.fail(`truncated packet record header at byte ${src.offset}: ${got} of ${hl} bytes present`, src.offset);
    }
    const v = src.view, le = this.le;
    let p = src.pos;
    const sec = v.getUint32(p, le);
    const frac = v.getUint32(p + 4, le);
    let capLen = v.getUint32(p + 8, le);
    let origLen = v.getUint32(p + 12, le);
    if (this.lengthOrder === 1 || (this.lengthOrder === 2 && capLen > origLen)) {
      const t = capLen; capLen = origLen; origLen = t;
    }
    if (capLen > this.maxCapLen) {
      return this.fail(`invalid captured length ${capLen} in packet record at byte ${src.offset} (maximum ${this.maxCapLen})`, src.offset);
    }
    const need = hl + capLen;
    if (src.end - p < need) {
      const got = src.fill(need);
      if (got < need) {
        return this.fail(
          `truncated packet record at byte ${src.offset}: ${capLen} captured bytes, only ${Math.max(0, got - hl)} present`, src.offset);
      }
      p = src.pos;
    }
    src.pos = p + need;
    this.count++;
    this.tsSec = sec;
    // Not normalised: a sub-second field of 1e6 us or more is kept, as tcpdump prints it ("(invalid us)").
    this.tsNsec = frac * this.nsScale;
    this.capLen = capLen > this.clipLen ? this.clipLen : capLen;
    this.origLen = origLen;
    return p + hl;
  }

  /**
   * The records are what a little-endian microsecond pcap writer writes (header and data byte for
   * byte), so copyRuns() may pass them on unchanged.
   */
  get recordsAsWritten(): boolean {
    return this.le && !this.nanosecond && this.recordLen === 16 && this.lengthOrder === 0;
  }

  /**
   * Copying without a Frame per record (the -w path; only when recordsAsWritten): hands each run
   * of consecutive wanted records, headers and data as they are in the file, to out.run(buf,
   * start, end), and a record cut to the snaplen to out.record(). Stops after `limit` records
   * passed on. A run is handed over before the buffer can move (to read more) and before damage
   * is thrown, so every complete record before the damage has gone out. Returns the records passed on.
   */
  copyRuns(want: MatchAtFn | null, limit: number, out: RecordRuns): number {
    const src = this.src;
    const maxCapLen = this.maxCapLen, clipLen = this.clipLen;
    let passed = 0;
    let runStart = 0, runEnd = 0;
    while (passed < limit) {
      const p = src.pos, left = src.end - p;
      let capLen = left >= 16 ? src.view.getUint32(p + 8, true) : 0;
      let at: number, origLen: number;
      if (left >= 16 && capLen <= maxCapLen && left >= 16 + capLen) {
        // Whole in the buffer: read here, without advance()'s cases for other formats.
        at = p + 16;
        origLen = src.view.getUint32(p + 12, true);
        src.pos = at + capLen;
        this.count++;
        if (capLen > clipLen) capLen = clipLen;
      } else {
        // advance() reads more (the buffer moves) or throws for damage: the run goes out first.
        if (runEnd > runStart) out.run(src.buf, runStart, runEnd);
        runStart = runEnd = 0;
        at = this.advance();
        if (at < 0) break;
        capLen = this.capLen;
        origLen = this.origLen;
      }
      if (want !== null && want(src.buf, at, capLen, origLen) === 0) continue;
      passed++;
      if (capLen < src.pos - at) {
        // Cut to the snaplen: the header changes, so the record goes out on its own.
        if (runEnd > runStart) out.run(src.buf, runStart, runEnd);
        runStart = runEnd = 0;
        out.record(src.view.getUint32(at - 16, true), src.view.getUint32(at - 12, true) * 1000, capLen, origLen, src.buf, at);
      } else if (runEnd === at - 16 && runEnd > runStart) runEnd = src.pos;
      else {
        if (runEnd > runStart) out.run(src.buf, runStart, runEnd);
        runStart = at - 16;
        runEnd = src.pos;
      }
    }
    if (runEnd > runStart) out.run(src.buf, runStart, runEnd);
    return passed;
  }

  private fail(message: string, offset: number): never {
    this.failure = new CaptureFileError(message, this.src.file, offset);
    throw this.failure;
  }

  close(): void {
    this.src.close();
  }
}
