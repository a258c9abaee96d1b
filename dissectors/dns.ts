/**
 * DNS (RFC 1035) over UDP and TCP port 53, and mDNS (RFC 6762) over UDP port 5353.
 * tcpdump: print-domain.c (domain_print, as Debian's 4.99.3 prints it); tshark fields: dns.*
 * (packet-dns.c). Two independent readers of the same bytes:
 * - printDnsMessage, tcpdump's printer: walks the captured bytes the way tcpdump does (its
 *   compression-pointer rules, truncation points and quirks), with no allocation beyond the text;
 * - decodeDnsMessage, the message as tshark dissects it, for -T fields and --json, built on demand.
 * Both are pure functions over bytes, so a TCP stream consumer can call them on reassembled messages.
 * Over TCP a segment holding exactly one length-prefixed message decodes whole; tcpdump 4.99 does not
 * reassemble, so any other segment prints as its "[prefix length(..) != length(..)]" complaint, while
 * its whole messages still decode for the fields (see decodeTcp).
 */
import { bind, Layer, Table, type Dissector, type EncodeContext, type FieldValue, type Packet } from '../src/core/dissector.js';
import { ByteView, OutOfBounds } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { hex2, ipv4At, ipv6At } from '../src/output/format.js';
import { hex4, put16 } from './udp.js';
import {
  algorithmText, classText, CLASS_IN, EDNS, ednsOptionText, MDNS_CLASS_BIT, OPCODE_TEXT, RR, rcodeText, typeText,
} from './dns-types.js';

export { RR, EDNS } from './dns-types.js';

/** Header field offsets, shared by decode and encode. */
export const DNS = { ID: 0, FLAGS: 2, QDCOUNT: 4, ANCOUNT: 6, NSCOUNT: 8, ARCOUNT: 10, HEADER_LEN: 12 } as const;
export const DNS_PORT = 53;
export const MDNS_PORT = 5353;
/** Bytes of the length prefix before each message on a TCP connection (RFC 1035 4.2.2). */
export const TCP_PREFIX_LEN = 2;

/** Header flag bits. */
export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, Z: 0x0040, AD: 0x0020, CD: 0x0010 } as const;
const OPCODE_IQUERY = 1;
const OPCODE_UPDATE = 5;

export class DnsLayer extends Layer {
  id = 0;
  /** The 16 flag bits (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode). */
  flags = 0;
  qdcount = 0;
  ancount = 0;
  nscount = 0;
  arcount = 0;
  /** Carried on TCP: the message follows a 2-byte length prefix. */
  overTcp = false;
  /** The length prefix (TCP). */
  prefix = 0;
  /** Multicast DNS (port 5353): class top bits mean unicast-response / cache-flush. */
  mdns = false;
  /** Absolute offset of the message (after the TCP prefix). */
  msgOff = 0;
  /** Length of the message as the layer below claims it (UDP) or the prefix says (TCP). */
  msgLen = 0;
  /**
   * A TCP segment that is not one whole message: a message continued from or into other segments,
   * or several messages (each then has its own layer). tcpdump prints its length complaint instead.
   */
  segmentMismatch = false;
  /** What to encode when building a message: questions and records (see encodeDnsMessage). */
  build: DnsMessageInit | null = null;
  /** The message as tshark reads it, once parsed (see `message`). */
  parsed: DnsMessage | null = null;
  /** Captured end of the bytes this layer was decoded from. */
  capEnd = 0;
  /** No message starts here (an empty datagram, part of a message continued across TCP segments). */
  noMessage = false;

  get qr(): boolean { return (this.flags & FLAG.QR) !== 0; }
  get opcode(): number { return (this.flags >> 11) & 0xf; }
  get rcode(): number { return this.flags & 0xf; }

  /** The message as tshark reads it (parsed on first use); null when this layer holds no message. */
  get message(): DnsMessage | null {
    if (this.parsed === null && this.hasMessage) {
      const end = Math.min(this.buf.length, this.msgOff + this.msgLen);
      this.parsed = decodeDnsMessage(new ByteView(this.buf, this.msgOff, Math.max(this.msgOff, Math.min(end, this.capEnd))), this.mdns);
    }
    return this.parsed;
  }

  /** A message starts here and was decoded from bytes. */
  get hasMessage(): boolean {
    return !this.noMessage && this.msgLen > 0 && this.buf !== undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// tcpdump's printer.

/**
 * How the printer stops at the end of the captured bytes. tcpdump prints " [|domain]" either way,
 * but a read past the end (its GET_* macros) longjmps out of every printer, which makes a -x dump
 * start at the frame's first byte, while its explicit checks return through a "trunc" label.
 */
class PrintStop {}
/** A GET_* read past the captured end: tcpdump's longjmp. */
const JUMPED = new PrintStop();
/** An explicit bounds check failed: tcpdump's "goto trunc". */
const RETURNED = new PrintStop();
const TYPE_MASK = 0xc0, TYPE_INDIR = 0xc0, TYPE_EDNS0 = 0x40, TYPE_RESERVED = 0x80, EDNS0_ELT_BITLABEL = 0x01;
/** RFC 1035's 255-octet limit on a name, beyond which tcpdump stops printing labels. */
const MAXCDNAME = 255;
const NULL = -1;
const SPACE = 0x20, DOT = 0x2e, SLASH = 0x2f;

/** One message's text, built in `s`. Reused: printers must not allocate per packet. */
class TextPrinter {
  buf: Uint8Array = new Uint8Array(0);
  /** Start of the message (the base of compression pointers). */
  bp = 0;
  /** End of the captured bytes (tcpdump's snapend). */
  end = 0;
  v = 0;
  mdns = false;
  /** Where the text goes: the output of the message being printed (printDnsMessage sets it first). */
  out!: TextOut;

  u8(o: number): number {
    if (o >= this.end) throw JUMPED;
    return this.buf[o];
  }

  u16(o: number): number {
    if (o + 2 > this.end) throw JUMPED;
    return (this.buf[o] << 8) | this.buf[o + 1];
  }

  u32(o: number): number {
    if (o + 4 > this.end) throw JUMPED;
    return ((this.buf[o] << 24) | (this.buf[o + 1] << 16) | (this.buf[o + 2] << 8) | this.buf[o + 3]) >>> 0;
  }

  has(o: number, n: number): boolean {
    return o + n <= this.end;
  }

  /** The whole message: tcpdump's domain_print after its TCP prefix handling. */
  message(length: number): void {
    if (length < DNS.HEADER_LEN) {
      this.out.put('domain [length ' + length + ' < ' + DNS.HEADER_LEN + '] (invalid)');
      return;
    }
    const bp = this.bp;
    if (!this.has(bp, DNS.HEADER_LEN)) throw RETURNED;
    const flags = this.u16(bp + DNS.FLAGS);
    let qd = this.u16(bp + DNS.QDCOUNT);
    const an = this.u16(bp + DNS.ANCOUNT);
    const ns = this.u16(bp + DNS.NSCOUNT);
    const ar = this.u16(bp + DNS.ARCOUNT);
    const opcode = (flags >> 11) & 0xf;
    let cp = bp + DNS.HEADER_LEN;
    if (flags & FLAG.QR) {
      const out = this.out;
      const rcode = this.extendedRcode(flags, qd, an + ns, ar);
      out.num(this.u16(bp));
      out.put(OPCODE_TEXT[opcode]);
      out.put(rcodeText(rcode));
      if (flags & FLAG.AA) out.putChar(0x2a /* * */);
      if ((flags & FLAG.RA) === 0) out.putChar(0x2d /* - */);
      if (flags & FLAG.TC) out.putChar(0x7c /* | */);
      if (flags & FLAG.AD) out.putChar(0x24 /* $ */);
      if (qd !== 1) this.counted(qd, 'q]');
      for (let i = 0; i < qd; i++) {
        if (i !== 0) this.out.put(',');
        if (this.v > 1) {
          this.out.put(' q:');
          if ((cp = this.question(cp)) === NULL) throw RETURNED;
        } else {
          if ((cp = this.skipName(cp)) === NULL) throw RETURNED;
          cp += 4;
        }
      }
      out.putChar(SPACE);
      out.num(an);
      out.putChar(SLASH);
      out.num(ns);
      out.putChar(SLASH);
      out.num(ar);
      cp = this.section(cp, an, '', false);
      if (this.v > 1) {
        cp = this.section(cp, ns, ' ns:', true);
        this.section(cp, ar, ' ar:', true);
      }
    } else {
      const out = this.out;
      out.num(this.u16(bp));
      out.put(OPCODE_TEXT[opcode]);
      if (flags & FLAG.RD) out.putChar(0x2b /* + */);
      if (flags & FLAG.CD) out.putChar(0x25 /* % */);
      // Flags a query should not have: AA, TC, RA, Z and the rcode.
      if (flags & 0x6cf) this.out.put(' [b2&3=0x' + flags.toString(16) + ']');
      if (opcode === OPCODE_IQUERY) {
        if (qd) this.counted(qd, 'q]');
        if (an !== 1) this.counted(an, 'a]');
      } else {
        if (an) this.counted(an, 'a]');
        if (qd !== 1) this.counted(qd, 'q]');
      }
      if (ns) this.counted(ns, 'n]');
      if (ar) this.counted(ar, 'au]');
      if (qd) {
        if ((cp = this.question(cp)) === NULL) throw RETURNED;
        qd--;
        while (cp < this.end && qd) {
          if ((cp = this.question(cp)) === NULL) throw RETURNED;
          qd--;
        }
      }
      if (qd) throw RETURNED;
      if (this.v > 1) {
        cp = this.section(cp, an, '', false);
        cp = this.section(cp, ns, ' ns:', true);
        this.section(cp, ar, ' ar:', true);
      }
    }
    this.out.put(' (');
    this.out.num(length);
    this.out.putChar(0x29 /* ) */);
  }

  /** " [" n what, as in " [1au]". */
  private counted(n: number, what: string): void {
    this.out.put(' [');
    this.out.num(n);
    this.out.put(what);
  }

  /**
   * A section's records after its label, comma-separated. tcpdump starts the answers whatever is
   * left of the capture, the authority and additional sections (-vv) only when something is.
   */
  private section(cp: number, count: number, label: string, needBytes: boolean): number {
    if (count && (!needBytes || cp < this.end)) {
      this.out.put(label);
      if ((cp = this.record(cp)) === NULL) throw RETURNED;
      count--;
      while (cp < this.end && count) {
        this.out.put(',');
        if ((cp = this.record(cp)) === NULL) throw RETURNED;
        count--;
      }
    }
    if (count) throw RETURNED;
    return cp;
  }

  /** The rcode with the OPT record's upper 8 bits, found by skipping to the additional section as tcpdump does. */
  private extendedRcode(flags: number, qd: number, anns: number, ar: number): number {
    let rcode = flags & 0xf;
    let cp = this.bp + DNS.HEADER_LEN;
    for (let i = 0; i < qd; i++) {
      if ((cp = this.skipName(cp)) === NULL) return rcode;
      cp += 4;
      if (cp >= this.end) return rcode;
    }
    for (let i = 0; i < anns; i++) {
      if ((cp = this.skipName(cp)) === NULL) return rcode;
      cp += 8;
      if (cp + 2 > this.end) return rcode;
      cp += 2 + this.u16(cp);
      if (cp >= this.end) return rcode;
    }
    for (let i = 0; i < ar; i++) {
      if ((cp = this.skipName(cp)) === NULL) return rcode;
      if (cp + 2 > this.end) return rcode;
      const type = this.u16(cp);
      cp += 4;
      if (cp + 1 > this.end) return rcode;
      if (type === RR.OPT) return rcode | (this.buf[cp] << 4);
      cp += 4;
      if (cp + 2 > this.end) return rcode;
      cp += 2 + this.u16(cp);
      if (cp >= this.end) return rcode;
    }
    return rcode;
  }

  /** ns_nskip: past a name without printing it; NULL when it cannot be skipped. */
  skipName(cp: number): number {
    if (cp >= this.end) return NULL;
    let i = this.buf[cp++];
    while (i) {
      switch (i & TYPE_MASK) {
        case TYPE_INDIR:
          return cp + 1;
        case TYPE_EDNS0: {
          if ((i & ~TYPE_MASK) !== EDNS0_ELT_BITLABEL) return NULL;
          if (cp >= this.end) return NULL;
          let bitlen = this.buf[cp++];
          if (bitlen === 0) bitlen = 256;
          cp += (bitlen + 7) >> 3;
          break;
        }
        case TYPE_RESERVED:
          return NULL;
        default:
          cp += i;
      }
      if (cp >= this.end) return NULL;
      i = this.buf[cp++];
    }
    return cp;
  }

  /** labellen: the length of the label at cp (a bit label's in bytes), or NULL (printing why for a bad type). */
  private labelLen(cp: number): number {
    if (cp >= this.end) return NULL;
    const i = this.buf[cp];
    switch (i & TYPE_MASK) {
      case TYPE_EDNS0: {
        const elt = i & ~TYPE_MASK;
        if (elt !== EDNS0_ELT_BITLABEL) {
          this.out.put('<ELT ' + elt + '>');
          return NULL;
        }
        if (cp + 1 >= this.end) return NULL;
        const bitlen = this.buf[cp + 1] || 256;
        return ((bitlen + 7) >> 3) + 1;
      }
      case TYPE_RESERVED:
        this.out.put('<BAD LABEL TYPE>');
        return NULL;
      default:
        return i;
    }
  }

  /**
   * fqdn_print: the name at cp, pointers resolved against bp (which may lie after cp, as for an
   * EDNS CHAIN option); returns where the name ends in place, or NULL. A pointer must go backwards
   * from the last one followed ("<BAD PTR>"), which rules out loops.
   */
  name(cp: number, bp: number = this.bp): number {
    let l = this.labelLen(cp);
    if (l === NULL) return NULL;
    if (cp >= this.end) return NULL;
    let maxOffset = (cp - bp) >>> 0;
    let i = this.buf[cp++];
    let rp = NULL;
    let compress = false;
    let nameChars = 0;
    if ((i & TYPE_MASK) !== TYPE_INDIR) rp = cp + l;
    if (i === 0) {
      this.out.put('.');
      return rp;
    }
    while (i && cp < this.end) {
      switch (i & TYPE_MASK) {
        case TYPE_INDIR: {
          if (!compress) {
            rp = cp + 1;
            compress = true;
          }
          if (cp >= this.end) return NULL;
          const offset = ((i << 8) | this.buf[cp]) & 0x3fff;
          if (offset >= maxOffset) {
            this.out.put('<BAD PTR>');
            return NULL;
          }
          maxOffset = offset;
          cp = bp + offset;
          if (cp >= this.end) return NULL;
          i = this.buf[cp];
          if ((l = this.labelLen(cp)) === NULL) return NULL;
          cp++;
          continue;
        }
        case TYPE_EDNS0: {
          const elt = i & ~TYPE_MASK;
          if (elt !== EDNS0_ELT_BITLABEL) {
            this.out.put('<ELT ' + elt + '>');
            return NULL;
          }
          this.bitLabel(cp);
          break;
        }
        case TYPE_RESERVED:
          this.out.put('<BAD LABEL TYPE>');
          return NULL;
        default:
          if (nameChars + l <= MAXCDNAME) {
            if (this.chars(cp, l)) return NULL;
          } else if (nameChars < MAXCDNAME) {
            if (this.chars(cp, MAXCDNAME - nameChars)) return NULL;
          }
          nameChars += l;
      }
      cp += l;
      if (nameChars <= MAXCDNAME) this.out.putChar(DOT);
      nameChars++;
      if (cp >= this.end) return NULL;
      i = this.buf[cp];
      if ((l = this.labelLen(cp)) === NULL) return NULL;
      cp++;
      if (!compress) rp += l + 1;
    }
    if (nameChars > MAXCDNAME) this.out.put('<DOMAIN NAME TOO LONG>');
    return rp;
  }

  /** blabel_print: an RFC 2673 bit-string label as \[x<hex>/<bits>]. */
  private bitLabel(cp: number): void {
    let bitlen = this.u8(cp) || 256;
    const lim = cp + 1 + ((bitlen + 3) >> 2);
    this.out.put('\\[x');
    let bitp = cp + 1;
    let b = bitlen;
    for (; bitp < lim && b > 7; b -= 8, bitp++) this.out.put(hex2(this.u8(bitp)));
    if (b > 4) this.out.put(hex2(this.u8(bitp) & (0xff << (8 - b))));
    else if (b > 0) this.out.put((((this.u8(bitp) >> 4) & 0x0f) & (0x0f << (4 - b))).toString(16));
    this.out.put('/' + bitlen + ']');
  }

  /** nd_printn: n characters, tcpdump's way (M- for the high bit, ^ for controls); true if the capture ended first. */
  chars(cp: number, n: number): boolean {
    const buf = this.buf;
    const want = cp + n;
    const stop = Math.min(this.end, want);
    const out = this.out;
    for (; cp < stop; cp++) {
      const b = buf[cp];
      // Printable ASCII is itself; the rest has tcpdump's escapes.
      if (b >= 0x20 && b < 0x7f) out.putChar(b);
      else out.put(PRINTN[b]);
    }
    return want > stop;
  }

  /** ns_qprint: " TYPE[ CLASS][ (QU)]? name", returning the end of the question or NULL. */
  question(cp: number): number {
    const np = cp;
    cp = this.skipName(cp);
    if (cp === NULL || !this.has(cp, 4)) return NULL;
    const type = this.u16(cp);
    this.out.putChar(SPACE);
    this.out.put(typeText(type));
    const c = this.u16(cp + 2);
    const cls = this.mdns ? c & ~MDNS_CLASS_BIT : c;
    if (cls !== CLASS_IN) this.out.put(' ' + classText(cls));
    if (this.mdns) this.out.put(c & MDNS_CLASS_BIT ? ' (QU)' : ' (QM)');
    this.out.put('? ');
    const rp = this.name(np);
    return rp === NULL ? NULL : rp + 4;
  }

  /** ns_rprint: one resource record; returns its end, NULL, or `end` when its fixed part was not captured. */
  record(cp: number): number {
    const v = this.v;
    if (v) {
      this.out.put(' ');
      if ((cp = this.name(cp)) === NULL) return NULL;
    } else cp = this.skipName(cp);
    if (cp === NULL || !this.has(cp, 10)) return this.end;
    const typ = this.u16(cp);
    const c = this.u16(cp + 2);
    cp += 4;
    const cls = this.mdns ? c & ~MDNS_CLASS_BIT : c;
    if (cls !== CLASS_IN && typ !== RR.OPT) this.out.put(' ' + classText(cls));
    if (this.mdns && c & MDNS_CLASS_BIT) this.out.put(' (Cache flush)');
    let optFlags = 0;
    if (typ === RR.OPT) {
      optFlags = this.u16(cp + 2);
      cp += 4;
    } else if (v > 2) {
      this.out.put(' [' + relativeTime(this.u32(cp)) + ']');
      cp += 4;
    } else cp += 4;
    const len = this.u16(cp);
    cp += 2;
    this.out.putChar(SPACE);
    this.out.put(typeText(typ));
    if (!this.has(cp, len)) return NULL;
    const rp = cp + len;
    switch (typ) {
      case RR.A:
        if (!this.has(cp, 4)) return NULL;
        this.out.putChar(SPACE);
        this.out.ipv4(((this.buf[cp] << 24) | (this.buf[cp + 1] << 16) | (this.buf[cp + 2] << 8) | this.buf[cp + 3]) >>> 0);
        break;
      case RR.NS: case RR.CNAME: case RR.PTR: case RR.DNAME:
        this.out.put(' ');
        if (this.name(cp) === NULL) return NULL;
        break;
      case RR.SOA:
        if (!v) break;
        this.out.put(' ');
        if ((cp = this.name(cp)) === NULL) return NULL;
        this.out.put(' ');
        if ((cp = this.name(cp)) === NULL) return NULL;
        if (!this.has(cp, 20)) return NULL;
        for (let k = 0; k < 5; k++) this.out.put(' ' + this.u32(cp + 4 * k));
        break;
      case RR.MX:
        this.out.put(' ');
        if (!this.has(cp, 2)) return NULL;
        if (this.name(cp + 2) === NULL) return NULL;
        this.out.put(' ' + this.u16(cp));
        break;
      case RR.TXT:
        while (cp < rp) {
          this.out.put(' "');
          if ((cp = this.characterString(cp)) === NULL) return NULL;
          this.out.put('"');
        }
        break;
      case RR.SRV:
        this.out.put(' ');
        if (!this.has(cp, 6)) return NULL;
        if (this.name(cp + 6) === NULL) return NULL;
        this.out.put(':' + this.u16(cp + 4) + ' ' + this.u16(cp) + ' ' + this.u16(cp + 2));
        break;
      case RR.AAAA:
        if (!this.has(cp, 16)) return NULL;
        this.out.put(' ' + ipv6At(this.buf, cp));
        break;
      case RR.A6:
        if (this.a6(cp) === NULL) return NULL;
        break;
      case RR.URI:
        if (!this.has(cp, len)) return NULL;
        this.out.put(' ' + this.u16(cp) + ' ' + this.u16(cp + 2) + ' ');
        // A length under 4 wraps around in tcpdump: it prints to the end of the capture.
        if (this.chars(cp + 4, (len - 4) >>> 0)) return NULL;
        break;
      case RR.OPT:
        this.out.put(' UDPsize=' + cls);
        if (optFlags & 0x8000) this.out.put(' DO');
        if (cp < rp) {
          this.out.put(' [');
          while (cp < rp) {
            if ((cp = this.ednsOption(cp)) === NULL) return NULL;
            if (cp < rp) this.out.put(',');
          }
          this.out.put(']');
        }
        break;
      case RR.UNSPECA:
        // "Unspecified ASCII", printed straight after the type name.
        if (this.chars(cp, len)) return NULL;
        break;
      case RR.TSIG:
        if (cp + len > this.end) return NULL;
        if (!v) break;
        this.out.put(' ');
        if ((cp = this.name(cp)) === NULL) return NULL;
        cp += 6;
        if (!this.has(cp, 2)) return NULL;
        this.out.put(' fudge=' + this.u16(cp));
        cp += 2;
        if (!this.has(cp, 2)) return NULL;
        this.out.put(' maclen=' + this.u16(cp));
        cp += 2 + this.u16(cp);
        if (!this.has(cp, 2)) return NULL;
        this.out.put(' origid=' + this.u16(cp));
        cp += 2;
        if (!this.has(cp, 2)) return NULL;
        this.out.put(' error=' + this.u16(cp));
        cp += 2;
        if (!this.has(cp, 2)) return NULL;
        this.out.put(' otherlen=' + this.u16(cp));
        break;
    }
    return rp;
  }

  /** An A6 record (RFC 2874): prefix length, address suffix, prefix name. */
  private a6(cp: number): number {
    if (!this.has(cp, 1)) return NULL;
    const pbit = this.u8(cp);
    const pbyte = (pbit & ~7) >> 3;
    if (pbit > 128) {
      this.out.put(' ' + pbit + '(bad plen)');
      return cp;
    }
    if (pbit < 128) {
      if (!this.has(cp + 1, 16 - pbyte)) throw JUMPED;
      const a = new Uint8Array(16);
      a.set(this.buf.subarray(cp + 1, cp + 1 + 16 - pbyte), pbyte);
      this.out.put(' ' + pbit + ' ' + ipv6At(a, 0));
    }
    if (pbit > 0) {
      this.out.put(' ');
      if (this.name(cp + 1 + 16 - pbyte) === NULL) return NULL;
    }
    return cp;
  }

  /** ns_cprint: a <character-string>. */
  private characterString(cp: number): number {
    if (cp >= this.end) return NULL;
    const n = this.buf[cp++];
    if (this.chars(cp, n)) return NULL;
    return cp + n;
  }

  /** eopt_print: one EDNS option, "NAME data". */
  private ednsOption(cp: number): number {
    if (!this.has(cp, 2)) return NULL;
    const opt = this.u16(cp);
    cp += 2;
    this.out.put(ednsOptionText(opt));
    if (!this.has(cp, 2)) return NULL;
    const n = this.u16(cp);
    cp += 2;
    if (!this.has(cp, n)) return NULL;
    if (n > 0) {
      this.out.put(' ');
      switch (opt) {
        case EDNS.ECS:
          this.clientSubnet(cp, n);
          break;
        case EDNS.COOKIE:
          if (n < 8 || (n > 8 && n < 16) || n > 40) this.out.put(' (invalid)');
          else for (let k = 0; k < n; k++) this.out.put((k === 8 ? ' ' : '') + hex2(this.buf[cp + k]));
          break;
        case EDNS.KEEPALIVE:
          // In units of 100 ms, printed in seconds.
          if (n !== 2) this.out.put(' (invalid)');
          else this.out.put((this.u16(cp) / 10).toFixed(1) + ' sec');
          break;
        case EDNS.EXPIRE:
          if (n !== 4) this.out.put(' (invalid)');
          else this.out.put(this.u32(cp) + ' sec');
          break;
        case EDNS.PADDING:
          this.out.put('(' + n + ')');
          break;
        case EDNS.KEYTAG:
          if (n % 2 !== 0) this.out.put(' (invalid)');
          else for (let k = 0; k < n; k += 2) this.out.put((k ? ' ' : '') + this.u16(cp + k));
          break;
        case EDNS.DAU: case EDNS.DHU: case EDNS.N3U:
          for (let k = 0; k < n; k++) this.out.put((k ? ' ' : '') + algorithmText(opt, this.buf[cp + k]));
          break;
        case EDNS.CHAIN:
          this.name(cp, cp + n);
          break;
        default:
          for (let k = 0; k < n; k++) this.out.put(hex2(this.buf[cp + k]));
      }
    }
    return cp + n;
  }

  /** print_eopt_ecs: family, source and scope prefix lengths and the address, "a.b.c.d/src/scope". */
  private clientSubnet(cp: number, n: number): void {
    if (n < 4) {
      this.out.put(' (invalid)');
      return;
    }
    const family = this.u16(cp);
    const srcLen = this.u8(cp + 2);
    const scopeLen = this.u8(cp + 3);
    const bits = family === 1 ? 32 : family === 2 ? 128 : 0;
    if (bits === 0 || n - 4 > bits / 8 || srcLen > bits || scopeLen > bits || ((srcLen + 7) >> 3) !== n - 4) {
      this.out.put(' (invalid)');
      return;
    }
    const a = new Uint8Array(16);
    a.set(this.buf.subarray(cp + 4, cp + n));
    this.out.put((family === 1 ? ipv4At(a, 0) : ipv6At(a, 0)) + '/' + srcLen + '/' + scopeLen);
  }
}

const printer = new TextPrinter();

/** fn_print_char of each byte: "M-" for the high bit, then "^" and the byte ^ 0x40 for a control character. */
const PRINTN: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  let c = b & 0x7f;
  let s = b & 0x80 ? 'M-' : '';
  if (c < 0x20 || c === 0x7f) {
    c ^= 0x40;
    s += '^';
  }
  return s + String.fromCharCode(c);
});

/**
 * Appends tcpdump's text for one DNS message (domain_print after its TCP prefix handling) to out:
 * buf[start, end) are the captured bytes from the message on (end may lie past the message: tcpdump
 * reads up to the end of the capture), `length` is the message length the layer below claims.
 */
export function printDnsMessage(out: TextOut, buf: Uint8Array, start: number, end: number, length: number, mdns: boolean): void {
  const pr = printer;
  pr.buf = buf;
  pr.bp = start;
  pr.end = Math.max(start, Math.min(end, buf.length));
  pr.v = out.opts.v;
  pr.mdns = mdns;
  pr.out = out;
  let stop: unknown = null;
  try {
    pr.message(length);
  } catch (e) {
    if (e !== JUMPED && e !== RETURNED) throw e;
    stop = e;
  }
  if (stop === JUMPED) out.truncJump('domain');
  else if (stop === RETURNED) out.trunc('domain');
  pr.buf = EMPTY;
}

const EMPTY = new Uint8Array(0);

/** tcpdump's unsigned_relts_print: seconds as "1y2w3d4h5m6s", largest units first, zero parts left out. */
export function relativeTime(secs: number): string {
  if (secs === 0) return '0s';
  let s = '';
  for (let k = 0; k < RELTS_UNITS.length && secs > 0; k++) {
    const u = RELTS_SECONDS[k];
    if (secs >= u) {
      const n = Math.floor(secs / u);
      s += n + RELTS_UNITS[k];
      secs -= n * u;
    }
  }
  return s;
}
const RELTS_UNITS = ['y', 'w', 'd', 'h', 'm', 's'];
const RELTS_SECONDS = [31536000, 604800, 86400, 3600, 60, 1];

// ---------------------------------------------------------------------------------------------
// The message as tshark dissects it (packet-dns.c of Wireshark 4.0): what it reads, in its order,
// and where an exception stops it (a malformed or cut-short message keeps what came before).

export interface DnsQuestion {
  /** The name as tshark shows it: labels joined with '.', "<Root>" for the root. */
  name: string;
  /** Length tshark gives the name (dns.qry.name.len: of the text, 0 for a one-character name). */
  nameLength: number;
  /** Labels in the name (dns.count.labels). */
  labels: number;
  type: number;
  /** The class (for mDNS without the unicast-response bit). */
  class: number;
  /** mDNS: the unicast-response ("QU") bit was set. */
  unicastResponse: boolean;
}

export interface DnsRecord {
  name: string;
  type: number;
  /** The class, or for OPT the requestor's UDP payload size (for mDNS without the cache-flush bit). */
  class: number;
  /** mDNS: the cache-flush bit was set. */
  cacheFlush: boolean;
  /** Seconds; for OPT the extended rcode, version and flags word. */
  ttl: number;
  /** RDATA length as sent. */
  rdlength: number;
  /** RDATA as captured. */
  rdata: Uint8Array;
  /**
   * What the RDATA says, for the types read; filled in as read, so a record cut short holds the
   * fields before the cut (tshark's partial tree). Null for other types and empty RDATA.
   */
  data: DnsRdata | null;
}

/** Decoded RDATA, by type: the properties present are the ones that were read. */
export interface DnsRdata {
  /** A, AAAA. */
  address?: string;
  /** NS, CNAME, PTR, DNAME, MB/MD/MF/MG/MR; SRV, SVCB/HTTPS target. */
  target?: string;
  /** MX (preference and exchange). */
  preference?: number;
  exchange?: string;
  /** TXT, SPF character-strings, as tshark shows each. */
  strings?: string[];
  /** SOA. */
  mname?: string;
  rname?: string;
  serial?: number;
  refresh?: number;
  retry?: number;
  expire?: number;
  minimum?: number;
  /** SRV, SVCB/HTTPS. */
  priority?: number;
  weight?: number;
  port?: number;
  /** CAA. */
  flags?: number;
  tag?: string;
  value?: string;
  /** NSEC, NSEC3, CSYNC, NXT: the types their bitmaps list. */
  bitmapTypes?: number[];
  /** OPT. */
  opt?: DnsOpt;
  /** SVCB/HTTPS parameters. */
  params?: Array<{ key: number; value: Uint8Array }>;
}

export interface DnsOpt {
  udpPayloadSize: number;
  extendedRcode: number;
  version: number;
  /** The DNSSEC OK bit. */
  do: boolean;
  /** The 15 bits after DO. */
  z: number;
  options: DnsOption[];
}

export interface DnsOption {
  code: number;
  length: number;
  /** The option data as captured. */
  data: Uint8Array;
}

export interface DnsMessage {
  /** Header bytes that were captured (tshark shows id and flags from 4, each count when its bytes are there). */
  headerBytes: number;
  id: number;
  flags: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** The captured bytes ended before the message did. */
  truncated: boolean;
  /** Why decoding stopped early on a malformed message (a reserved label type, a bad name...). */
  error: string | null;
}

/** Wireshark's MAX_DNAME_LEN: the name buffer, and the number of pointers taken as a loop. */
const MAX_DNAME_LEN = 255;
/** Wireshark's MIN_DNAME_LEN: a name this short with no text is the root. */
const MIN_DNAME_LEN = 2;
const POINTER_LOOP = '<Name contains a pointer that loops>';
const NAME_TOO_LONG = '<Name too long>';
const UNKNOWN_LABEL = '<Unknown extended label>';

/** A name read at an offset: its text, the text's length as tshark counts it, and the bytes it took in place. */
interface NameAt {
  name: string;
  length: number;
  used: number;
  /** The name's bytes before formatting (labels and dots). */
  raw: number[];
}

/** Thrown on malformed data (Wireshark's ReportedBoundsError for a bad label). */
class Malformed {
  constructor(readonly reason: string) {}
}

/**
 * Decodes one DNS message from v (offset 0 is the message start; compression pointers are relative
 * to it). Never throws: a message cut short comes back with truncated set, a malformed one with
 * error set, holding what was read before.
 */
export function decodeDnsMessage(v: ByteView, mdns = false): DnsMessage {
  if (segments.size) segments = new Map();
  const m: DnsMessage = {
    headerBytes: Math.min(v.length, DNS.HEADER_LEN), id: 0, flags: 0, qdcount: 0, ancount: 0, nscount: 0, arcount: 0,
    questions: [], answers: [], authorities: [], additionals: [], truncated: false, error: null,
  };
  try {
    m.id = v.u16(DNS.ID);
    m.flags = v.u16(DNS.FLAGS);
    m.qdcount = v.u16(DNS.QDCOUNT);
    m.ancount = v.u16(DNS.ANCOUNT);
    m.nscount = v.u16(DNS.NSCOUNT);
    m.arcount = v.u16(DNS.ARCOUNT);
    let o: number = DNS.HEADER_LEN;
    for (let k = 0; k < m.qdcount; k++) {
      const n = readName(v, o);
      o += n.used;
      const type = v.u16(o);
      const c = v.u16(o + 2);
      o += 4;
      const qu = mdns && (c & MDNS_CLASS_BIT) !== 0;
      m.questions.push({
        name: n.name, nameLength: n.length > 1 ? n.length : 0, labels: labelCount(n), type,
        class: mdns ? c & ~MDNS_CLASS_BIT : c, unicastResponse: qu,
      });
    }
    o = readRecords(v, o, m.ancount, m.answers, mdns);
    o = readRecords(v, o, m.nscount, m.authorities, mdns);
    readRecords(v, o, m.arcount, m.additionals, mdns);
  } catch (e) {
    if (e instanceof OutOfBounds) m.truncated = true;
    else if (e instanceof Malformed) m.error = e.reason;
    else throw e;
  }
  return m;
}

/** qname_labels_count: dots plus one, for a name longer than one character. */
function labelCount(n: NameAt): number {
  if (n.length <= 1) return 0;
  let dots = 0;
  const end = Math.min(n.length, n.raw.length);
  for (let k = 0; k < end; k++) if (n.raw[k] === 0x2e) dots++;
  return dots + 1;
}

function readRecords(v: ByteView, o: number, count: number, into: DnsRecord[], mdns: boolean): number {
  for (let k = 0; k < count; k++) {
    const n = readName(v, o);
    const start = o;
    o += n.used;
    const type = v.u16(o);
    const c = v.u16(o + 2);
    const len = v.u16(o + 8);
    const ttl = v.u32(o + 4);
    o += 10;
    // tshark shows nothing of a record it has not captured whole (its subtree spans the RDATA).
    v.check(start, o + len - start);
    const flush = mdns && (c & MDNS_CLASS_BIT) !== 0;
    const rd = v.slice(o, len);
    const r: DnsRecord = {
      name: n.name, type, class: mdns ? c & ~MDNS_CLASS_BIT : c, cacheFlush: flush, ttl, rdlength: len,
      rdata: rd.buf.subarray(rd.start, rd.end), data: null,
    };
    into.push(r);
    // The OPT pseudo-record's class and TTL fields are shown whatever its RDATA holds.
    if (type === RR.OPT) {
      r.data = {
        opt: {
          udpPayloadSize: r.class, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, do: (ttl & 0x8000) !== 0,
          z: ttl & 0x7fff, options: [],
        },
      };
    }
    if (len > 0) readRdata(v, o, len, r, mdns);
    o += len;
  }
  return o;
}

/**
 * The RDATA of the types whose fields are shown, read as tshark reads them: from the message at
 * the RDATA offset without regard to its length (an A record is 4 bytes whatever its length says),
 * filling r.data as it goes.
 */
function readRdata(v: ByteView, o: number, len: number, r: DnsRecord, mdns: boolean): void {
  const d: DnsRdata = {};
  switch (r.type) {
    case RR.A:
      r.data = d;
      d.address = ipv4At(v.bytes(o, 4), 0);
      return;
    case RR.AAAA:
      r.data = d;
      d.address = ipv6At(v.bytes(o, 16), 0);
      return;
    case RR.NS: case RR.CNAME: case RR.PTR: case RR.DNAME: case RR.MD: case RR.MF: case RR.MB: case RR.MG: case RR.MR:
      r.data = d;
      d.target = readName(v, o).name;
      return;
    case RR.MX: {
      r.data = d;
      const pref = v.u16(o);
      const ex = readName(v, o + 2);
      d.preference = pref;
      d.exchange = ex.name;
      return;
    }
    case RR.TXT: case RR.SPF: {
      r.data = d;
      d.strings = [];
      // A string running past the RDATA makes the remaining count negative: tshark reads on until the message ends.
      for (let p = o, left = len; left !== 0; ) {
        const n = v.u8(p);
        left -= 1 + n;
        // mDNS TXT strings are UTF-8 to tshark, DNS ones ASCII.
        d.strings.push(tsharkString(v.bytes(p + 1, n), r.type === RR.TXT && mdns));
        p += 1 + n;
      }
      return;
    }
    case RR.SOA: {
      r.data = d;
      const mname = readName(v, o);
      d.mname = mname.name;
      const rname = readName(v, o + mname.used);
      d.rname = rname.name;
      const p = o + mname.used + rname.used;
      d.serial = v.u32(p);
      d.refresh = v.u32(p + 4);
      d.retry = v.u32(p + 8);
      d.expire = v.u32(p + 12);
      d.minimum = v.u32(p + 16);
      return;
    }
    case RR.SRV:
      r.data = d;
      d.priority = v.u16(o);
      d.weight = v.u16(o + 2);
      d.port = v.u16(o + 4);
      d.target = readName(v, o + 6).name;
      return;
    case RR.NSEC: {
      r.data = d;
      d.bitmapTypes = [];
      const next = readName(v, o);
      typeBitmap(v, o + next.used, len - next.used, d.bitmapTypes);
      return;
    }
    case RR.NSEC3: {
      r.data = d;
      d.bitmapTypes = [];
      const saltLen = v.u8(o + 4);
      v.check(o + 5, saltLen);
      const hashLen = v.u8(o + 5 + saltLen);
      v.check(o + 6 + saltLen, hashLen);
      const used = 6 + saltLen + hashLen;
      typeBitmap(v, o + used, len - used, d.bitmapTypes);
      return;
    }
    case RR.NXT: {
      // NXT's bitmap starts at type 0 and runs to the end of the RDATA.
      r.data = d;
      d.bitmapTypes = [];
      const next = readName(v, o);
      let p = o + next.used;
      for (let left = len - next.used, type = 0; left !== 0; left--, p++) {
        const bits = v.u8(p);
        for (let mask = 0x80; mask; mask >>= 1, type++) if (bits & mask) d.bitmapTypes.push(type);
      }
      return;
    }
    case RR.CSYNC: {
      r.data = d;
      d.bitmapTypes = [];
      v.check(o, 6);
      typeBitmap(v, o + 6, len - 6, d.bitmapTypes);
      return;
    }
    case RR.OPT: {
      const opt = (r.data as DnsRdata).opt as DnsOpt;
      for (let p = o, left = len; left > 0; ) {
        const code = v.u16(p);
        const n = v.u16(p + 2);
        // tshark shows the code and length before it finds the data missing.
        const data = v.slice(p + 4, n);
        opt.options.push({ code, length: n, data: data.buf.subarray(data.start, data.end) });
        v.check(p + 4, n);
        left -= 4 + n;
        p += 4 + n;
      }
      return;
    }
    case RR.CAA: {
      r.data = d;
      d.flags = v.u8(o);
      const tagLen = v.u8(o + 1);
      d.tag = tsharkString(v.bytes(o + 2, tagLen), false);
      d.value = tsharkString(v.bytes(o + 2 + tagLen, (len - 2 - tagLen) & 0xffff), false);
      return;
    }
    default:
      checkRdata(v, o, len, r.type);
      return;
    case RR.SVCB: case RR.HTTPS: {
      r.data = d;
      d.priority = v.u16(o);
      const target = readName(v, o + 2);
      d.target = target.name;
      d.params = [];
      for (let p = o + 2 + target.used; p - o < len; ) {
        const n = v.u16(p + 2);
        d.params.push({ key: v.u16(p), value: v.bytes(p + 4, n) });
        p += 4 + n;
      }
      return;
    }
  }
}

/**
 * The reads tshark makes in the RDATA of types whose fields are not shown here, for where they
 * stop it: lengths inside the RDATA that run past the capture, names that do not decode.
 */
function checkRdata(v: ByteView, o: number, len: number, type: number): void {
  switch (type) {
    case RR.A6: {
      const prefixLen = v.u8(o);
      const suffixBits = (128 - prefixLen) & 0xffff;
      const suffixBytes = suffixBits ? ((suffixBits - 1) >> 3) + 1 : 0;
      v.check(o + 1, Math.min(16, suffixBytes));
      if (prefixLen > 0) readName(v, o + 1 + Math.min(16, suffixBytes));
      v.check(o + 1, suffixBytes);
      return;
    }
    case RR.TSIG: {
      let p = o + readName(v, o).used;
      v.check(p, 8);
      p += 8;
      const macLen = v.u16(p);
      v.check(p + 2, macLen);
      p += 2 + macLen;
      v.check(p, 4);
      v.check(p + 6, v.u16(p + 4));
      return;
    }
    case RR.TKEY: {
      let p = o + readName(v, o).used;
      v.check(p, 12);
      p += 12;
      const keyLen = v.u16(p - 2);
      v.check(p, keyLen);
      p += keyLen;
      v.check(p + 2, v.u16(p));
      return;
    }
    case RR.RRSIG: case RR.SIG: {
      v.check(o, 18);
      const used = readName(v, o + 18).used;
      rest(v, o + 18 + used, len - 18 - used, true);
      return;
    }
    case RR.KEY:
      v.check(o, 4);
      rest(v, o + 4, len - 4, true);
      return;
    case RR.CERT:
      v.check(o, 5);
      rest(v, o + 5, len - 5, true);
      return;
    case RR.DNSKEY: case RR.CDNSKEY: case RR.DS: case RR.CDS: case RR.DLV:
      v.check(o, 4);
      rest(v, o + 4, len - 4, false);
      return;
    case RR.SSHFP:
      v.check(o, 2);
      rest(v, o + 2, len - 2, true);
      return;
    case RR.TLSA:
      v.check(o, 3);
      rest(v, o + 3, len - 3, false);
      return;
    case RR.ZONEMD:
      v.check(o, 6);
      rest(v, o + 6, len - 6, false);
      return;
    case RR.NSEC3PARAM:
      v.check(o + 5, v.u8(o + 4));
      return;
    case RR.IPSECKEY: {
      const gateway = v.u8(o + 1);
      v.check(o, 3);
      let p = o + 3;
      if (gateway === 1) p += v.bytes(p, 4).length;
      else if (gateway === 2) p += v.bytes(p, 16).length;
      else if (gateway === 3) p += readName(v, p).used;
      rest(v, p, len - (p - o), true);
      return;
    }
    case RR.WKS:
      // The port bitmap runs on past a short RDATA until the message ends.
      v.check(o, 5);
      for (let p = o + 5, left = len - 5; left !== 0; p++, left--) v.u8(p);
      return;
    case RR.WINS: {
      v.check(o, 16);
      let servers = v.u32(o + 12);
      for (let p = o + 16, left = len - 16; left !== 0 && servers !== 0; p += 4, left -= 4, servers--) v.check(p, 4);
      return;
    }
    case RR.LOC:
      if (v.u8(o) === 0) v.check(o, 16);
      return;
    case RR.X25:
      v.check(o + 1, v.u8(o));
      return;
    case RR.ISDN: {
      const n = v.u8(o);
      v.check(o + 1, n);
      if (len - 1 - n > 1) v.check(o + 2 + n, v.u8(o + 1 + n));
      return;
    }
    case RR.GPOS: {
      let p = o;
      for (let k = 0; k < 3; k++) p += 1 + v.bytes(p + 1, v.u8(p)).length;
      return;
    }
    case RR.RP: case RR.MINFO:
      readName(v, o + readName(v, o).used);
      return;
    case RR.PX:
      v.check(o, 2);
      readName(v, o + 2 + readName(v, o + 2).used);
      return;
    case RR.AFSDB: case RR.RT: case RR.KX: case RR.LP:
      v.check(o, 2);
      readName(v, o + 2);
      return;
    case RR.NSAP_PTR:
      readName(v, o);
      return;
    case RR.NID: case RR.L64:
      v.check(o, 10);
      return;
    case RR.L32:
      v.check(o, 6);
      return;
    case RR.EUI48:
      v.check(o, 6);
      return;
    case RR.EUI64:
      v.check(o, 8);
      return;
    case RR.APL: {
      for (let p = o, left = len; left > 1; ) {
        v.check(p, 3);
        const n = v.u8(p + 3) & 0x7f;
        // tshark copies or shows the address part whatever the family: it must have been captured.
        v.check(p + 4, n);
        p += 4 + n;
        left -= 4 + n;
      }
      return;
    }
    case RR.HINFO: {
      const cpu = v.u8(o);
      v.check(o + 1, cpu);
      v.check(o + 2 + cpu, v.u8(o + 1 + cpu));
      return;
    }
    case RR.NAPTR: {
      let p = o + 4;
      for (let k = 0; k < 3; k++) p += 1 + v.bytes(p + 1, v.u8(p)).length;
      readName(v, p);
      return;
    }
  }
}

/**
 * The bytes tshark shows as the rest of an RDATA, `n` of them from p (its length computed from the
 * RDATA length, so negative when the RDATA is short): -1 takes the rest of the message, less is
 * malformed. `optional`: tshark skips an empty rest.
 */
function rest(v: ByteView, p: number, n: number, optional: boolean): void {
  if (optional && n === 0) return;
  if (n < -1) throw new Malformed('RDATA shorter than its fixed fields');
  if (n === -1) v.check(0, p);
  else v.check(p, n);
}

/** dissect_type_bitmap: the types an NSEC-style window/bitmap list names, appended to `into`. */
function typeBitmap(v: ByteView, o: number, left: number, into: number[]): void {
  while (left !== 0) {
    const base = v.u8(o) * 256;
    let size = v.u8(o + 1);
    o += 2;
    left -= 2;
    let type = base;
    for (; size; size--) {
      const bits = v.u8(o);
      for (let mask = 0x80; mask; mask >>= 1, type++) if (bits & mask) into.push(type);
      o++;
      left--;
    }
  }
}

/**
 * expand_dns_name and get_dns_name: labels joined by '.' into a 255-byte buffer (a name that fills
 * it is "<Name too long>"), pointers followed anywhere (a pointer right past itself, or more than
 * 255 of them, is a loop), bit labels written but not counted in the length, the text run through
 * format_text; "<Root>" for the empty name.
 */
function readName(v: ByteView, start: number): NameAt {
  const raw: number[] = [];
  let count = 0;
  let room = MAX_DNAME_LEN;
  let o = start;
  let used = -1;
  let pointers = 0;
  for (;;) {
    if (room <= 0) {
      // The text is full: only how the name ends matters now.
      const end = nameEnd(v, o, start, used, pointers);
      return specialName(end.special, end.used);
    }
    const c = v.u8(o++);
    if (c === 0) break;
    switch (c & TYPE_MASK) {
      case 0: {
        if (raw.length > 0) {
          if (room > 0) { raw.push(0x2e); count++; room--; }
        } else room--;
        for (let n = c; n > 0; n--, o++) {
          if (room > 0) { raw.push(v.u8(o)); count++; room--; }
        }
        break;
      }
      case TYPE_EDNS0: {
        // The length counts from the name's start to here even after pointers (negative when they led back).
        if ((c & ~TYPE_MASK) !== EDNS0_ELT_BITLABEL) return specialName(UNKNOWN_LABEL, o - start);
        const bits = v.u8(o++);
        let n = bits === 0 ? 1 : ((bits - 1) >> 3) + 1;
        room = putText(raw, room, '\\[x');
        for (; n > 0; n--, o++) if (room > 0) room = putText(raw, room, hex2(v.u8(o)));
        if (room > 0) room = putText(raw, room, '/' + bits + ']');
        break;
      }
      case TYPE_RESERVED:
        throw new Malformed('reserved label type');
      default: {
        const target = ((c & 0x3f) << 8) | v.u8(o);
        o++;
        pointers++;
        if (used < 0) used = o - start;
        if (target === o + 2 || pointers > MAX_DNAME_LEN) return specialName(POINTER_LOOP, used);
        o = target;
      }
    }
  }
  if (used < 0) used = o - start;
  if (room <= 0) return specialName(NAME_TOO_LONG, used);
  // Wireshark tests the buffer's first byte, so a name starting with a NUL byte reached by a pointer is the root too.
  if ((raw.length === 0 || raw[0] === 0) && used <= MIN_DNAME_LEN) return { name: '<Root>', length: 6, used, raw: [] };
  if (used < MIN_DNAME_LEN || (used > MIN_DNAME_LEN && count === 0)) throw new Malformed('bad name');
  return { name: formatText(raw, count), length: count, used, raw };
}

/** A name tshark replaces with a description, taking `used` bytes in place (fewer than 2: malformed). */
function specialName(name: string, used: number): NameAt {
  if (used < MIN_DNAME_LEN) throw new Malformed('bad name');
  return { name, length: name.length, used, raw: [] };
}

/** How a name whose text is full ends: "<Name too long>" unless a loop or a bad label comes first. */
interface NameEnd {
  special: string;
  used: number;
}

/**
 * The rest of a name whose text is full, from offset o: pointer to pointer through memoized
 * segments (a hostile message can send thousands of names round a 255-pointer loop through long
 * label runs; each run is walked once per message).
 */
function nameEnd(v: ByteView, o: number, start: number, used: number, pointers: number): NameEnd {
  for (;;) {
    const seg = segmentAt(v, o);
    if (seg.kind === SEG_END) return { special: NAME_TOO_LONG, used: used < 0 ? seg.after - start : used };
    if (seg.kind === SEG_UNKNOWN_LABEL) return { special: UNKNOWN_LABEL, used: seg.after - start };
    pointers++;
    if (used < 0) used = seg.after - start;
    if (seg.target === seg.after + 2 || pointers > MAX_DNAME_LEN) return { special: POINTER_LOOP, used };
    o = seg.target;
  }
}

const SEG_END = 0, SEG_POINTER = 1, SEG_UNKNOWN_LABEL = 2;

/** A run of labels from some offset to the name's end, an unknown label type or a pointer (its target and the offset after it). */
interface Segment {
  kind: number;
  target: number;
  after: number;
}

/** Segments of the message being decoded, by start offset (see nameEnd). */
let segments = new Map<number, Segment>();

function segmentAt(v: ByteView, start: number): Segment {
  let seg = segments.get(start);
  if (seg !== undefined) return seg;
  let o = start;
  for (;;) {
    const c = v.u8(o++);
    if (c === 0) {
      seg = { kind: SEG_END, target: 0, after: o };
      break;
    }
    const type = c & TYPE_MASK;
    if (type === 0) {
      // Past the text Wireshark reads no label bytes, only lengths.
      o += c;
    } else if (type === TYPE_EDNS0) {
      if ((c & ~TYPE_MASK) !== EDNS0_ELT_BITLABEL) {
        seg = { kind: SEG_UNKNOWN_LABEL, target: 0, after: o };
        break;
      }
      const bits = v.u8(o++);
      o += bits === 0 ? 1 : ((bits - 1) >> 3) + 1;
    } else if (type === TYPE_RESERVED) {
      throw new Malformed('reserved label type');
    } else {
      const target = ((c & 0x3f) << 8) | v.u8(o);
      seg = { kind: SEG_POINTER, target, after: o + 1 };
      break;
    }
  }
  segments.set(start, seg);
  return seg;
}

/** snprintf into the name buffer: the text when it fits in the room left, else nothing more is written. */
function putText(raw: number[], room: number, text: string): number {
  if (text.length > room) return 0;
  for (let k = 0; k < text.length; k++) raw.push(text.charCodeAt(k));
  return room - text.length;
}

/**
 * Wireshark's format_text over the first n bytes: printable ASCII as is, other ASCII as \a \b \f
 * \n \r \t \v or octal \ooo; UTF-8 decoded permissively (overlong forms accepted), a broken or
 * out-of-range sequence as U+FFFD, a non-printable character as \uXXXX.
 */
export function formatText(b: ArrayLike<number>, n: number = b.length): string {
  let s = '';
  for (let i = 0; i < n; ) {
    const c = b[i++];
    if (c >= 0x20 && c < 0x7f) {
      s += String.fromCharCode(c);
      continue;
    }
    if (c < 0x80) {
      s += controlEscape(c);
      continue;
    }
    const more = (c & 0xe0) === 0xc0 ? 1 : (c & 0xf0) === 0xe0 ? 2 : (c & 0xf8) === 0xf0 ? 3 : (c & 0xfc) === 0xf8 ? 4 : (c & 0xfe) === 0xfc ? 5 : 0;
    let uc = UNREPL;
    if (more > 0) {
      uc = c & (0x3f >> more);
      for (let k = 0; k < more; k++) {
        // A missing or wrong continuation byte is left for the next character.
        if (i >= n || (b[i] & 0xc0) !== 0x80) {
          uc = UNREPL;
          break;
        }
        uc = ((uc << 6) | (b[i++] & 0x3f)) >>> 0;
      }
      if (uc >= 0x110000 || (uc >= 0xd800 && uc < 0xe000)) uc = UNREPL;
    }
    s += isPrintable(uc) ? String.fromCodePoint(uc) : uc <= 0xffff ? '\\u' + uc.toString(16).toUpperCase().padStart(4, '0') : '\\U' + uc.toString(16).toUpperCase().padStart(8, '0');
  }
  return s;
}

const UNREPL = 0xfffd;
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cn}\p{Cs}]/u;

/** GLib's g_unichar_isprint: not a control, format, unassigned or surrogate code point. */
function isPrintable(uc: number): boolean {
  return !NON_PRINTABLE.test(String.fromCodePoint(uc));
}

function controlEscape(c: number): string {
  switch (c) {
    case 0x07: return '\\a';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x0b: return '\\v';
    default: return '\\' + c.toString(8).padStart(3, '0');
  }
}

/** The characters tshark -T fields escapes in string values. */
const OUTPUT_ESCAPES = new Map([['\b', '\\b'], ['\f', '\\f'], ['\n', '\\n'], ['\r', '\\r'], ['\t', '\\t']]);

/**
 * A string field as tshark -T fields prints it: up to the first NUL, bytes past ASCII as U+FFFD
 * (UTF-8 decoded instead when `utf8`), \b \f \n \r \t escaped.
 */
function tsharkString(b: Uint8Array, utf8: boolean): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  let s = '';
  if (utf8) s = Buffer.from(b.buffer, b.byteOffset, end).toString('utf8');
  else for (let k = 0; k < end; k++) s += b[k] < 0x80 ? String.fromCharCode(b[k]) : '\ufffd';
  let out = '';
  for (let k = 0; k < s.length; k++) {
    const ch = s[k];
    const esc = OUTPUT_ESCAPES.get(ch);
    out += esc === undefined ? ch : esc;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building messages.

export interface DnsQuestionInit {
  name: string;
  type?: number;
  class?: number;
}

export interface DnsRecordInit {
  name: string;
  type: number;
  class?: number;
  ttl?: number;
  /** Raw RDATA; or one of the typed values below for the common types. */
  rdata?: Uint8Array;
  address?: string;
  target?: string;
  preference?: number;
  strings?: string[];
}

export interface DnsMessageInit {
  id?: number;
  flags?: number;
  questions?: DnsQuestionInit[];
  answers?: DnsRecordInit[];
  authorities?: DnsRecordInit[];
  additionals?: DnsRecordInit[];
}

/** A DNS message in wire format (names uncompressed). */
export function encodeDnsMessage(m: DnsMessageInit): Uint8Array {
  const parts: number[] = [];
  const q = m.questions ?? [], an = m.answers ?? [], ns = m.authorities ?? [], ar = m.additionals ?? [];
  push16(parts, m.id ?? 0);
  push16(parts, m.flags ?? 0);
  push16(parts, q.length);
  push16(parts, an.length);
  push16(parts, ns.length);
  push16(parts, ar.length);
  for (const x of q) {
    pushName(parts, x.name);
    push16(parts, x.type ?? RR.A);
    push16(parts, x.class ?? CLASS_IN);
  }
  for (const r of [...an, ...ns, ...ar]) {
    pushName(parts, r.name);
    push16(parts, r.type);
    push16(parts, r.class ?? CLASS_IN);
    const ttl = r.ttl ?? 0;
    push16(parts, ttl >>> 16);
    push16(parts, ttl & 0xffff);
    const rd = rdataOf(r);
    push16(parts, rd.length);
    for (const b of rd) parts.push(b);
  }
  return Uint8Array.from(parts);
}

function rdataOf(r: DnsRecordInit): number[] {
  if (r.rdata) return Array.from(r.rdata);
  const out: number[] = [];
  if (r.address !== undefined) {
    if (r.type === RR.AAAA) return parseIpv6(r.address);
    const q = r.address.split('.').map(Number);
    if (q.length !== 4 || q.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address: ${r.address}`);
    return q;
  }
  if (r.preference !== undefined) push16(out, r.preference);
  if (r.target !== undefined) pushName(out, r.target);
  if (r.strings) for (const s of r.strings) {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 255) throw new Error('a TXT string holds at most 255 bytes');
    out.push(b.length, ...b);
  }
  return out;
}

function parseIpv6(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = tail === null ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  if (words.length !== 8) throw new Error(`bad IPv6 address: ${a}`);
  const out: number[] = [];
  for (const w of words) {
    const n = parseInt(w, 16);
    if (!(n >= 0 && n <= 0xffff) || !/^[0-9a-f]{1,4}$/i.test(w)) throw new Error(`bad IPv6 address: ${a}`);
    push16(out, n);
  }
  return out;
}

function push16(out: number[], n: number): void {
  out.push((n >>> 8) & 0xff, n & 0xff);
}

function pushName(out: number[], name: string): void {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length === 0 || b.length > 63) throw new Error(`bad DNS label in ${name}`);
    out.push(b.length, ...b);
  }
  out.push(0);
}

// ---------------------------------------------------------------------------------------------
// The dissectors.

function decodeUdp(l: DnsLayer, v: ByteView, mdns: boolean): void {
  l.mdns = mdns;
  l.msgOff = v.start;
  l.msgLen = l.length;
  l.capEnd = v.end;
  // tshark hands a datagram with no payload captured to no dissector; tcpdump still prints it.
  if (v.length === 0) noMessage(l);
  decodeMessage(l, v, 0);
}

/** Reads the header of the message at offset `at` of v, claiming l.msgLen bytes; a cut anywhere in it throws. */
function decodeMessage(l: DnsLayer, v: ByteView, at: number): void {
  l.hdrLen = at + l.msgLen;
  l.payloadLen = l.length - l.hdrLen;
  if (l.msgLen < DNS.HEADER_LEN) {
    l.invalid = 'length ' + l.msgLen + ' < ' + DNS.HEADER_LEN;
    v.check(0, l.hdrLen);
    return;
  }
  l.id = v.u16(at + DNS.ID);
  l.flags = v.u16(at + DNS.FLAGS);
  l.qdcount = v.u16(at + DNS.QDCOUNT);
  l.ancount = v.u16(at + DNS.ANCOUNT);
  l.nscount = v.u16(at + DNS.NSCOUNT);
  l.arcount = v.u16(at + DNS.ARCOUNT);
  v.check(0, l.hdrLen);
}

/**
 * A TCP segment. One whole message after its length prefix decodes as such. Otherwise (tcpdump
 * prints its length complaint for the segment) the segment is read as tshark reads a segment that
 * starts a message: each whole message in turn gets a layer (the next through this same binding),
 * and the rest, part of a message continued in later segments, gets a layer with no message
 * (dnsNone). A first message that does not decode cleanly means the segment continues an earlier
 * one: no message at all then (reassembly is the stream consumer's).
 */
function decodeTcp(l: DnsLayer, v: ByteView, p: Packet): void {
  l.overTcp = true;
  l.capEnd = v.end;
  l.msgOff = v.start + TCP_PREFIX_LEN;
  const prev = p.layers.length > 1 ? p.layers[p.layers.length - 2] : null;
  // A later message of the segment: tshark lists "dns" once for the segment.
  if (prev instanceof DnsLayer) l.dissector = dnsTcpNext;
  if (v.length === 0 || l.length < TCP_PREFIX_LEN) {
    if (l.length < TCP_PREFIX_LEN) l.invalid = 'DNS over TCP: length ' + l.length + ' < 2';
    noMessage(l);
    l.hdrLen = l.length;
    v.check(0, l.length);
    return;
  }
  l.prefix = v.u16(0);
  l.segmentMismatch = l.prefix !== l.length - TCP_PREFIX_LEN;
  if (!l.segmentMismatch || startsWithMessage(l, v)) {
    l.msgLen = l.prefix;
    decodeMessage(l, v, TCP_PREFIX_LEN);
    if (l.payloadLen > 0) {
      l.nextTable = Table.TcpPort;
      l.nextKey = DNS_PORT;
    }
    return;
  }
  noMessage(l);
  l.hdrLen = l.length;
  v.check(0, l.length);
}

/** Marks a layer that holds no message: tcpdump still prints it, tshark's frame.protocols leaves it out. */
function noMessage(l: DnsLayer): void {
  l.noMessage = true;
  l.dissector = l.mdns ? mdnsNone : dnsNone;
}

/** The segment starts with a whole, captured message that decodes without error (kept as the layer's message). */
function startsWithMessage(l: DnsLayer, v: ByteView): boolean {
  const n = l.prefix;
  if (n < DNS.HEADER_LEN || TCP_PREFIX_LEN + n > l.length || !v.has(0, TCP_PREFIX_LEN + n)) return false;
  const m = decodeDnsMessage(v.slice(TCP_PREFIX_LEN, n));
  if (m.truncated || m.error !== null) return false;
  l.parsed = m;
  return true;
}

function print(p: Packet, i: number, out: TextOut): void {
  const l = p.layers[i] as DnsLayer;
  // Later messages of a TCP segment: tcpdump printed the segment once, at the first.
  if (i > 0 && p.layers[i - 1] instanceof DnsLayer) return;
  const end = capturedEnd(p, i);
  if (!l.overTcp) {
    printDnsMessage(out, l.buf, l.off, end, l.length, l.mdns);
    return;
  }
  if (l.length < TCP_PREFIX_LEN) {
    out.s += ' [DNS over TCP: length ' + l.length + ' < 2] (invalid)';
    return;
  }
  if (end - l.off < TCP_PREFIX_LEN) {
    out.truncJump('domain');
    return;
  }
  const prefix = (l.buf[l.off] << 8) | l.buf[l.off + 1];
  const length = l.length - TCP_PREFIX_LEN;
  if (prefix !== length) out.s += ' [prefix length(' + prefix + ') != length(' + length + ')] (invalid)';
  else {
    out.s += ' ';
    printDnsMessage(out, l.buf, l.off + TCP_PREFIX_LEN, end, length, l.mdns);
  }
}

/**
 * tcpdump's snapend for the message: the captured end of the transport layer below (it may lie past
 * the UDP length, inside the IP datagram), else of this layer's own bytes.
 */
function capturedEnd(p: Packet, i: number): number {
  const below = i > 0 ? (p.layers[i - 1] as Layer & { caplen?: number }) : null;
  if (below && typeof below.caplen === 'number') return below.off + below.caplen;
  return (p.layers[i] as DnsLayer).capEnd;
}

function encode(l: DnsLayer, payload: Uint8Array, ctx: EncodeContext): Uint8Array {
  const msg = l.build ? encodeDnsMessage(l.build) : l.buf ? l.buf.subarray(l.msgOff, l.off + l.hdrLen) : new Uint8Array(0);
  if (!l.overTcp) return concat(msg, payload);
  const out = new Uint8Array(TCP_PREFIX_LEN + msg.length + payload.length);
  put16(out, 0, ctx.opts.fixLengths || l.build ? msg.length : l.prefix);
  out.set(msg, TCP_PREFIX_LEN);
  out.set(payload, TCP_PREFIX_LEN + msg.length);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// tshark's fields.

type Getter = (l: DnsLayer) => FieldValue;

function msg(l: DnsLayer): DnsMessage | null {
  return l.hasMessage ? l.message : null;
}

/** Each record of the three sections, in order. */
function records(m: DnsMessage): DnsRecord[] {
  return m.answers.concat(m.authorities, m.additionals);
}

/** A field with one value per record that has it, in record order; undefined when none has. */
function perRecord(get: (r: DnsRecord, l: DnsLayer) => string | number | undefined): Getter {
  return (l) => {
    const m = msg(l);
    if (!m) return undefined;
    const out: Array<string | number> = [];
    for (const r of records(m)) {
      const x = get(r, l);
      if (x !== undefined) out.push(x);
    }
    return out.length ? out : undefined;
  };
}

/** A field of the RDATA of the given types. */
function rdataField(types: readonly number[], get: (d: DnsRdata) => string | number | undefined): Getter {
  return perRecord((r) => (r.data !== null && types.includes(r.type) ? get(r.data) : undefined));
}

/** A header field, shown when its bytes were captured (id and flags come together, from the first 4). */
function header(need: number, get: (m: DnsMessage) => FieldValue): Getter {
  return (l) => {
    const m = msg(l);
    return m && m.headerBytes >= need ? get(m) : undefined;
  };
}

function flag(bit: number, responsesOnly: boolean): Getter {
  return header(4, (m) => (m.flags & FLAG.QR || !responsesOnly ? (m.flags & bit ? 1 : 0) : undefined));
}

function isUpdate(m: DnsMessage): boolean {
  return ((m.flags >> 11) & 0xf) === OPCODE_UPDATE;
}

function perQuestion(get: (q: DnsQuestion) => string | number): Getter {
  return (l) => {
    const m = msg(l);
    return m && m.questions.length ? m.questions.map(get) : undefined;
  };
}

/** SRV owner names: tshark splits them into service, protocol and the rest instead of dns.resp.name. */
function srvPart(k: number): Getter {
  return perRecord((r) => (r.type === RR.SRV ? splitSrv(r.name)[k] : undefined));
}

/** g_strsplit(name, ".", 3). */
function splitSrv(name: string): string[] {
  const a = name.indexOf('.');
  if (a < 0) return [name];
  const b = name.indexOf('.', a + 1);
  if (b < 0) return [name.slice(0, a), name.slice(a + 1)];
  return [name.slice(0, a), name.slice(a + 1, b), name.slice(b + 1)];
}

const fields: Record<string, Getter> = {
  // Shown once the id and flags are read.
  'dns.length': (l) => {
    const m = l.overTcp ? msg(l) : null;
    return m && m.headerBytes >= 4 ? l.prefix : undefined;
  },
  'dns.id': header(4, (m) => '0x' + hex4(m.id)),
  'dns.flags': header(4, (m) => '0x' + hex4(m.flags)),
  'dns.flags.response': flag(FLAG.QR, false),
  'dns.flags.opcode': header(4, (m) => (m.flags >> 11) & 0xf),
  'dns.flags.authoritative': flag(FLAG.AA, true),
  'dns.flags.truncated': flag(FLAG.TC, false),
  'dns.flags.recdesired': flag(FLAG.RD, false),
  'dns.flags.recavail': flag(FLAG.RA, true),
  'dns.flags.z': flag(FLAG.Z, false),
  // On a query tshark shows the AD bit only when it is set.
  'dns.flags.authenticated': header(4, (m) => (m.flags & FLAG.QR ? (m.flags & FLAG.AD ? 1 : 0) : m.flags & FLAG.AD ? 1 : undefined)),
  'dns.flags.checkdisable': flag(FLAG.CD, false),
  'dns.flags.rcode': header(4, (m) => (m.flags & FLAG.QR ? m.flags & 0xf : undefined)),
  'dns.count.queries': header(6, (m) => (isUpdate(m) ? undefined : m.qdcount)),
  'dns.count.zones': header(6, (m) => (isUpdate(m) ? m.qdcount : undefined)),
  'dns.count.answers': header(8, (m) => (isUpdate(m) ? undefined : m.ancount)),
  'dns.count.prerequisites': header(8, (m) => (isUpdate(m) ? m.ancount : undefined)),
  'dns.count.auth_rr': header(10, (m) => (isUpdate(m) ? undefined : m.nscount)),
  'dns.count.updates': header(10, (m) => (isUpdate(m) ? m.nscount : undefined)),
  'dns.count.add_rr': header(12, (m) => m.arcount),
  'dns.qry.name': perQuestion((q) => q.name),
  'dns.qry.name.len': perQuestion((q) => q.nameLength),
  'dns.count.labels': perQuestion((q) => q.labels),
  'dns.qry.type': perQuestion((q) => q.type),
  'dns.qry.class': perQuestion((q) => '0x' + hex4(q.class)),
  'dns.qry.qu': (l) => {
    const m = l.mdns ? msg(l) : null;
    return m && m.questions.length ? m.questions.map((q) => (q.unicastResponse ? 1 : 0)) : undefined;
  },
  'dns.resp.name': perRecord((r) => (r.type === RR.SRV ? undefined : r.name)),
  'dns.srv.service': srvPart(0),
  'dns.srv.proto': srvPart(1),
  'dns.srv.name': srvPart(2),
  // NSEC-style records list their bitmap's types under the record type's own field.
  'dns.resp.type': (l) => {
    const m = msg(l);
    if (!m) return undefined;
    const out: number[] = [];
    for (const r of records(m)) {
      out.push(r.type);
      if (r.data?.bitmapTypes) for (const t of r.data.bitmapTypes) out.push(t);
    }
    return out.length ? out : undefined;
  },
  'dns.resp.class': perRecord((r) => (r.type === RR.OPT ? undefined : '0x' + hex4(r.class))),
  'dns.resp.cache_flush': perRecord((r, l) => (l.mdns ? (r.cacheFlush ? 1 : 0) : undefined)),
  'dns.resp.ttl': perRecord((r) => (r.type === RR.OPT ? undefined : r.ttl)),
  'dns.resp.len': perRecord((r) => r.rdlength),
  'dns.a': rdataField([RR.A], (d) => d.address),
  'dns.aaaa': rdataField([RR.AAAA], (d) => d.address),
  'dns.cname': rdataField([RR.CNAME], (d) => d.target),
  'dns.ns': rdataField([RR.NS], (d) => d.target),
  'dns.ptr.domain_name': rdataField([RR.PTR], (d) => d.target),
  'dns.dname': rdataField([RR.DNAME], (d) => d.target),
  'dns.mx.preference': rdataField([RR.MX], (d) => d.preference),
  'dns.mx.mail_exchange': rdataField([RR.MX], (d) => d.exchange),
  'dns.txt': (l) => {
    const m = msg(l);
    if (!m) return undefined;
    const out: string[] = [];
    for (const r of records(m)) if (r.type === RR.TXT && r.data?.strings) out.push(...r.data.strings);
    return out.length ? out : undefined;
  },
  'dns.soa.mname': rdataField([RR.SOA], (d) => d.mname),
  'dns.soa.rname': rdataField([RR.SOA], (d) => d.rname),
  'dns.soa.serial_number': rdataField([RR.SOA], (d) => d.serial),
  'dns.soa.refresh_interval': rdataField([RR.SOA], (d) => d.refresh),
  'dns.soa.retry_interval': rdataField([RR.SOA], (d) => d.retry),
  'dns.soa.expire_limit': rdataField([RR.SOA], (d) => d.expire),
  'dns.soa.minimum_ttl': rdataField([RR.SOA], (d) => d.minimum),
  'dns.srv.priority': rdataField([RR.SRV], (d) => d.priority),
  'dns.srv.weight': rdataField([RR.SRV], (d) => d.weight),
  'dns.srv.port': rdataField([RR.SRV], (d) => d.port),
  'dns.srv.target': rdataField([RR.SRV], (d) => d.target),
  // mDNS shows the OPT payload size in hex (its field masks off the cache-flush bit).
  'dns.rr.udp_payload_size': perRecord((r, l) => (r.type === RR.OPT ? (l.mdns ? '0x' + hex4(r.class) : r.class) : undefined)),
  'dns.resp.ext_rcode': rdataField([RR.OPT], (d) => '0x' + hex2(d.opt!.extendedRcode)),
  'dns.resp.edns0_version': rdataField([RR.OPT], (d) => d.opt!.version),
  'dns.resp.z.do': rdataField([RR.OPT], (d) => (d.opt!.do ? 1 : 0)),
  'dns.opt.code': (l) => optionValues(l, (o) => o.code),
  'dns.opt.len': (l) => optionValues(l, (o) => o.length),
};

function optionValues(l: DnsLayer, get: (o: DnsOption) => string | number): FieldValue {
  const m = msg(l);
  if (!m) return undefined;
  const out: Array<string | number> = [];
  for (const r of records(m)) if (r.type === RR.OPT && r.data?.opt) for (const o of r.data.opt.options) out.push(get(o));
  return out.length ? out : undefined;
}

function json(l: DnsLayer): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (l.overTcp) o.lengthPrefix = l.prefix;
  if (l.segmentMismatch) o.segmentMismatch = true;
  const m = msg(l);
  if (!m) return o;
  o.id = m.id;
  o.flags = m.flags;
  o.qr = (m.flags & FLAG.QR) !== 0;
  o.opcode = (m.flags >> 11) & 0xf;
  o.rcode = m.flags & 0xf;
  o.counts = { questions: m.qdcount, answers: m.ancount, authorities: m.nscount, additionals: m.arcount };
  o.questions = m.questions;
  o.answers = m.answers;
  o.authorities = m.authorities;
  o.additionals = m.additionals;
  if (m.truncated) o.messageTruncated = true;
  if (m.error !== null) o.error = m.error;
  return o;
}

function makeDissector(name: string, protocols: string, decode: (l: DnsLayer, v: ByteView, p: Packet) => void): Dissector<DnsLayer> {
  return { name, protocols, create: () => new DnsLayer(), decode, print, encode, fields, json };
}

/** DNS over UDP, port 53. */
export const dns = makeDissector('dns', 'dns', (l, v) => decodeUdp(l, v, false));
/** Multicast DNS, UDP port 5353: tshark's "mdns", the same fields. */
export const mdns = makeDissector('mdns', 'mdns', (l, v) => decodeUdp(l, v, true));
/** DNS over TCP, port 53: a 2-byte length before each message. */
export const dnsTcp = makeDissector('dns', 'dns', decodeTcp);
/**
 * What a layer becomes when tshark would not dissect DNS there (an empty datagram, a TCP segment
 * holding part of a message): tcpdump still prints it, frame.protocols leaves it out.
 */
const dnsNone: Dissector<DnsLayer> = { ...dns, protocols: '' };
const mdnsNone: Dissector<DnsLayer> = { ...mdns, protocols: '' };
/** A second or later message in one TCP segment: its fields, but "dns" only once in frame.protocols. */
const dnsTcpNext: Dissector<DnsLayer> = { ...dnsTcp, protocols: '' };

bind(Table.UdpPort, DNS_PORT, dns);
bind(Table.UdpPort, MDNS_PORT, mdns);
bind(Table.TcpPort, DNS_PORT, dnsTcp);
