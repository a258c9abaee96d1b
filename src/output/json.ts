/**
 * --json: one JSON object per packet (NDJSON). The shape is documented in README.md ("JSON output").
 * TCP is tracked and reassembled (src/stream/view.ts): a TCP layer carries its connection's
 * `stream` (tshark's tcp.stream) and `retransmission: true` where tshark flags one; the
 * application messages a frame completed (DNS over TCP, TLS, HTTP) follow it as ordinary layers.
 * As in -T fields, a UDP payload no dissector took may be DNS by tshark's heuristic.
 */
import { Layer, type Packet } from '../core/dissector.js';
import { Defragmenter } from '../ip/defrag.js';
import { formatEpoch, frameProtocols, nestedOf } from './frame-fields.js';
import { hex2 } from './format.js';
import { TcpLayer } from '../../dissectors/tcp.js';
import { AppLayers, StreamView } from '../stream/view.js';
import { withDnsHeuristic } from '../stream/dns-heuristic.js';
import '../stream/protocols.js';

/** Layer bookkeeping that is not protocol content. */
const BOOKKEEPING = new Set([...Object.keys(new Layer()), 'dissector', 'buf', 'nested']);

/** Adds what the tracker knows about a TCP layer to its object. */
type TcpNotes = (l: TcpLayer, o: JsonObject) => void;

export class JsonOut {
  /** IP fragments are reassembled as tshark does: upper layers show on the completing fragment. */
  private readonly defrag = new Defragmenter();
  private readonly streams = new StreamView({ apps: true });
  private readonly tcpNotes: TcpNotes = (l, o) => {
    const stream = this.streams.tracker.streamOf(l);
    if (stream !== undefined) o.stream = stream;
    if (this.streams.segmentOf(l)?.retransmission) o.retransmission = true;
  };

  /** One packet's object, without the newline. Packets must come in input order (reassembly). */
  format(decoded: Packet): string {
    const p = this.streams.push(withDnsHeuristic(this.defrag.push(decoded)));
    const f = p.frame;
    // The time is written by hand: nine decimals of epoch seconds do not fit a double.
    return '{"frame":{"number":' + f.number + ',"time":' + formatEpoch(f.tsSec, f.tsNsec) +
      ',"len":' + f.origLen + ',"capLen":' + f.capLen + ',"linkType":' + f.linkType +
      ',"interface":' + f.ifIndex + ',"protocols":' + JSON.stringify(frameProtocols(p)) +
      '},"layers":' + JSON.stringify(layersOf(p, this.tcpNotes), jsonValue) + '}';
  }
}

type JsonObject = Record<string, unknown>;

/**
 * p's layers as objects, each with its nested packets inside it; the application messages of a
 * stream (AppLayers) as layers of their own, in order.
 */
export function layersOf(p: Packet, tcpNotes?: TcpNotes, out: JsonObject[] = []): JsonObject[] {
  for (const l of p.layers) {
    if (l instanceof AppLayers) {
      for (const q of l.nested) layersOf(q, tcpNotes, out);
      continue;
    }
    const o: JsonObject = { layer: l.dissector.name };
    Object.assign(o, l.dissector.json ? l.dissector.json(l, p) : ownFields(l));
    if (tcpNotes !== undefined && l instanceof TcpLayer) tcpNotes(l, o);
    if (l.truncated) o.truncated = true;
    if (l.invalid !== null) o.invalid = l.invalid;
    const nested = nestedOf(l);
    if (nested !== undefined) {
      const inner: JsonObject[] = [];
      for (const q of nested) inner.push({ layers: layersOf(q, tcpNotes) });
      o.nested = inner;
    }
    out.push(o);
  }
  return out;
}

/** Getter names each Layer subclass declares (addresses formatted on demand), per prototype. */
const gettersOf = new Map<object, string[]>();

function getterNames(l: Layer): string[] {
  const proto = Object.getPrototypeOf(l) as object;
  let names = gettersOf.get(proto);
  if (names === undefined) {
    names = [];
    for (let q: object | null = proto; q !== null && q !== Layer.prototype && q !== Object.prototype; q = Object.getPrototypeOf(q) as object | null) {
      for (const [k, desc] of Object.entries(Object.getOwnPropertyDescriptors(q))) {
        if (desc.get !== undefined && !BOOKKEEPING.has(k) && !names.includes(k)) names.push(k);
      }
    }
    gettersOf.set(proto, names);
  }
  return names;
}

/** The default JSON view of a layer without json(): its own fields and its getters. */
function ownFields(l: Layer): JsonObject {
  const o: JsonObject = {};
  const rec = l as unknown as JsonObject;
  for (const k of Object.keys(l)) if (!BOOKKEEPING.has(k) && typeof rec[k] !== 'function') o[k] = rec[k];
  // Getters read the captured bytes; a header cut short has nothing to show for them.
  if (!l.truncated) for (const k of getterNames(l)) o[k] = rec[k];
  return o;
}

/** JSON.stringify replacer: byte arrays as hex strings, big integers as numbers. */
function jsonValue(_key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) {
    let s = '';
    for (let i = 0; i < v.length; i++) s += hex2(v[i]);
    return s;
  }
  if (typeof v === 'bigint') return Number(v);
  return v;
}
