/**
 * Probes without a network: an IP-layer maker like ProbeEngine.ipLayer, a sender that encodes what
 * the probe code sends, and replies (ICMP errors quoting the probe, echo replies, TCP answers)
 * built with the same encoders and decoded back as the engine would hand them over.
 */
import { decodeFrame, encodeStack, makeLayer, type Layer, type Packet } from '../../src/core/dissector.js';
import { ipv4, IP4_FLAG_DF, type Ipv4Layer } from '../../dissectors/ipv4.js';
import { ipv6, Ipv6Layer } from '../../dissectors/ipv6.js';
import { icmp } from '../../dissectors/icmp.js';
import { icmpv6 } from '../../dissectors/icmpv6.js';
import { tcp, type TcpOption } from '../../dissectors/tcp.js';
import { ipv4Number, viewOf, type IpFields, type PacketView } from '../../src/probes/engine.js';
import '../../dissectors/index.js';

/** LINKTYPE_RAW: frames are IP datagrams. */
const RAW = 101;

/** An IP layer from src to dst, as ProbeEngine.ipLayer makes it (IPv4 identification `id`). */
export function ipMaker(src: string, dst: string, id = 0x1234): (f: IpFields) => Ipv4Layer | Ipv6Layer {
  return (f) => ipFrom(src, dst, f, id);
}

function ipFrom(src: string, dst: string, f: IpFields, id: number): Ipv4Layer | Ipv6Layer {
  if (src.includes(':')) return makeLayer(ipv6, { src, dst, hlim: f.ttl ?? 64, nxt: f.proto, tclass: f.tos ?? 0 });
  return makeLayer(ipv4, {
    src: ipv4Number(src), dst: ipv4Number(dst), ttl: f.ttl ?? 64, proto: f.proto, tos: f.tos ?? 0,
    id: f.id ?? id, flagsFrag: f.df === false ? 0 : IP4_FLAG_DF,
  });
}

/** A raw IP datagram decoded as the engine decodes a frame. */
export function decodeIp(bytes: Uint8Array): Packet {
  return decodeFrame({ number: 1, linkType: RAW, tsSec: 0, tsNsec: 0, capLen: bytes.length, origLen: bytes.length, data: bytes, ifIndex: 0 });
}

export function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** An ICMP (IPv4) or ICMPv6 error from `from` to the probe's sender, quoting the probe datagram. */
export function icmpError(from: string, probe: Uint8Array, type: number, code: number, rest = 0): Uint8Array {
  const sent = viewOf(decodeIp(probe)).ip!;
  const to = sent.srcAddr;
  if (sent instanceof Ipv6Layer) {
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, rest);
    return encodeStack([ipFrom(from, to, { proto: 58, ttl: 64 }, 0), makeLayer(icmpv6, { type, code, body })], probe);
  }
  return encodeStack([ipFrom(from, to, { proto: 1, ttl: 64, df: false }, 0), makeLayer(icmp, { type, code, rest })], probe.subarray(0, 28));
}

/** The destination's echo reply to an echo request datagram. */
export function echoReply(probe: Uint8Array): Uint8Array {
  const v = viewOf(decodeIp(probe));
  const ip = v.ip!;
  if (ip instanceof Ipv6Layer) {
    const e = v.icmp6!;
    const body = probe.slice(e.off + 4, e.off + 8);
    return encodeStack([ipFrom(ip.dstAddr, ip.srcAddr, { proto: 58 }, 0), makeLayer(icmpv6, { type: 129, code: 0, body })], probe.subarray(e.off + 8));
  }
  const e = v.icmp!;
  return encodeStack([ipFrom(ip.dstAddr, ip.srcAddr, { proto: 1 }, 0), makeLayer(icmp, { type: 0, code: 0, rest: e.rest })], probe.subarray(e.off + 8));
}

/** The destination's TCP answer to a SYN datagram: flags, and for a SYN-ACK its sequence number. */
export function tcpAnswer(
  probe: Uint8Array, flags: number,
  opts: { seq?: number; ack?: number; window?: number; ttl?: number; id?: number; options?: TcpOption[] } = {},
): Uint8Array {
  const v = viewOf(decodeIp(probe));
  const ip = v.ip!, t = v.tcp!;
  const seg = makeLayer(tcp, {
    srcPort: t.dstPort, dstPort: t.srcPort, seq: opts.seq ?? 0, ack: opts.ack ?? (t.seq + 1) >>> 0, flags, window: opts.window ?? 0,
    options: opts.options ?? null,
  });
  return encodeStack([ipFrom(ip.dstAddr, ip.srcAddr, { proto: 6, ttl: opts.ttl ?? 64 }, opts.id ?? 0), seg]);
}

/** What a probe handed to FakeSender was. */
export interface Sent {
  bytes: Uint8Array;
  view: PacketView;
  at: number;
}

/**
 * A sender for the probe classes: encodes each probe as ProbeEngine.send does (raw IP here) and asks
 * `answer` for the reply, delivered on a later turn at sendAt + rttMs.
 */
export class FakeSender {
  readonly sent: Sent[] = [];
  /** Where replies go (the probe object's onFrame). */
  deliver: (v: PacketView, at: number, p: Packet) => void = () => {};
  constructor(
    readonly ipLayer: (f: IpFields) => Ipv4Layer | Ipv6Layer,
    private readonly answer: (s: Sent) => { bytes: Uint8Array; rttMs: number } | null,
  ) {}

  send(layers: Layer[], payload?: Uint8Array): { at: number; packet: Packet } {
    const bytes = encodeStack(layers, payload);
    const packet = decodeIp(bytes);
    const s: Sent = { bytes, view: viewOf(packet), at: performance.now() };
    this.sent.push(s);
    const a = this.answer(s);
    if (a !== null) {
      setImmediate(() => {
        const p = decodeIp(a.bytes);
        this.deliver(viewOf(p), s.at + a.rttMs, p);
      });
    }
    return { at: s.at, packet };
  }
}
