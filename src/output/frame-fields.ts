/**
 * What -T fields and --json know about a frame beyond its layers: tshark's frame.* fields, its
 * frame.protocols list, and how packets nested inside a layer are reached.
 *
 * Nested packets: a layer that carries a whole packet inside it (an ICMP or ICMPv6 error quoting
 * the datagram that caused it) keeps the decoded inner packet(s) in a `nested: Packet[]` property
 * of its Layer subclass. Everything that walks a packet (field occurrences, frame.protocols,
 * JSON) visits a layer, then its nested packets depth first, then the next layer: tshark's tree
 * order, so "ip.src" of an ICMP error reads "outer,inner".
 *
 * frame.protocols takes each layer's part from its dissector's `protocols`, unless the layer has
 * its own `protocols` string: a layer that dispatches differently from packet to packet sets it
 * (tshark's Linux cooked header with a GRE hardware type hands the payload on by protocol type,
 * without "ethertype": "sll", not "sll:ethertype").
 */
import type { Dissector, FieldValue, Layer, Packet } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import { pad9 } from './format.js';
import { TCP, TcpLayer, TH } from '../../dissectors/tcp.js';
import { DnsLayer } from '../../dissectors/dns.js';
import { IP4_FLAG_MF, IP4_OFFMASK, Ipv4Layer } from '../../dissectors/ipv4.js';
import { IP6 } from '../../dissectors/ipv6.js';

/** A layer with packets inside it, by the convention above. */
export interface NestingLayer extends Layer {
  nested: Packet[];
}

/**
 * A layer whose own `protocols` string already names what its nested packets add to frame.protocols
 * (the messages a frame completed on a stream, src/stream/view.ts): they are not walked for it.
 */
export interface CoveringLayer extends NestingLayer, ProtocolsLayer {
  protocolsCoverNested: true;
}

/** A layer whose part of frame.protocols differs from its dissector's, by the convention above. */
export interface ProtocolsLayer extends Layer {
  protocols: string;
}

/** The packets nested in layer l, or undefined when it has none. */
export function nestedOf(l: Layer): Packet[] | undefined {
  const n = (l as Partial<NestingLayer>).nested;
  return n !== undefined && n.length > 0 ? n : undefined;
}

/**
 * tshark's frame.protocols: each layer's `protocols` in order (nested packets at their layer),
 * and `data` for payload bytes no dissector took (all of a frame whose link type has none).
 */
export function frameProtocols(p: Packet): string {
  return appendProtocols(p, '');
}

function appendProtocols(p: Packet, s: string): string {
  const layers = p.layers;
  if (layers.length === 0) return p.buf.length > 0 ? (s ? s + ':data' : 'data') : s;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    let name = (l as Partial<ProtocolsLayer>).protocols ?? l.dissector.protocols;
    // A header cut short never reached its dispatch step ("eth", not "eth:ethertype").
    if (l.truncated) {
      const colon = name.indexOf(':');
      if (colon >= 0) name = name.slice(0, colon);
    }
    if (name) s = s ? s + ':' + name : name;
    const nested = nestedOf(l);
    if (nested !== undefined && (l as Partial<CoveringLayer>).protocolsCoverNested !== true) {
      for (let k = 0; k < nested.length; k++) s = appendProtocols(nested[k], s);
    }
  }
  // The payload the last layer claims, as far as captured; an invalid length field that the
  // layer clamped still leaves a payload (tshark's UDP with a bad length shows it as data).
  // tshark's TCP shows a reset's payload as its reset cause, never as data.
  const top = layers[layers.length - 1];
  if (!top.truncated && nestedOf(top) === undefined && p.payloadOf(top).length > 0 &&
    !(top instanceof TcpLayer && (top.flags & TH.RST) !== 0)) s += ':data';
  return s;
}

/** tshark's time difference format: seconds with nine decimals, signed ("-0.300000000"). */
export function formatTimeDiff(sec: number, nsec: number, sec0: number, nsec0: number): string {
  let ds = sec - sec0;
  let dn = nsec - nsec0;
  let sign = '';
  if (ds < 0 || (ds === 0 && dn < 0)) {
    sign = '-';
    ds = -ds;
    dn = -dn;
  }
  if (dn < 0) {
    ds -= 1;
    dn += 1e9;
  }
  return sign + ds + '.' + pad9(dn);
}

/** Epoch seconds with nine decimals, as tshark prints frame.time_epoch. */
export function formatEpoch(sec: number, nsec: number): string {
  return sec < 0 ? formatTimeDiff(sec, nsec, 0, 0) : sec + '.' + pad9(nsec);
}

/**
 * The per-run state the relative time fields need: the first frame's time and the previous
 * frame's. `next` is called once per frame, in input order, before its fields are read.
 */
export class FrameClock {
  private firstSec = 0;
  private firstNsec = 0;
  private prevSec = 0;
  private prevNsec = 0;
  private curSec = 0;
  private curNsec = 0;
  private started = false;

  next(f: Frame): void {
    if (!this.started) {
      this.started = true;
      this.firstSec = this.curSec = f.tsSec;
      this.firstNsec = this.curNsec = f.tsNsec;
    }
    this.prevSec = this.curSec;
    this.prevNsec = this.curNsec;
    this.curSec = f.tsSec;
    this.curNsec = f.tsNsec;
  }

  /** frame.time_relative: since the first frame. */
  relative(): string {
    return formatTimeDiff(this.curSec, this.curNsec, this.firstSec, this.firstNsec);
  }

  /** frame.time_delta: since the previous frame. */
  delta(): string {
    return formatTimeDiff(this.curSec, this.curNsec, this.prevSec, this.prevNsec);
  }
}

/** The frame.* fields, each read from the packet (after FrameClock.next for that frame). */
export const FRAME_FIELDS: Readonly<Record<string, (p: Packet, clock: FrameClock) => FieldValue>> = {
  'frame.number': (p) => p.frame.number,
  'frame.time_epoch': (p) => formatEpoch(p.frame.tsSec, p.frame.tsNsec),
  'frame.time_relative': (_p, c) => c.relative(),
  'frame.time_delta': (_p, c) => c.delta(),
  'frame.len': (p) => p.frame.origLen,
  'frame.cap_len': (p) => p.frame.capLen,
  'frame.protocols': (p) => frameProtocols(p),
  // The frame's own expert item; its layers' marks follow (MARK_FIELDS).
  '_ws.malformed': (p) => (p.frame.origLen < p.frame.capLen ? EXPERT_MALFORMED : undefined),
};

/**
 * tshark's short protocol names (`tshark -G protocols`, column 2) by dissector name, where the
 * name differs from the upper-cased dissector name: the name tshark's marks below print.
 */
const TSHARK_SHORT_NAMES: Readonly<Record<string, string>> = {
  eth: 'Ethernet', vlan: 'VLAN', ieee8021ad: 'IEEE 802.1AD', arp: 'ARP/RARP', ip: 'IPv4',
  ipv6: 'IPv6', 'ipv6.hopopts': 'IPv6 Hop-by-Hop', 'ipv6.dstopts': 'IPv6 Destination', 'ipv6.routing': 'IPv6 Routing',
  'ipv6.fraghdr': 'IPv6 Fragment', icmpv6: 'ICMPv6', mdns: 'mDNS', mipv6: 'MIPv6', geneve: 'Geneve', null: 'Null',
  loop: 'Null', raw: 'Raw', ipn: 'Raw', sll2: 'SLL',
};

/**
 * How tshark marks what wirescope finds invalid, by "dissector reason" or by dissector: an expert
 * item of the malformed group (a hidden _ws.malformed), that and then an exception as it reads on
 * ("[Malformed Packet: TCP]" and its own expert item), or nothing (tshark reports IPv4's bad
 * lengths and version as protocol errors, and calls no dissector for an empty UDP payload).
 * Anything else: an exception, the form of most of tshark's malformed packets.
 */
type MalformedForm = 'expert' | 'expert+exception' | 'none';
const UDP_BAD_LENGTH = 'bad length';
const MALFORMED_FORMS: Readonly<Record<string, MalformedForm>> = {
  ip: 'none',
  'dns length 0 < 12': 'none',
  'mdns length 0 < 12': 'none',
  ['udp ' + UDP_BAD_LENGTH]: 'expert',
  'tcp header length exceeds segment': 'expert+exception',
  'ipv6 version': 'expert',
  'ipv6.hopopts options': 'expert',
  'ipv6.hopopts no jumbo payload': 'expert+exception',
  'ipv6.routing length': 'none',
};

/** A layer's marks, made once per dissector (the marks are rare; most runs never make one). */
interface Marks {
  short: string;
  /** An exception past the packet's reported end: its protocol item, then its expert item. */
  exception: string[];
  expertAndException: string[];
}

const marksByDissector = new Map<Dissector<any>, Marks>();

function marksOf(d: Dissector<any>): Marks {
  let m = marksByDissector.get(d);
  if (m === undefined) {
    const name = TSHARK_SHORT_NAMES[d.name] ?? d.name.toUpperCase();
    const exception = [`[Malformed Packet: ${name}]`, EXPERT_MALFORMED];
    m = { short: `[Packet size limited during capture: ${name} truncated]`, exception, expertAndException: [EXPERT_MALFORMED, ...exception] };
    marksByDissector.set(d, m);
  }
  return m;
}

/** An IPv4 fragment left as it was (tshark checks a UDP length against the IP payload only where the datagram is whole). */
function unreassembledFragment(l: Layer): boolean {
  return l instanceof Ipv4Layer && (l.flagsFrag & (IP4_FLAG_MF | IP4_OFFMASK)) !== 0 && l.reassembly === null;
}

/** What tshark's expert item of the malformed group adds to the tree: a hidden _ws.malformed, printed as its name. */
const EXPERT_MALFORMED = '_ws.malformed';

function malformedMarks(p: Packet, i: number, reason: string): FieldValue {
  const l = p.layers[i];
  const form = MALFORMED_FORMS[l.dissector.name + ' ' + reason] ?? MALFORMED_FORMS[l.dissector.name];
  if (form === 'none' || (reason === UDP_BAD_LENGTH && i > 0 && unreassembledFragment(p.layers[i - 1]))) return undefined;
  if (form === 'expert') return EXPERT_MALFORMED;
  return form === 'expert+exception' ? marksOf(l.dissector).expertAndException : marksOf(l.dissector).exception;
}

/** The end of layer i of p as tshark reports it: the least of the ends the layers down to it claim. */
function reportedEnd(p: Packet, i: number): number {
  let end = Infinity;
  for (let k = 0; k <= i; k++) end = Math.min(end, p.layers[k].off + p.layers[k].length);
  return end;
}

/** Whether layer i of p is above TCP. */
function overTcp(p: Packet, i: number): boolean {
  for (let k = 0; k < i; k++) if (p.layers[k] instanceof TcpLayer) return true;
  return false;
}

/** Whether layer i of p is the payload of a TCP reset, which tshark shows as the reset's cause, not dissected. */
function inReset(p: Packet, i: number): boolean {
  const below = i > 0 ? p.layers[i - 1] : null;
  return below instanceof TcpLayer && (below.flags & TH.RST) !== 0;
}

/**
 * _ws.malformed of a layer that ran out of bytes the packet did not have (tshark's
 * ReportedBoundsError, where bytes the capture left out are a BoundsError, _ws.short). Above TCP
 * tshark waits for the next segment's bytes instead. A header claimed shorter than it says it is
 * is an expert item first: a TCP data offset past the segment's end ("Bogus TCP header length"),
 * an IPv6 datagram shorter than its 40-byte header ("IPv6 header must be exactly 40 bytes").
 */
function pastTheEnd(p: Packet, i: number, end: number): FieldValue {
  const l = p.layers[i];
  if (overTcp(p, i)) return undefined;
  const marks = marksOf(l.dissector);
  // end is within the captured bytes here: whether the data offset was read.
  const tcpOffsetRead = l instanceof TcpLayer && l.off + TCP.OFF_FLAGS + 2 <= end;
  const headerPastEnd = tcpOffsetRead ? l.off + (l as TcpLayer).dataOffset * 4 > end : l.dissector.name === 'ipv6' && end - l.off < IP6.HEADER_LEN;
  return headerPastEnd ? marks.expertAndException : marks.exception;
}

/**
 * tshark's Ethertype dissector shows what follows the IPv4 or IPv6 datagram it carried as a
 * trailer, reading all of it: a trailer the capture cut short (bytes of it captured, not all) is
 * its BoundsError, marked after the marks of the datagram.
 */
const ETHERTYPE_SHORT = '[Packet size limited during capture: Ethertype truncated]';

function trailerCut(p: Packet): boolean {
  const layers = p.layers;
  for (let k = 1; k < layers.length; k++) {
    const l = layers[k];
    const name = l.dissector.name;
    if (name !== 'ip' && name !== 'ipv6') continue;
    const below = layers[k - 1];
    if (!((below as Partial<ProtocolsLayer>).protocols ?? below.dissector.protocols).endsWith(':ethertype')) return false;
    // A datagram tshark could not read to its length field does not shrink to it.
    if (l.truncated || l.invalid !== null) return false;
    const end = l.off + l.hdrLen + l.payloadLen;
    return end < p.buf.length && p.buf.length < p.frame.origLen;
  }
  return false;
}

/**
 * Whether layer i of p is a UDP header whose payload the capture left out entirely: tshark's UDP
 * shows its payload, which needs a byte of it captured (a BoundsError of UDP's own), and
 * dissects nothing above it.
 */
function udpPayloadCut(p: Packet, i: number): boolean {
  if (i < 0) return false;
  const l = p.layers[i];
  return l.dissector.name === 'udp' && !l.truncated && l.hdrLen > 0 && l.payloadLen > 0 && l.off + l.hdrLen >= p.buf.length;
}

/**
 * A DNS message as tshark reads it (the layer's `message`, read further than tcpdump's printer):
 * cut short by the capture, past the message's end or malformed (an exception either way), or whole.
 */
function dnsReading(l: DnsLayer): 'short' | 'malformed' | 'whole' {
  const m = l.message;
  if (m === null) return 'whole';
  if (m.error !== null) return 'malformed';
  if (!m.truncated) return 'whole';
  return l.msgOff + l.msgLen > Math.min(l.buf.length, l.capEnd) ? 'short' : 'malformed';
}

/**
 * tshark's marks of a packet cut short or malformed, read at layer i of p: _ws.short where the
 * layer ran out of captured bytes the packet had, _ws.malformed where it ran past the packet's
 * end or has a field that contradicts the header (issue 2's truncated and invalid layers).
 */
export const MARK_FIELDS: Readonly<Record<string, (p: Packet, i: number) => FieldValue>> = {
  '_ws.short': (p, i) => {
    const l = p.layers[i];
    let own: string | undefined;
    if (l.truncated ? reportedEnd(p, i) > p.buf.length && !udpPayloadCut(p, i - 1) && !inReset(p, i) : udpPayloadCut(p, i)) {
      own = marksOf(l.dissector).short;
    } else if (l instanceof DnsLayer && l.invalid === null && dnsReading(l) === 'short') own = marksOf(l.dissector).short;
    if (i !== p.layers.length - 1 || !trailerCut(p)) return own;
    return own === undefined ? ETHERTYPE_SHORT : [own, ETHERTYPE_SHORT];
  },
  '_ws.malformed': (p, i) => {
    const l = p.layers[i];
    if (l.truncated) {
      const end = reportedEnd(p, i);
      return end > p.buf.length ? undefined : pastTheEnd(p, i, end);
    }
    if (l.invalid !== null) return malformedMarks(p, i, l.invalid);
    return l instanceof DnsLayer && dnsReading(l) === 'malformed' ? marksOf(l.dissector).exception : undefined;
  },
};
