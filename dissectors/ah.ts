/**
 * IPsec Authentication Header (RFC 4302), IP protocol 51 under IPv4 and IPv6: next header, length,
 * SPI, sequence number and the ICV, then the protected payload, decoded on. Under IPv6 it is a
 * chain header (ipv6.ts Ipv6ChainLayer).
 * tcpdump: print-ah.c (ah_print); tshark fields: ah.* (packet-ipsec.c).
 */
import { bind, Table, type Dissector, type Packet } from '../src/core/dissector.js';
import type { TextOut } from '../src/output/text.js';
import { hex2 } from '../src/output/format.js';
import { abandon } from './ipv4.js';
import { hexBytes, hexPad, IPPROTO, Ipv6ChainLayer, nextKey, printNext, startChain } from './ipv6.js';

/** Field offsets, shared by decode and encode (the length field counts 32-bit words minus 2). */
export const AH = { NXT: 0, LEN: 1, RESERVED: 2, SPI: 4, SEQ: 8, ICV: 12 } as const;

export class AhLayer extends Ipv6ChainLayer {
  nxt = 0;
  /** Length field: 32-bit words minus 2. */
  len = 0;
  reserved = 0;
  spi = 0;
  seq = 0;
  get icv(): string { return hexBytes(this.buf, this.off + AH.ICV, Math.min(this.off + this.hdrLen, this.capEnd)); }
}

export const ah: Dissector<AhLayer> = {
  name: 'ah',
  protocols: 'ah',
  create: () => new AhLayer(),

  decode(l, v, p) {
    startChain(l, v, p);
    l.nxt = v.u8(AH.NXT);
    l.len = v.u8(AH.LEN);
    const n = (l.len + 2) * 4;
    l.reserved = v.u16(AH.RESERVED);
    l.spi = v.u32(AH.SPI);
    l.seq = v.u32(AH.SEQ);
    v.check(0, n);
    l.hdrLen = n;
    // tcpdump's demux carries on with length - header, in unsigned arithmetic.
    l.payloadLen = (l.length - n) >>> 0;
    l.nextTable = Table.IpProto;
    l.nextKey = l.nxt;
  },

  encode(l, payload, ctx) {
    const icv = l.buf ? l.buf.subarray(l.off + AH.ICV, l.off + (l.len + 2) * 4) : new Uint8Array(0);
    const hl = AH.ICV + icv.length;
    const out = new Uint8Array(hl + payload.length);
    const dv = new DataView(out.buffer);
    out[AH.NXT] = nextKey(l.nxt, ctx);
    out[AH.LEN] = ctx.opts.fixLengths ? (hl >> 2) - 2 : l.len;
    dv.setUint16(AH.RESERVED, l.reserved);
    dv.setUint32(AH.SPI, l.spi);
    dv.setUint32(AH.SEQ, l.seq);
    out.set(icv, AH.ICV);
    out.set(payload, hl);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as AhLayer;
    const b = p.buf;
    const at = l.off;
    const end = l.capEnd;
    // ip_demux_print tests the first byte; ah_print's reads abandon the packet.
    if (at >= end) { out.trunc('ah'); return; }
    out.s += 'AH';
    if (at + 2 > end) { abandon(out, 'ah'); return; }
    out.s += '(';
    const n = (l.len + 2) * 4;
    if (out.opts.v) out.s += 'length=' + l.len + '(' + n + '-bytes),';
    if (at + 4 > end) { abandon(out, 'ah'); return; }
    if (l.reserved) out.s += 'reserved=0x' + l.reserved.toString(16) + '[MustBeZero],';
    if (at + 8 > end) { abandon(out, 'ah'); return; }
    out.s += 'spi=0x' + hexPad(l.spi, 8) + ',';
    if (at + 12 > end) { abandon(out, 'ah'); return; }
    out.s += 'seq=0x' + l.seq.toString(16) + ',icv=0x';
    for (let k = at + AH.ICV; k < at + n; k++) {
      if (k >= end) { abandon(out, 'ah'); return; }
      out.s += hex2(b[k]);
    }
    out.s += '): ';
    printNext(p, i, l.ip !== null ? 6 : 4, l.nxt, l.payloadLen, out);
  },

  fields: {
    'ah.next_header': (l) => (l.off + 1 <= l.capEnd ? l.nxt : undefined),
    'ah.length': (l) => (l.off + 2 <= l.capEnd ? l.len : undefined),
    'ah.reserved': (l) => (l.off + 4 <= l.capEnd ? hexPad(l.reserved, 4) : undefined),
    'ah.spi': (l) => (l.off + 8 <= l.capEnd ? '0x' + hexPad(l.spi, 8) : undefined),
    'ah.sequence': (l) => (l.off + 12 <= l.capEnd ? l.seq : undefined),
    // An empty ICV is an empty bytes field, which tshark writes as "<MISSING>".
    'ah.icv': (l) => (l.hdrLen ? l.icv || '<MISSING>' : undefined),
  },

  json(l) {
    return { nxt: l.nxt, len: l.len, spi: l.spi, seq: l.seq, icv: l.hdrLen ? l.icv : '' };
  },
};

bind(Table.IpProto, IPPROTO.AH, ah);
