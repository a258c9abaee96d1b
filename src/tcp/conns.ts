/**
 * TCP connections of a capture file, as `wirescope conns` and `wirescope follow` read them: every
 * frame is decoded, IP-defragmented and tracked (so stream numbers are tshark's whatever the
 * filter), and the pcap-filter expression only marks which frames (and so which streams) it selects.
 * The per-connection summary is what tshark's `-z conv,tcp` counts (frames, bytes, duration) plus
 * the tracker's states, RTTs, retransmissions, reassembly gaps and who closed.
 */
import '../../dissectors/index.js';
import { decodeFrame, type Packet } from '../core/dissector.js';
import { Ipv4Layer, IP4_FLAG_MF, IP4_OFFMASK } from '../../dissectors/ipv4.js';
import { Ipv6FragmentLayer } from '../../dissectors/ipv6.js';
import type { Frame } from '../core/frame.js';
import { Defragmenter } from '../ip/defrag.js';
import { compileFilter, type FilterProgram } from '../filter/index.js';
import { CaptureFileError, openCapture } from '../pcap/reader.js';
import { PcapReader } from '../pcap/pcap.js';
import { endpointText } from './flow-key.js';
import { ConnTracker, type Connection, type ConnTrackOptions, type TcpState } from './conntrack.js';
import { PlainSegment, SCAN_DECODE, SCAN_TCP, scanFrame } from './frame-scan.js';
import { DEFAULT_REASSEMBLY_LIMITS, type StreamSink } from './reassembler.js';

export interface TrackFileOptions extends ConnTrackOptions {
  /** pcap-filter expression ('' or absent: every frame is selected). */
  filter?: string;
  /**
   * Called after each frame was tracked, with whether the filter selected it (the tracker's
   * `streams` hold its stream numbers); returning false stops the reading.
   */
  onFrame?: (selected: boolean, tracker: ConnTracker, frame: Frame) => boolean;
  /** Called after the last frame, before the connections' reassembly is flushed. */
  onEnd?: () => void;
  /**
   * Which frames to decode and track (the others are not given to onFrame either): all ('yes'),
   * none ('no'), or only those holding an IP fragment ('if-fragment'). Default: all.
   */
  relevant?: (frame: Frame) => Relevance;
  /** Decode every frame (else frames scanFrame reads from their bytes are not decoded): the reference the scan is tested against. */
  decodeAll?: boolean;
}

export type Relevance = 'yes' | 'no' | 'if-fragment';

export interface TrackFileResult {
  tracker: ConnTracker;
  frames: number;
  /** Time of the first frame, for times relative to the capture. */
  firstSec: number;
  firstNsec: number;
  /** The file was damaged after `frames` frames (every frame before it was tracked). */
  error: CaptureFileError | null;
}

/**
 * Tracks every TCP connection of a capture file (tshark's view: records are not cut to the
 * snaplen). Throws CaptureFileError when the file cannot be opened, FilterError for a bad
 * expression; a file damaged part-way ends the reading with `error` set.
 */
export function trackFile(file: string, opts: TrackFileOptions = {}): TrackFileResult {
  const reader = openCapture(file, { clipToSnaplen: false });
  const tracker = new ConnTracker(opts);
  const defrag = new Defragmenter();
  const expr = (opts.filter ?? '').trim();
  const filters = new Map<number, FilterProgram>();
  const bigEndian = reader instanceof PcapReader ? !reader.le : undefined;
  const onFrame = opts.onFrame;
  const relevant = opts.relevant;
  const decodeAll = opts.decodeAll === true;
  const plain = new PlainSegment();
  const result: TrackFileResult = { tracker, frames: 0, firstSec: 0, firstNsec: 0, error: null };
  try {
    for (let f = reader.next(); f !== null; f = reader.next()) {
      if (result.frames++ === 0) {
        result.firstSec = f.tsSec;
        result.firstNsec = f.tsNsec;
      }
      let selected = true;
      if (expr !== '') {
        let prog = filters.get(f.linkType);
        if (prog === undefined) {
          prog = compileFilter(expr, f.linkType, { snaplen: reader.snaplen || undefined, bigEndianFile: bigEndian });
          filters.set(f.linkType, prog);
        }
        selected = prog.matches(f.data, f.capLen, f.origLen) !== 0;
      }
      const wanted = relevant === undefined ? 'yes' : relevant(f);
      if (wanted === 'no') continue;
      const scan = wanted === 'yes' && !decodeAll ? scanFrame(f, plain) : SCAN_DECODE;
      if (scan === SCAN_DECODE) {
        const p = decodeFrame(f);
        if (wanted === 'if-fragment' && !holdsFragment(p)) continue;
        tracker.push(defrag.push(p));
      } else {
        defrag.tick(f.tsSec);
        if (scan === SCAN_TCP) tracker.pushPlain(f, plain, plain);
        else tracker.skip(f);
      }
      if (onFrame !== undefined && !onFrame(selected, tracker, f)) break;
    }
  } catch (e) {
    if (!(e instanceof CaptureFileError)) throw e;
    result.error = e;
  } finally {
    reader.close();
  }
  opts.onEnd?.();
  tracker.finish();
  return result;
}

/** An address (as the tracker writes it: dotted IPv4, or IPv6 text) in network byte order. */
export function addressBytes(addr: string): Buffer {
  if (addr.indexOf(':') < 0) return Buffer.from(addr.split('.').map(Number));
  const out = Buffer.alloc(16);
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => {
    if (!s) return [];
    const words: number[] = [];
    for (const part of s.split(':')) {
      if (part.indexOf('.') >= 0) {
        const [a, b, c, d] = part.split('.').map(Number);
        words.push((a << 8) | b, (c << 8) | d);
      } else words.push(parseInt(part, 16));
    }
    return words;
  };
  const h = groups(head);
  const t = groups(tail);
  h.forEach((w, k) => out.writeUInt16BE(w, 2 * k));
  t.forEach((w, k) => out.writeUInt16BE(w, 16 - 2 * (t.length - k)));
  return out;
}

/** What relevanceTo looks for in a frame's bytes: a connection's address pairs and port pairs, either way. */
export interface ConnectionBytes {
  /** Source then destination address, either way (as an IP header holds them). */
  readonly addresses: [Buffer, Buffer];
  /** Source then destination port, either way (as a TCP header starts). */
  readonly ports: [Buffer, Buffer];
  readonly v6: boolean;
}

export function connectionBytes(a: string, ap: number, b: string, bp: number): ConnectionBytes {
  const ab = addressBytes(a);
  const bb = addressBytes(b);
  const pair = (x: number, y: number): Buffer => Buffer.from([x >> 8, x & 0xff, y >> 8, y & 0xff]);
  return { addresses: [Buffer.concat([ab, bb]), Buffer.concat([bb, ab])], ports: [pair(ap, bp), pair(bp, ap)], v6: ab.length === 16 };
}

/** IPv6 extension headers that may come before a fragment header. */
const IP6_EXTENSIONS = new Set([0, 43, 44, 60, 51, 50, 135, 139, 140]);

/**
 * Whether a frame can add to a connection, at any depth of encapsulation, from its bytes alone:
 * every IP header of its segments and fragments holds the address pair, a segment's TCP header
 * starts with the port pair, and a fragment past the first has no TCP header, so a frame with the
 * addresses but not the ports matters only when that IP header is a fragment's (decoded to tell
 * when the header is not where one address pair alone says it is).
 */
export function relevanceTo(f: Frame, c: ConnectionBytes): Relevance {
  const data = Buffer.from(f.data.buffer, f.data.byteOffset, f.capLen);
  let at = data.indexOf(c.addresses[0]);
  if (at < 0) at = data.indexOf(c.addresses[1]);
  if (at < 0) return 'no';
  if (data.indexOf(c.ports[0]) >= 0 || data.indexOf(c.ports[1]) >= 0) return 'yes';
  if (data.indexOf(c.addresses[0], at + 1) >= 0 || data.indexOf(c.addresses[1], at + 1) >= 0) return 'if-fragment';
  if (c.v6) {
    const h = at - 8;
    return h >= 0 && data[h] >> 4 === 6 && !IP6_EXTENSIONS.has(data[h + 6]) ? 'no' : 'if-fragment';
  }
  const h = at - 12;
  return h >= 0 && data[h] >> 4 === 4 && (data.readUInt16BE(h + 6) & (IP4_FLAG_MF | IP4_OFFMASK)) === 0 ? 'no' : 'if-fragment';
}

/** Whether a decoded frame holds an IPv4 or IPv6 fragment (outside ICMP quotes). */
function holdsFragment(p: Packet): boolean {
  for (const l of p.layers) {
    if (l instanceof Ipv4Layer && (l.flagsFrag & (IP4_FLAG_MF | IP4_OFFMASK)) !== 0) return true;
    if (l instanceof Ipv6FragmentLayer) return true;
  }
  return false;
}

/** A connection as `wirescope conns` shows it; [a, b] pairs are by direction (0: from nodes[0]). */
export interface ConnSummary {
  stream: number;
  nodes: [string, string];
  states: [TcpState, TcpState];
  /**
   * Frames and frame bytes (on the wire) sent, as tshark's conv,tcp counts them: segments whose
   * header was wholly captured and valid (tshark stops before its tap on the others).
   */
  packets: [number, number];
  bytes: [number, number];
  /** TCP payload bytes sent. */
  payload: [number, number];
  firstFrame: number;
  lastFrame: number;
  /** Seconds: first counted segment since the capture's first frame, and from it to the last (conv,tcp's Relative Start and Duration). */
  relativeStart: number;
  duration: number;
  /** Seconds from SYN to SYN/ACK, and to the ACK completing the handshake (tcp.analysis.initial_rtt). */
  synAckRtt: number | null;
  handshakeRtt: number | null;
  retransmissions: [number, number];
  outOfOrder: [number, number];
  zeroWindows: [number, number];
  /** Holes in the reassembled bytes, and their sizes. */
  gaps: [number, number];
  gapBytes: [number, number];
  /** Direction that closed first, and how. */
  closedBy: 0 | 1 | null;
  closeHow: 'fin' | 'rst' | null;
  midstream: boolean;
  portReused: boolean;
}

/** What tshark's conv,tcp tap counts for a connection: frames, bytes, earliest and latest times (not first and last: files jump back in time). */
class ConvCount {
  readonly packets: [number, number] = [0, 0];
  readonly bytes: [number, number] = [0, 0];
  constructor(public firstSec: number, public firstNsec: number, public lastSec = firstSec, public lastNsec = firstNsec) {}

  add(dir: 0 | 1, f: Frame): void {
    this.packets[dir]++;
    this.bytes[dir] += f.origLen;
    const s = f.tsSec;
    const n = f.tsNsec;
    if (s < this.firstSec || (s === this.firstSec && n < this.firstNsec)) {
      this.firstSec = s;
      this.firstNsec = n;
    }
    if (s > this.lastSec || (s === this.lastSec && n > this.lastNsec)) {
      this.lastSec = s;
      this.lastNsec = n;
    }
  }
}

const NO_BYTES: StreamSink = { chunk() {}, event() {}, complete() {} };

export interface ConnTable {
  rows: ConnSummary[];
  frames: number;
  error: CaptureFileError | null;
  /** Connections closed early for the memory limits. */
  evicted: number;
}

/** The connections of a capture, in stream order; with a filter, those with a frame it selects. */
export function connectionTable(file: string, filter = '', opts: ConnTrackOptions = {}): ConnTable {
  const all: Connection[] = [];
  /** By stream number. */
  const counts: Array<ConvCount | undefined> = [];
  const picked = new Set<number>();
  const filtered = filter.trim() !== '';
  const res = trackFile(file, {
    ...opts,
    filter,
    // Holes are all the table needs of reassembly: no delivered bytes kept to compare retransmissions with.
    limits: opts.limits ?? { ...DEFAULT_REASSEMBLY_LIMITS, conflictWindow: 0 },
    // Reassembly without a consumer: its counters say where the bytes had holes.
    sink: (c) => {
      all.push(c);
      return NO_BYTES;
    },
    onFrame: (selected, t, f) => {
      if (filtered && selected) for (const s of t.streams) if (s >= 0) picked.add(s);
      const segs = t.segments;
      for (let k = 0; k < segs.length; k++) {
        const seg = segs[k];
        if (!seg.counted) continue;
        const stream = seg.conn.stream;
        let cc = counts[stream];
        if (cc === undefined) {
          cc = new ConvCount(f.tsSec, f.tsNsec);
          counts[stream] = cc;
        }
        cc.add(seg.dir, f);
      }
      return true;
    },
  });
  const rows: ConnSummary[] = [];
  for (const c of all) {
    if (filtered && !picked.has(c.stream)) continue;
    rows.push(summarize(c, counts[c.stream] ?? null, res.firstSec, res.firstNsec));
  }
  return { rows, frames: res.frames, error: res.error, evicted: res.tracker.evicted };
}

/**
 * Seconds from (aSec, aNsec) to (bSec, bNsec) as Wireshark's nstime_delta and nstime_to_sec
 * compute them (same rounding as tshark's printed times).
 */
function secondsBetween(bSec: number, bNsec: number, aSec: number, aNsec: number): number {
  let secs = bSec - aSec;
  let nsecs = bNsec - aNsec;
  if (secs > 0 && nsecs < 0) {
    nsecs += 1e9;
    secs--;
  } else if (secs < 0 && nsecs > 0) {
    nsecs -= 1e9;
    secs++;
  }
  return secs + nsecs / 1e9;
}

function summarize(c: Connection, cc: ConvCount | null, firstSec: number, firstNsec: number): ConnSummary {
  const [a, b] = c.ends;
  const ra = c.reassembly;
  const start = cc === null ? 0 : secondsBetween(cc.firstSec, cc.firstNsec, firstSec, firstNsec);
  const stop = cc === null ? 0 : secondsBetween(cc.lastSec, cc.lastNsec, firstSec, firstNsec);
  return {
    stream: c.stream,
    nodes: [endpointText(a.addr, a.port), endpointText(b.addr, b.port)],
    states: [a.state, b.state],
    packets: cc === null ? [0, 0] : [cc.packets[0], cc.packets[1]],
    bytes: cc === null ? [0, 0] : [cc.bytes[0], cc.bytes[1]],
    payload: [a.payloadBytes, b.payloadBytes],
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    relativeStart: start,
    duration: stop - start,
    synAckRtt: c.synAckRtt >= 0 ? ns(c.synAckRtt) : null,
    handshakeRtt: c.handshakeRtt >= 0 ? ns(c.handshakeRtt) : null,
    retransmissions: [a.retransmissions, b.retransmissions],
    outOfOrder: [a.outOfOrder, b.outOfOrder],
    zeroWindows: [a.zeroWindows, b.zeroWindows],
    gaps: ra === null ? [0, 0] : [ra[0].gaps, ra[1].gaps],
    gapBytes: ra === null ? [0, 0] : [ra[0].gapBytes, ra[1].gapBytes],
    closedBy: c.closedBy,
    closeHow: c.closeHow,
    midstream: c.midstream,
    portReused: c.portReused,
  };
}

/** Seconds rounded to the nanosecond (capture times have no more; the rest is float noise). */
function ns(s: number): number {
  return Math.round(s * 1e9) / 1e9;
}
