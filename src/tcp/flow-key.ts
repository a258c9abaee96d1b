/**
 * The key of a TCP connection: its two endpoints (address and port) in a canonical order, so both
 * directions of a connection find the same entry.
 */

export interface FlowKey {
  /** Same string for both directions. */
  readonly key: string;
  /** The sender of this segment is the endpoint that sorts first in the key. */
  readonly senderFirst: boolean;
}

/** Endpoint text as in tshark's "Node" lines: "10.0.0.1:80", "[2001:db8::1]:80". */
export function endpointText(addr: string, port: number): string {
  return addr.indexOf(':') >= 0 ? '[' + addr + ']:' + port : addr + ':' + port;
}

/** The canonical key of the connection between src:sport and dst:dport. */
export function flowKey(src: string, sport: number, dst: string, dport: number): FlowKey {
  const a = endpointText(src, sport);
  const b = endpointText(dst, dport);
  return a <= b ? { key: a + ' ' + b, senderFirst: true } : { key: b + ' ' + a, senderFirst: false };
}
