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
import type { FieldValue, Layer, Packet } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import { pad9 } from './format.js';
import { TcpLayer, TH } from '../../dissectors/tcp.js';

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
};
