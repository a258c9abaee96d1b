/**
 * Linux "cooked" capture header v2, LINKTYPE_LINUX_SLL2 (276): v1 plus the interface index.
 * tcpdump: print-sll.c (sll2_if_print); tshark fields: sll.* (sll.ifindex).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { bind, Table, type Dissector, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { lengthFramed } from './ethernet.js';
import {
  CookedLayer, cookedAddrText, cookedFields, cookedProtocol, cookedProtocolText, endCookedDecode, pktTypeName, printCooked,
} from './sll.js';

/** Field offsets, shared by decode and encode. */
export const SLL2 = {
  PROTOCOL: 0, RESERVED: 2, IFINDEX: 4, HATYPE: 8, PKTTYPE: 10, HALEN: 11, ADDR: 12, HEADER_LEN: 20,
} as const;

export class Sll2Layer extends CookedLayer {
  /** 1-based index of the interface the packet was captured on. */
  ifIndex = 1;
  /** Must be zero. */
  reserved = 0;
  protected override addrOffset: number = SLL2.ADDR;

  /** sll2_print's text: interface index, address, protocol and length. */
  override headerText(length: number, out: TextOut): string {
    return 'ifindex ' + this.ifIndex + ' ' + cookedAddrText(this, out.opts.n) + cookedProtocolText(this.protocol, length, out.opts.q);
  }
}

let interfaceNames: Map<number, string> | null = null;

/**
 * The name of local interface `index` (if_indextoname, which tcpdump uses to label SLL2 frames:
 * the capture's interfaces are looked up on the machine reading it), or "?".
 */
export function interfaceName(index: number): string {
  if (interfaceNames === null) {
    interfaceNames = new Map();
    try {
      for (const name of readdirSync('/sys/class/net')) {
        try {
          interfaceNames.set(Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8')), name);
        } catch { /* an interface that vanished meanwhile */ }
      }
    } catch { /* not Linux: no names, as if_indextoname finds none */ }
  }
  return interfaceNames.get(index) ?? '?';
}

export const sll2: Dissector<Sll2Layer> = {
  name: 'sll2',
  protocols: 'sll:ethertype',
  create: () => new Sll2Layer(),

  decode(l, v: ByteView, _p) {
    v.check(0, SLL2.HEADER_LEN);
    l.protocol = v.u16(SLL2.PROTOCOL);
    l.reserved = v.u16(SLL2.RESERVED);
    l.ifIndex = v.u32(SLL2.IFINDEX);
    l.haType = v.u16(SLL2.HATYPE);
    l.pktType = v.u8(SLL2.PKTTYPE);
    l.haLen = v.u8(SLL2.HALEN);
    endCookedDecode(l, SLL2.HEADER_LEN, sll2LengthFramed);
  },

  encode(l, payload, ctx) {
    const out = new Uint8Array(SLL2.HEADER_LEN + payload.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(SLL2.PROTOCOL, cookedProtocol(l, ctx, payload.length));
    dv.setUint16(SLL2.RESERVED, l.reserved);
    dv.setUint32(SLL2.IFINDEX, l.ifIndex);
    dv.setUint16(SLL2.HATYPE, l.haType);
    out[SLL2.PKTTYPE] = l.pktType;
    out[SLL2.HALEN] = l.haLen;
    out.set(l.addr, SLL2.ADDR);
    out.set(payload, SLL2.HEADER_LEN);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as Sll2Layer;
    if (l.truncated) {
      out.truncJump('sll2');
      return;
    }
    // Printed even without -e: "%-5s %-3s " interface name and packet type.
    const ifName = interfaceName(l.ifIndex);
    const type = pktTypeName(l.pktType);
    out.s += (ifName.length >= 5 ? ifName : ifName + '     '.slice(ifName.length)) + ' ' +
      (type.length >= 3 ? type : type + '   '.slice(type.length)) + ' ';
    printCooked(p, i, SLL2.HEADER_LEN, out);
  },

  fields: { ...cookedFields, 'sll.ifindex': (l) => l.ifIndex },

  json(l) {
    return { protocol: l.protocol, ifIndex: l.ifIndex, haType: l.haType, pktType: l.pktType, haLen: l.haLen, src: l.srcAddr };
  },
};

const sll2LengthFramed = lengthFramed(sll2);

bind(Table.LinkType, 276, sll2);
