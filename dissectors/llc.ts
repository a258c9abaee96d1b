/**
 * IEEE 802.2 LLC, and the SNAP header that follows an LLC UI frame to SAP 0xAA: what 802.3
 * length frames (and cooked 802.2 frames) carry. tcpdump: print-llc.c (llc_print, snap_print);
 * tshark fields: llc.*. SNAP is part of this layer, as in tshark ("eth:llc:arp").
 * tcpdump's printers for STP, CDP, NetBIOS, IPX, OSI and the like are not here: those payloads
 * get tcpdump's generic LLC text and the raw bytes.
 */
import { bind, keyOf, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import type { ByteView } from '../src/core/view.js';
import { hexAndAscii, type TextOut } from '../src/output/text.js';
import { hex2 } from '../src/output/format.js';
import { ETH, EthernetLayer, defaultPrint, macText } from './ethernet.js';
import { linkBelow } from './dot1q.js';
import { ETHERTYPE, ETHERTYPE_LLC, etherTypeLookup, hex4, ouiName } from './ethertypes.js';
import { CookedLayer } from './sll.js';

/** Field offsets, shared by decode and encode (SNAP_* only when the SNAP header is present). */
export const LLC = { DSAP: 0, SSAP: 1, CONTROL: 2, SNAP_OUI: 3, SNAP_PID: 6, U_LEN: 3, IS_LEN: 4, SNAP_LEN: 5 } as const;

export const LLCSAP = { NULL: 0x00, IP: 0x06, STP: 0x42, SNAP: 0xaa, IPX: 0xe0, NETBEUI: 0xf0, ISONS: 0xfe, GLOBAL: 0xff } as const;

/** Unnumbered-frame commands (the control byte without the poll/final bit). */
export const LLC_UI = 0x03;
const LLC_U_FMT = 3;
const LLC_S_FMT = 1;
const LLC_GSAP = 1;
const LLC_U_POLL = 0x10;
const LLC_IS_POLL = 0x0100;
const LLC_XID = 0xaf;
const LLC_XID_FI = 0x81;

/** OUIs under which the SNAP protocol id is an EtherType (RFC 1042, Cisco's bridged 0x0000f8). */
const OUI_ENCAP_ETHER = 0x000000;
const OUI_CISCO_90 = 0x0000f8;
const OUI_APPLETALK = 0x080007;
const OUI_CISCO = 0x00000c;
const OUI_RFC2684 = 0x0080c2;

const SAP_NAMES = new Map<number, string>([
  [0x00, 'Null'], [0xff, 'Global'], [0x02, '802.1B I'], [0x03, '802.1B G'], [0x06, 'IP'], [0x04, 'SNA'],
  [0x0e, 'ProWay NM'], [0x42, 'STP'], [0x4e, 'RS511'], [0x7e, 'ISO8208'], [0x8e, 'ProWay'], [0xaa, 'SNAP'],
  [0xe0, 'IPX'], [0xf0, 'NetBeui'], [0xfe, 'OSI'],
]);

const U_COMMANDS = new Map<number, string>([
  [0x03, 'ui'], [0xe3, 'test'], [0xaf, 'xid'], [0x63, 'ua'], [0x43, 'disc'], [0x0f, 'dm'], [0x6f, 'sabme'], [0x87, 'frmr'],
]);

const CISCO_PIDS = new Map<number, string>([
  [0x2000, 'CDP'], [0x2003, 'VTP'], [0x2004, 'DTP'], [0x0111, 'UDLD'], [0x010b, 'PVST'], [0x010c, 'VLAN Bridge'],
]);

const BRIDGED_PIDS = new Map<number, string>([
  [0x0001, 'Ethernet + FCS'], [0x0007, 'Ethernet w/o FCS'], [0x0002, '802.4 + FCS'], [0x0008, '802.4 w/o FCS'],
  [0x0003, 'Token Ring + FCS'], [0x0009, 'Token Ring w/o FCS'], [0x0004, 'FDDI + FCS'], [0x000a, 'FDDI w/o FCS'],
  [0x0005, '802.6 + FCS'], [0x000b, '802.6 w/o FCS'], [0x000e, 'BPDU'],
]);

export class LlcLayer extends Layer {
  /** DSAP field (the low bit is the individual/group flag). */
  dsap = LLCSAP.SNAP as number;
  /** SSAP field (the low bit is the command/response flag). */
  ssap = LLCSAP.SNAP as number;
  /** Control field: one byte for U frames, two (little-endian) for I and S frames. */
  control = LLC_UI;
  /** A SNAP header follows (UI frame from SAP 0xAA to 0xAA). */
  snap = false;
  /** SNAP organisation code and protocol id (an EtherType under OUI 0). */
  oui = 0;
  pid = 0;

  get isU(): boolean { return (this.control & LLC_U_FMT) === LLC_U_FMT; }
  /** Length of the LLC header proper (without SNAP). */
  get llcLen(): number { return this.isU ? LLC.U_LEN : LLC.IS_LEN; }
}

/** A SNAP LLC layer for payload `pid` (an EtherType): makeLayer(llc, snapFields(0x0806)). */
export function snapFields(pid: number, oui = OUI_ENCAP_ETHER): Partial<LlcLayer> {
  return { dsap: LLCSAP.SNAP, ssap: LLCSAP.SNAP, control: LLC_UI, snap: true, oui, pid };
}

function sapName(sap: number): string {
  return SAP_NAMES.get(sap) ?? 'Unknown';
}

/** llc_flag_values: Command/Response/Poll/Final. */
function flagName(f: number): string {
  switch (f) {
    case 0: return 'Command';
    case LLC_GSAP: return 'Response';
    case LLC_U_POLL: case LLC_IS_POLL: return 'Poll';
    case LLC_GSAP | LLC_U_POLL: case LLC_GSAP | LLC_IS_POLL: return 'Final';
    default: return '?';
  }
}

function pidName(oui: number, pid: number): string {
  if (oui === OUI_ENCAP_ETHER || oui === OUI_CISCO_90 || oui === OUI_APPLETALK) return etherTypeLookup(pid) ?? 'Unknown';
  if (oui === OUI_CISCO) return CISCO_PIDS.get(pid) ?? 'Unknown';
  if (oui === OUI_RFC2684) return BRIDGED_PIDS.get(pid) ?? 'Unknown';
  return 'Unknown';
}

function hex6(n: number): string {
  return '0x' + n.toString(16).padStart(6, '0');
}

export const llc: Dissector<LlcLayer> = {
  name: 'llc',
  protocols: 'llc',
  create: () => new LlcLayer(),

  decode(l, v: ByteView, _p) {
    if (l.length < LLC.U_LEN) { l.invalid = 'length'; return; }
    l.dsap = v.u8(LLC.DSAP);
    l.ssap = v.u8(LLC.SSAP);
    l.control = v.u8(LLC.CONTROL);
    if (!l.isU) {
      if (l.length < LLC.IS_LEN) { l.invalid = 'length'; return; }
      l.control = v.u16le(LLC.CONTROL);
    }
    l.hdrLen = l.llcLen;
    l.payloadLen = l.length - l.hdrLen;
    // Ethernet_802.3 IPX: no LLC header at all, the IPX header starts with 0xffff.
    if (l.dsap === LLCSAP.GLOBAL && l.ssap === LLCSAP.GLOBAL) {
      l.hdrLen = 0;
      l.payloadLen = l.length;
      l.dissector = ipx8023;
      return;
    }
    const dsap = l.dsap & ~1, ssap = l.ssap & ~1;
    if (dsap === LLCSAP.SNAP && ssap === LLCSAP.SNAP && l.control === LLC_UI) {
      l.snap = true;
      if (l.length < LLC.U_LEN + LLC.SNAP_LEN) { l.invalid = 'length'; return; }
      l.oui = v.u24(LLC.SNAP_OUI);
      l.pid = v.u16(LLC.SNAP_PID);
      l.hdrLen = LLC.U_LEN + LLC.SNAP_LEN;
      l.payloadLen = l.length - l.hdrLen;
      if (l.oui === OUI_ENCAP_ETHER || l.oui === OUI_CISCO_90 || (l.oui === OUI_APPLETALK && l.pid === 0x809b)) {
        l.nextTable = Table.EtherType;
        l.nextKey = l.pid;
      }
    } else if (dsap === LLCSAP.IP && ssap === LLCSAP.IP && l.control === LLC_UI) {
      l.nextTable = Table.EtherType;
      l.nextKey = ETHERTYPE.IPV4;
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    const isU = l.isU;
    const llcLen = isU ? LLC.U_LEN : LLC.IS_LEN;
    const hl = llcLen + (l.snap ? LLC.SNAP_LEN : 0);
    const out = new Uint8Array(hl + payload.length);
    out[LLC.DSAP] = l.dsap;
    out[LLC.SSAP] = l.ssap;
    out[LLC.CONTROL] = l.control & 0xff;
    if (!isU) out[LLC.CONTROL + 1] = l.control >> 8;
    if (l.snap) {
      let pid = l.pid;
      if (ctx.opts.fixLengths && ctx.inner.length && l.oui === OUI_ENCAP_ETHER) pid = keyOf(ctx.inner[0].dissector, Table.EtherType) ?? pid;
      out[llcLen] = l.oui >> 16;
      out[llcLen + 1] = (l.oui >> 8) & 0xff;
      out[llcLen + 2] = l.oui & 0xff;
      out[llcLen + 3] = pid >> 8;
      out[llcLen + 4] = pid & 0xff;
    }
    out.set(payload, hl);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as LlcLayer;
    const o = out.opts;
    const link = linkBelow(p, i);
    const linkLayer = p.layers[link];
    const onLinkHeader = out.linkHdrLen === l.off;
    if (l.truncated && !l.snap || l.invalid && !l.snap) {
      // Fewer than 3 (or 4) bytes: tcpdump marks it and dumps what there is, all of it link layer.
      if (onLinkHeader) out.linkHdrLen = p.frame.capLen;
      out.trunc('llc');
      dump(out, p.payloadOf(p.layers[i - 1]));
      return;
    }
    const dsap = l.dsap & ~1, ssap = l.ssap & ~1;
    if (l.hdrLen === 0) {
      // Ethernet_802.3 IPX: tcpdump's IPX printer is not here; show the bytes.
      if (o.e) out.s += 'IPX 802.3: ';
      defaultPrint(out, p.payloadOf(p.layers[i - 1]));
      return;
    }
    if (o.e) {
      out.s += 'LLC, dsap ' + sapName(dsap) + ' (0x' + hex2(dsap) + ') ' + ((l.dsap & 1) ? 'Group' : 'Individual') +
        ', ssap ' + sapName(ssap) + ' (0x' + hex2(ssap) + ') ' + ((l.ssap & 1) ? 'Response' : 'Command') +
        ', ctrl ' + (l.isU ? '0x' + hex2(l.control) : hex4(l.control)) + ': ';
    }
    const addrs = linkLayer instanceof EthernetLayer ? linkLayer : null;
    if (l.snap) {
      if (l.truncated || l.invalid) {
        // snap_print gives up, yet counts its 5 bytes as link header: -x dumps nothing.
        if (onLinkHeader) out.linkHdrLen = l.off + LLC.U_LEN + LLC.SNAP_LEN;
        out.trunc('snap');
        return;
      }
      if (onLinkHeader) out.linkHdrLen = l.off + l.hdrLen;
      const rest = l.length - l.hdrLen;
      if (o.e) {
        out.s += 'oui ' + ouiName(l.oui) + ' (' + hex6(l.oui) + '), ' + (l.oui === OUI_ENCAP_ETHER ? 'ethertype ' : 'pid ') +
          pidName(l.oui, l.pid) + ' (' + hex4(l.pid) + '), length ' + rest + ': ';
      }
      if (i + 1 < p.layers.length) {
        out.printLayer(p, i + 1);
        return;
      }
      if (!o.e) {
        if (addrs) out.s += addrText(addrs, o.n) + ' ';
        out.s += l.oui === OUI_ENCAP_ETHER
          ? 'SNAP, ethertype ' + (etherTypeLookup(l.pid) ?? 'Unknown') + ' (' + hex4(l.pid) + '), length ' + rest + ': '
          : 'SNAP, oui ' + ouiName(l.oui) + ' (' + hex6(l.oui) + '), pid ' + pidName(l.oui, l.pid) + ' (' + hex4(l.pid) + '), length ' + rest + ': ';
      }
      defaultPrint(out, p.payloadOf(p.layers[i - 1]));
      return;
    }
    if (i + 1 < p.layers.length) {
      if (onLinkHeader) out.linkHdrLen = l.off + l.hdrLen;
      out.printLayer(p, i + 1);
      return;
    }
    // Cooked captures count an LLC header tcpdump could not follow as payload.
    if (onLinkHeader && !(linkLayer instanceof CookedLayer)) out.linkHdrLen = l.off + l.hdrLen;
    if (!o.e) {
      if (ssap === dsap) {
        out.s += (addrs ? addrText(addrs, o.n) + ' ' : '') + (SAP_NAMES.get(dsap) ?? 'Unknown DSAP 0x' + hex2(dsap)) + ' ';
      } else {
        const s = SAP_NAMES.get(ssap) ?? 'Unknown SSAP 0x' + hex2(ssap);
        const d = SAP_NAMES.get(dsap) ?? 'Unknown DSAP 0x' + hex2(dsap);
        out.s += addrs
          ? macText(addrs.buf, addrs.off + ETH.SRC, o.n) + ' ' + s + ' > ' + macText(addrs.buf, addrs.off + ETH.DST, o.n) + ' ' + d + ' '
          : s + ' > ' + d + ' ';
      }
    }
    const payload = p.payloadOf(p.layers[i - 1]);
    if (l.isU) {
      out.s += 'Unnumbered, ' + (U_COMMANDS.get(l.control & 0xef) ?? hex2(l.control & 0xef)) + ', Flags [' +
        flagName((l.ssap & LLC_GSAP) | (l.control & LLC_U_POLL)) + '], length ' + l.length;
      if ((l.control & ~LLC_U_POLL) === LLC_XID) {
        // XID frames: the format identifier and the two bytes after it, and no dump.
        if (l.payloadLen === 0) return;
        const v = p.payloadOf(l);
        if (v.length < 1) { out.trunc('llc'); return; }
        if (v.u8(0) === LLC_XID_FI) {
          if (v.length < 3 || l.payloadLen < 3) {
            out.trunc('llc');
            dump(out, v);
          } else out.s += ': ' + hex2(v.u8(1)) + ' ' + hex2(v.u8(2));
          return;
        }
      }
      defaultPrint(out, payload);
    } else if (l.control & LLC_S_FMT) {
      const cmd = (l.control >> 2) & 3;
      out.s += 'Supervisory, ' + (cmd === 0 ? 'Receiver Ready' : cmd === 1 ? 'Receiver not Ready' : cmd === 2 ? 'Reject' : '?') +
        ', rcv seq ' + ((l.control >> 9) & 0x7f) + ', Flags [' + flagName((l.ssap & LLC_GSAP) | (l.control & LLC_IS_POLL)) +
        '], length ' + l.length;
    } else {
      out.s += 'Information, send seq ' + ((l.control >> 1) & 0x7f) + ', rcv seq ' + ((l.control >> 9) & 0x7f) + ', Flags [' +
        flagName((l.ssap & LLC_GSAP) | (l.control & LLC_IS_POLL)) + '], length ' + l.length;
      defaultPrint(out, payload);
    }
  },

  fields: {
    'llc.dsap': (l) => '0x' + hex2(l.dsap),
    'llc.ssap': (l) => '0x' + hex2(l.ssap),
    'llc.control': (l) => hex4(l.control),
    'llc.oui': (l) => (l.snap ? l.oui : undefined),
    'llc.type': (l) => (l.snap && (l.oui === OUI_ENCAP_ETHER || l.oui === OUI_CISCO_90) ? hex4(l.pid) : undefined),
    'llc.pid': (l) => (l.snap && l.oui !== OUI_ENCAP_ETHER && l.oui !== OUI_CISCO_90 && l.oui !== OUI_CISCO ? hex4(l.pid) : undefined),
  },

  json(l) {
    return l.snap
      ? { dsap: l.dsap, ssap: l.ssap, control: l.control, oui: l.oui, pid: l.pid }
      : { dsap: l.dsap, ssap: l.ssap, control: l.control };
  },
};

/** ND_DEFAULTPRINT where llc_print calls it directly: not suppressed by -x/-X/-A. */
function dump(out: TextOut, v: ByteView): void {
  out.s += hexAndAscii(v.buf, v.start, v.end, '\n\t', 0);
}

/** "src > dst" of an Ethernet header, as the LLC printer adds it without -e. */
function addrText(e: EthernetLayer, n: number): string {
  return macText(e.buf, e.off + ETH.SRC, n) + ' > ' + macText(e.buf, e.off + ETH.DST, n);
}

/** Novell's raw 802.3 IPX (no LLC header): its own protocol to tshark, with no LLC fields. */
const ipx8023: Dissector<LlcLayer> = {
  ...llc, name: 'ipx', protocols: 'ipx', fields: {}, json: () => ({}), encode: (_l, payload) => payload,
};

bind(Table.EtherType, ETHERTYPE_LLC, llc);
