/**
 * What a reply to a probe means: ICMP/ICMPv6 errors and the datagram they quote, traceroute(8)'s
 * annotations (parse_icmp_res in traceroute 2.1's traceroute.c), hping3's texts for ICMP errors
 * (log_icmp_unreach / log_icmp_timeexc) and the open/closed/filtered verdict of a SYN probe.
 */
import { isIcmpError, ICMP_TIMXCEED, ICMP_UNREACH } from '../../dissectors/icmp.js';
import { ICMP6, ICMP6_TYPE, isIcmpv6Error } from '../../dissectors/icmpv6.js';
import { TH } from '../../dissectors/tcp.js';
import type { PacketView } from './engine.js';

/** An ICMP or ICMPv6 error that quotes a datagram. */
export interface IcmpError {
  family: 4 | 6;
  type: number;
  code: number;
  /** The next-hop MTU of "fragmentation needed" / "packet too big" (traceroute's !F-N), else 0. */
  mtu: number;
  /** Who sent the error. */
  from: string;
  /** The quoted datagram's layers: the probe as the reporting host saw it. */
  quoted: PacketView;
}

/** ICMP type 3 codes (RFC 792, 1122, 1812). */
export const UNREACH = {
  NET: 0, HOST: 1, PROTOCOL: 2, PORT: 3, NEEDFRAG: 4, SRCFAIL: 5, NET_UNKNOWN: 6, HOST_UNKNOWN: 7, ISOLATED: 8,
  NET_PROHIB: 9, HOST_PROHIB: 10, TOSNET: 11, TOSHOST: 12, FILTER_PROHIB: 13, HOST_PRECEDENCE: 14, PRECEDENCE_CUTOFF: 15,
} as const;
/** ICMPv6 destination unreachable codes (RFC 4443). */
export const UNREACH6 = { NOROUTE: 0, ADMIN: 1, BEYONDSCOPE: 2, ADDR: 3, NOPORT: 4, POLICY: 5, REJECT_ROUTE: 6 } as const;

/** The ICMP/ICMPv6 error in v with its quoted datagram, or null (not an error, or nothing quoted). */
export function icmpErrorOf(v: PacketView): IcmpError | null {
  if (!v.ip || !v.quoted?.ip) return null;
  const from = v.ip.srcAddr;
  if (v.icmp && isIcmpError(v.icmp.type)) {
    const { type, code } = v.icmp;
    return { family: 4, type, code, mtu: type === ICMP_UNREACH && code === UNREACH.NEEDFRAG ? v.icmp.rest & 0xffff : 0, from, quoted: v.quoted };
  }
  if (v.icmp6 && isIcmpv6Error(v.icmp6.type)) {
    const { type, code } = v.icmp6;
    const mtu = type === ICMP6_TYPE.PACKET_TOO_BIG ? Math.max(0, v.icmp6.u32At(ICMP6.MTU)) : 0;
    return { family: 6, type, code, mtu, from, quoted: v.quoted };
  }
  return null;
}

/**
 * traceroute's reading of an ICMP error: null for "time exceeded in transit" (a hop on the way),
 * '' for port unreachable (the destination is reached), else the annotation printed after the
 * time (!H, !N, !P, !X, !S, !V, !C, !F-mtu, !<code>, !<type-code>). Anything but null ends the trace.
 */
export function tracerouteAnnotation(e: Pick<IcmpError, 'family' | 'type' | 'code' | 'mtu'>): string | null {
  const { type, code } = e;
  if (e.family === 4) {
    if (type === ICMP_TIMXCEED && code === 0) return null;
    if (type === ICMP_UNREACH) {
      switch (code) {
        case UNREACH.NET: case UNREACH.NET_UNKNOWN: case UNREACH.ISOLATED: case UNREACH.TOSNET: return '!N';
        case UNREACH.HOST: case UNREACH.HOST_UNKNOWN: case UNREACH.TOSHOST: return '!H';
        case UNREACH.NET_PROHIB: case UNREACH.HOST_PROHIB: case UNREACH.FILTER_PROHIB: return '!X';
        case UNREACH.PORT: return '';
        case UNREACH.PROTOCOL: return '!P';
        case UNREACH.NEEDFRAG: return '!F-' + e.mtu;
        case UNREACH.SRCFAIL: return '!S';
        case UNREACH.HOST_PRECEDENCE: return '!V';
        case UNREACH.PRECEDENCE_CUTOFF: return '!C';
        default: return '!<' + code + '>';
      }
    }
  } else {
    if (type === ICMP6_TYPE.TIME_EXCEEDED && code === 0) return null;
    if (type === ICMP6_TYPE.DST_UNREACH) {
      switch (code) {
        case UNREACH6.NOROUTE: return '!N';
        case UNREACH6.BEYONDSCOPE: case UNREACH6.ADDR: return '!H';
        case UNREACH6.ADMIN: return '!X';
        case UNREACH6.NOPORT: return '';
        default: return '!<' + code + '>';
      }
    }
    if (type === ICMP6_TYPE.PACKET_TOO_BIG) return '!F-' + e.mtu;
  }
  return '!<' + type + '-' + code + '>';
}

/** hping3's log_icmp_unreach texts by code (null: "Unreachable type=N"). */
const HPING_UNREACH: Array<string | null> = [
  'Network Unreachable', 'Host Unreachable', 'Protocol Unreachable', 'Port Unreachable', 'Fragmentation Needed/DF set',
  'Source Route failed', null, null, null, null, null, null, null, 'Packet filtered', 'Precedence violation', 'precedence cut off',
];
/** The same for ICMPv6 codes (hping3 has no IPv6: its wording, RFC 4443's meanings). */
const HPING_UNREACH6: Array<string | null> = [
  'Network Unreachable', 'Packet filtered', 'Beyond scope of source address', 'Host Unreachable', 'Port Unreachable',
  'Source address failed ingress/egress policy', 'Reject route to destination',
];

/**
 * What hping3 prints for an ICMP error about a probe, up to the address:
 * "ICMP Port Unreachable from ip=", "ICMP Unreachable type=7 from ip=", "TTL 0 during transit from ip=".
 */
export function hpingIcmpPrefix(e: Pick<IcmpError, 'family' | 'type' | 'code'>): string {
  const v6 = e.family === 6;
  if (e.type === (v6 ? ICMP6_TYPE.DST_UNREACH : ICMP_UNREACH)) {
    const text = (v6 ? HPING_UNREACH6 : HPING_UNREACH)[e.code] ?? null;
    return text === null ? 'ICMP Unreachable type=' + e.code + ' from ip=' : 'ICMP ' + text + ' from ip=';
  }
  if (e.type === (v6 ? ICMP6_TYPE.TIME_EXCEEDED : ICMP_TIMXCEED)) {
    return e.code === 0 ? 'TTL 0 during transit from ip=' : 'TTL 0 during reassembly from ip=';
  }
  return 'ICMP' + (v6 ? 'v6' : '') + ' type=' + e.type + ' code=' + e.code + ' from ip=';
}

/** What a SYN probe's answer says about the port. */
export type PortVerdict = 'open' | 'closed' | 'filtered' | 'no answer';

/** SYN-ACK: open; RST: closed; any other TCP answer says nothing (null). */
export function tcpVerdict(flags: number): PortVerdict | null {
  if (flags & TH.RST) return 'closed';
  if ((flags & (TH.SYN | TH.ACK)) === (TH.SYN | TH.ACK)) return 'open';
  return null;
}

/** hping3's flag letters in its order (R S A F P U X Y), "none" for none. */
export function hpingFlags(flags: number): string {
  let s = '';
  if (flags & TH.RST) s += 'R';
  if (flags & TH.SYN) s += 'S';
  if (flags & TH.ACK) s += 'A';
  if (flags & TH.FIN) s += 'F';
  if (flags & TH.PUSH) s += 'P';
  if (flags & TH.URG) s += 'U';
  if (flags & TH.ECE) s += 'X';
  if (flags & TH.CWR) s += 'Y';
  return s || 'none';
}
