/**
 * Geneve (RFC 8926), UDP port 6081: a tunnel header with options, then a frame of the EtherType
 * it names (0x6558, Transparent Ethernet Bridging: a whole Ethernet frame).
 * tcpdump: print-geneve.c (geneve_print, geneve_opts_print); tshark fields: geneve.* (packet-geneve.c).
 */
import { bind, keyOf, lookup, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { TextOut } from '../src/output/text.js';
import { hex2 } from '../src/output/format.js';
import { etherTypeLookup, hex4 } from './ethertypes.js';
import { hexBytes, hexPad } from './ipv6.js';

/** Header and option field offsets, shared by decode and encode. */
export const GENEVE = { VER_OPTLEN: 0, FLAGS: 1, PROTO: 2, VNI: 4, RESERVED: 7, HEADER_LEN: 8 } as const;
export const GENEVE_OPT = { CLASS: 0, TYPE: 2, FLAGS_LEN: 3, HEADER_LEN: 4 } as const;
export const GENEVE_PORT = 6081;
/** Transparent Ethernet Bridging: the payload is an Ethernet frame. */
export const ETHERTYPE_TEB = 0x6558;
const LINKTYPE_ETHERNET = 1;

export const GENEVE_FLAG_OAM = 0x80;
export const GENEVE_FLAG_CRITICAL = 0x40;
/** An option type with this bit set is critical. */
const OPT_TYPE_CRITICAL = 0x80;
const OPT_LEN_MASK = 0x1f;

const NO_OPTIONS = new Uint8Array(0);

export class GeneveLayer extends Layer {
  version = 0;
  flags = 0;
  /** EtherType of the payload. */
  proto = ETHERTYPE_TEB;
  vni = 0;
  reserved = 0;
  /** Options length from the header, in bytes. */
  optLen = 0;
  /** The option bytes (class, type, length, data ...), when they were all captured. */
  options: Uint8Array = NO_OPTIONS;
  /** Bytes of this layer captured (the view it was decoded from). */
  capLen = 0;
}

export const geneve: Dissector<GeneveLayer> = {
  name: 'geneve',
  protocols: 'geneve',
  create: () => new GeneveLayer(),

  decode(l, v, _p) {
    l.capLen = v.length;
    const vo = v.u8(GENEVE.VER_OPTLEN);
    l.version = vo >> 6;
    l.optLen = (vo & 0x3f) * 4;
    l.flags = v.u8(GENEVE.FLAGS);
    l.proto = v.u16(GENEVE.PROTO);
    l.vni = v.u24(GENEVE.VNI);
    l.reserved = v.u8(GENEVE.RESERVED);
    const hl = GENEVE.HEADER_LEN + l.optLen;
    if (l.length < hl) {
      l.invalid = 'truncated-geneve';
      return;
    }
    l.options = v.bytes(GENEVE.HEADER_LEN, l.optLen);
    l.hdrLen = hl;
    l.payloadLen = l.length - hl;
    // tshark goes on whatever the version (tcpdump stops printing there).
    if (l.proto === ETHERTYPE_TEB) {
      l.nextTable = Table.LinkType;
      l.nextKey = LINKTYPE_ETHERNET;
    } else {
      l.nextTable = Table.EtherType;
      l.nextKey = l.proto;
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    const opts = l.options;
    const hl = GENEVE.HEADER_LEN + opts.length;
    const out = new Uint8Array(hl + payload.length);
    const optWords = ctx.opts.fixLengths ? opts.length >> 2 : l.optLen >> 2;
    out[GENEVE.VER_OPTLEN] = ((l.version & 3) << 6) | (optWords & 0x3f);
    out[GENEVE.FLAGS] = l.flags;
    const proto = payloadProto(l, ctx);
    out[GENEVE.PROTO] = proto >> 8;
    out[GENEVE.PROTO + 1] = proto & 0xff;
    out[GENEVE.VNI] = (l.vni >> 16) & 0xff;
    out[GENEVE.VNI + 1] = (l.vni >> 8) & 0xff;
    out[GENEVE.VNI + 2] = l.vni & 0xff;
    out[GENEVE.RESERVED] = l.reserved;
    out.set(opts, GENEVE.HEADER_LEN);
    out.set(payload, hl);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as GeneveLayer;
    const o = out.opts;
    out.s += 'Geneve';
    if (l.capLen < GENEVE.HEADER_LEN) {
      out.trunc('geneve');
      return;
    }
    if (l.version !== 0) {
      out.s += ' ERROR: unknown-version ' + l.version;
      return;
    }
    out.s += ', Flags [' + flagText(l.flags) + '], vni 0x' + l.vni.toString(16);
    if (l.reserved) out.s += ', rsvd 0x' + l.reserved.toString(16);
    if (o.e) out.s += ', proto ' + (etherTypeLookup(l.proto) ?? 'unknown') + ' (' + hex4(l.proto) + ')';
    // tcpdump's length is what UDP carries; this header's 8 bytes are already taken from it.
    const rest = l.length - GENEVE.HEADER_LEN;
    if (rest < l.optLen) {
      out.s += ' truncated-geneve - ' + (l.optLen - rest) + ' bytes missing';
      return;
    }
    if (l.truncated) {
      out.trunc('geneve');
      return;
    }
    if (l.optLen > 0) {
      out.s += ', options [';
      if (o.v) printOptions(out, l.options, o.v > 1);
      else out.s += l.optLen + ' bytes';
      out.s += ']';
    }
    out.s += o.v ? '\n\t' : ': ';
    if (i + 1 < p.layers.length) out.printLayer(p, i + 1);
    else out.s += 'geneve-proto-0x' + l.proto.toString(16);
  },

  // Fields up to the last byte captured, as tshark adds them in order until a read fails.
  fields: {
    'geneve.version': (l) => (l.capLen >= 1 ? l.version : undefined),
    'geneve.flags': (l) => (l.capLen >= 2 ? '0x' + hex2(l.flags) : undefined),
    'geneve.flags.oam': (l) => (l.capLen >= 2 ? (l.flags & GENEVE_FLAG_OAM ? 1 : 0) : undefined),
    'geneve.flags.critical': (l) => (l.capLen >= 2 ? (l.flags & GENEVE_FLAG_CRITICAL ? 1 : 0) : undefined),
    'geneve.flags.reserved': (l) => (l.capLen >= 2 ? (l.flags & 0x3f ? 1 : 0) : undefined),
    'geneve.proto_type': (l) => (l.capLen >= 4 ? hex4(l.proto) : undefined),
    'geneve.vni': (l) => (l.capLen >= 7 ? '0x' + hexPad(l.vni, 6) : undefined),
    'geneve.reserved': (l) => (l.capLen >= 8 ? '0x' + hex2(l.reserved) : undefined),
    // The header's options length, then each option's.
    'geneve.option.length': (l) => (l.capLen >= 1 ? [l.optLen, ...optionsOf(l).map((k) => optionLength(l.options, k))] : undefined),
    'geneve.options': (l) => (hasOptions(l) ? hexBytes(l.options, 0, l.options.length) : undefined),
    'geneve.option': (l) => eachOption(l, (b, k, n) => hexBytes(b, k, k + n)),
    'geneve.option.class': (l) => eachOption(l, (b, k) => '0x' + hexPad((b[k] << 8) | b[k + 1], 4)),
    'geneve.option.type': (l) => eachOption(l, (b, k) => '0x' + hex2(b[k + GENEVE_OPT.TYPE])),
    'geneve.option.type.critical': (l) => eachOption(l, (b, k) => (b[k + GENEVE_OPT.TYPE] & OPT_TYPE_CRITICAL ? 1 : 0)),
    'geneve.option.flags': (l) => eachOption(l, (b, k) => '0x' + hex2(b[k + GENEVE_OPT.FLAGS_LEN] >> 5)),
    'geneve.option.flags.reserved': (l) => eachOption(l, (b, k) => (b[k + GENEVE_OPT.FLAGS_LEN] & 0xe0 ? 1 : 0)),
    // An option without data is an empty bytes field, which tshark writes as "<MISSING>".
    'geneve.option.unknown.data': (l) => eachOption(l, (b, k, n) => (isGcpOption(b, k) ? undefined : hexBytes(b, k + GENEVE_OPT.HEADER_LEN, k + n) || '<MISSING>')),
  },

  json(l) {
    return {
      version: l.version, optionsLen: l.optLen, flags: { oam: (l.flags & GENEVE_FLAG_OAM) !== 0, critical: (l.flags & GENEVE_FLAG_CRITICAL) !== 0 },
      proto: l.proto, vni: l.vni, reserved: l.reserved, options: hexBytes(l.options, 0, l.options.length),
    };
  },
};

/** The payload's EtherType: the layer's, unless fixing lengths finds the inner layer named otherwise. */
function payloadProto(l: GeneveLayer, ctx: EncodeContext): number {
  if (!ctx.opts.fixLengths || !ctx.inner.length) return l.proto;
  const d = ctx.inner[0].dissector;
  if (lookup(Table.EtherType, l.proto) === d) return l.proto;
  if (keyOf(d, Table.LinkType) === LINKTYPE_ETHERNET) return ETHERTYPE_TEB;
  return keyOf(d, Table.EtherType) ?? l.proto;
}

/** tcpdump's bittok2str_nosep(geneve_flag_values): the set flags' names run together, or "none". */
const FLAG_NAMES = ['R6', 'R5', 'R4', 'R3', 'R2', 'R1', 'C', 'O'];
function flagText(flags: number): string {
  let s = '';
  for (let b = 7; b >= 0; b--) if (flags & (1 << b)) s += FLAG_NAMES[b];
  return s || 'none';
}

/** tcpdump's format_opt_class. */
function optClassName(c: number): string {
  switch (c) {
    case 0x0100: return 'Linux';
    case 0x0101: return 'Open vSwitch';
    case 0x0102: return 'Open Virtual Networking (OVN)';
    case 0x0103: return 'In-band Network Telemetry (INT)';
    case 0x0104: return 'VMware';
  }
  return c <= 0x00ff ? 'Standard' : c >= 0xfff0 ? 'Experimental' : 'Unknown';
}

/** Bytes taken by the option at b[k] (its header and data). */
function optionLength(b: Uint8Array, k: number): number {
  return GENEVE_OPT.HEADER_LEN + (b[k + GENEVE_OPT.FLAGS_LEN] & OPT_LEN_MASK) * 4;
}

/** tcpdump's geneve_opts_print (-v), with each option's data words at -vv. */
function printOptions(out: TextOut, b: Uint8Array, data: boolean): void {
  let k = 0;
  let sep = '';
  while (k < b.length) {
    out.s += sep;
    sep = ', ';
    const cls = (b[k] << 8) | b[k + 1];
    const type = b[k + GENEVE_OPT.TYPE];
    const n = optionLength(b, k);
    out.s += 'class ' + optClassName(cls) + ' (0x' + cls.toString(16) + ') type 0x' + type.toString(16) + (type & OPT_TYPE_CRITICAL ? '(C)' : '') + ' len ' + n;
    if (n > b.length - k) {
      out.s += ' [bad length]';
      return;
    }
    if (data && n > GENEVE_OPT.HEADER_LEN) {
      out.s += ' data';
      for (let w = k + GENEVE_OPT.HEADER_LEN; w < k + n; w += 4) out.s += ' ' + hexBytes(b, w, w + 4);
    }
    k += n;
  }
}

/** tshark lists the options when they were all captured. */
function hasOptions(l: GeneveLayer): boolean {
  return l.optLen > 0 && l.options.length === l.optLen;
}

/** Offsets of the options tshark shows: up to one whose length runs past the options' end. */
function optionsOf(l: GeneveLayer): number[] {
  const at: number[] = [];
  if (!hasOptions(l)) return at;
  const b = l.options;
  for (let k = 0; k + GENEVE_OPT.HEADER_LEN <= b.length; k += optionLength(b, k)) {
    if (optionLength(b, k) > b.length - k) break;
    at.push(k);
  }
  return at;
}

/** One value per option shown (undefined when none gives one). */
function eachOption(l: GeneveLayer, get: (b: Uint8Array, k: number, n: number) => string | number | undefined): Array<string | number> | undefined {
  const vals: Array<string | number> = [];
  for (const k of optionsOf(l)) {
    const v = get(l.options, k, optionLength(l.options, k));
    if (v !== undefined) vals.push(v);
  }
  return vals.length ? vals : undefined;
}

/** Google Cloud's options (class 0x0132, types 1-3): tshark decodes their data into fields of their own. */
function isGcpOption(b: Uint8Array, k: number): boolean {
  const t = b[k + GENEVE_OPT.TYPE];
  return b[k] === 0x01 && b[k + 1] === 0x32 && t >= 1 && t <= 3;
}

bind(Table.UdpPort, GENEVE_PORT, geneve);
