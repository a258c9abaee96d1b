/**
 * tcpdump's text output: the per-packet prefix (-#, timestamps), the layer printers, and the
 * -x/-xx/-X/-XX/-A/-AA dumps, assembled into one string per packet.
 */
import type { Packet } from '../core/dissector.js';
import type { ByteView } from '../core/view.js';
import { pad2, pad6, pad9 } from './format.js';

export interface TextOptions {
  /** -n count: 0 resolves names, 1+ prints numbers. */
  n: number;
  /** -v count. */
  v: number;
  /** -e: print the link-level header. */
  e: boolean;
  /** -q: quiet, less protocol information. */
  q: boolean;
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
  n: 0, v: 0, e: false, q: false, S: false, t: 0, x: 0, X: 0, A: 0, number: false, nano: false, K: false,
};

/** The printer context handed to every dissector's print(): options, run state, and the output string. */
export class TextOut {
  /** Text of the packet being printed. */
  s = '';
  /** Per-run state printers may keep (tcpdump keeps e.g. a TCP sequence-number table). Keyed by printer. */
  readonly state = new Map<string, unknown>();
  /** Bytes of the link-layer header (what -x without a second x skips). Set by link-layer printers. */
  linkHdrLen = 0;
  private prevSec = -1;
  private prevNsec = 0;
  private firstSec = -1;
  private firstNsec = 0;
  private tzCacheStart = 1;
  private tzCacheEnd = 0;
  private tzOffset = 0;
  /** The formatted "HH:MM:SS." (or date and time) of the last second printed: consecutive packets share it. */
  private clockSec = NaN;
  private clockText = '';

  constructor(readonly opts: TextOptions) {}

  /** Prints layer i of p (the printers' way to go one layer deeper); nothing past the last layer. */
  printLayer(p: Packet, i: number): void {
    if (i < p.layers.length) p.layers[i].dissector.print(p, i, this);
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
    const o = this.opts;
    this.s = '';
    this.linkHdrLen = 0;
    if (o.number) this.s += String(p.frame.number).padStart(5, ' ') + '  ';
    const f = p.frame;
    // invalidHeader's checks, cheaply: a zero length or a caplen over the limit implies one of these.
    if (f.capLen === 0 || f.origLen < f.capLen || f.origLen > MAXIMUM_SNAPLEN) {
      this.s += invalidHeader(f.capLen, f.origLen);
      return this.s;
    }
    this.timestamp(p.frame.tsSec, p.frame.tsNsec);
    if (p.layers.length === 0) this.s += unsupportedLink(p.frame.linkType, p.frame.capLen);
    else this.printLayer(p, 0);
    if (o.x || o.X || o.A) this.dump(p);
    return this.s;
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
    // tcpdump 4.99 refuses absolute times with bit 31 of the seconds set (2038 onwards).
    if (t !== 3 && t !== 5 && ((sec >>> 0) & 0x80000000) !== 0) {
      this.s += '[Error converting time] ';
      return;
    }
    const frac = this.opts.nano ? pad9(nsec) : pad6(Math.floor(nsec / 1000));
    if (t === 2) {
      this.s += sec + '.' + frac + ' ';
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
      this.clockText = clock;
    }
    this.s += this.clockText + frac + ' ';
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

/** tcpdump's largest snapshot length: record lengths beyond it are not believed. */
const MAXIMUM_SNAPLEN = 262144;

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
