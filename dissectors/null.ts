/**
 * BSD loopback headers: LINKTYPE_NULL (0), a 4-byte address family in the capturing host's byte
 * order, and LINKTYPE_LOOP (108), the same in network byte order (tcpdump swaps either when the
 * value looks byte-swapped).
 * tcpdump: print-null.c (null_if_print, loop_if_print); tshark fields: null.family.
 */
import { bind, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { defaultPrint } from './ethernet.js';
import { ETHERTYPE } from './ethertypes.js';

/** Field offsets, shared by decode and encode. */
export const NULL_HDR = { FAMILY: 0, HEADER_LEN: 4 } as const;

/** BSD AF_* values; IPv6's differs between the BSDs. */
export const BSD_AF = { INET: 2, NS: 6, ISO: 7, APPLETALK: 16, IPX: 23, INET6_BSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

const AF_NAMES = new Map<number, string>([
  [2, 'IPv4'], [6, 'NS'], [7, 'ISO'], [16, 'Appletalk'], [23, 'IPX'], [24, 'IPv6'], [28, 'IPv6'], [30, 'IPv6'],
]);

export class NullLayer extends Layer {
  /** Address family (BSD_AF). */
  family: number = BSD_AF.INET;
  /** The family field is little-endian (NULL captures from little-endian hosts; LOOP is big-endian). */
  littleEndian = true;
}

function decode(l: NullLayer, v: ByteView, loop: boolean): void {
  // Read in the link type's byte order (little-endian: tcpdump's host order) and swap when the
  // upper half is set, as tcpdump does: a NULL capture from a host of the other byte order.
  const first = loop ? v.u32(NULL_HDR.FAMILY) : v.u32le(NULL_HDR.FAMILY);
  const swapped = (first & 0xffff0000) !== 0;
  l.family = swapped ? (loop ? v.u32le(NULL_HDR.FAMILY) : v.u32(NULL_HDR.FAMILY)) : first;
  l.littleEndian = loop === swapped;
  l.hdrLen = NULL_HDR.HEADER_LEN;
  l.payloadLen = l.length - NULL_HDR.HEADER_LEN;
  const f = l.family;
  if (f === BSD_AF.INET) {
    l.nextTable = Table.EtherType;
    l.nextKey = ETHERTYPE.IPV4;
  } else if (f === BSD_AF.INET6_BSD || f === BSD_AF.INET6_FREEBSD || f === BSD_AF.INET6_DARWIN) {
    l.nextTable = Table.EtherType;
    l.nextKey = ETHERTYPE.IPV6;
  }
}

/** The family a payload layer implies (fixLengths): IPv4 2, IPv6 the BSD value unless one is set already. */
function familyFor(l: NullLayer, ctx: EncodeContext): number {
  if (!ctx.opts.fixLengths || !ctx.inner.length) return l.family;
  const name = ctx.inner[0].dissector.name;
  if (name === 'ip') return BSD_AF.INET;
  if (name === 'ipv6') {
    const f = l.family;
    return f === BSD_AF.INET6_BSD || f === BSD_AF.INET6_FREEBSD || f === BSD_AF.INET6_DARWIN ? f : BSD_AF.INET6_BSD;
  }
  return l.family;
}

function encode(l: NullLayer, payload: Uint8Array, ctx: EncodeContext): Uint8Array {
  const out = new Uint8Array(NULL_HDR.HEADER_LEN + payload.length);
  new DataView(out.buffer).setUint32(NULL_HDR.FAMILY, familyFor(l, ctx), l.littleEndian);
  out.set(payload, NULL_HDR.HEADER_LEN);
  return out;
}

/** null_hdr_print: "AF IPv4 (2), length N: ", or with -q "IPv4, length N: ". */
function headerText(family: number, length: number, quiet: number): string {
  const name = AF_NAMES.get(family);
  return (quiet ? name ?? 'Unknown AF ' + family : 'AF ' + (name ?? 'Unknown') + ' (' + family + ')') + ', length ' + length + ': ';
}

function print(p: Packet, i: number, out: TextOut): void {
  const l = p.layers[i] as NullLayer;
  // A cut-short header is a bounds-check longjmp in tcpdump: -x then dumps the whole frame.
  if (i === 0) out.linkHdrLen = l.truncated ? 0 : NULL_HDR.HEADER_LEN;
  if (l.truncated) {
    out.trunc('null');
    return;
  }
  const o = out.opts;
  if (o.e) out.s += headerText(l.family, l.length, o.q);
  if (i + 1 < p.layers.length) {
    out.printLayer(p, i + 1);
    return;
  }
  if (!o.e) out.s += headerText(l.family, l.length, o.q);
  defaultPrint(out, p.payloadOf(l));
}

export const nullLink: Dissector<NullLayer> = {
  name: 'null',
  protocols: 'null',
  create: () => new NullLayer(),
  decode: (l, v) => decode(l, v, false),
  encode,
  print,
  fields: { 'null.family': (l) => l.family },
  json: (l) => ({ family: l.family }),
};

export const loopLink: Dissector<NullLayer> = {
  name: 'loop',
  protocols: 'null',
  create: () => {
    const l = new NullLayer();
    l.littleEndian = false;
    return l;
  },
  decode: (l, v) => decode(l, v, true),
  encode,
  print,
  fields: { 'null.family': (l) => l.family },
  json: (l) => ({ family: l.family }),
};

bind(Table.LinkType, 0, nullLink);
bind(Table.LinkType, 108, loopLink);
