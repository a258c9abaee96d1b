/** Address and number formatting shared by every printer and field getter. */

const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const DEC = Array.from({ length: 256 }, (_, i) => String(i));

export function pad2(n: number): string {
  return n < 100 ? PAD2[n] : String(n);
}

const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

export function pad6(n: number): string {
  return n < 1000000 && n >= 0 ? PAD3[Math.floor(n / 1000)] + PAD3[n % 1000] : String(n);
}

export function pad9(n: number): string {
  const s = String(n);
  return s.length >= 9 ? s : '000000000'.slice(s.length) + s;
}

export function hex2(b: number): string {
  return HEX2[b & 0xff];
}

/** Dotted quad of the 4 bytes at buf[o]. */
export function ipv4At(buf: Uint8Array, o: number): string {
  return DEC[buf[o]] + '.' + DEC[buf[o + 1]] + '.' + DEC[buf[o + 2]] + '.' + DEC[buf[o + 3]];
}

/** Dotted quad of a 32-bit number. */
export function ipv4Of(a: number): string {
  return DEC[(a >>> 24) & 0xff] + '.' + DEC[(a >>> 16) & 0xff] + '.' + DEC[(a >>> 8) & 0xff] + '.' + DEC[a & 0xff];
}

/** Colon-separated lower-case MAC of the 6 bytes at buf[o]. */
export function macAt(buf: Uint8Array, o: number): string {
  return HEX2[buf[o]] + ':' + HEX2[buf[o + 1]] + ':' + HEX2[buf[o + 2]] + ':' + HEX2[buf[o + 3]] + ':' + HEX2[buf[o + 4]] + ':' + HEX2[buf[o + 5]];
}

/** Colon-separated hex of n bytes at buf[o] (hardware addresses of any length). */
export function hexColonAt(buf: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ':' : '') + HEX2[buf[o + i]];
  return s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16));

/** A 16-bit word in hex without leading zeros (Number's toString(16) is a call into the runtime). */
function hex16(w: number): string {
  return w < 0x100 ? HEX[w] : HEX[w >> 8] + HEX2[w & 0xff];
}

/** ipv6At's words: one array for every call instead of one per address printed. */
const words = new Uint16Array(8);

/** ipv6Layout's result for an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) address. */
export const IPV6_MAPPED = -2;
export const IPV6_COMPATIBLE = -3;

/**
 * Reads the IPv6 address at buf[o] into ipv6Words and says how inet_ntop prints it: IPV6_MAPPED,
 * IPV6_COMPATIBLE, or the longest run of zero words (length >= 2, first one wins) that becomes
 * "::", as start * 16 + length (-1 for none).
 */
export function ipv6Layout(buf: Uint8Array, o: number): number {
  const w = words;
  for (let i = 0; i < 8; i++) w[i] = (buf[o + 2 * i] << 8) | buf[o + 2 * i + 1];
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  // ::ffff:a.b.c.d and ::a.b.c.d (not :: or ::1), as inet_ntop prints them.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    if (bestLen === 6 && w[6] === 0 && (w[7] === 0 || w[7] === 1)) { /* :: and ::1 below */ }
    else return bestLen === 5 ? IPV6_MAPPED : IPV6_COMPATIBLE;
  }
  return bestStart < 0 ? -1 : bestStart * 16 + bestLen;
}

/** The words ipv6Layout read last. */
export const ipv6Words: Readonly<Uint16Array> = words;

/** IPv6 address at buf[o] in RFC 5952 form (inet_ntop's), with IPv4-mapped/compatible tails. */
export function ipv6At(buf: Uint8Array, o: number): string {
  const layout = ipv6Layout(buf, o);
  if (layout === IPV6_MAPPED) return '::ffff:' + ipv4At(buf, o + 12);
  if (layout === IPV6_COMPATIBLE) return '::' + ipv4At(buf, o + 12);
  const w = words;
  const bestStart = layout < 0 ? -1 : layout >> 4, bestLen = layout & 15;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) { s += '::'; i += bestLen - 1; continue; }
    // A colon between words, none at the start or straight after the "::".
    if (i > 0 && i !== bestStart + bestLen) s += ':';
    s += hex16(w[i]);
  }
  return s;
}
