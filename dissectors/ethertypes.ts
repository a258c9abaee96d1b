/** EtherType values and names as tcpdump 4.99.3 prints them (ethertype_values in print-ether.c). */

export const ETHERTYPE = {
  IPV4: 0x0800, ARP: 0x0806, REVARP: 0x8035, IPV6: 0x86dd,
  VLAN: 0x8100, QINQ: 0x88a8, VLAN_9100: 0x9100, VLAN_9200: 0x9200,
  JUMBO: 0x8870,
} as const;

/**
 * Key under which the LLC dissector is bound in the EtherType table: Linux's ETH_P_802_2, the
 * protocol value cooked captures use for 802.2 frames. Ethernet and VLAN headers whose type field
 * is an 802.3 length hand on under it.
 */
export const ETHERTYPE_LLC = 0x0004;

/** Largest value of the Ethernet length/type field that is a length (802.3), not a type. */
export const MAX_ETHERNET_LENGTH = 1500;

const NAMES = new Map<number, string>([
  [0x0800, 'IPv4'], [0x8847, 'MPLS unicast'], [0x8848, 'MPLS multicast'], [0x86dd, 'IPv6'],
  [0x8100, '802.1Q'], [0x9100, '802.1Q-9100'], [0x88a8, '802.1Q-QinQ'], [0x9200, '802.1Q-9200'],
  [0x88e5, '802.1AE MACsec'], [0x0200, 'PUP'], [0x0806, 'ARP'], [0x8035, 'Reverse ARP'],
  [0x0600, 'NS'], [0x0500, 'Sprite'], [0x1000, 'Trail'], [0x6001, 'MOP DL'], [0x6002, 'MOP RC'],
  [0x6003, 'DN'], [0x6004, 'LAT'], [0x6007, 'SCA'], [0x6558, 'TEB'], [0x8038, 'Lanbridge'],
  [0x803c, 'DEC DNS'], [0x803e, 'DEC DTS'], [0x805b, 'VEXP'], [0x805c, 'VPROD'],
  [0x809b, 'Appletalk'], [0x80f3, 'Appletalk ARP'], [0x8137, 'IPX'], [0x880b, 'PPP'],
  [0x8808, 'MPCP'], [0x8809, 'Slow Protocols'], [0x8863, 'PPPoE D'], [0x8864, 'PPPoE S'],
  [0x888e, 'EAPOL'], [0x8899, 'Realtek protocols'], [0x886f, 'MS NLB heartbeat'], [0x8870, 'Jumbo'],
  [0x894f, 'NSH'], [0x9000, 'Loopback'], [0xfefe, 'OSI'], [0x00fe, 'GRE-OSI'], [0xabcd, 'CFM (old)'],
  [0x8902, 'CFM'], [0x893a, 'IEEE1905.1'], [0x88cc, 'LLDP'], [0x88ca, 'TIPC'], [0x0707, 'GeoNet (old)'],
  [0x8947, 'GeoNet'], [0x1111, 'CALM FAST'], [0x88a2, 'AoE'], [0x88f7, 'PTP'],
  [0xd28b, 'Arista Vendor Specific Protocol'],
]);

/** tcpdump's name for an EtherType, or undefined when it has none. */
export function etherTypeLookup(t: number): string | undefined {
  return NAMES.get(t);
}

/** tok2str(ethertype_values, "Unknown", t). */
export function etherTypeName(t: number): string {
  return NAMES.get(t) ?? 'Unknown';
}

/** "0x0800": the 4-digit hex form tcpdump and tshark print. */
export function hex4(t: number): string {
  const s = t.toString(16);
  return '0x' + (s.length >= 4 ? s : '0000'.slice(s.length) + s);
}

/** tcpdump's ether_type_print: "ethertype IPv4 (0x0800)", or with -q just the name ("Unknown Ethertype (0x1234)"). */
export function etherTypeText(t: number, quiet: number): string {
  if (quiet) return NAMES.get(t) ?? 'Unknown Ethertype (' + hex4(t) + ')';
  return 'ethertype ' + etherTypeName(t) + ' (' + hex4(t) + ')';
}

/** True for the TPIDs tcpdump treats as VLAN tags on Ethernet. */
export function isVlanTpid(t: number): boolean {
  return t === ETHERTYPE.VLAN || t === ETHERTYPE.QINQ || t === ETHERTYPE.VLAN_9100 || t === ETHERTYPE.VLAN_9200;
}

/** IEEE OUIs tcpdump names (oui_values in oui.c). */
const OUI_NAMES = new Map<number, string>([
  [0x000000, 'Ethernet'], [0x00000c, 'Cisco'], [0x00005e, 'IANA'], [0x000081, 'Nortel Networks SONMP'],
  [0x0000f8, 'Cisco bridged'], [0x0080c2, 'Ethernet bridged'], [0x00a03e, 'ATM Forum'],
  [0x00e02f, 'DOCSIS Spanning Tree'], [0x080007, 'Appletalk'], [0x009069, 'Juniper'], [0x080009, 'Hewlett-Packard'],
  [0x00120f, 'IEEE 802.3 Private'], [0x0012bb, 'ANSI/TIA'], [0x001b21, 'DCBX'], [0x002320, 'Nicira Networks'],
  [0x5c16c7, 'Big Switch Networks'], [0xb0d2f5, 'Vello Systems'], [0x002481, 'HP'], [0x0004ea, 'HP-Labs'],
  [0x748771, 'Infoblox Inc'], [0xa42305, 'Open Networking Lab'], [0x00049f, 'Freescale'], [0x0015ad, 'Netronome'],
  [0x001018, 'Broadcom'], [0x00e004, 'PMC-Sierra'], [0xd0f0db, 'Ericsson'],
]);

/** tok2str(oui_values, "Unknown", oui). */
export function ouiName(oui: number): string {
  return OUI_NAMES.get(oui) ?? 'Unknown';
}
