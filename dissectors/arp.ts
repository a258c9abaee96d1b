/**
 * ARP and RARP (RFC 826/903), including ATM ARP (RFC 2225) as tcpdump prints it.
 * tcpdump: print-arp.c; tshark fields: arp.*.
 *
 * To build a request: makeLayer(arp, { op: ARPOP.REQUEST, senderMac: 'aa:..', senderIp: '192.0.2.1',
 * targetIp: '192.0.2.2' }) under makeLayer(ethernet, { src, dst: 'ff:ff:ff:ff:ff:ff' }); the
 * defaults are Ethernet/IPv4 with zero addresses.
 */
import { bind, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import { hexAndAscii, type TextOut } from '../src/output/text.js';
import { hex2, hexColonAt, ipv4At, macAt } from '../src/output/format.js';
import { ipv4Text, putIpv4 } from '../src/output/host-names.js';
import { macText, writeMac } from './ethernet.js';
import { ETHERTYPE, etherTypeLookup, hex4 } from './ethertypes.js';

/** Offsets of the fixed part; the addresses follow at ARP.SHA, their lengths given by hln and pln. */
export const ARP = { HRD: 0, PRO: 2, HLN: 4, PLN: 5, OP: 6, SHA: 8, HEADER_LEN: 8 } as const;
/** ATM ARP's fixed part: type/length bytes for each address instead of hln/pln. */
export const ATMARP = { HRD: 0, PRO: 2, SHTL: 4, SSTL: 5, OP: 6, SPLN: 8, THTL: 9, TSTL: 10, TPLN: 11, HEADER_LEN: 12 } as const;

export const ARPOP = { REQUEST: 1, REPLY: 2, REVREQUEST: 3, REVREPLY: 4, INVREQUEST: 8, INVREPLY: 9, NAK: 10 } as const;
export const ARPHRD = { ETHER: 1, IEEE802: 6, ARCNET: 7, FRELAY: 15, ATM2225: 19, STRIP: 23, IEEE1394: 24, INFINIBAND: 32 } as const;

const OP_NAMES = new Map<number, string>([
  [1, 'Request'], [2, 'Reply'], [3, 'Reverse Request'], [4, 'Reverse Reply'], [8, 'Inverse Request'],
  [9, 'Inverse Reply'], [10, 'NACK Reply'],
]);
const HRD_NAMES = new Map<number, string>([
  [1, 'Ethernet'], [6, 'TokenRing'], [7, 'ArcNet'], [15, 'FrameRelay'], [23, 'Strip'], [24, 'IEEE 1394'],
  [19, 'ATM'], [32, 'InfiniBand'],
]);
/** ETHERTYPE_TRAIL: tcpdump takes trailer-encapsulated IP addresses as IPv4 too. */
const ETHERTYPE_TRAIL = 0x1000;
/** Mask of the length in ATM ARP's type/length bytes (0x40 flags E.164). */
const ATMARP_LEN_MASK = 0x3f;

const EMPTY = new Uint8Array(0);
/**
 * The zero addresses a layer built to send starts with (decoding replaces them with views of the
 * packet): shared, never written into (the address setters put new arrays in their place).
 */
const ZERO_MAC = new Uint8Array(6);
const ZERO_IPV4 = new Uint8Array(4);

export class ArpLayer extends Layer {
  hrd = ARPHRD.ETHER as number;
  pro = ETHERTYPE.IPV4 as number;
  /** Hardware and protocol address lengths as the header states them. */
  hln = 6;
  pln = 4;
  op = ARPOP.REQUEST as number;
  /** Sender/target hardware and protocol addresses (for ATM ARP: the ATM numbers). */
  sha: Uint8Array = ZERO_MAC;
  spa: Uint8Array = ZERO_IPV4;
  tha: Uint8Array = ZERO_MAC;
  tpa: Uint8Array = ZERO_IPV4;
  /** ATM ARP only: the type/length bytes and the ATM subaddresses. */
  atm = false;
  shtl = 0;
  sstl = 0;
  thtl = 0;
  tstl = 0;
  ssa: Uint8Array = EMPTY;
  tsa: Uint8Array = EMPTY;

  get senderMac(): string { return hexColonAt(this.sha, 0, this.sha.length); }
  set senderMac(s: string) { this.sha = macBytes(s); }
  get targetMac(): string { return hexColonAt(this.tha, 0, this.tha.length); }
  set targetMac(s: string) { this.tha = macBytes(s); }
  get senderIp(): string { return this.spa.length === 4 ? ipv4At(this.spa, 0) : hexColonAt(this.spa, 0, this.spa.length); }
  set senderIp(s: string) { this.spa = ipv4Bytes(s); }
  get targetIp(): string { return this.tpa.length === 4 ? ipv4At(this.tpa, 0) : hexColonAt(this.tpa, 0, this.tpa.length); }
  set targetIp(s: string) { this.tpa = ipv4Bytes(s); }
}

function macBytes(s: string): Uint8Array {
  const b = new Uint8Array(6);
  writeMac(b, 0, s);
  return b;
}

/** "192.0.2.1" as 4 bytes. */
export function ipv4Bytes(s: string): Uint8Array {
  const parts = s.split('.');
  const b = new Uint8Array(4);
  if (parts.length !== 4) throw new Error(`bad IPv4 address: ${s}`);
  for (let k = 0; k < 4; k++) {
    const n = Number(parts[k]);
    if (!(parts[k].length > 0 && Number.isInteger(n) && n >= 0 && n <= 255)) throw new Error(`bad IPv4 address: ${s}`);
    b[k] = n;
  }
  return b;
}

const SPACE = 0x20;

function hrdName(hrd: number): string {
  return HRD_NAMES.get(hrd) ?? 'Unknown Hardware (' + hrd + ')';
}

function proName(pro: number): string {
  return etherTypeLookup(pro) ?? 'Unknown Protocol (' + hex4(pro) + ')';
}

function isIpProto(pro: number): boolean {
  return pro === ETHERTYPE.IPV4 || pro === ETHERTYPE_TRAIL;
}

/** tcpdump's GET_LINKADDR_STRING for an ARP hardware address. */
function linkAddrText(l: ArpLayer, a: Uint8Array, n: number): string {
  if (a.length === 0) return '<empty>';
  if (l.hrd === ARPHRD.FRELAY) return q922Text(a);
  return a.length === 6 ? macText(a, 0, n) : hexColonAt(a, 0, a.length);
}

/** tcpdump's q922_string: "DLCI n" from a Q.922 address, or nothing when it does not parse. */
function q922Text(a: Uint8Array): string {
  if (a.length < 2 || (a[0] & 1)) return '';
  let dlci = ((a[0] & 0xfc) << 2) | ((a[1] & 0xf0) >> 4);
  if (a[1] & 1) return 'DLCI ' + dlci;
  let k = 2;
  if (k >= a.length) return '';
  if ((a[k] & 1) === 0) {
    dlci = (dlci << 7) | (a[k] >> 1);
    k++;
  }
  if (k >= a.length || (a[k] & 1) === 0) return '';
  return 'DLCI ' + (((dlci << 6) | (a[k] >> 2)) >>> 0);
}

/** The protocol address as tcpdump's spaddr/tpaddr_print_ip show it. */
function protoAddrText(l: ArpLayer, a: Uint8Array, wrongLen: string, out: TextOut): string {
  if (!isIpProto(l.pro)) return '<wrong proto type>';
  if (a.length !== 4) return wrongLen;
  return ipv4Text(out, a, 0);
}

/** protoAddrText written straight to the output. */
function putProtoAddr(l: ArpLayer, a: Uint8Array, wrongLen: string, out: TextOut): void {
  if (!isIpProto(l.pro)) out.put('<wrong proto type>');
  else if (a.length !== 4) out.put(wrongLen);
  else putIpv4(out, ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0);
}

/** atmarp_addr_print: the ATM number and, when present, ",subaddress". */
function atmAddrText(num: Uint8Array, sub: Uint8Array): string {
  if (num.length === 0) return '<No address>';
  return hexColonAt(num, 0, num.length) + (sub.length ? ',' + hexColonAt(sub, 0, sub.length) : '');
}

function decodeAtm(l: ArpLayer, v: ByteView): void {
  v.check(0, ATMARP.HEADER_LEN);
  l.atm = true;
  l.op = v.u16(ATMARP.OP);
  l.shtl = v.u8(ATMARP.SHTL);
  l.sstl = v.u8(ATMARP.SSTL);
  l.thtl = v.u8(ATMARP.THTL);
  l.tstl = v.u8(ATMARP.TSTL);
  const spln = v.u8(ATMARP.SPLN), tpln = v.u8(ATMARP.TPLN);
  const shl = l.shtl & ATMARP_LEN_MASK, ssl = l.sstl & ATMARP_LEN_MASK;
  const thl = l.thtl & ATMARP_LEN_MASK, tsl = l.tstl & ATMARP_LEN_MASK;
  let o = ATMARP.HEADER_LEN;
  // tcpdump checks the last address first: a short packet prints nothing but the marker.
  v.check(o + shl + ssl + spln + thl + tsl, tpln);
  l.sha = v.bytes(o, shl); o += shl;
  l.ssa = v.bytes(o, ssl); o += ssl;
  l.spa = v.bytes(o, spln); o += spln;
  l.tha = v.bytes(o, thl); o += thl;
  l.tsa = v.bytes(o, tsl); o += tsl;
  l.tpa = v.bytes(o, tpln); o += tpln;
  l.hln = shl;
  l.pln = spln;
  l.hdrLen = o;
}

export const arp: Dissector<ArpLayer> = {
  name: 'arp',
  protocols: 'arp',
  create: () => new ArpLayer(),

  decode(l, v, _p) {
    v.check(0, ARP.HEADER_LEN);
    l.hrd = v.u16(ARP.HRD);
    l.pro = v.u16(ARP.PRO);
    l.payloadLen = 0;
    if (l.hrd === ARPHRD.ATM2225) { decodeAtm(l, v); return; }
    l.hln = v.u8(ARP.HLN);
    l.pln = v.u8(ARP.PLN);
    l.op = v.u16(ARP.OP);
    const h = l.hln, n = l.pln;
    v.check(ARP.SHA + 2 * h + n, n);
    l.sha = v.bytes(ARP.SHA, h);
    l.spa = v.bytes(ARP.SHA + h, n);
    l.tha = v.bytes(ARP.SHA + h + n, h);
    l.tpa = v.bytes(ARP.SHA + 2 * h + n, n);
    l.hdrLen = ARP.SHA + 2 * (h + n);
  },

  encode(l, payload, ctx: EncodeContext) {
    const fix = ctx.opts.fixLengths;
    const hln = fix ? l.sha.length : l.hln, pln = fix ? l.spa.length : l.pln;
    const len = ARP.HEADER_LEN + 2 * (hln + pln);
    const out = new Uint8Array(len + payload.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(ARP.HRD, l.hrd);
    dv.setUint16(ARP.PRO, l.pro);
    out[ARP.HLN] = hln;
    out[ARP.PLN] = pln;
    dv.setUint16(ARP.OP, l.op);
    out.set(l.sha.subarray(0, hln), ARP.SHA);
    out.set(l.spa.subarray(0, pln), ARP.SHA + hln);
    out.set(l.tha.subarray(0, hln), ARP.SHA + hln + pln);
    out.set(l.tpa.subarray(0, pln), ARP.SHA + 2 * hln + pln);
    out.set(payload, len);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as ArpLayer;
    const o = out.opts;
    if (l.truncated) {
      out.truncJump('arp');
      return;
    }
    if (!o.e) out.put('ARP, ');
    const ipOk = isIpProto(l.pro);
    if (l.atm) {
      if (!ipOk || l.spa.length !== 4 || l.tpa.length !== 4 || o.v) {
        out.s += hrdName(l.hrd) + ', ' + proName(l.pro) + ' (len ' + l.spa.length + '/' + l.tpa.length + ')';
        if (!o.v) { out.s += ', length ' + l.length; return; }
      }
    } else if (!ipOk || l.pln !== 4 || l.hln === 0 || o.v) {
      out.s += hrdName(l.hrd) + ' (len ' + l.hln + '), ' + proName(l.pro) + ' (len ' + l.pln + ')';
      if (!o.v) { out.s += ', length ' + l.length; return; }
    }
    if (o.v) out.put(', ');
    out.put(OP_NAMES.get(l.op) ?? 'Unknown (' + l.op + ')');
    out.putChar(SPACE);
    const printed = l.atm ? printAtmOp(l, out) : printOp(l, out);
    if (printed) {
      out.put(', length ');
      out.num(l.length);
    } else {
      // Unlike most callers, arp_print dumps the packet even when -x/-X/-A will dump it anyway.
      const v = p.payloadOf(p.layers[i - 1]);
      out.s += hexAndAscii(v.buf, v.start, v.end, '\n\t', 0);
    }
  },

  fields: {
    'arp.hw.type': (l) => l.hrd,
    'arp.proto.type': (l) => hex4(l.pro),
    'arp.hw.size': (l) => (l.atm ? undefined : l.hln),
    'arp.proto.size': (l) => (l.atm ? undefined : l.pln),
    'arp.opcode': (l) => l.op,
    'arp.src.hw_mac': (l) => (isEtherHw(l) ? macAt(l.sha, 0) : undefined),
    'arp.src.hw': (l) => (!l.atm && l.hln && !isEtherHw(l) ? hexBytes(l.sha) : undefined),
    'arp.src.proto_ipv4': (l) => (isIpv4Proto(l) ? ipv4At(l.spa, 0) : undefined),
    'arp.src.proto': (l) => (!l.atm && l.pln && !isIpv4Proto(l) ? hexBytes(l.spa) : undefined),
    'arp.dst.hw_mac': (l) => (isEtherHw(l) ? macAt(l.tha, 0) : undefined),
    'arp.dst.hw': (l) => (!l.atm && l.hln && !isEtherHw(l) ? hexBytes(l.tha) : undefined),
    'arp.dst.proto_ipv4': (l) => (isIpv4Proto(l) ? ipv4At(l.tpa, 0) : undefined),
    'arp.dst.proto': (l) => (!l.atm && l.pln && !isIpv4Proto(l) ? hexBytes(l.tpa) : undefined),
  },

  json(l) {
    return {
      hrd: l.hrd, pro: l.pro, hln: l.hln, pln: l.pln, op: l.op,
      senderMac: l.senderMac, senderIp: l.senderIp, targetMac: l.targetMac, targetIp: l.targetIp,
    };
  },
};

/** Wireshark shows 6-byte Ethernet and 802 hardware addresses as MACs, other ones as bytes. */
function isEtherHw(l: ArpLayer): boolean {
  return !l.atm && l.hln === 6 && (l.hrd === ARPHRD.ETHER || l.hrd === ARPHRD.IEEE802);
}

/** ...and IPv4 (or AX.25's IP, 0xcc) 4-byte protocol addresses as IPv4. */
function isIpv4Proto(l: ArpLayer): boolean {
  return !l.atm && l.pln === 4 && (l.pro === ETHERTYPE.IPV4 || l.pro === 0xcc);
}

function isNonZero(a: Uint8Array): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== 0) return true;
  return false;
}

function hexBytes(a: Uint8Array): string {
  let s = '';
  for (let k = 0; k < a.length; k++) s += hex2(a[k]);
  return s;
}

/** The operation's text; false when tcpdump dumps the packet instead (unknown operation). */
function printOp(l: ArpLayer, out: TextOut): boolean {
  const n = out.opts.n;
  switch (l.op) {
    case ARPOP.REQUEST:
      out.put('who-has ');
      putProtoAddr(l, l.tpa, '<wrong len>', out);
      if (isNonZero(l.tha)) out.put(' (' + linkAddrText(l, l.tha, n) + ')');
      out.put(' tell ');
      putProtoAddr(l, l.spa, '<wrong len>', out);
      return true;
    case ARPOP.REPLY:
      putProtoAddr(l, l.spa, '<wrong len>', out);
      out.put(' is-at ');
      out.put(linkAddrText(l, l.sha, n));
      return true;
    case ARPOP.REVREQUEST:
    case ARPOP.INVREQUEST:
      out.s += 'who-is ' + linkAddrText(l, l.tha, n) + ' tell ' + linkAddrText(l, l.sha, n);
      return true;
    case ARPOP.REVREPLY:
      out.s += linkAddrText(l, l.tha, n) + ' at ' + protoAddrText(l, l.tpa, '<wrong len>', out);
      return true;
    case ARPOP.INVREPLY:
      out.s += linkAddrText(l, l.sha, n) + ' at ' + protoAddrText(l, l.spa, '<wrong len>', out);
      return true;
    default:
      return false;
  }
}

function printAtmOp(l: ArpLayer, out: TextOut): boolean {
  switch (l.op) {
    case ARPOP.REQUEST:
      out.s += 'who-has ' + protoAddrText(l, l.tpa, '<wrong tplen>', out);
      if (l.tha.length !== 0) out.s += ' (' + atmAddrText(l.tha, l.tsa) + ')';
      out.s += ' tell ' + protoAddrText(l, l.spa, '<wrong splen>', out);
      return true;
    case ARPOP.REPLY:
      out.s += protoAddrText(l, l.spa, '<wrong splen>', out) + ' is-at ' + atmAddrText(l.sha, l.ssa);
      return true;
    case ARPOP.INVREQUEST:
      out.s += 'who-is ' + atmAddrText(l.tha, l.tsa) + ' tell ' + atmAddrText(l.sha, l.ssa);
      return true;
    case ARPOP.INVREPLY:
      out.s += atmAddrText(l.sha, l.ssa) + 'at ' + protoAddrText(l, l.spa, '<wrong splen>', out);
      return true;
    case ARPOP.NAK:
      out.s += 'for ' + protoAddrText(l, l.spa, '<wrong splen>', out);
      return true;
    default:
      return false;
  }
}

bind(Table.EtherType, ETHERTYPE.ARP, arp);
bind(Table.EtherType, ETHERTYPE.REVARP, arp);
