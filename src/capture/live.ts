/**
 * Live capture through the npm package `cap` (libpcap). The only module that touches `cap`, and
 * it loads it lazily, so reading files works where the native addon cannot be built.
 *
 * What cap gives and what it does not (cap 0.2.1, src/binding.cc):
 * - pcap_create + snaplen 65535 + promiscuous + immediate mode + pcap_activate, then
 *   pcap_compile/pcap_setfilter: the filter runs in the kernel as a BPF program.
 * - Per packet: ('packet', nbytes, truncated) with the bytes copied into one Buffer we supply,
 *   overwritten by the next packet. No timestamp and no wire length: nbytes is libpcap's caplen,
 *   at most 65535; `truncated` says the packet did not fit our Buffer.
 * - No pcap_stats: kernel drop counters cannot be read.
 * - Immediate mode makes libpcap use TPACKET_V2, whose ring has fixed slots of the snapshot length
 *   (65535 + headers when the NIC has offloads, as most do), one per 128 KiB block: a ring of
 *   B bytes maps 2*B and holds B/65.8 KiB frames, whatever their size.
 * - A Cap object opens once (its `closing` flag is never reset), and close() after a failed
 *   open() touches an uninitialised poll handle: failed handles are kept, never closed.
 */
import { createRequire } from 'node:module';
import type { FrameQueue } from './queue.js';

/** The snapshot length cap hard-codes (pcap_set_snaplen(handle, 65535)). */
export const CAP_SNAPLEN = 65535;

/** Why opening failed, so the CLI can say what to do about it. */
export type LiveErrorKind = 'not-installed' | 'permission' | 'no-such-device' | 'filter' | 'other';

export class LiveCaptureError extends Error {
  constructor(readonly kind: LiveErrorKind, message: string) {
    super(message);
    this.name = 'LiveCaptureError';
  }
}

/** cap's JavaScript surface, as lib/Cap.js and src/binding.cc define it. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  /** pcap_sendpacket: the whole buffer, or its first `length` bytes, as one frame. */
  send(buffer: Buffer, length?: number): void;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
}

export interface CapDevice {
  name: string;
  description?: string;
  addresses: Array<{ addr?: string; netmask?: string; broadaddr?: string; dstaddr?: string }>;
  flags?: string;
}

interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

let capModule: CapModule | null = null;

/** Loads cap on first use; a missing or unbuildable addon becomes a LiveCaptureError('not-installed'). */
function loadCap(): CapModule {
  if (capModule !== null) return capModule;
  try {
    capModule = createRequire(import.meta.url)('cap') as CapModule;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new LiveCaptureError('not-installed',
      `live capture needs the npm package "cap" and libpcap, and cap could not be loaded (${why}): ` +
      'install libpcap (Debian/Ubuntu: sudo apt-get install libpcap-dev build-essential; ' +
      'Fedora: sudo dnf install libpcap-devel gcc-c++ make), then run "npm install cap" in the wirescope directory');
  }
  return capModule;
}

/** pcap_findalldevs() through cap: libpcap's list, in libpcap's order. */
export function capDeviceList(): CapDevice[] {
  const cap = loadCap();
  try {
    return cap.Cap.deviceList();
  } catch (e) {
    throw new LiveCaptureError('other', e instanceof Error ? e.message : String(e));
  }
}

/**
 * LINKTYPE_* for what cap's open() returns: a name for five DLTs, "Unknown linktype N" (N a DLT)
 * for the rest. DLT and LINKTYPE values agree except for the few remapped below (pcap-common.c).
 */
export function linkTypeOfCap(name: string): number {
  switch (name) {
    case 'NULL': return 0;
    case 'ETHERNET': return 1;
    case 'IEEE802_11_RADIO': return 127;
    case 'LINKTYPE_LINUX_SLL': return 113;
    case 'RAW': return 101;
  }
  const m = /^Unknown linktype (\d+)$/.exec(name);
  if (m === null) throw new LiveCaptureError('other', `cap returned an unrecognised link type "${name}"`);
  const dlt = Number(m[1]);
  switch (dlt) {
    case 11: return 100; // DLT_ATM_RFC1483
    case 12: case 14: return 101; // DLT_RAW (Linux, OpenBSD)
    default: return dlt;
  }
}

/** Classifies the message libpcap gave cap for a failed pcap_create/pcap_activate. */
function openErrorKind(message: string): LiveErrorKind {
  if (/Operation not permitted|Permission denied|permission/i.test(message)) return 'permission';
  if (/No such device/i.test(message)) return 'no-such-device';
  return 'other';
}

export interface LiveOptions {
  device: string;
  /** pcap-filter expression compiled by libpcap; '' captures everything. */
  filter: string;
  /** Bytes kept per frame (tcpdump -s); 0 means as many as cap delivers. */
  snaplen: number;
  /** Kernel ring buffer bytes (pcap_set_buffer_size). */
  bufferSize: number;
}

/**
 * cap reports every failure as one Error with libpcap's text. A failure after activation is the
 * filter's: told apart by opening again without the filter.
 */
function explainOpenError(cap: CapModule, opts: LiveOptions, e: unknown): LiveCaptureError {
  const message = e instanceof Error ? e.message : String(e);
  const kind = openErrorKind(message);
  if (kind !== 'other' || opts.filter === '') return new LiveCaptureError(kind, message);
  const probe = new cap.Cap();
  try {
    probe.open(opts.device, '', opts.bufferSize, Buffer.alloc(64));
  } catch {
    failedHandles.push(probe);
    return new LiveCaptureError(kind, message);
  }
  probe.close();
  return new LiveCaptureError('filter', message);
}

/** Failed handles: kept referenced so their destructor (which would close them) never runs. */
const failedHandles: CapHandle[] = [];

/** After fewer frames than this arrived in a turn of the event loop, pause PAUSE_MS (see endOfTurn). */
const SHORT_BURST = 256;
const PAUSE_MS = 1;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * One open interface. cap's dispatch loop hands over one packet at a time in a shared buffer; each
 * is stamped and copied at once into the FrameQueue, where the pipeline worker takes it. This
 * thread does nothing else, so libpcap's ring is emptied as fast as cap allows.
 */
export class LiveCapture {
  readonly device: string;
  readonly linkType: number;
  /** The snapshot length in effect: the requested one, at most CAP_SNAPLEN. */
  readonly snaplen: number;
  /**
   * Frames whose wire length is not known: libpcap cut them at cap's 65535 bytes, or they did not
   * fit cap's buffer. Their origLen is the bytes seen, a lower bound.
   */
  lengthUnknown = 0;

  private handle: CapHandle | null;
  private readonly capBuf: Buffer;
  /** Frames queued in this turn of the event loop. */
  private burst = 0;
  private readonly endOfTurn = (): void => {
    this.queue.wake();
    // Immediate mode (forced by cap) wakes us for every packet, at several system calls each.
    // After a short burst, sleep a little so the next wake-up finds a batch, as tcpdump's
    // TPACKET_V3 blocks batch packets. A long burst means we are busy: no pause then.
    if (this.burst < SHORT_BURST && this.handle !== null) Atomics.wait(pauseCell, 0, 0, PAUSE_MS);
    this.burst = 0;
  };
  /** Wall-clock anchor: whole seconds and nanoseconds at performance.now() === anchorMs. */
  private readonly anchorSec: number;
  private readonly anchorNsec: number;
  private readonly anchorMs: number;

  /** Opens the interface; frames go to queue from the next turn of the event loop. Throws LiveCaptureError. */
  constructor(opts: LiveOptions, private readonly queue: FrameQueue) {
    const cap = loadCap();
    this.device = opts.device;
    this.snaplen = opts.snaplen > 0 && opts.snaplen < CAP_SNAPLEN ? opts.snaplen : CAP_SNAPLEN;
    // cap copies nbytes = min(caplen, buffer length): a buffer of cap's own snaplen never truncates.
    this.capBuf = Buffer.alloc(CAP_SNAPLEN);
    const handle = new cap.Cap();
    let linkName: string;
    try {
      linkName = handle.open(opts.device, opts.filter, opts.bufferSize, this.capBuf);
    } catch (e) {
      failedHandles.push(handle);
      throw explainOpenError(cap, opts, e);
    }
    this.handle = handle;
    this.linkType = linkTypeOfCap(linkName);
    // Anchored on a millisecond edge of the wall clock, so the anchor is exact to a microsecond.
    performance.now();
    const before = Date.now();
    let wallMs: number;
    while ((wallMs = Date.now()) === before);
    this.anchorMs = performance.now();
    this.anchorSec = Math.floor(wallMs / 1000);
    this.anchorNsec = (wallMs - this.anchorSec * 1000) * 1e6;
    handle.on('packet', (nbytes, truncated) => this.onPacket(nbytes, truncated));
  }

  /** Frames refused because the queue was full: lost inside wirescope. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Stops capturing (safe at any time; frames already queued stay queued). */
  close(): void {
    if (this.handle === null) return;
    this.handle.close();
    this.handle = null;
  }

  private onPacket(nbytes: number, truncated: boolean): void {
    if (this.handle === null) return;
    // Stamped on arrival in JavaScript: cap passes no pcap_pkthdr timestamp.
    const ns = this.anchorNsec + (performance.now() - this.anchorMs) * 1e6;
    const carry = Math.floor(ns / 1e9);
    if (truncated || nbytes >= CAP_SNAPLEN) this.lengthUnknown++;
    this.queue.push(this.capBuf, nbytes < this.snaplen ? nbytes : this.snaplen, nbytes, this.anchorSec + carry, Math.floor(ns - carry * 1e9));
    if (this.burst++ === 0) setImmediate(this.endOfTurn);
  }
}

/** Kernel ring for probe handles: replies are few, but immediate mode gives each a 64 KiB slot. */
const PROBE_BUFFER_SIZE = 4 << 20;

/**
 * An interface opened to send crafted frames (pcap_sendpacket) and to receive the few frames a
 * BPF filter lets through, for active probes (src/probes/engine.ts). Unlike LiveCapture there is
 * no worker or queue: each frame is handed to `onFrame` on this thread as cap delivers it, in cap's
 * shared buffer (valid during the call only), stamped with performance.now() on arrival.
 */
export class ProbeHandle {
  readonly device: string;
  readonly linkType: number;
  private handle: CapHandle | null;
  private readonly capBuf = Buffer.alloc(CAP_SNAPLEN);

  /** Opens the interface with the filter. Throws LiveCaptureError. */
  constructor(device: string, filter: string, onFrame: (data: Buffer, nbytes: number, atMs: number) => void) {
    const cap = loadCap();
    this.device = device;
    const handle = new cap.Cap();
    let linkName: string;
    const opts: LiveOptions = { device, filter, snaplen: 0, bufferSize: PROBE_BUFFER_SIZE };
    try {
      linkName = handle.open(device, filter, PROBE_BUFFER_SIZE, this.capBuf);
    } catch (e) {
      failedHandles.push(handle);
      throw explainOpenError(cap, opts, e);
    }
    this.handle = handle;
    this.linkType = linkTypeOfCap(linkName);
    handle.on('packet', (nbytes) => {
      if (this.handle !== null) onFrame(this.capBuf, nbytes, performance.now());
    });
  }

  /** Sends one frame, link header included. Throws LiveCaptureError with libpcap's reason. */
  send(frame: Uint8Array): void {
    if (this.handle === null) throw new LiveCaptureError('other', `${this.device}: the probe handle is closed`);
    try {
      this.handle.send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
    } catch (e) {
      throw new LiveCaptureError('other', `${this.device}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Stops receiving (safe at any time); the process may exit once every handle is closed. */
  close(): void {
    if (this.handle === null) return;
    this.handle.close();
    this.handle = null;
  }
}
