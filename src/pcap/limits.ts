/** Sanity limits on captured lengths, as libpcap applies them (pcap-common.c max_snaplen_for_dlt). */

/** libpcap's MAXIMUM_SNAPLEN: the largest packet most link types may claim. */
export const MAXIMUM_SNAPLEN = 262144;

const LINKTYPE_DBUS = 231;
const LINKTYPE_USBPCAP = 249;
const LINKTYPE_EBHSCR = 279;

/** The largest captured length believable for a link type; bigger means a damaged file. */
export function maxCapLenFor(linkType: number): number {
  switch (linkType) {
    case LINKTYPE_DBUS: return 128 * 1024 * 1024;
    case LINKTYPE_EBHSCR: return 8 * 1024 * 1024;
    case LINKTYPE_USBPCAP: return 1024 * 1024;
    default: return MAXIMUM_SNAPLEN;
  }
}

/** The snapshot length libpcap reports for a file header's value: 0, "negative" or oversized ones become the maximum. */
export function adjustSnaplen(linkType: number, snaplen: number): number {
  const max = maxCapLenFor(linkType);
  return snaplen === 0 || snaplen > 0x7fffffff || snaplen > max ? max : snaplen;
}
