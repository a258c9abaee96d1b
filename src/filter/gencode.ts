/**
 * Code generation with libpcap's semantics (gencode.c): each primitive becomes the same tests,
 * at the same offsets, in the same order, as libpcap's BPF for that link type. The tree is walked
 * in source order because, as in libpcap, `vlan` moves the link-layer offsets for everything
 * parsed after it.
 */
import { FilterError, UnsupportedFilterError, unsupported } from './error.js';
import {
  type Bool, type Val, FALSE, TRUE, and, anyOf, cmp, eq, k, ld, meq, not, or,
} from './ir.js';
import { type NameDb, PROTO_UNDEF, inetNetwork, nameToEtherProto, nameToPort, nameToProto, parseMac } from './names.js';
import type { Arth, Expr, IdNode, Qual } from './parser.js';

export const DLT = {
  NULL: 0, EN10MB: 1, RAW: 12, RAW14: 14, RAW101: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276,
} as const;

type LinkKind = 'ether' | 'null' | 'loop' | 'raw' | 'ipv4' | 'ipv6' | 'sll' | 'sll2';

interface LinkInfo {
  kind: LinkKind;
  /** pcap_datalink_val_to_description(), for messages. */
  desc: string;
  offLinkType: number;
  offLinkPl: number;
}

const LINKS = new Map<number, LinkInfo>([
  [DLT.EN10MB, { kind: 'ether', desc: 'Ethernet', offLinkType: 12, offLinkPl: 14 }],
  [DLT.NULL, { kind: 'null', desc: 'BSD loopback', offLinkType: 0, offLinkPl: 4 }],
  [DLT.LOOP, { kind: 'loop', desc: 'OpenBSD loopback', offLinkType: 0, offLinkPl: 4 }],
  [DLT.RAW, { kind: 'raw', desc: 'Raw IP', offLinkType: -1, offLinkPl: 0 }],
  [DLT.RAW14, { kind: 'raw', desc: 'Raw IP', offLinkType: -1, offLinkPl: 0 }],
  [DLT.RAW101, { kind: 'raw', desc: 'Raw IP', offLinkType: -1, offLinkPl: 0 }],
  [DLT.IPV4, { kind: 'ipv4', desc: 'Raw IPv4', offLinkType: -1, offLinkPl: 0 }],
  [DLT.IPV6, { kind: 'ipv6', desc: 'Raw IPv6', offLinkType: -1, offLinkPl: 0 }],
  [DLT.LINUX_SLL, { kind: 'sll', desc: 'Linux cooked v1', offLinkType: 14, offLinkPl: 16 }],
  [DLT.LINUX_SLL2, { kind: 'sll2', desc: 'Linux cooked v2', offLinkType: 0, offLinkPl: 20 }],
]);

export function isSupportedLinkType(lt: number): boolean {
  return LINKS.has(lt);
}

const ETHERTYPE = { IP: 0x0800, ARP: 0x0806, REVARP: 0x8035, IPV6: 0x86dd, VLAN: 0x8100, QINQ_AD: 0x88a8, QINQ: 0x9100 };
const IPPROTO: Record<string, number> = {
  tcp: 6, udp: 17, sctp: 132, icmp: 1, igmp: 2, igrp: 9, pim: 103, vrrp: 112, carp: 112, ah: 51, esp: 50, icmp6: 58,
};
const IPPROTO_FRAGMENT = 44;
const ETHERMTU = 1500;
const LINUX_SLL_P_802_2 = 4;
const LINUX_SLL_OUTGOING = 4;
/** LLC SAPs that libpcap tests as DSAP and SSAP together (always-802.2 protocols). */
const LLCSAP_BOTH = new Set([0x06, 0xfe, 0xf0]);
/** Ethertypes/SAPs whose encapsulation tests (SNAP, Novell raw 802.3) are not implemented. */
const LINKTYPE_UNSUPPORTED = new Map<number, string>([[0xe0, 'ipx'], [0x809b, 'atalk'], [0x80f3, 'aarp']]);

/** Protocol qualifiers wirescope refuses wherever they appear. */
const UNSUPPORTED_PROTOS = new Set([
  'atalk', 'aarp', 'esis', 'isis', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp', 'clnp', 'ipx', 'radio',
]);
/** Protocols above IPv4 (gen_load_internal's transport case): proto[i] counts from their header. */
const IPV4_TRANSPORTS = new Set(['sctp', 'tcp', 'udp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp']);
/** Protocols that carry no protocol number of their own: `X proto N` is bogus (gen_proto). */
const NO_PROTO_FIELD = new Set(['arp', 'rarp', ...IPV4_TRANSPORTS, 'icmp6', 'ah', 'esp']);
/** Protocols whose bare keyword is only an ethertype (or LLC SAP) test. */
const LINK_ONLY_PROTOS: Record<string, number> = {
  decnet: 0x6003, lat: 0x6004, sca: 0x6007, moprc: 0x6002, mopdl: 0x6001, iso: 0xfe, stp: 0x42, netbeui: 0xf0,
};

export interface GenOptions {
  /** Return value for a match: the snap length (BPF's ret #snaplen). */
  snaplen: number;
  /** Netmask for `ip broadcast` (tcpdump passes 0 when reading a file); null: unknown. */
  netmask: number | null;
  /** DLT_NULL's family word is in the savefile's byte order; true when that is big-endian. */
  nullBigEndian: boolean;
  names: NameDb;
}

/** An arithmetic value and the protocol checks that must hold before it is computed. */
interface ArthVal {
  v: Val;
  chk: Bool | null;
}

function andChk(a: Bool | null, b: Bool | null): Bool | null {
  return a && b ? and(a, b) : a ?? b;
}

const qualName = (p: string): string => (p === 'link' ? 'link' : p);

export class Gen {
  private readonly link: LinkInfo;
  private offLinkType: number;
  private offLinkPl: number;
  private vlanDepth = 0;

  constructor(private readonly dlt: number, private readonly opts: GenOptions) {
    const link = LINKS.get(dlt);
    if (!link) throw new UnsupportedFilterError(`link type ${dlt} is not supported by wirescope's filter compiler`);
    this.link = link;
    this.offLinkType = link.offLinkType;
    this.offLinkPl = link.offLinkPl;
  }

  // ---- tree walk -------------------------------------------------------------------------

  expr(e: Expr): Bool {
    switch (e.k) {
      case 'and':
      case 'idlist':
        if (e.k === 'idlist' && e.op === 'or') return or(this.expr(e.a), this.expr(e.b));
        return and(this.expr(e.a), this.expr(e.b));
      case 'or':
        return or(this.expr(e.a), this.expr(e.b));
      case 'not':
        return not(this.expr(e.a));
      case 'pname':
        return this.protoAbbrev(e.proto);
      case 'rel':
        return this.relation(e.op, e.a, e.b);
      case 'id':
        return this.id(e.q, e.id);
      case 'other':
        return this.other(e);
    }
  }

  // ---- link layer --------------------------------------------------------------------------

  /** gen_linktype(): is the link-layer payload of this (ethernet-style) type? */
  linktype(p: number): Bool {
    const lt = this.offLinkType;
    switch (this.link.kind) {
      case 'ether': {
        const bad = LINKTYPE_UNSUPPORTED.get(p);
        if (bad) throw unsupported(bad);
        if (LLCSAP_BOTH.has(p)) return and(not(cmp('gt', ld(2, lt), k(ETHERMTU))), eq(2, this.offLinkPl, (p << 8) | p));
        if (p <= ETHERMTU) return and(not(cmp('gt', ld(2, lt), k(ETHERMTU))), eq(1, lt + 2, p));
        return eq(2, lt, p);
      }
      case 'sll':
      case 'sll2': {
        const bad = LINKTYPE_UNSUPPORTED.get(p);
        if (bad) throw unsupported(bad);
        if (LLCSAP_BOTH.has(p)) return and(eq(2, lt, LINUX_SLL_P_802_2), eq(2, this.offLinkPl, (p << 8) | p));
        if (p <= ETHERMTU) return and(eq(2, lt, LINUX_SLL_P_802_2), eq(1, this.offLinkPl, p));
        return eq(2, lt, p);
      }
      case 'null':
      case 'loop': {
        const fam = (af: number): Bool => {
          // DLT_NULL holds the AF_ value in the byte order of the host that wrote the file.
          const v = this.link.kind === 'null' && !this.opts.nullBigEndian ? swap32(af) : af;
          return eq(4, 0, v);
        };
        if (p === ETHERTYPE.IP) return fam(2);
        // AF_INET6 differs between BSDs (24, 28, 30): a savefile may hold any of them.
        if (p === ETHERTYPE.IPV6) return anyOf(fam(24), fam(28), fam(30));
        return FALSE;
      }
      case 'raw':
        if (p === ETHERTYPE.IP) return meq(1, 0, 0x40, 0xf0);
        if (p === ETHERTYPE.IPV6) return meq(1, 0, 0x60, 0xf0);
        return FALSE;
      case 'ipv4':
        return p === ETHERTYPE.IP ? TRUE : FALSE;
      case 'ipv6':
        return p === ETHERTYPE.IPV6 ? TRUE : FALSE;
    }
  }

  private ethernetOnly(): boolean {
    return this.link.kind === 'ether';
  }

  /** gen_bcmp(): bytes compared from the end, 4 then 2 then 1 at a time. */
  private bcmp(off: number, bytes: Uint8Array): Bool {
    let b: Bool | null = null;
    let size = bytes.length;
    const at = (i: number, n: number) => bytes.subarray(i, i + n).reduce((acc, x) => acc * 256 + x, 0);
    while (size >= 4) {
      const c = eq(4, off + size - 4, at(size - 4, 4));
      b = b ? and(b, c) : c;
      size -= 4;
    }
    while (size >= 2) {
      const c = eq(2, off + size - 2, at(size - 2, 2));
      b = b ? and(b, c) : c;
      size -= 2;
    }
    while (size > 0) {
      const c = eq(1, off + size - 1, bytes[size - 1]);
      b = b ? and(b, c) : c;
      size--;
    }
    return b ?? TRUE;
  }

  private ehostop(mac: Uint8Array, dir: string): Bool {
    return this.byDirection(dir, 6, 0, (off) => this.bcmp(off, mac));
  }

  private wlanDirError(dir: string): FilterError {
    if (dir === 'ra' || dir === 'ta') return new FilterError(`'${dir}' is only supported on 802.11 with 802.11 headers`);
    const n = dir.slice(-1);
    return new FilterError(`'addr${n}' and 'address${n}' are only supported on 802.11 with 802.11 headers`);
  }

  private requireEthernetAddr(): void {
    if (!this.ethernetOnly()) throw new FilterError('ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel');
  }

  // ---- network layer -----------------------------------------------------------------------

  /** gen_proto(): `[ip|ip6|ether] proto N`. */
  proto(v: number, proto: string, dir: string): Bool {
    if (dir !== 'default') throw new FilterError("direction applied to 'proto'");
    switch (proto) {
      case 'default':
        return or(this.proto(v, 'ip', dir), this.proto(v, 'ip6', dir));
      case 'link':
        if (v > 65535) throw new FilterError(`EtherType ${v} greater than maximum 65535`);
        if (v > 255 && v <= ETHERMTU && (this.link.kind === 'ether' || this.link.kind === 'sll' || this.link.kind === 'sll2')) {
          throw new FilterError(`LLC DSAP ${v} greater than maximum 255`);
        }
        return this.linktype(v);
      case 'ip':
        if (v > 255) throw new FilterError(`protocol number ${v} greater than maximum 255`);
        return and(this.linktype(ETHERTYPE.IP), eq(1, this.offLinkPl + 9, v));
      case 'ip6': {
        if (v > 255) throw new FilterError(`protocol number ${v} greater than maximum 255`);
        const pl = this.offLinkPl;
        // libpcap also accepts the protocol behind a fragment header.
        const direct = eq(1, pl + 6, v);
        const frag = and(eq(1, pl + 6, IPPROTO_FRAGMENT), eq(1, pl + 40, v));
        return and(this.linktype(ETHERTYPE.IPV6), or(direct, frag));
      }
    }
    if (NO_PROTO_FIELD.has(proto)) throw new FilterError(`'${proto} proto' is bogus`);
    throw unsupported(`${proto} proto`);
  }

  /** gen_proto_abbrev(): a bare protocol keyword. */
  protoAbbrev(p: string): Bool {
    switch (p) {
      case 'ip':
        return this.linktype(ETHERTYPE.IP);
      case 'ip6':
        return this.linktype(ETHERTYPE.IPV6);
      case 'arp':
        return this.linktype(ETHERTYPE.ARP);
      case 'rarp':
        return this.linktype(ETHERTYPE.REVARP);
      case 'tcp':
      case 'udp':
      case 'sctp':
      case 'pim':
      case 'ah':
      case 'esp':
        return this.proto(IPPROTO[p], 'default', 'default');
      case 'icmp':
      case 'igmp':
      case 'igrp':
      case 'vrrp':
      case 'carp':
        return this.proto(IPPROTO[p], 'ip', 'default');
      case 'icmp6':
        return this.proto(IPPROTO.icmp6, 'ip6', 'default');
      case 'link':
        throw new FilterError('link layer applied in wrong context');
    }
    const lt = LINK_ONLY_PROTOS[p];
    if (lt !== undefined) return this.linktype(lt);
    throw unsupported(p);
  }

  /** gen_hostop(): an IPv4 address (and mask) at the source/destination offsets of a header. */
  private hostop(addr: number, mask: number, dir: string, ethertype: number, srcOff: number, dstOff: number): Bool {
    const one = (off: number) => and(this.linktype(ethertype), meq(4, this.offLinkPl + off, addr & mask, mask));
    return this.byDirection(dir, srcOff, dstOff, one);
  }

  /** gen_host(): IPv4 host or net, for ip, arp and rarp unless a protocol is named. */
  host(addr: number, mask: number, proto: string, dir: string, type: string): Bool {
    const typestr = type === 'net' ? 'net' : 'host';
    switch (proto) {
      case 'default':
        return or(or(this.host(addr, mask, 'ip', dir, type), this.host(addr, mask, 'arp', dir, type)), this.host(addr, mask, 'rarp', dir, type));
      case 'ip':
        return this.hostop(addr, mask, dir, ETHERTYPE.IP, 12, 16);
      case 'arp':
        return this.hostop(addr, mask, dir, ETHERTYPE.ARP, 14, 24);
      case 'rarp':
        return this.hostop(addr, mask, dir, ETHERTYPE.REVARP, 14, 24);
      case 'link':
        throw new FilterError(`link-layer modifier applied to ${typestr}`);
      case 'ip6':
        throw new FilterError(`'ip6' modifier applied to ip ${typestr}`);
    }
    if (UNSUPPORTED_PROTOS.has(proto)) throw unsupported(`${proto} ${typestr}`);
    throw new FilterError(`'${proto}' modifier applied to ${typestr}`);
  }

  /** gen_host6(): an IPv6 address and mask; words whose mask is zero are not compared. */
  host6(addr: Uint8Array, mask: Uint8Array, proto: string, dir: string, type: string): Bool {
    const typestr = type === 'net' ? 'net' : 'host';
    if (proto !== 'default' && proto !== 'ip6') {
      if (proto === 'link') throw new FilterError(`link-layer modifier applied to ip6 ${typestr}`);
      if (UNSUPPORTED_PROTOS.has(proto)) throw unsupported(`${proto} ${typestr}`);
      throw new FilterError(`'${proto}' modifier applied to ip6 ${typestr}`);
    }
    const word = (b: Uint8Array, i: number) => ((b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3]) >>> 0;
    const one = (off: number): Bool => {
      let b = this.linktype(ETHERTYPE.IPV6);
      for (let i = 0; i < 4; i++) {
        const m = word(mask, i);
        if (m === 0) continue;
        b = and(b, meq(4, this.offLinkPl + off + i * 4, (word(addr, i) & m) >>> 0, m));
      }
      return b;
    };
    return this.byDirection(dir, 8, 24, one);
  }

  // ---- transport layer ---------------------------------------------------------------------

  /** IPv4 with protocol p, not a fragment other than the first. */
  private ipProtoNoFrag(p: number): Bool {
    return and(eq(1, this.offLinkPl + 9, p), meqZero(2, this.offLinkPl + 6, 0x1fff));
  }

  private tran4(off: number): Val {
    return ld(2, this.offLinkPl + off, { k: 'msh', off: this.offLinkPl });
  }

  /** A source/destination primitive under its direction qualifier: the atom at srcOff, dstOff, or both. */
  private byDirection(dir: string, srcOff: number, dstOff: number, atom: (off: number) => Bool): Bool {
    switch (dir) {
      case 'src':
        return atom(srcOff);
      case 'dst':
        return atom(dstOff);
      case 'and':
        return and(atom(srcOff), atom(dstOff));
      case 'default':
      case 'or':
        return or(atom(srcOff), atom(dstOff));
    }
    throw this.wlanDirError(dir);
  }

  private protosFor(p: number): number[] {
    return p === PROTO_UNDEF ? [6, 17, 132] : [p];
  }

  /** gen_port() || gen_port6() with an atom per port offset, IPv6 tested first as libpcap does. */
  private ports(p: number, dir: string, atom4: (off: number) => Bool, atom6: (off: number) => Bool): Bool {
    const v6 = and(
      this.linktype(ETHERTYPE.IPV6),
      anyOf(...this.protosFor(p).map((pr) => and(eq(1, this.offLinkPl + 6, pr), this.byDirection(dir, 0, 2, atom6)))),
    );
    const v4 = and(
      this.linktype(ETHERTYPE.IP),
      anyOf(...this.protosFor(p).map((pr) => and(this.ipProtoNoFrag(pr), this.byDirection(dir, 0, 2, atom4)))),
    );
    return or(v6, v4);
  }

  port(port: number, p: number, dir: string): Bool {
    return this.ports(
      p,
      dir,
      (off) => cmp('eq', this.tran4(off), k(port)),
      (off) => eq(2, this.offLinkPl + 40 + off, port),
    );
  }

  portrange(lo: number, hi: number, p: number, dir: string): Bool {
    if (lo > hi) [lo, hi] = [hi, lo];
    const range = (v: () => Val) => and(cmp('ge', v(), k(lo)), not(cmp('gt', v(), k(hi))));
    return this.ports(
      p,
      dir,
      (off) => range(() => this.tran4(off)),
      (off) => range(() => ld(2, this.offLinkPl + 40 + off)),
    );
  }

  // ---- ids with qualifiers -----------------------------------------------------------------

  id(q: Qual, id: IdNode): Bool {
    if (UNSUPPORTED_PROTOS.has(q.proto)) throw unsupported(q.proto);
    if (q.proto === 'decnet' && q.addr !== 'proto') throw unsupported(`decnet ${q.addr === 'default' ? 'host' : q.addr}`);
    switch (id.k) {
      case 'num':
        return this.ncode(null, id.v, q);
      case 'hid':
        this.checkAddrQual(q, 'IPv4 address');
        return this.ncode(id.s, 0, q);
      case 'hidlen':
      case 'hidmask':
        this.checkAddrQual(q, 'IPv4 address and netmask');
        return this.mcode(id, q);
      case 'hid6':
        this.checkAddrQual(q, 'IPv6 address');
        return this.mcode6(id.s, id.len ?? 128, q);
      case 'eid':
        return this.ecode(id.s, q);
      case 'aid':
        throw new FilterError('aid supported only on ARCnet');
      case 'name':
        return this.scode(id.s, q);
    }
  }

  private checkAddrQual(q: Qual, what: string): void {
    if (q.addr === 'port' || q.addr === 'portrange' || q.addr === 'proto' || q.addr === 'protochain') {
      throw new FilterError(`'${q.addr}' qualifier applied to ${what}`);
    }
    if (q.addr === 'gateway') throw new FilterError(`'gateway' requires a name`);
  }

  /** __pcap_atoin(): dotted-decimal with 1 to 4 parts; returns the value and its width in bits. */
  private atoin(s: string): { v: number; bits: number } {
    const parts = s.split('.');
    let v = 0;
    for (const p of parts) {
      const n = Number(p);
      if (!/^[0-9]+$/.test(p) || n > 255) throw new FilterError(`invalid IPv4 address '${s}'`);
      v = v * 256 + n;
    }
    return { v: v >>> 0, bits: parts.length * 8 };
  }

  /** gen_ncode(): a number or dotted address under host/net/port/portrange/proto qualifiers. */
  private ncode(s: string | null, v: number, q: Qual): Bool {
    let bits = 32;
    if (s !== null) ({ v, bits } = this.atoin(s));
    switch (q.addr) {
      case 'default':
      case 'host':
      case 'net': {
        if (q.proto === 'link') throw new FilterError(`illegal link layer address`);
        if (UNSUPPORTED_PROTOS.has(q.proto) || q.proto === 'decnet') throw unsupported(`${q.proto} host`);
        let mask = 0xffffffff;
        if (s === null && q.addr === 'net') {
          // A bare number after "net" is a network number: promote it to the top bits.
          while (v && (v & 0xff000000) === 0) {
            v = (v << 8) >>> 0;
            mask = (mask << 8) >>> 0;
          }
        } else {
          v = bits === 32 ? v : (v * 2 ** (32 - bits)) >>> 0;
          mask = bits === 32 ? mask : (mask * 2 ** (32 - bits)) >>> 0;
        }
        return this.host(v, mask, q.proto, q.dir, q.addr);
      }
      case 'port':
      case 'portrange': {
        const p = this.portProto(q.proto, q.addr);
        if (v > 65535) throw new FilterError(`port number ${v} greater than maximum 65535`);
        return q.addr === 'port' ? this.port(v, p, q.dir) : this.portrange(v, v, p, q.dir);
      }
      case 'gateway':
        throw new FilterError(`'gateway' is not a valid qualifier for '${s ?? v}'`);
      case 'proto':
        return this.proto(v, q.proto, q.dir);
      case 'protochain':
        throw unsupported('protochain');
      default:
        throw new FilterError('syntax error in filter expression');
    }
  }

  private portProto(proto: string, what: string): number {
    switch (proto) {
      case 'udp': return 17;
      case 'tcp': return 6;
      case 'sctp': return 132;
      case 'default': return PROTO_UNDEF;
    }
    throw new FilterError(`illegal qualifier of '${what}'`);
  }

  /** gen_mcode(): "a.b.c.d/len" and "a.b.c.d mask m.m.m.m", networks only. */
  private mcode(id: IdNode & { k: 'hidlen' | 'hidmask' }, q: Qual): Bool {
    const { v: n0, bits } = this.atoin(id.s);
    const n = bits === 32 ? n0 : (n0 * 2 ** (32 - bits)) >>> 0;
    let m: number;
    let shown: string;
    if (id.k === 'hidmask') {
      const { v: m0, bits: mb } = this.atoin(id.mask);
      m = mb === 32 ? m0 : (m0 * 2 ** (32 - mb)) >>> 0;
      shown = `${id.s} mask ${id.mask}`;
    } else {
      if (id.len > 32) throw new FilterError(`netmask length ${id.len} greater than maximum 32`);
      m = id.len === 0 ? 0 : (0xffffffff << (32 - id.len)) >>> 0;
      shown = `${id.s}/${id.len}`;
    }
    if ((n & ~m) !== 0) throw new FilterError(`non-network bits set in "${shown}"`);
    if (q.addr !== 'net') throw new FilterError('Mask syntax for networks only');
    return this.host(n, m, q.proto, q.dir, q.addr);
  }

  /** gen_mcode6(): an IPv6 address with an optional prefix length. */
  private mcode6(s: string, len: number, q: Qual): Bool {
    const addr = parseIPv6(s);
    if (!addr) throw new FilterError(`invalid IPv6 address ${s}`);
    if (len > 128) throw new FilterError('mask length must be <= 128');
    const mask = new Uint8Array(16);
    for (let i = 0; i < 16; i++) mask[i] = len >= (i + 1) * 8 ? 0xff : len > i * 8 ? (0xff << (8 - (len - i * 8))) & 0xff : 0;
    for (let i = 0; i < 16; i++) if (addr[i] & ~mask[i]) throw new FilterError(`non-network bits set in "${s}/${len}"`);
    if ((q.addr === 'default' || q.addr === 'host') && len !== 128) throw new FilterError('Mask syntax for networks only');
    if (q.addr === 'default' || q.addr === 'host' || q.addr === 'net') return this.host6(addr, mask, q.proto, q.dir, q.addr);
    throw new FilterError('invalid qualifier against IPv6 address');
  }

  /** gen_ecode(): a MAC address under `ether host`/`ether src`/... */
  private ecode(s: string, q: Qual): Bool {
    const mac = parseMac(s);
    if (!mac) throw new FilterError('invalid Ethernet address');
    if ((q.addr === 'host' || q.addr === 'default') && q.proto === 'link') {
      this.requireEthernetAddr();
      return this.ehostop(mac, q.dir);
    }
    throw new FilterError('Ethernet address used in non-ether expression');
  }

  /** gen_scode(): a name under any qualifier. */
  private scode(name: string, q: Qual): Bool {
    const { proto, dir } = q;
    switch (q.addr) {
      case 'net': {
        let addr = this.opts.names.network(name);
        if (addr === null || addr === 0) throw new FilterError(`unknown network '${name}'`);
        let mask = 0xffffffff;
        while (addr && (addr & 0xff000000) === 0) {
          addr = (addr << 8) >>> 0;
          mask = (mask << 8) >>> 0;
        }
        return this.host(addr, mask, proto, dir, 'net');
      }
      case 'default':
      case 'host': {
        if (proto === 'link') {
          this.requireEthernetAddr();
          const mac = this.opts.names.ether(name);
          if (!mac) throw new FilterError(`unknown ether host '${name}'`);
          return this.ehostop(mac, dir);
        }
        if (proto === 'decnet') throw unsupported('decnet host');
        const addrs = this.opts.names.host(name);
        if (!addrs) throw new FilterError(`unknown host '${name}'`);
        let p4 = proto;
        let p6 = proto;
        if (this.offLinkType < 0 && proto === 'default') {
          p4 = 'ip';
          p6 = 'ip6';
        }
        let b: Bool | null = null;
        for (const a of addrs) {
          let t: Bool;
          if (a.includes(':')) {
            if (p6 === 'ip' || p6 === 'arp' || p6 === 'rarp') continue;
            t = this.host6(parseIPv6(a)!, new Uint8Array(16).fill(0xff), p6, dir, q.addr);
          } else {
            if (p4 === 'ip6') continue;
            t = this.host(inetNetwork(a)!, 0xffffffff, p4, dir, q.addr);
          }
          b = b ? or(b, t) : t;
        }
        if (!b) throw new FilterError(`unknown host '${name}'${proto === 'default' ? '' : ' for specified address family'}`);
        return b;
      }
      case 'port': {
        if (proto !== 'default' && proto !== 'udp' && proto !== 'tcp' && proto !== 'sctp') throw new FilterError("illegal qualifier of 'port'");
        const r = nameToPort(name);
        if (!r) throw new FilterError(`unknown port '${name}'`);
        let real = r.proto;
        if (proto === 'udp') {
          if (real === 6) throw new FilterError(`port '${name}' is tcp`);
          real = 17;
        } else if (proto === 'tcp') {
          if (real === 17) throw new FilterError(`port '${name}' is udp`);
          real = 6;
        } else if (proto === 'sctp') {
          real = 132;
        }
        if (r.port > 65535) throw new FilterError(`port number ${r.port} greater than maximum 65535`);
        return this.port(r.port, real, dir);
      }
      case 'portrange': {
        if (proto !== 'default' && proto !== 'udp' && proto !== 'tcp' && proto !== 'sctp') throw new FilterError("illegal qualifier of 'portrange'");
        const range = nameToPortRange(name);
        if (!range) throw new FilterError(`unknown port in range '${name}'`);
        let real = range.proto;
        if (proto === 'udp') {
          if (real === 6) throw new FilterError(`port in range '${name}' is tcp`);
          real = 17;
        } else if (proto === 'tcp') {
          if (real === 17) throw new FilterError(`port in range '${name}' is udp`);
          real = 6;
        } else if (proto === 'sctp') {
          real = 132;
        }
        for (const p of [range.lo, range.hi]) if (p > 65535) throw new FilterError(`port number ${p} greater than maximum 65535`);
        return this.portrange(range.lo, range.hi, real, dir);
      }
      case 'gateway':
        return this.gateway(name, proto);
      case 'proto': {
        const v = proto === 'link' ? nameToEtherProto(name) : proto === 'default' || proto === 'ip' || proto === 'ip6' ? nameToProto(name) : null;
        if (v === null) {
          if (proto === 'default' || proto === 'ip' || proto === 'ip6' || proto === 'link') throw new FilterError(`unknown 'proto' value '${name}'`);
          throw unsupported(`${proto} proto`);
        }
        return this.proto(v, proto, dir);
      }
      case 'protochain':
        throw unsupported('protochain');
      default:
        throw new FilterError('syntax error in filter expression');
    }
  }

  /** gen_gateway(): through this Ethernet host, but not to or from its IPv4 addresses. */
  private gateway(name: string, proto: string): Bool {
    if (proto !== 'default' && proto !== 'ip' && proto !== 'arp' && proto !== 'rarp') throw new FilterError("illegal modifier of 'gateway'");
    if (!this.ethernetOnly()) throw new FilterError("'gateway' supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel");
    const mac = this.opts.names.ether(name);
    if (!mac) throw new FilterError(`unknown ether host '${name}'`);
    const addrs = (this.opts.names.host(name) ?? []).filter((a) => !a.includes(':'));
    if (!addrs.length) throw new FilterError(`unknown host '${name}'`);
    const hosts = anyOf(...addrs.map((a) => this.host(inetNetwork(a)!, 0xffffffff, proto, 'or', 'host')));
    // Only packets of the qualifying protocols (IPv4, ARP, RARP by default) can go through a gateway.
    const family = proto === 'default' ? anyOf(...[ETHERTYPE.IP, ETHERTYPE.ARP, ETHERTYPE.REVARP].map((t) => this.linktype(t))) : this.protoAbbrev(proto);
    return and(this.ehostop(mac, 'or'), and(family, not(hosts)));
  }

  // ---- byte access and arithmetic ----------------------------------------------------------

  private arth(a: Arth): ArthVal {
    switch (a.k) {
      case 'num':
        return { v: k(a.v), chk: null };
      case 'len':
        return { v: { k: 'len' }, chk: null };
      case 'neg': {
        const x = this.arth(a.a);
        return { v: { k: 'neg', a: x.v }, chk: x.chk };
      }
      case 'bin': {
        if (a.b.k === 'num') {
          if (a.op === '/' && a.b.v === 0) throw new FilterError('division by zero');
          if (a.op === '%' && a.b.v === 0) throw new FilterError('modulus by zero');
          if ((a.op === '<<' || a.op === '>>') && a.b.v > 31) throw new FilterError('shift by more than 31 bits');
        }
        const x = this.arth(a.a);
        const y = this.arth(a.b);
        return { v: { k: 'op', op: a.op, a: x.v, b: y.v }, chk: andChk(x.chk, y.chk) };
      }
      case 'load':
        return this.load(a.proto, a.idx, a.size);
    }
  }

  /** gen_load(): proto[idx:size], relative to that protocol's header, valid only when present. */
  private load(proto: string, idxA: Arth, size: number): ArthVal {
    if (size !== 1 && size !== 2 && size !== 4) throw new FilterError('data size must be 1, 2, or 4');
    const sz = size as 1 | 2 | 4;
    const idx = this.arth(idxA);
    const at = (base: number, extra: Val | null): Val => {
      // A constant index folds into the offset, as BPF's ld [k] / ld [x + k].
      if (idx.v.k === 'k') return ld(sz, base + idx.v.v, extra);
      return ld(sz, base, extra ? { k: 'op', op: '+', a: idx.v, b: extra } : idx.v);
    };
    switch (proto) {
      case 'link':
        return { v: at(0, null), chk: idx.chk };
      case 'ip':
      case 'arp':
      case 'rarp':
      case 'ip6':
      case 'decnet':
      case 'sca':
      case 'lat':
      case 'moprc':
      case 'mopdl':
        return { v: at(this.offLinkPl, null), chk: andChk(idx.chk, this.protoAbbrev(proto)) };
      case 'icmp6': {
        const chk = and(andChk(idx.chk, this.protoAbbrev('ip6'))!, eq(1, this.offLinkPl + 6, 58));
        return { v: at(this.offLinkPl + 40, null), chk };
      }
    }
    if (IPV4_TRANSPORTS.has(proto)) {
      const inner = andChk(idx.chk, and(this.protoAbbrev(proto), meqZero(2, this.offLinkPl + 6, 0x1fff)));
      return { v: at(this.offLinkPl, { k: 'msh', off: this.offLinkPl }), chk: and(this.protoAbbrev('ip'), inner!) };
    }
    if (UNSUPPORTED_PROTOS.has(proto) || proto in LINK_ONLY_PROTOS) throw unsupported(`${proto}[]`);
    throw new FilterError('unsupported index operation');
  }

  /** gen_relation(): protocol checks of both sides first, then the comparison. */
  private relation(op: string, aA: Arth, bA: Arth): Bool {
    const a = this.arth(aA);
    const b = this.arth(bA);
    let c: Bool;
    switch (op) {
      case '>': c = cmp('gt', a.v, b.v); break;
      case '>=': c = cmp('ge', a.v, b.v); break;
      case '=': c = cmp('eq', a.v, b.v); break;
      case '<=': c = not(cmp('gt', a.v, b.v)); break;
      case '<': c = not(cmp('ge', a.v, b.v)); break;
      default: c = not(cmp('eq', a.v, b.v)); break;
    }
    const chk = andChk(a.chk, b.chk);
    return chk ? and(chk, c) : c;
  }

  // ---- everything else ---------------------------------------------------------------------

  private other(e: Expr & { k: 'other' }): Bool {
    const [n, m] = e.args;
    switch (e.what) {
      case 'broadcast':
        return this.broadcast(e.proto);
      case 'multicast':
        return this.multicast(e.proto);
      case 'less':
        return not(cmp('gt', { k: 'len' }, k(n)));
      case 'greater':
        return cmp('ge', { k: 'len' }, k(n));
      case 'byte': {
        if (m > 255) throw new FilterError(`byte argument ${m} greater than maximum 255`);
        const b = ld(1, n);
        switch (e.name) {
          case '=': return cmp('eq', b, k(m));
          case '<': return not(cmp('ge', b, k(m)));
          case '>': return cmp('gt', b, k(m));
          case '|': return not(cmp('eq', { k: 'op', op: '|', a: b, b: k(m) }, k(0)));
          default: return cmp('set', b, k(m));
        }
      }
      case 'inbound':
      case 'outbound':
        return this.inbound(e.what === 'outbound');
      case 'ifindex':
        if (this.link.kind !== 'sll2') throw new FilterError(`ifindex not supported on ${this.link.desc} when reading savefiles`);
        return eq(4, 4, n);
      case 'vlan':
        return this.vlan(e.args.length ? n : null);
    }
    throw unsupported(e.name ? `${e.what} ${e.name}` : e.what);
  }

  private broadcast(proto: string): Bool {
    switch (proto) {
      case 'default':
      case 'link':
        if (!this.ethernetOnly()) throw new FilterError('not a broadcast link');
        return this.ehostop(new Uint8Array(6).fill(0xff), 'dst');
      case 'ip': {
        if (this.opts.netmask === null) throw new FilterError("netmask not known, so 'ip broadcast' not supported");
        const hostmask = ~this.opts.netmask >>> 0;
        const dst = this.offLinkPl + 16;
        return and(this.linktype(ETHERTYPE.IP), or(meq(4, dst, 0, hostmask), meq(4, dst, hostmask, hostmask)));
      }
    }
    throw new FilterError('only link-layer/IP broadcast filters supported');
  }

  private multicast(proto: string): Bool {
    switch (proto) {
      case 'default':
      case 'link':
        if (!this.ethernetOnly()) {
          throw new FilterError('link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel');
        }
        return cmp('set', ld(1, 0), k(1));
      case 'ip':
        return and(this.linktype(ETHERTYPE.IP), cmp('ge', ld(1, this.offLinkPl + 16), k(224)));
      case 'ip6':
        return and(this.linktype(ETHERTYPE.IPV6), eq(1, this.offLinkPl + 24, 255));
    }
    throw new FilterError('link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel');
  }

  private inbound(outbound: boolean): Bool {
    let b: Bool;
    if (this.link.kind === 'sll') b = eq(2, 0, LINUX_SLL_OUTGOING);
    else if (this.link.kind === 'sll2') b = eq(1, 10, LINUX_SLL_OUTGOING);
    else throw new FilterError(`inbound/outbound not supported on ${this.link.desc} when reading savefiles`);
    return outbound ? b : not(b);
  }

  /** gen_vlan(): an 802.1Q/802.1ad/QinQ tag (with this VID), then look past it for the rest. */
  private vlan(vid: number | null): Bool {
    if (this.link.kind !== 'ether') throw new FilterError(`no VLAN support for ${this.link.desc}`);
    if (vid !== null && vid > 4095) throw new FilterError(`VLAN tag ${vid} greater than maximum 4095`);
    let b = anyOf(this.linktype(ETHERTYPE.VLAN), this.linktype(ETHERTYPE.QINQ_AD), this.linktype(ETHERTYPE.QINQ));
    if (vid !== null) b = and(b, meq(2, this.offLinkPl, vid, 0x0fff));
    this.offLinkPl += 4;
    this.offLinkType += 4;
    this.vlanDepth++;
    return b;
  }
}

/** (field & mask) == 0: libpcap's "not a non-first fragment" shape. */
function meqZero(size: 1 | 2 | 4, off: number, mask: number): Bool {
  return meq(size, off, 0, mask);
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** pcap_nametoportrange(): "lo-hi" with numbers or service names. */
function nameToPortRange(name: string): { lo: number; hi: number; proto: number } | null {
  const m = /^(\d+)-(\d+)/.exec(name);
  if (m) return { lo: Number(m[1]), hi: Number(m[2]), proto: PROTO_UNDEF };
  const dash = name.indexOf('-');
  if (dash < 0) {
    const one = nameToPort(name);
    return one && { lo: one.port, hi: one.port, proto: one.proto };
  }
  const a = nameToPort(name.slice(0, dash));
  const b = a && nameToPort(name.slice(dash + 1));
  if (!a || !b) return null;
  return { lo: a.port, hi: b.port, proto: a.proto === b.proto ? a.proto : PROTO_UNDEF };
}

/** Parses IPv6 text (with an optional trailing dotted quad) into 16 bytes, or null. */
export function parseIPv6(s: string): Uint8Array | null {
  let head = s;
  const tail: number[] = [];
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const q = v4.slice(2).map(Number);
    if (q.some((x) => x > 255)) return null;
    head = v4[1] + '0:0';
    tail.push((q[0] << 8) | q[1], (q[2] << 8) | q[3]);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (p: string) => (p === '' ? [] : p.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if ([...left, ...right].some(Number.isNaN)) return null;
  const fill = 8 - left.length - right.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  if (tail.length) groups.splice(6, 2, ...tail);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}
