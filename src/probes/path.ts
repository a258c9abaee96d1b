/**
 * The path to a host: the address (system resolver), then the kernel's routing decision (egress
 * interface, source address, gateway) read with `ip -j route get`, then the next hop's MAC found
 * with our own ARP request or IPv6 neighbour solicitation sent through the probe engine, falling
 * back to the kernel's neighbour table (`ip -j neigh`). Loopback needs no resolution (its MAC is
 * zeros) and neither do point-to-point or raw-IP links (no link header).
 *
 *   const dst = await resolveHost('server', 4);            // { address, family }
 *   const path = await openPath(dst, { filter: 'icmp', iface: undefined });
 *   path.route   // { family, dst, src, gateway, iface: { name, index, mac, flags, ... }, local }
 *   path.engine  // an open ProbeEngine whose nextHopMac is set; close it when done
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { makeLayer } from '../core/dissector.js';
import { arp, ARPOP } from '../../dissectors/arp.js';
import { icmpv6, ICMP6, ICMP6_TYPE } from '../../dissectors/icmpv6.js';
import { IPPROTO, parseIpv6 } from '../../dissectors/ipv6.js';
import { ipv6At } from '../output/format.js';
import { ProbeEngine } from './engine.js';

export type Family = 4 | 6;

export interface Interface {
  name: string;
  index: number;
  /** Our hardware address ("00:00:00:00:00:00" on loopback), or null on links without one. */
  mac: string | null;
  /** ip link's flags: UP, LOOPBACK, POINTOPOINT, NOARP ... */
  flags: string[];
  /** ip link's link_type: ether, loopback, none (tun), ... */
  linkType: string;
  mtu: number;
}

export interface Route {
  family: Family;
  dst: string;
  /** The source address the kernel would choose (or the one asked for). */
  src: string;
  /** The gateway, or null when dst is on the link (or local). */
  gateway: string | null;
  iface: Interface;
  /** dst is an address of this host (the kernel routes it through lo). */
  local: boolean;
}

/** What the frame's link header needs: the MAC of gateway ?? dst. */
export function nextHop(r: Route): string {
  return r.gateway ?? r.dst;
}

/** A host that could not be resolved or routed; the message is what iputils prints after "ping: ". */
export class PathError extends Error {
  override name = 'PathError';
  /** The system call iputils names for this failure ("connect" for routing errors, "bind" ...). */
  constructor(message: string, readonly syscall?: string) {
    super(message);
  }
}

/**
 * The address of host (a literal, or through the system resolver as getaddrinfo does), of the
 * given family or, without one, the first the resolver returns.
 */
export async function resolveHost(host: string, family?: Family): Promise<{ address: string; family: Family; zone?: string }> {
  const literal = isIP(host);
  if (literal) {
    if (family !== undefined && literal !== family) throw new PathError(`${host}: Address family for hostname not supported`);
    // fe80::1%eth0: the zone names the interface of a link-local address.
    const pct = host.indexOf('%');
    if (pct > 0) return { address: host.slice(0, pct), family: 6, zone: host.slice(pct + 1) };
    return { address: host, family: literal as Family };
  }
  try {
    const r = await lookup(host, { family: family ?? 0 });
    return { address: r.address, family: r.family as Family };
  } catch (e) {
    // The name has addresses, none of this family (getaddrinfo's EAI_ADDRFAMILY, which Node does not pass on).
    if (family !== undefined && (await lookup(host).then(() => true, () => false))) {
      throw new PathError(`${host}: Address family for hostname not supported`);
    }
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOTFOUND' ? 'Name or service not known' : code === 'EAI_AGAIN' ? 'Temporary failure in name resolution' : String(code ?? e);
    throw new PathError(`${host}: ${why}`);
  }
}

function ipJson(args: string[], syscall?: string): unknown {
  try {
    return JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) || '[]');
  } catch (e) {
    const err = e as { stderr?: string; code?: string };
    if (err.code === 'ENOENT') throw new PathError('the ip command (iproute2) is needed to read the routing table');
    // "RTNETLINK answers: Network is unreachable" -> "Network is unreachable"
    const line = (err.stderr ?? String(e)).trim().split('\n')[0];
    throw new PathError(line.replace(/^RTNETLINK answers: /, '').replace(/^Error: /, ''), syscall);
  }
}

/** An interface by name (`ip -j link show dev NAME`). */
export function interfaceInfo(name: string): Interface {
  const list = ipJson(['link', 'show', 'dev', name]) as Array<Record<string, unknown>>;
  const l = list[0];
  if (l === undefined) throw new PathError(`unknown iface ${name}`);
  const flags = (l.flags as string[] | undefined) ?? [];
  const linkType = String(l.link_type ?? '');
  const addr = typeof l.address === 'string' && l.address.split(':').length === 6 ? l.address : null;
  return { name: String(l.ifname), index: Number(l.ifindex), mac: addr, flags, linkType, mtu: Number(l.mtu) };
}

/** The first address of the family on an interface (`ip -j addr show dev NAME`), or null. */
export function interfaceAddress(name: string, family: Family): string | null {
  const list = ipJson([family === 4 ? '-4' : '-6', 'addr', 'show', 'dev', name]) as Array<{ addr_info?: Array<{ local?: string; scope?: string }> }>;
  for (const l of list) for (const a of l.addr_info ?? []) if (a.local !== undefined && a.scope !== 'link') return a.local;
  return null;
}

/**
 * The kernel's route to dst (`ip -j route get DST [oif IFACE] [from SRC]`). Throws PathError with
 * the kernel's reason ("Network is unreachable") when there is none.
 */
export function routeTo(dst: string, family: Family, iface?: string, src?: string): Route {
  const args = [family === 4 ? '-4' : '-6', 'route', 'get', dst];
  // The checks and wording of iputils' SO_BINDTODEVICE and bind() on the socket.
  if (iface !== undefined && (ipJson(['link', 'show']) as Array<{ ifname?: string }>).every((l) => l.ifname !== iface)) {
    throw new PathError('No such device', `SO_BINDTODEVICE ${iface}`);
  }
  if (src !== undefined && (ipJson(['addr', 'show', 'to', src]) as unknown[]).length === 0) {
    throw new PathError('Cannot assign requested address', 'bind');
  }
  if (iface !== undefined) args.push('oif', iface);
  if (src !== undefined) args.push('from', src);
  const r = (ipJson(args, 'connect') as Array<Record<string, unknown>>)[0];
  if (r === undefined) throw new PathError('Network is unreachable', 'connect');
  const type = String(r.type ?? 'unicast');
  if (type === 'unreachable' || type === 'prohibit' || type === 'blackhole') throw new PathError('Network is unreachable', 'connect');
  const dev = interfaceInfo(String(r.dev));
  const from = src ?? (typeof r.prefsrc === 'string' ? r.prefsrc : undefined);
  if (from === undefined) throw new PathError(`no source address on ${dev.name}`);
  return {
    family, dst, src: from, gateway: typeof r.gateway === 'string' ? r.gateway : null, iface: dev, local: type === 'local',
  };
}

/** The kernel's neighbour-table entry for addr on dev, when it holds a usable MAC. */
export function neighbourMac(addr: string, dev: string): string | null {
  let list: Array<Record<string, unknown>>;
  try {
    list = ipJson(['neigh', 'show', addr, 'dev', dev]) as Array<Record<string, unknown>>;
  } catch {
    return null;
  }
  for (const n of list) {
    const state = (n.state as string[] | undefined) ?? [];
    if (typeof n.lladdr === 'string' && !state.includes('FAILED') && !state.includes('INCOMPLETE')) return n.lladdr;
  }
  return null;
}

/** Links whose frames need no next-hop MAC: loopback (all-zero MACs) and links without Ethernet addresses. */
function needsResolution(r: Route): boolean {
  const f = r.iface.flags;
  return r.iface.mac !== null && !f.includes('LOOPBACK') && !f.includes('NOARP') && !f.includes('POINTOPOINT') && !r.local;
}

/** The solicited-node multicast address of a (RFC 4291 2.7.1) and its Ethernet group (RFC 2464 7). */
function solicitedNode(a: Uint8Array): { ip: string; mac: string } {
  const b = parseIpv6('ff02::1:ff00:0');
  b[13] = a[13]; b[14] = a[14]; b[15] = a[15];
  const h = (x: number): string => x.toString(16).padStart(2, '0');
  return { ip: ipv6At(b, 0), mac: `33:33:ff:${h(a[13])}:${h(a[14])}:${h(a[15])}` };
}

/**
 * Asks for the MAC of addr on the engine's link with our own ARP request (IPv4) or neighbour
 * solicitation (IPv6), as the kernel would: the first answer within timeoutMs, or null.
 */
export async function solicit(e: ProbeEngine, addr: string, timeoutMs: number): Promise<string | null> {
  const r = e.route, me = r.iface.mac!;
  if (r.family === 4) {
    const req = makeLayer(arp, { op: ARPOP.REQUEST, senderMac: me, senderIp: r.src, targetMac: '00:00:00:00:00:00', targetIp: addr });
    const res = await e.probe([req], undefined,
      (v) => v.arp !== undefined && v.arp.op === ARPOP.REPLY && v.arp.senderIp === addr, timeoutMs, 'ff:ff:ff:ff:ff:ff');
    return res.reply ? res.reply.view.arp!.senderMac : null;
  }
  const target = parseIpv6(addr);
  const group = solicitedNode(target);
  // NS body (RFC 4861 4.3): reserved word, target, source link-layer address option (type 1, 1 unit of 8 bytes).
  const body = new Uint8Array(ICMP6.TARGET - ICMP6.DATA + 16 + 8);
  body.set(target, ICMP6.TARGET - ICMP6.DATA);
  body[20] = 1;
  body[21] = 1;
  body.set(me.split(':').map((x) => parseInt(x, 16)), 22);
  const ns = makeLayer(icmpv6, { type: ICMP6_TYPE.NEIGHBOR_SOLICIT, code: 0, body });
  const ip = e.ipLayer({ proto: IPPROTO.ICMPV6, ttl: 255 });
  (ip as { dst: string }).dst = group.ip;
  const res = await e.probe([ip, ns], undefined, (v) => {
    const na = v.icmp6;
    return na !== undefined && na.type === ICMP6_TYPE.NEIGHBOR_ADVERT && na.addrAt(ICMP6.TARGET) === ipv6At(target, 0);
  }, timeoutMs, group.mac);
  if (!res.reply) return null;
  return targetLinkAddress(res.reply.view.icmp6!) ?? (res.reply.view.eth ? res.reply.view.eth.src : null);
}

/** The target link-layer address option (type 2) of a neighbour advertisement. */
function targetLinkAddress(na: { u8At(o: number): number }): string | null {
  for (let o = ICMP6.TARGET + 16; na.u8At(o + 1) > 0; o += na.u8At(o + 1) * 8) {
    if (na.u8At(o) === 2 && na.u8At(o + 7) >= 0) {
      const b: string[] = [];
      for (let k = 2; k < 8; k++) b.push(na.u8At(o + k).toString(16).padStart(2, '0'));
      return b.join(':');
    }
  }
  return null;
}

/** A sysctl of the current network namespace is set (non-zero). */
function sysctlOn(name: string): boolean {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim() !== '0';
  } catch {
    return false;
  }
}

/**
 * Why the kernel will drop what we inject on lo, or null. Frames sent through a packet socket have
 * no route attached, so IPv4 input routes them like foreign traffic: a source that is one of our
 * own addresses is a martian unless accept_local is set, and 127.0.0.0/8 needs route_localnet.
 * IPv6 accepts them on lo.
 */
function loopbackRefusal(r: Route): string | null {
  if (r.family !== 4 || !r.local) return null;
  const on = (k: string): boolean => sysctlOn(`net.ipv4.conf.all.${k}`) || sysctlOn(`net.ipv4.conf.${r.iface.name}.${k}`);
  const need: string[] = [];
  if (!on('accept_local')) need.push(`net.ipv4.conf.${r.iface.name}.accept_local=1`);
  if (r.dst.startsWith('127.') && !on('route_localnet')) need.push(`net.ipv4.conf.${r.iface.name}.route_localnet=1`);
  if (need.length === 0) return null;
  return `${r.dst} is local: the kernel drops IPv4 frames injected on ${r.iface.name} from its own address (martian source) unless ${need.join(' and ')}`;
}

export interface OpenPathOptions {
  /** pcap filter for the replies the command expects; ARP (IPv4) or ICMPv6 (IPv6) is added for next-hop resolution. */
  filter: string;
  /** -I: the interface to leave by. */
  iface?: string;
  /** A source address to use instead of the kernel's choice. */
  src?: string;
  /** How long to wait for the next hop's answer (default 1000 ms). */
  resolveMs?: number;
  /**
   * Return even when the next hop does not answer (engine.nextHopMac stays null): the caller
   * reports each probe as the kernel would (host unreachable) and may solicit again.
   */
  allowUnresolved?: boolean;
}

export interface ProbePath {
  route: Route;
  engine: ProbeEngine;
}

/**
 * Routes to dst, opens the egress interface with the engine and finds the next hop's MAC. Throws
 * PathError (no route, next hop does not answer), LiveCaptureError (no permission, no cap) or
 * ProbeError (unsupported link).
 */
export async function openPath(dst: { address: string; family: Family }, o: OpenPathOptions): Promise<ProbePath> {
  const route = routeTo(dst.address, dst.family, o.iface, o.src);
  const refused = loopbackRefusal(route);
  if (refused !== null) throw new PathError(refused);
  // Loopback traffic to a local address is captured on lo.
  const resolve = needsResolution(route);
  const extra = resolve ? (route.family === 4 ? 'arp' : 'icmp6') : '';
  const filter = o.filter && extra ? `(${o.filter}) or ${extra}` : o.filter || extra;
  const engine = new ProbeEngine(route, filter);
  if (!engine.ethernet) return { route, engine };
  if (!resolve) {
    // Loopback frames carry zero MACs; a NOARP or point-to-point Ethernet link takes broadcasts.
    engine.nextHopMac = route.local || route.iface.flags.includes('LOOPBACK') ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff';
    return { route, engine };
  }
  const hop = nextHop(route);
  const mac = (await solicit(engine, hop, o.resolveMs ?? 1000)) ?? neighbourMac(hop, route.iface.name);
  if (mac === null) {
    if (o.allowUnresolved) return { route, engine };
    engine.close();
    throw new PathError(`${hop}: no answer to ARP/neighbour solicitation on ${route.iface.name} (next hop unreachable)`);
  }
  engine.nextHopMac = mac;
  return { route, engine };
}

