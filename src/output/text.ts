/**
 * tcpdump's text output: the per-packet prefix (-#, timestamps), the layer printers, and the
 * -x/-xx/-X/-XX/-A/-AA dumps, assembled into one string per packet.
 */
import type { Packet } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import type { ByteView } from '../core/view.js';
import type { TcpNumberLog } from './tcp-seq.js';
import { IPV6_COMPATIBLE, IPV6_MAPPED, ipv6Layout, ipv6Words, pad2, pad6, pad9 } from './format.js';

export interface TextOptions {
  /** -n count: 0 resolves names, 1+ prints numbers. */
  n: number;
  /** -v count. */
  v: number;
  /** -e: print the link-level header. */
  e: boolean;
  /** -q count: quiet, less protocol information (-qq: tcpdump's ultra quiet). */
  q: number;
  /** -N: host names printed without their domain. */
  N: boolean;
  /** -S: absolute TCP sequence numbers. */
  S: boolean;
  /** -t count: 0 default, 1 none (-t), 2 epoch (-tt), 3 delta (-ttt), 4 date (-tttt), 5 since first (-ttttt). */
  t: number;
  /** -x count (hex), -X count (hex and ASCII), -A count (ASCII). */
  x: number;
  X: number;
  A: number;
  /** -#: print the packet number. */
  number: boolean;
  /** --nano: nanosecond timestamps. */
  nano: boolean;
  /** -K: do not verify checksums. */
  K: boolean;
}

export const defaultTextOptions: TextOptions = {
  n: 0, v: 0, e: false, q: 0, N: false, S: false, t: 0, x: 0, X: 0, A: 0, number: false, nano: false, K: false,
};

/**
 * The printer context handed to every dissector's print(): options, run state, and the output.
 * Output goes two ways that keep their order: printers write ASCII text straight into bytes
 * (put, num, ipv4), and may still append any text to `s`, which is encoded (UTF-8) into the
 * bytes before the next direct write and at the end of the packet. Direct writes build no
 * strings: on the common lines that is most of the cost of printing them.
 */
export class TextOut {
  /** Text not yet moved into the bytes (printers may append to it freely). */
  s = '';
  /** Per-run state printers may keep (tcpdump keeps e.g. a TCP sequence-number table). Keyed by printer. */
  readonly state = new Map<string, unknown>();
  /**
   * Set in a worker thread of the parallel text path: TCP numbers relative to earlier packets are
   * logged here (deferNum) instead of printed, and written in by the thread that merges the batches.
   */
  tcpLog: TcpNumberLog | null = null;
  /** Bytes of the link-layer header (what -x without a second x skips). Set by link-layer printers. */
  linkHdrLen = 0;
  /** Output bytes: the lines appended so far (appendPacket), or the packet being formatted. */
  bytes: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  /** Bytes of `bytes` in use. */
  len = 0;
  private prevSec = -1;
  private prevNsec = 0;
  private firstSec = -1;
  private firstNsec = 0;
  private tzCacheStart = 1;
  private tzCacheEnd = 0;
  private tzOffset = 0;
  /** The formatted "HH:MM:SS." (or date and time) of the last second printed: consecutive packets share it. */
  private clockSec = NaN;
  private clockText: Uint8Array = ascii('');
  /** ipv6()'s cache: per slot, the address's four words, and its text's length then the text. */
  private readonly v6Keys = new Int32Array(4 << V6_CACHE_BITS);
  private readonly v6Text = new Uint8Array(V6_TEXT_STRIDE << V6_CACHE_BITS);

  constructor(readonly opts: TextOptions) {}

  /** Prints layer i of p (the printers' way to go one layer deeper); nothing past the last layer. */
  printLayer(p: Packet, i: number): void {
    if (i < p.layers.length) p.layers[i].dissector.print(p, i, this);
  }

  /** Appends text (ASCII expected; anything else is written as UTF-8). */
  put(t: string): void {
    if (this.s !== '') this.spill();
    const n = t.length;
    if (this.len + n > this.bytes.length) this.grow(n);
    const b = this.bytes;
    let k = this.len;
    for (let i = 0; i < n; i++) {
      const c = t.charCodeAt(i);
      if (c > 0x7f) {
        this.len = k;
        this.s = t.slice(i);
        this.spill();
        return;
      }
      b[k++] = c;
    }
    this.len = k;
  }

  /**
   * Appends ASCII text given as bytes (ascii()): constant text goes out faster this way than
   * through put(), which reads a string of any kind character by character and checks each one.
   */
  putAscii(t: Uint8Array): void {
    if (this.s !== '') this.spill();
    const n = t.length;
    if (this.len + n > this.bytes.length) this.grow(n);
    const b = this.bytes;
    let k = this.len;
    for (let i = 0; i < n; i++) b[k++] = t[i];
    this.len = k;
  }

  /** Leaves a number for the merging thread to write here (tcpLog set). */
  deferNum(kind: number, raw: number): void {
    if (this.s !== '') this.spill();
    this.tcpLog!.number(kind, this.len, raw);
  }

  /** Appends src[start..end). */
  putBytes(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.s !== '') this.spill();
    if (this.len + n > this.bytes.length) this.grow(n);
    if (n > SHORT_COPY) {
      this.len += src.copy(this.bytes, this.len, start, end);
      return;
    }
    // A short span costs less copied here than through a native call.
    const b = this.bytes;
    let k = this.len;
    for (let i = start; i < end; i++) b[k++] = src[i];
    this.len = k;
  }

  /** The stamps -ttt and -ttttt count from: the previous packet's and the first's (sec -1: none yet). */
  get timeBase(): [number, number, number, number] {
    return [this.prevSec, this.prevNsec, this.firstSec, this.firstNsec];
  }

  set timeBase(t: [number, number, number, number]) {
    [this.prevSec, this.prevNsec, this.firstSec, this.firstNsec] = t;
  }

  /** Appends one ASCII character, by its code. */
  putChar(c: number): void {
    if (this.s !== '') this.spill();
    if (this.len + 1 > this.bytes.length) this.grow(1);
    this.bytes[this.len++] = c;
  }

  /** Appends a number in decimal (what String(n) gives). */
  num(n: number): void {
    if ((n >>> 0) !== n) { this.put(String(n)); return; }
    if (this.s !== '') this.spill();
    if (this.len + 10 > this.bytes.length) this.grow(10);
    const b = this.bytes;
    let k = this.len + (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 :
      n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10);
    this.len = k;
    // Two digits per division, in 32-bit integer arithmetic (below 2^31; one step brings n there).
    if (n >= 0x80000000) {
      const q = Math.floor(n / 10);
      b[--k] = 48 + n - q * 10;
      n = q;
    }
    while (n >= 100) {
      const q = (n / 100) | 0;
      const r = n - q * 100;
      b[--k] = DIGIT_LO[r];
      b[--k] = DIGIT_HI[r];
      n = q;
    }
    if (n >= 10) {
      b[--k] = DIGIT_LO[n];
      b[--k] = DIGIT_HI[n];
    } else b[--k] = 48 + n;
  }

  /** Appends the dotted quad of a 32-bit address. */
  ipv4(a: number): void {
    if (this.s !== '') this.spill();
    if (this.len + 15 > this.bytes.length) this.grow(15);
    const b = this.bytes;
    let k = this.len;
    for (let j = 24; j >= 0; j -= 8) {
      const at = ((a >>> j) & 0xff) * 4;
      if (j < 24) b[k++] = 46;
      const n = BYTE_DECIMAL[at];
      b[k] = BYTE_DECIMAL[at + 1];
      if (n > 1) b[k + 1] = BYTE_DECIMAL[at + 2];
      if (n > 2) b[k + 2] = BYTE_DECIMAL[at + 3];
      k += n;
    }
    this.len = k;
  }

  /**
   * Appends the IPv6 address at buf[o] as format.ts's ipv6At writes it. Formatting one costs
   * several times a copy, and traffic repeats few addresses: each is kept, as text, in a small
   * direct-mapped cache keyed by its four 32-bit words.
   */
  ipv6(buf: Uint8Array, o: number): void {
    if (this.s !== '') this.spill();
    const w0 = (buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3];
    const w1 = (buf[o + 4] << 24) | (buf[o + 5] << 16) | (buf[o + 6] << 8) | buf[o + 7];
    const w2 = (buf[o + 8] << 24) | (buf[o + 9] << 16) | (buf[o + 10] << 8) | buf[o + 11];
    const w3 = (buf[o + 12] << 24) | (buf[o + 13] << 16) | (buf[o + 14] << 8) | buf[o + 15];
    const slot = Math.imul(w0 ^ w1 ^ w2 ^ w3, 0x9e3779b1) >>> (32 - V6_CACHE_BITS);
    const keys = this.v6Keys, text = this.v6Text;
    const kk = slot * 4, tt = slot * V6_TEXT_STRIDE;
    if (this.len + V6_TEXT_STRIDE > this.bytes.length) this.grow(V6_TEXT_STRIDE);
    const b = this.bytes;
    let k = this.len;
    const n = text[tt];
    if (n !== 0 && keys[kk] === w0 && keys[kk + 1] === w1 && keys[kk + 2] === w2 && keys[kk + 3] === w3) {
      for (let i = 1; i <= n; i++) b[k++] = text[tt + i];
      this.len = k;
      return;
    }
    this.formatIpv6(buf, o);
    keys[kk] = w0;
    keys[kk + 1] = w1;
    keys[kk + 2] = w2;
    keys[kk + 3] = w3;
    text[tt] = this.len - k;
    for (let i = 1; k < this.len; i++) text[tt + i] = b[k++];
  }

  /** ipv6() without the cache: writes the text at len (room for it made, `s` spilled). */
  private formatIpv6(buf: Uint8Array, o: number): void {
    const layout = ipv6Layout(buf, o);
    if (layout === IPV6_MAPPED || layout === IPV6_COMPATIBLE) {
      this.putAscii(layout === IPV6_MAPPED ? MAPPED_PREFIX : COMPATIBLE_PREFIX);
      this.ipv4(((buf[o + 12] << 24) | (buf[o + 13] << 16) | (buf[o + 14] << 8) | buf[o + 15]) >>> 0);
      return;
    }
    const b = this.bytes;
    const w = ipv6Words;
    const bestStart = layout < 0 ? -1 : layout >> 4, bestLen = layout & 15;
    let k = this.len;
    for (let i = 0; i < 8; i++) {
      if (i === bestStart) { b[k++] = COLON; b[k++] = COLON; i += bestLen - 1; continue; }
      if (i > 0 && i !== bestStart + bestLen) b[k++] = COLON;
      const v = w[i];
      if (v >= 0x1000) b[k++] = HEX_DIGIT[v >> 12];
      if (v >= 0x100) b[k++] = HEX_DIGIT[(v >> 8) & 15];
      if (v >= 0x10) b[k++] = HEX_DIGIT[(v >> 4) & 15];
      b[k++] = HEX_DIGIT[v & 15];
    }
    this.len = k;
  }

  /** Appends n (0 <= n < 10^width, width even) in decimal, zero-padded to width digits. */
  private digits(n: number, width: number): void {
    if (this.s !== '') this.spill();
    if (this.len + width > this.bytes.length) this.grow(width);
    const b = this.bytes;
    let k = this.len + width;
    this.len = k;
    for (let j = 0; j < width; j += 2) {
      const q = (n / 100) | 0;
      const r = n - q * 100;
      b[--k] = DIGIT_LO[r];
      b[--k] = DIGIT_HI[r];
      n = q;
    }
  }

  /** Moves `s` into the bytes. */
  private spill(): void {
    const t = this.s;
    this.s = '';
    if (this.len + t.length * 3 > this.bytes.length) this.grow(t.length * 3);
    this.len += (this.bytes as unknown as Utf8Writable).utf8Write(t, this.len);
  }

  /** Makes room for n more bytes. */
  private grow(n: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.len + n));
    this.bytes.copy(bigger, 0, 0, this.len);
    this.bytes = bigger;
  }

  /** tcpdump's ND_DEFAULTPRINT for bytes no printer understood: hex and ASCII, suppressed by -x, -X and -q (not -A). */
  defaultPrint(v: ByteView): void {
    const o = this.opts;
    if (o.x || o.X || o.q) return;
    this.s += hexAndAscii(v.buf, v.start, v.end, '\n\t', 0);
  }

  /** tcpdump's marker for a layer that ran out of captured bytes. */
  trunc(name: string): void {
    this.s += ' [|' + name + ']';
  }

  /**
   * The marker where tcpdump gives up through its truncation longjmp rather than returning:
   * that path skips the link-header bookkeeping, so a -x/-X/-A dump starts at the frame's first byte.
   */
  truncJump(name: string): void {
    this.trunc(name);
    this.linkHdrLen = 0;
  }

  /** One packet, as tcpdump prints it, without the final newline. */
  formatPacket(p: Packet): string {
    this.len = 0;
    this.printPacket(p);
    const text = this.bytes.toString('utf8', 0, this.len);
    this.len = 0;
    return text;
  }

  /**
   * Appends one packet's line and its newline to the bytes (the lines gather there until the
   * caller writes them out and sets len to 0). Returns len.
   */
  appendPacket(p: Packet): number {
    this.printPacket(p);
    if (this.len + 1 > this.bytes.length) this.grow(1);
    this.bytes[this.len++] = 10;
    return this.len;
  }

  private printPacket(p: Packet): void {
    const o = this.opts;
    this.s = '';
    this.linkHdrLen = 0;
    if (o.number) this.put(String(p.frame.number).padStart(5, ' ') + '  ');
    const f = p.frame;
    if (!stampedRecord(f)) {
      this.put(invalidHeader(f.capLen, f.origLen));
      return;
    }
    this.timestamp(f.tsSec, f.tsNsec);
    if (p.layers.length === 0) this.s += unsupportedLink(f.linkType, f.capLen);
    else this.printLayer(p, 0);
    if (o.x || o.X || o.A) this.dump(p);
    if (this.s !== '') this.spill();
  }

  private dump(p: Packet): void {
    const o = this.opts;
    const all = (o.X || o.x || o.A) > 1;
    const data = p.frame.data;
    const cap = p.frame.capLen;
    const start = all ? 0 : this.linkHdrLen;
    if (!all && cap <= start) return;
    if (o.X) this.s += hexAndAscii(data, start, cap, '\n\t', 0);
    else if (o.x) this.s += hexOnly(data, start, cap, '\n\t', 0);
    else this.s += asciiText(data, start, cap);
  }

  private timestamp(sec: number, nsec: number): void {
    const t = this.opts.t;
    if (t === 1) return;
    if (this.s !== '') this.spill();
    // tcpdump 4.99 refuses absolute times with bit 31 of the seconds set (2038 onwards).
    if (t !== 3 && t !== 5 && ((sec >>> 0) & 0x80000000) !== 0) {
      this.s += '[Error converting time] ';
      return;
    }
    if (t === 2) {
      this.s += sec + '.' + (this.opts.nano ? pad9(nsec) : pad6(Math.floor(nsec / 1000))) + ' ';
      return;
    }
    if (t === 3 || t === 5) {
      let bs: number, bn: number;
      if (t === 3) {
        if (this.prevSec < 0) { this.prevSec = sec; this.prevNsec = nsec; }
        bs = this.prevSec; bn = this.prevNsec;
        this.prevSec = sec; this.prevNsec = nsec;
      } else {
        if (this.firstSec < 0) { this.firstSec = sec; this.firstNsec = nsec; }
        bs = this.firstSec; bn = this.firstNsec;
      }
      // tcpdump subtracts in its display unit (µs, or ns with --nano) and formats the difference
      // with gmtime: whole days drop out of the hours.
      const unit = this.opts.nano ? 1e9 : 1e6;
      const a = this.opts.nano ? nsec : Math.floor(nsec / 1000);
      const b = this.opts.nano ? bn : Math.floor(bn / 1000);
      let ds = sec - bs, df = a - b;
      const neg = ds < 0 || (ds === 0 && df < 0);
      if (neg) { ds = -ds; df = -df; }
      if (df < 0) { ds -= 1; df += unit; }
      const sod = ds % 86400;
      // The sign column: a space for a forward step.
      this.s += (neg ? '-' : ' ') + pad2(Math.floor(sod / 3600)) + ':' + pad2(Math.floor(sod / 60) % 60) + ':' + pad2(sod % 60) + '.' +
        (this.opts.nano ? pad9(df) : pad6(df)) + ' ';
      return;
    }
    if (sec !== this.clockSec) {
      this.clockSec = sec;
      const local = sec + this.utcOffset(sec);
      const sod = ((local % 86400) + 86400) % 86400;
      let clock = pad2(Math.floor(sod / 3600)) + ':' + pad2(Math.floor(sod / 60) % 60) + ':' + pad2(sod % 60) + '.';
      if (t === 4) {
        const d = new Date((local - sod) * 1000);
        clock = d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) + ' ' + clock;
      }
      this.clockText = ascii(clock);
    }
    this.putAscii(this.clockText);
    if (this.opts.nano) this.put(pad9(nsec));
    else if (nsec < 1000000000) this.digits(Math.floor(nsec / 1000), 6);
    else this.num(Math.floor(nsec / 1000));
    this.putChar(SPACE);
  }

  /** Seconds to add to UTC for local time (TZ honoured), cached per quarter hour. */
  private utcOffset(sec: number): number {
    if (sec >= this.tzCacheStart && sec < this.tzCacheEnd) return this.tzOffset;
    const start = sec - (((sec % 900) + 900) % 900);
    this.tzCacheStart = start;
    this.tzCacheEnd = start + 900;
    this.tzOffset = -new Date(sec * 1000).getTimezoneOffset() * 60;
    return this.tzOffset;
  }
}

/** The bytes of an ASCII string, for TextOut.putAscii. */
export function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

const SPACE = 0x20;
/** Spans up to this many bytes are copied byte by byte (putBytes). */
const SHORT_COPY = 64;
/** The low and high decimal digits (as ASCII codes) of 0..99. */
const DIGIT_LO = Uint8Array.from({ length: 100 }, (_, i) => 48 + (i % 10));
const DIGIT_HI = Uint8Array.from({ length: 100 }, (_, i) => 48 + Math.floor(i / 10));
/** For each byte value, 4 entries: how many decimal digits, then the digits as ASCII codes. */
const BYTE_DECIMAL = Uint8Array.from({ length: 1024 }, (_, i) => {
  const v = i >> 2, d = String(v);
  return (i & 3) === 0 ? d.length : (i & 3) <= d.length ? d.charCodeAt((i & 3) - 1) : 0;
});
const COLON = 0x3a;
/** Slots of TextOut's IPv6 text cache (a power of two), and bytes per slot: a length byte and the longest text (::ffff:255.255.255.255 is shorter). */
const V6_CACHE_BITS = 8;
const V6_TEXT_STRIDE = 40;
const MAPPED_PREFIX = ascii('::ffff:'), COMPATIBLE_PREFIX = ascii('::');
const HEX_DIGIT = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** Buffer's own UTF-8 encoder, without Buffer.prototype.write's argument juggling. */
interface Utf8Writable {
  utf8Write(s: string, offset: number): number;
}

/** Starting size of the output bytes: lines gather up to the writer's flush size and a line more. */
const INITIAL_BYTES = 1 << 16;

/** tcpdump's largest snapshot length: record lengths beyond it are not believed. */
const MAXIMUM_SNAPLEN = 262144;

/**
 * A record whose lengths pass tcpdump's sanity check: its line has a timestamp (and -ttt counts
 * from it). invalidHeader's checks, cheaply: a zero length or a caplen over the limit implies one of these.
 */
export function stampedRecord(f: Frame): boolean {
  return !(f.capLen === 0 || f.origLen < f.capLen || f.origLen > MAXIMUM_SNAPLEN);
}

/** What tcpdump says for a record whose lengths fail its sanity check ("[Invalid header: caplen==0, len==0]"). */
function invalidHeader(capLen: number, len: number): string {
  const why: string[] = [];
  if (capLen === 0) why.push(' caplen==0');
  if (len === 0) why.push(' len==0');
  else if (len < capLen) why.push(` len(${len}) < caplen(${capLen})`);
  if (capLen > MAXIMUM_SNAPLEN) why.push(` caplen(${capLen}) > ${MAXIMUM_SNAPLEN}`);
  if (len > MAXIMUM_SNAPLEN) why.push(` len(${len}) > ${MAXIMUM_SNAPLEN}`);
  return '[Invalid header:' + why.join(',') + ']';
}

/** What tcpdump says for a link type it has no printer for. */
function unsupportedLink(linkType: number, capLen: number): string {
  return `[|unsupported link type ${linkType}] length ${capLen}`;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function graph(b: number): string {
  return b >= 0x21 && b <= 0x7e ? String.fromCharCode(b) : '.';
}

/** tcpdump's hex_print_with_offset (-x): 8 groups of 2 bytes per line. */
export function hexOnly(buf: Uint8Array, start: number, end: number, indent: string, offset: number): string {
  let s = '';
  let i = 0;
  let p = start;
  for (; p + 1 < end; p += 2) {
    if (i++ % 8 === 0) { s += indent + '0x' + offset.toString(16).padStart(4, '0') + ': '; offset += 16; }
    s += ' ' + HEX[buf[p]] + HEX[buf[p + 1]];
  }
  if (p < end) {
    if (i % 8 === 0) s += indent + '0x' + offset.toString(16).padStart(4, '0') + ': ';
    s += ' ' + HEX[buf[p]];
  }
  return s;
}

/** tcpdump's hex_and_ascii_print_with_offset (-X): hex padded to 40 columns, then the printable bytes. */
export function hexAndAscii(buf: Uint8Array, start: number, end: number, indent: string, offset: number): string {
  let s = '';
  let hex = '';
  let asc = '';
  for (let p = start; p < end; p++) {
    if ((p - start) % 2 === 0) hex += ' ';
    hex += HEX[buf[p]];
    asc += graph(buf[p]);
    if ((p - start) % 16 === 15) {
      s += indent + '0x' + offset.toString(16).padStart(4, '0') + ': ' + hex.padEnd(40, ' ') + '  ' + asc;
      offset += 16; hex = ''; asc = '';
    }
  }
  if (asc.length) s += indent + '0x' + offset.toString(16).padStart(4, '0') + ': ' + hex.padEnd(40, ' ') + '  ' + asc;
  return s;
}

/** tcpdump's ascii_print (-A): printable bytes, tabs, spaces and newlines as they are; CR before LF dropped. */
export function asciiText(buf: Uint8Array, start: number, end: number): string {
  let s = '\n';
  for (let p = start; p < end; p++) {
    const b = buf[p];
    if (b === 0x0d) {
      // A CR is dropped at the end of a line; in the middle (two or more bytes after it) it shows as '.'.
      if (end - (p + 1) > 1 && buf[p + 1] !== 0x0a) s += '.';
    } else if ((b >= 0x21 && b <= 0x7e) || b === 0x09 || b === 0x20 || b === 0x0a) s += String.fromCharCode(b);
    else s += '.';
  }
  return s;
}
