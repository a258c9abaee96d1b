/**
 * The dissector contract and registry (scapy's bind_layers, gopacket's enum tables).
 * A dissector file defines one protocol: its field offsets (shared by decode and encode),
 * a Layer subclass, decode/encode/print/fields, and registers itself at the bottom.
 */
import { ByteView, OutOfBounds } from './view.js';
import type { Frame } from './frame.js';
import type { TextOut } from '../output/text.js';

/** Dispatch tables a dissector can be bound into. */
export const Table = {
  None: 0,
  LinkType: 1,
  EtherType: 2,
  IpProto: 3,
  UdpPort: 4,
  TcpPort: 5,
} as const;
export type TableId = (typeof Table)[keyof typeof Table];

/**
 * Where decodeChain is about to create a layer: the Layer constructor takes its first fields
 * from here. Inlined into each dissector's create(), the constructor knows the layer's class,
 * so these are plain field stores; made by decodeChain on layers of twenty-odd classes they
 * were megamorphic stores, a fifth of the decoding time. Outside decodeChain it holds nothing.
 */
const creating = { dissector: undefined as Dissector<any> | undefined, buf: undefined as Uint8Array | undefined, off: 0, length: 0 };

/** One decoded header. Each dissector subclasses it with its own fields. */
export class Layer {
  dissector: Dissector<any> = creating.dissector!;
  /** The bytes `off` refers to (the packet's buffer); lets layers format addresses lazily. */
  buf: Uint8Array = creating.buf!;
  /** Absolute offset of the header in the frame data. */
  off = creating.off;
  /** Header length: the payload starts at off + hdrLen. */
  hdrLen = 0;
  /** Length the enclosing layer claims for this one (header + payload); may exceed what was captured. */
  length = creating.length;
  /** Ran out of captured bytes while decoding ("[|proto]"). */
  truncated = false;
  /** A field contradicts the header (tcpdump's "invalid"/"bad length"); a short reason. */
  invalid: string | null = null;
  /** Length this layer claims for its payload. */
  payloadLen = 0;
  /** Where to look up the next dissector: a Table id, its key, and a second key tried if the first is unbound. */
  nextTable: TableId = Table.None;
  nextKey = -1;
  altKey = -1;
}

export type FieldValue = string | number | boolean | null | undefined | Array<string | number>;

export interface Dissector<L extends Layer = Layer> {
  /** Short protocol name, as in the "[|name]" truncation marker and tshark's filter names. */
  readonly name: string;
  /** What this layer adds to tshark's frame.protocols, e.g. "eth:ethertype". */
  readonly protocols: string;
  create(): L;
  /** Reads the header at v (relative offset 0). Must only read through v; may throw OutOfBounds. */
  decode(l: L, v: ByteView, p: Packet): void;
  /** tcpdump text for layer i of p; continues with i+1 through out.printLayer when tcpdump would. */
  print(p: Packet, i: number, out: TextOut): void;
  /** Prepends this header to an already-encoded payload. `under` is the layer below, when known (pseudo-headers). */
  encode?(l: L, payload: Uint8Array, ctx: EncodeContext): Uint8Array;
  /** Wireshark field name -> value getter, for -T fields. */
  readonly fields?: Readonly<Record<string, (l: L, p: Packet) => FieldValue>>;
  /** JSON view of the layer; the default is its own enumerable fields. */
  json?(l: L, p: Packet): Record<string, unknown>;
}

export interface EncodeOptions {
  /** Recompute length fields from the payload. */
  fixLengths: boolean;
  /** Recompute checksums. */
  computeChecksums: boolean;
}

export interface EncodeContext {
  opts: EncodeOptions;
  /** Layers outside this one, nearest first (for pseudo-header checksums); empty at the outermost layer. */
  outer: Layer[];
  /** Layers inside this one, nearest first (to derive next-protocol fields). */
  inner: Layer[];
}

/** A decoded frame: its layers in order, outermost first. */
export class Packet {
  /** Replaced (not emptied) by decodeFrameInto. */
  layers: Layer[] = [];
  /** A dissector threw something other than OutOfBounds: a bug, contained to this packet. */
  error: unknown = null;
  constructor(
    /** The frame decoded (replaced only by decodeFrameInto). */
    public frame: Frame,
    /** The bytes the layers' offsets refer to (frame.data, or a reassembled datagram). */
    public buf: Uint8Array,
  ) {}

  /** The last layer, or null. */
  get top(): Layer | null {
    return this.layers.length ? this.layers[this.layers.length - 1] : null;
  }

  /** Captured payload of layer l: what lies after its header, clipped to its claimed payload length. */
  payloadOf(l: Layer): ByteView {
    const start = l.off + l.hdrLen;
    const end = Math.min(this.buf.length, start + Math.max(0, l.payloadLen));
    return new ByteView(this.buf, Math.min(start, this.buf.length), Math.max(end, Math.min(start, this.buf.length)));
  }
}

/**
 * The `nested` packets of a layer that quotes none (an ICMP message other than an error): one
 * frozen empty array shared by all, instead of one per layer.
 */
export const NO_PACKETS: Packet[] = Object.freeze([]) as unknown as Packet[];

/**
 * A bound dissector as the decode loop calls it. The dissectors are objects of twenty-odd shapes, so
 * reading create and decode from them is a megamorphic access per layer; from a Binding it is not.
 */
class Binding {
  constructor(
    readonly dissector: Dissector<any>,
    readonly create: () => Layer,
    readonly decode: (l: Layer, v: ByteView, p: Packet) => void,
  ) {}
}

/** Keys below this (link types, EtherTypes, protocol numbers, ports) are found by index, larger ones in a Map. */
const INDEXED_KEYS = 0x10000;

/** One dispatch table: bindings by index up to the largest key below INDEXED_KEYS (no hashing per layer), the rest in a Map. */
class DispatchTable {
  private indexed: Array<Binding | undefined> = [];
  private readonly others = new Map<number, Binding>();

  get(key: number): Binding | undefined {
    // A read past the end of `indexed` is undefined: an unbound key.
    return key >= 0 && key < INDEXED_KEYS ? this.indexed[key] : this.others.get(key);
  }

  set(key: number, b: Binding): void {
    if (key >= 0 && key < INDEXED_KEYS) {
      if (key >= this.indexed.length) {
        // Grown in one native fill: pushing up to a port number one by one, before the loop is compiled, took 12 ms at startup.
        const grown = new Array<Binding | undefined>(key + 1).fill(undefined);
        for (let k = 0; k < this.indexed.length; k++) grown[k] = this.indexed[k];
        this.indexed = grown;
      }
      this.indexed[key] = b;
    } else this.others.set(key, b);
  }

  *bindings(): IterableIterator<Binding> {
    for (const b of this.indexed) if (b !== undefined) yield b;
    yield* this.others.values();
  }
}

const tables: DispatchTable[] = [
  new DispatchTable(), new DispatchTable(), new DispatchTable(), new DispatchTable(), new DispatchTable(), new DispatchTable(),
];

/** Binds a dissector to a key of a table (and, through encoders, the reverse: which key names it). */
export function bind(table: TableId, key: number, d: Dissector<any>): void {
  tables[table].set(key, new Binding(d, d.create, d.decode));
  if (!keysOf.has(d)) keysOf.set(d, []);
  keysOf.get(d)!.push([table, key]);
}

const keysOf = new Map<Dissector<any>, Array<[TableId, number]>>();

export function lookup(table: TableId, key: number): Dissector | undefined {
  return tables[table].get(key)?.dissector;
}

/** The key under which d is bound in table (top-down binding for encoders), or undefined. */
export function keyOf(d: Dissector<any>, table: TableId): number | undefined {
  const ks = keysOf.get(d);
  if (!ks) return undefined;
  for (const [t, k] of ks) if (t === table) return k;
  return undefined;
}

/** Every bound dissector, by name. */
export function dissectors(): Map<string, Dissector> {
  const m = new Map<string, Dissector>();
  for (const t of tables) for (const b of t.bindings()) m.set(b.dissector.name, b.dissector);
  return m;
}

/** Guards against a chain of zero-length layers; real chains (100+ IPv6 extension headers seen) stay far below. */
const MAX_DEPTH = 256;

/**
 * Decodes from dissector d at view v (claimed length `length`) and follows the next keys.
 * A read past the captured bytes marks the layer truncated and ends the chain; any other
 * exception is a bug, recorded on the packet, and also ends the chain.
 */
export function decodeChain(p: Packet, d: Dissector | undefined, v: ByteView, length: number): void {
  if (d !== undefined) decodeFrom(p, d, d.create, d.decode, v, length);
}

/** decodeChain from dissector d, whose create and decode are given. */
function decodeFrom(
  p: Packet, d: Dissector<any>, create: () => Layer, decode: (l: Layer, v: ByteView, p: Packet) => void, v: ByteView, length: number,
): void {
  let depth = 0;
  while (depth++ < MAX_DEPTH) {
    creating.dissector = d;
    creating.buf = v.buf;
    creating.off = v.start;
    creating.length = length;
    const l = create.call(d);
    creating.dissector = undefined;
    creating.buf = undefined;
    creating.off = 0;
    creating.length = 0;
    p.layers.push(l);
    try {
      decode.call(d, l, v, p);
    } catch (e) {
      if (e instanceof OutOfBounds) l.truncated = true;
      else {
        l.invalid = 'internal decoder error';
        p.error = e;
      }
      return;
    }
    // Each field read once: reads from layers of every class are megamorphic, so they are not cheap.
    const table = l.nextTable;
    if (table === Table.None) return;
    let next = tables[table].get(l.nextKey);
    if (next === undefined) {
      const alt = l.altKey;
      if (alt >= 0) next = tables[table].get(alt);
      if (next === undefined) return;
    }
    length = l.payloadLen;
    v = v.slice(l.hdrLen, length);
    d = next.dissector;
    create = next.create;
    decode = next.decode;
  }
}

/** A layer of dissector d with the given fields, for encoding (scapy's `IP(ttl=64)`). */
export function makeLayer<L extends Layer>(d: Dissector<L>, fields: Partial<Omit<L, keyof Layer>> = {}): L {
  const l = d.create();
  l.dissector = d;
  Object.assign(l, fields);
  return l;
}

/** Decodes a whole frame from its link type. */
export function decodeFrame(frame: Frame): Packet {
  return decodeFrameInto(new Packet(frame, frame.data), frame);
}

/**
 * decodeFrame into packet p, whose earlier frame's layers are dropped: where nothing keeps a packet
 * once it is printed (the text path), one Packet serves every frame.
 */
export function decodeFrameInto(p: Packet, frame: Frame): Packet {
  // A new array: emptying the old one costs more (popping a short array's last element trims its storage in the runtime).
  if (p.layers.length > 0) p.layers = [];
  p.frame = frame;
  p.buf = frame.data;
  p.error = null;
  const link = tables[Table.LinkType].get(frame.linkType);
  if (link !== undefined) decodeFrom(p, link.dissector, link.create, link.decode, new ByteView(frame.data, 0, frame.capLen), frame.origLen);
  return p;
}

/**
 * Encodes a stack of layers, outermost first, into one frame: each encoder prepends its header to
 * the bytes of the layers inside it (gopacket's SerializeLayers).
 */
export function encodeStack(layers: Layer[], payload: Uint8Array = new Uint8Array(0), opts: Partial<EncodeOptions> = {}): Uint8Array {
  const o: EncodeOptions = { fixLengths: true, computeChecksums: true, ...opts };
  let bytes = payload;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    const enc = l.dissector.encode;
    if (!enc) throw new Error(`no encoder for ${l.dissector.name}`);
    bytes = enc.call(l.dissector, l, bytes, { opts: o, outer: layers.slice(0, i).reverse(), inner: layers.slice(i + 1) });
  }
  return bytes;
}
