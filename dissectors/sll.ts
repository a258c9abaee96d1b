/**
 * Linux "cooked" capture header v1, LINKTYPE_LINUX_SLL (113).
 * tcpdump: print-sll.c (sll_if_print); tshark fields: sll.*.
 * The v2 header (sll2.ts) shares the printing helpers below.
 */
import { bind, keyOf, Layer, Table, type Dissector, type EncodeContext, type FieldValue, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { hex2, hexColonAt, macAt } from '../src/output/format.js';
import { defaultPrint, innerEtherType, lengthFramed, macText } from './ethernet.js';
import { ETHERTYPE, ETHERTYPE_LLC, MAX_ETHERNET_LENGTH, etherTypeName, hex4, isVlanTpid } from './ethertypes.js';

/** Field offsets, shared by decode and encode. */
export const SLL = { PKTTYPE: 0, HATYPE: 2, HALEN: 4, ADDR: 6, PROTOCOL: 14, HEADER_LEN: 16, ADDR_LEN: 8 } as const;

/** Packet types (PACKET_* on Linux). */
export const SLL_PKTTYPE = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 } as const;

/** The protocol value for Novell 802.3 frames without an LLC header (ETH_P_802_3). */
export const SLL_P_802_3 = 0x0001;

const PKTTYPE_NAMES = ['In', 'B', 'M', 'P', 'Out'];
const ZERO_ADDR = new Uint8Array(SLL.ADDR_LEN);

/** tcpdump's sll_pkttype_values: "In", "B", "M", "P", "Out", or "?". */
export function pktTypeName(t: number): string {
  return t < PKTTYPE_NAMES.length ? PKTTYPE_NAMES[t] : '?';
}

/** The layer fields both cooked header versions have. */
export class CookedLayer extends Layer {
  /** Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us. */
  pktType = SLL_PKTTYPE.OUTGOING as number;
  /** ARPHRD_* type of the interface (1 Ethernet, 772 loopback, ...). */
  haType = 1;
  /** Length of the link-layer address (at most 8 are stored). */
  haLen = 6;
  /** EtherType, or ETH_P_802_2 (4) / ETH_P_802_3 (1) for 802.x frames. */
  protocol = 0;
  /** Where the 8-byte address field is in the header. */
  protected addrOffset: number = SLL.ADDR;
  /** The address field of a layer being built (srcAddr's setter); a decoded layer's is read from the packet. */
  private builtAddr: Uint8Array | null = null;

  /** The 8 bytes of the address field (only haLen of them are meaningful). */
  get addr(): Uint8Array {
    if (this.builtAddr !== null) return this.builtAddr;
    if (!this.buf) return ZERO_ADDR;
    const o = this.off + this.addrOffset;
    return this.buf.subarray(o, o + SLL.ADDR_LEN);
  }

  /** The source address as "aa:bb:...": hex of the first haLen (<= 8) bytes. */
  get srcAddr(): string {
    return this.haLen === 6 ? macAt(this.addr, 0) : hexColonAt(this.addr, 0, Math.min(this.haLen, SLL.ADDR_LEN));
  }
  set srcAddr(s: string) {
    const parts = s ? s.split(':') : [];
    if (parts.length > SLL.ADDR_LEN) throw new Error(`link-layer address too long: ${s}`);
    const a = new Uint8Array(SLL.ADDR_LEN);
    for (let k = 0; k < parts.length; k++) a[k] = parseInt(parts[k], 16);
    this.builtAddr = a;
    this.haLen = parts.length;
  }

  /** The address field's bytes past haLen as tshark's sll.unused shows them ("0000"), or undefined. */
  get unusedHex(): string | undefined {
    if (this.haLen >= SLL.ADDR_LEN) return undefined;
    let s = '';
    for (let k = this.haLen; k < SLL.ADDR_LEN; k++) s += hex2(this.addr[k]);
    return s;
  }

  /** tcpdump's -e text for this header (sll_print) in a frame of `length` bytes. */
  headerText(length: number, out: TextOut): string {
    const name = pktTypeName(this.pktType);
    return (name.length >= 3 ? name : '   '.slice(name.length) + name) + ' ' + cookedAddrText(this, out.opts.n) +
      cookedProtocolText(this.protocol, length, out.opts.q);
  }
}

export class SllLayer extends CookedLayer {}

/**
 * What decoding a cooked header of `headerLen` bytes ends with once its fields are read: the
 * lengths, and where the next layer is looked up from the protocol field, as sll_if_print
 * dispatches; a protocol that is no EtherType makes the layer's dissector `framed` (lengthFramed's).
 */
export function endCookedDecode<L extends CookedLayer>(l: L, headerLen: number, framed: Dissector<L>): void {
  l.hdrLen = headerLen;
  l.payloadLen = l.length - headerLen;
  if (l.protocol > MAX_ETHERNET_LENGTH) {
    l.nextTable = Table.EtherType;
    l.nextKey = l.protocol;
    return;
  }
  l.dissector = framed;
  if (l.protocol === ETHERTYPE_LLC) {
    l.nextTable = Table.EtherType;
    l.nextKey = ETHERTYPE_LLC;
  }
}

/** tcpdump's protocol text in sll_print/sll2_print: "ethertype IPv4 (0x0800), length N: ", nothing with -q. */
export function cookedProtocolText(protocol: number, length: number, quiet: number): string {
  if (quiet) return '';
  let s: string;
  if (protocol <= MAX_ETHERNET_LENGTH) {
    s = protocol === SLL_P_802_3 ? '802.3' : protocol === ETHERTYPE_LLC ? '802.2' : 'ethertype Unknown (' + hex4(protocol) + ')';
  } else s = 'ethertype ' + etherTypeName(protocol) + ' (' + hex4(protocol) + ')';
  return s + ', length ' + length + ': ';
}

/** "<halen 6 ? MAC + ' ' : ''>": the address as sll_print shows it. */
export function cookedAddrText(l: CookedLayer, n: number): string {
  return l.haLen === 6 ? macText(l.addr, 0, n) + ' ' : '';
}

/**
 * Prints what follows a cooked header (layer `link`) from layer `at` on (the header itself or its
 * innermost VLAN tag, whose type field is `type`), as sll_if_print does after its header: LLC,
 * 0x8100 VLAN tags, known types, or the raw bytes of anything else, preceded by the cooked header
 * when -e did not print it.
 */
export function printCookedPayload(p: Packet, link: number, at: number, type: number, out: TextOut): void {
  const hasNext = at + 1 < p.layers.length;
  if (type <= MAX_ETHERNET_LENGTH) {
    if (type === ETHERTYPE_LLC && hasNext) out.printLayer(p, at + 1);
    else defaultPrint(out, p.payloadOf(p.layers[at]));
    return;
  }
  // tcpdump's cooked printers take only 0x8100 as a VLAN tag: other TPIDs are unknown types.
  if (hasNext && (type === ETHERTYPE.VLAN || !isVlanTpid(type))) {
    out.printLayer(p, at + 1);
    return;
  }
  const l = p.layers[link] as CookedLayer;
  if (!out.opts.e) out.s += l.headerText(p.layers[at].payloadLen + l.hdrLen, out);
  defaultPrint(out, p.payloadOf(p.layers[at]));
}

/**
 * Prints a cooked header (layer i, `headerLen` bytes, not truncated) and what follows it: the
 * header with -e, then the payload, as sll_if_print and sll2_if_print do.
 */
export function printCooked(p: Packet, i: number, headerLen: number, out: TextOut): void {
  const l = p.layers[i] as CookedLayer;
  if (i === 0) out.linkHdrLen = headerLen;
  if (out.opts.e) out.s += l.headerText(l.length, out);
  printCookedPayload(p, i, i, l.protocol, out);
}

/** The protocol field to encode: recomputed from the inner layer with fixLengths (LLC payloads get ETH_P_802_2). */
export function cookedProtocol(l: CookedLayer, ctx: EncodeContext, payloadLen: number): number {
  if (!ctx.opts.fixLengths || !ctx.inner.length) return l.protocol;
  if (keyOf(ctx.inner[0].dissector, Table.EtherType) === ETHERTYPE_LLC) return ETHERTYPE_LLC;
  return innerEtherType(l.protocol, ctx, payloadLen);
}

/** tshark's sll.* fields of both header versions (v2 adds sll.ifindex). */
export const cookedFields: Readonly<Record<string, (l: CookedLayer) => FieldValue>> = {
  'sll.pkttype': (l) => l.pktType,
  'sll.hatype': (l) => l.haType,
  'sll.halen': (l) => l.haLen,
  'sll.src.eth': (l) => (l.haLen === 6 ? macAt(l.addr, 0) : undefined),
  'sll.unused': (l) => l.unusedHex,
  'sll.etype': (l) => (l.protocol > MAX_ETHERNET_LENGTH ? hex4(l.protocol) : undefined),
  'sll.ltype': (l) => (l.protocol <= MAX_ETHERNET_LENGTH ? hex4(l.protocol) : undefined),
};

export const sll: Dissector<SllLayer> = {
  name: 'sll',
  protocols: 'sll:ethertype',
  create: () => new SllLayer(),

  decode(l, v: ByteView, _p) {
    v.check(0, SLL.HEADER_LEN);
    l.pktType = v.u16(SLL.PKTTYPE);
    l.haType = v.u16(SLL.HATYPE);
    l.haLen = v.u16(SLL.HALEN);
    l.protocol = v.u16(SLL.PROTOCOL);
    endCookedDecode(l, SLL.HEADER_LEN, sllLengthFramed);
  },

  encode(l, payload, ctx) {
    const out = new Uint8Array(SLL.HEADER_LEN + payload.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(SLL.PKTTYPE, l.pktType);
    dv.setUint16(SLL.HATYPE, l.haType);
    dv.setUint16(SLL.HALEN, l.haLen);
    out.set(l.addr, SLL.ADDR);
    dv.setUint16(SLL.PROTOCOL, cookedProtocol(l, ctx, payload.length));
    out.set(payload, SLL.HEADER_LEN);
    return out;
  },

  print(p, i, out) {
    const l = p.layers[i] as SllLayer;
    if (l.truncated) {
      out.truncJump('sll');
      return;
    }
    printCooked(p, i, SLL.HEADER_LEN, out);
  },

  fields: cookedFields,

  json(l) {
    return { pktType: l.pktType, haType: l.haType, haLen: l.haLen, src: l.srcAddr, protocol: l.protocol };
  },
};

const sllLengthFramed = lengthFramed(sll);

bind(Table.LinkType, 113, sll);
