/**
 * DNS (RFC 1035) over UDP and TCP port 53, and mDNS (RFC 6762) over UDP port 5353.
 * tcpdump: print-domain.c (domain_print, as Debian's 4.99.3 prints it); tshark fields: dns.*
 * (packet-dns.c). Two independent readers of the same bytes:
 * - formatDnsMessage, tcpdump's printer: walks the captured bytes the way tcpdump does (its
 *   compression-pointer rules, truncation points and quirks), with no allocation beyond the text;
 * - decodeDnsMessage, the message as tshark dissects it, for -T fields and --json, built on demand.
 * Both are pure functions over bytes, so a TCP stream consumer can call them on reassembled messages.
 * Over TCP a segment holding exactly one length-prefixed message decodes whole; tcpdump 4.99 does not
 * reassemble, so any other segment prints as its "[prefix length(..) != length(..)]" complaint.
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
  private parsed: DnsMessage | null = null;

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

  /** Captured end of the bytes this layer was decoded from. */
  capEnd = 0;

  /** A message starts here (not a segment continuing another, not an empty datagram). */
  get hasMessage(): boolean {
    return this.dissector !== dnsNone && this.msgLen > 0 && this.buf !== undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// tcpdump's printer.

/** Thrown when the printer reads past the captured bytes (tcpdump's GET_* longjmp). */
class PrintTruncated {}
const TRUNCATED = new PrintTruncated();
const TYPE_MASK = 0xc0, TYPE_INDIR = 0xc0, TYPE_EDNS0 = 0x40, TYPE_RESERVED = 0x80, EDNS0_ELT_BITLABEL = 0x01;
/** RFC 1035's 255-octet limit on a name, beyond which tcpdump stops printing labels. */
const MAXCDNAME = 255;
const NULL = -1;

/** One message's text, built in `s`. Reused: printers must not allocate per packet. */
class TextPrinter {
  buf: Uint8Array = new Uint8Array(0);
  /** Start of the message (the base of compression pointers). */
  bp = 0;
  /** End of the captured bytes (tcpdump's snapend). */
  end = 0;
  v = 0;
  mdns = false;
  s = '';

  u8(o: number): number {
    if (o >= this.end) throw TRUNCATED;
    return this.buf[o];
  }

  u16(o: number): number {
    if (o + 2 > this.end) throw TRUNCATED;
    return (this.buf[o] << 8) | this.buf[o + 1];
  }

  u32(o: number): number {
    if (o + 4 > this.end) throw TRUNCATED;
    return ((this.buf[o] << 24) | (this.buf[o + 1] << 16) | (this.buf[o + 2] << 8) | this.buf[o + 3]) >>> 0;
  }

  has(o: number, n: number): boolean {
    return o + n <= this.end;
  }

  /** The whole message: tcpdump's domain_print after its TCP prefix handling. */
  message(length: number): void {
    if (length < DNS.HEADER_LEN) {
      this.s += 'domain [length ' + length + ' < ' + DNS.HEADER_LEN + '] (invalid)';
      return;
    }
    const bp = this.bp;
    if (!this.has(bp, DNS.HEADER_LEN)) throw TRUNCATED;
    const flags = this.u16(bp + DNS.FLAGS);
    let qd = this.u16(bp + DNS.QDCOUNT);
    let an = this.u16(bp + DNS.ANCOUNT);
    let ns = this.u16(bp + DNS.NSCOUNT);
    let ar = this.u16(bp + DNS.ARCOUNT);
    const opcode = (flags >> 11) & 0xf;
    let cp = bp + DNS.HEADER_LEN;
    if (flags & FLAG.QR) {
      this.s += this.u16(bp) + OPCODE_TEXT[opcode] + rcodeText(this.extendedRcode(flags, qd, an + ns, ar)) +
        (flags & FLAG.AA ? '*' : '') + (flags & FLAG.RA ? '' : '-') + (flags & FLAG.TC ? '|' : '') + (flags & FLAG.AD ? '$' : '');
      if (qd !== 1) this.s += ' [' + qd + 'q]';
      for (let i = 0; i < qd; i++) {
        if (i !== 0) this.s += ',';
        if (this.v > 1) {
          this.s += ' q:';
          if ((cp = this.question(cp)) === NULL) throw TRUNCATED;
        } else {
          if ((cp = this.skipName(cp)) === NULL) throw TRUNCATED;
          cp += 4;
        }
      }
      this.s += ' ' + an + '/' + ns + '/' + ar;
      if (an) {
        if ((cp = this.record(cp)) === NULL) throw TRUNCATED;
        an--;
        while (cp < this.end && an) {
          this.s += ',';
          if ((cp = this.record(cp)) === NULL) throw TRUNCATED;
          an--;
        }
      }
      if (an) throw TRUNCATED;
      if (this.v > 1) {
        cp = this.section(cp, ns, ' ns:');
        this.section(cp, ar, ' ar:');
      }
    } else {
      this.s += this.u16(bp) + OPCODE_TEXT[opcode] + (flags & FLAG.RD ? '+' : '') + (flags & FLAG.CD ? '%' : '');
      // Flags a query should not have: AA, TC, RA, Z and the rcode.
      if (flags & 0x6cf) this.s += ' [b2&3=0x' + flags.toString(16) + ']';
      if (opcode === OPCODE_IQUERY) {
        if (qd) this.s += ' [' + qd + 'q]';
        if (an !== 1) this.s += ' [' + an + 'a]';
      } else {
        if (an) this.s += ' [' + an + 'a]';
        if (qd !== 1) this.s += ' [' + qd + 'q]';
      }
      if (ns) this.s += ' [' + ns + 'n]';
      if (ar) this.s += ' [' + ar + 'au]';
      if (qd) {
        if ((cp = this.question(cp)) === NULL) throw TRUNCATED;
        qd--;
        while (cp < this.end && qd) {
          if ((cp = this.question(cp)) === NULL) throw TRUNCATED;
          qd--;
        }
      }
      if (qd) throw TRUNCATED;
      if (this.v > 1) {
        if (an) {
          if ((cp = this.record(cp)) === NULL) throw TRUNCATED;
          an--;
          while (cp < this.end && an) {
            this.s += ',';
            if ((cp = this.record(cp)) === NULL) throw TRUNCATED;
            an--;
          }
        }
        if (an) throw TRUNCATED;
        cp = this.section(cp, ns, ' ns:');
        this.section(cp, ar, ' ar:');
      }
    }
    this.s += ' (' + length + ')';
  }

  /** The authority or additional section at -vv: records after the label, comma-separated. */
  private section(cp: number, count: number, label: string): number {
    if (cp < this.end && count) {
      this.s += label;
      if ((cp = this.record(cp)) === NULL) throw TRUNCATED;
      count--;
      while (cp < this.end && count) {
        this.s += ',';
        if ((cp = this.record(cp)) === NULL) throw TRUNCATED;
        count--;
      }
    }
    if (count) throw TRUNCATED;
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
          this.s += '<ELT ' + elt + '>';
          return NULL;
        }
        if (cp + 1 >= this.end) return NULL;
        const bitlen = this.buf[cp + 1] || 256;
        return ((bitlen + 7) >> 3) + 1;
      }
      case TYPE_RESERVED:
        this.s += '<BAD LABEL TYPE>';
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
      this.s += '.';
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
            this.s += '<BAD PTR>';
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
            this.s += '<ELT ' + elt + '>';
            return NULL;
          }
          this.bitLabel(cp);
          break;
        }
        case TYPE_RESERVED:
          this.s += '<BAD LABEL TYPE>';
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
      if (nameChars <= MAXCDNAME) this.s += '.';
      nameChars++;
      if (cp >= this.end) return NULL;
      i = this.buf[cp];
      if ((l = this.labelLen(cp)) === NULL) return NULL;
      cp++;
      if (!compress) rp += l + 1;
    }
    if (nameChars > MAXCDNAME) this.s += '<DOMAIN NAME TOO LONG>';
    return rp;
  }

  /** blabel_print: an RFC 2673 bit-string label as \[x<hex>/<bits>]. */
  private bitLabel(cp: number): void {
    let bitlen = this.u8(cp) || 256;
    const lim = cp + 1 + ((bitlen + 3) >> 2);
    this.s += '\\[x';
    let bitp = cp + 1;
    let b = bitlen;
    for (; bitp < lim && b > 7; b -= 8, bitp++) this.s += hex2(this.u8(bitp));
    if (b > 4) this.s += hex2(this.u8(bitp) & (0xff << (8 - b)));
    else if (b > 0) this.s += (((this.u8(bitp) >> 4) & 0x0f) & (0x0f << (4 - b))).toString(16);
    this.s += '/' + bitlen + ']';
  }

  /** nd_printn: n characters, tcpdump's way (M- for the high bit, ^ for controls); true if the capture ended first. */
  chars(cp: number, n: number): boolean {
    const end = this.end;
    const buf = this.buf;
    while (n > 0 && cp < end) {
      n--;
      let c = buf[cp++];
      if (c & 0x80) {
        c &= 0x7f;
        this.s += 'M-';
      }
      if (c < 0x20 || c === 0x7f) {
        c ^= 0x40;
        this.s += '^';
      }
      this.s += String.fromCharCode(c);
    }
    return n !== 0;
  }

  /** ns_qprint: " TYPE[ CLASS][ (QU)]? name", returning the end of the question or NULL. */
  question(cp: number): number {
    const np = cp;
    cp = this.skipName(cp);
    if (cp === NULL || !this.has(cp, 4)) return NULL;
    this.s += ' ' + typeText(this.u16(cp));
    const c = this.u16(cp + 2);
    const cls = this.mdns ? c & ~MDNS_CLASS_BIT : c;
    if (cls !== CLASS_IN) this.s += ' ' + classText(cls);
    if (this.mdns) this.s += c & MDNS_CLASS_BIT ? ' (QU)' : ' (QM)';
    this.s += '? ';
    const rp = this.name(np);
    return rp === NULL ? NULL : rp + 4;
  }

  /** ns_rprint: one resource record; returns its end, NULL, or `end` when its fixed part was not captured. */
  record(cp: number): number {
    const v = this.v;
    if (v) {
      this.s += ' ';
      if ((cp = this.name(cp)) === NULL) return NULL;
    } else cp = this.skipName(cp);
    if (cp === NULL || !this.has(cp, 10)) return this.end;
    const typ = this.u16(cp);
    const c = this.u16(cp + 2);
    cp += 4;
    const cls = this.mdns ? c & ~MDNS_CLASS_BIT : c;
    if (cls !== CLASS_IN && typ !== RR.OPT) this.s += ' ' + classText(cls);
    if (this.mdns && c & MDNS_CLASS_BIT) this.s += ' (Cache flush)';
    let optFlags = 0;
    if (typ === RR.OPT) {
      optFlags = this.u16(cp + 2);
      cp += 4;
    } else if (v > 2) {
      this.s += ' [' + relativeTime(this.u32(cp)) + ']';
      cp += 4;
    } else cp += 4;
    const len = this.u16(cp);
    cp += 2;
    this.s += ' ' + typeText(typ);
    if (!this.has(cp, len)) return NULL;
    const rp = cp + len;
    switch (typ) {
      case RR.A:
        if (!this.has(cp, 4)) return NULL;
        this.s += ' ' + ipv4At(this.buf, cp);
        break;
      case RR.NS: case RR.CNAME: case RR.PTR: case RR.DNAME:
        this.s += ' ';
        if (this.name(cp) === NULL) return NULL;
        break;
      case RR.SOA:
        if (!v) break;
        this.s += ' ';
        if ((cp = this.name(cp)) === NULL) return NULL;
        this.s += ' ';
        if ((cp = this.name(cp)) === NULL) return NULL;
        if (!this.has(cp, 20)) return NULL;
        for (let k = 0; k < 5; k++) this.s += ' ' + this.u32(cp + 4 * k);
        break;
      case RR.MX:
        this.s += ' ';
        if (!this.has(cp, 2)) return NULL;
        if (this.name(cp + 2) === NULL) return NULL;
        this.s += ' ' + this.u16(cp);
        break;
      case RR.TXT:
        while (cp < rp) {
          this.s += ' "';
          if ((cp = this.characterString(cp)) === NULL) return NULL;
          this.s += '"';
        }
        break;
      case RR.SRV:
        this.s += ' ';
        if (!this.has(cp, 6)) return NULL;
        if (this.name(cp + 6) === NULL) return NULL;
        this.s += ':' + this.u16(cp + 4) + ' ' + this.u16(cp) + ' ' + this.u16(cp + 2);
        break;
      case RR.AAAA:
        if (!this.has(cp, 16)) return NULL;
        this.s += ' ' + ipv6At(this.buf, cp);
        break;
      case RR.A6:
        if (this.a6(cp) === NULL) return NULL;
        break;
      case RR.URI:
        if (!this.has(cp, len)) return NULL;
        this.s += ' ' + this.u16(cp) + ' ' + this.u16(cp + 2) + ' ';
        // A length under 4 wraps around in tcpdump: it prints to the end of the capture.
        if (this.chars(cp + 4, (len - 4) >>> 0)) return NULL;
        break;
      case RR.OPT:
        this.s += ' UDPsize=' + cls;
        if (optFlags & 0x8000) this.s += ' DO';
        if (cp < rp) {
          this.s += ' [';
          while (cp < rp) {
            if ((cp = this.ednsOption(cp)) === NULL) return NULL;
            if (cp < rp) this.s += ',';
          }
          this.s += ']';
        }
        break;
      case RR.UNSPECA:
        // "Unspecified ASCII", printed straight after the type name.
        if (this.chars(cp, len)) return NULL;
        break;
      case RR.TSIG:
        if (cp + len > this.end) return NULL;
        if (!v) break;
        this.s += ' ';
        if ((cp = this.name(cp)) === NULL) return NULL;
        cp += 6;
        if (!this.has(cp, 2)) return NULL;
        this.s += ' fudge=' + this.u16(cp);
        cp += 2;
        if (!this.has(cp, 2)) return NULL;
        this.s += ' maclen=' + this.u16(cp);
        cp += 2 + this.u16(cp);
        if (!this.has(cp, 2)) return NULL;
        this.s += ' origid=' + this.u16(cp);
        cp += 2;
        if (!this.has(cp, 2)) return NULL;
        this.s += ' error=' + this.u16(cp);
        cp += 2;
        if (!this.has(cp, 2)) return NULL;
        this.s += ' otherlen=' + this.u16(cp);
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
      this.s += ' ' + pbit + '(bad plen)';
      return cp;
    }
    if (pbit < 128) {
      if (!this.has(cp + 1, 16 - pbyte)) throw TRUNCATED;
      const a = new Uint8Array(16);
      a.set(this.buf.subarray(cp + 1, cp + 1 + 16 - pbyte), pbyte);
      this.s += ' ' + pbit + ' ' + ipv6At(a, 0);
    }
    if (pbit > 0) {
      this.s += ' ';
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
    this.s += ednsOptionText(opt);
    if (!this.has(cp, 2)) return NULL;
    const n = this.u16(cp);
    cp += 2;
    if (!this.has(cp, n)) return NULL;
    if (n > 0) {
      this.s += ' ';
      switch (opt) {
        case EDNS.ECS:
          this.clientSubnet(cp, n);
          break;
        case EDNS.COOKIE:
          if (n < 8 || (n > 8 && n < 16) || n > 40) this.s += ' (invalid)';
          else for (let k = 0; k < n; k++) this.s += (k === 8 ? ' ' : '') + hex2(this.buf[cp + k]);
          break;
        case EDNS.KEEPALIVE:
          // In units of 100 ms, printed in seconds.
          if (n !== 2) this.s += ' (invalid)';
          else this.s += (this.u16(cp) / 10).toFixed(1) + ' sec';
          break;
        case EDNS.EXPIRE:
          if (n !== 4) this.s += ' (invalid)';
          else this.s += this.u32(cp) + ' sec';
          break;
        case EDNS.PADDING:
          this.s += '(' + n + ')';
          break;
        case EDNS.KEYTAG:
          if (n % 2 !== 0) this.s += ' (invalid)';
          else for (let k = 0; k < n; k += 2) this.s += (k ? ' ' : '') + this.u16(cp + k);
          break;
        case EDNS.DAU: case EDNS.DHU: case EDNS.N3U:
          for (let k = 0; k < n; k++) this.s += (k ? ' ' : '') + algorithmText(opt, this.buf[cp + k]);
          break;
        case EDNS.CHAIN:
          this.name(cp, cp + n);
          break;
        default:
          for (let k = 0; k < n; k++) this.s += hex2(this.buf[cp + k]);
      }
    }
    return cp + n;
  }

  /** print_eopt_ecs: family, source and scope prefix lengths and the address, "a.b.c.d/src/scope". */
  private clientSubnet(cp: number, n: number): void {
    if (n < 4) {
      this.s += ' (invalid)';
      return;
    }
    const family = this.u16(cp);
    const srcLen = this.u8(cp + 2);
    const scopeLen = this.u8(cp + 3);
    const bits = family === 1 ? 32 : family === 2 ? 128 : 0;
    if (bits === 0 || n - 4 > bits / 8 || srcLen > bits || scopeLen > bits || ((srcLen + 7) >> 3) !== n - 4) {
      this.s += ' (invalid)';
      return;
    }
    const a = new Uint8Array(16);
    a.set(this.buf.subarray(cp + 4, cp + n));
    this.s += (family === 1 ? ipv4At(a, 0) : ipv6At(a, 0)) + '/' + srcLen + '/' + scopeLen;
  }
}

const printer = new TextPrinter();

/**
 * tcpdump's text for one DNS message (domain_print without the TCP prefix): buf[start, end) are
 * the captured bytes from the message on (end may lie past the message: tcpdump reads up to the
 * end of the capture), `length` the message length claimed by the layer below, v the -v count.
 */
export function formatDnsMessage(buf: Uint8Array, start: number, end: number, length: number, v: number, mdns: boolean): string {
  const pr = printer;
  pr.buf = buf;
  pr.bp = start;
  pr.end = Math.max(start, Math.min(end, buf.length));
  pr.v = v;
  pr.mdns = mdns;
  pr.s = '';
  try {
    pr.message(length);
  } catch (e) {
    if (e !== TRUNCATED) throw e;
    pr.s += ' [|domain]';
  }
  const s = pr.s;
  pr.s = '';
  pr.buf = EMPTY;
  return s;
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
// The message as tshark dissects it.

export interface DnsQuestion {
  /** The name as tshark shows it: labels joined with '.', "<Root>" for the root. */
  name: string;
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
  /** RDATA as sent (captured part). */
  rdata: Uint8Array;
  /** What the RDATA says, for the types read (see DnsRdata); null for others and on error. */
  data: DnsRdata | null;
}

/** Decoded RDATA: the field names follow RFC presentation order. */
export type DnsRdata =
  | { address: string }
  | { target: string }
  | { preference: number; exchange: string }
  | { strings: string[] }
  | { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { priority: number; weight: number; port: number; target: string }
  | { flags: number; tag: string; value: string }
  | { cpu: string; os: string }
  | DnsOpt
  | DnsServiceBinding;

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
  data: Uint8Array;
}

export interface DnsServiceBinding {
  priority: number;
  target: string;
  params: Array<{ key: number; value: Uint8Array }>;
}

export interface DnsMessage {
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
  /** Why decoding stopped early on a malformed message (a bad label type, RDATA past the end...). */
  error: string | null;
}

/** Names past this many pointers are taken to loop (Wireshark's limit). */
const MAX_POINTERS = 127;
/** Wireshark keeps this many characters of a name. */
const MAX_NAME_CHARS = 255;
const POINTER_LOOP = '<Name contains a pointer that loops>';

/** A name read at an offset: its text and the offset just past it in place. */
interface NameAt {
  name: string;
  next: number;
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
  const m: DnsMessage = {
    id: 0, flags: 0, qdcount: 0, ancount: 0, nscount: 0, arcount: 0,
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
      const type = v.u16(n.next);
      const c = v.u16(n.next + 2);
      const qu = mdns && (c & MDNS_CLASS_BIT) !== 0;
      m.questions.push({ name: n.name, type, class: qu ? c & ~MDNS_CLASS_BIT : c, unicastResponse: qu });
      o = n.next + 4;
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

function readRecords(v: ByteView, o: number, count: number, into: DnsRecord[], mdns: boolean): number {
  for (let k = 0; k < count; k++) {
    const n = readName(v, o);
    o = n.next;
    const type = v.u16(o);
    const c = v.u16(o + 2);
    const ttl = v.u32(o + 4);
    const len = v.u16(o + 8);
    o += 10;
    const flush = mdns && type !== RR.OPT && (c & MDNS_CLASS_BIT) !== 0;
    const rd = v.slice(o, len);
    const r: DnsRecord = {
      name: n.name, type, class: flush ? c & ~MDNS_CLASS_BIT : c, cacheFlush: flush, ttl, rdata: rd.buf.subarray(rd.start, rd.end), data: null,
    };
    into.push(r);
    r.data = readRdata(v, o, len, type, c, ttl);
    o += len;
  }
  return o;
}

/** The RDATA of the types read; reads past the captured end throw OutOfBounds (record kept, data null). */
function readRdata(v: ByteView, o: number, len: number, type: number, cls: number, ttl: number): DnsRdata | null {
  const end = o + len;
  switch (type) {
    case RR.A:
      return len === 4 ? { address: ipv4At(v.bytes(o, 4), 0) } : null;
    case RR.AAAA:
      return len === 16 ? { address: ipv6At(v.bytes(o, 16), 0) } : null;
    case RR.NS: case RR.CNAME: case RR.PTR: case RR.DNAME: case RR.MD: case RR.MF: case RR.MB: case RR.MG: case RR.MR:
      return { target: readName(v, o).name };
    case RR.MX: case RR.KX: case RR.AFSDB: case RR.RT:
      return { preference: v.u16(o), exchange: readName(v, o + 2).name };
    case RR.TXT: case RR.SPF: {
      const strings: string[] = [];
      for (let p = o; p < end; ) {
        const n = v.u8(p);
        strings.push(formatText(v.bytes(p + 1, n)));
        p += 1 + n;
      }
      return { strings };
    }
    case RR.HINFO: {
      const cpuLen = v.u8(o);
      const cpu = formatText(v.bytes(o + 1, cpuLen));
      const osLen = v.u8(o + 1 + cpuLen);
      return { cpu, os: formatText(v.bytes(o + 2 + cpuLen, osLen)) };
    }
    case RR.SOA: {
      const mname = readName(v, o);
      const rname = readName(v, mname.next);
      const p = rname.next;
      return {
        mname: mname.name, rname: rname.name, serial: v.u32(p), refresh: v.u32(p + 4), retry: v.u32(p + 8),
        expire: v.u32(p + 12), minimum: v.u32(p + 16),
      };
    }
    case RR.SRV:
      return { priority: v.u16(o), weight: v.u16(o + 2), port: v.u16(o + 4), target: readName(v, o + 6).name };
    case RR.CAA: {
      const tagLen = v.u8(o + 1);
      return { flags: v.u8(o), tag: formatText(v.bytes(o + 2, tagLen)), value: formatText(v.bytes(o + 2 + tagLen, len - 2 - tagLen)) };
    }
    case RR.OPT: {
      const options: DnsOption[] = [];
      for (let p = o; p + 4 <= end; ) {
        const code = v.u16(p);
        const n = v.u16(p + 2);
        options.push({ code, data: v.bytes(p + 4, Math.min(n, end - p - 4)) });
        p += 4 + n;
      }
      return {
        udpPayloadSize: cls, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, do: (ttl & 0x8000) !== 0,
        z: ttl & 0x7fff, options,
      };
    }
    case RR.SVCB: case RR.HTTPS: {
      const target = readName(v, o + 2);
      const params: Array<{ key: number; value: Uint8Array }> = [];
      for (let p = target.next; p + 4 <= end; ) {
        const n = v.u16(p + 2);
        params.push({ key: v.u16(p), value: v.bytes(p + 4, n) });
        p += 4 + n;
      }
      return { priority: v.u16(o), target: target.name, params };
    }
    default:
      return null;
  }
}

/**
 * A name as Wireshark's expand_dns_name reads it: labels joined by '.', pointers followed any way
 * (a pointer to itself or more than 127 of them: a loop), bytes past 255 dropped, text escaped as
 * format_text does; "<Root>" for the empty name. `next` is the end of the name in place.
 */
function readName(v: ByteView, o: number): NameAt {
  let next = -1;
  let pointers = 0;
  const bytes: number[] = [];
  // Room left in Wireshark's name buffer; the first label takes one for the dot it does not get.
  let room = MAX_NAME_CHARS;
  for (;;) {
    const len = v.u8(o++);
    if (len === 0) break;
    switch (len & TYPE_MASK) {
      case 0: {
        if (bytes.length > 0 || room < MAX_NAME_CHARS) {
          if (room > 0) { bytes.push(0x2e); room--; }
        } else room--;
        const label = v.bytes(o, len);
        for (let k = 0; k < len; k++) if (room > 0) { bytes.push(label[k]); room--; }
        o += len;
        break;
      }
      case TYPE_EDNS0:
        if ((len & ~TYPE_MASK) !== EDNS0_ELT_BITLABEL) return { name: '<Unknown extended label>', next: next < 0 ? o : next };
        o += 1 + (((v.u8(o) || 256) + 7) >> 3);
        v.check(0, o);
        break;
      case TYPE_RESERVED:
        throw new Malformed('reserved label type');
      default: {
        const target = ((len & 0x3f) << 8) | v.u8(o);
        o++;
        if (next < 0) next = o;
        if (target === o - 2 || pointers > MAX_POINTERS) return { name: POINTER_LOOP, next };
        pointers++;
        o = target;
      }
    }
  }
  if (next < 0) next = o;
  return { name: bytes.length === 0 ? '<Root>' : formatText(Uint8Array.from(bytes)), next };
}

/**
 * Wireshark's format_text: UTF-8 kept, invalid bytes as U+FFFD, C0 controls as \a \b \f \n \r \t \v
 * or octal \ooo, DEL as \177.
 */
export function formatText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    if (c < 0x80) {
      if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
      else s += controlEscape(c);
      i++;
      continue;
    }
    const need = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? (c < 0xf0 ? 2 : 0) : c >= 0xc2 ? 1 : 0;
    let cp = need === 3 ? c & 0x07 : need === 2 ? c & 0x0f : c & 0x1f;
    let k = 1;
    for (; k <= need && i + k < b.length && (b[i + k] & 0xc0) === 0x80; k++) cp = (cp << 6) | (b[i + k] & 0x3f);
    const ok = need > 0 && k === need + 1 && !(need === 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) && !(need === 3 && (cp < 0x10000 || cp > 0x10ffff));
    if (ok) {
      s += String.fromCodePoint(cp);
      i += k;
    } else {
      s += '\ufffd';
      i += k;
    }
  }
  return s;
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
  // tshark hands an empty datagram to no dissector; tcpdump still complains about its length.
  if (l.length === 0) l.dissector = dnsNone;
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
 * A TCP segment: one whole message after its length prefix, or (tcpdump's complaint) anything else.
 * A segment that is exactly several whole messages gets a layer per message (the next one through
 * this same binding); one holding part of a message has no DNS layer content (dnsNone).
 */
function decodeTcp(l: DnsLayer, v: ByteView): void {
  l.overTcp = true;
  l.capEnd = v.end;
  l.msgOff = v.start + TCP_PREFIX_LEN;
  if (l.length < TCP_PREFIX_LEN) {
    l.invalid = 'DNS over TCP: length ' + l.length + ' < 2';
    l.dissector = dnsNone;
    l.hdrLen = l.length;
    v.check(0, l.length);
    return;
  }
  l.prefix = v.u16(0);
  l.segmentMismatch = l.prefix !== l.length - TCP_PREFIX_LEN;
  if (!l.segmentMismatch || wholeMessages(v, l.length)) {
    l.msgLen = l.prefix;
    decodeMessage(l, v, TCP_PREFIX_LEN);
    if (l.payloadLen > 0) {
      l.nextTable = Table.TcpPort;
      l.nextKey = DNS_PORT;
    }
    return;
  }
  l.dissector = dnsNone;
  l.hdrLen = l.length;
  v.check(0, l.length);
}

/** True when the captured segment is exactly a run of length-prefixed messages. */
function wholeMessages(v: ByteView, length: number): boolean {
  if (v.length < length) return false;
  let o = 0;
  while (o + TCP_PREFIX_LEN <= length) o += TCP_PREFIX_LEN + v.u16(o);
  return o === length;
}

function print(p: Packet, i: number, out: TextOut): void {
  const l = p.layers[i] as DnsLayer;
  // Later messages of a TCP segment: tcpdump printed the segment once, at the first.
  if (i > 0 && p.layers[i - 1] instanceof DnsLayer) return;
  const end = capturedEnd(p, i);
  const v = out.opts.v;
  if (!l.overTcp) {
    out.s += formatDnsMessage(l.buf, l.off, end, l.length, v, l.mdns);
    return;
  }
  if (l.length < TCP_PREFIX_LEN) {
    out.s += ' [DNS over TCP: length ' + l.length + ' < 2] (invalid)';
    return;
  }
  if (end - l.off < TCP_PREFIX_LEN) {
    out.trunc('domain');
    return;
  }
  const prefix = (l.buf[l.off] << 8) | l.buf[l.off + 1];
  const length = l.length - TCP_PREFIX_LEN;
  if (prefix !== length) out.s += ' [prefix length(' + prefix + ') != length(' + length + ')] (invalid)';
  else out.s += ' ' + formatDnsMessage(l.buf, l.off + TCP_PREFIX_LEN, end, length, v, l.mdns);
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
  return l.hasMessage && l.msgLen >= DNS.HEADER_LEN ? l.message : null;
}

/** Each record of the three sections, in order. */
function records(m: DnsMessage): DnsRecord[] {
  return m.answers.concat(m.authorities, m.additionals);
}

/** Values from the records of one type, or undefined when there are none. */
function fromRecords(l: DnsLayer, types: readonly number[], get: (r: DnsRecord) => string | number | undefined): FieldValue {
  const m = msg(l);
  if (!m) return undefined;
  const out: Array<string | number> = [];
  for (const r of records(m)) {
    if (!types.includes(r.type) || r.data === null) continue;
    const x = get(r);
    if (x !== undefined) out.push(x);
  }
  return out.length ? out : undefined;
}

function header(get: (m: DnsMessage) => FieldValue): Getter {
  return (l) => {
    const m = msg(l);
    return m ? get(m) : undefined;
  };
}

/** A flag that tshark shows on responses only. */
function responseFlag(bit: number): Getter {
  return header((m) => (m.flags & FLAG.QR ? (m.flags & bit ? 1 : 0) : undefined));
}

function isUpdate(m: DnsMessage): boolean {
  return ((m.flags >> 11) & 0xf) === OPCODE_UPDATE;
}

const fields: Record<string, Getter> = {
  'dns.id': header((m) => '0x' + hex4(m.id)),
  'dns.flags': header((m) => '0x' + hex4(m.flags)),
  'dns.flags.response': header((m) => (m.flags & FLAG.QR ? 1 : 0)),
  'dns.flags.opcode': header((m) => (m.flags >> 11) & 0xf),
  'dns.flags.authoritative': responseFlag(FLAG.AA),
  'dns.flags.truncated': header((m) => (m.flags & FLAG.TC ? 1 : 0)),
  'dns.flags.recdesired': header((m) => (m.flags & FLAG.RD ? 1 : 0)),
  'dns.flags.recavail': responseFlag(FLAG.RA),
  'dns.flags.z': header((m) => (m.flags & FLAG.Z ? 1 : 0)),
  'dns.flags.authenticated': responseFlag(FLAG.AD),
  'dns.flags.checkdisable': header((m) => (m.flags & FLAG.CD ? 1 : 0)),
  'dns.flags.rcode': header((m) => (m.flags & FLAG.QR ? m.flags & 0xf : undefined)),
  'dns.count.queries': header((m) => (isUpdate(m) ? undefined : m.qdcount)),
  'dns.count.zones': header((m) => (isUpdate(m) ? m.qdcount : undefined)),
  'dns.count.answers': header((m) => (isUpdate(m) ? undefined : m.ancount)),
  'dns.count.prerequisites': header((m) => (isUpdate(m) ? m.ancount : undefined)),
  'dns.count.auth_rr': header((m) => (isUpdate(m) ? undefined : m.nscount)),
  'dns.count.updates': header((m) => (isUpdate(m) ? m.nscount : undefined)),
  'dns.count.add_rr': header((m) => m.arcount),
  'dns.qry.name': header((m) => (m.questions.length ? m.questions.map((q) => q.name) : undefined)),
  'dns.qry.type': header((m) => (m.questions.length ? m.questions.map((q) => q.type) : undefined)),
  'dns.qry.class': header((m) => (m.questions.length ? m.questions.map((q) => '0x' + hex4(q.class)) : undefined)),
  'dns.resp.name': header((m) => nonEmpty(records(m).map((r) => r.name))),
  'dns.resp.type': header((m) => nonEmpty(records(m).map((r) => r.type))),
  'dns.resp.class': header((m) => nonEmpty(records(m).filter((r) => r.type !== RR.OPT).map((r) => '0x' + hex4(r.class)))),
  'dns.resp.ttl': header((m) => nonEmpty(records(m).filter((r) => r.type !== RR.OPT).map((r) => r.ttl))),
  'dns.resp.len': header((m) => nonEmpty(records(m).map((r) => r.rdata.length))),
  'dns.a': (l) => fromRecords(l, [RR.A], (r) => (r.data as { address: string }).address),
  'dns.aaaa': (l) => fromRecords(l, [RR.AAAA], (r) => (r.data as { address: string }).address),
  'dns.cname': (l) => fromRecords(l, [RR.CNAME], (r) => (r.data as { target: string }).target),
  'dns.ns': (l) => fromRecords(l, [RR.NS], (r) => (r.data as { target: string }).target),
  'dns.ptr.domain_name': (l) => fromRecords(l, [RR.PTR], (r) => (r.data as { target: string }).target),
  'dns.mx.preference': (l) => fromRecords(l, [RR.MX], (r) => (r.data as { preference: number }).preference),
  'dns.mx.mail_exchange': (l) => fromRecords(l, [RR.MX], (r) => (r.data as { exchange: string }).exchange),
  'dns.txt': (l) => {
    const m = msg(l);
    if (!m) return undefined;
    const out: string[] = [];
    for (const r of records(m)) if ((r.type === RR.TXT || r.type === RR.SPF) && r.data) out.push(...(r.data as { strings: string[] }).strings);
    return out.length ? out : undefined;
  },
  'dns.soa.mname': (l) => fromRecords(l, [RR.SOA], (r) => (r.data as { mname: string }).mname),
  'dns.soa.rname': (l) => fromRecords(l, [RR.SOA], (r) => (r.data as { rname: string }).rname),
  'dns.soa.serial_number': (l) => fromRecords(l, [RR.SOA], (r) => (r.data as { serial: number }).serial),
  'dns.srv.priority': (l) => fromRecords(l, [RR.SRV], (r) => (r.data as { priority: number }).priority),
  'dns.srv.weight': (l) => fromRecords(l, [RR.SRV], (r) => (r.data as { weight: number }).weight),
  'dns.srv.port': (l) => fromRecords(l, [RR.SRV], (r) => (r.data as { port: number }).port),
  'dns.srv.target': (l) => fromRecords(l, [RR.SRV], (r) => (r.data as { target: string }).target),
  'dns.rr.udp_payload_size': (l) => fromRecords(l, [RR.OPT], (r) => r.class),
  'dns.resp.ext_rcode': (l) => fromRecords(l, [RR.OPT], (r) => '0x' + hex2((r.data as DnsOpt).extendedRcode)),
  'dns.resp.edns0_version': (l) => fromRecords(l, [RR.OPT], (r) => (r.data as DnsOpt).version),
  'dns.resp.z.do': (l) => fromRecords(l, [RR.OPT], (r) => ((r.data as DnsOpt).do ? 1 : 0)),
  'dns.opt.code': (l) => optionValues(l, (o) => o.code),
  'dns.opt.len': (l) => optionValues(l, (o) => o.data.length),
};

function nonEmpty<T extends string | number>(a: T[]): T[] | undefined {
  return a.length ? a : undefined;
}

function optionValues(l: DnsLayer, get: (o: DnsOption) => string | number): FieldValue {
  const m = msg(l);
  if (!m) return undefined;
  const out: Array<string | number> = [];
  for (const r of records(m)) if (r.type === RR.OPT && r.data) for (const o of (r.data as DnsOpt).options) out.push(get(o));
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

function makeDissector(name: string, protocols: string, decode: (l: DnsLayer, v: ByteView) => void): Dissector<DnsLayer> {
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

bind(Table.UdpPort, DNS_PORT, dns);
bind(Table.UdpPort, MDNS_PORT, mdns);
bind(Table.TcpPort, DNS_PORT, dnsTcp);
