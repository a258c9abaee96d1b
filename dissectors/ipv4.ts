/**
 * IPv4 (RFC 791): header, options, fragments, header checksum.
 * tcpdump: print-ip.c; tshark fields: ip.*.
 */
import { bind, Layer, Table, keyOf, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import { foldChecksum, sumWords } from '../src/core/checksum.js';
import type { TextOut } from '../src/output/text.js';
import { ipv4At } from '../src/output/format.js';
import { ipProtoName, type NetworkLayer } from './ipproto.js';

/** Field offsets, shared by decode and encode. */
export const IP4 = {
  VER_IHL: 0, TOS: 1, TOTAL_LEN: 2, ID: 4, FLAGS_FRAG: 6, TTL: 8, PROTO: 9, CHECKSUM: 10, SRC: 12, DST: 16,
  HEADER_LEN: 20,
} as const;
export const IP4_FLAG_RF = 0x8000;
export const IP4_FLAG_DF = 0x4000;
export const IP4_FLAG_MF = 0x2000;
export const IP4_OFFMASK = 0x1fff;

export class Ipv4Layer extends Layer implements NetworkLayer {
  readonly ipVersion = 4;
  version = 4;
  /** Header length in bytes (IHL * 4). */
  ihl = 20;
  tos = 0;
  totalLen = 0;
  id = 0;
  /** Flags and fragment offset word (RF|DF|MF and the offset in 8-byte units). */
  flagsFrag = 0;
  ttl = 64;
  proto = 0;
  checksum = 0;
  src = 0;
  dst = 0;
  /** Option bytes (header past 20 bytes). */
  options: Uint8Array = new Uint8Array(0);

  get srcAddr(): string { return ipv4Of32(this.src); }
  get dstAddr(): string { return ipv4Of32(this.dst); }
  get fragOffset(): number { return (this.flagsFrag & IP4_OFFMASK) * 8; }
  get moreFragments(): boolean { return (this.flagsFrag & IP4_FLAG_MF) !== 0; }
  get dontFragment(): boolean { return (this.flagsFrag & IP4_FLAG_DF) !== 0; }

  pseudoHeaderSum(proto: number, length: number): number {
    return (this.src >>> 16) + (this.src & 0xffff) + (this.dst >>> 16) + (this.dst & 0xffff) + proto + length;
  }
}

function ipv4Of32(a: number): string {
  const b = new Uint8Array([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);
  return ipv4At(b, 0);
}

export const ipv4: Dissector<Ipv4Layer> = {
  name: 'ip',
  protocols: 'ip',
  create: () => new Ipv4Layer(),

  decode(l, v, _p) {
    const vi = v.u8(IP4.VER_IHL);
    l.version = vi >> 4;
    l.ihl = (vi & 0x0f) * 4;
    if (l.version !== 4) { l.invalid = 'version'; return; }
    l.tos = v.u8(IP4.TOS);
    l.totalLen = v.u16(IP4.TOTAL_LEN);
    l.id = v.u16(IP4.ID);
    l.flagsFrag = v.u16(IP4.FLAGS_FRAG);
    l.ttl = v.u8(IP4.TTL);
    l.proto = v.u8(IP4.PROTO);
    l.checksum = v.u16(IP4.CHECKSUM);
    l.src = v.u32(IP4.SRC);
    l.dst = v.u32(IP4.DST);
    if (l.ihl < IP4.HEADER_LEN) { l.invalid = 'header length'; return; }
    l.hdrLen = l.ihl;
    if (l.ihl > IP4.HEADER_LEN) l.options = v.bytes(IP4.HEADER_LEN, l.ihl - IP4.HEADER_LEN);
    if (l.totalLen > l.length) l.invalid = 'total length';
    if (l.totalLen < l.ihl) {
      // tcpdump's GUESS_TSO: a zero total length is a TSO send; take the link's length.
      if (l.totalLen !== 0) { l.invalid = 'bad-len'; return; }
      l.payloadLen = l.length - l.ihl;
    } else l.payloadLen = Math.min(l.totalLen, l.length) - l.ihl;
    if ((l.flagsFrag & IP4_OFFMASK) === 0) {
      l.nextTable = Table.IpProto;
      l.nextKey = l.proto;
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    const hl = IP4.HEADER_LEN + l.options.length;
    const out = new Uint8Array(hl + payload.length);
    const dv = new DataView(out.buffer);
    const proto = ctx.opts.fixLengths && ctx.inner.length ? keyOf(ctx.inner[0].dissector, Table.IpProto) ?? l.proto : l.proto;
    out[IP4.VER_IHL] = (4 << 4) | (hl >> 2);
    out[IP4.TOS] = l.tos;
    dv.setUint16(IP4.TOTAL_LEN, ctx.opts.fixLengths ? hl + payload.length : l.totalLen);
    dv.setUint16(IP4.ID, l.id);
    dv.setUint16(IP4.FLAGS_FRAG, l.flagsFrag);
    out[IP4.TTL] = l.ttl;
    out[IP4.PROTO] = proto;
    dv.setUint32(IP4.SRC, l.src);
    dv.setUint32(IP4.DST, l.dst);
    out.set(l.options, IP4.HEADER_LEN);
    dv.setUint16(IP4.CHECKSUM, ctx.opts.computeChecksums ? foldChecksum(sumWords(out, 0, hl)) : l.checksum);
    out.set(payload, hl);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as Ipv4Layer;
    const o = out.opts;
    if (l.version !== 4) {
      out.s += l.version === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : 'IP' + l.version + ' (invalid)';
      return;
    }
    if (!o.e) out.s += 'IP ';
    if (l.truncated && l.hdrLen === 0) {
      out.s += '[|ip]';
      return;
    }
    if (l.invalid === 'header length') {
      out.s += '[IP header length ' + (l.ihl >> 2) + ' < 5] (invalid)';
      return;
    }
    if (l.totalLen > l.length) out.s += '[total length ' + l.totalLen + ' > length ' + l.length + '] (invalid) ';
    if (l.invalid === 'bad-len') {
      out.s += 'bad-len ' + l.totalLen;
      return;
    }
    if (o.v) {
      out.s += '(tos 0x' + l.tos.toString(16);
      const ecn = l.tos & 3;
      if (ecn === 1) out.s += ',ECT(1)';
      else if (ecn === 2) out.s += ',ECT(0)';
      else if (ecn === 3) out.s += ',CE';
      if (l.ttl >= 1) out.s += ', ttl ' + l.ttl;
      out.s += ', id ' + l.id + ', offset ' + l.fragOffset + ', flags [' + fragFlags(l.flagsFrag) + '], proto ' +
        ipProtoName(l.proto) + ' (' + l.proto + '), length ' + l.totalLen;
      if (l.totalLen === 0) out.s += ' [was 0, presumed TSO]';
      if (l.options.length) out.s += ', options (' + formatIpOptions(l.options) + ')';
      if (!o.K && l.off + l.ihl <= p.buf.length && l.off + l.ihl <= p.frame.capLen) {
        const sum = foldChecksum(sumWords(p.buf, l.off, l.off + l.ihl));
        if (sum !== 0) out.s += ', bad cksum ' + l.checksum.toString(16) + ' (->' + checksumShouldBe(l.checksum, sum).toString(16) + ')!';
      }
      out.s += ')\n    ';
    }
    if (l.fragOffset === 0) {
      const next = i + 1 < p.layers.length ? p.layers[i + 1] : null;
      const printsAddrs = l.proto === 6 || l.proto === 17 || l.proto === 132 || l.proto === 33;
      if (!printsAddrs || next === null) out.s += l.srcAddr + ' > ' + l.dstAddr + ': ';
      if (next !== null) out.printLayer(p, i + 1);
      else if (l.truncated) out.trunc('ip');
      else {
        out.s += ' ip-proto-' + l.proto + ' ' + l.payloadLen;
      }
    } else {
      out.s += l.srcAddr + ' > ' + l.dstAddr + ': ip-proto-' + l.proto;
    }
  },

  fields: {
    'ip.version': (l) => l.version,
    'ip.hdr_len': (l) => l.ihl,
    'ip.dsfield': (l) => '0x' + l.tos.toString(16).padStart(2, '0'),
    'ip.len': (l) => l.totalLen,
    'ip.id': (l) => '0x' + l.id.toString(16).padStart(4, '0'),
    'ip.flags': (l) => '0x' + (l.flagsFrag >> 13).toString(16).padStart(2, '0'),
    'ip.flags.rb': (l) => ((l.flagsFrag & IP4_FLAG_RF) ? 1 : 0),
    'ip.flags.df': (l) => ((l.flagsFrag & IP4_FLAG_DF) ? 1 : 0),
    'ip.flags.mf': (l) => ((l.flagsFrag & IP4_FLAG_MF) ? 1 : 0),
    'ip.frag_offset': (l) => l.fragOffset,
    'ip.ttl': (l) => l.ttl,
    'ip.proto': (l) => l.proto,
    'ip.checksum': (l) => '0x' + l.checksum.toString(16).padStart(4, '0'),
    'ip.src': (l) => l.srcAddr,
    'ip.dst': (l) => l.dstAddr,
    'ip.addr': (l) => [l.srcAddr, l.dstAddr],
  },

  json(l) {
    return {
      version: l.version, ihl: l.ihl, tos: l.tos, totalLen: l.totalLen, id: l.id,
      flags: { rf: (l.flagsFrag & IP4_FLAG_RF) !== 0, df: l.dontFragment, mf: l.moreFragments },
      fragOffset: l.fragOffset, ttl: l.ttl, proto: l.proto, checksum: l.checksum,
      src: l.srcAddr, dst: l.dstAddr, optionsLen: l.options.length,
    };
  },
};

/** tcpdump's bittok2str(ip_frag_values): "+" (MF), "DF", "rsvd", or "none". */
function fragFlags(ff: number): string {
  let s = '';
  if (ff & IP4_FLAG_MF) s = '+';
  if (ff & IP4_FLAG_DF) s += (s ? ', ' : '') + 'DF';
  if (ff & IP4_FLAG_RF) s += (s ? ', ' : '') + 'rsvd';
  return s || 'none';
}

/** tcpdump's in_cksum_shouldbe: what the checksum field should have held. */
export function checksumShouldBe(sum: number, computed: number): number {
  let s = (~sum & 0xffff) + (~computed & 0xffff);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s === 0xffff ? 0 : s ^ 0xffff ? (~s) & 0xffff : 0;
}

/** IPv4 options as tcpdump's ip_optprint prints them. Refined by the options work. */
export function formatIpOptions(opts: Uint8Array): string {
  let s = '';
  let i = 0;
  while (i < opts.length) {
    const t = opts[i];
    if (t === 0) { s += 'EOL'; i++; if (i < opts.length) s += ','; continue; }
    if (t === 1) { s += 'NOP'; i++; if (i < opts.length) s += ','; continue; }
    const len = i + 1 < opts.length ? opts[i + 1] : 0;
    s += 'unknown ' + t + ' [bad length ' + len + ']';
    if (len < 2) break;
    i += len;
  }
  return s;
}

bind(Table.EtherType, 0x0800, ipv4);
bind(Table.LinkType, 228, ipv4);
