/**
 * Mobile IPv6 mobility header (RFC 6275), IP protocol 135 and 62 (its draft number): the message
 * types and, at -v, their cookies, tokens and options. An IPv6 chain header; nothing is printed
 * after it.
 * tcpdump: print-mobility.c (mobility_print, mobility_opt_print); tshark fields: mip6.* (packet-mip6.c).
 */
import { bind, Table, type Dissector, type Packet } from '../src/core/dissector.js';
import { ByteView, OutOfBounds } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { hex2 } from '../src/output/format.js';
import { ipv6Text } from '../src/output/host-names.js';
import { abandon } from './ipv4.js';
import { captured, hexPad, IPPROTO, Ipv6ChainLayer, outOfChain, printOutOfChain, startChain } from './ipv6.js';

/** Mobility header: payload proto, length, message type, reserved, checksum, then the message. */
export const MH = { PPROTO: 0, LEN: 1, TYPE: 2, CHECKSUM: 4, DATA: 6, MIN_LEN: 8 } as const;

/** Mobile IPv6 mobility header (RFC 6275), protocol 135 (and 62, its draft number). */
export class MobilityLayer extends Ipv6ChainLayer {
  /** Payload proto (59, none, in practice), length in 8-octet units beyond the first 8, message type, checksum. */
  pproto = 59;
  len = 0;
  type = 0;
  checksum = 0;
}

const MH_TYPES = ['BRR', 'HoTI', 'CoTI', 'HoT', 'CoT', 'BU', 'BA', 'BE'];
/** Each message type's fixed part (tcpdump's ip6m_hdrlen): a shorter header is refused. */
const MH_MIN = [8, 16, 16, 24, 24, 12, 12, 24];

export const mobility: Dissector<MobilityLayer> = {
  name: 'mipv6',
  protocols: 'mipv6',
  create: () => new MobilityLayer(),

  decode(l, v, p) {
    startChain(l, v, p);
    if (outOfChain(l)) return;
    l.pproto = v.u8(MH.PPROTO);
    l.len = v.u8(MH.LEN);
    l.type = v.u8(MH.TYPE);
    l.checksum = v.u16(MH.CHECKSUM);
    l.hdrLen = (l.len + 1) << 3;
    // tcpdump prints nothing after a mobility header; the payload proto is 59 (none) in practice.
    l.payloadLen = Math.max(0, l.length - l.hdrLen);
    v.check(0, l.hdrLen);
  },

  encode(l, payload, ctx) {
    const body = l.buf ? l.buf.subarray(l.off + MH.DATA, Math.min(l.off + ((l.len + 1) << 3), l.capEnd)) : new Uint8Array(MH.MIN_LEN - MH.DATA);
    const out = new Uint8Array(MH.DATA + body.length + payload.length);
    out[MH.PPROTO] = l.pproto;
    out[MH.LEN] = ctx.opts.fixLengths ? ((MH.DATA + body.length + 7) >> 3) - 1 : l.len;
    out[MH.TYPE] = l.type;
    out.set(body, MH.DATA);
    out.set(payload, MH.DATA + body.length);
    out[MH.CHECKSUM] = l.checksum >> 8;
    out[MH.CHECKSUM + 1] = l.checksum & 0xff;
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as MobilityLayer;
    if (l.outOfChain) { printOutOfChain(p, i, out); return; }
    const pv = new ByteView(p.buf, l.off, l.capEnd);
    try {
      if (!printMobility(pv, out)) out.trunc('mobility');
    } catch (e) {
      if (!(e instanceof OutOfBounds)) throw e;
      abandon(out, 'mobility');
    }
  },

  fields: {
    'mip6.proto': (l) => (captured(l, 1) ? l.pproto : undefined),
    'mip6.hlen': (l) => (captured(l, 2) ? l.len : undefined),
    'mip6.mhtype': (l) => (captured(l, 3) ? l.type : undefined),
    'mip6.csum': (l) => (captured(l, 6) ? '0x' + hexPad(l.checksum, 4) : undefined),
  },

  json(l) {
    return { pproto: l.pproto, len: l.len, type: l.type, checksum: l.checksum };
  },
};

/** tcpdump's mobility_print; false where it ends with "[|mobility]" by its own check (reads past the capture throw). */
function printMobility(pv: ByteView, out: TextOut): boolean {
  const v = out.opts.v;
  if (!pv.has(MH.LEN, 1)) return false;
  const mhlen = (pv.u8(MH.LEN) + 1) << 3;
  const type = pv.u8(MH.TYPE);
  if (type < MH_MIN.length && mhlen < MH_MIN[type]) {
    out.s += '(header length ' + mhlen + ' is too small for type ' + type + ')';
    return false;
  }
  out.s += 'mobility: ' + (type < MH_TYPES.length ? MH_TYPES[type] : 'type-#' + type);
  let hlen = MH.MIN_LEN;
  switch (type) {
    case 0:
      break;
    case 1:
    case 2:
      if (v) out.s += cookie(pv, (type === 1 ? 'Home' : 'Care-of') + ' Init Cookie', hlen);
      hlen += 8;
      break;
    case 3:
    case 4: {
      out.s += ' nonce id=0x' + pv.u16(MH.DATA).toString(16);
      const who = type === 3 ? 'Home' : 'Care-of';
      if (v) out.s += cookie(pv, who + ' Init Cookie', hlen);
      hlen += 8;
      if (v) out.s += cookie(pv, who + ' Keygen Token', hlen);
      hlen += 8;
      break;
    }
    case 5: {
      out.s += ' seq#=' + pv.u16(MH.DATA);
      if (!pv.has(hlen, 2)) return false;
      const bits = pv.u8(hlen) >> 4;
      if (bits) out.s += ' ' + (bits & 8 ? 'A' : '') + (bits & 4 ? 'H' : '') + (bits & 2 ? 'L' : '') + (bits & 1 ? 'K' : '');
      hlen += 2;
      out.s += ' lifetime=' + pv.u16(hlen) * 4;
      hlen += 2;
      break;
    }
    case 6:
      out.s += ' status=' + pv.u8(MH.DATA);
      if (pv.u8(MH.DATA + 1) & 0x80) out.s += ' K';
      out.s += ' seq#=' + pv.u16(hlen);
      hlen += 2;
      out.s += ' lifetime=' + pv.u16(hlen) * 4;
      hlen += 2;
      break;
    case 7:
      out.s += ' status=' + pv.u8(MH.DATA);
      pv.check(hlen, 16);
      out.s += ' homeaddr ' + ipv6Text(out, pv.buf, pv.start + hlen);
      hlen += 16;
      break;
    default:
      out.s += ' len=' + pv.u8(MH.LEN);
      return true;
  }
  return !v || printMobilityOptions(pv, hlen, mhlen - hlen, out);
}

/** A 64-bit cookie or token as tcpdump prints it: " Name=hhhhhhhh:hhhhhhhh". */
function cookie(pv: ByteView, what: string, at: number): string {
  const hi = pv.u32(at);
  return ' ' + what + '=' + hexPad(hi, 8) + ':' + hexPad(pv.u32(at + 4), 8);
}

/** mobility_opt_print; false where tcpdump gives up (including its check of the byte after each option). */
function printMobilityOptions(pv: ByteView, at: number, len: number, out: TextOut): boolean {
  for (let i = 0; i < len; ) {
    const t = pv.u8(at + i);
    let optlen = 1;
    if (t !== 0) {
      if (i + 1 >= len) return false;
      optlen = pv.u8(at + i + 1) + 2;
    }
    if (i + optlen > len || !pv.has(at + i + optlen, 1)) return false;
    const o = at + i;
    switch (t) {
      case 0: out.s += '(pad1)'; break;
      case 1: out.s += '(padn)'; break;
      case 2:
        if (len - i < 4) { out.s += '(refresh: trunc)'; return false; }
        out.s += '(refresh: ' + pv.u16(o + 2) * 4 + ')';
        break;
      case 3:
        if (len - i < 18) { out.s += '(altcoa: trunc)'; return false; }
        pv.check(o + 2, 16);
        out.s += '(alt-CoA: ' + ipv6Text(out, pv.buf, pv.start + o + 2) + ')';
        break;
      case 4: {
        if (len - i < 6) { out.s += '(ni: trunc)'; return false; }
        const ho = pv.u16(o + 2);
        out.s += '(ni: ho=0x' + hexPad(ho, 4) + ' co=0x' + hexPad(pv.u16(o + 4), 4) + ')';
        break;
      }
      case 5:
        if (len - i < 12) { out.s += '(auth: trunc)'; return false; }
        out.s += '(auth)';
        break;
      default:
        out.s += '(type-0x' + hex2(t) + ': len=' + pv.u8(o + 1) + ')';
    }
    i += optlen;
  }
  return true;
}

bind(Table.IpProto, IPPROTO.MOBILITY, mobility);
bind(Table.IpProto, IPPROTO.MOBILITY_OLD, mobility);
