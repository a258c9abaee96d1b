/** EtherType names as tcpdump prints them (ethertype_values in print-ether.c). */
const NAMES = new Map<number, string>([
  [0x0800, 'IPv4'], [0x0806, 'ARP'], [0x8035, 'Reverse ARP'], [0x86dd, 'IPv6'],
  [0x8100, '802.1Q'], [0x88a8, '802.1Q-QinQ'], [0x9100, '802.1Q-9100'], [0x9200, '802.1Q-9200'],
  [0x8847, 'MPLS unicast'], [0x8848, 'MPLS multicast'], [0x8863, 'PPPoE D'], [0x8864, 'PPPoE S'],
  [0x888e, 'EAPOL'], [0x88cc, 'LLDP'], [0x8809, 'Slow Protocols'], [0x88e5, 'MACsec'],
  [0x8137, 'IPX'], [0x809b, 'Appletalk'], [0x80f3, 'Appletalk ARP'], [0x6000, 'DEC'],
  [0x6003, 'DN'], [0x6004, 'LAT'], [0x8038, 'Lanbridge'], [0x9000, 'Loopback'],
  [0x88f7, 'PTP'], [0x8902, 'CFM'], [0x88b5, 'IEEE1905.1'], [0x893a, 'IEEE1905.1'],
  [0x880b, 'PPP'], [0x8819, 'CobraNet'], [0x22f0, 'AVB'], [0x88ca, 'TIPC'],
  [0x8906, 'FCoE'], [0x8914, 'FIP'], [0x88e7, 'PBB'], [0x8892, 'PROFINET'], [0x22eb, 'Arista Vendor Specific Protocol'],
]);

export function etherTypeName(t: number): string {
  return NAMES.get(t) ?? 'Unknown';
}
