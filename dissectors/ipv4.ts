/**
 * IPv4 (RFC 791): header, options, fragments, header checksum.
 * tcpdump: print-ip.c (ip_print, ip_optprint, ip_printroute, ip_printts, ip_finddst);
 * tshark fields: ip.* (packet-ip.c).
 */
import { bind, Layer, Table, keyOf, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import { checksumShouldBe, foldChecksum, sumWords } from '../src/core/checksum.js';
import { ascii, type TextOut } from '../src/output/text.js';
import { hex2, ipv4Of } from '../src/output/format.js';
import { ipv4Text, putIpv4 } from '../src/output/host-names.js';
import { FRAG_CONFLICT, FRAG_MULTIPLE_TAILS, FRAG_OVERLAP, FRAG_TOO_LONG, type Reassembly } from '../src/ip/reassembly.js';
import { ipProtoName, protoKeyword, type NetworkLayer } from './ipproto.js';

/** Field offsets, shared by decode and encode. */
export const IP4 = {
  VER_IHL: 0, TOS: 1, TOTAL_LEN: 2, ID: 4, FLAGS_FRAG: 6, TTL: 8, PROTO: 9, CHECKSUM: 10, SRC: 12, DST: 16,
  HEADER_LEN: 20,
} as const;
export const IP4_FLAG_RF = 0x8000;
export const IP4_FLAG_DF = 0x4000;
export const IP4_FLAG_MF = 0x2000;
export const IP4_OFFMASK = 0x1fff;

/** Option codes with a meaning to the printer or to the destination lookup. */
/** IPv6 in Table.IpProto: where a version-6 header under EtherType IPv4 goes (as tshark). */
const IPPROTO_IPV6 = 41;
const OPT_EOL = 0, OPT_NOP = 1, OPT_RR = 7, OPT_TS = 68, OPT_LSRR = 131, OPT_SSRR = 137, OPT_RA = 148;
const OPT_NAMES = new Map<number, string>([
  [OPT_EOL, 'EOL'], [OPT_NOP, 'NOP'], [OPT_TS, 'timestamp'], [130, 'security'], [OPT_RR, 'RR'],
  [OPT_SSRR, 'SSRR'], [OPT_LSRR, 'LSRR'], [OPT_RA, 'RA'], [82, 'traceroute'],
]);

/** The options of a header without options: one empty array shared by all (a typed array per layer is costly). */
const NO_OPTIONS = new Uint8Array(0);

/** Why decoding stopped at a header that contradicts itself (tcpdump prints these instead of the header). */
export type Ipv4Invalid = 'version' | 'truncated-ip' | 'bad-hlen' | 'bad-len';

export class Ipv4Layer extends Layer implements NetworkLayer {
  readonly ipVersion = 4;
  version = 4;
  /** Header length in bytes (IHL * 4). */
  ihl = 20;
  tos = 0;
  totalLen = 0;
  id = 0;
  /** Flags and fragment offset word (RF|DF|MF and the offset in 8-byte units). */
  flagsFrag = 0;
  ttl = 64;
  proto = 0;
  checksum = 0;
  src = 0;
  dst = 0;
  /** Option bytes (header past 20 bytes), as far as they were captured. */
  options: Uint8Array = NO_OPTIONS;
  /** Bytes captured from the start of this header (the view it was decoded from). */
  capLen = 0;
  /** tcpdump's ip_finddst: the last hop of a source route option (the pseudo-header's destination); -1: dst. */
  finalDst = -1;
  /**
   * tshark's get_dst_offset: the destination a valid LSRR/SSRR option names (ip.dst), -1 for
   * none, or -2 where tshark's walk of the options ran out of captured bytes (no ip.dst then).
   */
  routeDst = -1;
  /** A zero total length taken as a TCP segmentation offload send: tshark uses the link's length. */
  tso = false;
  /** Header bytes whose fields tshark shows: it stops at a bad header or total length. */
  fieldsEnd: number = IP4.HEADER_LEN;
  /** Set by the defragmenter on the frame that completed a datagram (a copy of the last fragment's layer). */
  reassembly: Reassembly | null = null;

  get srcAddr(): string { return ipv4Of(this.src); }
  get dstAddr(): string { return ipv4Of(this.dst); }
  putAddr(out: TextOut, dst: boolean): void {
    if (out.opts.n) out.ipv4(dst ? this.dst : this.src);
    else putIpv4(out, dst ? this.dst : this.src);
  }
  /** Fragment offset in bytes. */
  get fragOffset(): number { return (this.flagsFrag & IP4_OFFMASK) * 8; }
  /** The payload above is a fragment with more to come; false on the copy that carries a reassembled datagram. */
  get moreFragments(): boolean { return this.reassembly === null && (this.flagsFrag & IP4_FLAG_MF) !== 0; }
  get dontFragment(): boolean { return (this.flagsFrag & IP4_FLAG_DF) !== 0; }

  pseudoHeaderSum(proto: number, length: number): number {
    const d = this.finalDst >= 0 ? this.finalDst : this.dst;
    return (this.src >>> 16) + (this.src & 0xffff) + (d >>> 16) + (d & 0xffff) + proto + length;
  }
}

export const ipv4: Dissector<Ipv4Layer> = {
  name: 'ip',
  protocols: 'ip',
  create: () => new Ipv4Layer(),

  decode(l, v, _p) {
    l.capLen = v.length;
    const vi = v.u8(IP4.VER_IHL);
    l.version = vi >> 4;
    l.ihl = (vi & 0x0f) * 4;
    if (l.version !== 4) {
      l.invalid = 'version';
      // tshark's IP dissector hands a version-6 header to IPv6 (frame.protocols ip:ipv6); tcpdump
      // prints "IP6, wrong link-layer encapsulation" and stops, as print does.
      if (l.version === 6) {
        l.payloadLen = l.length;
        l.nextTable = Table.IpProto;
        l.nextKey = IPPROTO_IPV6;
      }
      return;
    }
    if (l.ihl < IP4.HEADER_LEN) l.fieldsEnd = IP4.TOS;
    // Read in order, so a header cut short keeps the fields before the cut (tshark shows them).
    l.tos = v.u8(IP4.TOS);
    l.totalLen = v.u16(IP4.TOTAL_LEN);
    if (l.ihl >= IP4.HEADER_LEN && l.totalLen < l.ihl && l.totalLen !== 0) l.fieldsEnd = IP4.ID;
    l.id = v.u16(IP4.ID);
    l.flagsFrag = v.u16(IP4.FLAGS_FRAG);
    l.ttl = v.u8(IP4.TTL);
    l.proto = v.u8(IP4.PROTO);
    l.checksum = v.u16(IP4.CHECKSUM);
    l.src = v.u32(IP4.SRC);
    l.dst = v.u32(IP4.DST);
    if (l.length < IP4.HEADER_LEN) { l.invalid = 'truncated-ip'; return; }
    if (l.ihl < IP4.HEADER_LEN) { l.invalid = 'bad-hlen'; return; }
    // tshark takes a zero total length for a TSO send and goes on with the link's length;
    // Debian's tcpdump (built without GUESS_TSO) prints "bad-len 0" for it.
    if (l.totalLen === 0) l.tso = true;
    else if (l.totalLen < l.ihl) { l.invalid = 'bad-len'; return; }
    l.hdrLen = l.ihl;
    l.payloadLen = (l.tso ? l.length : l.totalLen) - l.ihl;
    if (l.ihl > IP4.HEADER_LEN) {
      l.options = v.bytes(IP4.HEADER_LEN, Math.min(l.ihl, v.length) - IP4.HEADER_LEN);
      l.finalDst = sourceRouteEnd(l.options, l.ihl - IP4.HEADER_LEN);
      l.routeDst = routeDestination(l.options, l.ihl - IP4.HEADER_LEN);
      if (l.routeDst === -2) l.fieldsEnd = IP4.DST;
    }
    v.check(0, l.ihl);
    if ((l.flagsFrag & IP4_OFFMASK) === 0) {
      l.nextTable = Table.IpProto;
      l.nextKey = l.proto;
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    // A version-6 header decoded as IPv4 is only the start of the IPv6 layer inside it.
    if (l.version === 6 && l.invalid === 'version' && ctx.inner.length) return payload;
    const fix = ctx.opts.fixLengths;
    // Fixing lengths pads the options with EOL to a whole number of 32-bit words.
    const hl = IP4.HEADER_LEN + (fix ? (l.options.length + 3) & ~3 : l.options.length);
    const out = new Uint8Array(hl + payload.length);
    const dv = new DataView(out.buffer);
    const proto = fix && ctx.inner.length ? keyOf(ctx.inner[0].dissector, Table.IpProto) ?? l.proto : l.proto;
    out[IP4.VER_IHL] = (l.version << 4) | ((fix ? hl : l.ihl) >> 2);
    out[IP4.TOS] = l.tos;
    dv.setUint16(IP4.TOTAL_LEN, fix ? hl + payload.length : l.totalLen);
    dv.setUint16(IP4.ID, l.id);
    dv.setUint16(IP4.FLAGS_FRAG, l.flagsFrag);
    out[IP4.TTL] = l.ttl;
    out[IP4.PROTO] = proto;
    dv.setUint32(IP4.SRC, l.src);
    dv.setUint32(IP4.DST, l.dst);
    out.set(l.options, IP4.HEADER_LEN);
    dv.setUint16(IP4.CHECKSUM, ctx.opts.computeChecksums ? foldChecksum(sumWords(out, 0, hl)) : l.checksum);
    out.set(payload, hl);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as Ipv4Layer;
    const o = out.opts;
    if (l.capLen === 0) { abandon(out, 'ip'); return; }
    if (l.version !== 4) {
      out.s += (l.version === 6 ? 'IP6, wrong link-layer encapsulation' : 'IP' + l.version) + ' (invalid)';
      return;
    }
    if (!o.e) out.putAscii(IP_TEXT);
    if (l.truncated && l.capLen < IP4.HEADER_LEN) { out.trunc('ip'); return; }
    if (l.invalid === 'truncated-ip') { out.s += 'truncated-ip ' + l.length; return; }
    if (l.invalid === 'bad-hlen') { out.s += 'bad-hlen ' + l.ihl; return; }
    if (l.length < l.totalLen) out.s += 'truncated-ip - ' + (l.totalLen - l.length) + ' bytes missing! ';
    if (l.totalLen < l.ihl) { out.s += 'bad-len ' + l.totalLen; return; }
    // ip_print cuts the snapshot at the end of the datagram (nd_push_snapend).
    const capEnd = l.off + Math.min(l.capLen, l.totalLen);
    if (o.v) {
      out.s += '(tos 0x' + l.tos.toString(16);
      const ecn = l.tos & 3;
      if (ecn === 1) out.s += ',ECT(1)';
      else if (ecn === 2) out.s += ',ECT(0)';
      else if (ecn === 3) out.s += ',CE';
      if (l.ttl >= 1) out.s += ', ttl ' + l.ttl;
      out.s += ', id ' + l.id + ', offset ' + l.fragOffset + ', flags [' + fragFlags(l.flagsFrag) + '], proto ' +
        ipProtoName(l.proto) + ' (' + l.proto + '), length ' + l.totalLen;
      let optionCut = false;
      if (l.ihl > IP4.HEADER_LEN) {
        out.s += ', options (';
        const end = printIpOptions(out, l.buf, l.off + IP4.HEADER_LEN, l.ihl - IP4.HEADER_LEN, capEnd);
        if (end === OptionsEnd.Stop) { abandon(out, 'ip'); return; }
        if (end === OptionsEnd.Truncated) { out.s += ' [truncated-option]'; optionCut = true; }
        out.s += ')';
      }
      if (!o.K && l.off + l.ihl <= capEnd) {
        const sum = foldChecksum(sumWords(l.buf, l.off, l.off + l.ihl));
        if (sum !== 0) out.s += ', bad cksum ' + l.checksum.toString(16) + ' (->' + checksumShouldBe(l.checksum, sum).toString(16) + ')!';
      }
      out.s += ')\n    ';
      if (optionCut) {
        putAddrs(out, l, ': ');
        out.trunc('ip');
        return;
      }
    }
    if ((l.flagsFrag & IP4_OFFMASK) !== 0) {
      // A later fragment: no transport header to print (-qq: nothing more at all).
      if (o.q > 1) return;
      const name = o.n ? null : protoKeyword(l.proto);
      putAddrs(out, l, ':');
      if (name === null) {
        out.put(' ip-proto-');
        out.num(l.proto);
      } else out.put(' ' + name);
      return;
    }
    const pr = l.proto;
    if (pr !== 6 && pr !== 17 && pr !== 132 && pr !== 33) putAddrs(out, l, ': ');
    if (l.capLen < l.ihl) {
      out.s += ' [remaining caplen(' + (capEnd - l.off) + ') < header length(' + l.ihl + ')]';
      abandon(out, 'ip');
      return;
    }
    printPayload(p, i, l, out);
  },

  // A header cut short shows the fields captured before the cut, as tshark does.
  fields: {
    'ip.version': (l) => (l.capLen >= 1 ? l.version : undefined),
    'ip.hdr_len': (l) => (l.capLen >= 1 && l.version === 4 ? l.ihl : undefined),
    'ip.dsfield': (l) => (upTo(l, 2) ? '0x' + hex(l.tos, 2) : undefined),
    'ip.dsfield.dscp': (l) => (upTo(l, 2) ? l.tos >> 2 : undefined),
    'ip.dsfield.ecn': (l) => (upTo(l, 2) ? l.tos & 3 : undefined),
    'ip.len': (l) => (upTo(l, 4) ? (l.tso ? l.length : l.totalLen) : undefined),
    'ip.id': (l) => (upTo(l, 6) ? '0x' + hex(l.id, 4) : undefined),
    'ip.flags': (l) => (upTo(l, 8) ? '0x' + hex(l.flagsFrag >>> 13, 2) : undefined),
    'ip.flags.rb': (l) => (upTo(l, 8) ? ((l.flagsFrag & IP4_FLAG_RF) ? 1 : 0) : undefined),
    'ip.flags.df': (l) => (upTo(l, 8) ? ((l.flagsFrag & IP4_FLAG_DF) ? 1 : 0) : undefined),
    'ip.flags.mf': (l) => (upTo(l, 8) ? ((l.flagsFrag & IP4_FLAG_MF) ? 1 : 0) : undefined),
    // tshark 4.0 shows the raw 13-bit field, in 8-byte units.
    'ip.frag_offset': (l) => (upTo(l, 8) ? l.flagsFrag & IP4_OFFMASK : undefined),
    'ip.ttl': (l) => (upTo(l, 9) ? l.ttl : undefined),
    'ip.proto': (l) => (upTo(l, 10) ? l.proto : undefined),
    'ip.checksum': (l) => (upTo(l, 12) ? '0x' + hex(l.checksum, 4) : undefined),
    // tshark does not verify IPv4 header checksums by default: "unverified".
    'ip.checksum.status': (l) => (upTo(l, 12) ? 2 : undefined),
    'ip.src': (l) => (upTo(l, 16) ? l.srcAddr : undefined),
    'ip.dst': (l) => (upTo(l, 20) ? shownDst(l) : undefined),
    'ip.addr': (l) => (upTo(l, 20) ? [l.srcAddr, shownDst(l)] : upTo(l, 16) ? l.srcAddr : undefined),
    'ip.src_host': (l) => (upTo(l, 16) ? l.srcAddr : undefined),
    'ip.dst_host': (l) => (upTo(l, 20) ? shownDst(l) : undefined),
    'ip.host': (l) => (upTo(l, 20) ? [l.srcAddr, shownDst(l)] : upTo(l, 16) ? l.srcAddr : undefined),
    'ip.cur_rt': (l) => (l.routeDst >= 0 && upTo(l, 20) ? l.dstAddr : undefined),
    'ip.cur_rt_host': (l) => (l.routeDst >= 0 && upTo(l, 20) ? l.dstAddr : undefined),
    'ip.fragment': (l) => l.reassembly?.frames(false),
    'ip.fragment.error': (l) => l.reassembly?.frames(true),
    'ip.fragment.overlap': (l) => l.reassembly?.flagged(FRAG_OVERLAP),
    'ip.fragment.overlap.conflict': (l) => l.reassembly?.flagged(FRAG_CONFLICT),
    'ip.fragment.multipletails': (l) => l.reassembly?.flagged(FRAG_MULTIPLE_TAILS),
    'ip.fragment.toolongfragment': (l) => l.reassembly?.flagged(FRAG_TOO_LONG),
    'ip.fragment.count': (l) => l.reassembly?.count,
    'ip.reassembled.length': (l) => l.reassembly?.length,
    'ip.reassembled.data': (l) => (l.reassembly ? hexString(l.reassembly.data) : undefined),
  },

  json(l) {
    const j: Record<string, unknown> = {
      version: l.version, ihl: l.ihl, tos: l.tos, totalLen: l.totalLen, id: l.id,
      flags: { rf: (l.flagsFrag & IP4_FLAG_RF) !== 0, df: l.dontFragment, mf: l.moreFragments },
      fragOffset: l.fragOffset, ttl: l.ttl, proto: l.proto, checksum: l.checksum,
      src: l.srcAddr, dst: l.dstAddr, optionsLen: l.ihl - IP4.HEADER_LEN,
    };
    if (l.tso) j.tso = true;
    if (l.invalid) j.invalid = l.invalid;
    if (l.reassembly) j.reassembled = { length: l.reassembly.length, fragments: l.reassembly.frames(false) };
    return j;
  },
};

const IP_TEXT = ascii('IP ');

/** Writes "src > dst" and what follows. */
function putAddrs(out: TextOut, l: Ipv4Layer, after: string): void {
  l.putAddr(out, false);
  out.put(' > ');
  l.putAddr(out, true);
  out.put(after);
}

/** tshark shows the header's fields up to byte `end`: captured, and before any point it stops at. */
function upTo(l: Ipv4Layer, end: number): boolean {
  return l.capLen >= end && l.fieldsEnd >= end && l.version === 4;
}

/** tshark's ip.dst: the destination a source route option names, else the header's. */
function shownDst(l: Ipv4Layer): string {
  return l.routeDst >= 0 ? ipv4Of(l.routeDst) : l.dstAddr;
}

/** What ip_demux_print does with fragment zero's payload: the next printer, or tcpdump's words for protocols without one. */
function printPayload(p: Packet, i: number, l: Ipv4Layer, out: TextOut): void {
  const pr = l.proto;
  if (pr === 58 || pr === 143) {
    out.s += '[' + ipProtoName(pr) + ' requires IPv6] (invalid)';
    return;
  }
  if (i + 1 < p.layers.length) { out.printLayer(p, i + 1); return; }
  if (pr === 77) { out.s += ' nd ' + l.payloadLen; return; }
  if (pr === 59) { out.s += 'no next header'; return; }
  const name = out.opts.n ? null : protoKeyword(pr);
  out.s += (name === null ? ' ip-proto-' + pr : ' ' + name) + ' ' + l.payloadLen;
}

/**
 * tcpdump's longjmp out of the printers (a failed GET_ or nd_trunc_longjmp): " [|proto]" ends
 * the packet's text, and the -x/-X dump then starts at the frame's first byte. Kept for the
 * importers (ipv6, icmpv6); the same as TextOut.truncJump.
 */
export function abandon(out: TextOut, proto: string): void {
  out.truncJump(proto);
}

/** Bytes as tshark prints an FT_BYTES field with -T fields: hex digits, no separators. */
function hexString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += hex2(b[i]);
  return s;
}

function hex(n: number, width: number): string {
  const s = n.toString(16);
  return s.length >= width ? s : '0000'.slice(0, width - s.length) + s;
}

/** tcpdump's bittok2str(ip_frag_values): "+" (MF), "DF", "rsvd", or "none". */
function fragFlags(ff: number): string {
  let s = '';
  if (ff & IP4_FLAG_MF) s = '+';
  if (ff & IP4_FLAG_DF) s += (s ? ', ' : '') + 'DF';
  if (ff & IP4_FLAG_RF) s += (s ? ', ' : '') + 'rsvd';
  return s || 'none';
}

export { checksumShouldBe } from '../src/core/checksum.js';

/** How printing the options ended: all printed, cut inside an option (" [truncated-option]"), or cut where tcpdump abandons the packet. */
export const enum OptionsEnd { Done, Truncated, Stop }

/**
 * tcpdump's ip_optprint: appends the text of `len` option bytes at buf[start] to out.s. Bytes at or
 * past capEnd were not captured: tcpdump's ND_TCHECK failures end an option with Truncated, its
 * GET_ failures abandon the whole packet (Stop).
 */
export function printIpOptions(out: TextOut, buf: Uint8Array, start: number, len: number, capEnd: number): OptionsEnd {
  let cp = start;
  let sep = '';
  while (len > 0) {
    out.s += sep;
    sep = ',';
    if (cp >= capEnd) return OptionsEnd.Stop;
    const code = buf[cp];
    out.s += OPT_NAMES.get(code) ?? 'unknown ' + code;
    let optLen = 1;
    if (code !== OPT_NOP && code !== OPT_EOL) {
      if (cp + 1 >= capEnd) return OptionsEnd.Stop;
      optLen = buf[cp + 1];
      if (optLen < 2) { out.s += ' [bad length ' + optLen + ']'; return OptionsEnd.Done; }
    }
    if (optLen > len) { out.s += ' [bad length ' + optLen + ']'; return OptionsEnd.Done; }
    if (cp + optLen > capEnd) return OptionsEnd.Truncated;
    if (code === OPT_EOL) return OptionsEnd.Done;
    if (code === OPT_TS) {
      if (!printTimestamps(out, buf, cp, optLen, capEnd)) return OptionsEnd.Truncated;
    } else if (code === OPT_RR || code === OPT_SSRR || code === OPT_LSRR) {
      if (!printRoute(out, buf, cp, optLen, capEnd)) return OptionsEnd.Truncated;
    } else if (code === OPT_RA) {
      if (optLen < 4) out.s += ' [bad length ' + optLen + ']';
      else {
        const value = (buf[cp + 2] << 8) | buf[cp + 3];
        if (value !== 0) out.s += ' value ' + value;
      }
    }
    cp += optLen;
    len -= optLen;
  }
  return OptionsEnd.Done;
}

/** tcpdump's ip_printroute (RR, LSRR, SSRR); false where it ran out of captured bytes. */
function printRoute(out: TextOut, buf: Uint8Array, cp: number, length: number, capEnd: number): boolean {
  if (length < 3) { out.s += ' [bad length ' + length + ']'; return true; }
  if ((length + 1) & 3) out.s += ' [bad length ' + length + ']';
  const ptr = (buf[cp + 2] - 1) >>> 0;
  if (ptr < 3 || ((ptr + 1) & 3) || ptr > length + 1) out.s += ' [bad ptr ' + buf[cp + 2] + ']';
  for (let len = 3; len < length; len += 4) {
    if (cp + len + 4 > capEnd) return false;
    out.s += ' ' + ipv4Text(out, buf, cp + len);
    if (ptr > len) out.s += ',';
  }
  return true;
}

/** tcpdump's ip_printts (timestamp option); false where it ran out of captured bytes. */
function printTimestamps(out: TextOut, buf: Uint8Array, cp: number, length: number, capEnd: number): boolean {
  if (length < 4) { out.s += '[bad length ' + length + ']'; return true; }
  out.s += ' TS{';
  const flags = buf[cp + 3];
  const hopLen = (flags & 0xf) !== 0 ? 8 : 4;
  if ((length - 4) & (hopLen - 1)) out.s += '[bad length ' + length + ']';
  const ptr = (buf[cp + 2] - 1) >>> 0;
  let len = 0;
  if (ptr < 4 || (((ptr - 4) >>> 0) & (hopLen - 1)) || ptr > length + 1) out.s += '[bad ptr ' + buf[cp + 2] + ']';
  const kind = flags & 0xf;
  if (kind === 0 || kind === 1 || kind === 3) {
    out.s += kind === 0 ? 'TSONLY' : kind === 1 ? 'TS+ADDR' : 'PRESPEC';
    let type = ' ';
    for (len = 4; len < length; len += hopLen) {
      if (ptr === len) type = ' ^ ';
      if (cp + len + hopLen > capEnd) return false;
      const at = cp + len + hopLen - 4;
      const stamp = ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
      out.s += type + stamp + '@' + (hopLen === 8 ? ipv4Text(out, buf, cp + len) : '');
      type = ' ';
    }
  } else {
    out.s += '[bad ts type ' + kind + ']';
  }
  out.s += ptr === len ? ' ^ ' : '';
  out.s += flags >> 4 ? ' [' + (flags >> 4) + ' hops not recorded]} ' : '}';
  return true;
}

/** Reads the 32-bit address at buf[o]. */
function u32At(buf: Uint8Array, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

/**
 * tcpdump's ip_finddst: the last address of the first LSRR/SSRR option of 7 bytes or more, or
 * -1 (the header's destination). `opts` is what was captured of the `optLen` option bytes.
 */
function sourceRouteEnd(opts: Uint8Array, optLen: number): number {
  let i = 0;
  while (i < optLen) {
    if (i >= opts.length) return -1;
    const t = opts[i];
    if (t === OPT_EOL) break;
    let len = 1;
    if (t !== OPT_NOP) {
      if (i + 1 >= opts.length) return -1;
      len = opts[i + 1];
      if (len < 2) break;
    }
    if (optLen - i < len || i + len > opts.length) return -1;
    if ((t === OPT_SSRR || t === OPT_LSRR) && len >= 7) return u32At(opts, i + len - 4);
    i += len;
  }
  return -1;
}

/**
 * tshark's get_dst_offset: the final destination a LSRR/SSRR option with a valid pointer names
 * (shown as ip.dst, the header's destination becoming ip.cur_rt), or -1.
 */
function routeDestination(opts: Uint8Array, optLen: number): number {
  let i = 0;
  let left = optLen;
  while (left > 0) {
    if (i >= opts.length) return -2;
    const t = opts[i];
    left--;
    if (t !== OPT_EOL && t !== OPT_NOP) {
      if (left === 0) return -1;
      if (i + 1 >= opts.length) return -2;
      const len = opts[i + 1];
      left--;
      if (len < 2 || len - 2 > left) return -1;
      if (t === OPT_SSRR || t === OPT_LSRR) {
        if (i + 2 >= opts.length) return -2;
        const ptr = opts[i + 2];
        if (ptr < 4 || (ptr & 3) || ptr > len) return -1;
        if (i + len > opts.length) return -2;
        return u32At(opts, i + len - 4);
      }
      i += len;
      left -= len - 2;
    } else {
      i++;
    }
    if (t === OPT_EOL) return -1;
  }
  return -1;
}

bind(Table.EtherType, 0x0800, ipv4);
// IPv4 in IP (IPIP, protocol 4): tcpdump prints the inner datagram with ip_print.
bind(Table.IpProto, 4, ipv4);
