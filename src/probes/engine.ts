/**
 * The probe engine: sends frames built by the dissectors' encoders through libpcap (cap's send,
 * via src/capture/live.ts) and decodes what comes back with the same dissectors, matching replies
 * to probes with per-probe timeouts.
 *
 * How a command uses it (see src/probes/ping.ts, src/probes/arping.ts):
 *
 *   const path = await openPath(await resolveHost('10.0.2.2', 4), { filter: 'icmp' });  // path.ts
 *   const e = path.engine;
 *   const ip = e.ipLayer({ proto: IPPROTO_ICMP, ttl: 64 });          // src/dst from the route
 *   const echo = makeLayer(icmp, { type: ICMP_ECHO, ident: 7, seq: 1 });
 *   const r = await e.probe([ip, echo], payload, (s) => s.icmp?.type === ICMP_ECHOREPLY && ..., 1000);
 *   // r.sent.at / r.reply?.at are performance.now() milliseconds; r.rttMs; r.reply.view.ip.ttl ...
 *   e.close();
 *
 * - send(layers, payload) prepends the link header the interface needs (Ethernet to the next hop's
 *   MAC, none on raw-IP links) and encodes with fixLengths and computeChecksums.
 * - listen(fn) sees every frame the filter lets through, decoded; expect(match, ms) waits for the
 *   first one match accepts; probe() is send + expect, with the round-trip time.
 * - A Received frame's `view` (viewOf) names the layers by role, and for an ICMP/ICMPv6 error the
 *   quoted datagram's layers as view.quoted, so matching is field comparisons.
 * - formatText(packet) prints any sent or received packet as the one-line tcpdump printer does (-v).
 *
 * The kernel of this host sees the same replies (an echo reply or a SYN-ACK it did not ask for):
 * it ignores echo replies, and answers an unexpected SYN-ACK with a RST (see the handshake probe).
 */
import '../../dissectors/index.js';
import { decodeFrame, encodeStack, makeLayer, type Layer, type Packet } from '../core/dissector.js';
import type { Frame } from '../core/frame.js';
import { TextOut, defaultTextOptions, type TextOptions } from '../output/text.js';
import { ProbeHandle } from '../capture/live.js';
import { ethernet, EthernetLayer } from '../../dissectors/ethernet.js';
import { ArpLayer } from '../../dissectors/arp.js';
import { ipv4, Ipv4Layer, IP4_FLAG_DF } from '../../dissectors/ipv4.js';
import { ipv6, Ipv6Layer } from '../../dissectors/ipv6.js';
import { IcmpLayer, isIcmpError } from '../../dissectors/icmp.js';
import { Icmpv6Layer, isIcmpv6Error } from '../../dissectors/icmpv6.js';
import { UdpLayer } from '../../dissectors/udp.js';
import { TcpLayer } from '../../dissectors/tcp.js';
import type { Route } from './path.js';

/** LINKTYPE_ETHERNET, and the raw-IP link types (no link header) the engine can send on. */
export const LINKTYPE_ETHERNET = 1;
const RAW_LINK_TYPES = new Set([12, 14, 101, 228, 229]);

/** The layers of a decoded packet by role (the first of each kind); `quoted` is an ICMP error's quoted datagram. */
export interface PacketView {
  eth?: EthernetLayer;
  arp?: ArpLayer;
  ip?: Ipv4Layer | Ipv6Layer;
  icmp?: IcmpLayer;
  icmp6?: Icmpv6Layer;
  udp?: UdpLayer;
  tcp?: TcpLayer;
  /** For an ICMP or ICMPv6 error: what the quoted datagram decodes to. */
  quoted?: PacketView;
}

/** The layers of p by role (see PacketView). */
export function viewOf(p: Packet): PacketView {
  const v: PacketView = {};
  for (const l of p.layers) {
    if (l instanceof EthernetLayer) v.eth ??= l;
    else if (l instanceof ArpLayer) v.arp ??= l;
    else if (l instanceof Ipv4Layer || l instanceof Ipv6Layer) v.ip ??= l;
    else if (l instanceof IcmpLayer) {
      v.icmp ??= l;
      if (isIcmpError(l.type) && l.nested.length) v.quoted = viewOf(l.nested[0]);
    } else if (l instanceof Icmpv6Layer) {
      v.icmp6 ??= l;
      if (isIcmpv6Error(l.type) && l.nested.length) v.quoted = viewOf(l.nested[0]);
    } else if (l instanceof UdpLayer) v.udp ??= l;
    else if (l instanceof TcpLayer) v.tcp ??= l;
  }
  return v;
}

/** A frame the engine sent or received: its bytes (owned), decoded packet, layers by role, and time. */
export interface ProbeFrame {
  bytes: Uint8Array;
  packet: Packet;
  view: PacketView;
  /** performance.now() milliseconds: just before pcap_sendpacket, or on arrival from cap. */
  at: number;
}

export interface ProbeResult {
  sent: ProbeFrame;
  /** The first frame the matcher accepted before the timeout, or null. */
  reply: ProbeFrame | null;
  /** reply.at - sent.at, or NaN without a reply. */
  rttMs: number;
}

export type Matcher = (v: PacketView, f: ProbeFrame) => boolean;

/** Fields of the IP header of a probe; addresses come from the route. */
export interface IpFields {
  /** IP protocol number (IPv4 proto / IPv6 next header); encodeStack also derives it from the layer above. */
  proto: number;
  /** TTL / hop limit (default 64). */
  ttl?: number;
  /** IPv4 identification (default: a counter). */
  id?: number;
  /** IPv4 type of service / IPv6 traffic class. */
  tos?: number;
  /** IPv4 don't-fragment flag (default true, as Linux sends pings). */
  df?: boolean;
}

interface Waiter {
  match: Matcher;
  resolve: (f: ProbeFrame | null) => void;
  timer: NodeJS.Timeout;
}

/** Wall-clock of performance.now() = 0, for frame timestamps. */
const epochMs = performance.timeOrigin;

export class ProbeEngine {
  readonly route: Route;
  readonly linkType: number;
  /** Destination MAC of frames to the next hop on an Ethernet link (openPath sets it); null elsewhere. */
  nextHopMac: string | null = null;
  private readonly handle: ProbeHandle;
  private readonly listeners = new Set<(f: ProbeFrame) => void>();
  private readonly waiters = new Set<Waiter>();
  private frameNumber = 0;
  private ipId = (process.pid * 7919) & 0xffff;

  /**
   * Opens route.iface.name with a pcap filter (libpcap syntax) for the replies; throws
   * LiveCaptureError (kind 'permission' without root/CAP_NET_RAW) or ProbeError for a link type
   * frames cannot be built for (Linux "any", 802.11 ...).
   */
  constructor(route: Route, filter: string) {
    this.route = route;
    this.handle = new ProbeHandle(route.iface.name, filter, (data, n, at) => this.onFrame(data, n, at));
    this.linkType = this.handle.linkType;
    if (this.linkType !== LINKTYPE_ETHERNET && !RAW_LINK_TYPES.has(this.linkType)) {
      this.handle.close();
      throw new ProbeError(`${route.iface.name}: cannot send on link type ${this.linkType} (Ethernet or raw IP only)`);
    }
  }

  /** True when frames carry an Ethernet header (and so need the next hop's MAC). */
  get ethernet(): boolean {
    return this.linkType === LINKTYPE_ETHERNET;
  }

  /** An IPv4 or IPv6 layer from the route's source to its destination, for send/probe. */
  ipLayer(f: IpFields): Ipv4Layer | Ipv6Layer {
    const r = this.route;
    if (r.family === 4) {
      return makeLayer(ipv4, {
        src: ipv4Number(r.src), dst: ipv4Number(r.dst), ttl: f.ttl ?? 64, proto: f.proto, tos: f.tos ?? 0,
        id: f.id ?? (this.ipId = (this.ipId + 1) & 0xffff), flagsFrag: f.df === false ? 0 : IP4_FLAG_DF,
      });
    }
    return makeLayer(ipv6, { src: r.src, dst: r.dst, hlim: f.ttl ?? 64, nxt: f.proto, tclass: f.tos ?? 0 });
  }

  /**
   * The frame for layers (network layer first) and payload: the link header this interface needs,
   * then encodeStack with lengths and checksums computed. `linkDst` overrides the Ethernet
   * destination (ARP broadcasts, IPv6 multicast), `linkSrc` the source.
   */
  build(layers: Layer[], payload?: Uint8Array, linkDst?: string, linkSrc?: string): Uint8Array {
    if (!this.ethernet) return encodeStack(layers, payload);
    const dst = linkDst ?? this.nextHopMac;
    if (dst === null) throw new ProbeError(`${this.route.iface.name}: the next hop's MAC address is not known`);
    const eth = makeLayer(ethernet, { src: linkSrc ?? this.route.iface.mac ?? '00:00:00:00:00:00', dst });
    return encodeStack([eth, ...layers], payload);
  }

  /** Builds and sends one frame (see build); returns it decoded, stamped just before sending. */
  send(layers: Layer[], payload?: Uint8Array, linkDst?: string, linkSrc?: string): ProbeFrame {
    const bytes = this.build(layers, payload, linkDst, linkSrc);
    // Decoded before sending: the reply may be waiting as soon as the send returns (loopback).
    const f: ProbeFrame = { bytes, packet: decodeFrame(this.frameOf(bytes, performance.now())), view: {}, at: 0 };
    f.view = viewOf(f.packet);
    f.at = performance.now();
    this.handle.send(bytes);
    return f;
  }

  /** Calls fn with every received frame (after the waiters); returns the unsubscribe function. */
  listen(fn: (f: ProbeFrame) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The first frame match accepts within timeoutMs, or null. */
  expect(match: Matcher, timeoutMs: number): Promise<ProbeFrame | null> {
    return new Promise((resolve) => {
      const w: Waiter = {
        match, resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(null);
        }, Math.max(0, timeoutMs)),
      };
      this.waiters.add(w);
    });
  }

  /** Sends a probe and waits up to timeoutMs for the reply match accepts (the waiter is set before sending). */
  async probe(layers: Layer[], payload: Uint8Array | undefined, match: Matcher, timeoutMs: number, linkDst?: string): Promise<ProbeResult> {
    const waiting = this.expect(match, timeoutMs);
    let sent: ProbeFrame;
    try {
      sent = this.send(layers, payload, linkDst);
    } catch (e) {
      this.cancelAll();
      throw e;
    }
    const reply = await waiting;
    return { sent, reply, rttMs: reply ? reply.at - sent.at : NaN };
  }

  /** Stops receiving; pending expects resolve to null. */
  close(): void {
    this.handle.close();
    this.cancelAll();
    this.listeners.clear();
  }

  private cancelAll(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiters.clear();
  }

  private frameOf(bytes: Uint8Array, at: number): Frame {
    const ms = epochMs + at;
    const sec = Math.floor(ms / 1000);
    return {
      number: ++this.frameNumber, linkType: this.linkType, tsSec: sec, tsNsec: Math.floor((ms - sec * 1000) * 1e6),
      capLen: bytes.length, origLen: bytes.length, data: bytes, ifIndex: 0,
    };
  }

  private onFrame(data: Buffer, n: number, at: number): void {
    const bytes = new Uint8Array(data.subarray(0, n));
    const packet = decodeFrame(this.frameOf(bytes, at));
    const f: ProbeFrame = { bytes, packet, view: viewOf(packet), at };
    for (const w of this.waiters) {
      if (w.match(f.view, f)) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(f);
      }
    }
    for (const fn of this.listeners) fn(f);
  }
}

/** A probe cannot be built or sent (no route, no MAC, unsupported link); the message is one line. */
export class ProbeError extends Error {
  override name = 'ProbeError';
}

/** "192.0.2.1" as a 32-bit number (Ipv4Layer keeps addresses as numbers). */
export function ipv4Number(a: string): number {
  const p = a.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** One text line for a packet, as the capture printer prints it (tcpdump -n by default): for -v. */
export function formatText(p: Packet, opts: Partial<TextOptions> = {}): string {
  return new TextOut({ ...defaultTextOptions, n: 1, ...opts }).formatPacket(p);
}
