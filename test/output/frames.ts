/**
 * Hand-built frames for the output tests, a pcap file of them so tshark can read the same bytes,
 * and a stand-in dissector with a nested packet (the convention an ICMP error follows).
 */
import { writeFileSync } from 'node:fs';
import { bind, decodeChain, Layer, lookup, Packet, Table, type Dissector } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';

export const MACS = '020000000001 020000000002';

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function frame(number: number, tsSec: number, tsNsec: number, data: Uint8Array, origLen = data.length, linkType = 1): Frame {
  return { number, linkType, tsSec, tsNsec, capLen: data.length, origLen, data, ifIndex: 0 };
}

/** Hex of an IPv4 header (192.0.2.10 > 198.51.100.20, TTL 63, valid checksum) and its payload. */
export function ipv4(proto: number, id: number, flagsFrag: number, payload: string): string {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length / 2, 2);
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE(flagsFrag, 6);
  h[8] = 63;
  h[9] = proto;
  h.set([192, 0, 2, 10, 198, 51, 100, 20], 12);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return h.toString('hex') + payload;
}

/** A nanosecond pcap of frames (one link type). */
export function writeNsecPcap(file: string, frames: Frame[]): void {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b23c4d, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(frames[0]?.linkType ?? 1, 20);
  parts.push(head);
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(f.tsSec >>> 0, 0);
    rec.writeUInt32LE(f.tsNsec, 4);
    rec.writeUInt32LE(f.capLen, 8);
    rec.writeUInt32LE(f.origLen, 12);
    parts.push(rec, Buffer.from(f.data.buffer, f.data.byteOffset, f.capLen));
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** IP protocol the stand-in quoting dissector is bound to (253: reserved for experiments). */
export const QUOTE_PROTO = 253;

/** A stand-in for an ICMP error: one code byte, then the quoted IPv4 datagram as a nested Packet. */
export class QuoteLayer extends Layer {
  code = 0;
  nested: Packet[] = [];
}

export const quoteDissector: Dissector<QuoteLayer> = {
  name: 'quotetest',
  protocols: 'quotetest',
  create: () => new QuoteLayer(),
  decode(l, v, p) {
    l.code = v.u8(0);
    l.hdrLen = 1;
    l.payloadLen = l.length - 1;
    const inner = new Packet(p.frame, p.buf);
    decodeChain(inner, lookup(Table.EtherType, 0x0800), v.slice(1), l.payloadLen);
    l.nested.push(inner);
  },
  print() {},
  fields: { 'quotetest.code': (l) => l.code, 'quotetest.list': () => [1, 'b'], 'quotetest.flag': (l) => l.code === 7 },
};

export function bindQuoteDissector(): void {
  bind(Table.IpProto, QUOTE_PROTO, quoteDissector);
}
