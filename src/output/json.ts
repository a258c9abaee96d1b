/**
 * --json: one JSON object per packet (NDJSON). The shape is documented in README.md ("JSON output").
 * TCP is tracked and reassembled (src/stream/view.ts): a TCP layer carries its connection's
 * `stream` (tshark's tcp.stream) and `retransmission: true` where tshark flags one; the
 * application messages placed on a frame (DNS over TCP, TLS, HTTP: on the frame that brought their
 * last bytes, as in -T fields) follow it as ordinary layers.
 * As in -T fields, a UDP payload no dissector took may be DNS by tshark's heuristic.
 */
import { Layer, type Packet } from '../core/dissector.js';
import { Defragmenter } from '../ip/defrag.js';
import { formatEpoch, frameProtocols, nestedOf } from './frame-fields.js';
import { hex2 } from './format.js';
import { TcpLayer } from '../../dissectors/tcp.js';
import { claimedView, StreamView, type FrameBuilder } from '../stream/view.js';
import type { LineOut } from './fields.js';
import { withDnsHeuristic } from '../stream/dns-heuristic.js';
import '../stream/protocols.js';

/** Layer bookkeeping that is not protocol content. */
const BOOKKEEPING = new Set([...Object.keys(new Layer()), 'dissector', 'buf', 'nested']);

/** Adds what the tracker knows about a TCP layer to its object. */
type TcpNotes = (l: TcpLayer, o: JsonObject) => void;

/** One frame's object being built, as text (the frame's bytes are not kept). */
class JsonFrame {
  /** Up to `"protocols":`. */
  head = '';
  /** The layers up to TCP (all of them, for a frame no protocol claims), joined by ','. */
  layers = '';
  /** The layers above TCP, while the frame's connection is undecided (they show only if no protocol takes it). */
  upper: string | null = null;
  /** The messages placed on it. */
  messages = '';
  /** frame.protocols up to TCP (for a claimed segment), and of the frame itself. */
  protocolsClaimed = '';
  protocolsOwn = '';
}

export class JsonOut implements FrameBuilder<JsonFrame> {
  /** IP fragments are reassembled as tshark does: upper layers show on the completing fragment. */
  private readonly defrag = new Defragmenter();
  private readonly streams: StreamView<JsonFrame>;
  private readonly tcpNotes: TcpNotes = (l, o) => {
    const stream = this.streams.tracker.streamOf(l);
    if (stream !== undefined) o.stream = stream;
    if (this.streams.segmentOf(l)?.retransmission) o.retransmission = true;
  };
  private out: LineOut | null = null;
  private last = '';

  /** warn: says when the objects waiting for a hole's bytes were too many and the hole was given up. */
  constructor(warn?: (message: string) => void) {
    this.streams = new StreamView<JsonFrame>(this, { apps: true, warn });
  }

  /**
   * Writes the objects of the packets complete so far to out, one a line, in input order; a packet
   * whose messages may still come out of a stream waits, as in FieldsOut.write.
   */
  write(decoded: Packet, out: LineOut): void {
    this.out = out;
    this.streams.push(withDnsHeuristic(this.defrag.push(decoded)));
    this.out = null;
  }

  /** End of input: writes the objects still waiting. */
  finish(out: LineOut): void {
    this.out = out;
    this.streams.finish();
    this.out = null;
  }

  /** One packet's object at once, without the newline (no packet waits: see FieldsOut.format). */
  format(decoded: Packet): string {
    this.streams.maxHeld = 0;
    this.write(decoded, this);
    return this.last;
  }

  /** format()'s LineOut. */
  writeLine(s: string): void {
    this.last = s;
  }

  start(p: Packet, tcp: number, claimed: boolean | undefined): JsonFrame {
    const j = new JsonFrame();
    const f = p.frame;
    // The time is written by hand: nine decimals of epoch seconds do not fit a double.
    j.head = '{"frame":{"number":' + f.number + ',"time":' + formatEpoch(f.tsSec, f.tsNsec) +
      ',"len":' + f.origLen + ',"capLen":' + f.capLen + ',"linkType":' + f.linkType +
      ',"interface":' + f.ifIndex + ',"protocols":';
    if (tcp < 0 || claimed === false) {
      j.layers = layersText(p, this.tcpNotes, 0, p.layers.length);
      j.protocolsOwn = frameProtocols(p);
      return j;
    }
    j.layers = layersText(p, this.tcpNotes, 0, tcp + 1);
    j.protocolsClaimed = frameProtocols(claimedView(p, tcp));
    if (claimed === undefined) {
      j.upper = layersText(p, this.tcpNotes, tcp + 1, p.layers.length);
      j.protocolsOwn = frameProtocols(p);
    }
    return j;
  }

  message(j: JsonFrame, q: Packet): void {
    j.messages = join(j.messages, layersText(q, this.tcpNotes, 0, q.layers.length));
  }

  end(j: JsonFrame, claimed: boolean, protocols: string): void {
    const own = !claimed ? j.protocolsOwn : protocols === '' ? j.protocolsClaimed : j.protocolsClaimed + ':' + protocols;
    const layers = claimed ? join(j.layers, j.messages) : j.upper !== null ? join(j.layers, j.upper) : j.layers;
    this.out!.writeLine(j.head + JSON.stringify(own) + '},"layers":[' + layers + ']}');
  }
}

function join(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : a + ',' + b;
}

type JsonObject = Record<string, unknown>;

/** p's layers [from, to) as JSON objects joined by ','. */
function layersText(p: Packet, tcpNotes: TcpNotes, from: number, to: number): string {
  if (from >= to) return '';
  return JSON.stringify(layersOf(p, tcpNotes, [], from, to), jsonValue).slice(1, -1);
}

/** p's layers [from, to) as objects, each with its nested packets inside it. */
export function layersOf(p: Packet, tcpNotes?: TcpNotes, out: JsonObject[] = [], from = 0, to = p.layers.length): JsonObject[] {
  for (let i = from; i < to; i++) {
    const l = p.layers[i];
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
