/**
 * UDP (RFC 768), with the pseudo-header checksum over IPv4 and IPv6.
 * tcpdump: print-udp.c (the generic part: lengths, checksum, "UDP, length N"); tshark fields: udp.*.
 * Also the helpers TCP shares: finding the network layer below, port keys, in_cksum_shouldbe.
 */
import { bind, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import { checksumShouldBe, foldChecksum, sumWords } from '../src/core/checksum.js';
import { ascii, type TextOut } from '../src/output/text.js';
import { putPort } from '../src/output/host-names.js';
import { isNetworkLayer, type NetworkLayer } from './ipproto.js';

/** Field offsets, shared by decode and encode. */
export const UDP = { SPORT: 0, DPORT: 2, LENGTH: 4, CHECKSUM: 6, HEADER_LEN: 8 } as const;
export const IPPROTO_UDP = 17;

export class UdpLayer extends Layer {
  srcPort = 0;
  dstPort = 0;
  /** The length field (header + data) as sent; see effectiveLen for the RFC 2675 jumbo case. */
  ulen = 0;
  checksum = 0;
  /** Bytes of this layer that were captured (tcpdump's snapend), within what the IP layer claims. */
  caplen = 0;

  /** The UDP length tcpdump uses: a zero length field in a jumbogram means the IP payload length. */
  get effectiveLen(): number {
    return this.ulen === 0 && this.length > 65535 ? this.length : this.ulen;
  }
}

export const udp: Dissector<UdpLayer> = {
  name: 'udp',
  protocols: 'udp',
  create: () => new UdpLayer(),

  decode(l, v, _p) {
    l.caplen = v.length;
    l.srcPort = v.u16(UDP.SPORT);
    l.dstPort = v.u16(UDP.DPORT);
    if (l.length < UDP.HEADER_LEN) {
      // The IP payload cannot hold a UDP header; keep the length field when it was captured (tshark shows it).
      if (v.has(UDP.LENGTH, 2)) l.ulen = v.u16(UDP.LENGTH);
      l.invalid = 'truncated-udp';
      return;
    }
    l.ulen = v.u16(UDP.LENGTH);
    l.checksum = v.u16(UDP.CHECKSUM);
    l.hdrLen = UDP.HEADER_LEN;
    const ulen = l.effectiveLen;
    if (ulen < UDP.HEADER_LEN) {
      l.invalid = 'truncated-udplength';
      return;
    }
    if (ulen > l.length) l.invalid = 'bad length';
    l.payloadLen = Math.min(ulen, l.length) - UDP.HEADER_LEN;
    l.nextTable = Table.UdpPort;
    // Lower port first: the well-known side of a conversation (Wireshark's order too).
    l.nextKey = Math.min(l.srcPort, l.dstPort);
    l.altKey = Math.max(l.srcPort, l.dstPort);
  },

  encode(l, payload, ctx: EncodeContext) {
    const out = new Uint8Array(UDP.HEADER_LEN + payload.length);
    const ulen = ctx.opts.fixLengths ? out.length : l.ulen;
    put16(out, UDP.SPORT, l.srcPort);
    put16(out, UDP.DPORT, l.dstPort);
    put16(out, UDP.LENGTH, ulen);
    out.set(payload, UDP.HEADER_LEN);
    let sum = l.checksum;
    if (ctx.opts.computeChecksums) {
      const net = outerNetwork(ctx);
      if (net) {
        sum = foldChecksum(sumWords(out, 0, out.length, net.pseudoHeaderSum(IPPROTO_UDP, out.length)));
        // A computed zero is sent as all ones: zero means "no checksum" (RFC 768).
        if (sum === 0) sum = 0xffff;
      }
    }
    put16(out, UDP.CHECKSUM, sum);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as UdpLayer;
    const ni = networkIndex(p, i);
    const net = ni >= 0 ? (p.layers[ni] as Layer & NetworkLayer) : null;
    // tcpdump prints the addresses only when the IP header's own protocol is UDP (no extension headers between).
    const withAddrs = net !== null && ni === i - 1;
    if (l.caplen < 4) {
      if (withAddrs) putAddrPair(out, net, ': ');
      out.trunc('udp');
      return;
    }
    if (withAddrs) putEndpoints(out, net, 'udp', l.srcPort, l.dstPort);
    else putPorts(out, 'udp', l.srcPort, l.dstPort);
    if (l.invalid === 'truncated-udp') {
      out.s += 'truncated-udp ' + l.length;
      return;
    }
    if (l.truncated) {
      out.trunc('udp');
      return;
    }
    const ulen = l.effectiveLen;
    if (ulen < UDP.HEADER_LEN) {
      out.s += 'truncated-udplength ' + ulen;
      return;
    }
    const o = out.opts;
    // IPv4 checksums are checked from -vv (the UDP checksum is optional there), IPv6 ones from -v.
    if (net !== null && o.v && !o.K && (net.ipVersion === 6 || o.v > 1) && !isFragmented(p, ni, i)) {
      if (net.ipVersion === 4 && l.checksum === 0) out.s += '[no cksum] ';
      else if (l.caplen >= UDP.HEADER_LEN + l.payloadLen) {
        const n = UDP.HEADER_LEN + l.payloadLen;
        const sum = foldChecksum(sumWords(p.buf, l.off, l.off + n, net.pseudoHeaderSum(IPPROTO_UDP, n)));
        if (sum !== 0) out.s += '[bad udp cksum 0x' + hex4(l.checksum) + ' -> 0x' + hex4(checksumShouldBe(l.checksum, sum)) + '!] ';
        else out.s += '[udp sum ok] ';
      }
    }
    if (!o.q && i + 1 < p.layers.length) {
      out.printLayer(p, i + 1);
      return;
    }
    putUdpLength(p, i, ni, out);
  },

  fields: {
    'udp.srcport': (l) => (l.caplen >= 4 ? l.srcPort : undefined),
    'udp.dstport': (l) => (l.caplen >= 4 ? l.dstPort : undefined),
    'udp.length': (l) => (l.caplen >= 6 ? l.ulen : undefined),
    'udp.checksum': (l) => (l.hdrLen && l.effectiveLen >= UDP.HEADER_LEN ? '0x' + hex4(l.checksum) : undefined),
  },

  json(l) {
    return { srcPort: l.srcPort, dstPort: l.dstPort, length: l.ulen, checksum: l.checksum };
  },
};

const DOT = 0x2e;
/** Constant text as bytes (TextOut.putAscii). */
const ARROW_TEXT = ascii(' > '), COLON_SPACE_TEXT = ascii(': '), UDP_LENGTH_TEXT = ascii('UDP, length ');

/** Writes "src.sport > dst.dport: " as tcpdump's TCP and UDP printers start their lines (ports named for `proto` without -n). */
export function putEndpoints(out: TextOut, net: NetworkLayer, proto: 'tcp' | 'udp', sport: number, dport: number): void {
  net.putAddr(out, false);
  out.putChar(DOT);
  if (out.opts.n) out.num(sport);
  else putPort(out, proto, sport);
  out.putAscii(ARROW_TEXT);
  net.putAddr(out, true);
  out.putChar(DOT);
  if (out.opts.n) out.num(dport);
  else putPort(out, proto, dport);
  out.putAscii(COLON_SPACE_TEXT);
}

/** "sport > dport: ", where the network header does not carry the transport directly (no addresses). */
export function putPorts(out: TextOut, proto: 'tcp' | 'udp', sport: number, dport: number): void {
  putPort(out, proto, sport);
  out.putAscii(ARROW_TEXT);
  putPort(out, proto, dport);
  out.putAscii(COLON_SPACE_TEXT);
}

/** "src > dst" then `after`, the addresses as the network layer prints them. */
export function putAddrPair(out: TextOut, net: NetworkLayer, after: string): void {
  net.putAddr(out, false);
  out.putAscii(ARROW_TEXT);
  net.putAddr(out, true);
  out.put(after);
}

/**
 * How tcpdump ends the line of a UDP datagram (layer i, its network layer at ni or -1) whose payload
 * it does not decode: "UDP, length N", or "UDP, bad length N > M" when the length field claims more
 * than the IP payload holds and the datagram is not the first fragment of several.
 */
export function putUdpLength(p: Packet, i: number, ni: number, out: TextOut): void {
  const l = p.layers[i] as UdpLayer;
  const dataLen = l.effectiveLen - UDP.HEADER_LEN;
  if (dataLen > l.payloadLen && !(ni >= 0 && isFragmented(p, ni, i))) out.s += 'UDP, bad length ' + dataLen + ' > ' + l.payloadLen;
  else {
    out.putAscii(UDP_LENGTH_TEXT);
    out.num(dataLen);
  }
}

/** Index of the nearest layer below i that is IPv4 or IPv6 (extension headers may sit between), or -1. */
export function networkIndex(p: Packet, i: number): number {
  for (let k = i - 1; k >= 0; k--) if (isNetworkLayer(p.layers[k])) return k;
  return -1;
}

/** The nearest network layer outside the one being encoded (its pseudo-header), or undefined. */
export function outerNetwork(ctx: EncodeContext): NetworkLayer | undefined {
  for (const l of ctx.outer) if (isNetworkLayer(l)) return l;
  return undefined;
}

/**
 * tcpdump's `fragmented` argument to the transport printers: the datagram is the first fragment of
 * several (IPv4 MF set, or an IPv6 fragment header on the way), so the checksum cannot be checked.
 */
export function isFragmented(p: Packet, ni: number, i: number): boolean {
  if ((p.layers[ni] as { moreFragments?: boolean }).moreFragments === true) return true;
  for (let k = ni + 1; k < i; k++) if ((p.layers[k] as { fragment?: boolean }).fragment === true) return true;
  return false;
}

export { checksumShouldBe } from '../src/core/checksum.js';

export function hex4(n: number): string {
  const s = n.toString(16);
  return s.length >= 4 ? s : '0000'.slice(s.length) + s;
}

export function put16(out: Uint8Array, o: number, v: number): void {
  out[o] = (v >>> 8) & 0xff;
  out[o + 1] = v & 0xff;
}

bind(Table.IpProto, IPPROTO_UDP, udp);
