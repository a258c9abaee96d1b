/**
 * tshark's DNS-over-UDP heuristic (packet-dns.c, dissect_dns_heur, enabled by default): a UDP
 * payload on a port no dissector takes is DNS when its header looks like a plain query or response.
 * Only the tshark views (-T fields, --json) apply it; tcpdump's text never guesses protocols.
 */
import { decodeChain, Packet, type Dissector } from '../core/dissector.js';
import { DNS, dns } from '../../dissectors/dns.js';
import { UdpLayer } from '../../dissectors/udp.js';

/** Most answer, authority and additional records the heuristic accepts in a response. */
const MAX_ANSWERS = 100;
const MAX_AUTHORITIES = 10;
const MAX_ADDITIONALS = 10;

/** Whether the captured DNS header at buf[at..] of a message of `length` bytes passes tshark's checks. */
export function looksLikeDns(buf: Uint8Array, at: number, end: number, length: number): boolean {
  if (length <= DNS.HEADER_LEN || end - at < DNS.HEADER_LEN) return false;
  const flags = u16(buf, at + DNS.FLAGS);
  if ((flags & 0x7800) !== 0) return false; // a standard query or response only
  const questions = u16(buf, at + DNS.QDCOUNT);
  const answers = u16(buf, at + DNS.ANCOUNT);
  const authorities = u16(buf, at + DNS.NSCOUNT);
  if ((flags & 0x8000) === 0) {
    if (questions !== 1 || answers !== 0 || authorities !== 0) return false;
  } else if (questions > 1 || answers > MAX_ANSWERS || authorities > MAX_AUTHORITIES) return false;
  const additionals = u16(buf, at + DNS.ARCOUNT);
  // No check that the records fit the datagram: tshark 4.0 takes a 72-byte response claiming 64 answers.
  return additionals <= MAX_ADDITIONALS && questions + answers !== 0;
}

function u16(buf: Uint8Array, i: number): number {
  return (buf[i] << 8) | buf[i + 1];
}

/** p, or a view of it with the UDP payload decoded as DNS when no dissector took it and the heuristic accepts it. */
export function withDnsHeuristic(p: Packet): Packet {
  const top = p.top;
  if (!(top instanceof UdpLayer) || top.truncated || top.invalid !== null || top.payloadLen <= DNS.HEADER_LEN) return p;
  const payload = p.payloadOf(top);
  if (!looksLikeDns(payload.buf, payload.start, payload.end, top.payloadLen)) return p;
  const view = new Packet(p.frame, p.buf);
  for (const l of p.layers) view.layers.push(l);
  decodeChain(view, dns as Dissector, payload, top.payloadLen);
  return view;
}
