/**
 * What a connection table needs of a frame, read straight from its bytes when that is sure to give
 * what decoding would (most frames of a capture), so decodeFrame runs only on the others:
 *
 * - a plain TCP segment: Ethernet (at most one 802.1Q tag), IPv4 without options nor fragmentation
 *   or IPv6 without extension headers, then a valid TCP header captured at least up to its options
 *   (cut in its options, it is truncated as the decoder marks it). Its header fields come out as
 *   the TcpLayer's would (lengths and captured bytes as the views clip them).
 * - a frame that holds no TCP header and no IP fragment: ARP; IP whose protocol no dissector
 *   takes; ICMP and ICMPv6 (also behind a hop-by-hop header), but for errors (they quote a
 *   packet) only when the quoted IP header is wholly captured, not a fragment's, and UDP's or
 *   ICMP's (itself judged the same way); UDP
 *   whose ports lead to no dissector or to DNS (nothing rides inside DNS).
 *
 * Anything else (fragments, ICMP errors, IP options, extension headers, tunnels, truncated or
 * invalid headers, other link types) is left to the decoder.
 */
import type { Frame } from '../core/frame.js';
import { lookup, Table } from '../core/dissector.js';
import { dns, mdns } from '../../dissectors/dns.js';
import { ETHERTYPE } from '../../dissectors/ethertypes.js';
import { isIcmpError } from '../../dissectors/icmp.js';
import { isIcmpv6Error } from '../../dissectors/icmpv6.js';
import { IP4_FLAG_MF, IP4_OFFMASK } from '../../dissectors/ipv4.js';
import type { TcpHeader } from './conntrack.js';
import { FlowKey } from './flow-key.js';

/** scanFrame's answers. */
export const SCAN_DECODE = 0;
export const SCAN_NO_TCP = 1;
export const SCAN_TCP = 2;

const LINKTYPE_ETHERNET = 1;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const PROTO_HOPOPTS = 0;

/** The TCP header of a plain segment and its endpoints; one object refilled for every frame. */
export class PlainSegment extends FlowKey implements TcpHeader {
  seq = 0;
  ack = 0;
  dataOffset = 0;
  flags = 0;
  window = 0;
  /** What the IP header claims for the segment. */
  length = 0;
  /** Bytes of the segment captured. */
  caplen = 0;
  off = 0;
  hdrLen = 0;
  /** Captured short of the end of its options. */
  truncated = false;
  readonly invalid = null;
}

function u16(d: Uint8Array, o: number): number {
  return (d[o] << 8) | d[o + 1];
}

function u32(d: Uint8Array, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}

/**
 * Classifies frame f: SCAN_TCP (s holds its segment), SCAN_NO_TCP (nothing for the tracker nor
 * the defragmenter), or SCAN_DECODE.
 */
export function scanFrame(f: Frame, s: PlainSegment): number {
  if (f.linkType !== LINKTYPE_ETHERNET) return SCAN_DECODE;
  const d = f.data;
  // Where the decoder's views end: the captured bytes, within what the frame had on the wire.
  const cap = Math.min(f.capLen, f.origLen, d.length);
  if (cap < 14) return SCAN_DECODE;
  let type = u16(d, 12);
  let o = 14;
  if (type === ETHERTYPE.VLAN) {
    if (cap < 18) return SCAN_DECODE;
    type = u16(d, 16);
    o = 18;
  }
  if (type === ETHERTYPE.ARP) return SCAN_NO_TCP;
  if (type === ETHERTYPE.IPV4) return ipv4(f, d, o, cap, s);
  if (type === ETHERTYPE.IPV6) return ipv6(f, d, o, cap, s);
  return SCAN_DECODE;
}

function ipv4(f: Frame, d: Uint8Array, o: number, cap: number, s: PlainSegment): number {
  if (o + 20 > cap || f.origLen - o < 20) return SCAN_DECODE;
  const vi = d[o];
  const ihl = (vi & 0x0f) * 4;
  const totalLen = u16(d, o + 2);
  // Version 4, a header length the header holds, no TSO zero length, not a fragment.
  if (vi >> 4 !== 4 || ihl < 20 || o + ihl > cap || totalLen < ihl || (u16(d, o + 6) & (IP4_FLAG_MF | IP4_OFFMASK)) !== 0) return SCAN_DECODE;
  const proto = d[o + 9];
  const start = o + ihl;
  const end = Math.min(start + totalLen - ihl, cap);
  if (proto === PROTO_TCP) {
    if (ihl !== 20) return SCAN_DECODE;
    s.setV4(u32(d, o + 12), u32(d, o + 16), 0, 0);
    return tcp(d, start, end, totalLen - ihl, s);
  }
  return noTcp(d, proto, start, end, PROTO_ICMP);
}

function ipv6(f: Frame, d: Uint8Array, o: number, cap: number, s: PlainSegment): number {
  if (o + 40 > cap || f.origLen - o < 40 || d[o] >> 4 !== 6) return SCAN_DECODE;
  const plen = u16(d, o + 4);
  const nxt = d[o + 6];
  // A zero payload length is a jumbogram's, or an empty payload.
  if (plen === 0) return SCAN_DECODE;
  const start = o + 40;
  const end = Math.min(start + plen, cap);
  if (nxt === PROTO_TCP) {
    s.setV6(d, o + 8, o + 24, 0, 0);
    return tcp(d, start, end, plen, s);
  }
  if (nxt === PROTO_HOPOPTS) {
    // Its next header and length not captured, the decoding ends there.
    if (start + 2 > end) return SCAN_NO_TCP;
    return d[start] === PROTO_ICMPV6 ? noTcp(d, PROTO_ICMPV6, start + (d[start + 1] + 1) * 8, end, PROTO_ICMPV6) : SCAN_DECODE;
  }
  return noTcp(d, nxt, start, end, PROTO_ICMPV6);
}

/** A TCP header at d[start] (captured up to end; length: what IP claims), when it is wholly captured and valid. */
function tcp(d: Uint8Array, start: number, end: number, length: number, s: PlainSegment): number {
  const caplen = end - start;
  if (caplen < 20) return SCAN_DECODE;
  const of = u16(d, start + 12);
  const hlen = (of >>> 12) * 4;
  if (hlen < 20 || hlen > length) return SCAN_DECODE;
  s.srcPort = u16(d, start);
  s.dstPort = u16(d, start + 2);
  s.seq = u32(d, start + 4);
  s.ack = u32(d, start + 8);
  s.dataOffset = of >>> 12;
  s.flags = of & 0x0fff;
  s.window = u16(d, start + 14);
  s.length = length;
  s.caplen = caplen;
  s.off = start;
  s.hdrLen = hlen;
  s.truncated = hlen > caplen;
  return SCAN_TCP;
}

/** An ICMP error's quoted IPv4 header at d[o]: SCAN_NO_TCP when it is wholly captured, no fragment's, and its payload (UDP or ICMP) holds no TCP. */
function quotedIpv4(d: Uint8Array, o: number, end: number): number {
  if (o + 20 > end) return SCAN_DECODE;
  const ihl = (d[o] & 0x0f) * 4;
  const proto = d[o + 9];
  if (d[o] >> 4 !== 4 || ihl < 20 || (u16(d, o + 6) & (IP4_FLAG_MF | IP4_OFFMASK)) !== 0 || (proto !== PROTO_UDP && proto !== PROTO_ICMP)) return SCAN_DECODE;
  return noTcp(d, proto, o + ihl, end, PROTO_ICMP);
}

/** An ICMPv6 error's quoted IPv6 header at d[o]: SCAN_NO_TCP when it is wholly captured and its payload (UDP or ICMPv6, no extension headers) holds no TCP. */
function quotedIpv6(d: Uint8Array, o: number, end: number): number {
  const nxt = d[o + 6];
  if (o + 40 > end || d[o] >> 4 !== 6 || (nxt !== PROTO_UDP && nxt !== PROTO_ICMPV6)) return SCAN_DECODE;
  return noTcp(d, nxt, o + 40, end, PROTO_ICMPV6);
}

/** Whether the payload of IP protocol proto at d[start, end) surely holds no TCP header (else SCAN_DECODE). */
function noTcp(d: Uint8Array, proto: number, start: number, end: number, icmp: number): number {
  if (proto === icmp) {
    // A type not captured ends the decoding there.
    if (start >= end) return SCAN_NO_TCP;
    const type = d[start];
    if (icmp === PROTO_ICMP ? !isIcmpError(type) : !isIcmpv6Error(type)) return SCAN_NO_TCP;
    return icmp === PROTO_ICMP ? quotedIpv4(d, start + 8, end) : quotedIpv6(d, start + 8, end);
  }
  if (proto === PROTO_UDP) {
    if (start + 4 > end) return SCAN_NO_TCP;
    const a = u16(d, start);
    const b = u16(d, start + 2);
    // The UDP dissector's dispatch: the lower port, else the higher.
    const next = lookup(Table.UdpPort, Math.min(a, b)) ?? lookup(Table.UdpPort, Math.max(a, b));
    return next === undefined || next === dns || next === mdns ? SCAN_NO_TCP : SCAN_DECODE;
  }
  return lookup(Table.IpProto, proto) === undefined ? SCAN_NO_TCP : SCAN_DECODE;
}
