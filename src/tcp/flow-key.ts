/**
 * The key of a TCP segment's connection: its two endpoints (address and port) as numbers, hashed
 * the same way in both directions, so the tracker finds a connection without making a string per
 * segment.
 */
import { ipv4Of, ipv6At } from '../output/format.js';

/** Endpoint text as in tshark's "Node" lines: "10.0.0.1:80", "[2001:db8::1]:80". */
export function endpointText(addr: string, port: number): string {
  return addr.indexOf(':') >= 0 ? '[' + addr + ']:' + port : addr + ':' + port;
}

/** An address as the tracker compares it: IP version and four 32-bit words (IPv4: the first word only). */
export interface AddressWords {
  version: number;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
}

/** Bytes of an IPv6 address, for its text. */
const v6Bytes = new Uint8Array(16);

/** An address's text, as the IP layers give it (dotted IPv4, RFC 5952 IPv6). */
export function addressText(a: AddressWords): string {
  if (a.version === 4) return ipv4Of(a.w0);
  const w = [a.w0, a.w1, a.w2, a.w3];
  for (let k = 0; k < 4; k++) {
    v6Bytes[4 * k] = w[k] >>> 24;
    v6Bytes[4 * k + 1] = (w[k] >>> 16) & 0xff;
    v6Bytes[4 * k + 2] = (w[k] >>> 8) & 0xff;
    v6Bytes[4 * k + 3] = w[k] & 0xff;
  }
  return ipv6At(v6Bytes, 0);
}

function word(buf: Uint8Array, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

function mix(h: number, w: number): number {
  return Math.imul(h ^ w, 0x01000193);
}

/** Hash of one endpoint (the key's hash adds both, so it is the same either way). */
function endpointHash(version: number, w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = mix(mix(mix(mix(mix(0x811c9dc5 ^ version, w0), w1), w2), w3), port);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d);
}

/** The endpoints of one segment, sender first. One object is refilled for every segment. */
export class FlowKey {
  version = 4;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  srcPort = 0;
  dstPort = 0;

  setV4(src: number, dst: number, srcPort: number, dstPort: number): void {
    this.version = 4;
    this.s0 = src;
    this.d0 = dst;
    this.s1 = this.s2 = this.s3 = this.d1 = this.d2 = this.d3 = 0;
    this.srcPort = srcPort;
    this.dstPort = dstPort;
  }

  /** IPv6 addresses at buf[src] and buf[dst]. */
  setV6(buf: Uint8Array, src: number, dst: number, srcPort: number, dstPort: number): void {
    this.version = 6;
    this.s0 = word(buf, src);
    this.s1 = word(buf, src + 4);
    this.s2 = word(buf, src + 8);
    this.s3 = word(buf, src + 12);
    this.d0 = word(buf, dst);
    this.d1 = word(buf, dst + 4);
    this.d2 = word(buf, dst + 8);
    this.d3 = word(buf, dst + 12);
    this.srcPort = srcPort;
    this.dstPort = dstPort;
  }

  /** The same for both directions; a small integer (a fast Map key). */
  hash(): number {
    const v = this.version;
    return (endpointHash(v, this.s0, this.s1, this.s2, this.s3, this.srcPort) + endpointHash(v, this.d0, this.d1, this.d2, this.d3, this.dstPort)) & 0x3fffffff;
  }

  /** Whether endpoint e is this segment's sender (src true) or receiver. */
  is(e: AddressWords & { readonly port: number }, src: boolean): boolean {
    return src
      ? e.port === this.srcPort && e.w0 === this.s0 && e.w1 === this.s1 && e.w2 === this.s2 && e.w3 === this.s3 && e.version === this.version
      : e.port === this.dstPort && e.w0 === this.d0 && e.w1 === this.d1 && e.w2 === this.d2 && e.w3 === this.d3 && e.version === this.version;
  }

  /** The sender's (src true) or receiver's address. */
  address(src: boolean): AddressWords {
    return src
      ? { version: this.version, w0: this.s0, w1: this.s1, w2: this.s2, w3: this.s3 }
      : { version: this.version, w0: this.d0, w1: this.d1, w2: this.d2, w3: this.d3 };
  }
}
