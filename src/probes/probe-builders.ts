/**
 * The probes traceroute and the handshake probe send, as layer stacks for the dissectors' encoders
 * (ProbeEngine.send encodes them with lengths and checksums computed): no byte is assembled by hand.
 * The IP layer comes from the caller (ProbeEngine.ipLayer: addresses from the route), so the same
 * builders serve IPv4 and IPv6.
 *
 * What the probes look like is what traceroute(8) 2.1 and hping3 send, seen on the wire:
 * - traceroute UDP: 32 data bytes 0x40, 0x41 ... ("@ABC..."), destination port 33434 + probe number;
 * - traceroute -I: an echo request whose 40-byte message continues the same pattern after its
 *   8-byte header (data "HIJK..."), identifier the process id, sequence from 1;
 * - traceroute -T: a SYN with window 5840 and options mss 1460, sackOK, TS, nop, wscale 2 (a 40-byte
 *   header, so "60 byte packets" as for the others);
 * - hping3 -S: a bare 20-byte SYN with window 512; no IP don't-fragment flag for any of them.
 */
import { encodeStack, makeLayer, type Layer } from '../core/dissector.js';
import type { Ipv4Layer } from '../../dissectors/ipv4.js';
import { Ipv6Layer, IPPROTO } from '../../dissectors/ipv6.js';
import { icmp, ICMP_ECHO } from '../../dissectors/icmp.js';
import { icmpv6, ICMP6_TYPE } from '../../dissectors/icmpv6.js';
import { udp } from '../../dissectors/udp.js';
import { tcp, TCPOPT, TH, type TcpOption } from '../../dissectors/tcp.js';
import type { IpFields } from './engine.js';

/** Makes the IP layer of a probe (ProbeEngine.ipLayer, or a test's stand-in). */
export type IpLayerOf = (f: IpFields) => Ipv4Layer | Ipv6Layer;

/** A probe ready for ProbeEngine.send: network layer first, and the bytes after the last header. */
export interface Probe {
  layers: Layer[];
  payload: Uint8Array;
}

/** traceroute's first UDP destination port (DEF_START_PORT) and TCP port (DEF_TCP_PORT). */
export const TRACEROUTE_UDP_PORT = 33434;
export const TRACEROUTE_TCP_PORT = 80;
/** traceroute's data after the IP header, all methods (DEF_DATA_LEN): what "60 byte packets" adds up to. */
export const TRACEROUTE_DATA_LEN = 40;
/** traceroute -T's SYN window. */
export const TRACEROUTE_TCP_WINDOW = 5840;
/** hping3's default TCP window. */
export const HPING_WINDOW = 512;

/** traceroute's fill pattern: byte i of the data after the IP header is 0x40 + (i mod 64). */
export function tracerouteFill(length: number, from: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = 0x40 + ((from + i) & 0x3f);
  return b;
}

/** traceroute's UDP probe: TTL ttl, ports sport > dport, the fill pattern after the 8-byte header. */
export function udpProbe(ipOf: IpLayerOf, ttl: number, sport: number, dport: number): Probe {
  const ip = ipOf({ proto: IPPROTO.UDP, ttl, df: false });
  return { layers: [ip, makeLayer(udp, { srcPort: sport, dstPort: dport })], payload: tracerouteFill(TRACEROUTE_DATA_LEN - 8, 0) };
}

/** An ICMP (IPv4) or ICMPv6 (IPv6) echo request with TTL ttl, carrying traceroute's fill pattern. */
export function echoProbe(ipOf: IpLayerOf, ttl: number, ident: number, seq: number): Probe {
  const payload = tracerouteFill(TRACEROUTE_DATA_LEN - 8, 8);
  const ip = ipOf({ proto: IPPROTO.ICMP, ttl, df: false });
  if (ip instanceof Ipv6Layer) {
    ip.nxt = IPPROTO.ICMPV6;
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, ((ident & 0xffff) * 0x10000 + (seq & 0xffff)) >>> 0);
    return { layers: [ip, makeLayer(icmpv6, { type: ICMP6_TYPE.ECHO_REQUEST, code: 0, body })], payload };
  }
  const echo = makeLayer(icmp, { type: ICMP_ECHO, code: 0 });
  echo.ident = ident;
  echo.seq = seq;
  return { layers: [ip, echo], payload };
}

/** A TCP segment with no data: the fields a probe sets. */
export interface SegmentFields {
  ttl: number;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** TH bits. */
  flags: number;
  window: number;
  options?: TcpOption[];
}

export function tcpSegment(ipOf: IpLayerOf, f: SegmentFields): Probe {
  const ip = ipOf({ proto: IPPROTO.TCP, ttl: f.ttl, df: false });
  const seg = makeLayer(tcp, {
    srcPort: f.sport, dstPort: f.dport, seq: f.seq >>> 0, ack: (f.ack ?? 0) >>> 0, flags: f.flags, window: f.window,
    options: f.options ?? null,
  });
  return { layers: [ip, seg], payload: new Uint8Array(0) };
}

/** traceroute -T's SYN: its options take the header to 40 bytes; tsVal is the TS option's value. */
export function tracerouteSyn(ipOf: IpLayerOf, ttl: number, sport: number, dport: number, seq: number, tsVal: number): Probe {
  return tcpSegment(ipOf, {
    ttl, sport, dport, seq, flags: TH.SYN, window: TRACEROUTE_TCP_WINDOW,
    options: [
      { kind: TCPOPT.MSS, value: 1460 }, { kind: TCPOPT.SACK_PERM }, { kind: TCPOPT.TIMESTAMP, value: [tsVal >>> 0, 0] },
      { kind: TCPOPT.NOP }, { kind: TCPOPT.WSCALE, value: 2 },
    ],
  });
}

/** hping3 -S's SYN: a 20-byte header, window 512, TTL 64. */
export function hpingSyn(ipOf: IpLayerOf, sport: number, dport: number, seq: number): Probe {
  return tcpSegment(ipOf, { ttl: 64, sport, dport, seq, flags: TH.SYN, window: HPING_WINDOW });
}

/** Bytes of a probe's packet from the IP header on (traceroute's "N byte packets"), as the encoders make it. */
export function probeLength(p: Probe): number {
  return encodeStack(p.layers, p.payload).length;
}
