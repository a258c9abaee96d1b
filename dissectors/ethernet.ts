/**
 * Ethernet II (and 802.3 length frames), LINKTYPE_ETHERNET (1).
 * tcpdump: print-ether.c; tshark fields: eth.*.
 */
import { bind, keyOf, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { macAt, hex2 } from '../src/output/format.js';
import { etherTypeName } from './ethertypes.js';

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
    l.payloadLen = l.length - ETH.HEADER_LEN;
    if (l.type > 1500) {
      l.nextTable = Table.EtherType;
      l.nextKey = l.type;
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    const out = new Uint8Array(ETH.HEADER_LEN + payload.length);
    out.set(l.buf.subarray(l.off, l.off + 12), 0);
    let type = l.type;
    if (ctx.opts.fixLengths && ctx.inner.length) type = keyOf(ctx.inner[0].dissector, Table.EtherType) ?? type;
    out[ETH.TYPE] = type >> 8;
    out[ETH.TYPE + 1] = type & 0xff;
    out.set(payload, ETH.HEADER_LEN);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as EthernetLayer;
    out.linkHdrLen = l.off + ETH.HEADER_LEN;
    if (l.truncated) {
      out.s += '[|ether]';
      return;
    }
    const e = out.opts.e;
    if (e) out.s += l.src + ' > ' + l.dst + ', ';
    if (l.type <= 1500) {
      if (e) out.s += '802.3, length ' + l.type + ': ';
      out.s += 'LLC, dsap Unknown (0x' + hex2(p.buf[l.off + 14]) + ') Individual, ssap Unknown (0x' + hex2(p.buf[l.off + 15]) + ') Command, ctrl 0x' + hex2(p.buf[l.off + 16]) + ': ';
      return;
    }
    if (e) out.s += 'ethertype ' + etherTypeName(l.type) + ' (0x' + l.type.toString(16).padStart(4, '0') + '), length ' + p.frame.origLen + ': ';
    if (i + 1 < p.layers.length) out.printLayer(p, i + 1);
    else {
      if (!e) out.s += l.src + ' > ' + l.dst + ', ethertype ' + etherTypeName(l.type) + ' (0x' + l.type.toString(16).padStart(4, '0') + '), length ' + p.frame.origLen + ': ';
      out.defaultPrint(p.payloadOf(l));
    }
  },

  fields: {
    'eth.src': (l) => l.src,
    'eth.dst': (l) => l.dst,
    'eth.type': (l) => (l.type > 1500 ? '0x' + l.type.toString(16).padStart(4, '0') : undefined),
    'eth.len': (l) => (l.type <= 1500 ? l.type : undefined),
  },
};

/** Writes "aa:bb:cc:dd:ee:ff" as 6 bytes at out[o]. */
export function writeMac(out: Uint8Array, o: number, mac: string): void {
  const parts = mac.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC address: ${mac}`);
  for (let k = 0; k < 6; k++) out[o + k] = parseInt(parts[k], 16);
}

bind(Table.LinkType, 1, ethernet);
