/**
 * Name lookups the filter language needs, resolved once at compile time as libpcap does:
 * hosts (/etc/hosts, then the system resolver through getent), /etc/ethers, /etc/networks,
 * /etc/services and /etc/protocols. Tests inject their own databases instead of editing /etc.
 */
import { fs } from '../core/node-fs.js';
import { createRequire } from 'node:module';

export interface NameDb {
  /** Addresses (IPv4 dotted or IPv6 text) for a host name, or null when unknown. */
  host(name: string): string[] | null;
  /** The MAC address for a name (/etc/ethers), or null. */
  ether(name: string): Uint8Array | null;
  /** The network number for a name (/etc/networks), as inet_network() returns it, or null. */
  network(name: string): number | null;
}

/** Lines in the formats of /etc/hosts, /etc/ethers and /etc/networks. */
export interface NameLines {
  hosts?: string[];
  ethers?: string[];
  networks?: string[];
}

function words(line: string): string[] {
  const hash = line.indexOf('#');
  return (hash >= 0 ? line.slice(0, hash) : line).trim().split(/\s+/).filter(Boolean);
}

/** inet_network(): "a", "a.b", "a.b.c" or "a.b.c.d", each part the low-order bits of the result. */
export function inetNetwork(s: string): number | null {
  const parts = s.split('.');
  if (parts.length > 4) return null;
  let v = 0;
  for (const p of parts) {
    const n = /^0[xX][0-9a-fA-F]+$/.test(p) ? parseInt(p, 16) : /^[0-9]+$/.test(p) ? parseInt(p, 10) : NaN;
    if (!(n >= 0 && n <= 255)) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(/[:.-]/);
  let hex: string[];
  if (parts.length === 6) hex = parts;
  else if (parts.length === 3 && parts.every((p) => p.length === 4)) hex = parts.flatMap((p) => [p.slice(0, 2), p.slice(2)]);
  else if (parts.length === 1 && s.length === 12) hex = s.match(/../g)!;
  else return null;
  if (!hex.every((h) => /^[0-9a-fA-F]{1,2}$/.test(h))) return null;
  return Uint8Array.from(hex.map((h) => parseInt(h, 16)));
}

/** A database over the given lines only (no system lookups). Names compare case-insensitively. */
export function nameDbFromLines(lines: NameLines): NameDb {
  const hosts = new Map<string, string[]>();
  for (const line of lines.hosts ?? []) {
    const [addr, ...names] = words(line);
    for (const n of names) {
      const key = n.toLowerCase();
      if (!hosts.has(key)) hosts.set(key, []);
      if (!hosts.get(key)!.includes(addr)) hosts.get(key)!.push(addr);
    }
  }
  const ethers = new Map<string, Uint8Array>();
  for (const line of lines.ethers ?? []) {
    const [mac, name] = words(line);
    const m = mac && parseMac(mac);
    if (m && name && !ethers.has(name.toLowerCase())) ethers.set(name.toLowerCase(), m);
  }
  const networks = new Map<string, number>();
  for (const line of lines.networks ?? []) {
    const [name, num, ...aliases] = words(line);
    const v = num === undefined ? null : inetNetwork(num);
    if (v === null) continue;
    for (const n of [name, ...aliases]) if (!networks.has(n.toLowerCase())) networks.set(n.toLowerCase(), v);
  }
  return {
    host: (n) => hosts.get(n.toLowerCase()) ?? null,
    ether: (n) => ethers.get(n.toLowerCase()) ?? null,
    network: (n) => networks.get(n.toLowerCase()) ?? null,
  };
}

function readLines(path: string): string[] {
  try {
    return fs.readFileSync(path, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** getaddrinfo() through getent, for names /etc/hosts does not have (DNS and other NSS sources). */
function resolve(name: string): string[] | null {
  // Loaded only here, for a name /etc/hosts lacks: node:child_process (with net, dgram and the
  // stream modules under it) costs a run 3-8 ms of start-up, and most filters name no host.
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('getent', ['ahosts', name], { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0 || !r.stdout) return null;
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const addr = words(line)[0];
    if (addr && !out.includes(addr)) out.push(addr);
  }
  return out.length ? out : null;
}

/** The system's databases, read when first needed. */
export function systemNameDb(): NameDb {
  let files: NameDb | null = null;
  const db = (): NameDb =>
    (files ??= nameDbFromLines({ hosts: readLines('/etc/hosts'), ethers: readLines('/etc/ethers'), networks: readLines('/etc/networks') }));
  return {
    host: (n) => db().host(n) ?? resolve(n),
    ether: (n) => db().ether(n),
    network: (n) => db().network(n),
  };
}

/** /etc/services, both ways, per protocol. */
interface Services {
  tcp: Map<string, number>;
  udp: Map<string, number>;
  /** Port to name: the first entry for the port in file order, as tcpdump's tcpport_string/udpport_string find it. */
  tcpNames: Map<number, string>;
  udpNames: Map<number, string>;
}
let services: Services | null = null;
let protocols: Map<string, number> | null = null;

function loadServices(): Services {
  const s: Services = { tcp: new Map(), udp: new Map(), tcpNames: new Map(), udpNames: new Map() };
  for (const line of readLines('/etc/services')) {
    const [name, portProto, ...aliases] = words(line);
    const m = portProto && /^(\d+)\/(tcp|udp)$/.exec(portProto);
    if (!m) continue;
    const port = Number(m[1]);
    const table = s[m[2] as 'tcp' | 'udp'];
    for (const n of [name, ...aliases]) if (!table.has(n)) table.set(n, port);
    const names = m[2] === 'tcp' ? s.tcpNames : s.udpNames;
    if (!names.has(port)) names.set(port, name);
  }
  return s;
}

/** The name /etc/services gives a TCP or UDP port, or null. */
export function portName(proto: 'tcp' | 'udp', port: number): string | null {
  services ??= loadServices();
  return (proto === 'tcp' ? services.tcpNames : services.udpNames).get(port) ?? null;
}

export const PROTO_UNDEF = -1;

/**
 * pcap_nametoport(): the port for a service name, and the protocol it is for (6, 17, or
 * PROTO_UNDEF when TCP and UDP both have it with the same number). Numeric strings are ports.
 */
export function nameToPort(name: string): { port: number; proto: number } | null {
  if (/^[0-9]+$/.test(name)) return { port: Number(name), proto: PROTO_UNDEF };
  services ??= loadServices();
  const tcp = services.tcp.get(name);
  const udp = services.udp.get(name);
  if (tcp !== undefined) return { port: tcp, proto: udp === tcp ? PROTO_UNDEF : 6 };
  if (udp !== undefined) return { port: udp, proto: 17 };
  return null;
}

/** getprotobyname() over /etc/protocols. */
export function nameToProto(name: string): number | null {
  if (!protocols) {
    protocols = new Map();
    for (const line of readLines('/etc/protocols')) {
      const [pname, num, ...aliases] = words(line);
      if (num === undefined || !/^\d+$/.test(num)) continue;
      for (const n of [pname, ...aliases]) if (!protocols.has(n)) protocols.set(n, Number(num));
    }
  }
  return protocols.get(name) ?? null;
}

/** pcap_nametoeproto() and pcap_nametollc(): names for `ether proto`. */
const ETHER_PROTOS: Record<string, number> = {
  pup: 0x0200, xns: 0x0600, ip: 0x0800, ip6: 0x86dd, arp: 0x0806, rarp: 0x8035, sprite: 0x0500,
  mopdl: 0x6001, moprc: 0x6002, decnet: 0x6003, lat: 0x6004, sca: 0x6007, lanbridge: 0x8038,
  decdns: 0x803c, decdts: 0x803e, vexp: 0x805b, vprod: 0x805c, atalk: 0x809b, atalkarp: 0x80f3, aarp: 0x80f3, lldp: 0x88cc, slow: 0x8809,
  loopback: 0x9000,
  iso: 0xfe, stp: 0x42, ipx: 0xe0, netbeui: 0xf0,
};

export function nameToEtherProto(name: string): number | null {
  return ETHER_PROTOS[name] ?? null;
}
