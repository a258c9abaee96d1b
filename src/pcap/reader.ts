/**
 * Opening capture files: the format comes from the magic number (never the name), then a
 * synchronous pull reader delivers frames one at a time from a bounded buffer.
 */
import { fs } from '../core/node-fs.js';
import type { Frame } from '../core/frame.js';
import { ByteSource, systemMessage } from './io.js';
import { CaptureFileError } from './error.js';
import { PcapReader, PCAP_MAGIC_KUZNETZOV, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, swap32 } from './pcap.js';
import { BT_SHB, PcapngReader } from './pcapng.js';

export { CaptureFileError } from './error.js';

export interface CaptureInterface {
  /** LINKTYPE_* value. */
  readonly linkType: number;
  /** Snapshot length as libpcap reports it (0 and oversized values become the link type's maximum). */
  readonly snaplen: number;
  /** pcapng if_name, or ''. */
  readonly name: string;
}

export interface CaptureReader {
  readonly format: 'pcap' | 'pcapng';
  /** The path as given ("-" for standard input). */
  readonly fileName: string;
  /** Link type of the first interface (what tcpdump reports); -1 while a pcapng file has shown no interface. */
  readonly linkType: number;
  /** Distinct link types seen so far, in order of appearance. */
  readonly linkTypes: readonly number[];
  /** Snapshot length of the first interface. */
  readonly snaplen: number;
  /** Interfaces seen so far (pcapng: every section's, in file order; pcap: one). */
  readonly interfaces: readonly CaptureInterface[];
  /** Timestamps in the file are finer than microseconds. */
  readonly nanosecond: boolean;
  /**
   * The next frame, or null at the end. Frame.data aliases the reader's buffer: valid until the
   * next call. A damaged file throws CaptureFileError after every complete frame before the damage.
   */
  next(): Frame | null;
  /**
   * next() without a Frame object: the offset in `buf` of the next frame's capLen bytes, or -1 at
   * the end; its other fields are this reader's (tsSec, capLen, ...), all valid until the next call.
   */
  advance(): number;
  /** The buffer advance()'s offsets are in (it may be replaced by a bigger one at any advance()). */
  readonly buf: Uint8Array;
  /** The frame advance() reached, as in Frame. */
  readonly frameNumber: number;
  readonly frameLinkType: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly capLen: number;
  readonly origLen: number;
  readonly ifIndex: number;
  close(): void;
}

/** Where copied records go (PcapReader.copyRuns): a pcap writer. */
export interface RecordRuns {
  /** Whole records, headers included, as a little-endian microsecond pcap writer writes them: buf[start, end). */
  run(buf: Uint8Array, start: number, end: number): void;
  /** One record from its fields and captured bytes buf[at, at + capLen). */
  record(tsSec: number, tsNsec: number, capLen: number, origLen: number, buf: Uint8Array, at: number): void;
}

export interface OpenOptions {
  /** Bytes per read (and the buffer size); by default reads start at 128 KiB and grow to 1 MiB. */
  chunkSize?: number;
  /**
   * pcap records that claim more bytes than the file's snaplen are cut to it, as libpcap does
   * (what tcpdump shows). false keeps them whole, as Wireshark does (tshark's frame.cap_len).
   * Default true. pcapng packets are never cut (libpcap refuses such files; Wireshark reads them).
   */
  clipToSnaplen?: boolean;
}

export const DEFAULT_CHUNK_SIZE = 1 << 17;
/** The size reads grow to on a long input, unless OpenOptions.chunkSize fixes it. */
const MAX_CHUNK_SIZE = 1 << 20;

const PCAP_MAGICS = [PCAP_MAGIC_USEC, PCAP_MAGIC_NSEC, PCAP_MAGIC_KUZNETZOV];
const GZIP_MAGIC = 0x1f8b;

/** Opens a pcap or pcapng file ("-": standard input). Throws CaptureFileError when it cannot be read as one. */
export function openCapture(path: string, options: OpenOptions = {}): CaptureReader {
  let fd: number;
  if (path === '-') fd = 0;
  else {
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw new CaptureFileError(`${path}: ${systemMessage(e)}`, path, -1, (e as NodeJS.ErrnoException).code);
    }
  }
  const src = new ByteSource(fd, path, options.chunkSize ?? DEFAULT_CHUNK_SIZE, options.chunkSize ?? MAX_CHUNK_SIZE);
  try {
    const got = src.fill(12);
    if (got < 4) {
      throw new CaptureFileError(got === 0 ? 'empty file, not a capture file' : `truncated dump file: only ${got} bytes`, path, 0);
    }
    const magic = src.view.getUint32(src.pos, false);
    for (const m of PCAP_MAGICS) if (magic === m || magic === swap32(m)) return new PcapReader(src, magic, options.clipToSnaplen ?? true);
    if (magic === BT_SHB && got >= 12) {
      const bom = src.view.getUint32(src.pos + 8, false);
      if (bom === 0x1a2b3c4d || bom === 0x4d3c2b1a) return new PcapngReader(src);
    }
    if (magic >>> 16 === GZIP_MAGIC) throw new CaptureFileError('unknown file format (gzip-compressed: gunzip it first)', path, 0);
    throw new CaptureFileError('unknown file format', path, 0);
  } catch (e) {
    src.close();
    throw e;
  }
}
