/**
 * Ethernet II (and 802.3 length frames), LINKTYPE_ETHERNET (1).
 * tcpdump: print-ether.c (ether_common_print); tshark fields: eth.*.
 * VLAN tags are their own layers (dot1q.ts) and 802.3 frames hand on to LLC (llc.ts), but the
 * text is printed as tcpdump's single Ethernet printer does, so those printers share the helpers here.
 */
import { bind, keyOf, lookup, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import { hexAndAscii, type TextOut } from '../src/output/text.js';
import { macAt } from '../src/output/format.js';
import { ETHERTYPE, ETHERTYPE_LLC, MAX_ETHERNET_LENGTH, etherTypeText, hex4, isVlanTpid, ouiName } from './ethertypes.js';

/** Field offsets, shared by decode and encode. */
export const ETH = { DST: 0, SRC: 6, TYPE: 12, HEADER_LEN: 14 } as const;

export class EthernetLayer extends Layer {
  /** EtherType, or the 802.3 length when <= 1500. */
  type = 0;
  /** Addresses are formatted on demand: most output never shows them. */
  get dst(): string { return macAt(this.buf, this.off + ETH.DST); }
  get src(): string { return macAt(this.buf, this.off + ETH.SRC); }
  set dst(mac: string) { this.setMac(ETH.DST, mac); }
  set src(mac: string) { this.setMac(ETH.SRC, mac); }
  private setMac(o: number, mac: string): void {
    if (!this.buf) { this.buf = new Uint8Array(ETH.HEADER_LEN); this.off = 0; }
    writeMac(this.buf, this.off + o, mac);
  }
}

export const ethernet: Dissector<EthernetLayer> = {
  name: 'eth',
  protocols: 'eth:ethertype',
  create: () => new EthernetLayer(),

  decode(l, v, _p) {
    l.type = v.u16(ETH.TYPE);
    l.hdrLen = ETH.HEADER_LEN;
    if (l.length < ETH.HEADER_LEN) { l.invalid = 'length'; return; }
    const rest = l.length - ETH.HEADER_LEN;
    l.nextTable = Table.EtherType;
    if (l.type <= MAX_ETHERNET_LENGTH) {
      // An 802.3 length: it bounds the payload (the rest is padding) and an LLC header follows.
      l.payloadLen = l.type < rest ? l.type : rest;
      l.nextKey = ETHERTYPE_LLC;
      l.dissector = ethernet8023;
    } else {
      l.payloadLen = rest;
      l.nextKey = l.type === ETHERTYPE.JUMBO ? ETHERTYPE_LLC : l.type;
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    const out = new Uint8Array(ETH.HEADER_LEN + payload.length);
    if (l.buf) out.set(l.buf.subarray(l.off, l.off + 12), 0);
    const type = ctx.opts.fixLengths ? innerEtherType(l.type, ctx, payload.length) : l.type;
    out[ETH.TYPE] = type >> 8;
    out[ETH.TYPE + 1] = type & 0xff;
    out.set(payload, ETH.HEADER_LEN);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as EthernetLayer;
    const o = out.opts;
    // Only the capture's own link header counts for -x; an Ethernet inside a tunnel does not.
    if (i === 0) out.linkHdrLen = l.truncated || l.invalid ? p.frame.capLen : ETH.HEADER_LEN;
    if (l.truncated || l.invalid) {
      out.trunc('ether');
      return;
    }
    if (o.e) out.s += macText(l.buf, l.off + ETH.SRC, o.n) + ' > ' + macText(l.buf, l.off + ETH.DST, o.n) + ', ';
    if (l.type <= MAX_ETHERNET_LENGTH) {
      if (o.e) out.s += '802.3, length ' + l.payloadLen + ': ';
      out.printLayer(p, i + 1);
      return;
    }
    // A VLAN tag prints its own TPID (tcpdump skips it when the tag is cut short); jumbo frames go straight to LLC.
    if (isVlanTpid(l.type) || l.type === ETHERTYPE.JUMBO) {
      out.printLayer(p, i + 1);
      return;
    }
    if (o.e) out.s += etherTypeText(l.type, o.q) + ', length ' + l.length + ': ';
    if (i + 1 < p.layers.length) out.printLayer(p, i + 1);
    else printUnknownEtherType(p, i, i, l.type, out);
  },

  fields: {
    // A header cut short shows no Ethernet field at all, as tshark does.
    'eth.dst': (l) => (l.truncated ? undefined : l.dst),
    'eth.src': (l) => (l.truncated ? undefined : l.src),
    'eth.addr': (l) => (l.truncated ? undefined : [l.dst, l.src]),
    'eth.type': (l) => (!l.truncated && l.type > MAX_ETHERNET_LENGTH ? hex4(l.type) : undefined),
    'eth.len': (l) => (!l.truncated && l.type <= MAX_ETHERNET_LENGTH ? l.type : undefined),
  },

  json(l) {
    return l.type > MAX_ETHERNET_LENGTH ? { dst: l.dst, src: l.src, type: l.type } : { dst: l.dst, src: l.src, len: l.type };
  },
};

/**
 * The same dissector for a header whose type field holds an 802.3 length, to which decode switches
 * the layer: tshark lists such a header without "ethertype" in frame.protocols ("eth:llc").
 */
export function lengthFramed<L extends Layer>(d: Dissector<L>): Dissector<L> {
  const colon = d.protocols.indexOf(':');
  return { ...d, protocols: colon < 0 ? d.protocols : d.protocols.slice(0, colon) };
}

const ethernet8023 = lengthFramed(ethernet);

/**
 * The payload of Ethernet layer `eth` had a type no dissector takes (layer `at` is the last one
 * decoded: the Ethernet or its innermost VLAN tag): tcpdump prints the addresses and the type
 * unless -e already did, then the bytes.
 */
export function printUnknownEtherType(p: Packet, eth: number, at: number, type: number, out: TextOut): void {
  const e = p.layers[eth] as EthernetLayer;
  const o = out.opts;
  if (!o.e) {
    out.s += macText(e.buf, e.off + ETH.SRC, o.n) + ' > ' + macText(e.buf, e.off + ETH.DST, o.n) + ', ' +
      etherTypeText(type, o.q) + ', length ' + e.length + ': ';
  }
  defaultPrint(out, p.payloadOf(p.layers[at]));
}

/**
 * ND_DEFAULTPRINT as callers guard it with suppress_default_print, which tcpdump sets for -x, -X
 * and -q but not for -A (TextOut.defaultPrint has -A instead of -q).
 */
export function defaultPrint(out: TextOut, v: ByteView): void {
  const o = out.opts;
  if (!o.q && !o.x && !o.X) out.s += hexAndAscii(v.buf, v.start, v.end, '\n\t', 0);
}

/**
 * A MAC address as tcpdump's etheraddr_string prints it: plain with -n; otherwise the broadcast
 * address by name and others with their OUI's name (there is no /etc/ethers lookup).
 */
export function macText(buf: Uint8Array, o: number, n: number): string {
  const mac = macAt(buf, o);
  if (n) return mac;
  if ((buf[o] & buf[o + 1] & buf[o + 2] & buf[o + 3] & buf[o + 4] & buf[o + 5]) === 0xff) return 'Broadcast';
  return mac + ' (oui ' + ouiName((buf[o] << 16) | (buf[o + 1] << 8) | buf[o + 2]) + ')';
}

/**
 * The EtherType (or 802.3 length) field for a header whose payload starts with ctx.inner[0]:
 * kept when the current value already selects that dissector, else the dissector's own key;
 * an LLC payload gets its length.
 */
export function innerEtherType(current: number, ctx: EncodeContext, payloadLen: number): number {
  if (!ctx.inner.length) return current;
  const d = ctx.inner[0].dissector;
  const key = keyOf(d, Table.EtherType);
  if (key === ETHERTYPE_LLC) return current === ETHERTYPE.JUMBO ? current : payloadLen;
  if (lookup(Table.EtherType, current) === d) return current;
  return key ?? current;
}

/** Writes "aa:bb:cc:dd:ee:ff" as 6 bytes at out[o]. */
export function writeMac(out: Uint8Array, o: number, mac: string): void {
  const parts = mac.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC address: ${mac}`);
  for (let k = 0; k < 6; k++) {
    const b = parseInt(parts[k], 16);
    if (!(b >= 0 && b <= 255)) throw new Error(`bad MAC address: ${mac}`);
    out[o + k] = b;
  }
}

bind(Table.LinkType, 1, ethernet);
