/** IP protocol numbers: tcpdump's ipproto_values names (as in "proto TCP (6)"). */
const NAMES = new Map<number, string>([
  [0, 'Options'], [1, 'ICMP'], [2, 'IGMP'], [4, 'IPIP'], [6, 'TCP'], [8, 'EGP'], [9, 'IGRP'],
  [17, 'UDP'], [29, 'TP'], [41, 'IPv6'], [43, 'Routing'], [44, 'Fragment'], [46, 'RSVP'],
  [47, 'GRE'], [50, 'ESP'], [51, 'AH'], [54, 'NARP'], [58, 'ICMPv6'], [59, 'NONE'], [60, 'Dst.Opts'],
  [77, 'ND'], [88, 'EIGRP'], [89, 'OSPF'], [103, 'PIM'], [108, 'PCP'], [112, 'VRRP'], [115, 'L2TP'],
  [132, 'SCTP'], [135, 'Mobility'], [33, 'DCCP'], [30, 'NETBLT'], [36, 'XTP'], [48, 'MOBILE'],
  [255, 'Reserved'],
]);

export function ipProtoName(p: number): string {
  return NAMES.get(p) ?? 'unknown';
}

/** An IPv4 or IPv6 layer: what transport printers and pseudo-header checksums need from it. */
export interface NetworkLayer {
  /** Source and destination addresses as printed. */
  readonly srcAddr: string;
  readonly dstAddr: string;
  /** 4 or 6. */
  readonly ipVersion: number;
  /** Adds the pseudo-header of an upper-layer packet of `length` bytes and protocol `proto` to a checksum sum. */
  pseudoHeaderSum(proto: number, length: number): number;
}

export function isNetworkLayer(l: unknown): l is NetworkLayer {
  return l != null && typeof (l as NetworkLayer).ipVersion === 'number';
}
