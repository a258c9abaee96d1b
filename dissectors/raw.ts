/**
 * Raw IP link types: LINKTYPE_RAW (101, and the BSD DLT values 12 and 14) and LINKTYPE_IPV4 (228)
 * / LINKTYPE_IPV6 (229). tcpdump prints all of them with one printer (print-raw.c, ipN_print):
 * "ip: " with -e, then IPv4 or IPv6 chosen by the version nibble whatever the link type says.
 * So 228 and 229 are bound here too, to a header-less layer that dispatches the same way.
 * tshark shows a "raw" layer for 101 only.
 */
import { bind, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { ETHERTYPE } from './ethertypes.js';

export class RawLayer extends Layer {
  /** The IP version nibble of the first byte. */
  version = 0;
}

function decode(l: RawLayer, v: ByteView): void {
  l.hdrLen = 0;
  l.payloadLen = l.length;
  if (l.length < 1) return;
  l.version = v.u8(0) >> 4;
  if (l.version === 4) {
    l.nextTable = Table.EtherType;
    l.nextKey = ETHERTYPE.IPV4;
  } else if (l.version === 6) {
    l.nextTable = Table.EtherType;
    l.nextKey = ETHERTYPE.IPV6;
  }
}

function encode(_l: RawLayer, payload: Uint8Array, _ctx: EncodeContext): Uint8Array {
  return payload;
}

function print(p: Packet, i: number, out: TextOut): void {
  const l = p.layers[i] as RawLayer;
  if (i === 0) out.linkHdrLen = 0;
  if (out.opts.e) out.s += 'ip: ';
  if (l.length < 1) {
    out.s += 'truncated-ip ' + l.length;
    return;
  }
  if (l.truncated) {
    out.trunc('ipn');
    return;
  }
  if (i + 1 < p.layers.length) out.printLayer(p, i + 1);
  else out.s += 'unknown ip ' + l.version;
}

export const raw: Dissector<RawLayer> = {
  name: 'raw',
  protocols: 'raw',
  create: () => new RawLayer(),
  decode: (l, v) => decode(l, v),
  encode,
  print,
  json: (l) => ({ version: l.version }),
};

/** LINKTYPE_IPV4/IPV6: the same, with no layer of its own in tshark's protocol list. */
export const rawIp: Dissector<RawLayer> = {
  name: 'ipn',
  protocols: '',
  create: () => new RawLayer(),
  decode: (l, v) => decode(l, v),
  encode,
  print,
  json: (l) => ({ version: l.version }),
};

bind(Table.LinkType, 101, raw);
bind(Table.LinkType, 12, raw);
bind(Table.LinkType, 14, raw);
bind(Table.LinkType, 228, rawIp);
bind(Table.LinkType, 229, rawIp);
