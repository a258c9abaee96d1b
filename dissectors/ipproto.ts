/**
 * IP protocol numbers as tcpdump names them, and the interface transport printers need from
 * the network layer below them (IPv4 or IPv6).
 */
import type { TextOut } from '../src/output/text.js';

/** tcpdump's ipproto_values: the name in "-v" output ("proto TCP (6)", "next-header UDP (17)"). */
const NAMES = new Map<number, string>([
  [0, 'Options'], [1, 'ICMP'], [2, 'IGMP'], [4, 'IPIP'], [6, 'TCP'], [8, 'EGP'], [9, 'IGRP'],
  [17, 'UDP'], [33, 'DCCP'], [41, 'IPv6'], [43, 'Routing'], [44, 'Fragment'], [46, 'RSVP'],
  [47, 'GRE'], [50, 'ESP'], [51, 'AH'], [55, 'Mobile IP'], [58, 'ICMPv6'], [62, 'Mobile IP (old)'], [88, 'EIGRP'],
  [89, 'OSPF'], [103, 'PIM'], [108, 'Compressed IP'], [112, 'VRRP'], [113, 'PGM'], [132, 'SCTP'],
  [135, 'Mobility'], [143, 'Ethernet'],
]);

export function ipProtoName(p: number): string {
  return NAMES.get(p) ?? 'unknown';
}

/**
 * tcpdump's netdb_protoname: the IANA keywords it prints without -n ("128.32.46.142 > 10.0.0.1: tcp"
 * for a later fragment); numbers 0-142 here, the rest in protoKeyword. Empty: no keyword.
 */
const KEYWORDS = [
  'hopopt', 'icmp', 'igmp', 'ggp', 'ipencap', 'st', 'tcp', 'cbt', 'egp', 'igp', 'bbn-rcc-mon', 'nvp-ii', 'pup',
  'argus', 'emcon', 'xnet', 'chaos', 'udp', 'mux', 'dcn-meas', 'hmp', 'prm', 'xns-idp', 'trunk-1', 'trunk-2',
  'leaf-1', 'leaf-2', 'rdp', 'irtp', 'iso-tp4', 'netblt', 'mfe-nsp', 'merit-inp', 'dccp', '3pc', 'idpr', 'xtp',
  'ddp', 'idpr-cmtp', 'tp++', 'il', 'ipv6', 'sdrp', 'ipv6-route', 'ipv6-frag', 'idrp', 'rsvp', 'gre', 'dsr',
  'bna', 'esp', 'ah', 'i-nlsp', 'swipe', 'narp', 'mobile', 'tlsp', 'skip', 'ipv6-icmp', 'ipv6-nonxt',
  'ipv6-opts', '', 'cftp', '', 'sat-expak', 'kryptolan', 'rvd', 'ippc', '', 'sat-mon', 'visa', 'ipcv', 'cpnx',
  'rspf', 'wsn', 'pvp', 'br-sat-mon', 'sun-nd', 'wb-mon', 'wb-expak', 'iso-ip', 'vmtp', 'secure-vmtp', 'vines',
  'ttp', 'nsfnet-igp', 'dgp', 'tcf', 'eigrp', 'ospf', 'sprite-rpc', 'larp', 'mtp', 'ax.25', 'ipip', 'micp',
  'scc-sp', 'etherip', 'encap', '', 'gmtp', 'ifmp', 'pnni', 'pim', 'aris', 'scps', 'qnx', 'a/n', 'ipcomp',
  'snp', 'compaq-peer', 'ipx-in-ip', 'vrrp', 'pgm', '', 'l2tp', 'ddx', 'iatp', 'stp', 'srp', 'uti', 'smp',
  'sm', 'ptp', 'isis', 'fire', 'crtp', 'crudp', 'sscopmce', 'iplt', 'sps', 'pipe', 'sctp', 'fc',
  'rsvp-e2e-ignore', 'mobility-header', 'udplite', 'mpls-in-ip', 'manet', 'hip', 'shim6', 'wesp', 'rohc',
];

/** The keyword tcpdump prints for protocol p without -n, or null when it prints "ip-proto-N". */
export function protoKeyword(p: number): string | null {
  if (p < KEYWORDS.length) return KEYWORDS[p] || null;
  if (p === 253 || p === 254) return 'exptest-' + p;
  return p === 255 ? 'reserved' : null;
}

/** An IPv4 or IPv6 layer: what transport printers and pseudo-header checksums need from it. */
export interface NetworkLayer {
  /** Source and destination addresses, numeric (fields, JSON, and the text with -n). */
  readonly srcAddr: string;
  readonly dstAddr: string;
  /** Writes the source (dst false) or destination address to the text output: its host name where the output resolves (host-names.ts), else srcAddr/dstAddr. */
  putAddr(out: TextOut, dst: boolean): void;
  /** 4 or 6. */
  readonly ipVersion: number;
  /** Adds the pseudo-header of an upper-layer packet of `length` bytes and protocol `proto` to a checksum sum. */
  pseudoHeaderSum(proto: number, length: number): number;
}

export function isNetworkLayer(l: unknown): l is NetworkLayer {
  return l != null && typeof (l as NetworkLayer).ipVersion === 'number';
}
