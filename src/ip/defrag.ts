/**
 * IPv4 and IPv6 fragment reassembly as tshark does it (single pass), for the field and JSON
 * views: fed decoded packets in file order, it returns the packet to show for each frame.
 *
 * - A fragment that completes a datagram comes back as a new Packet: the frame's own layers up to
 *   the IP header (IPv4) or fragment header (IPv6), that layer copied with its `reassembly`
 *   record, then the reassembled payload decoded by the upper dissectors over a new buffer
 *   (this frame's bytes up to the fragment data, then the datagram's payload).
 * - A fragment taken into reassembly that does not complete one comes back without the layers
 *   above its IP/fragment header (tshark shows its payload as data, even fragment zero's).
 * - Anything else comes back as it was. IPv4 fragments tshark does not reassemble (not wholly
 *   captured, or no payload) keep their decode; IPv6 ones show as data.
 *
 * Wireshark's rules (epan/reassemble.c, packet-ip.c, packet-ipv6.c): fragments are keyed by
 * source, destination and an id (IPv4: protocol ^ id ^ src ^ dst, ^ VLAN id when an address is
 * private or link-local; IPv6: the fragment header's identification); the datagram's length is
 * set by the first fragment without MF; it is complete when contiguous data from 0 reaches that
 * length; then fragments are laid down in offset order (earlier arrivals first among equal
 * offsets), bytes already placed winning over later ones, with overlap, conflict, multiple-tail
 * and too-long flags recorded per fragment. A completed datagram leaves the table: a later
 * duplicate starts a new one.
 *
 * Memory is bounded (tshark's is not): per datagram, in total, in count, and by a timeout in
 * capture time since a datagram's first fragment. Defaults are far beyond what real traffic
 * needs, so output matches tshark's except on captures built to exhaust them.
 */
import { decodeChain, lookup, Packet, Table, type Layer, type TableId } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import { ByteView } from '../core/view.js';
import { Ipv4Layer, IP4_FLAG_MF, IP4_OFFMASK } from '../../dissectors/ipv4.js';
import { Ipv6FragmentLayer, IP6 } from '../../dissectors/ipv6.js';
import { VlanLayer } from '../../dissectors/dot1q.js';
import type { NestingLayer } from '../output/frame-fields.js';
import { FRAG_CONFLICT, FRAG_MULTIPLE_TAILS, FRAG_OVERLAP, FRAG_TOO_LONG, Reassembly, type FragmentRecord } from './reassembly.js';

export interface DefragOptions {
  /** Seconds of capture time after a datagram's first fragment before it is given up. */
  timeout?: number;
  /** Most fragment bytes one datagram may hold (overlaps and duplicates count). */
  maxDatagramBytes?: number;
  /** Most fragment bytes all incomplete datagrams together may hold. */
  maxTotalBytes?: number;
  /** Most incomplete datagrams held at once. */
  maxDatagrams?: number;
}

export const DEFAULT_DEFRAG_OPTIONS: Required<DefragOptions> = {
  timeout: 120,
  maxDatagramBytes: 1 << 20,
  maxTotalBytes: 64 << 20,
  maxDatagrams: 16384,
};

interface Fragment extends FragmentRecord {
  /** Where its bytes start in its datagram's store. */
  readonly at: number;
}

const NO_BYTES = new Uint8Array(0);

/** An incomplete datagram: its fragments in tshark's order and, once a last fragment came, its length. */
class Datagram {
  readonly fragments: Fragment[] = [];
  /** Payload length the first fragment without MF set; -1 until one came. */
  length = -1;
  bytes = 0;
  /**
   * The fragments' bytes one after another, as they came: one store for most datagrams rather
   * than one typed array per fragment, often one a completed datagram left (SpareStores). It
   * holds at most four times what it must, so it stays within four times `bytes` (the limits
   * count `bytes`).
   */
  store: Uint8Array = NO_BYTES;
  constructor(readonly firstSec: number) {}

  /** Copies len bytes at buf[start] to the store; returns where they start there. */
  keep(buf: Uint8Array, start: number, len: number, spares: SpareStores): number {
    const at = this.bytes;
    if (at + len > this.store.length) {
      const grown = spares.take(at + len);
      grown.set(this.store.subarray(0, at));
      spares.give(this.store);
      this.store = grown;
    }
    this.store.set(buf.subarray(start, start + len), at);
    this.bytes = at + len;
    return at;
  }
}

/** Most stores kept for reuse, and most bytes in them. */
const SPARE_STORES = 16;
const SPARE_BYTES = 1 << 20;

/** Stores datagrams are done with, for later ones: reusing one costs much less than making a typed array. */
class SpareStores {
  private readonly stores: Uint8Array[] = [];
  private bytes = 0;

  /** A store of at least n bytes and at most 4n: a spare, else a new one of 2n (room to grow). */
  take(n: number): Uint8Array {
    const s = this.stores;
    for (let k = s.length - 1; k >= 0; k--) {
      const b = s[k];
      if (b.length >= n && b.length <= 4 * n) {
        s[k] = s[s.length - 1];
        s.pop();
        this.bytes -= b.length;
        return b;
      }
    }
    return new Uint8Array(2 * n);
  }

  give(b: Uint8Array): void {
    if (b.length === 0 || this.stores.length >= SPARE_STORES || this.bytes + b.length > SPARE_BYTES) return;
    this.stores.push(b);
    this.bytes += b.length;
  }
}

export class Defragmenter {
  private readonly opts: Required<DefragOptions>;
  /** Incomplete datagrams by key, oldest first (Map keeps insertion order). */
  private readonly table = new Map<string, Datagram>();
  private totalBytes = 0;
  private readonly spares = new SpareStores();
  /** Datagrams given up for a limit or the timeout. */
  dropped = 0;

  constructor(opts: DefragOptions = {}) {
    this.opts = { ...DEFAULT_DEFRAG_OPTIONS, ...opts };
  }

  /** Incomplete datagrams held. */
  get pending(): number {
    return this.table.size;
  }

  /** The packet to show for p's frame: p itself, p without its fragment's upper layers, or the reassembled datagram. */
  push(p: Packet): Packet {
    this.expire(p.frame.tsSec);
    return this.visit(p, 0);
  }

  /** What push does for a frame that holds no fragment: gives up datagrams past the timeout at its time. */
  tick(sec: number): void {
    this.expire(sec);
  }

  /**
   * Layers from i on, in order: the first fragment met is reassembled (or its upper layers
   * dropped); a datagram quoted by an ICMP error goes through the same (tshark keeps no
   * separate table for them), and its layer is copied to hold the result.
   */
  private visit(p: Packet, from: number): Packet {
    for (let i = from; i < p.layers.length; i++) {
      const l = p.layers[i];
      let q: Packet | null = null;
      if (l instanceof Ipv4Layer) {
        if (l.invalid !== null || l.hdrLen === 0) return p;
        if ((l.flagsFrag & (IP4_FLAG_MF | IP4_OFFMASK)) !== 0) q = this.ipv4(p, i, l);
      } else if (l instanceof Ipv6FragmentLayer) {
        if (l.outOfChain || l.hdrLen === 0 || l.ip === null) return p;
        if (l.fragOffset !== 0 || l.moreFragments) q = this.ipv6(p, i, l);
      }
      if (q !== null) return q === p ? p : this.visit(q, i + 1);
      const nested = (l as Partial<NestingLayer>).nested;
      if (nested !== undefined && nested.length) {
        const seen = nested.map((n) => this.visit(n, 0));
        if (seen.some((n, k) => n !== nested[k])) p = replaceLayer(p, i, Object.assign(copyLayer(l), { nested: seen }));
      }
    }
    return p;
  }

  private ipv4(p: Packet, i: number, l: Ipv4Layer): Packet {
    const len = l.totalLen - l.ihl;
    // tshark reassembles only fragments with data, all of it captured.
    if (len <= 0 || l.capLen < l.totalLen) return p;
    const src = l.src;
    const dst = l.routeDst >= 0 ? l.routeDst : l.dst;
    let id = (l.proto ^ l.id ^ src ^ dst) >>> 0;
    if (isPrivateOrLinkLocal(src) || isPrivateOrLinkLocal(dst)) id = (id ^ vlanId(p, i)) >>> 0;
    const start = l.off + l.ihl;
    const key = String.fromCharCode(4, src >>> 16, src & 0xffff, dst >>> 16, dst & 0xffff, id >>> 16, id & 0xffff);
    const done = this.add(key, p.frame, l.fragOffset, len, (l.flagsFrag & IP4_FLAG_MF) !== 0, l.buf, start);
    if (done === null) return withoutAbove(p, i);
    const ip = copyLayer(l);
    const buf = reassembled(p, start, done);
    this.spares.give(done.store);
    ip.reassembly = new Reassembly(done.fragments.map(recordOf), buf.subarray(start));
    return rebuild(p, i, ip, buf, start, Table.IpProto, l.proto);
  }

  private ipv6(p: Packet, i: number, l: Ipv6FragmentLayer): Packet {
    const len = l.fragmentLength;
    const start = l.fragmentableStart;
    if (len < 0 || start + len > l.capEnd) return withoutAbove(p, i);
    const ip = l.ip!;
    const key = '\x06' + addressWords(ip.buf, ip.off + IP6.SRC) + String.fromCharCode(l.identification >>> 16, l.identification & 0xffff);
    const done = this.add(key, p.frame, l.fragOffset, len, l.moreFragments, l.buf, start);
    if (done === null) return withoutAbove(p, i);
    const frag = copyLayer(l);
    // The reassembled payload is whole: transport printers and checksums must not treat it as a fragment.
    Object.defineProperty(frag, 'fragment', { value: false });
    const buf = reassembled(p, start, done);
    this.spares.give(done.store);
    Object.assign(frag, { reassembly: new Reassembly(done.fragments.map(recordOf), buf.subarray(start)) });
    return rebuild(p, i, frag, buf, start, Table.IpProto, l.nxt);
  }

  /** Adds a fragment; returns its datagram (out of the table) when this one completes it. */
  private add(key: string, frame: Frame, offset: number, len: number, more: boolean, buf: Uint8Array, start: number): Datagram | null {
    const o = this.opts;
    let d = this.table.get(key);
    if (d === undefined) {
      while (this.table.size >= o.maxDatagrams) this.dropOldest();
      d = new Datagram(frame.tsSec);
      this.table.set(key, d);
    }
    if (d.bytes + len > o.maxDatagramBytes) {
      this.drop(key, d);
      return null;
    }
    const frag: Fragment = { frame: frame.number, offset, len, flags: 0, at: d.keep(buf, start, len, this.spares) };
    if (!more) {
      if (d.length < 0) d.length = offset + len;
      else if (d.length !== offset + len) frag.flags |= FRAG_MULTIPLE_TAILS;
    }
    const frags = d.fragments;
    let at = frags.length;
    while (at > 0 && frags[at - 1].offset > offset) at--;
    frags.splice(at, 0, frag);
    this.totalBytes += len;
    while (this.totalBytes > o.maxTotalBytes) this.dropOldest();
    if (this.table.get(key) !== d || d.length < 0) return null;
    let reach = 0;
    for (const f of frags) if (f.offset <= reach && f.offset + f.len > reach) reach = f.offset + f.len;
    if (reach < d.length) return null;
    this.table.delete(key);
    this.totalBytes -= d.bytes;
    return d;
  }

  private expire(now: number): void {
    if (this.table.size === 0) return;
    for (const [key, d] of this.table) {
      if (now - d.firstSec <= this.opts.timeout) return;
      this.drop(key, d);
    }
  }

  private dropOldest(): void {
    const first = this.table.entries().next();
    if (!first.done) this.drop(first.value[0], first.value[1]);
  }

  private drop(key: string, d: Datagram): void {
    this.table.delete(key);
    this.totalBytes -= d.bytes;
    this.dropped++;
  }
}

/** The bytes of p's frame before `start`, then the complete datagram d laid down (one allocation). */
function reassembled(p: Packet, start: number, d: Datagram): Uint8Array {
  const buf = new Uint8Array(start + d.length);
  buf.set(p.buf.subarray(0, start));
  layDown(d, buf.subarray(start));
  return buf;
}

/**
 * Wireshark's fragment_defragment_and_free: fragments in order, each adding only what lies past
 * the bytes placed so far, flagging overlaps (and conflicting ones) and data past the end.
 */
function layDown(d: Datagram, data: Uint8Array): void {
  const length = data.length;
  const store = d.store;
  let pos = 0;
  for (const f of d.fragments) {
    if (f.len === 0) continue;
    if (f.offset + f.len > pos) {
      if (f.offset >= length) { f.flags |= FRAG_TOO_LONG; continue; }
      let fragLen = f.len;
      if (f.offset + fragLen > length) {
        f.flags |= FRAG_TOO_LONG;
        fragLen = length - f.offset;
      }
      const overlap = pos - f.offset;
      if (overlap > 0) {
        f.flags |= FRAG_OVERLAP;
        if (!sameBytes(data, f.offset, store, f.at, overlap)) f.flags |= FRAG_CONFLICT;
      }
      data.set(store.subarray(f.at + overlap, f.at + fragLen), pos);
      pos = Math.max(pos, f.offset + fragLen);
    } else {
      f.flags |= FRAG_OVERLAP;
      if (!sameBytes(data, f.offset, store, f.at, f.len)) f.flags |= FRAG_CONFLICT;
    }
  }
}

/** Whether the n bytes at data[at] are those at store[from]. */
function sameBytes(data: Uint8Array, at: number, store: Uint8Array, from: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (data[at + k] !== store[from + k]) return false;
  return true;
}

function recordOf(f: Fragment): FragmentRecord {
  return { frame: f.frame, offset: f.offset, len: f.len, flags: f.flags };
}

/** A copy of layer l (same class and fields), to carry what only the reassembling frame shows. */
function copyLayer<L extends Layer>(l: L): L {
  // Made by its class (whose fields then all get l's values), the copy has the class's fast shape.
  return Object.assign(new (l.constructor as new () => L)(), l);
}

/** p with layer i replaced. */
function replaceLayer(p: Packet, i: number, l: Layer): Packet {
  const q = new Packet(p.frame, p.buf);
  for (let k = 0; k < p.layers.length; k++) q.layers.push(k === i ? l : p.layers[k]);
  return q;
}

/** p without the layers above layer i (its payload then shows as data). */
function withoutAbove(p: Packet, i: number): Packet {
  if (p.layers.length === i + 1) return p;
  const q = new Packet(p.frame, p.buf);
  for (let k = 0; k <= i; k++) q.layers.push(p.layers[k]);
  return q;
}

/** The frame's layers below i, `at` in place of layer i, then buf's datagram (from `start`) decoded from dispatch (table, key). */
function rebuild(p: Packet, i: number, at: Layer, buf: Uint8Array, start: number, table: TableId, key: number): Packet {
  const q = new Packet(p.frame, buf);
  for (let k = 0; k < i; k++) q.layers.push(p.layers[k]);
  q.layers.push(at);
  decodeChain(q, lookup(table, key), new ByteView(buf, start, buf.length), buf.length - start);
  return q;
}

/** in4_addr_is_private (10/8, 172.16/12, 192.168/16) or in4_addr_is_link_local (169.254/16). */
function isPrivateOrLinkLocal(a: number): boolean {
  const hi = a >>> 24;
  const hi16 = a >>> 16;
  return hi === 10 || (hi16 & 0xfff0) === 0xac10 || hi16 === 0xc0a8 || hi16 === 0xa9fe;
}

/** pinfo->vlan_id: the last VLAN tag below layer i, or 0. */
function vlanId(p: Packet, i: number): number {
  for (let k = i - 1; k >= 0; k--) {
    const l = p.layers[k];
    if (l instanceof VlanLayer) return l.vid;
  }
  return 0;
}

/** The IPv6 address at buf[o] as one character per 16-bit word (a short key, not text). */
function addressWords(buf: Uint8Array, o: number): string {
  return String.fromCharCode((buf[o] << 8) | buf[o + 1], (buf[o + 2] << 8) | buf[o + 3], (buf[o + 4] << 8) | buf[o + 5], (buf[o + 6] << 8) | buf[o + 7],
    (buf[o + 8] << 8) | buf[o + 9], (buf[o + 10] << 8) | buf[o + 11], (buf[o + 12] << 8) | buf[o + 13], (buf[o + 14] << 8) | buf[o + 15]);
}
