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
 * over TCP (which also need reassembly: a message shows on the frame that brought its last bytes,
 * and the segments before it show no payload protocol; a line waits while bytes its messages may
 * need are held behind a missing segment). Plain columns stay on the untracked fast path.
 */
import { dissectors, type Dissector, type FieldValue, type Layer, type Packet } from '../core/dissector.js';
import { Defragmenter } from '../ip/defrag.js';
import { FRAME_FIELDS, FrameClock, frameProtocols, MARK_FIELDS, nestedOf, type CoveringLayer } from './frame-fields.js';
import { TcpLayer } from '../../dissectors/tcp.js';
import { ANALYSIS } from '../tcp/conntrack.js';
import { claimedView, StreamView, type FrameBuilder } from '../stream/view.js';
import { withDnsHeuristic } from '../stream/dns-heuristic.js';
import { appProtocols } from '../stream/registry.js';
import '../stream/protocols.js';
import { FieldListError } from './errors.js';

export { FieldListError };

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

type TrackerGetter = (l: TcpLayer, v: StreamView<unknown>) => FieldValue;

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

/** Every field name -e accepts (frame.*, _ws.*, the tracker's and every registered dissector's), sorted. */
export function knownFieldNames(): string[] {
  const names = new Set([...Object.keys(FRAME_FIELDS), ...Object.keys(MARK_FIELDS), ...Object.keys(TRACKER_FIELDS)]);
  for (const d of dissectors().values()) if (d.fields) for (const n of Object.keys(d.fields)) names.add(n);
  for (const a of appProtocols()) if (a.dissector?.fields) for (const n of Object.keys(a.dissector.fields)) names.add(n);
  return [...names].sort();
}

/** Whether field n belongs to an application protocol read from TCP streams ("dns.id", "tls.record.version"). */
function isAppField(n: string): boolean {
  for (const a of appProtocols()) if (n.startsWith(a.name + '.')) return true;
  return false;
}

/** Where released lines go (TextSink has it). */
export interface LineOut {
  writeLine(s: string): void;
}

/** One output line being built: its cells and the occurrences in each. */
class Line {
  readonly cells: string[];
  readonly counts: Uint32Array;
  /** Occurrences of the layers above TCP, while the frame's connection is undecided (they show only if no protocol takes it). */
  upper: Line | null = null;
  /** frame.protocols of the frame up to TCP (for a claimed segment), and of the frame itself. */
  protocolsClaimed = '';
  protocolsOwn = '';

  constructor(n: number) {
    this.cells = new Array<string>(n).fill('');
    this.counts = new Uint32Array(n);
  }

  reset(): this {
    this.cells.fill('');
    this.counts.fill(0);
    this.upper = null;
    return this;
  }

  add(col: number, v: FieldValue): void {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) this.addText(col, typeof v[k] === 'string' ? (v[k] as string) : String(v[k]));
    } else if (typeof v === 'string') this.addText(col, v);
    else if (typeof v === 'boolean') this.addText(col, v ? '1' : '0');
    else this.addText(col, String(v));
  }

  addText(col: number, s: string): void {
    const t = escapeControls(s);
    this.cells[col] = this.counts[col]++ === 0 ? t : this.cells[col] + ',' + t;
  }

  /** Appends the occurrences of o after this line's own. */
  append(o: Line): void {
    for (let col = 0; col < this.cells.length; col++) {
      if (o.counts[col] === 0) continue;
      this.cells[col] = this.counts[col] === 0 ? o.cells[col] : this.cells[col] + ',' + o.cells[col];
      this.counts[col] += o.counts[col];
    }
  }
}

export class FieldsOut implements FrameBuilder<Line> {
  private readonly frameColumns: FrameColumn[] = [];
  /** frame.protocols columns: filled when the frame is complete (its messages name protocols). */
  private readonly protocolColumns: number[] = [];
  /** Columns each dissector fills, found on first sight of the dissector. */
  private readonly layerColumns = new Map<Dissector<any>, LayerColumn[]>();
  /** The line of a frame that is not held. */
  private readonly scratch: Line;
  private readonly clock = new FrameClock();
  private readonly defrag = new Defragmenter();
  /** TCP tracking, when a column needs it. */
  private readonly streams: StreamView<Line> | null = null;
  /** Tracker columns, filled at TCP layers. */
  private readonly trackerColumns: Array<{ col: number; get: TrackerGetter }> = [];
  /** _ws.short and _ws.malformed columns, filled at every layer; null when none is asked for. */
  private readonly markColumns: Array<{ col: number; get: (p: Packet, i: number) => FieldValue }> | null;
  /** Where the lines of write() go, until it returns. */
  private out: LineOut | null = null;
  private last = '';

  /**
   * Throws FieldListError for an empty list or an unknown name. Call after the dissectors are imported.
   * warn: says when the lines waiting for a hole's bytes were too many and the hole was given up.
   */
  constructor(readonly names: readonly string[], warn?: (message: string) => void) {
    if (names.length === 0) throw new FieldListError('-T fields was given without any -e FIELD');
    const known = new Set(knownFieldNames());
    for (const n of names) {
      if (!known.has(n)) throw new FieldListError(`unknown field '${n}' for -e; known fields: ${[...known].join(' ')}`);
    }
    let apps = false;
    const marks: Array<{ col: number; get: (p: Packet, i: number) => FieldValue }> = [];
    names.forEach((n, col) => {
      const get = FRAME_FIELDS[n];
      if (n === 'frame.protocols') this.protocolColumns.push(col);
      else if (get !== undefined) this.frameColumns.push({ col, get });
      const mark = MARK_FIELDS[n];
      if (mark !== undefined) marks.push({ col, get: mark });
      const track = TRACKER_FIELDS[n];
      if (track !== undefined) this.trackerColumns.push({ col, get: track });
      if (n === 'frame.protocols' || isAppField(n)) apps = true;
    });
    this.markColumns = marks.length > 0 ? marks : null;
    if (apps || this.trackerColumns.length > 0) this.streams = new StreamView<Line>(this, { apps, warn });
    this.scratch = new Line(names.length);
  }

  /**
   * Writes the lines of the packets complete so far to out, in input order. A packet whose messages
   * may still come out of a stream (bytes held behind a missing segment) waits, and the packets
   * after it; finish() writes what still waits. Packets must come in input order.
   */
  write(decoded: Packet, out: LineOut): void {
    const p = withDnsHeuristic(this.defrag.push(decoded));
    this.out = out;
    if (this.streams !== null) this.streams.push(p);
    else this.end(this.start(p, -1, false, false), false, '');
    this.out = null;
  }

  /** End of input: writes the lines still waiting. */
  finish(out: LineOut): void {
    this.out = out;
    this.streams?.finish();
    this.out = null;
  }

  /**
   * One packet's line, without the newline, at once: messages go on the packet being formatted
   * when theirs was formatted already (no packet waits for a hole to be filled). write() places
   * them as tshark does.
   */
  format(decoded: Packet): string {
    if (this.streams !== null) this.streams.maxHeld = 0;
    this.write(decoded, this);
    return this.last;
  }

  /** format()'s LineOut. */
  writeLine(s: string): void {
    this.last = s;
  }

  start(p: Packet, tcp: number, claimed: boolean | undefined, held: boolean): Line {
    const line = held ? new Line(this.names.length) : this.scratch.reset();
    this.clock.next(p.frame);
    for (let k = 0; k < this.frameColumns.length; k++) {
      const c = this.frameColumns[k];
      line.add(c.col, c.get(p, this.clock));
    }
    const protocols = this.protocolColumns.length > 0;
    if (tcp < 0 || claimed === false) {
      this.collect(p, line, 0, p.layers.length);
      if (protocols) line.protocolsOwn = frameProtocols(p);
      return line;
    }
    this.collect(p, line, 0, tcp + 1);
    if (protocols) line.protocolsClaimed = frameProtocols(claimedView(p, tcp));
    if (claimed === undefined) {
      line.upper = new Line(this.names.length);
      this.collect(p, line.upper, tcp + 1, p.layers.length);
      if (protocols) line.protocolsOwn = frameProtocols(p);
    }
    return line;
  }

  message(line: Line, q: Packet): void {
    this.collect(q, line, 0, q.layers.length);
  }

  end(line: Line, claimed: boolean, protocols: string): void {
    if (!claimed && line.upper !== null) line.append(line.upper);
    if (this.protocolColumns.length > 0) {
      const own = !claimed ? line.protocolsOwn : protocols === '' ? line.protocolsClaimed : line.protocolsClaimed + ':' + protocols;
      for (const col of this.protocolColumns) line.addText(col, own);
    }
    this.out!.writeLine(line.cells.join('\t'));
  }

  /**
   * Adds every field occurrence of p's layers [from, to), nested packets at their layer. A packet an
   * ICMP error quotes has no _ws.* marks (tshark marks no quoted packet, however cut short).
   */
  private collect(p: Packet, line: Line, from: number, to: number, quoted = false): void {
    const layers = p.layers;
    for (let i = from; i < to; i++) {
      const l = layers[i];
      const cols = this.columnsOf(l.dissector);
      for (let k = 0; k < cols.length; k++) line.add(cols[k].col, cols[k].get(l, p));
      const mc = this.markColumns;
      if (mc !== null && !quoted) for (let k = 0; k < mc.length; k++) line.add(mc[k].col, mc[k].get(p, i));
      if (l instanceof TcpLayer && this.streams !== null) {
        const tc = this.trackerColumns;
        for (let k = 0; k < tc.length; k++) line.add(tc[k].col, tc[k].get(l, this.streams));
      }
      const nested = nestedOf(l);
      if (nested !== undefined) {
        const inner = quoted || (l as Partial<CoveringLayer>).protocolsCoverNested !== true;
        for (let k = 0; k < nested.length; k++) this.collect(nested[k], line, 0, nested[k].layers.length, inner);
      }
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
