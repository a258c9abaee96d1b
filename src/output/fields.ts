/**
 * tshark's `-T fields -e FIELD ...` output, as `tshark -n -T fields -E occurrence=a -E aggregator=,`
 * prints it: one line per packet, one tab-separated column per -e, every occurrence of a field in
 * the packet (nested packets included, in tree order) joined with ','.
 * Layer fields come from each dissector's `fields` map; frame.* fields from frame-fields.ts.
 * IP fragments are reassembled as tshark does: upper layers show on the completing fragment.
 */
import { dissectors, type Dissector, type FieldValue, type Layer, type Packet } from '../core/dissector.js';
import { Defragmenter } from '../ip/defrag.js';
import { FRAME_FIELDS, FrameClock, nestedOf } from './frame-fields.js';

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

/** Every field name -e accepts (frame.* and every registered dissector's), sorted. */
export function knownFieldNames(): string[] {
  const names = new Set(Object.keys(FRAME_FIELDS));
  for (const d of dissectors().values()) if (d.fields) for (const n of Object.keys(d.fields)) names.add(n);
  return [...names].sort();
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

  /** Throws FieldListError for an empty list or an unknown name. Call after the dissectors are imported. */
  constructor(readonly names: readonly string[]) {
    if (names.length === 0) throw new FieldListError('-T fields was given without any -e FIELD');
    const known = new Set(knownFieldNames());
    for (const n of names) {
      if (!known.has(n)) throw new FieldListError(`unknown field '${n}' for -e; known fields: ${[...known].join(' ')}`);
    }
    names.forEach((n, col) => {
      const get = FRAME_FIELDS[n];
      if (get !== undefined) this.frameColumns.push({ col, get });
    });
    this.cells = new Array<string>(names.length).fill('');
    this.counts = new Uint32Array(names.length);
  }

  /** One packet's line, without the newline. Packets must come in input order (times, reassembly). */
  format(decoded: Packet): string {
    const p = this.defrag.push(decoded);
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
    this.cells[col] = this.counts[col]++ === 0 ? s : this.cells[col] + ',' + s;
  }
}
