/**
 * pcapng files (draft-ietf-opsawg-pcapng): blocks of (type, total length, body, total length).
 * Sections (SHB) each have their own byte order and interfaces (IDB); packets come in enhanced
 * (EPB), simple (SPB) and obsolete (PB) packet blocks. Every other block is skipped.
 */
import type { Frame } from '../core/frame.js';
import type { CaptureInterface, CaptureReader } from './reader.js';
import { nextFrame, type ByteSource } from './io.js';
import { CaptureFileError } from './error.js';
import { adjustSnaplen, MAXIMUM_SNAPLEN } from './limits.js';

export const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_PB = 0x00000002;
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** The byte-order magic as a little-endian read of a big-endian section sees it. */
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

/** libpcap's BT_SHB_INSANE_MAX: a first block longer than this is not taken for a pcapng file. */
const SHB_MAX_LEN = 1024 * 1024;
/** Blocks we must hold whole (headers and packets) may not exceed this: the largest packet any link type allows plus room for options. */
const MAX_HELD_BLOCK_LEN = 128 * 1024 * 1024 + 128 * 1024;

const utf8 = new TextDecoder();

interface Interface extends CaptureInterface {
  /** The IDB's snaplen as written (0: no limit), which cuts simple packet blocks. */
  rawSnaplen: number;
  /** Timestamp units per second when it fits the fast path (<= 2^32), else 0. */
  units: number;
  /** Units to nanoseconds: ns = floor(frac * nsMul / nsDiv), exact in doubles on the fast path. */
  nsMul: number;
  nsDiv: number;
  /** Units per second as a bigint, for the resolutions the fast path cannot do exactly. */
  unitsBig: bigint;
  /** if_tsoffset: seconds added to every timestamp. */
  tsOffset: number;
}

export class PcapngReader implements CaptureReader {
  readonly format = 'pcapng' as const;
  linkType = -1;
  snaplen = MAXIMUM_SNAPLEN;
  readonly linkTypes: number[] = [];
  /** Every interface of the file, all sections, in order. */
  readonly interfaces: Interface[] = [];
  nanosecond = false;
  /** Interfaces of the current section: EPB interface ids index this. */
  private sectionIfaces: Interface[] = [];
  private le = true;
  private count = 0;
  private failure: CaptureFileError | null = null;
  /** Result of stamp(). */
  private sec = 0;
  private nsec = 0;
  /** The frame advance() reached. */
  tsSec = 0;
  tsNsec = 0;
  capLen = 0;
  origLen = 0;
  frameLinkType = -1;
  ifIndex = 0;

  /** Checks the first section header (a bad one means "not a usable file": thrown here), then reads up to the first interface. */
  constructor(private readonly src: ByteSource) {
    const file = src.file;
    const got = src.fill(28);
    const v = src.view, p = src.pos; // the buffer holds at least 28 bytes, read or not
    // The caller has seen 12 bytes with the block type and a byte-order magic.
    this.le = v.getUint32(p + 8, true) === BYTE_ORDER_MAGIC;
    const total = v.getUint32(p + 4, this.le);
    if (total < 28 || total > SHB_MAX_LEN || total % 4 !== 0) {
      throw new CaptureFileError(`bad section header block length ${total} at byte 0`, file, 0);
    }
    const major = v.getUint16(p + 12, this.le), minor = v.getUint16(p + 14, this.le);
    if (got >= 16 && !supportedVersion(major, minor)) throw new CaptureFileError(`unsupported pcapng savefile version ${major}.${minor}`, file, 12);
    const have = src.fill(total);
    if (have < total) throw new CaptureFileError(`truncated section header block at byte 0: ${total} bytes, only ${have} present`, file, 0);
    const trailer = src.view.getUint32(src.pos + total - 4, this.le);
    if (trailer !== total) {
      throw new CaptureFileError(`section header block total length in header (${total}) and trailer (${trailer}) don't match at byte 0`, file, 0);
    }
    try {
      this.readBlocks(true);
    } catch (e) {
      if (!(e instanceof CaptureFileError)) throw e;
      // Deferred: next() reports it after the (zero) packets before it.
      this.failure = e;
    }
  }

  get fileName(): string {
    return this.src.file;
  }

  next(): Frame | null {
    return nextFrame(this, this.src);
  }

  advance(): number {
    if (this.failure) throw this.failure;
    return this.readBlocks(false);
  }

  get buf(): Uint8Array {
    return this.src.buf;
  }

  get frameNumber(): number {
    return this.count;
  }

  close(): void {
    this.src.close();
  }

  /** Reads blocks until a packet (its data offset returned), EOF (-1), or, when toFirstInterface, the first IDB (-1). */
  private readBlocks(toFirstInterface: boolean): number {
    const src = this.src;
    for (;;) {
      const got = src.end - src.pos >= 12 ? 12 : src.fill(12);
      if (got === 0) return -1;
      const start = src.offset;
      if (got < 12) return this.fail(`truncated block header at byte ${start}: ${got} of 12 bytes present`, start);
      let v = src.view, p = src.pos;
      const type = v.getUint32(p, this.le);
      if (type === BT_SHB) {
        const bom = v.getUint32(p + 8, true);
        if (bom === BYTE_ORDER_MAGIC) this.le = true;
        else if (bom === BYTE_ORDER_MAGIC_SWAPPED) this.le = false;
        else return this.fail(`bad byte-order magic 0x${bom.toString(16).padStart(8, '0')} in section header block at byte ${start}`, start);
      }
      const total = v.getUint32(p + 4, this.le);
      if (total < 12 || total % 4 !== 0) return this.fail(`bad block length ${total} at byte ${start}`, start);
      const held = type === BT_EPB || type === BT_SPB || type === BT_PB || type === BT_IDB || type === BT_SHB;
      if (!held && total > src.buf.length) {
        this.skipBlock(total, start);
        continue;
      }
      if (total > MAX_HELD_BLOCK_LEN) {
        return this.fail(`block length ${total} at byte ${start} is larger than the maximum of ${MAX_HELD_BLOCK_LEN}`, start);
      }
      if (src.end - p < total) {
        const have = src.fill(total);
        if (have < total) return this.fail(`truncated block at byte ${start}: ${total} bytes, only ${have} present`, start);
        v = src.view;
        p = src.pos;
      }
      const trailer = v.getUint32(p + total - 4, this.le);
      if (trailer !== total) {
        return this.fail(`block total length in header (${total}) and trailer (${trailer}) don't match at byte ${start}`, start);
      }
      switch (type) {
        case BT_EPB:
        case BT_PB: {
          if (total < 32) return this.fail(`bad packet block length ${total} at byte ${start}`, start);
          const id = type === BT_EPB ? v.getUint32(p + 8, this.le) : v.getUint16(p + 8, this.le);
          const capLen = v.getUint32(p + 20, this.le);
          if (capLen > total - 32) {
            return this.fail(`captured length ${capLen} overruns the ${total}-byte packet block at byte ${start}`, start);
          }
          const iface = this.sectionIfaces[id];
          if (iface === undefined) return this.noInterface(id, start);
          this.stamp(iface, v.getUint32(p + 12, this.le), v.getUint32(p + 16, this.le));
          src.pos = p + total;
          return this.frame(iface, id, this.sec, this.nsec, capLen, v.getUint32(p + 24, this.le), p + 28);
        }
        case BT_SPB: {
          if (total < 16) return this.fail(`bad simple packet block length ${total} at byte ${start}`, start);
          const iface = this.sectionIfaces[0];
          if (iface === undefined) return this.noInterface(0, start);
          const origLen = v.getUint32(p + 8, this.le);
          // The captured length is the packet length cut to interface 0's snaplen (0: none) and to the block.
          let capLen = origLen;
          if (iface.rawSnaplen !== 0 && capLen > iface.rawSnaplen) capLen = iface.rawSnaplen;
          if (capLen > total - 16) capLen = total - 16;
          src.pos = p + total;
          return this.frame(iface, 0, 0, 0, capLen, origLen, p + 12);
        }
        case BT_IDB:
          this.addInterface(v, p, total, start);
          src.pos = p + total;
          if (toFirstInterface) return -1;
          break;
        case BT_SHB: {
          if (total < 28) return this.fail(`bad section header block length ${total} at byte ${start}`, start);
          const major = v.getUint16(p + 12, this.le), minor = v.getUint16(p + 14, this.le);
          if (!supportedVersion(major, minor)) {
            return this.fail(`unsupported pcapng section version ${major}.${minor} at byte ${start}`, start);
          }
          this.sectionIfaces = [];
          src.pos = p + total;
          break;
        }
        default:
          src.pos = p + total;
      }
    }
  }

  /** Makes the packet at `at` the current frame; returns `at`. */
  private frame(iface: Interface, id: number, sec: number, nsec: number, capLen: number, origLen: number, at: number): number {
    this.count++;
    this.frameLinkType = iface.linkType;
    this.tsSec = sec;
    this.tsNsec = nsec;
    this.capLen = capLen;
    this.origLen = origLen;
    this.ifIndex = id;
    return at;
  }

  /** A block too big for the buffer that we do not need: read through it, then check its trailer. */
  private skipBlock(total: number, start: number): void {
    const src = this.src;
    const skipped = src.skip(total - 4);
    const got = skipped === total - 4 ? src.fill(4) : 0;
    if (got < 4) this.fail(`truncated block at byte ${start}: ${total} bytes, only ${skipped + got} present`, start);
    const trailer = src.view.getUint32(src.pos, this.le);
    if (trailer !== total) this.fail(`block total length in header (${total}) and trailer (${trailer}) don't match at byte ${start}`, start);
    src.pos += 4;
  }

  private addInterface(v: DataView, p: number, total: number, start: number): void {
    if (total < 20) this.fail(`bad interface description block length ${total} at byte ${start}`, start);
    const le = this.le;
    const linkType = v.getUint16(p + 8, le);
    const rawSnaplen = v.getUint32(p + 12, le);
    let name = '';
    let tsresol = 6;
    let tsOffset = 0;
    const end = p + total - 4;
    for (let o = p + 16; o + 4 <= end; ) {
      const code = v.getUint16(o, le), len = v.getUint16(o + 2, le);
      if (o + 4 + len > end) {
        this.fail(`option ${code} of length ${len} overruns the interface description block at byte ${start}`, start);
      }
      if (code === OPT_ENDOFOPT) break;
      if (code === IF_NAME) name = utf8.decode(new Uint8Array(v.buffer, o + 4, len)).replace(/\0+$/, '');
      else if (code === IF_TSRESOL && len >= 1) tsresol = v.getUint8(o + 4);
      else if (code === IF_TSOFFSET && len >= 8) tsOffset = Number(v.getBigInt64(o + 4, le));
      o += 4 + ((len + 3) & ~3);
    }
    const iface: Interface = {
      linkType, snaplen: adjustSnaplen(linkType, rawSnaplen), rawSnaplen, name,
      units: 0, nsMul: 1, nsDiv: 1, unitsBig: 0n, tsOffset,
    };
    if (tsresol & 0x80) {
      const k = tsresol & 0x7f;
      if (k > 63) this.fail(`if_tsresol 2^-${k} is too fine at byte ${start}`, start);
      iface.unitsBig = 1n << BigInt(k);
      if (k <= 31) {
        iface.units = 2 ** k;
        // ns = frac * 1e9 / 2^k = frac * 1953125 / 2^(k-9): products stay below 2^53.
        if (k >= 9) { iface.nsMul = 1953125; iface.nsDiv = 2 ** (k - 9); } else { iface.nsMul = 1e9; iface.nsDiv = 2 ** k; }
      }
    } else {
      if (tsresol > 19) this.fail(`if_tsresol 10^-${tsresol} is too fine at byte ${start}`, start);
      iface.unitsBig = 10n ** BigInt(tsresol);
      if (tsresol <= 9) { iface.units = 10 ** tsresol; iface.nsMul = 10 ** (9 - tsresol); }
    }
    if (iface.unitsBig > 1_000_000n) this.nanosecond = true;
    this.sectionIfaces.push(iface);
    this.interfaces.push(iface);
    if (this.linkType === -1) {
      this.linkType = linkType;
      this.snaplen = iface.snaplen;
    }
    if (!this.linkTypes.includes(linkType)) this.linkTypes.push(linkType);
  }

  /** Sets sec/nsec from a 64-bit timestamp hi:lo in the interface's units. */
  private stamp(f: Interface, hi: number, lo: number): void {
    const R = f.units;
    if (R !== 0) {
      // Long division of hi:lo by R in 32/16/16-bit steps: every intermediate stays exact.
      const q1 = Math.floor(hi / R);
      let r = hi - q1 * R;
      r = r * 65536 + (lo >>> 16);
      const q2 = Math.floor(r / R);
      r -= q2 * R;
      r = r * 65536 + (lo & 0xffff);
      const q3 = Math.floor(r / R);
      r -= q3 * R;
      this.sec = q1 * 4294967296 + q2 * 65536 + q3 + f.tsOffset;
      this.nsec = Math.floor((r * f.nsMul) / f.nsDiv);
      return;
    }
    const t = (BigInt(hi) << 32n) | BigInt(lo);
    const frac = t % f.unitsBig;
    this.sec = Number(t / f.unitsBig) + f.tsOffset;
    this.nsec = Number((frac * 1_000_000_000n) / f.unitsBig);
  }

  private noInterface(id: number, start: number): never {
    return this.fail(`packet block at byte ${start} is for interface ${id}, which has no interface description block`, start);
  }

  private fail(message: string, offset: number): never {
    this.failure = new CaptureFileError(message, this.src.file, offset);
    throw this.failure;
  }
}

/** libpcap and Wireshark read 1.0 and 1.2 (1.2 only adds block types). */
function supportedVersion(major: number, minor: number): boolean {
  return major === 1 && (minor === 0 || minor === 2);
}
