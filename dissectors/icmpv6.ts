/**
 * ICMPv6 (RFC 4443) with neighbour discovery (RFC 4861, 8106, 4191), MLD/MLDv2 (RFC 2710, 3810),
 * node information (RFC 4620), router renumbering (RFC 2894), Mobile IPv6 prefix and home-agent
 * discovery, and RPL (RFC 6550) as tcpdump 4.99 prints them.
 * An error message's quoted datagram is decoded as a Packet of its own (layer.nested) by the
 * same dissectors: tcpdump prints only a few of its fields, while tshark lists its ipv6.src,
 * udp.dstport ... as further occurrences.
 * tcpdump: print-icmp6.c (icmp6_print); tshark fields: icmpv6.*.
 */
import { bind, decodeChain, Layer, NO_PACKETS, Packet, Table, type Dissector, type EncodeContext, type FieldValue } from '../src/core/dissector.js';
import { ByteView, OutOfBounds } from '../src/core/view.js';
import { foldChecksum, sumWords } from '../src/core/checksum.js';
import { ascii, hexOnly, type TextOut } from '../src/output/text.js';
import { hexColonAt, ipv6At } from '../src/output/format.js';
import { ipv4Text, ipv6Text, putIpv6, putPort } from '../src/output/host-names.js';
import { isFragmented, networkIndex } from './udp.js';
import { abandon, checksumShouldBe } from './ipv4.js';
import { hexBytes, hexPad, IPPROTO, ipv6, Ipv6ChainLayer, Ipv6Layer, quoting } from './ipv6.js';

/** Field offsets, shared by decode and encode: the 8-byte header and where each type's body fields sit. */
export const ICMP6 = {
  TYPE: 0, CODE: 1, CHECKSUM: 2, DATA: 4, ID: 4, SEQ: 6, MTU: 4, POINTER: 4, HEADER_LEN: 8,
  /** Neighbour discovery: target address (NS, NA, redirect), redirect's destination. */
  TARGET: 8, RD_DST: 24,
  /** Router advertisement: hop limit, flags, router lifetime, reachable time, retransmit timer. */
  RA_HOPLIMIT: 4, RA_FLAGS: 5, RA_LIFETIME: 6, RA_REACHABLE: 8, RA_RETRANS: 12,
  /** MLD: maximum response delay, multicast address; MLDv2 query flags, QQIC, source count; report record count. */
  MLD_DELAY: 4, MLD_ADDR: 8, MLD2_FLAGS: 24, MLD2_QQIC: 25, MLD2_NSRCS: 26, MLD2_REC_COUNT: 6,
} as const;

/** Where each message's ND options begin (tcpdump's RTSOLLEN ... REDIRECTLEN; inverse ND and mobile prefix as tshark reads them). */
const OPTIONS_AT: Record<number, number> = { 133: 8, 134: 16, 135: 24, 136: 24, 137: 40, 141: 8, 142: 8, 147: 8 };

export const ICMP6_TYPE = {
  DST_UNREACH: 1, PACKET_TOO_BIG: 2, TIME_EXCEEDED: 3, PARAM_PROB: 4, ECHO_REQUEST: 128, ECHO_REPLY: 129,
  MLD_QUERY: 130, MLD_REPORT: 131, MLD_DONE: 132, ROUTER_SOLICIT: 133, ROUTER_ADVERT: 134, NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136, REDIRECT: 137, ROUTER_RENUMBERING: 138, NI_QUERY: 139, NI_REPLY: 140, IND_SOLICIT: 141,
  IND_ADVERT: 142, MLDV2_REPORT: 143, HADISCOV_REQUEST: 144, HADISCOV_REPLY: 145, MOBILEPREFIX_SOLICIT: 146,
  MOBILEPREFIX_ADVERT: 147, RPL: 155,
} as const;

/** tcpdump's icmp6_type_values (the first name wins where two share a number). */
const TYPE_NAMES = new Map<number, string>([
  [1, 'destination unreachable'], [2, 'packet too big'], [3, 'time exceeded in-transit'], [4, 'parameter problem'],
  [128, 'echo request'], [129, 'echo reply'], [130, 'multicast listener query'], [131, 'multicast listener report'],
  [132, 'multicast listener done'], [133, 'router solicitation'], [134, 'router advertisement'],
  [135, 'neighbor solicitation'], [136, 'neighbor advertisement'], [137, 'redirect'], [138, 'router renumbering'],
  [139, 'who-are-you request'], [140, 'who-are-you reply'], [141, 'inverse neighbor solicitation'],
  [142, 'inverse neighbor advertisement'], [143, 'multicast listener report v2'], [144, 'ha discovery request'],
  [145, 'ha discovery reply'], [146, 'mobile router solicitation'], [147, 'mobile router advertisement'],
  [155, 'RPL'], [200, 'mtrace response'], [201, 'mtrace message'],
]);
/** The printer's text for each type, as bytes (TextOut.putAscii); the line's constant parts too. */
const TYPE_NAME_BYTES: Uint8Array[] = Array.from({ length: 256 }, (_, t) => ascii(TYPE_NAMES.get(t) ?? 'unknown icmp6 type (' + t + ')'));
const ICMP6_TEXT = ascii('ICMP6, '), ID_TEXT = ascii(', id '), SEQ_TEXT = ascii(', seq '), LENGTH_TEXT = ascii(', length ');

const UNREACH_NAMES = ['unreachable route', ' unreachable prohibited', 'beyond scope', 'unreachable address', 'unreachable port'];

/** ND option types, with tcpdump's names. */
const ND_OPT = { SOURCE_LINKADDR: 1, TARGET_LINKADDR: 2, PREFIX_INFORMATION: 3, REDIRECTED_HEADER: 4, MTU: 5, ADVINTERVAL: 7, HOMEAGENT_INFO: 8, ROUTE_INFO: 24, RDNSS: 25, DNSSL: 31 } as const;
const OPT_NAMES = new Map<number, string>([
  [1, 'source link-address'], [2, 'destination link-address'], [3, 'prefix info'], [4, 'redirected header'],
  [5, 'mtu'], [25, 'rdnss'], [31, 'dnssl'], [7, 'advertisement interval'], [8, 'homeagent information'], [24, 'route info'],
]);

const MLDV2_RECORD_NAMES = ['', 'is_in', 'is_ex', 'to_in', 'to_ex', 'allow', 'block'];
const RTPREF = ['medium', 'high', 'rsv', 'low'];

/** Thrown where icmp6_print jumps to its trunc label: "[|icmp6]" and nothing more, the link header kept for -x. */
const GOTO_TRUNC = { gotoTrunc: true } as const;

/** Quoted datagrams inside quoted datagrams are decoded this deep, no deeper. */
const MAX_QUOTE_DEPTH = 4;

export class Icmpv6Layer extends Layer {
  type = 0;
  code = 0;
  checksum = 0;
  /** End of the captured message bytes (within the IPv6 payload). */
  capEnd = 0;
  /** The IPv6 header the pseudo-header comes from, or null (not under IPv6). */
  ip: Ipv6Layer | null = null;
  /** A fragment header sits below: tcpdump checks no checksum. */
  fragmented = false;
  /** Decoded inside the packet an error message quotes (tshark's in_error_pkt). */
  quoted = false;
  /** The datagram an error message quotes (the nested-packet convention of src/output/frame-fields.ts). */
  nested: Packet[] = NO_PACKETS;
  /** For a message built to encode: the bytes after the checksum (identifier and sequence, target, options...). */
  body: Uint8Array | null = null;

  /** Captured byte / 16-bit / 32-bit word at message offset o, or -1 where it was not captured. */
  u8At(o: number): number {
    return this.off + o + 1 <= this.capEnd ? this.buf[this.off + o] : -1;
  }
  u16At(o: number): number {
    const i = this.off + o;
    return i + 2 <= this.capEnd ? (this.buf[i] << 8) | this.buf[i + 1] : -1;
  }
  u32At(o: number): number {
    const i = this.off + o, b = this.buf;
    return i + 4 <= this.capEnd ? ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0 : -1;
  }
  /** The IPv6 address at message offset o, or undefined where it was not captured. */
  addrAt(o: number): string | undefined {
    return this.off + o + 16 <= this.capEnd ? ipv6At(this.buf, this.off + o) : undefined;
  }
}

/** The fixed part of each Neighbor Discovery (RFC 4861) and MLD (RFC 2710, 3810) message, type included; 0 for the others. */
const FIXED_LEN = new Uint8Array(256);
FIXED_LEN[ICMP6_TYPE.ROUTER_SOLICIT] = 8;
FIXED_LEN[ICMP6_TYPE.ROUTER_ADVERT] = 16;
FIXED_LEN[ICMP6_TYPE.NEIGHBOR_SOLICIT] = 24;
FIXED_LEN[ICMP6_TYPE.NEIGHBOR_ADVERT] = 24;
FIXED_LEN[ICMP6_TYPE.REDIRECT] = 40;
FIXED_LEN[ICMP6_TYPE.MLD_QUERY] = 24;
FIXED_LEN[ICMP6_TYPE.MLD_REPORT] = 24;
FIXED_LEN[ICMP6_TYPE.MLD_DONE] = 24;
FIXED_LEN[ICMP6_TYPE.MLDV2_REPORT] = 8;

/** Types whose body quotes the packet that caused them. */
export function isIcmpv6Error(type: number): boolean {
  return type >= ICMP6_TYPE.DST_UNREACH && type <= ICMP6_TYPE.PARAM_PROB;
}

export const icmpv6: Dissector<Icmpv6Layer> = {
  name: 'icmpv6',
  protocols: 'icmpv6',
  create: () => new Icmpv6Layer(),

  decode(l, v, p) {
    l.capEnd = v.end;
    l.quoted = quoting.depth > 0;
    const below = p.layers.length >= 2 ? p.layers[p.layers.length - 2] : null;
    l.ip = below instanceof Ipv6Layer ? below : below instanceof Ipv6ChainLayer ? below.ip : null;
    const ni = networkIndex(p, p.layers.length - 1);
    l.fragmented = ni >= 0 && isFragmented(p, ni, p.layers.length - 1);
    l.type = v.u8(ICMP6.TYPE);
    l.code = v.u8(ICMP6.CODE);
    l.checksum = v.u16(ICMP6.CHECKSUM);
    // tshark dissects every type's body as ICMPv6 fields, except an error's quoted packet and an
    // echo's data (its own protocol, and "data").
    if (isEcho(l.type)) {
      l.hdrLen = ICMP6.HEADER_LEN;
      l.payloadLen = Math.max(0, l.length - ICMP6.HEADER_LEN);
    } else if (isIcmpv6Error(l.type)) {
      l.hdrLen = ICMP6.HEADER_LEN;
      l.payloadLen = Math.max(0, l.length - ICMP6.HEADER_LEN);
      if (quoting.depth < MAX_QUOTE_DEPTH && v.length > ICMP6.HEADER_LEN) {
        const inner = new Packet(p.frame, p.buf);
        quoting.depth++;
        try {
          decodeChain(inner, ipv6 as Dissector<any>, v.slice(ICMP6.HEADER_LEN), l.payloadLen);
        } finally {
          quoting.depth--;
        }
        l.nested = [inner];
      }
    } else {
      l.hdrLen = Math.max(ICMP6.DATA, l.length);
      l.payloadLen = 0;
    }
    // Every byte up to the header's end is a field: a capture that ends sooner truncates the layer.
    v.check(0, l.hdrLen);
    // A message shorter than its type's fixed fields runs out of bytes too (tcpdump's [|icmp6]
    // where it reads them; tshark's malformed ICMPv6), however much of it was captured.
    const fixed = FIXED_LEN[l.type];
    if (fixed !== 0 && l.length < fixed) l.truncated = true;
  },

  encode(l, payload, ctx: EncodeContext) {
    // The message body after type, code and checksum: a decoded layer's own bytes, or `body` for one built to send.
    const body = l.body ?? (l.buf ? l.buf.subarray(l.off + ICMP6.DATA, Math.min(l.off + l.hdrLen, l.capEnd)) : new Uint8Array(0));
    const out = new Uint8Array(ICMP6.DATA + body.length + payload.length);
    out[ICMP6.TYPE] = l.type;
    out[ICMP6.CODE] = l.code;
    out.set(body, ICMP6.DATA);
    out.set(payload, ICMP6.DATA + body.length);
    let sum = l.checksum;
    if (ctx.opts.computeChecksums) {
      const ip = ctx.outer.find((x): x is Ipv6Layer => x instanceof Ipv6Layer);
      if (ip) sum = foldChecksum(sumWords(out, 0, out.length, ip.pseudoHeaderSum(IPPROTO.ICMPV6, out.length)));
    }
    out[ICMP6.CHECKSUM] = sum >> 8;
    out[ICMP6.CHECKSUM + 1] = sum & 0xff;
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as Icmpv6Layer;
    if (l.length === 0) { out.s += 'ICMP6, length 0 (invalid)'; return; }
    const pv = new ByteView(p.buf, l.off, l.capEnd);
    try {
      printMessage(l, pv, out);
    } catch (e) {
      if (e === GOTO_TRUNC) out.trunc('icmp6');
      else if (e instanceof OutOfBounds) abandon(out, 'icmp6');
      else throw e;
    }
  },

  fields: {
    'icmpv6.type': (l) => opt8(l, ICMP6.TYPE),
    'icmpv6.code': (l) => (l.u8At(1) >= 0 ? l.code : undefined),
    'icmpv6.checksum': (l) => (l.u16At(2) >= 0 ? '0x' + hexPad(l.checksum, 4) : undefined),
    'icmpv6.checksum.status': (l, p) => (l.u16At(2) < 0 ? undefined : checksumStatus(l, p)),
    'icmpv6.reserved': (l) => reserved(l),
    'icmpv6.mtu': (l) => (l.type === ICMP6_TYPE.PACKET_TOO_BIG ? opt32(l, ICMP6.MTU) : undefined),
    'icmpv6.pointer': (l) => (l.type === ICMP6_TYPE.PARAM_PROB ? opt32(l, ICMP6.POINTER) : undefined),
    'icmpv6.echo.identifier': (l) => (hasIdentifier(l.type) && l.u16At(ICMP6.ID) >= 0 ? '0x' + hexPad(l.u16At(ICMP6.ID), 4) : undefined),
    'icmpv6.echo.sequence_number': (l) => (isEcho(l.type) ? opt16(l, ICMP6.SEQ) : undefined),
    'icmpv6.nd.ns.target_address': (l) => (l.type === ICMP6_TYPE.NEIGHBOR_SOLICIT ? l.addrAt(ICMP6.TARGET) : undefined),
    'icmpv6.nd.na.target_address': (l) => (l.type === ICMP6_TYPE.NEIGHBOR_ADVERT ? l.addrAt(ICMP6.TARGET) : undefined),
    'icmpv6.nd.na.flag': (l) => (l.type === ICMP6_TYPE.NEIGHBOR_ADVERT && l.u32At(4) >= 0 ? '0x' + hexPad(l.u32At(4), 8) : undefined),
    'icmpv6.nd.na.flag.r': (l) => naFlag(l, 0x80000000),
    'icmpv6.nd.na.flag.s': (l) => naFlag(l, 0x40000000),
    'icmpv6.nd.na.flag.o': (l) => naFlag(l, 0x20000000),
    'icmpv6.nd.rd.target_address': (l) => (l.type === ICMP6_TYPE.REDIRECT ? l.addrAt(ICMP6.TARGET) : undefined),
    'icmpv6.rd.na.destination_address': (l) => (l.type === ICMP6_TYPE.REDIRECT ? l.addrAt(ICMP6.RD_DST) : undefined),
    'icmpv6.nd.ra.cur_hop_limit': (l) => (l.type === ICMP6_TYPE.ROUTER_ADVERT ? opt8(l, ICMP6.RA_HOPLIMIT) : undefined),
    'icmpv6.nd.ra.flag': (l) => (l.type === ICMP6_TYPE.ROUTER_ADVERT && l.u8At(ICMP6.RA_FLAGS) >= 0 ? '0x' + hexPad(l.u8At(ICMP6.RA_FLAGS), 2) : undefined),
    'icmpv6.nd.ra.router_lifetime': (l) => (l.type === ICMP6_TYPE.ROUTER_ADVERT ? opt16(l, ICMP6.RA_LIFETIME) : undefined),
    'icmpv6.nd.ra.reachable_time': (l) => (l.type === ICMP6_TYPE.ROUTER_ADVERT ? opt32(l, ICMP6.RA_REACHABLE) : undefined),
    'icmpv6.nd.ra.retrans_timer': (l) => (l.type === ICMP6_TYPE.ROUTER_ADVERT ? opt32(l, ICMP6.RA_RETRANS) : undefined),
    'icmpv6.opt.type': (l) => ndOptions(l, (o) => o.type),
    'icmpv6.opt.length': (l) => ndOptions(l, (o) => o.len),
    'icmpv6.opt.linkaddr': (l) => ndOptions(l, (o) => (isLinkAddr(o) ? linkAddr(l, o) : undefined)),
    'icmpv6.opt.src_linkaddr': (l) => ndOptions(l, (o) => (isLinkAddr(o) && o.type === ND_OPT.SOURCE_LINKADDR ? linkAddr(l, o) : undefined)),
    'icmpv6.opt.target_linkaddr': (l) => ndOptions(l, (o) => (isLinkAddr(o) && o.type === ND_OPT.TARGET_LINKADDR ? linkAddr(l, o) : undefined)),
    'icmpv6.opt.mtu': (l) => ndOptions(l, (o) => (o.type === ND_OPT.MTU ? l.u32At(o.at + 4) : undefined)),
    'icmpv6.opt.prefix.length': (l) => ndOptions(l, (o) => (o.type === ND_OPT.PREFIX_INFORMATION || o.type === ND_OPT.ROUTE_INFO ? l.u8At(o.at + 2) : undefined)),
    'icmpv6.opt.prefix.flag': (l) => ndOptions(l, (o) => (o.type === ND_OPT.PREFIX_INFORMATION ? '0x' + hexPad(l.u8At(o.at + 3), 2) : undefined)),
    'icmpv6.opt.prefix.valid_lifetime': (l) => ndOptions(l, (o) => (o.type === ND_OPT.PREFIX_INFORMATION ? l.u32At(o.at + 4) : undefined)),
    'icmpv6.opt.prefix.preferred_lifetime': (l) => ndOptions(l, (o) => (o.type === ND_OPT.PREFIX_INFORMATION ? l.u32At(o.at + 8) : undefined)),
    'icmpv6.opt.prefix': (l) => ndOptions(l, (o) => (o.type === ND_OPT.PREFIX_INFORMATION ? l.addrAt(o.at + 16) : o.type === ND_OPT.ROUTE_INFO ? routePrefix(l, o) : undefined)),
    'icmpv6.opt.rdnss.lifetime': (l) => ndOptions(l, (o) => (o.type === ND_OPT.RDNSS ? l.u32At(o.at + 4) : undefined)),
    'icmpv6.opt.rdnss': (l) => rdnssAddrs(l),
    'icmpv6.mld.maximum_response_delay': (l) => (isMld1(l) ? opt16(l, ICMP6.MLD_DELAY) : undefined),
    'icmpv6.mld.multicast_address': (l) => (isMld1(l) || isMld2Query(l) ? l.addrAt(ICMP6.MLD_ADDR) : undefined),
    'icmpv6.mld.maximum_response_code': (l) => (isMld2Query(l) && l.u16At(ICMP6.MLD_DELAY) >= 0 ? mld2Delay(l.u16At(ICMP6.MLD_DELAY)) : undefined),
    'icmpv6.mld.flag': (l) => (isMld2Query(l) && l.u8At(ICMP6.MLD2_FLAGS) >= 0 ? '0x' + hexPad(l.u8At(ICMP6.MLD2_FLAGS), 2) : undefined),
    'icmpv6.mld.qqi': (l) => (isMld2Query(l) && l.u8At(ICMP6.MLD2_QQIC) >= 0 ? mld2Qqi(l.u8At(ICMP6.MLD2_QQIC)) : undefined),
    'icmpv6.mld.nb_sources': (l) => (isMld2Query(l) ? opt16(l, ICMP6.MLD2_NSRCS) : undefined),
    'icmpv6.mldr.nb_mcast_records': (l) => (l.type === ICMP6_TYPE.MLDV2_REPORT ? opt16(l, ICMP6.MLD2_REC_COUNT) : undefined),
    'icmpv6.mldr.mar.record_type': (l) => mldRecords(l, 0, 1, (at) => l.u8At(at)),
    'icmpv6.mldr.mar.aux_data_len': (l) => mldRecords(l, 1, 1, (at) => l.u8At(at)),
    'icmpv6.mldr.mar.nb_sources': (l) => mldRecords(l, 2, 2, (at) => l.u16At(at)),
    'icmpv6.mldr.mar.multicast_address': (l) => mldRecords(l, 4, 16, (at) => l.addrAt(at)),
  },

  json(l) {
    const j: Record<string, unknown> = { type: l.type, code: l.code, checksum: l.checksum };
    const t = l.type;
    if (isEcho(t)) { j.identifier = l.u16At(ICMP6.ID); j.sequence = l.u16At(ICMP6.SEQ); }
    else if (t === ICMP6_TYPE.PACKET_TOO_BIG) j.mtu = l.u32At(ICMP6.MTU);
    else if (t === ICMP6_TYPE.PARAM_PROB) j.pointer = l.u32At(ICMP6.POINTER);
    else if (t === ICMP6_TYPE.NEIGHBOR_SOLICIT || t === ICMP6_TYPE.NEIGHBOR_ADVERT || t === ICMP6_TYPE.REDIRECT) {
      j.target = l.addrAt(ICMP6.TARGET);
      if (t === ICMP6_TYPE.NEIGHBOR_ADVERT) j.flags = l.u32At(4);
      if (t === ICMP6_TYPE.REDIRECT) j.destination = l.addrAt(ICMP6.RD_DST);
    } else if (t === ICMP6_TYPE.ROUTER_ADVERT) {
      j.hopLimit = l.u8At(ICMP6.RA_HOPLIMIT); j.flags = l.u8At(ICMP6.RA_FLAGS); j.routerLifetime = l.u16At(ICMP6.RA_LIFETIME);
      j.reachableTime = l.u32At(ICMP6.RA_REACHABLE); j.retransTimer = l.u32At(ICMP6.RA_RETRANS);
    }
    if (OPTIONS_AT[t] !== undefined) j.options = optionList(l).map((o) => ({ type: o.type, length: o.len, data: hexBytes(l.buf, l.off + o.at + 2, l.off + o.at + o.len * 8) }));
    return j;
  },
};

function isEcho(t: number): boolean {
  return t === ICMP6_TYPE.ECHO_REQUEST || t === ICMP6_TYPE.ECHO_REPLY;
}
/** RFC 8335 extended echo request/reply: tshark shows their identifier as an echo's. */
function hasIdentifier(t: number): boolean {
  return isEcho(t) || t === 160 || t === 161;
}
function isMld1(l: Icmpv6Layer): boolean {
  return (l.type === ICMP6_TYPE.MLD_QUERY && l.length < 28) || l.type === ICMP6_TYPE.MLD_REPORT || l.type === ICMP6_TYPE.MLD_DONE;
}
function isMld2Query(l: Icmpv6Layer): boolean {
  return l.type === ICMP6_TYPE.MLD_QUERY && l.length >= 28;
}
function opt8(l: Icmpv6Layer, o: number): number | undefined {
  const x = l.u8At(o);
  return x < 0 ? undefined : x;
}
function opt16(l: Icmpv6Layer, o: number): number | undefined {
  const x = l.u16At(o);
  return x < 0 ? undefined : x;
}
function opt32(l: Icmpv6Layer, o: number): number | undefined {
  const x = l.u32At(o);
  return x < 0 ? undefined : x;
}
function naFlag(l: Icmpv6Layer, bit: number): number | undefined {
  const f = l.u32At(4);
  return l.type === ICMP6_TYPE.NEIGHBOR_ADVERT && f >= 0 ? ((f & bit) !== 0 ? 1 : 0) : undefined;
}

/** tshark's icmpv6.reserved: the unused bytes of the types that have them, as plain hex. */
function reserved(l: Icmpv6Layer): string | string[] | undefined {
  const t = l.type;
  let at = 4, n = 0;
  // RFC 4884: a non-zero byte 4 of unreachable and time exceeded is the quoted datagram's length.
  if ((t === ICMP6_TYPE.DST_UNREACH || t === ICMP6_TYPE.TIME_EXCEEDED) && l.u8At(4) > 0) { at = 5; n = 3; }
  else if (t === ICMP6_TYPE.DST_UNREACH || t === ICMP6_TYPE.TIME_EXCEEDED || t === ICMP6_TYPE.ROUTER_SOLICIT ||
    t === ICMP6_TYPE.NEIGHBOR_SOLICIT || t === ICMP6_TYPE.REDIRECT || t === ICMP6_TYPE.IND_SOLICIT || t === ICMP6_TYPE.IND_ADVERT) n = 4;
  else if (t === ICMP6_TYPE.HADISCOV_REQUEST || t === ICMP6_TYPE.HADISCOV_REPLY || t === ICMP6_TYPE.MOBILEPREFIX_SOLICIT) { at = 6; n = 2; }
  else if (t === ICMP6_TYPE.MLDV2_REPORT) n = 2;
  else if (t === ICMP6_TYPE.MLD_QUERY || t === ICMP6_TYPE.MLD_REPORT || t === ICMP6_TYPE.MLD_DONE) { at = 6; n = 2; }
  else if (t === ICMP6_TYPE.ROUTER_RENUMBERING) return renumberingReserved(l);
  else if (t === ICMP6_TYPE.RPL && l.code === 2) { at = 6; n = 1; }
  if (n === 0) return undefined;
  return l.off + at + n <= l.capEnd ? hexBytes(l.buf, l.off + at, l.off + at + n) : undefined;
}

/** Router renumbering's reserved words: the header's, and its match-prefix part's. */
function renumberingReserved(l: Icmpv6Layer): string[] | undefined {
  const r: string[] = [];
  if (l.off + 16 <= l.capEnd) r.push(hexBytes(l.buf, l.off + 12, l.off + 16));
  if (l.off + 24 <= l.capEnd) r.push(hexBytes(l.buf, l.off + 22, l.off + 24));
  return r.length ? r : undefined;
}

/**
 * tshark's checksum status: 2 (unverified) inside an error's quote, below a fragment header or
 * when cut short; else 1 (good) or 0 (bad). A payload length past the frame's end counts only
 * what the frame holds, as tshark does.
 */
function checksumStatus(l: Icmpv6Layer, p: Packet): number {
  if (l.quoted || l.fragmented || l.ip === null) return 2;
  // A reassembled datagram has a buffer of its own, as long as it claims.
  const n = Math.min(l.length, (p.buf === p.frame.data ? p.frame.origLen : p.buf.length) - l.off);
  if (l.off + n > l.capEnd) return 2;
  return foldChecksum(sumWords(l.buf, l.off, l.off + n, l.ip.pseudoHeaderSum(IPPROTO.ICMPV6, n))) === 0 ? 1 : 0;
}

interface NdOption { type: number; len: number; at: number }

/**
 * The ND options as tshark walks them: each option's type and length, on until an option whose
 * fields tshark reads run past the message (its exception ends the dissection there).
 */
function optionList(l: Icmpv6Layer): NdOption[] {
  const a: NdOption[] = [];
  const start = OPTIONS_AT[l.type];
  if (start === undefined) return a;
  const end = Math.min(l.off + l.length, l.capEnd) - l.off;
  for (let at = start; at + 2 <= end; ) {
    const type = l.buf[l.off + at], len = l.buf[l.off + at + 1];
    a.push({ type, len, at });
    if (len === 0 || at + optionReach(type, len) > end) break;
    at += len * 8;
  }
  return a;
}

/** How far into an option tshark reads: fixed layouts read all their fields, the rest their whole length. */
function optionReach(type: number, len: number): number {
  switch (type) {
    case ND_OPT.PREFIX_INFORMATION: return 32;
    case ND_OPT.MTU: return 8;
    case ND_OPT.ROUTE_INFO: return len === 2 ? 16 : len === 3 ? 24 : 8;
    default: return len * 8;
  }
}

function ndOptions(l: Icmpv6Layer, f: (o: NdOption) => string | number | undefined): FieldValue {
  if (OPTIONS_AT[l.type] === undefined) return undefined;
  const r: Array<string | number> = [];
  for (const o of optionList(l)) {
    const x = f(o);
    if (x !== undefined && x !== -1) r.push(x);
  }
  return r.length ? r : undefined;
}

function isLinkAddr(o: NdOption): boolean {
  return (o.type === ND_OPT.SOURCE_LINKADDR || o.type === ND_OPT.TARGET_LINKADDR) && o.len === 1;
}
function linkAddr(l: Icmpv6Layer, o: NdOption): string | undefined {
  return l.off + o.at + 8 <= l.capEnd ? hexColonAt(l.buf, l.off + o.at + 2, 6) : undefined;
}

/** A route information option's prefix: the 0, 8 or 16 bytes it carries, zero-filled. */
function routePrefix(l: Icmpv6Layer, o: NdOption): string | undefined {
  const n = o.len === 2 ? 8 : o.len === 3 ? 16 : 0;
  if (n === 0 || l.off + o.at + 8 + n > l.capEnd) return undefined;
  const a = new Uint8Array(16);
  a.set(l.buf.subarray(l.off + o.at + 8, l.off + o.at + 8 + n));
  return ipv6At(a, 0);
}

function rdnssAddrs(l: Icmpv6Layer): FieldValue {
  if (l.type !== ICMP6_TYPE.ROUTER_ADVERT) return undefined;
  const r: string[] = [];
  for (const o of optionList(l)) {
    if (o.type !== ND_OPT.RDNSS) continue;
    for (let k = 0; k < (o.len - 1) >> 1; k++) {
      const a = l.addrAt(o.at + 8 + 16 * k);
      if (a !== undefined) r.push(a);
    }
  }
  return r.length ? r : undefined;
}

/**
 * A field of each MLDv2 report record, read at record offset `field` (`size` bytes), as tshark
 * walks the records: on until a read runs past the message.
 */
function mldRecords(l: Icmpv6Layer, field: number, size: number, f: (at: number) => string | number | undefined): FieldValue {
  if (l.type !== ICMP6_TYPE.MLDV2_REPORT) return undefined;
  const n = l.u16At(ICMP6.MLD2_REC_COUNT);
  const end = Math.min(l.off + l.length, l.capEnd) - l.off;
  const r: Array<string | number> = [];
  for (let k = 0, at = 8; k < n && at + field + size <= end; k++) {
    const x = f(at + field);
    if (x === undefined) break;
    r.push(x);
    if (at + 4 > end) break;
    at += 20 + l.u16At(at + 2) * 16 + l.u8At(at + 1) * 4;
  }
  return r.length ? r : undefined;
}

/** tcpdump's icmp6_print, reading through pv; a read past the capture ends it with "[|icmp6]". */
function printMessage(l: Icmpv6Layer, pv: ByteView, out: TextOut): void {
  const o = out.opts;
  const length = l.length;
  if (o.v && !l.fragmented && l.ip !== null && !o.K && pv.has(0, length)) {
    const sum = foldChecksum(sumWords(pv.buf, pv.start, pv.start + length, l.ip.pseudoHeaderSum(IPPROTO.ICMPV6, length)));
    const field = pv.u16(ICMP6.CHECKSUM);
    if (sum !== 0) out.s += '[bad icmp6 cksum 0x' + hexPad(field, 4) + ' -> 0x' + hexPad(checksumShouldBe(field, sum), 4) + '!] ';
    else out.s += '[icmp6 sum ok] ';
  }
  const type = pv.u8(ICMP6.TYPE);
  out.putAscii(ICMP6_TEXT);
  out.putAscii(TYPE_NAME_BYTES[type]);
  if (o.v && (type === 133 || type === 134 || type === 135 || type === 136 || type === 137 || type === 145 || type === 147)) {
    out.s += ', length ' + length;
  }
  const code = pv.u8(ICMP6.CODE);
  switch (type) {
    case ICMP6_TYPE.DST_UNREACH:
      out.put(', ');
      out.put(code < UNREACH_NAMES.length ? UNREACH_NAMES[code] : 'unknown unreach code (' + code + ')');
      switch (code) {
        case 0: case 1: case 3:
          pv.check(8 + 24, 16);
          out.putChar(SPACE);
          putAddr(pv, 8 + 24, out);
          break;
        case 2: {
          const dst = addr(pv, 8 + 24, out);
          out.s += ' ' + dst + ', source address ' + addr(pv, 8 + 8, out);
          break;
        }
        case 4: {
          const ul = upperLayer(pv, ICMP6.HEADER_LEN);
          if (ul < 0) throw GOTO_TRUNC;
          const prot = ul >>> 16, dport = ul & 0xffff;
          pv.check(8 + 24, 16);
          out.put(', ');
          putAddr(pv, 8 + 24, out);
          if (prot === IPPROTO.TCP || prot === IPPROTO.UDP) {
            out.put(prot === IPPROTO.TCP ? ' tcp port ' : ' udp port ');
            putPort(out, prot === IPPROTO.TCP ? 'tcp' : 'udp', dport);
          } else out.s += ' protocol ' + prot + ' port ' + dport + ' unreachable';
          break;
        }
        default:
          if (o.v <= 1) { printUnknownData(pv, 0, '\n\t', length, out); return; }
      }
      break;
    case ICMP6_TYPE.PACKET_TOO_BIG: {
      const mtu = pv.u32(ICMP6.MTU);
      out.put(', mtu ');
      out.num(mtu);
      break;
    }
    case ICMP6_TYPE.TIME_EXCEEDED:
      if (code === 0) out.s += ' for ' + addr(pv, 8 + 24, out);
      else if (code === 1) out.s += ' (reassembly)';
      else out.s += ', unknown code (' + code + ')';
      break;
    case ICMP6_TYPE.PARAM_PROB: {
      if (!pv.has(8 + 24, 16)) throw GOTO_TRUNC;
      const what = code === 0 ? ', erroneous' : code === 1 ? ', next header' : code === 2 ? ', option' : code === 3 ? ', incomplete header chain' : null;
      out.s += what === null ? ', code-#' + code : what + ' - octet ' + pv.u32(ICMP6.POINTER);
      break;
    }
    case ICMP6_TYPE.ECHO_REQUEST:
    case ICMP6_TYPE.ECHO_REPLY: {
      const id = pv.u16(ICMP6.ID), seq = pv.u16(ICMP6.SEQ);
      out.putAscii(ID_TEXT);
      out.num(id);
      out.putAscii(SEQ_TEXT);
      out.num(seq);
      break;
    }
    case ICMP6_TYPE.MLD_QUERY:
      if (length === 24) printMld(pv, out);
      else if (length >= 28) { out.s += ' v2'; printMldv2Query(pv, length, out); }
      else out.s += ' unknown-version (len ' + length + ') ';
      break;
    case ICMP6_TYPE.MLD_REPORT:
    case ICMP6_TYPE.MLD_DONE:
      printMld(pv, out);
      break;
    case ICMP6_TYPE.ROUTER_SOLICIT:
      if (o.v && !printNdOptions(pv, 8, length - 8, out)) throw GOTO_TRUNC;
      break;
    case ICMP6_TYPE.ROUTER_ADVERT:
      if (o.v) {
        const hop = pv.u8(ICMP6.RA_HOPLIMIT), flags = pv.u8(ICMP6.RA_FLAGS), life = pv.u16(ICMP6.RA_LIFETIME);
        const reach = pv.u32(ICMP6.RA_REACHABLE), retrans = pv.u32(ICMP6.RA_RETRANS);
        out.s += '\n\thop limit ' + hop + ', Flags [' + raFlags(flags) + '], pref ' + RTPREF[(flags & 0x18) >> 3] +
          ', router lifetime ' + life + 's, reachable time ' + reach + 'ms, retrans timer ' + retrans + 'ms';
        if (!printNdOptions(pv, 16, length - 16, out)) throw GOTO_TRUNC;
      }
      break;
    case ICMP6_TYPE.NEIGHBOR_SOLICIT:
      pv.check(ICMP6.TARGET, 16);
      out.put(', who has ');
      putAddr(pv, ICMP6.TARGET, out);
      if (o.v && !printNdOptions(pv, 24, length - 24, out)) throw GOTO_TRUNC;
      break;
    case ICMP6_TYPE.NEIGHBOR_ADVERT:
      pv.check(ICMP6.TARGET, 16);
      out.put(', tgt is ');
      putAddr(pv, ICMP6.TARGET, out);
      if (o.v) {
        out.s += ', Flags [' + naFlags(pv.u32(4)) + ']';
        if (!printNdOptions(pv, 24, length - 24, out)) throw GOTO_TRUNC;
      }
      break;
    case ICMP6_TYPE.REDIRECT:
      out.s += ', ' + addr(pv, ICMP6.RD_DST, out);
      out.s += ' to ' + addr(pv, ICMP6.TARGET, out);
      if (o.v && !printNdOptions(pv, 40, length - 40, out)) throw GOTO_TRUNC;
      break;
    case ICMP6_TYPE.ROUTER_RENUMBERING:
      printRenumbering(pv, out);
      break;
    case ICMP6_TYPE.NI_QUERY:
    case ICMP6_TYPE.NI_REPLY:
      printNodeInfo(pv, length, out);
      break;
    case ICMP6_TYPE.IND_SOLICIT:
    case ICMP6_TYPE.IND_ADVERT:
      break;
    case ICMP6_TYPE.MLDV2_REPORT:
      printMldv2Report(pv, length, out);
      break;
    case ICMP6_TYPE.MOBILEPREFIX_SOLICIT:
    case ICMP6_TYPE.HADISCOV_REQUEST:
      out.s += ', id 0x' + hexPad(pv.u16(4), 4);
      break;
    case ICMP6_TYPE.HADISCOV_REPLY:
      if (o.v) {
        out.s += ', id 0x' + hexPad(pv.u16(4), 4);
        // tcpdump 4.99.3 reads addresses to the message's claimed end, whatever was captured.
        for (let at = 8; at < length; at += 16) out.s += ', ' + addr(pv, at, out);
      }
      break;
    case ICMP6_TYPE.MOBILEPREFIX_ADVERT:
      if (o.v) {
        out.s += ', id 0x' + hexPad(pv.u16(4), 4);
        const flags = pv.u16(6);
        if (flags & 0xc000) out.s += ' ';
        if (flags & 0x8000) out.s += 'M';
        if (flags & 0x4000) out.s += 'O';
        if (!printNdOptions(pv, 8, length - 8, out)) throw GOTO_TRUNC;
      }
      break;
    case ICMP6_TYPE.RPL:
      printRpl(pv, code, length - 4, out);
      break;
    default:
      out.s += ', length ' + length;
      if (o.v <= 1) printUnknownData(pv, 0, '\n\t', length, out);
      return;
  }
  if (!o.v) {
    out.putAscii(LENGTH_TEXT);
    out.num(length);
  }
}

function addr(pv: ByteView, o: number, out: TextOut): string {
  pv.check(o, 16);
  return ipv6Text(out, pv.buf, pv.start + o);
}

/** addr written straight to the output: the caller has checked the 16 bytes were captured. */
function putAddr(pv: ByteView, o: number, out: TextOut): void {
  if (out.opts.n) out.ipv6(pv.buf, pv.start + o);
  else putIpv6(out, pv.buf, pv.start + o);
}

const SPACE = 0x20;

/** bittok2str over a table of [bit, name]: the names of the set bits joined by ", ", or "none". */
function bitNames(v: number, table: ReadonlyArray<readonly [number, string]>): string {
  let s = '';
  for (const [bit, name] of table) if ((v & bit) >>> 0 === bit) s += (s ? ', ' : '') + name;
  return s || 'none';
}
const RA_FLAGS: ReadonlyArray<readonly [number, string]> = [[0x80, 'managed'], [0x40, 'other stateful'], [0x20, 'home agent'], [0x02, 'ipv6 only']];
const NA_FLAGS: ReadonlyArray<readonly [number, string]> = [[0x80000000, 'router'], [0x40000000, 'solicited'], [0x20000000, 'override']];
const PI_FLAGS: ReadonlyArray<readonly [number, string]> = [[0x80, 'onlink'], [0x40, 'auto'], [0x20, 'router']];
function raFlags(f: number): string { return bitNames(f, RA_FLAGS); }
function naFlags(f: number): string { return bitNames(f, NA_FLAGS); }

function lifetime(v: number): string {
  return v === 0xffffffff ? 'infinity' : v + 's';
}

/** print_unknown_data: a hex dump of up to len bytes at message offset o, as far as they were captured. */
function printUnknownData(pv: ByteView, o: number, indent: string, len: number, out: TextOut): void {
  if (o > pv.length) {
    out.s += indent + 'Dissector error: print_unknown_data called with pointer past end of packet';
    return;
  }
  const n = Math.min(len, pv.length - o);
  out.s += hexOnly(pv.buf, pv.start + o, pv.start + o + n, indent, 0);
}

/**
 * get_upperlayer: walks the quoted packet's headers from message offset `at` to its TCP or UDP
 * header; returns protocol << 16 | destination port, or -1 where tcpdump gives up.
 */
function upperLayer(pv: ByteView, at: number): number {
  if (!pv.has(at + 6, 1)) return -1;
  let nh = pv.u8(at + 6);
  let hlen = 40;
  let bp = at;
  while (bp < pv.length) {
    bp += hlen;
    switch (nh) {
      case IPPROTO.UDP:
      case IPPROTO.TCP:
        return pv.has(bp + 2, 2) ? (nh << 16) | pv.u16(bp + 2) : -1;
      case IPPROTO.HOPOPTS:
      case IPPROTO.DSTOPTS:
      case IPPROTO.ROUTING:
        if (!pv.has(bp + 1, 1)) return -1;
        nh = pv.u8(bp);
        hlen = (pv.u8(bp + 1) + 1) << 3;
        break;
      case IPPROTO.FRAGMENT:
        if (!pv.has(bp + 2, 2)) return -1;
        if ((pv.u16(bp + 2) & 0xfff8) !== 0) return -1;
        nh = pv.u8(bp);
        hlen = 8;
        break;
      case IPPROTO.AH:
        if (!pv.has(bp + 1, 1)) return -1;
        nh = pv.u8(bp);
        hlen = (pv.u8(bp + 1) + 2) << 2;
        break;
      default:
        return -1;
    }
  }
  return -1;
}

/**
 * icmp6_opt_print: the ND options from message offset `at` (resid bytes claimed). Returns false
 * where tcpdump gives up on the message ("[|icmp6]").
 */
function printNdOptions(pv: ByteView, at: number, resid: number, out: TextOut): boolean {
  const v = out.opts.v;
  const bp = at;
  let cp = at;
  while (cp < pv.length) {
    if (!pv.has(cp + 1, 1)) return false;
    if (resid <= 0) return true;
    const type = pv.u8(cp);
    const len = pv.u8(cp + 1);
    if (len === 0) return false;
    if (cp + len * 8 > pv.length) return false;
    out.s += '\n\t  ' + (OPT_NAMES.get(type) ?? 'unknown') + ' option (' + type + '), length ' + len * 8 + ' (' + len + '): ';
    switch (type) {
      case ND_OPT.SOURCE_LINKADDR:
      case ND_OPT.TARGET_LINKADDR:
        out.s += hexColonAt(pv.buf, pv.start + cp + 2, len * 8 - 2);
        break;
      case ND_OPT.PREFIX_INFORMATION: {
        const prefix = addr(pv, cp + 16, out), plen = pv.u8(cp + 2), flags = pv.u8(cp + 3), valid = pv.u32(cp + 4);
        out.s += prefix + '/' + plen + (len !== 4 ? 'badlen' : '') + ', Flags [' + bitNames(flags, PI_FLAGS) + '], valid time ' + lifetime(valid);
        out.s += ', pref. time ' + lifetime(pv.u32(cp + 8));
        break;
      }
      case ND_OPT.REDIRECTED_HEADER:
        printUnknownData(pv, bp, '\n\t    ', len * 8, out);
        break;
      case ND_OPT.MTU:
        out.s += ' ' + pv.u32(cp + 4) + (len !== 1 ? 'bad option length' : '');
        break;
      case ND_OPT.RDNSS: {
        out.s += ' lifetime ' + pv.u32(cp + 4) + 's,';
        const n = (len - 1) >> 1;
        for (let k = 0; k < n; k++) out.s += ' addr: ' + addr(pv, cp + 8 + 16 * k, out);
        break;
      }
      case ND_OPT.DNSSL: {
        out.s += ' lifetime ' + pv.u32(cp + 4) + 's, domain(s):';
        let dom = cp + 8;
        while (dom < cp + len * 8 && pv.u8(dom) !== 0) {
          out.s += ' ';
          dom = printFqdn(pv, dom, bp, out);
          if (dom < 0) return false;
        }
        break;
      }
      case ND_OPT.ADVINTERVAL:
        out.s += ' ' + pv.u32(cp + 4) + 'ms';
        break;
      case ND_OPT.HOMEAGENT_INFO: {
        const pref = pv.u16(cp + 4);
        out.s += ' preference ' + pref + ', lifetime ' + pv.u16(cp + 6);
        break;
      }
      case ND_OPT.ROUTE_INFO: {
        if (!pv.has(cp + 4, 4)) return false;
        const prefix = new Uint8Array(16);
        if (len === 2) prefix.set(pv.bytes(cp + 8, 8));
        else if (len === 3) prefix.set(pv.bytes(cp + 8, 16));
        else if (len !== 1) return false;
        out.s += ' ' + ipv6Text(out, prefix, 0) + '/' + pv.u8(cp + 2);
        out.s += ', pref=' + RTPREF[(pv.u8(cp + 3) & 0x18) >> 3];
        out.s += ', lifetime=' + lifetime(pv.u32(cp + 4));
        break;
      }
      default:
        if (v <= 1) {
          printUnknownData(pv, cp + 2, '\n\t  ', len * 8 - 2, out);
          return true;
        }
    }
    if (v > 1) printUnknownData(pv, cp + 2, '\n\t    ', len * 8 - 2, out);
    cp += len * 8;
    resid -= len * 8;
  }
  return true;
}

/** fn_print_char: a byte as tcpdump shows it in names ("M-" for the high bit, "^" for controls). */
function printChar(c: number): string {
  let s = '';
  if (c > 0x7f) { c &= 0x7f; s = 'M-'; }
  if (c < 0x20 || c === 0x7f) { c ^= 0x40; s += '^'; }
  return s + String.fromCharCode(c);
}

/**
 * fqdn_print (print-domain.c) for the DNSSL option: labels, compression pointers relative to the
 * options' start `base` (which must point backwards). Returns the offset after the name, or -1
 * where tcpdump gives up.
 */
function printFqdn(pv: ByteView, cp: number, base: number, out: TextOut): number {
  const MAXCDNAME = 255;
  let l = labelLength(pv, cp, out);
  if (l < 0 || !pv.has(cp, 1)) return -1;
  let maxOffset = cp - base;
  let i = pv.u8(cp++);
  let compress = false;
  let rp = cp + l;
  let nameChars = 0;
  if (i === 0) { out.s += '.'; return rp; }
  while (i && cp < pv.length) {
    if ((i & 0xc0) === 0xc0) {
      if (!compress) { rp = cp + 1; compress = true; }
      if (!pv.has(cp, 1)) return -1;
      const offset = ((i << 8) | pv.u8(cp)) & 0x3fff;
      if (offset >= maxOffset) { out.s += '<BAD PTR>'; return -1; }
      maxOffset = offset;
      cp = base + offset;
      if (!pv.has(cp, 1)) return -1;
      i = pv.u8(cp);
      l = labelLength(pv, cp, out);
      if (l < 0) return -1;
      cp++;
      continue;
    }
    if ((i & 0xc0) === 0x40) { out.s += '<ELT ' + (i & 0x3f) + '>'; return -1; }
    const n = nameChars + l <= MAXCDNAME ? l : nameChars < MAXCDNAME ? MAXCDNAME - nameChars : 0;
    for (let k = 0; k < n; k++) {
      if (cp + k >= pv.length) return -1;
      out.s += printChar(pv.u8(cp + k));
    }
    nameChars += l;
    cp += l;
    if (nameChars <= MAXCDNAME) out.s += '.';
    nameChars++;
    if (!pv.has(cp, 1)) return -1;
    i = pv.u8(cp);
    l = labelLength(pv, cp, out);
    if (l < 0) return -1;
    cp++;
    if (!compress) rp += l + 1;
  }
  if (nameChars > MAXCDNAME) out.s += '<DOMAIN NAME TOO LONG>';
  return rp;
}

/** labellen: a label's length, 0 for a pointer, -1 (after "<ELT n>" for unknown types) where tcpdump stops. */
function labelLength(pv: ByteView, cp: number, out: TextOut): number {
  if (!pv.has(cp, 1)) return -1;
  const i = pv.u8(cp);
  if ((i & 0xc0) === 0x40) {
    if ((i & 0x3f) !== 0x01) { out.s += '<ELT ' + (i & 0x3f) + '>'; return -1; }
    if (!pv.has(cp + 1, 1)) return -1;
    const bits = pv.u8(cp + 1) || 256;
    return ((bits + 7) >> 3) + 1;
  }
  return (i & 0xc0) === 0xc0 ? 0 : i;
}

/** mld6_print: nothing at all unless the whole 24-byte message was captured. */
function printMld(pv: ByteView, out: TextOut): void {
  if (!pv.has(0, 24)) return;
  out.s += 'max resp delay: ' + pv.u16(ICMP6.MLD_DELAY) + ' addr: ' + addr(pv, ICMP6.MLD_ADDR, out);
}

function printMldv2Report(pv: ByteView, len: number, out: TextOut): void {
  if (len < 8) { out.s += ' [invalid len ' + len + ']'; return; }
  const ngroups = pv.u16(ICMP6.MLD2_REC_COUNT);
  out.put(', ');
  out.num(ngroups);
  out.put(' group record(s)');
  if (!out.opts.v) return;
  let group = 8;
  for (let k = 0; k < ngroups; k++) {
    if (len < group + 20) { out.s += ' [invalid number of groups]'; return; }
    out.s += ' [gaddr ' + addr(pv, group + 4, out);
    const rt = pv.u8(group);
    out.s += ' ' + (rt >= 1 && rt <= 6 ? MLDV2_RECORD_NAMES[rt] : ' [v2-report-#' + rt + ']');
    const nsrcs = pv.u16(group + 2);
    if (len < group + 20 + nsrcs * 16) { out.s += ' [invalid number of sources ' + nsrcs + ']'; return; }
    if (out.opts.v === 1) out.s += ', ' + nsrcs + ' source(s)';
    else {
      out.s += ' {';
      for (let j = 0; j < nsrcs; j++) out.s += ' ' + addr(pv, group + 20 + j * 16, out);
      out.s += ' }';
    }
    group += 20 + nsrcs * 16;
    out.s += ']';
  }
}

/** MLDv2's maximum response code as a delay in milliseconds (RFC 3810 5.1.3). */
function mld2Delay(mrc: number): number {
  return mrc < 32768 ? mrc : ((mrc & 0x0fff) | 0x1000) * 2 ** (((mrc & 0x7000) >> 12) + 3);
}

/** MLDv2's querier's query interval code as seconds (RFC 3810 5.1.9). */
function mld2Qqi(q: number): number {
  return q < 128 ? q : ((q & 0x0f) | 0x10) << (((q & 0x70) >> 4) + 3);
}

function printMldv2Query(pv: ByteView, len: number, out: TextOut): void {
  if (len < 28) { out.s += ' [invalid len ' + len + ']'; return; }
  const mrt = mld2Delay(pv.u16(ICMP6.MLD_DELAY));
  const v = out.opts.v;
  if (v) out.s += ' [max resp delay=' + mrt + ']';
  out.s += ' [gaddr ' + addr(pv, ICMP6.MLD_ADDR, out);
  if (v) {
    const f = pv.u8(ICMP6.MLD2_FLAGS);
    if (f & 0x08) out.s += ' sflag';
    if (f & 0x07) out.s += ' robustness=' + (f & 0x07);
    out.s += ' qqi=' + mld2Qqi(pv.u8(ICMP6.MLD2_QQIC));
  }
  const nsrcs = pv.u16(ICMP6.MLD2_NSRCS);
  if (nsrcs > 0) {
    if (len < 28 + nsrcs * 16) out.s += ' [invalid number of sources]';
    else if (v > 1) {
      out.s += ' {';
      for (let k = 0; k < nsrcs; k++) out.s += ' ' + addr(pv, 28 + k * 16, out);
      out.s += ' }';
    } else out.s += ', ' + nsrcs + ' source(s)';
  }
  out.s += ']';
}

/** icmp6_nodeinfo_print (RFC 4620 node information query and reply). */
function printNodeInfo(pv: ByteView, icmp6len: number, out: TextOut): void {
  const siz = pv.length;
  const v = out.opts.v;
  const NI_LEN = 16;
  if (pv.u8(0) === ICMP6_TYPE.NI_QUERY) {
    if (siz === ICMP6.HEADER_LEN + 4) { out.s += ' who-are-you request'; return; }
    out.s += ' node information query';
    if (!pv.has(0, NI_LEN)) { out.trunc('icmp6'); return; }
    out.s += ' (';
    const qtype = pv.u16(4);
    switch (qtype) {
      case 0: out.s += 'noop'; break;
      case 1: {
        out.s += 'supported qtypes';
        const f = pv.u16(6);
        if (f) out.s += ' [' + (f & 1 ? 'C' : '') + ']';
        break;
      }
      case 2: out.s += 'DNS name'; break;
      case 3: {
        out.s += 'node addresses';
        const f = pv.u16(6);
        if (f) out.s += ' [' + nodeAddrFlags(f, false) + ']';
        break;
      }
      default: out.s += 'unknown';
    }
    if (qtype === 0 || qtype === 1) {
      if (siz !== NI_LEN && v) out.s += ', invalid len';
      out.s += ')';
      return;
    }
    if (siz === NI_LEN) { out.s += ', 03 draft)'; return; }
    const cp = NI_LEN;
    switch (pv.u8(1)) {
      case 0:
        if (!pv.has(0, NI_LEN + 16)) break;
        if (siz !== NI_LEN + 16) { if (v) out.s += ', invalid subject len'; break; }
        out.s += ', subject=' + addr(pv, cp, out);
        break;
      case 1:
        out.s += ', subject=DNS name';
        printNodeName(pv, cp, siz, out);
        break;
      case 2:
        if (!pv.has(0, NI_LEN + 4)) break;
        if (siz !== NI_LEN + 4) { if (v) out.s += ', invalid subject len'; break; }
        out.s += ', subject=' + ipv4Text(out, pv.buf, pv.start + cp);
        break;
      default:
        out.s += ', unknown subject';
    }
    out.s += ')';
    return;
  }
  // Node information reply.
  if (icmp6len > siz || !pv.has(0, NI_LEN)) { out.trunc('icmp6'); return; }
  let needComma = false;
  out.s += ' node information reply (';
  const code = pv.u8(1);
  if (code === 0) { if (v) { out.s += 'success'; needComma = true; } }
  else if (code === 1 || code === 2) {
    out.s += code === 1 ? 'refused' : 'unknown';
    needComma = true;
    if (siz !== NI_LEN && v) out.s += ', invalid length';
  }
  if (code !== 0) { out.s += ')'; return; }
  const sep = needComma ? ', ' : '';
  const qtype = pv.u16(4);
  switch (qtype) {
    case 0:
      out.s += sep + 'noop';
      if (siz !== NI_LEN && v) out.s += ', invalid length';
      break;
    case 1: {
      out.s += sep + 'supported qtypes';
      const f = pv.u16(6);
      if (f) out.s += ' [' + (f & 1 ? 'C' : '') + ']';
      break;
    }
    case 2: {
      out.s += sep + 'DNS name';
      printNodeName(pv, NI_LEN + 4, siz, out);
      if ((pv.u16(6) & 1) !== 0) out.s += ' [TTL=' + pv.u32(NI_LEN) + ']';
      break;
    }
    case 3: {
      out.s += sep + 'node addresses';
      for (let k = NI_LEN; k < siz && k + 20 <= siz; k += 20) out.s += ' ' + addr(pv, k + 4, out) + '(' + pv.u32(k) + ')';
      const f = pv.u16(6);
      if (f) out.s += ' [' + nodeAddrFlags(f, true) + ']';
      break;
    }
    default:
      out.s += sep + 'unknown';
  }
  out.s += ')';
}

function nodeAddrFlags(f: number, withTruncate: boolean): string {
  return (f & 0x40 ? 'a' : '') + (f & 0x20 ? 'G' : '') + (f & 0x10 ? 'S' : '') + (f & 0x08 ? 'L' : '') +
    (f & 0x04 ? 'C' : '') + (f & 0x02 ? 'A' : '') + (withTruncate && f & 0x01 ? 'T' : '');
}

/**
 * A node-information name at cp, up to ep, as icmp6_nodeinfo_print shows it: a single string after
 * its length byte (draft 03), or DNS labels.
 */
function printNodeName(pv: ByteView, cp: number, ep: number, out: TextOut): void {
  if (pv.u8(cp) === ep - cp - 1) {
    if (out.opts.v) out.s += ', 03 draft';
    out.s += ', "';
    for (let k = cp + 1; k < ep; k++) out.s += printChar(pv.u8(k));
    out.s += '"';
  } else printDnsName(pv, cp, ep, out);
}

/** dnsname_print: a node-information DNS name, labels without decompression, quoted. */
function printDnsName(pv: ByteView, cp: number, ep: number, out: TextOut): void {
  out.s += ', "';
  while (cp < ep) {
    const i = pv.u8(cp++);
    if (i) {
      if (i > ep - cp) { out.s += '???'; break; }
      for (let k = i; k > 0 && cp < ep; k--) out.s += printChar(pv.u8(cp++));
      if (cp + 1 < ep && pv.u8(cp)) out.s += '.';
    } else {
      if (cp === ep) out.s += '.';
      else if (!(cp + 1 === ep && pv.u8(cp) === 0)) out.s += '???';
      break;
    }
  }
  out.s += '"';
}

/** icmp6_rrenum_print (router renumbering). */
function printRenumbering(pv: ByteView, out: TextOut): void {
  const v = out.opts.v;
  if (!pv.has(12, 4)) { out.trunc('icmp6'); return; }
    const code = pv.u8(1);
  out.s += code === 0 ? ', command' : code === 1 ? ', result' : code === 255 ? ', sequence number reset' : ', code-#' + code;
  out.s += ', seq=' + pv.u32(4);
  if (v) {
    const f = pv.u8(9);
    out.s += '[';
    if (f) out.s += (f & 0x80 ? 'T' : '') + (f & 0x40 ? 'R' : '') + (f & 0x20 ? 'A' : '') + (f & 0x10 ? 'S' : '') + (f & 0x08 ? 'P' : '') + ',';
    out.s += 'seg=' + pv.u8(8) + ',maxdelay=' + pv.u16(10);
    const rsv = pv.u32(12);
    if (rsv) out.s += 'rsvd=0x' + rsv.toString(16);
    out.s += ']';
  }
  if (code !== 0) return;
  const match = 16;
  if (!pv.has(match + 8, 16)) { out.trunc('icmp6'); return; }
  out.s += v > 1 ? '\n\t' : ' ';
  out.s += 'match(';
  const mc = pv.u8(match);
  out.s += mc === 1 ? 'add' : mc === 2 ? 'change' : mc === 3 ? 'setglobal' : '#' + mc;
  if (v) out.s += ',ord=' + pv.u8(match + 2) + ',min=' + pv.u8(match + 4) + ',max=' + pv.u8(match + 5);
  out.s += ',' + ipv6At(pv.buf, pv.start + match + 8) + '/' + pv.u8(match + 3) + ')';
  let n = pv.u8(match + 1) - 3;
  if (n % 4) { out.trunc('icmp6'); return; }
  n /= 4;
  for (let use = match + 24; n-- > 0; use += 32) {
    if (!pv.has(use + 16, 16)) { out.trunc('icmp6'); return; }
    out.s += v > 1 ? '\n\t' : ' ';
    out.s += 'use(';
    // tcpdump tests the flags' first byte against network-order masks: only V and P of byte 12 count.
    const uf = pv.u8(use + 12);
    if (uf) out.s += (uf & 0x80 ? 'V' : '') + (uf & 0x40 ? 'P' : '') + ',';
    if (v) {
      out.s += 'mask=0x' + pv.u8(use + 2).toString(16) + ',raflags=0x' + pv.u8(use + 3).toString(16) + ',';
      const vl = pv.u32(use + 4), pl = pv.u32(use + 8);
      out.s += vl === 0xffffffff ? 'vltime=infty,' : 'vltime=' + vl + ',';
      out.s += pl === 0xffffffff ? 'pltime=infty,' : 'pltime=' + pl + ',';
    }
    out.s += ipv6At(pv.buf, pv.start + use + 16) + '/' + pv.u8(use) + '/' + pv.u8(use + 1) + ')';
  }
}

const RPL_MOP = ['nonstoring', 'storing', 'nonstoring-multicast', 'storing-multicast'];
const RPL_SUBOPT = ['pad1', 'padN', 'metrics', 'routinginfo', 'config', 'rpltarget', 'transitinfo', '', 'destprefix', 'rpltargetdesc'];
/** The D flags (in byte 1) of a DAO and a DAO-ACK: a DODAG ID follows the 4 fixed bytes. */
const RPL_DAO_D = 0x40, RPL_DAOACK_D = 0x80;

/** rpl_print: RPL control messages; `length` counts from the message's byte 4. */
function printRpl(pv: ByteView, code: number, length: number, out: TextOut): void {
  if (code & 0x80) { out.s += ', (SEC) [worktodo]'; return; }
  out.s += ', (CLR)';
  const v = out.opts.v;
  const bp = 4;
  switch (code & 0x7f) {
    case 0:
      out.s += 'DODAG Information Solicitation';
      break;
    case 1:
      out.s += 'DODAG Information Object';
      if (v) {
        if (length < 24) { out.s += ' [length ' + length + ' < 24] (invalid)'; break; }
        const mopprf = pv.u8(bp + 4);
        out.s += ' [dagid:' + addr(pv, bp + 8, out) + ',seq:' + pv.u8(bp + 5) + ',instance:' + pv.u8(bp) + ',rank:' + pv.u16(bp + 2) + ',' +
          (mopprf & 0x80 ? 'grounded,' : '') + 'mop:' + (RPL_MOP[(mopprf >> 3) & 7] ?? 'mop' + ((mopprf >> 3) & 7)) + ',prf:' + (mopprf & 7) + ']';
        if (v > 1) printRplOptions(pv, bp + 24, length - 24, out);
      }
      break;
    case 2:
      out.s += 'Destination Advertisement Object';
      if (v) {
        const dagid = daoDagid(pv, bp, 20, length, RPL_DAO_D, ' [|length too short]', out);
        if (dagid === null) break;
        const flags = pv.u8(bp + 1);
        out.s += ' [dagid:' + dagid + ',seq:' + pv.u8(bp + 3) + ',instance:' + pv.u8(bp) + (flags & 0x80 ? ',acK' : '') +
          (flags & RPL_DAO_D ? ',Dagid' : '') + ',' + hexPad(flags, 2) + ']';
        const at = flags & RPL_DAO_D ? bp + 20 : bp + 4;
        if (v > 1) printRplOptions(pv, at, length - (at - bp), out);
      }
      break;
    case 3:
      out.s += 'Destination Advertisement Object Ack';
      if (v) {
        const dagid = daoDagid(pv, bp, 4, length, RPL_DAOACK_D, ' [|dao-length too short]', out);
        if (dagid === null) break;
        out.s += ' [dagid:' + dagid + ',seq:' + pv.u8(bp + 2) + ',instance:' + pv.u8(bp) + ',status:' + pv.u8(bp + 3) + ']';
        const at = pv.u8(bp + 1) & RPL_DAOACK_D ? bp + 20 : bp + 4;
        if (v > 1) printRplOptions(pv, at, length - (at - bp), out);
      }
      break;
    default:
      out.s += 'RPL message, unknown code ' + code;
  }
}

/**
 * The DODAG ID of a DAO or DAO-ACK at bp (rpl_dao_print, rpl_daoack_print): `size` bytes of it must
 * be captured, `length` hold the 4 fixed bytes, and then the ID when the `dFlag` bit of byte 1 is
 * set; "<elided>" without it. null when it is cut short: "[|icmp6]" or `tooShort` printed.
 */
function daoDagid(pv: ByteView, bp: number, size: number, length: number, dFlag: number, tooShort: string, out: TextOut): string | null {
  if (!pv.has(bp, size)) { out.trunc('icmp6'); return null; }
  if (length < 4) { out.s += tooShort; return null; }
  if (!(pv.u8(bp + 1) & dFlag)) return '<elided>';
  if (!pv.has(bp + 4, 16)) { out.trunc('icmp6'); return null; }
  if (length < 20) { out.s += tooShort; return null; }
  return ipv6Text(out, pv.buf, pv.start + bp + 4);
}

function printRplOptions(pv: ByteView, at: number, length: number, out: TextOut): void {
  while (length > 0) {
    const t = pv.u8(at);
    let optlen: number;
    if (t === 0) { optlen = 1; out.s += ' opt:pad1'; }
    else {
      if (length < 2) { out.trunc('icmp6'); return; }
      optlen = pv.u8(at + 1) + 2;
      out.s += ' opt:' + (RPL_SUBOPT[t] || 'subopt:' + t) + ' len:' + optlen + ' ';
      if (!pv.has(at, optlen) || length < optlen) { out.trunc('icmp6'); return; }
      if (out.opts.v > 2) out.s += hexOnly(pv.buf, pv.start + at + 2, pv.start + at + optlen, ' ', 0);
    }
    at += optlen;
    length -= optlen;
  }
}

bind(Table.IpProto, IPPROTO.ICMPV6, icmpv6);
