/**
 * IEEE 802.1Q VLAN tags (TPID 0x8100, and the 0x9100/0x9200 QinQ variants) and 802.1ad
 * service tags (TPID 0x88a8): one layer per tag, so stacked tags are stacked layers.
 * tcpdump prints them inside its Ethernet printer (print-ether.c) and cooked-capture printer
 * (print-sll.c), each its own way; tshark fields: vlan.* and ieee8021ad.*.
 *
 * To build a tag: makeLayer(dot1q, { vid: 100, pcp: 3 }) between the Ethernet layer and the
 * payload (makeLayer(dot1ad, ...) for an 802.1ad outer tag); with fixLengths the TPID and inner
 * type are derived from the neighbouring layers.
 */
import { bind, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { EthernetLayer, defaultPrint, innerEtherType, lengthFramed, printUnknownEtherType } from './ethernet.js';
import { ETHERTYPE, ETHERTYPE_LLC, MAX_ETHERNET_LENGTH, etherTypeName, etherTypeText, hex4, isVlanTpid } from './ethertypes.js';
import { CookedLayer, printCookedPayload } from './sll.js';

/** Field offsets, shared by decode and encode. */
export const VLAN = { TCI: 0, TYPE: 2, HEADER_LEN: 4 } as const;

export class VlanLayer extends Layer {
  /** Priority code point, 0-7. */
  pcp = 0;
  /** Drop eligible indicator, 0 or 1. */
  dei = 0;
  /** VLAN identifier, 0-4095. */
  vid = 0;
  /** The inner EtherType, or an 802.3 length when <= 1500. */
  type = 0;

  get tci(): number {
    return ((this.pcp & 7) << 13) | ((this.dei & 1) << 12) | (this.vid & 0xfff);
  }
}

/** Index of the layer the tags at i sit on: the nearest layer below i that is not a tag. */
export function linkBelow(p: Packet, i: number): number {
  let j = i - 1;
  while (j > 0 && p.layers[j] instanceof VlanLayer) j--;
  return j;
}

/** The type field of the layer below a tag: the tag's own TPID. */
function tpidOf(below: Layer): number {
  if (below instanceof VlanLayer || below instanceof EthernetLayer) return below.type;
  if (below instanceof CookedLayer) return below.protocol;
  return ETHERTYPE.VLAN;
}

/** ieee8021q_tci_string: "vlan 100, p 0" and ", DEI" when set. */
function tciText(l: VlanLayer): string {
  return 'vlan ' + l.vid + ', p ' + l.pcp + (l.dei ? ', DEI' : '');
}

function decode(l: VlanLayer, v: ByteView, p: Packet): void {
  const tci = v.u16(VLAN.TCI);
  l.pcp = tci >> 13;
  l.dei = (tci >> 12) & 1;
  l.vid = tci & 0xfff;
  l.type = v.u16(VLAN.TYPE);
  l.hdrLen = VLAN.HEADER_LEN;
  if (l.length < VLAN.HEADER_LEN) { l.invalid = 'length'; return; }
  const rest = l.length - VLAN.HEADER_LEN;
  l.payloadLen = rest;
  l.nextTable = Table.EtherType;
  if (l.type <= MAX_ETHERNET_LENGTH) {
    // On Ethernet an 802.3 length bounds the payload; cooked captures take it as plain 802.2.
    const i = p.layers.length - 1;
    if (!(p.layers[linkBelow(p, i)] instanceof CookedLayer) && l.type < rest) l.payloadLen = l.type;
    l.nextKey = ETHERTYPE_LLC;
    l.dissector = l.dissector === dot1ad ? dot1adLength : dot1qLength;
  } else l.nextKey = l.type === ETHERTYPE.JUMBO ? ETHERTYPE_LLC : l.type;
}

function encode(l: VlanLayer, payload: Uint8Array, ctx: EncodeContext): Uint8Array {
  const out = new Uint8Array(VLAN.HEADER_LEN + payload.length);
  const tci = l.tci;
  const type = ctx.opts.fixLengths ? innerEtherType(l.type, ctx, payload.length) : l.type;
  out[VLAN.TCI] = tci >> 8;
  out[VLAN.TCI + 1] = tci & 0xff;
  out[VLAN.TYPE] = type >> 8;
  out[VLAN.TYPE + 1] = type & 0xff;
  out.set(payload, VLAN.HEADER_LEN);
  return out;
}

function print(p: Packet, i: number, out: TextOut): void {
  const l = p.layers[i] as VlanLayer;
  const o = out.opts;
  // Tags on the capture's own link header count as link layer for -x (all of it when cut short).
  if (out.linkHdrLen === l.off) out.linkHdrLen = l.truncated || l.invalid ? p.frame.capLen : l.off + VLAN.HEADER_LEN;
  if (l.truncated || l.invalid) {
    out.trunc('vlan');
    return;
  }
  const link = linkBelow(p, i);
  const linkLayer = p.layers[link];
  if (linkLayer instanceof CookedLayer) {
    // sll_if_print: the tag and the bare inner type name (printed even without -e), no TPID.
    if (o.e) out.s += tciText(l) + ', ';
    const inner = l.type <= MAX_ETHERNET_LENGTH ? ETHERTYPE_LLC : l.type;
    if (!o.q) out.s += 'ethertype ' + etherTypeName(inner) + ', ';
    printCookedPayload(p, link, i, inner, out);
    return;
  }
  if (o.e) {
    const tpid = tpidOf(p.layers[i - 1]);
    out.s += etherTypeText(tpid, o.q) + (i - 1 === link ? ', length ' + linkLayer.length + ': ' : ', ') + tciText(l) + ', ';
    if (l.type <= MAX_ETHERNET_LENGTH) out.s += '802.3';
    else if (!isVlanTpid(l.type) && l.type !== ETHERTYPE.JUMBO) out.s += etherTypeText(l.type, o.q) + ', ';
  }
  if (i + 1 < p.layers.length) out.printLayer(p, i + 1);
  else if (linkLayer instanceof EthernetLayer) printUnknownEtherType(p, link, i, l.type, out);
  else defaultPrint(out, p.payloadOf(l));
}

/** 802.1Q C-tags (and the 0x9100/0x9200 TPIDs, which tshark also shows as vlan). */
export const dot1q: Dissector<VlanLayer> = {
  name: 'vlan',
  protocols: 'vlan:ethertype',
  create: () => new VlanLayer(),
  decode,
  encode,
  print,
  fields: {
    'vlan.priority': (l) => l.pcp,
    'vlan.dei': (l) => l.dei,
    'vlan.id': (l) => l.vid,
    'vlan.etype': (l) => (l.type > MAX_ETHERNET_LENGTH ? hex4(l.type) : undefined),
    'vlan.len': (l) => (l.type <= MAX_ETHERNET_LENGTH ? l.type : undefined),
  },
  json: (l) => ({ pcp: l.pcp, dei: l.dei, vid: l.vid, type: l.type }),
};

/** 802.1ad S-tags (TPID 0x88a8), tshark's ieee8021ad. */
export const dot1ad: Dissector<VlanLayer> = {
  name: 'ieee8021ad',
  protocols: 'ieee8021ad:ethertype',
  create: () => new VlanLayer(),
  decode,
  encode,
  print,
  fields: {
    'ieee8021ad.priority': (l) => l.pcp,
    'ieee8021ad.dei': (l) => l.dei,
    'ieee8021ad.id': (l) => l.vid,
    'ieee8021ah.etype': (l) => hex4(l.type),
  },
  json: (l) => ({ pcp: l.pcp, dei: l.dei, vid: l.vid, type: l.type }),
};

const dot1qLength = lengthFramed(dot1q);
const dot1adLength = lengthFramed(dot1ad);

bind(Table.EtherType, ETHERTYPE.VLAN, dot1q);
bind(Table.EtherType, ETHERTYPE.VLAN_9100, dot1q);
bind(Table.EtherType, ETHERTYPE.VLAN_9200, dot1q);
bind(Table.EtherType, ETHERTYPE.QINQ, dot1ad);
