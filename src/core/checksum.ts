/** The Internet checksum (RFC 1071) in pieces, so pseudo-headers need no copies. */

/** Adds buf[start, end) as big-endian 16-bit words to a running 32-bit sum. */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/** Folds a running sum into the one's-complement 16-bit checksum. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return foldChecksum(sumWords(buf, start, end));
}

/**
 * tcpdump's in_cksum_shouldbe: given the checksum field and the checksum computed over the data
 * including that field, what the field should have held (one's-complement sum with end-around carry).
 */
export function checksumShouldBe(field: number, computed: number): number {
  let s = field + computed;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s & 0xffff;
}
