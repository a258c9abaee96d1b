/** LINKTYPE_* values wirescope reads, with tcpdump's names and descriptions. */
const LINK_TYPES = new Map<number, [string, string]>([
  [0, ['NULL', 'BSD loopback']],
  [1, ['EN10MB', 'Ethernet']],
  [12, ['RAW', 'Raw IP']],
  [14, ['RAW', 'Raw IP']],
  [101, ['RAW', 'Raw IP']],
  [108, ['LOOP', 'OpenBSD loopback']],
  [113, ['LINUX_SLL', 'Linux cooked v1']],
  [228, ['IPV4', 'Raw IPv4']],
  [229, ['IPV6', 'Raw IPv6']],
  [276, ['LINUX_SLL2', 'Linux cooked v2']],
]);

/** "EN10MB (Ethernet)", as tcpdump names a link type; unknown ones by number. */
export function linkTypeDescription(lt: number): string {
  const e = LINK_TYPES.get(lt);
  return e ? `${e[0]} (${e[1]})` : `${lt}`;
}
