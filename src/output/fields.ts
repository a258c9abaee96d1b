/**
 * tshark's `-T fields -e FIELD ...` output, as `tshark -n -T fields -E occurrence=a -E aggregator=,`
 * prints it: one line per packet, one tab-separated column per -e, every occurrence of a field in
 * the packet (nested packets included, in tree order) joined with ','.
 * Layer fields come from each dissector's `fields` map; frame.* fields from frame-fields.ts.
 * IP fragments are reassembled as tshark does: upper layers show on the completing fragment; a
 * UDP payload no dissector took may be DNS by tshark's heuristic (src/stream/dns-heuristic.ts).
 *
 * TCP tracking (src/stream/view.ts) runs only when a column needs it: tcp.stream and tcp.analysis.*
 * (TRACKER_FIELDS, read at each TCP layer), frame.protocols and the fields of application protocols
 * over TCP (which also need reassembly: a message shows on the frame that completed it, and the
 * segments before it show no payload protocol). Plain columns stay on the untracked fast path.
 */
import { dissectors, type Dissector, type FieldValue, type Layer, type Packet } from '../core/dissector.js';
import { Defragmenter } from '../ip/defrag.js';
import { FRAME_FIELDS, FrameClock, nestedOf } from './frame-fields.js';
import { TcpLayer } from '../../dissectors/tcp.js';
import { ANALYSIS } from '../tcp/conntrack.js';
import { StreamView } from '../stream/view.js';
import { withDnsHeuristic } from '../stream/dns-heuristic.js';
import { appProtocols } from '../stream/registry.js';
import '../stream/protocols.js';

/** A -e name no dissector knows, or no -e at all: the message is the one line to show the user. */
export class FieldListError extends Error {}

type LayerGetter = (l: Layer, p: Packet) => FieldValue;
type FrameGetter = (p: Packet, clock: FrameClock) => FieldValue;

interface LayerColumn {
  col: number;
  get: LayerGetter;
}

interface FrameColumn {
  col: number;
  get: FrameGetter;
}

type TrackerGetter = (l: TcpLayer, v: StreamView) => FieldValue;

/** A tshark analysis flag (an FT_NONE field or expert item: tshark prints 1 where it is present). */
function analysisFlag(bits: number): TrackerGetter {
  return (l, v) => (((v.segmentOf(l)?.analysis ?? 0) & bits) !== 0 ? 1 : undefined);
}

const TWICE = [1, 1];

/**
 * TCP fields that come from the connection tracker, read at each TCP layer (in tree order). The
 * analysis flags offered are those identical to tshark 4.0.17's on the corpus captures with
 * retransmissions; fast_retransmission and ack_lost_segment are not (tshark 4.0's rules for them
 * differ from the published source read here), so they are not offered (retransmission still
 * includes fast retransmissions).
 */
export const TRACKER_FIELDS: Readonly<Record<string, TrackerGetter>> = {
  'tcp.stream': (l, v) => v.tracker.streamOf(l),
  'tcp.analysis.retransmission': (l, v) => (v.segmentOf(l)?.retransmission ? 1 : undefined),
  'tcp.analysis.spurious_retransmission': analysisFlag(ANALYSIS.SPURIOUS_RETRANSMISSION),
  'tcp.analysis.out_of_order': analysisFlag(ANALYSIS.OUT_OF_ORDER),
  'tcp.analysis.lost_segment': analysisFlag(ANALYSIS.LOST_PACKET),
  // The flag and its expert item share the name: tshark prints it twice.
  'tcp.analysis.duplicate_ack': (l, v) => (((v.segmentOf(l)?.analysis ?? 0) & ANALYSIS.DUPLICATE_ACK) !== 0 ? TWICE : undefined),
  'tcp.analysis.keep_alive': analysisFlag(ANALYSIS.KEEP_ALIVE),
  'tcp.analysis.keep_alive_ack': analysisFlag(ANALYSIS.KEEP_ALIVE_ACK),
  'tcp.analysis.zero_window': analysisFlag(ANALYSIS.ZERO_WINDOW),
  'tcp.analysis.zero_window_probe': analysisFlag(ANALYSIS.ZERO_WINDOW_PROBE),
  'tcp.analysis.zero_window_probe_ack': analysisFlag(ANALYSIS.ZERO_WINDOW_PROBE_ACK),
  'tcp.analysis.window_update': analysisFlag(ANALYSIS.WINDOW_UPDATE),
};

/** Every field name -e accepts (frame.*, the tracker's and every registered dissector's), sorted. */
export function knownFieldNames(): string[] {
  const names = new Set([...Object.keys(FRAME_FIELDS), ...Object.keys(TRACKER_FIELDS)]);
  for (const d of dissectors().values()) if (d.fields) for (const n of Object.keys(d.fields)) names.add(n);
  for (const a of appProtocols()) if (a.dissector?.fields) for (const n of Object.keys(a.dissector.fields)) names.add(n);
  return [...names].sort();
}

/** Whether field n belongs to an application protocol read from TCP streams ("dns.id", "tls.record.version"). */
function isAppField(n: string): boolean {
  for (const a of appProtocols()) if (n.startsWith(a.name + '.')) return true;
  return false;
}

export class FieldsOut {
  private readonly frameColumns: FrameColumn[] = [];
  /** Columns each dissector fills, found on first sight of the dissector. */
  private readonly layerColumns = new Map<Dissector<any>, LayerColumn[]>();
  private readonly cells: string[];
  /** Occurrences seen in the current packet, per column (a value may be the empty string). */
  private readonly counts: Uint32Array;
  private readonly clock = new FrameClock();
  private readonly defrag = new Defragmenter();
  /** TCP tracking, when a column needs it. */
  private readonly streams: StreamView | null = null;
  /** Tracker columns, filled at TCP layers. */
  private readonly trackerColumns: Array<{ col: number; get: TrackerGetter }> = [];

  /** Throws FieldListError for an empty list or an unknown name. Call after the dissectors are imported. */
  constructor(readonly names: readonly string[]) {
    if (names.length === 0) throw new FieldListError('-T fields was given without any -e FIELD');
    const known = new Set(knownFieldNames());
    for (const n of names) {
      if (!known.has(n)) throw new FieldListError(`unknown field '${n}' for -e; known fields: ${[...known].join(' ')}`);
    }
    let apps = false;
    names.forEach((n, col) => {
      const get = FRAME_FIELDS[n];
      if (get !== undefined) this.frameColumns.push({ col, get });
      const track = TRACKER_FIELDS[n];
      if (track !== undefined) this.trackerColumns.push({ col, get: track });
      if (n === 'frame.protocols' || isAppField(n)) apps = true;
    });
    if (apps || this.trackerColumns.length > 0) this.streams = new StreamView({ apps });
    this.cells = new Array<string>(names.length).fill('');
    this.counts = new Uint32Array(names.length);
  }

  /** One packet's line, without the newline. Packets must come in input order (times, reassembly). */
  format(decoded: Packet): string {
    const defragmented = withDnsHeuristic(this.defrag.push(decoded));
    const p = this.streams !== null ? this.streams.push(defragmented) : defragmented;
    this.clock.next(p.frame);
    this.cells.fill('');
    this.counts.fill(0);
    for (let k = 0; k < this.frameColumns.length; k++) {
      const c = this.frameColumns[k];
      this.add(c.col, c.get(p, this.clock));
    }
    this.collect(p);
    return this.cells.join('\t');
  }

  /** Adds every field occurrence of p's layers, nested packets at their layer. */
  private collect(p: Packet): void {
    const layers = p.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      const cols = this.columnsOf(l.dissector);
      for (let k = 0; k < cols.length; k++) this.add(cols[k].col, cols[k].get(l, p));
      if (l instanceof TcpLayer && this.streams !== null) {
        const tc = this.trackerColumns;
        for (let k = 0; k < tc.length; k++) this.add(tc[k].col, tc[k].get(l, this.streams));
      }
      const nested = nestedOf(l);
      if (nested !== undefined) for (let k = 0; k < nested.length; k++) this.collect(nested[k]);
    }
  }

  private columnsOf(d: Dissector<any>): LayerColumn[] {
    let cols = this.layerColumns.get(d);
    if (cols === undefined) {
      cols = [];
      const fields = d.fields as Record<string, LayerGetter> | undefined;
      if (fields) this.names.forEach((n, col) => { if (Object.hasOwn(fields, n)) cols!.push({ col, get: fields[n] }); });
      this.layerColumns.set(d, cols);
    }
    return cols;
  }

  private add(col: number, v: FieldValue): void {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) this.addText(col, typeof v[k] === 'string' ? (v[k] as string) : String(v[k]));
    } else if (typeof v === 'string') this.addText(col, v);
    else if (typeof v === 'boolean') this.addText(col, v ? '1' : '0');
    else this.addText(col, String(v));
  }

  private addText(col: number, s: string): void {
    const t = escapeControls(s);
    this.cells[col] = this.counts[col]++ === 0 ? t : this.cells[col] + ',' + t;
  }
}

/**
 * tshark 4.0's -T fields escaping: a tab, newline or carriage return in a value is written as \t,
 * \n, \r (so a line stays one packet and a cell one field); backslashes and other bytes as they are.
 */
export function escapeControls(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c === 9 ? '\\t' : c === 10 ? '\\n' : c === 13 ? '\\r' : s[i];
  }
  return out;
}
