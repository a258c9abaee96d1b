/**
 * IPv6 (RFC 8200) and the headers that chain from it: hop-by-hop and destination options,
 * routing (types 0, 2 and 4/SRH) and fragment. One layer per header, each bound by its protocol
 * number in Table.IpProto, so a chain such as IPv6 > HBH > routing > fragment > UDP decodes as
 * five layers. AH (ah.ts), ESP (esp.ts) and the mobility header (mobility.ts) are chain headers
 * too: they build on Ipv6ChainLayer and the chain helpers exported here.
 * Extension-header layers are not NetworkLayers: transport printers find the IP layer below them
 * (udp.ts networkIndex) and print bare ports when it is not directly below, as tcpdump does; the
 * fragment layer's `fragment` flag is tcpdump's `fragmented` (no transport checksum).
 * tcpdump: print-ip6.c, print-ip6opts.c, print-rt6.c, print-frag6.c, print-ip-demux.c;
 * tshark fields: ipv6.*.
 */
import { bind, keyOf, Layer, Table, type Dissector, type EncodeContext, type FieldValue, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import { sumWords } from '../src/core/checksum.js';
import { ascii, type TextOut } from '../src/output/text.js';
import { hex2, ipv6At } from '../src/output/format.js';
import { ipv6Text, putIpv6 } from '../src/output/host-names.js';
import { ipProtoName, protoKeyword, type NetworkLayer } from './ipproto.js';
import { abandon } from './ipv4.js';

/** IP protocol numbers this file deals in. */
export const IPPROTO = {
  HOPOPTS: 0, ICMP: 1, IGMP: 2, IPV4: 4, TCP: 6, UDP: 17, DCCP: 33, IPV6: 41, ROUTING: 43, FRAGMENT: 44,
  ESP: 50, AH: 51, ICMPV6: 58, NONE: 59, DSTOPTS: 60, MOBILITY_OLD: 62, ND: 77, SCTP: 132, MOBILITY: 135,
  ETHERNET: 143,
} as const;

/** IPv6 header field offsets, shared by decode and encode. */
export const IP6 = { VTF: 0, PLEN: 4, NXT: 6, HLIM: 7, SRC: 8, DST: 24, HEADER_LEN: 40 } as const;
/** The start of the text line, as bytes (TextOut.putAscii). */
const IP6_TEXT = ascii('IP6 ');
/** Hop-by-hop and destination options headers. */
export const IP6_OPTS = { NXT: 0, LEN: 1, OPTIONS: 2 } as const;
/** Routing header; types 0 and 2 carry addresses from byte 8, type 4 (SRH) has last-entry/flags/tag first. */
export const IP6_RT = { NXT: 0, LEN: 1, TYPE: 2, SEGLEFT: 3, RESERVED: 4, LAST_ENTRY: 4, FLAGS: 5, TAG: 6, ADDRS: 8 } as const;
/** Fragment header. */
export const IP6_FRAG = { NXT: 0, RESERVED: 1, OFFLG: 2, IDENT: 4, HEADER_LEN: 8 } as const;
export const IP6F_OFF_MASK = 0xfff8;
export const IP6F_MORE_FRAG = 0x0001;

/** How many ICMPv6 error quotes deep the decode in progress is (decoding is synchronous; icmpv6.ts counts). */
export const quoting = { depth: 0 };

/** Hop-by-hop / destination option types tcpdump knows. */
const IP6OPT = { PAD1: 0, PADN: 1, JUMBO: 0xc2, ROUTER_ALERT: 0x05, HOME_ADDRESS: 0xc9 } as const;

export class Ipv6Layer extends Layer implements NetworkLayer {
  readonly ipVersion = 6;
  version = 6;
  /** Traffic class (8 bits) and flow label (20 bits). */
  tclass = 0;
  flow = 0;
  /** Payload length field; 0 with a jumbo payload. */
  plen = 0;
  nxt = 0;
  hlim = 64;
  /** End of the bytes this layer's view could read (captured and within the enclosing layer). */
  capEnd = 0;
  /** The valid Jumbo Payload length a hop-by-hop header gave (payload length 0), or -1. */
  jumbo = -1;
  /** Absolute offset of the final destination a routing header names (pseudo-header checksums), or -1. */
  finalDstOff = -1;
  /** frame.protocols' part when it is not "ipv6": tshark rejects a header whose version is not 6 (its bytes are data). */
  protocols: string | undefined = undefined;

  /** Addresses are read from the packet when printed. */
  get src(): string { return ipv6At(this.buf, this.off + IP6.SRC); }
  get dst(): string { return ipv6At(this.buf, this.off + IP6.DST); }
  set src(a: string) { this.own().set(parseIpv6(a), this.off + IP6.SRC); }
  set dst(a: string) { this.own().set(parseIpv6(a), this.off + IP6.DST); }
  get srcAddr(): string { return this.src; }
  get dstAddr(): string { return this.dst; }
  putAddr(out: TextOut, dst: boolean): void {
    if (out.opts.n) out.ipv6(this.buf, this.off + (dst ? IP6.DST : IP6.SRC));
    else putIpv6(out, this.buf, this.off + (dst ? IP6.DST : IP6.SRC));
  }

  /**
   * The pseudo-header's destination when a routing header names one (RFC 8200 8.1). Decoding
   * derives it; a layer built to encode with a routing header names it here.
   */
  set finalDst(a: string) {
    const b = this.own();
    if (b.length < IP6.HEADER_LEN + 16) {
      const grown = new Uint8Array(IP6.HEADER_LEN + 16);
      grown.set(b.subarray(this.off, this.off + IP6.HEADER_LEN));
      this.buf = grown;
      this.off = 0;
    }
    this.buf.set(parseIpv6(a), IP6.HEADER_LEN);
    this.finalDstOff = IP6.HEADER_LEN;
  }

  pseudoHeaderSum(proto: number, length: number): number {
    const s = this.off + IP6.SRC;
    const d = this.finalDstOff >= 0 ? this.finalDstOff : this.off + IP6.DST;
    return sumWords(this.buf, d, d + 16, sumWords(this.buf, s, s + 16)) + Math.floor(length / 0x10000) + (length & 0xffff) + proto;
  }

  /** A buffer of its own for layers built to encode (makeLayer): addresses live there. */
  private own(): Uint8Array {
    if (!this.buf) { this.buf = new Uint8Array(IP6.HEADER_LEN); this.off = 0; }
    return this.buf;
  }
}

/** What every header after the IPv6 header knows: the IPv6 layer it belongs to (null under IPv4). */
export class Ipv6ChainLayer extends Layer {
  ip: Ipv6Layer | null = null;
  capEnd = 0;
  /** The header is not where tcpdump's IPv6 header loop would read it (after AH, under IPv4): not decoded. */
  outOfChain = false;
  /** Bytes a jumbo payload length says are missing, printed before the payload ("truncated-ip6 - N bytes missing!"), or 0. */
  jumboMissing = 0;
}

/** Hop-by-hop (protocol 0) or destination (60) options. */
const PAD1_OPTIONS = new Uint8Array(6);

export class Ipv6OptionsLayer extends Ipv6ChainLayer {
  nxt = 0;
  /** Length field: 8-octet units beyond the first 8. */
  len = 0;
  /** Option bytes (type-length-value), raw; a header built to send starts with six Pad1 options (one array shared by all). */
  options: Uint8Array = PAD1_OPTIONS;
}

export class Ipv6RoutingLayer extends Ipv6ChainLayer {
  nxt = 0;
  len = 0;
  type = 0;
  segLeft = 0;
  /** Type-specific bytes 4-7: reserved (types 0/2), last entry/flags/tag (type 4). */
  data = 0;
  /** The addresses (types 0, 2) or segments (4), as many as the length says and were captured. */
  set addresses(list: string[]) {
    this.buf = new Uint8Array(IP6_RT.ADDRS + 16 * list.length);
    this.off = 0;
    this.capEnd = this.buf.length;
    list.forEach((a, k) => this.buf.set(parseIpv6(a), IP6_RT.ADDRS + 16 * k));
    this.len = 2 * list.length;
  }
  get addresses(): string[] {
    const a: string[] = [];
    const n = this.len >> 1;
    for (let k = 0, o = this.off + IP6_RT.ADDRS; k < n && o + 16 <= this.capEnd; k++, o += 16) a.push(ipv6At(this.buf, o));
    return a;
  }
}

/** Fragment header. The fields src/ip reassembly needs are named for it. */
export class Ipv6FragmentLayer extends Ipv6ChainLayer {
  /** UDP/TCP printers skip checksums below a fragment header (tcpdump's `fragmented`). */
  readonly fragment = true;
  /** Next header of the reassembled datagram's fragmentable part. */
  nxt = 0;
  reserved = 0;
  /** Offset word: offset in 8-octet units << 3, two reserved bits, M flag. */
  offlg = 0;
  identification = 0;
  /** Offset of this fragment's data in the original datagram, in bytes. */
  get fragOffset(): number { return this.offlg & IP6F_OFF_MASK; }
  get moreFragments(): boolean { return (this.offlg & IP6F_MORE_FRAG) !== 0; }
  /** Absolute offset where this fragment's data (the fragmentable part) starts. */
  get fragmentableStart(): number { return this.off + IP6_FRAG.HEADER_LEN; }
  /** Absolute offset of the next-header byte that names this fragment header (to rewrite when reassembling). */
  nextHeaderFieldOff = -1;
  /** Bytes of fragment data this header's datagram claims (what follows it up to the payload length). */
  get fragmentLength(): number { return this.payloadLen; }
}

function chainLayerOf(p: Packet): { below: Layer | null; ip: Ipv6Layer | null } {
  const below = p.layers.length >= 2 ? p.layers[p.layers.length - 2] : null;
  if (below instanceof Ipv6Layer) return { below, ip: below };
  if (below instanceof Ipv6ChainLayer) return { below, ip: below.ip };
  return { below, ip: null };
}

/** True for the headers tcpdump's IPv6 header loop walks (the IPv6 header itself and 0/43/44/60). */
function inHeaderLoop(l: Layer | null): boolean {
  return l instanceof Ipv6Layer || l instanceof Ipv6OptionsLayer || l instanceof Ipv6RoutingLayer || l instanceof Ipv6FragmentLayer;
}

/** Protocols tcpdump's IPv6 header loop treats as extension headers rather than payload. */
function isExtension(nh: number): boolean {
  return nh === IPPROTO.HOPOPTS || nh === IPPROTO.ROUTING || nh === IPPROTO.FRAGMENT || nh === IPPROTO.DSTOPTS ||
    nh === IPPROTO.MOBILITY || nh === IPPROTO.MOBILITY_OLD;
}

/**
 * Sets the length an extension header hands on. Headers before the payload leave the IPv6
 * payload length as it is; the last one applies a jumbo length (payload length 0), as
 * tcpdump does when it reaches the payload.
 */
function handOn(l: Ipv6OptionsLayer | Ipv6RoutingLayer | Ipv6FragmentLayer, nxt: number): void {
  l.payloadLen = l.length - l.hdrLen;
  const ip = l.ip;
  if (ip !== null && ip.plen === 0 && !isExtension(nxt)) {
    if (ip.jumbo < 0) { l.invalid = 'no jumbo payload'; l.payloadLen = 0; return; }
    const total = l.off + l.hdrLen - ip.off;
    const len = ip.jumbo + IP6.HEADER_LEN;
    if (len < total) { l.invalid = 'jumbo shorter than headers'; return; }
    if (ip.length < len) l.jumboMissing = len - ip.length;
    l.payloadLen = len - total;
  }
  l.nextTable = Table.IpProto;
  l.nextKey = nxt;
}

export const ipv6: Dissector<Ipv6Layer> = {
  name: 'ipv6',
  protocols: 'ipv6',
  create: () => new Ipv6Layer(),

  decode(l, v, _p) {
    l.capEnd = v.end;
    // Field by field, so a header cut short keeps what was captured (tshark shows it).
    l.version = v.u8(IP6.VTF) >> 4;
    const w = v.u32(IP6.VTF);
    l.tclass = (w >>> 20) & 0xff;
    l.flow = w & 0xfffff;
    l.plen = v.u16(IP6.PLEN);
    l.nxt = v.u8(IP6.NXT);
    l.hlim = v.u8(IP6.HLIM);
    v.check(0, IP6.HEADER_LEN);
    l.hdrLen = IP6.HEADER_LEN;
    if (l.length < IP6.HEADER_LEN) { l.invalid = 'length'; return; }
    if (l.version !== 6) {
      l.invalid = 'version';
      l.protocols = '';
      l.hdrLen = 0;
      l.payloadLen = l.length;
      return;
    }
    if (l.plen !== 0) l.payloadLen = l.plen;
    else {
      // Payload length 0: a jumbogram if a hop-by-hop option says so; until then, the whole frame.
      l.payloadLen = isExtension(l.nxt) ? l.length : 0;
    }
    l.nextTable = Table.IpProto;
    l.nextKey = l.nxt;
  },

  encode(l, payload, ctx: EncodeContext) {
    const out = new Uint8Array(IP6.HEADER_LEN + payload.length);
    const nxt = ctx.opts.fixLengths && ctx.inner.length ? keyOf(ctx.inner[0].dissector, Table.IpProto) ?? l.nxt : l.nxt;
    const plen = ctx.opts.fixLengths ? (payload.length > 0xffff ? 0 : payload.length) : l.plen;
    const w = ((6 << 28) | (l.tclass << 20) | l.flow) >>> 0;
    out[0] = w >>> 24; out[1] = (w >>> 16) & 0xff; out[2] = (w >>> 8) & 0xff; out[3] = w & 0xff;
    out[IP6.PLEN] = plen >> 8; out[IP6.PLEN + 1] = plen & 0xff;
    out[IP6.NXT] = nxt;
    out[IP6.HLIM] = l.hlim;
    if (l.buf) out.set(l.buf.subarray(l.off + IP6.SRC, l.off + IP6.DST + 16), IP6.SRC);
    out.set(payload, IP6.HEADER_LEN);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as Ipv6Layer;
    const o = out.opts;
    if (l.truncated) { out.trunc('ip6'); return; }
    if (l.invalid === 'length') { out.s += 'truncated-ip6 ' + l.length; return; }
    if (!o.e) out.putAscii(IP6_TEXT);
    if (l.invalid === 'version') { out.s += 'version error: ' + l.version + ' != 6'; return; }
    if (l.plen !== 0 && l.plen + IP6.HEADER_LEN > l.length) out.s += 'truncated-ip6 - ' + (l.plen + IP6.HEADER_LEN - l.length) + ' bytes missing!';
    if (o.v) {
      out.s += '(';
      if (l.tclass) out.s += 'class 0x' + hex2(l.tclass) + ', ';
      if (l.flow) out.s += 'flowlabel 0x' + hexPad(l.flow, 5) + ', ';
      out.s += 'hlim ' + l.hlim + ', next-header ' + ipProtoName(l.nxt) + ' (' + l.nxt + ') payload length: ' + l.plen + ') ';
    }
    const nh = l.nxt;
    if (nh !== IPPROTO.TCP && nh !== IPPROTO.UDP && nh !== IPPROTO.DCCP && nh !== IPPROTO.SCTP) {
      l.putAddr(out, false);
      out.put(' > ');
      l.putAddr(out, true);
      out.put(': ');
    }
    printNext(p, i, 6, nh, l.payloadLen, out);
  },

  fields: {
    'ipv6.version': (l) => (l.off < l.capEnd ? l.version : undefined),
    'ipv6.tclass': (l) => (has(l, 4) ? '0x' + hexPad(l.tclass, 8) : undefined),
    'ipv6.tclass.dscp': (l) => (has(l, 4) ? l.tclass >> 2 : undefined),
    'ipv6.tclass.ecn': (l) => (has(l, 4) ? l.tclass & 3 : undefined),
    'ipv6.flow': (l) => (has(l, 4) ? '0x' + hexPad(l.flow, 6) : undefined),
    'ipv6.plen': (l) => (has(l, IP6.NXT) ? l.plen : undefined),
    'ipv6.nxt': (l) => (has(l, IP6.HLIM) ? l.nxt : undefined),
    'ipv6.hlim': (l) => (has(l, IP6.SRC) ? l.hlim : undefined),
    'ipv6.src': (l) => (has(l, IP6.DST) ? l.src : undefined),
    'ipv6.dst': (l) => (has(l, IP6.HEADER_LEN) ? l.dst : undefined),
    'ipv6.addr': (l) => addrs(l),
    'ipv6.src_host': (l) => (has(l, IP6.DST) ? l.src : undefined),
    'ipv6.dst_host': (l) => (has(l, IP6.HEADER_LEN) ? l.dst : undefined),
    'ipv6.host': (l) => addrs(l),
  },

  json(l) {
    if (!has(l, IP6.HEADER_LEN)) return { version: l.version };
    const j: Record<string, unknown> = {
      version: l.version, tclass: l.tclass, flow: l.flow, plen: l.plen, nxt: l.nxt, hlim: l.hlim, src: l.src, dst: l.dst,
    };
    if (l.jumbo >= 0) j.jumbo = l.jumbo;
    return j;
  },
};

/** The first n header bytes were captured, and tshark reads past the version (6). */
function has(l: Ipv6Layer, n: number): boolean {
  return l.version === 6 && l.off + n <= l.capEnd;
}

function addrs(l: Ipv6Layer): string[] | undefined {
  if (!has(l, IP6.DST)) return undefined;
  return has(l, IP6.HEADER_LEN) ? [l.src, l.dst] : [l.src];
}

/**
 * Continues after header i (IP version ver) whose next header is nh and whose payload is
 * `length` bytes: the next layer's printer, or what tcpdump's ip_demux_print says when there is none.
 */
export function printNext(p: Packet, i: number, ver: number, nh: number, length: number, out: TextOut): void {
  if (ver === 6 ? nh === IPPROTO.ICMP || nh === IPPROTO.IGMP : nh === IPPROTO.ICMPV6 || nh === IPPROTO.ETHERNET) {
    out.s += '[' + ipProtoName(nh) + ' requires IPv' + (ver === 6 ? 4 : 6) + '] (invalid)';
    return;
  }
  if (i + 1 < p.layers.length) { out.printLayer(p, i + 1); return; }
  printUnknownPayload(nh, length, out);
}

/** ip_demux_print's words for a protocol with no printer. */
function printUnknownPayload(nh: number, length: number, out: TextOut): void {
  if (nh === IPPROTO.NONE) { out.s += 'no next header'; return; }
  if (nh === IPPROTO.ND) { out.s += ' nd ' + length; return; }
  const name = out.opts.n ? null : protoKeyword(nh);
  out.s += (name === null ? ' ip-proto-' + nh : ' ' + name) + ' ' + length;
}

/** Decode for a header found outside the IPv6 header chain (e.g. protocol 0 under IPv4): nothing to read. */
export function outOfChain(l: Ipv6ChainLayer): boolean {
  if (l.ip !== null && !l.outOfChain) return false;
  l.outOfChain = true;
  l.payloadLen = l.length;
  return true;
}

/** Starts decoding a chain header: its captured end, its IPv6 layer, and whether it is out of tcpdump's header loop. */
export function startChain(l: Ipv6ChainLayer, v: ByteView, p: Packet): void {
  l.capEnd = v.end;
  const c = chainLayerOf(p);
  l.ip = c.ip;
  l.outOfChain = !inHeaderLoop(c.below);
}

/** How a header outside the IPv6 header chain prints: as ip_demux_print would print its protocol number. */
export function printOutOfChain(p: Packet, i: number, out: TextOut): void {
  printUnknownPayload(p.layers[i - 1].nextKey, p.layers[i].length, out);
}

function decodeOptions(l: Ipv6OptionsLayer, v: ByteView, p: Packet, hbh: boolean): void {
  startChain(l, v, p);
  if (outOfChain(l)) return;
  // tcpdump refuses a hop-by-hop header anywhere but first (before reading it); tshark reads on.
  const misplaced = hbh && p.layers[p.layers.length - 2] !== l.ip;
  if (misplaced) l.invalid = hasHbh(p) ? 'hbh repeated' : 'hbh not first';
  l.nxt = v.u8(IP6_OPTS.NXT);
  l.len = v.u8(IP6_OPTS.LEN);
  const n = (l.len + 1) << 3;
  l.options = v.bytes(IP6_OPTS.OPTIONS, n - IP6_OPTS.OPTIONS);
  l.hdrLen = n;
  const ip = l.ip!;
  if (hbh && !misplaced) {
    const j = scanOptions(l.options, true, ip.plen);
    if (j.end === OptEnd.Bad) l.invalid = 'options';
    if (j.jumbo >= 0) ip.jumbo = j.jumbo;
    if (ip.plen === 0 && ip.jumbo < 0) { l.invalid = 'no jumbo payload'; return; }
    if (l.invalid) return;
  }
  handOn(l, l.nxt);
}

function hasHbh(p: Packet): boolean {
  for (let k = p.layers.length - 2; k >= 0 && p.layers[k] instanceof Ipv6ChainLayer; k--) {
    if (p.layers[k].dissector === hopByHop) return true;
  }
  return false;
}

const enum OptEnd { Ok, Bad }

/**
 * Walks options as tcpdump's ip6_opt_process does without printing: whether they parse, and the
 * valid jumbo length (hop-by-hop, payload length 0, at least 65536) if one is there.
 */
function scanOptions(opts: Uint8Array, hbh: boolean, plen: number): { end: OptEnd; jumbo: number } {
  let jumbo = -1;
  let seenJumbo = false;
  const len = opts.length;
  for (let i = 0; i < len; ) {
    const t = opts[i];
    if (t === IP6OPT.PAD1) { i++; continue; }
    if (i + 1 >= len) return { end: OptEnd.Bad, jumbo };
    const optlen = opts[i + 1] + 2;
    if (i + optlen > len) return { end: OptEnd.Bad, jumbo };
    if (t === IP6OPT.ROUTER_ALERT && (len - i < 4 || optlen !== 4)) return { end: OptEnd.Bad, jumbo };
    if (t === IP6OPT.JUMBO) {
      if (len - i < 6 || optlen !== 6) return { end: OptEnd.Bad, jumbo };
      if (!seenJumbo) {
        seenJumbo = true;
        const j = ((opts[i + 2] << 24) | (opts[i + 3] << 16) | (opts[i + 4] << 8) | opts[i + 5]) >>> 0;
        if (hbh && plen === 0 && j >= 65536) jumbo = j;
      }
    }
    if (t === IP6OPT.HOME_ADDRESS && (len - i < 18 || optlen < 18)) return { end: OptEnd.Bad, jumbo };
    i += optlen;
  }
  return { end: OptEnd.Ok, jumbo };
}

/**
 * tcpdump's ip6_opt_process text: options at -v, error notes always. Returns false where tcpdump
 * gives up on the header ("[|hbhopt]").
 */
function printOptions(opts: Uint8Array, hbh: boolean, plen: number, out: TextOut): boolean {
  const v = out.opts.v > 0;
  const len = opts.length;
  if (len === 0) return true;
  let seenJumbo = false;
  let jumboOk = plen === 0;
  for (let i = 0; i < len; ) {
    const t = opts[i];
    let optlen = 1;
    if (t !== IP6OPT.PAD1) {
      if (i + 1 >= len) return false;
      optlen = opts[i + 1] + 2;
    }
    if (i + optlen > len) return false;
    switch (t) {
      case IP6OPT.PAD1:
        if (v) out.s += '(pad1)';
        break;
      case IP6OPT.PADN:
        if (v) out.s += '(padn)';
        break;
      case IP6OPT.ROUTER_ALERT:
        if (len - i < 4) { out.s += '(rtalert: trunc)'; return false; }
        if (opts[i + 1] !== 2) { out.s += '(rtalert: invalid len ' + opts[i + 1] + ')'; return false; }
        if (v) out.s += '(rtalert: 0x' + hexPad((opts[i + 2] << 8) | opts[i + 3], 4) + ') ';
        break;
      case IP6OPT.JUMBO: {
        if (len - i < 6) { out.s += '(jumbo: trunc)'; return false; }
        if (opts[i + 1] !== 4) { out.s += '(jumbo: invalid len ' + opts[i + 1] + ')'; return false; }
        const j = ((opts[i + 2] << 24) | (opts[i + 3] << 16) | (opts[i + 4] << 8) | opts[i + 5]) >>> 0;
        if (seenJumbo) { if (v) out.s += '(jumbo: ' + j + ' - already seen) '; break; }
        seenJumbo = true;
        if (!hbh) { if (v) out.s += '(jumbo: ' + j + ' - not a hop-by-hop option) '; }
        else if (!jumboOk) { if (v) out.s += '(jumbo: ' + j + ' - payload len != 0) '; }
        else if (j < 65536) { if (v) out.s += '(jumbo: ' + j + ' - < 65536) '; }
        else {
          jumboOk = false; // the payload length is now the jumbo length
          if (v) out.s += '(jumbo: ' + j + ') ';
        }
        break;
      }
      case IP6OPT.HOME_ADDRESS:
        if (len - i < 18) { out.s += '(homeaddr: trunc)'; return false; }
        if (opts[i + 1] < 16) { out.s += '(homeaddr: invalid len ' + opts[i + 1] + ')'; return false; }
        if (v) {
          out.s += '(homeaddr: ' + ipv6Text(out, opts, i + 2);
          if (opts[i + 1] > 16 && !printSubOptions(opts, i + 18, i + optlen, out)) return false;
          out.s += ')';
        }
        break;
      default:
        if (v) out.s += '(opt_type 0x' + hex2(t) + ': len=' + opts[i + 1] + ')';
    }
    i += optlen;
  }
  if (v) out.s += ' ';
  return true;
}

/** ip6_sopt_print: the sub-options of a home address option. */
function printSubOptions(b: Uint8Array, start: number, end: number, out: TextOut): boolean {
  const len = end - start;
  for (let i = 0; i < len; ) {
    const t = b[start + i];
    let optlen = 1;
    if (t !== IP6OPT.PAD1) {
      if (i + 1 >= len) return false;
      optlen = b[start + i + 1] + 2;
    }
    if (i + optlen > len) return false;
    if (t === IP6OPT.PAD1) out.s += ', pad1';
    else if (t === IP6OPT.PADN) out.s += ', padn';
    else out.s += ', sopt_type 0x' + hex2(t) + ': len=' + b[start + i + 1];
    i += optlen;
  }
  return true;
}

/** Prints a hop-by-hop or destination options header and what follows it. */
function printOptionsHeader(p: Packet, i: number, out: TextOut, hbh: boolean): void {
  const l = p.layers[i] as Ipv6OptionsLayer;
  if (l.outOfChain) { printOutOfChain(p, i, out); return; }
  if (l.invalid === 'hbh repeated') { out.s += '[The Hop-by-Hop Options header was already found] (invalid)'; return; }
  if (l.invalid === 'hbh not first') { out.s += "[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)"; return; }
  const ip = l.ip!;
  const noJumbo = hbh && ip.plen === 0 && ip.jumbo < 0;
  if (l.truncated) {
    // The length byte is a GET (abandoning the packet); the header's extent a TCHECK.
    if (l.off + IP6_OPTS.LEN >= l.capEnd) { abandon(out, hbh ? 'hbhopt' : 'dstopt'); return; }
    out.trunc(hbh ? 'hbhopt' : 'dstopt');
    if (noJumbo) out.s += '[No valid Jumbo Payload Hop-by-Hop option found] (invalid)';
    return;
  }
  out.put(hbh ? 'HBH ' : 'DSTOPT ');
  if (hbh || out.opts.v) {
    if (!printOptions(l.options, hbh, ip.plen, out)) {
      out.trunc(hbh ? 'hbhopt' : 'dstopt');
      if (noJumbo) out.s += '[No valid Jumbo Payload Hop-by-Hop option found] (invalid)';
      return;
    }
  }
  if (noJumbo) { out.s += '[No valid Jumbo Payload Hop-by-Hop option found] (invalid)'; return; }
  printAfterExtension(p, i, l, l.nxt, out);
}

/** After an extension header: the payload, unless tcpdump's header loop stops or finds the lengths wrong. */
function printAfterExtension(p: Packet, i: number, l: Ipv6OptionsLayer | Ipv6RoutingLayer | Ipv6FragmentLayer, nxt: number, out: TextOut): void {
  if (l.invalid === 'no jumbo payload' || l.invalid === 'jumbo shorter than headers') { out.trunc('ip6'); return; }
  if (l.jumboMissing) out.s += 'truncated-ip6 - ' + l.jumboMissing + ' bytes missing!';
  printNext(p, i, 6, nxt, l.payloadLen, out);
}

export const hopByHop: Dissector<Ipv6OptionsLayer> = {
  name: 'ipv6.hopopts',
  protocols: 'ipv6.hopopts',
  create: () => new Ipv6OptionsLayer(),
  decode: (l, v, p) => decodeOptions(l, v, p, true),
  encode: (l, payload, ctx) => encodeOptions(l, payload, ctx),
  print: (p, i, out) => printOptionsHeader(p, i, out, true),
  fields: optionFields('hopopts'),
  json: optionsJson,
};

export const destinationOptions: Dissector<Ipv6OptionsLayer> = {
  name: 'ipv6.dstopts',
  protocols: 'ipv6.dstopts',
  create: () => new Ipv6OptionsLayer(),
  decode: (l, v, p) => decodeOptions(l, v, p, false),
  encode: (l, payload, ctx) => encodeOptions(l, payload, ctx),
  print: (p, i, out) => printOptionsHeader(p, i, out, false),
  fields: optionFields('dstopts'),
  json: optionsJson,
};

function encodeOptions(l: Ipv6OptionsLayer, payload: Uint8Array, ctx: EncodeContext): Uint8Array {
  const n = IP6_OPTS.OPTIONS + l.options.length;
  const hl = (n + 7) & ~7;
  const out = new Uint8Array(hl + payload.length);
  out[IP6_OPTS.NXT] = nextKey(l.nxt, ctx);
  out[IP6_OPTS.LEN] = ctx.opts.fixLengths ? (hl >> 3) - 1 : l.len;
  out.set(l.options, IP6_OPTS.OPTIONS);
  // Padding to the 8-octet boundary: one Pad1 or a PadN.
  if (hl - n === 1) out[n] = IP6OPT.PAD1;
  else if (hl > n) { out[n] = IP6OPT.PADN; out[n + 1] = hl - n - 2; }
  out.set(payload, hl);
  return out;
}

/** The next-header byte to encode: the inner layer's protocol number when lengths are fixed, else the layer's own. */
export function nextKey(own: number, ctx: EncodeContext): number {
  return ctx.opts.fixLengths && ctx.inner.length ? keyOf(ctx.inner[0].dissector, Table.IpProto) ?? own : own;
}

/**
 * The options as tshark lists them, in the captured part of the header: [type, length (-1 for
 * Pad1 or a cut length byte), absolute offset of the value]. tshark stops at an option that runs
 * past the header and at a known option of the wrong length.
 */
function optionList(l: Ipv6OptionsLayer): Array<[number, number, number]> {
  const a: Array<[number, number, number]> = [];
  const b = l.buf;
  const end = Math.min(l.off + ((l.len + 1) << 3), l.capEnd);
  for (let i = l.off + IP6_OPTS.OPTIONS; i < end; ) {
    const t = b[i];
    // tshark reads a length byte even for Pad1: a Pad1 in the last captured byte is not listed.
    if (i + 1 >= l.capEnd) break;
    if (t === IP6OPT.PAD1) { a.push([t, -1, i + 1]); i++; continue; }
    if (i + 1 >= end) { a.push([t, -1, i + 1]); break; }
    const len = b[i + 1];
    a.push([t, len, i + 2]);
    if (i + 2 + len > end || (t === IP6OPT.HOME_ADDRESS && len !== 16)) break;
    i += 2 + len;
  }
  return a;
}

/** tshark dissects nothing past the IPv6 header when the payload length is 0 without a jumbo option. */
function tsharkShows(l: Ipv6ChainLayer): boolean {
  return !l.outOfChain && (l.ip === null || l.ip.plen !== 0 || l.ip.jumbo >= 0);
}

/** Bytes [0, n) of a chain header were captured and tshark shows it. */
export function captured(l: Ipv6ChainLayer, n: number): boolean {
  return l.off + n <= l.capEnd && tsharkShows(l);
}

function optionFields(kind: 'hopopts' | 'dstopts'): Record<string, (l: Ipv6OptionsLayer) => FieldValue> {
  const seen = (l: Ipv6OptionsLayer) => captured(l, 2);
  // tshark reads a router alert's or jumbo option's value whatever the option's length says.
  const values = (l: Ipv6OptionsLayer, type: number, n: number) => optionList(l).filter((t) => t[0] === type && t[1] >= 0 && t[2] + n <= l.capEnd);
  return {
    ['ipv6.' + kind + '.nxt']: (l) => (seen(l) ? l.nxt : undefined),
    ['ipv6.' + kind + '.len']: (l) => (seen(l) ? l.len : undefined),
    ['ipv6.' + kind + '.len_oct']: (l) => (seen(l) ? (l.len + 1) << 3 : undefined),
    'ipv6.opt.type': (l) => (seen(l) ? optionList(l).map((t) => '0x' + hex2(t[0])) : undefined),
    'ipv6.opt.length': (l) => (seen(l) ? optionList(l).filter((t) => t[1] >= 0).map((t) => t[1]) : undefined),
    'ipv6.opt.router_alert': (l) => (seen(l) ? values(l, IP6OPT.ROUTER_ALERT, 2).map((t) => (l.buf[t[2]] << 8) | l.buf[t[2] + 1]) : undefined),
    'ipv6.opt.jumbo': (l) => (seen(l) ? values(l, IP6OPT.JUMBO, 4).map((t) => u32At(l.buf, t[2])) : undefined),
  };
}

function u32At(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function optionsJson(l: Ipv6OptionsLayer): Record<string, unknown> {
  if (l.off + 2 > l.capEnd || l.outOfChain) return {};
  return {
    nxt: l.nxt, len: l.len,
    options: optionList(l).map((t) => ({ type: t[0], length: Math.max(t[1], 0), value: hexBytes(l.buf, t[2], Math.min(t[2] + Math.max(t[1], 0), l.capEnd)) })),
  };
}

export const routing: Dissector<Ipv6RoutingLayer> = {
  name: 'ipv6.routing',
  protocols: 'ipv6.routing',
  create: () => new Ipv6RoutingLayer(),

  decode(l, v, p) {
    startChain(l, v, p);
    if (outOfChain(l)) return;
    l.nxt = v.u8(IP6_RT.NXT);
    l.len = v.u8(IP6_RT.LEN);
    l.type = v.u8(IP6_RT.TYPE);
    l.segLeft = v.u8(IP6_RT.SEGLEFT);
    if (l.type !== 0 && l.type !== 2 && l.type !== 4) { l.invalid = 'unknown type'; return; }
    l.data = v.u32(IP6_RT.RESERVED);
    if (l.len % 2 === 1) { l.invalid = 'length'; return; }
    const n = (l.len + 1) << 3;
    v.check(0, n);
    l.hdrLen = n;
    // The pseudo-header's destination (RFC 8200 8.1): the last address, or SRH segment 0. Only the
    // first routing header counts, and only before AH/ESP (tcpdump's ip6_finddst).
    const ip = l.ip!;
    if (ip.finalDstOff < 0 && l.len > 0) ip.finalDstOff = l.off + IP6_RT.ADDRS + (l.type === 4 ? 0 : ((l.len >> 1) - 1) * 16);
    handOn(l, l.nxt);
  },

  encode(l, payload, ctx) {
    const addrs = l.buf ? l.buf.subarray(l.off + IP6_RT.ADDRS, l.off + IP6_RT.ADDRS + (l.len >> 1) * 16) : new Uint8Array(0);
    const hl = IP6_RT.ADDRS + addrs.length;
    const out = new Uint8Array(hl + payload.length);
    out[IP6_RT.NXT] = nextKey(l.nxt, ctx);
    out[IP6_RT.LEN] = ctx.opts.fixLengths ? (hl >> 3) - 1 : l.len;
    out[IP6_RT.TYPE] = l.type;
    out[IP6_RT.SEGLEFT] = l.segLeft;
    new DataView(out.buffer).setUint32(IP6_RT.RESERVED, l.data);
    out.set(addrs, IP6_RT.ADDRS);
    out.set(payload, hl);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as Ipv6RoutingLayer;
    if (l.outOfChain) { printOutOfChain(p, i, out); return; }
    // rt6_print, reading as it goes: a read past the capture ends it with "[|rt6]".
    const b = p.buf;
    const end = l.capEnd;
    const at = l.off;
    // tcpdump's header loop tests the first byte before rt6_print reads on.
    if (at >= end) { out.trunc('ip6'); return; }
    out.s += 'RT6';
    if (at + 2 > end) { abandon(out, 'rt6'); return; }
    out.s += ' (len=' + l.len;
    if (at + 3 > end) { abandon(out, 'rt6'); return; }
    out.s += ', type=' + l.type;
    if (l.type === 0) out.s += ' [Deprecated]';
    if (at + 4 > end) { abandon(out, 'rt6'); return; }
    out.s += ', segleft=' + l.segLeft;
    if (l.type !== 0 && l.type !== 2 && l.type !== 4) { out.s += ' (unknown type) (invalid)'; return; }
    if (l.type === 4) {
      if (at + 5 > end) { abandon(out, 'rt6'); return; }
      out.s += ', last-entry=' + b[at + IP6_RT.LAST_ENTRY];
      if (at + 6 > end) { abandon(out, 'rt6'); return; }
      const flags = b[at + IP6_RT.FLAGS];
      if (flags || out.opts.v) out.s += ', flags=0x' + flags.toString(16);
      if (at + 8 > end) { abandon(out, 'rt6'); return; }
      out.s += ', tag=' + ((b[at + IP6_RT.TAG] << 8) | b[at + IP6_RT.TAG + 1]).toString(16);
    } else {
      if (at + 8 > end) { abandon(out, 'rt6'); return; }
      if (l.data || out.opts.v) out.s += ', rsv=0x' + l.data.toString(16);
    }
    if (l.len % 2 === 1) { out.s += ' (invalid length ' + l.len + ') (invalid)'; return; }
    const n = l.len >> 1;
    for (let k = 0, o = at + IP6_RT.ADDRS; k < n; k++, o += 16) {
      if (o + 16 > end) { abandon(out, 'rt6'); return; }
      out.s += ', [' + k + ']' + ipv6Text(out, b, o);
    }
    out.s += ') ';
    printAfterExtension(p, i, l, l.nxt, out);
  },

  fields: {
    'ipv6.routing.nxt': (l) => (captured(l, 1) ? l.nxt : undefined),
    'ipv6.routing.len': (l) => (captured(l, 2) ? l.len : undefined),
    'ipv6.routing.len_oct': (l) => (captured(l, 2) ? (l.len + 1) << 3 : undefined),
    'ipv6.routing.type': (l) => (captured(l, 3) ? l.type : undefined),
    'ipv6.routing.segleft': (l) => (captured(l, 4) ? l.segLeft : undefined),
    'ipv6.routing.src.addr': (l) => (l.type === 0 && captured(l, 4) ? l.addresses : undefined),
    'ipv6.routing.mipv6.home_address': (l) => (l.type === 2 && captured(l, 4) ? l.addresses : undefined),
    'ipv6.routing.srh.last_entry': (l) => (l.type === 4 && captured(l, 5) ? l.data >>> 24 : undefined),
    'ipv6.routing.srh.flags': (l) => (l.type === 4 && captured(l, 6) ? '0x' + hex2((l.data >>> 16) & 0xff) : undefined),
    'ipv6.routing.srh.tag': (l) => (l.type === 4 && captured(l, 8) ? hexPad(l.data & 0xffff, 4) : undefined),
    'ipv6.routing.srh.addr': (l) => (l.type === 4 && captured(l, 8) ? l.addresses.slice(0, (l.data >>> 24) + 1) : undefined),
  },

  json(l) {
    if (l.outOfChain) return {};
    return { nxt: l.nxt, len: l.len, type: l.type, segLeft: l.segLeft, data: l.data, addresses: l.addresses };
  },
};

export const fragment: Dissector<Ipv6FragmentLayer> = {
  name: 'ipv6.fraghdr',
  protocols: 'ipv6.fraghdr',
  create: () => new Ipv6FragmentLayer(),

  decode(l, v, p) {
    startChain(l, v, p);
    if (outOfChain(l)) return;
    const below = p.layers[p.layers.length - 2];
    l.nextHeaderFieldOff = below instanceof Ipv6Layer ? below.off + IP6.NXT : below.off;
    l.nxt = v.u8(IP6_FRAG.NXT);
    l.reserved = v.u8(IP6_FRAG.RESERVED);
    l.offlg = v.u16(IP6_FRAG.OFFLG);
    l.identification = v.u32(IP6_FRAG.IDENT);
    l.hdrLen = IP6_FRAG.HEADER_LEN;
    // A later fragment's data cannot be decoded on its own (reassembly may); tcpdump also stops
    // at a first fragment with nothing captured after it, and tshark at any fragment an ICMPv6
    // error quotes (it does not reassemble those).
    if (l.fragOffset !== 0 || l.off + IP6_FRAG.HEADER_LEN >= v.end || (quoting.depth > 0 && l.moreFragments)) {
      // Payload length 0 without a jumbo option: tshark sees no payload at all.
      l.payloadLen = l.ip !== null && l.ip.plen === 0 && l.ip.jumbo < 0 ? 0 : l.length - l.hdrLen;
      return;
    }
    handOn(l, l.nxt);
  },

  encode(l, payload, ctx) {
    const out = new Uint8Array(IP6_FRAG.HEADER_LEN + payload.length);
    const dv = new DataView(out.buffer);
    out[IP6_FRAG.NXT] = nextKey(l.nxt, ctx);
    out[IP6_FRAG.RESERVED] = l.reserved;
    dv.setUint16(IP6_FRAG.OFFLG, l.offlg);
    dv.setUint32(IP6_FRAG.IDENT, l.identification);
    out.set(payload, IP6_FRAG.HEADER_LEN);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as Ipv6FragmentLayer;
    if (l.outOfChain) { printOutOfChain(p, i, out); return; }
    const end = l.capEnd;
    // frag6_print reads everything it prints before printing anything.
    if (l.off + (out.opts.v ? IP6_FRAG.HEADER_LEN : IP6_FRAG.IDENT) > end) { abandon(out, 'frag6'); return; }
    const ip = l.ip!;
    out.put('frag (');
    if (out.opts.v) out.put('0x' + hexPad(l.identification, 8) + ':');
    out.num(l.fragOffset);
    out.put('|');
    const fragLen = IP6.HEADER_LEN + ip.plen - (l.off - ip.off + IP6_FRAG.HEADER_LEN);
    if (fragLen >= 0) out.num(fragLen);
    else out.put(unsignedDifference(fragLen));
    out.put(')');
    if (l.fragOffset !== 0) return;
    out.put(' ');
    if (l.off + IP6_FRAG.HEADER_LEN >= end) return;
    printAfterExtension(p, i, l, l.nxt, out);
  },

  // tshark shows the fragment header whole or not at all.
  fields: {
    'ipv6.fraghdr.nxt': (l) => (captured(l, 8) ? l.nxt : undefined),
    'ipv6.fraghdr.reserved_octet': (l) => (captured(l, 8) ? '0x' + hex2(l.reserved) : undefined),
    'ipv6.fraghdr.offset': (l) => (captured(l, 8) ? l.offlg >> 3 : undefined),
    'ipv6.fraghdr.reserved_bits': (l) => (captured(l, 8) ? (l.offlg >> 1) & 3 : undefined),
    'ipv6.fraghdr.more': (l) => (captured(l, 8) ? (l.moreFragments ? 1 : 0) : undefined),
    'ipv6.fraghdr.ident': (l) => (captured(l, 8) ? '0x' + hexPad(l.identification, 8) : undefined),
  },

  json(l) {
    if (l.outOfChain) return {};
    return { nxt: l.nxt, offset: l.fragOffset, more: l.moreFragments, identification: l.identification };
  },
};

/** A negative difference as C's size_t arithmetic prints it: wrapped to 2^64 - n. */
function unsignedDifference(d: number): string {
  return (18446744073709551616n + BigInt(d)).toString();
}

/** n in lower-case hex, zero-padded to `width` digits. */
export function hexPad(n: number, width: number): string {
  const s = n.toString(16);
  return s.length >= width ? s : '00000000'.slice(0, width - s.length) + s;
}

/** Lower-case hex of buf[start, end), no separators. */
export function hexBytes(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let k = start; k < end; k++) s += hex2(buf[k]);
  return s;
}

/** Parses an IPv6 address ("2001:db8::1", "::ffff:192.0.2.1") into 16 bytes; throws on a malformed one. */
export function parseIpv6(text: string): Uint8Array {
  const bad = () => new Error(`bad IPv6 address: ${text}`);
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) throw bad();
  if (s.indexOf('.', lastColon) > 0) {
    const q = s.slice(lastColon + 1).split('.').map((x) => (/^[0-9]{1,3}$/.test(x) ? Number(x) : 256));
    if (q.length !== 4 || q.some((x) => x > 255)) throw bad();
    tail.push((q[0] << 8) | q[1], (q[2] << 8) | q[3]);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) throw bad();
  const words = (h: string): number[] => (h === '' ? [] : h.split(':').map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw bad();
    return parseInt(w, 16);
  }));
  const head = words(halves[0]);
  let all: number[];
  if (halves.length === 2) {
    const rest = words(halves[1]);
    const zeros = 8 - head.length - rest.length - tail.length;
    if (zeros < 1) throw bad();
    all = [...head, ...new Array<number>(zeros).fill(0), ...rest, ...tail];
  } else all = [...head, ...tail];
  if (all.length !== 8) throw bad();
  const out = new Uint8Array(16);
  for (let k = 0; k < 8; k++) { out[2 * k] = all[k] >> 8; out[2 * k + 1] = all[k] & 0xff; }
  return out;
}

bind(Table.EtherType, 0x86dd, ipv6);
bind(Table.IpProto, IPPROTO.IPV6, ipv6);
bind(Table.IpProto, IPPROTO.HOPOPTS, hopByHop);
bind(Table.IpProto, IPPROTO.ROUTING, routing);
bind(Table.IpProto, IPPROTO.FRAGMENT, fragment);
bind(Table.IpProto, IPPROTO.DSTOPTS, destinationOptions);
