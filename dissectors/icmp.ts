/**
 * ICMP for IPv4 (RFC 792, 1191, 1256, 4884, 4950): echo, errors with the quoted datagram,
 * redirect, router discovery, timestamp, address mask.
 * tcpdump: print-icmp.c (icmp_print); tshark fields: icmp.* (packet-icmp.c).
 * An error message's quoted datagram is decoded as a Packet of its own (layer.nested) by the same
 * dissectors, so the text printer prints it as tcpdump does with -v and field output sees its
 * ip.src, udp.dstport ... as further occurrences, as tshark shows them.
 */
import { bind, decodeChain, Layer, NO_PACKETS, Packet, Table, type Dissector, type EncodeContext } from '../src/core/dissector.js';
import { ByteView } from '../src/core/view.js';
import { foldChecksum, sumWords } from '../src/core/checksum.js';
import { ascii, hexOnly, type TextOut } from '../src/output/text.js';
import { ipv4At, pad2, pad9 } from '../src/output/format.js';
import { ipv4Text, portText } from '../src/output/host-names.js';
import { formatTimeDiff } from '../src/output/frame-fields.js';
import { abandon, checksumShouldBe, ipv4, Ipv4Layer } from './ipv4.js';
import { isNetworkLayer } from './ipproto.js';

/** Field offsets, shared by decode and encode. */
export const ICMP = { TYPE: 0, CODE: 1, CHECKSUM: 2, ID: 4, SEQ: 6, REST: 4, DATA: 8, HEADER_LEN: 8 } as const;

export const ICMP_ECHOREPLY = 0, ICMP_UNREACH = 3, ICMP_SOURCEQUENCH = 4, ICMP_REDIRECT = 5, ICMP_ECHO = 8,
  ICMP_ROUTERADVERT = 9, ICMP_ROUTERSOLICIT = 10, ICMP_TIMXCEED = 11, ICMP_PARAMPROB = 12, ICMP_TSTAMP = 13,
  ICMP_TSTAMPREPLY = 14, ICMP_IREQ = 15, ICMP_IREQREPLY = 16, ICMP_MASKREQ = 17, ICMP_MASKREPLY = 18;

/** Where RFC 4884 extensions start when the quoted datagram leaves room for none (tcpdump's ICMP_EXTD_MINLEN). */
const EXT_LEGACY_OFFSET = 136;
/** Quoted datagrams inside quoted datagrams are decoded this deep, no deeper. */
const MAX_QUOTE_DEPTH = 4;
/** Nesting of quoted-datagram decoding in progress (decoding is synchronous). */
let quoteDepth = 0;

export class IcmpLayer extends Layer {
  type = 0;
  code = 0;
  checksum = 0;
  /** The second word: identifier and sequence number, gateway, pointer, next-hop MTU or router-advert counts. */
  rest = 0;
  /** Bytes captured from the start of the message (within the IP datagram). */
  capLen = 0;
  /** Decoded inside the datagram another ICMP error quotes (tshark's in_error_pkt). */
  quoted = false;
  /** The IPv4 header below has more fragments to come: no checksum over a partial message. */
  fragmented = false;
  /**
   * The datagram an error message quotes, decoded as a packet whose layers share this packet's
   * buffer (the nested-packet convention of src/output/frame-fields.ts); empty for other types.
   */
  nested: Packet[] = NO_PACKETS;
  /** tshark's guess at a ping's send time in its first 8 data bytes (seconds, microseconds), or -1. */
  dataSec = -1;
  dataUsec = 0;
  /** Offset of tshark's RFC 4884 extension structure from the start of the message, or -1. */
  extOffset = -1;

  get ident(): number { return this.rest >>> 16; }
  get seq(): number { return this.rest & 0xffff; }
  set ident(v: number) { this.rest = ((v & 0xffff) * 0x10000 + (this.rest & 0xffff)) >>> 0; }
  set seq(v: number) { this.rest = ((this.rest & 0xffff0000) | (v & 0xffff)) >>> 0; }

  /** A byte of the message, or -1 where it was not captured. */
  byteAt(o: number): number {
    return o >= 0 && o < this.capLen ? this.buf[this.off + o] : -1;
  }

  /** The 16-bit word at o, or -1 where it was not captured. */
  u16At(o: number): number {
    return o >= 0 && o + 2 <= this.capLen ? (this.buf[this.off + o] << 8) | this.buf[this.off + o + 1] : -1;
  }

  /** The 32-bit word at o, or -1 where it was not captured. */
  u32At(o: number): number {
    if (o < 0 || o + 4 > this.capLen) return -1;
    const b = this.buf, i = this.off + o;
    return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  }
}

/** Types whose body quotes the datagram that caused them (tcpdump's ICMP_ERRTYPE). */
export function isIcmpError(type: number): boolean {
  return type === ICMP_UNREACH || type === ICMP_SOURCEQUENCH || type === ICMP_REDIRECT ||
    type === ICMP_TIMXCEED || type === ICMP_PARAMPROB;
}

/** Types carrying an identifier and sequence number in tshark's view. */
function hasIdSeq(type: number): boolean {
  return type === ICMP_ECHOREPLY || type === ICMP_ECHO || (type >= ICMP_TSTAMP && type <= ICMP_MASKREPLY);
}

/** Types with an identifier in tshark's view: those with a sequence number and RFC 8335's extended echo. */
function hasIdent(type: number): boolean {
  return hasIdSeq(type) || type === 42 || type === 43;
}

/** Types that may carry RFC 4884 extensions (tcpdump's ICMP_MULTIPART_EXT_TYPE). */
function isMultipartType(type: number): boolean {
  return type === ICMP_UNREACH || type === ICMP_TIMXCEED || type === ICMP_PARAMPROB;
}

/** Constant text of the lines, as bytes (TextOut.putAscii). */
const ECHO_REQUEST_TEXT = ascii('ICMP echo request, id '), ECHO_REPLY_TEXT = ascii('ICMP echo reply, id ');
const SEQ_TEXT = ascii(', seq '), ICMP_TEXT = ascii('ICMP '), LENGTH_TEXT = ascii(', length ');

export const icmp: Dissector<IcmpLayer> = {
  name: 'icmp',
  protocols: 'icmp',
  create: () => new IcmpLayer(),

  decode(l, v, p) {
    l.capLen = v.length;
    l.quoted = quoteDepth > 0;
    l.fragmented = ipBelowHasMoreFragments(p);
    l.type = v.u8(ICMP.TYPE);
    l.code = v.u8(ICMP.CODE);
    l.checksum = v.u16(ICMP.CHECKSUM);
    // Half by half: a message cut after the identifier keeps it (tshark shows it).
    l.rest = v.u16(ICMP.ID) * 0x10000;
    l.rest += v.u16(ICMP.SEQ);
    // What tshark leaves undissected ("data") follows the header: echo data, and the body of a
    // router advertisement it cannot parse; other types' bodies are fields or a quoted datagram.
    const type = l.type;
    const body = type === ICMP_ECHO || type === ICMP_ECHOREPLY || isIcmpError(type) ||
      (type === ICMP_ROUTERADVERT && ((l.rest >>> 16) & 0xff) !== 2);
    l.hdrLen = body ? ICMP.HEADER_LEN : Math.max(ICMP.HEADER_LEN, l.length);
    if ((type === ICMP_ECHO || type === ICMP_ECHOREPLY) && echoTimestamp(l, p.frame.tsSec)) l.hdrLen += 8;
    // Only captured bytes can be data: a quoted datagram's view may end before its claimed length.
    l.payloadLen = Math.max(0, Math.min(l.length, l.capLen) - l.hdrLen);
    // RFC 8335: an extended echo request is an extension structure after the header.
    if (type === 42 && l.length > ICMP.HEADER_LEN) l.extOffset = ICMP.HEADER_LEN;
    if (isIcmpError(type)) {
      if (l.length > EXT_LEGACY_OFFSET && v.has(ICMP.DATA + 2, 2) && v.u16(ICMP.DATA + 2) <= 128) {
        const words = (l.rest >>> 16) & 0xff;
        l.extOffset = (words ? words * 4 : 128) + ICMP.DATA;
      }
      if (quoteDepth < MAX_QUOTE_DEPTH) decodeQuoted(l, v, p);
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    // What decode counted as header past the first 8 bytes (a ping's timestamp, a timestamp or
    // address-mask message's fields) goes back as it was read; a built layer has none.
    const body = Math.max(0, Math.min(l.hdrLen, l.capLen) - ICMP.HEADER_LEN);
    const out = new Uint8Array(ICMP.HEADER_LEN + body + payload.length);
    out[ICMP.TYPE] = l.type;
    out[ICMP.CODE] = l.code;
    const dv = new DataView(out.buffer);
    dv.setUint32(ICMP.REST, l.rest);
    if (body > 0) out.set(l.buf.subarray(l.off + ICMP.HEADER_LEN, l.off + ICMP.HEADER_LEN + body), ICMP.HEADER_LEN);
    out.set(payload, ICMP.HEADER_LEN + body);
    dv.setUint16(ICMP.CHECKSUM, ctx.opts.computeChecksums ? foldChecksum(sumWords(out, 0, out.length)) : l.checksum);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as IcmpLayer;
    const type = l.type;
    if ((type === ICMP_ECHO || type === ICMP_ECHOREPLY) && l.capLen >= 8) {
      // The commonest line, written without building its text first.
      out.putAscii(type === ICMP_ECHO ? ECHO_REQUEST_TEXT : ECHO_REPLY_TEXT);
      out.num(l.ident);
      out.putAscii(SEQ_TEXT);
      out.num(l.seq);
    } else {
      const text = describe(l, out);
      if (text === Cut.Get) { abandon(out, 'icmp'); return; }
      if (text === Cut.Check) { out.trunc('icmp'); return; }
      out.putAscii(ICMP_TEXT);
      out.put(text);
    }
    const plen = l.length;
    out.putAscii(LENGTH_TEXT);
    out.num(plen);
    const v = out.opts.v;
    if (!v) return;
    if (!l.fragmented && plen <= l.capLen) {
      const sum = foldChecksum(sumWords(l.buf, l.off, l.off + plen));
      if (sum !== 0 && l.capLen < ICMP.CHECKSUM + 2) { abandon(out, 'icmp'); return; }
      if (sum !== 0) out.s += ' (wrong icmp cksum ' + l.checksum.toString(16) + ' (->' + checksumShouldBe(l.checksum, sum).toString(16) + ')!)';
    }
    if (isIcmpError(l.type)) {
      out.s += '\n\t';
      // The quoted total length is read again once the snapshot is cut to it: under 4 bytes it is not there.
      const ipLen = l.u16At(ICMP.DATA + 2);
      if (ipLen < 4) { abandon(out, 'icmp'); return; }
      if (quoteDepth < MAX_QUOTE_DEPTH) {
        // A printer that abandons the packet (tcpdump's longjmp) sets linkHdrLen to 0: watch for it.
        const linkHdrLen = out.linkHdrLen;
        out.linkHdrLen = -1;
        out.printLayer(printedQuote(l, p, ipLen), 0);
        if (out.linkHdrLen === 0) return;
        out.linkHdrLen = linkHdrLen;
      }
    }
    if (plen > EXT_LEGACY_OFFSET && isMultipartType(l.type)) printExtensions(l, plen, out);
  },

  fields: {
    // tshark reads byte 5 (the RFC 4884 length) before showing anything: a message cut before it
    // shows no fields; one cut later shows those captured before the cut.
    'icmp.type': (l) => (l.capLen >= 6 ? l.type : undefined),
    'icmp.code': (l) => (l.capLen >= 6 ? l.code : undefined),
    'icmp.checksum': (l) => (l.capLen >= 6 ? '0x' + hex4(l.checksum) : undefined),
    'icmp.checksum.status': (l) => (l.capLen >= 6 ? checksumStatus(l) : undefined),
    'icmp.ident': (l) => (l.capLen >= 6 && hasIdent(l.type) ? l.ident : undefined),
    'icmp.ident_le': (l) => (l.capLen >= 6 && hasIdent(l.type) ? swap16(l.ident) : undefined),
    'icmp.seq': (l) => (l.capLen >= 8 && hasIdSeq(l.type) ? l.seq : undefined),
    'icmp.seq_le': (l) => (l.capLen >= 8 && hasIdSeq(l.type) ? swap16(l.seq) : undefined),
    'icmp.unused': (l) => unusedBytes(l),
    'icmp.length': (l) => (hasLengthField(l) ? l.byteAt(5) : undefined),
    'icmp.length.original_datagram': (l) => (hasLengthField(l) ? l.byteAt(5) * 4 : undefined),
    'icmp.mtu': (l) => (l.type === ICMP_UNREACH && l.code === 4 && l.capLen >= 8 ? l.seq : undefined),
    'icmp.pointer': (l) => (l.type === ICMP_PARAMPROB && l.capLen >= 5 ? l.rest >>> 24 : undefined),
    'icmp.redir_gw': (l) => (l.type === ICMP_REDIRECT && l.capLen >= 8 ? ipv4At(l.buf, l.off + ICMP.REST) : undefined),
    'icmp.num_addrs': (l) => (l.type === ICMP_ROUTERADVERT && l.capLen >= 5 ? l.rest >>> 24 : undefined),
    'icmp.addr_entry_size': (l) => (l.type === ICMP_ROUTERADVERT && l.capLen >= 6 ? (l.rest >>> 16) & 0xff : undefined),
    'icmp.lifetime': (l) => (l.type === ICMP_ROUTERADVERT && l.capLen >= 8 ? l.seq : undefined),
    'icmp.router_address': (l) => routerEntries(l, 0),
    'icmp.pref_level': (l) => routerEntries(l, 4),
    'icmp.originate_timestamp': (l) => timestamp(l, 8),
    'icmp.receive_timestamp': (l) => timestamp(l, 12),
    'icmp.transmit_timestamp': (l) => timestamp(l, 16),
    'icmp.address_mask': (l) => ((l.type === ICMP_MASKREQ || l.type === ICMP_MASKREPLY) && l.u32At(8) >= 0 ? ipv4At(l.buf, l.off + 8) : undefined),
    'icmp.data_time': (l) => (l.dataSec >= 0 ? absoluteTime(l.dataSec, l.dataUsec * 1000) : undefined),
    'icmp.data_time_relative': (l, p) => (l.dataSec >= 0 ? formatTimeDiff(p.frame.tsSec, p.frame.tsNsec, l.dataSec, l.dataUsec * 1000) : undefined),
    'icmp.ext.version': (l) => extHeader(l, 0),
    'icmp.ext.res': (l) => extHeader(l, 1),
    'icmp.ext.checksum': (l) => extHeader(l, 2),
    'icmp.ext.checksum.status': (l) => extHeader(l, 3),
    'icmp.ext.length': (l) => extObjects(l, 0),
    'icmp.ext.class': (l) => extObjects(l, 1),
    'icmp.ext.ctype': (l) => extObjects(l, 2),
    'icmp.mpls.label': (l) => mplsEntries(l, 0),
    'icmp.mpls.exp': (l) => mplsEntries(l, 1),
    'icmp.mpls.s': (l) => mplsEntries(l, 2),
    'icmp.mpls.ttl': (l) => mplsEntries(l, 3),
  },

  json(l) {
    const j: Record<string, unknown> = { type: l.type, code: l.code, checksum: l.checksum };
    if (hasIdSeq(l.type)) { j.ident = l.ident; j.seq = l.seq; }
    else if (l.type === ICMP_UNREACH && l.code === 4) j.mtu = l.seq;
    else if (l.type === ICMP_REDIRECT) j.gateway = ipv4At(l.buf, l.off + ICMP.REST);
    else if (l.type === ICMP_PARAMPROB) j.pointer = l.rest >>> 24;
    return j;
  },
};

/**
 * tshark 4.0's echo timestamp guess: the first 8 data bytes as a timeval (big-endian, else
 * little-endian) at most a day after the frame's second. Sets l.dataSec/dataUsec; true when found.
 */
function echoTimestamp(l: IcmpLayer, frameSec: number): boolean {
  if (l.capLen < ICMP.DATA + 8) return false;
  let sec = l.u32At(ICMP.DATA), usec = l.u32At(ICMP.DATA + 4);
  if (!nearFrame(sec, frameSec) || usec >= 1_000_000) {
    const b = l.buf, o = l.off + ICMP.DATA;
    sec = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
    usec = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
  }
  if (!nearFrame(sec, frameSec) || usec >= 1_000_000) return false;
  l.dataSec = sec;
  l.dataUsec = usec;
  return true;
}

/** abs((int)(sec - frameSec)) < 86400, with C's wrap to 32 bits (and abs(INT_MIN) staying negative). */
function nearFrame(sec: number, frameSec: number): boolean {
  const d = (sec - frameSec) | 0;
  return d === -0x80000000 || Math.abs(d) < 86400;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let zoneFormat: Intl.DateTimeFormat | null = null;

/** tshark's absolute time in -T fields ("Nov  1, 2026 10:39:46.000000000 UTC"), in local time. */
function absoluteTime(sec: number, nsec: number): string {
  const d = new Date(sec * 1000);
  zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
  const zone = zoneFormat.formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
  return MONTHS[d.getMonth()] + ' ' + String(d.getDate()).padStart(2, ' ') + ', ' + d.getFullYear() + ' ' +
    pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) + '.' + pad9(nsec) + ' ' + zone;
}

/** The IPv4 header under this message (AH may sit between) says more fragments follow. */
function ipBelowHasMoreFragments(p: Packet): boolean {
  for (let k = p.layers.length - 2; k >= 0; k--) {
    const l = p.layers[k];
    if (l instanceof Ipv4Layer) return l.moreFragments;
    if (isNetworkLayer(l)) return false;
  }
  return false;
}

/**
 * Decodes the datagram an error message quotes as tshark delimits it (a redirect's header + 8
 * bytes, an RFC 4884 length, else the rest of the message) for the field and JSON views. As
 * tshark does inside an error packet, a dissector that reads past that length is taken back:
 * its layer goes, and what it was given shows as nothing rather than data.
 */
function decodeQuoted(l: IcmpLayer, v: ByteView, p: Packet): void {
  const reported = l.length - ICMP.DATA;
  if (reported <= 0) return;
  const origWords = (l.rest >>> 16) & 0xff;
  let quoteLen = reported;
  // tshark reads the quoted header length (and total length) to delimit it: not captured, it stops there.
  if (l.type === ICMP_REDIRECT) {
    if (!v.has(ICMP.DATA, 1)) return;
    quoteLen = Math.min(reported, (v.u8(ICMP.DATA) & 0x0f) * 4 + 8);
  } else if (origWords && reported > origWords * 4) {
    if (!v.has(ICMP.DATA, 4)) return;
    if (v.u16(ICMP.DATA + 2) > origWords * 4) quoteLen = Math.min(reported, ((v.u8(ICMP.DATA) & 0x0f) + origWords) * 4);
  }
  const inner = quotedPacket(p, v.slice(ICMP.DATA, quoteLen), quoteLen);
  const end = v.start + ICMP.DATA + quoteLen;
  const ip = inner.layers[0];
  const reportedEnd = ip instanceof Ipv4Layer && ip.hdrLen > 0 && !ip.tso ? Math.min(end, ip.off + ip.totalLen) : end;
  const top = inner.top;
  // IPv4 and ICMP throw there; TCP and UDP read what a quote holds without throwing.
  if ((top instanceof IcmpLayer || top instanceof Ipv4Layer) && top.truncated && v.end >= reportedEnd) {
    inner.layers.pop();
    const caller = inner.top ?? l;
    caller.payloadLen = 0;
  }
  if (inner.layers.length) l.nested = [inner];
}

/** The quoted datagram in view v (claimed length `length`) decoded as a packet of its own. */
function quotedPacket(p: Packet, v: ByteView, length: number): Packet {
  const inner = new Packet(p.frame, p.buf);
  quoteDepth++;
  try {
    decodeChain(inner, ipv4 as Dissector, v, length);
  } finally {
    quoteDepth--;
  }
  return inner;
}

/** The quoted datagram as tcpdump prints it: cut at its own total length only, which it is told as its length. */
function printedQuote(l: IcmpLayer, p: Packet, ipLen: number): Packet {
  const v = new ByteView(l.buf, l.off, l.off + l.capLen).slice(ICMP.DATA, ipLen);
  return quotedPacket(p, v, ipLen);
}

/**
 * Where icmp_print ran out of captured bytes: at an ND_TCHECK (it prints " [|icmp]" and returns)
 * or at a GET_ (the same text, but by longjmp: -x then dumps the whole frame).
 */
const enum Cut { Check, Get }

/** The text icmp_print puts between "ICMP " and ", length N", or where it ran out of bytes. */
function describe(l: IcmpLayer, out: TextOut): string | Cut {
  if (l.capLen < 2) return Cut.Get;
  const type = l.type, code = l.code;
  switch (type) {
    case ICMP_ECHO:
    case ICMP_ECHOREPLY:
      // print() writes a whole echo header itself: here it was cut short.
      return Cut.Get;
    case ICMP_UNREACH:
      return unreachable(l, out);
    case ICMP_REDIRECT: {
      const dst = quotedDst(l, out);
      if (dst === null || l.capLen < 8) return Cut.Get;
      const gw = ipv4Text(out, l.buf, l.off + ICMP.REST);
      switch (code) {
        case 0: return 'redirect ' + dst + ' to net ' + gw;
        case 1: return 'redirect ' + dst + ' to host ' + gw;
        case 2: return 'redirect-tos ' + dst + ' to net ' + gw;
        case 3: return 'redirect-tos ' + dst + ' to host ' + gw;
        default: return 'redirect-#' + code + ' ' + dst + ' to ' + gw;
      }
    }
    case ICMP_ROUTERADVERT:
      return routerAdvert(l, out);
    case ICMP_TIMXCEED: {
      if (quotedDst(l, out) === null) return Cut.Check;
      if (code === 0) return 'time exceeded in-transit';
      if (code === 1) return 'ip reassembly time exceeded';
      return 'time exceeded-#' + code;
    }
    case ICMP_PARAMPROB:
      if (code) return 'parameter problem - code ' + code;
      if (l.capLen < 5) return Cut.Get;
      return 'parameter problem - octet ' + l.byteAt(4);
    case ICMP_MASKREPLY: {
      const mask = l.u32At(8);
      if (mask < 0) return Cut.Get;
      return 'address mask is 0x' + mask.toString(16).padStart(8, '0');
    }
    case ICMP_TSTAMP:
      if (l.capLen < 8) return Cut.Get;
      return 'time stamp query id ' + l.ident + ' seq ' + l.seq;
    case ICMP_TSTAMPREPLY:
      if (l.capLen < 20) return Cut.Check;
      return 'time stamp reply id ' + l.ident + ' seq ' + l.seq + ': org ' + msOfDay(l.u32At(8)) +
        ', recv ' + msOfDay(l.u32At(12)) + ', xmit ' + msOfDay(l.u32At(16));
    case ICMP_SOURCEQUENCH: return 'source quench';
    case ICMP_ROUTERSOLICIT: return 'router solicitation';
    case ICMP_IREQ: return 'information request';
    case ICMP_IREQREPLY: return 'information reply';
    case ICMP_MASKREQ: return 'address mask request';
    default: return 'type-#' + type;
  }
}

/** The quoted header's destination address, or null where it was not captured. */
function quotedDst(l: IcmpLayer, out: TextOut): string | null {
  return l.capLen >= ICMP.DATA + 20 ? ipv4Text(out, l.buf, l.off + ICMP.DATA + 16) : null;
}

const UNREACH_TEXT: Array<[string, string]> = [
  ['net ', ' unreachable'], ['host ', ' unreachable'], ['', ''], ['', ''], ['', ''],
  ['', ' unreachable - source route failed'], ['net ', ' unreachable - unknown'],
  ['host ', ' unreachable - unknown'], ['', ' unreachable - source host isolated'],
  ['net ', ' unreachable - admin prohibited'], ['host ', ' unreachable - admin prohibited'],
  ['net ', ' unreachable - tos prohibited'], ['host ', ' unreachable - tos prohibited'],
  ['host ', ' unreachable - admin prohibited filter'], ['host ', ' unreachable - host precedence violation'],
  ['host ', ' unreachable - precedence cutoff'],
];

/** icmp_print's destination-unreachable texts. */
function unreachable(l: IcmpLayer, out: TextOut): string | Cut {
  const code = l.code;
  const ipStart = ICMP.DATA;
  if (code === 3) {
    if (l.capLen < ipStart + 10) return Cut.Check;
    const hlen = (l.byteAt(ipStart) & 0x0f) * 4;
    const dport = l.u16At(ipStart + hlen + 2);
    const dst = quotedDst(l, out);
    if (dport < 0 || dst === null) return Cut.Get;
    const proto = l.byteAt(ipStart + 9);
    if (proto === 6) return dst + ' tcp port ' + portText(out, 'tcp', dport) + ' unreachable';
    if (proto === 17) return dst + ' udp port ' + portText(out, 'udp', dport) + ' unreachable';
    return dst + ' protocol ' + proto + ' port ' + dport + ' unreachable';
  }
  const dst = quotedDst(l, out);
  if (dst === null || (code === 4 && l.capLen < 8)) return Cut.Get;
  if (code === 2) return dst + ' protocol ' + l.byteAt(ipStart + 9) + ' unreachable';
  if (code === 4) return dst + ' unreachable - need to frag' + (l.seq ? ' (mtu ' + l.seq + ')' : '');
  if (code < UNREACH_TEXT.length) return UNREACH_TEXT[code][0] + dst + UNREACH_TEXT[code][1];
  return dst + ' unreachable - #' + code;
}

/** "router advertisement lifetime 30:00 2: {10.0.0.1 0} {...}". */
function routerAdvert(l: IcmpLayer, out: TextOut): string | Cut {
  if (l.capLen < 8) return Cut.Check;
  let s = 'router advertisement lifetime ';
  const lifetime = l.seq;
  if (lifetime < 60) s += lifetime;
  else if (lifetime < 3600) s += Math.floor(lifetime / 60) + ':' + pad2(lifetime % 60);
  else s += Math.floor(lifetime / 3600) + ':' + pad2(Math.floor((lifetime % 3600) / 60)) + ':' + pad2(lifetime % 60);
  const num = l.rest >>> 24;
  s += ' ' + num + ':';
  const size = (l.rest >>> 16) & 0xff;
  if (size !== 2) return s + ' [size ' + size + ']';
  for (let k = 0, o = 8; k < num; k++, o += 8) {
    if (o + 8 > l.capLen) return Cut.Check;
    s += ' {' + ipv4Text(out, l.buf, l.off + o) + ' ' + l.u32At(o + 4) + '}';
  }
  return s;
}

/** tcpdump's icmp_tstamp_print: milliseconds since midnight as hh:mm:ss.mmm (hours unbounded). */
function msOfDay(t: number): string {
  const ms = t % 1000;
  let sec = Math.floor(t / 1000);
  let min = Math.floor(sec / 60); sec -= min * 60;
  const hrs = Math.floor(min / 60); min -= hrs * 60;
  return pad2(hrs) + ':' + pad2(min) + ':' + pad2(sec) + '.' + String(ms).padStart(3, '0');
}

const EXT_OBJECT_NAMES = ['unknown', 'MPLS Stack Entry', 'Interface Identification'];

/** icmp_print's RFC 4884 multi-part extension text (types 3, 11, 12 longer than 136 bytes). */
function printExtensions(l: IcmpLayer, plen: number, out: TextOut): void {
  const base = EXT_LEGACY_OFFSET;
  // The fixed legacy layout must be captured up to the first object byte.
  if (l.capLen < base + 5) { out.trunc('icmp'); return; }
  const b = l.buf, at = l.off + base;
  if (l.byteAt(5) === 0 && plen <= l.capLen) {
    if (foldChecksum(sumWords(b, at, l.off + plen)) !== 0) return;
  }
  const version = b[at] >> 4;
  out.s += '\n\tICMP Multi-Part extension v' + version;
  if (version !== 2) { out.s += ' packet not supported'; return; }
  let hlen = plen - base;
  if (plen <= l.capLen) {
    out.s += ', checksum 0x' + hex4(l.u16At(base + 2)) + ' (' + (foldChecksum(sumWords(b, at, l.off + plen)) ? 'in' : '') + 'correct), length ' + hlen;
  }
  hlen -= 4;
  let obj = base + 4;
  while (hlen > 4) {
    if (obj + 4 > l.capLen) { out.trunc('icmp'); return; }
    let objLen = l.u16At(obj);
    const cls = l.byteAt(obj + 2), ctype = l.byteAt(obj + 3);
    obj += 4;
    out.s += '\n\t  ' + (EXT_OBJECT_NAMES[cls] ?? 'unknown') + ' Object (' + cls + '), Class-Type: ' + ctype + ', length ' + objLen;
    hlen -= 4;
    if (cls === 0 || objLen < 4) return;
    objLen -= 4;
    if (cls === 1 && ctype === 1) {
      const label = l.u32At(obj);
      if (label < 0) { abandon(out, 'icmp'); return; }
      out.s += '\n\t    label ' + (label >>> 12) + ', tc ' + ((label >>> 9) & 7) + ((label >>> 8) & 1 ? ', [S]' : '') + ', ttl ' + (label & 0xff);
    } else if (obj + objLen > l.capLen) {
      out.s += '\n\t    Dissector error: print_unknown_data called with pointer past end of packet';
    } else {
      out.s += hexOnly(b, l.off + obj, l.off + obj + objLen, '\n\t    ', 0);
    }
    if (hlen < objLen) break;
    hlen -= objLen;
    obj += objLen;
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function swap16(n: number): number {
  return ((n & 0xff) << 8) | (n >> 8);
}

/** tshark's checksum status: 1 good, 0 bad, 2 unverified (quoted, fragment of a datagram, or cut short). */
function checksumStatus(l: IcmpLayer): number {
  if (l.fragmented || l.quoted || l.capLen < l.length) return 2;
  return foldChecksum(sumWords(l.buf, l.off, l.off + l.length)) === 0 ? 1 : 0;
}

/** RFC 4884: types 3, 11 and 12 give the quoted datagram's length in 32-bit words in byte 5. */
function hasLengthField(l: IcmpLayer): boolean {
  return (l.type === ICMP_UNREACH || l.type === ICMP_TIMXCEED || l.type === ICMP_PARAMPROB) && l.byteAt(5) > 0;
}

/** tshark's icmp.unused: the bytes of the second word no other field claims, as hex, up to the first not captured. */
function unusedBytes(l: IcmpLayer): string | string[] | undefined {
  const t = l.type;
  if (t !== ICMP_UNREACH && t !== ICMP_TIMXCEED && t !== ICMP_PARAMPROB) return undefined;
  const parts: Array<[number, number]> = [];
  if (hasLengthField(l)) {
    if (t !== ICMP_PARAMPROB) parts.push([4, 5]);
    if (!(t === ICMP_UNREACH && l.code === 4)) parts.push([6, 8]);
  } else if (t === ICMP_PARAMPROB) parts.push([5, 8]);
  else if (t === ICMP_UNREACH && l.code === 4) parts.push([4, 6]);
  else parts.push([4, 8]);
  const out: string[] = [];
  for (const [from, to] of parts) {
    if (to > l.capLen) break;
    let s = '';
    for (let o = from; o < to; o++) s += l.byteAt(o).toString(16).padStart(2, '0');
    out.push(s);
  }
  return out.length === 0 ? undefined : out.length === 1 ? out[0] : out;
}

/** Router addresses (at 0) or preference levels (at 4) of a router advertisement with 2-word entries, up to tshark's first missing byte. */
function routerEntries(l: IcmpLayer, at: number): Array<string | number> | undefined {
  if (l.type !== ICMP_ROUTERADVERT || ((l.rest >>> 16) & 0xff) !== 2) return undefined;
  const num = l.rest >>> 24;
  const vals: Array<string | number> = [];
  for (let k = 0, o = 8; k < num && o + at + 4 <= l.capLen; k++, o += 8) {
    vals.push(at === 0 ? ipv4At(l.buf, l.off + o) : l.u32At(o + 4) | 0);
  }
  return vals.length ? vals : undefined;
}

/** Timestamp request/reply words: milliseconds since midnight, as tshark shows them. */
function timestamp(l: IcmpLayer, o: number): number | undefined {
  if (l.type !== ICMP_TSTAMP && l.type !== ICMP_TSTAMPREPLY) return undefined;
  const t = l.u32At(o);
  return t < 0 ? undefined : t;
}

/** The extension structure's common header: version, reserved, checksum, checksum status. */
function extHeader(l: IcmpLayer, what: number): string | number | undefined {
  const o = l.extOffset;
  if (o < 0 || l.length - o < 4 || o + 4 > l.capLen) return undefined;
  if (what === 0) return l.byteAt(o) >> 4;
  if (what === 1) return '0x' + hex4(l.u16At(o) & 0x0fff);
  const sum = l.u16At(o + 2);
  if (what === 2) return '0x' + hex4(sum);
  if (sum === 0) return 3;
  if (l.capLen < l.length) return 2;
  return foldChecksum(sumWords(l.buf, l.off + o, l.off + l.length)) === 0 ? 1 : 0;
}

/** Each extension object's length, class or C-type (what 0, 1, 2), as tshark walks them. */
function extObjects(l: IcmpLayer, what: number): number[] | undefined {
  const vals: number[] = [];
  walkExtensions(l, (obj, len, cls, ctype) => {
    if (what === 0) vals.push(len);
    else if (what === 1) vals.push(cls);
    // tshark shows no C-type for a too-short object, and two for an MPLS object of a C-type it does not know.
    else if (len >= 4) {
      vals.push(ctype);
      if (cls === 1 && ctype !== 1) vals.push(ctype);
    }
    return true;
  });
  return vals.length ? vals : undefined;
}

/** Each MPLS label stack entry's label, experimental bits, S bit or TTL (what 0-3). */
function mplsEntries(l: IcmpLayer, what: number): number[] | undefined {
  const vals: number[] = [];
  walkExtensions(l, (obj, len, cls, ctype) => {
    if (cls !== 1 || ctype !== 1) return true;
    const end = obj + Math.min(len, l.length - obj);
    for (let e = obj + 4; e + 4 <= end && e + 4 <= l.capLen; e += 4) {
      const w = l.u32At(e);
      vals.push(what === 0 ? w >>> 12 : what === 1 ? (w >>> 9) & 7 : what === 2 ? (w >>> 8) & 1 : w & 0xff);
    }
    return true;
  });
  return vals.length ? vals : undefined;
}

/** Calls visit(offset, length, class, ctype) for each extension object tshark would show. */
function walkExtensions(l: IcmpLayer, visit: (obj: number, len: number, cls: number, ctype: number) => boolean): void {
  const o = l.extOffset;
  if (o < 0 || l.length - o < 4 || o + 4 > l.capLen) return;
  const version = l.byteAt(o) >> 4;
  if (version !== 1 && version !== 2) return;
  for (let obj = o + 4; l.length - obj >= 4 && obj + 4 <= l.capLen; ) {
    const len = l.u16At(obj);
    if (!visit(obj, len, l.byteAt(obj + 2), l.byteAt(obj + 3))) return;
    if (len < 4) return;
    obj += Math.min(len, l.length - obj);
  }
}

bind(Table.IpProto, 1, icmp);
