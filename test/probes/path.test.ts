/**
 * The probe engine and the path to a host. Without privileges: frames built by the encoders and
 * decoded again, the reply matching view (an ICMP error's quoted probe), iputils' texts. In the
 * namespace topology (root): routes, sources and next-hop MACs as the namespaces really have
 * them, found by our own ARP and neighbour solicitation (seen by tcpdump on the far host) or
 * from the kernel's neighbour table.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasTool } from '../conformance/corpus.js';
import { startListening, stop, sleep } from '../capture/netns.js';
import '../../dissectors/index.js';
import { decodeFrame, encodeStack, makeLayer } from '../../src/core/dissector.js';
import { ethernet } from '../../dissectors/ethernet.js';
import { arp, ARPOP } from '../../dissectors/arp.js';
import { ipv4, IP4_FLAG_DF } from '../../dissectors/ipv4.js';
import { ipv6 } from '../../dissectors/ipv6.js';
import { icmp, ICMP_ECHO, ICMP_UNREACH } from '../../dissectors/icmp.js';
import { icmpv6 } from '../../dissectors/icmpv6.js';
import { udp } from '../../dissectors/udp.js';
import { viewOf, formatText, ipv4Number } from '../../src/probes/engine.js';
import { icmpErrorText, icmpv6ErrorText, rttText } from '../../src/probes/ping.js';
import { buildTopology, topologyUnavailable, distDir, ADDR, CLIENT_IF, type Topology } from './topology.js';

function frame(data: Uint8Array) {
  return { number: 1, linkType: 1, tsSec: 0, tsNsec: 0, capLen: data.length, origLen: data.length, data, ifIndex: 0 };
}

describe('frames built by the encoders, replies matched through viewOf', () => {
  it('an ICMP net unreachable quoting our echo request: the quoted ident and seq are found', () => {
    const probeIp = makeLayer(ipv4, { src: ipv4Number('10.81.1.2'), dst: ipv4Number('10.81.50.1'), ttl: 64, id: 7, flagsFrag: IP4_FLAG_DF });
    const probe = encodeStack([probeIp, makeLayer(icmp, { type: ICMP_ECHO, ident: 0x1234, seq: 5 })], new Uint8Array(56));
    const err = encodeStack([
      makeLayer(ethernet, { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }),
      makeLayer(ipv4, { src: ipv4Number('10.81.1.1'), dst: ipv4Number('10.81.1.2'), ttl: 64 }),
      makeLayer(icmp, { type: ICMP_UNREACH, code: 0 }),
    ], probe.subarray(0, 28));
    const p = decodeFrame(frame(err));
    const v = viewOf(p);
    expect(v.icmp?.type).toBe(3);
    expect(v.quoted?.icmp?.ident).toBe(0x1234);
    expect(v.quoted?.icmp?.seq).toBe(5);
    expect(v.quoted?.ip?.dstAddr).toBe('10.81.50.1');
    expect(icmpErrorText(v.icmp!)).toBe('Destination Net Unreachable');
    expect(formatText(p)).toBe('00:00:00.000000 IP 10.81.1.1 > 10.81.1.2: ICMP net 10.81.50.1 unreachable, length 36');
  });

  it('an ARP request as arping builds it (target MAC = the frame\'s destination) prints as tcpdump prints it', () => {
    const req = encodeStack([
      makeLayer(ethernet, { src: '02:00:00:00:00:01', dst: 'ff:ff:ff:ff:ff:ff' }),
      makeLayer(arp, { op: ARPOP.REQUEST, senderMac: '02:00:00:00:00:01', senderIp: '10.81.4.1', targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: '10.81.4.11' }),
    ]);
    expect(req.length).toBe(42);
    const v = viewOf(decodeFrame(frame(req)));
    expect(v.arp?.targetIp).toBe('10.81.4.11');
    expect(formatText(decodeFrame(frame(req)), { e: true })).toBe(
      '00:00:00.000000 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.81.4.11 (ff:ff:ff:ff:ff:ff) tell 10.81.4.1, length 28');
  });

  it('an ICMPv6 error quoting a UDP probe: the quoted ports are found', () => {
    const ip6 = (src: string, dst: string) => makeLayer(ipv6, { src, dst, hlim: 64 });
    const probe = encodeStack([ip6('fd81:1::2', 'fd81:3::2'), makeLayer(udp, { srcPort: 40000, dstPort: 33434 })], new Uint8Array(12));
    const err = encodeStack([ip6('fd81:1::1', 'fd81:1::2'), makeLayer(icmpv6, { type: 3, code: 0, body: new Uint8Array(4) })], probe);
    const v = viewOf(decodeFrame({ ...frame(err), linkType: 101 }));
    expect(v.icmp6?.type).toBe(3);
    expect(v.quoted?.udp?.dstPort).toBe(33434);
    expect(v.quoted?.ip?.dstAddr).toBe('fd81:3::2');
    expect(icmpv6ErrorText(v.icmp6!)).toBe('Time exceeded: Hop limit');
  });

  it('iputils\' texts: RTT precision, ICMP error names', () => {
    expect([58, 999, 1118, 9994, 11691, 99949, 123456].map(rttText)).toEqual(['0.058', '0.999', '1.12', '9.99', '11.7', '99.9', '123']);
    const m = (type: number, code: number) => makeLayer(icmp, { type, code });
    expect(icmpErrorText(m(3, 13))).toBe('Packet filtered');
    expect(icmpErrorText(m(11, 0))).toBe('Time to live exceeded');
    expect(icmpv6ErrorText(makeLayer(icmpv6, { type: 1, code: 1 }))).toBe('Destination unreachable: Administratively prohibited');
  });
});

const why = topologyUnavailable() ?? (hasTool('tcpdump') ? null : 'tcpdump not installed');
if (why !== null) console.log(`path tests in namespaces skipped: ${why}`);

/** Runs openPath in the client namespace (the engine opens interfaces of the namespace it runs in). */
function openPathIn(t: Topology, host: string, extra = ''): { route?: Record<string, unknown>; mac?: string | null; error?: string } {
  const mod = (p: string): string => JSON.stringify(pathToFileURL(path.join(distDir, p)).href);
  const script = `
    const { openPath, resolveHost } = await import(${mod('src/probes/path.js')});
    try {
      const p = await openPath(await resolveHost(${JSON.stringify(host)}), { filter: 'icmp or icmp6', resolveMs: 500 ${extra} });
      console.log(JSON.stringify({ route: p.route, mac: p.engine.nextHopMac }));
      p.engine.close();
    } catch (e) { console.log(JSON.stringify({ error: e.name + ': ' + e.message })); }`;
  const r = t.exec(t.ns.client, [process.execPath, '--input-type=module', '-e', script], 20000);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim()) as ReturnType<typeof openPathIn>;
}

describe.skipIf(why !== null)('the path to a host, in the namespace topology', () => {
  let t: Topology;
  const macOf = (ns: string, dev: string): string => (JSON.parse(t.exec(ns, ['ip', '-j', 'link', 'show', dev]).stdout) as Array<{ address: string }>)[0].address;
  beforeAll(async () => { t = await buildTopology(); });
  afterAll(() => t?.close());

  it('through the routers: egress c0, our address, r1 as gateway, r1\'s MAC by our ARP', () => {
    const r = openPathIn(t, ADDR.server);
    expect(r.route).toMatchObject({ family: 4, dst: ADDR.server, src: ADDR.client, gateway: ADDR.r1, local: false, iface: { name: CLIENT_IF.up } });
    expect(r.mac).toBe(macOf(t.ns.r1, 'r1a'));
    const r6 = openPathIn(t, ADDR.server6);
    expect(r6.route).toMatchObject({ family: 6, src: ADDR.client6, gateway: ADDR.r16 });
    expect(r6.mac).toBe(macOf(t.ns.r1, 'r1a'));
  });

  it('on the LAN: no gateway, the host\'s own MAC (ARP and neighbour solicitation), seen by tcpdump on the host', async () => {
    const td = await startListening(t.ns.h1, ['tcpdump', '-Z', 'root', '-n', '-l', '-i', 'e0', 'arp or icmp6']);
    const r = openPathIn(t, ADDR.h1);
    const r6 = openPathIn(t, ADDR.h16);
    await sleep(300);
    await stop(td);
    expect(r.route).toMatchObject({ gateway: null, src: ADDR.clientLan, iface: { name: CLIENT_IF.lan } });
    expect(r.mac).toBe(macOf(t.ns.h1, 'e0'));
    expect(r6.mac).toBe(macOf(t.ns.h1, 'e0'));
    expect(td.stdout).toMatch(new RegExp(`ARP, Request who-has ${ADDR.h1.replaceAll('.', '\\.')} tell ${ADDR.clientLan.replaceAll('.', '\\.')}, length 28`));
    expect(td.stdout).toContain(`${ADDR.clientLan6} > ff02::1:ff00:11: ICMP6, neighbor solicitation, who has ${ADDR.h16}, length 32`);
  });

  it('nobody answers: a one-line PathError; a neighbour-table entry is the fallback', () => {
    expect(openPathIn(t, ADDR.lanNoHost).error).toMatch(/^PathError: 10\.81\.4\.99: no answer to ARP/);
    t.exec(t.ns.client, ['ip', 'neigh', 'replace', '10.81.4.98', 'lladdr', '02:00:00:00:04:98', 'dev', CLIENT_IF.lan, 'nud', 'permanent']);
    expect(openPathIn(t, '10.81.4.98').mac).toBe('02:00:00:00:04:98');
  });

  it('a local address goes through lo with zero MACs (IPv6), -I picks the interface', () => {
    const r = openPathIn(t, ADDR.client6);
    expect(r.route).toMatchObject({ local: true, iface: { name: 'lo' } });
    expect(r.mac).toBe('00:00:00:00:00:00');
    expect(openPathIn(t, ADDR.h2, `, iface: '${CLIENT_IF.lan}'`).route).toMatchObject({ iface: { name: CLIENT_IF.lan } });
  });

  it('no route: the kernel\'s reason', () => {
    t.exec(t.ns.client, ['ip', 'route', 'add', 'unreachable', '10.99.0.0/16']);
    expect(openPathIn(t, '10.99.0.1').error).toBe('PathError: No route to host');
  });
});
