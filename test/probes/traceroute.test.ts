/**
 * wirescope traceroute: the trace logic against a simulated path (replies built with the encoders,
 * so the hop lines are exact), then the command beside traceroute(8) in the namespace topology
 * (test/probes/topology.ts): the same hops in the same order, the destination reached, the same
 * annotations, for UDP, -I and -T, IPv4 and IPv6.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../conformance/corpus.js';
import { defaultTraceOptions, probeText, traceHeader, Traceroute, type TraceOptions, type TraceProbe } from '../../src/probes/traceroute.js';
import { Ipv6Layer } from '../../dissectors/ipv6.js';
import { TH } from '../../dissectors/tcp.js';
import { echoReply, FakeSender, icmpError, ipMaker, tcpAnswer, type Sent } from './probe-helpers.js';
import { ADDR, buildTopology, PORTS, topologyUnavailable, wirescope, type Topology } from './topology.js';

interface PathModel {
  /** Routers in order (hop 1, 2 ...); the destination follows them. */
  routers: string[];
  dst: string;
  /** Hops (1-based) that never answer. */
  silent?: number[];
  /** From this hop (or from TTL fromTtl) on, the router at `hop` answers with this ICMP error instead. */
  unreach?: { hop: number; type: number; code: number; fromTtl?: number };
  /** The destination's TCP answer to a SYN (default RST). */
  tcpFlags?: number;
  /** Routers that answer from a second address on every second probe. */
  alternate?: Record<number, string>;
}

const v6 = (a: string): boolean => a.includes(':');

/** The replies a path model gives; round trip 0.125 ms per hop. */
function answers(m: PathModel): (s: Sent) => { bytes: Uint8Array; rttMs: number } | null {
  let count = 0;
  return (s) => {
    count++;
    const ip = s.view.ip!;
    const ttl = ip instanceof Ipv6Layer ? ip.hlim : ip.ttl;
    const rttMs = 0.125 * Math.min(ttl, m.routers.length + 1);
    const u = m.unreach;
    if (u !== undefined && ttl >= (u.fromTtl ?? u.hop)) return { bytes: icmpError(m.routers[u.hop - 1], s.bytes, u.type, u.code), rttMs: 0.125 * u.hop };
    if (m.silent?.includes(ttl)) return null;
    if (ttl <= m.routers.length) {
      const alt = m.alternate?.[ttl];
      const from = alt !== undefined && count % 2 === 0 ? alt : m.routers[ttl - 1];
      return { bytes: icmpError(from, s.bytes, v6(from) ? 3 : 11, 0), rttMs };
    }
    if (s.view.udp) return { bytes: icmpError(m.dst, s.bytes, v6(m.dst) ? 1 : 3, v6(m.dst) ? 4 : 3), rttMs };
    if (s.view.tcp) return { bytes: tcpAnswer(s.bytes, m.tcpFlags ?? (TH.RST | TH.ACK), { seq: 1000, window: 64240 }), rttMs };
    return { bytes: echoReply(s.bytes), rttMs };
  };
}

/** Runs a trace over the model; the hop lines as traceroute -n prints them, and what was sent. */
async function trace(m: PathModel, o: Partial<TraceOptions> = {}, src = v6(m.dst) ? 'fd00:1::2' : '10.0.1.2'): Promise<{ text: string; sender: FakeSender; probes: readonly TraceProbe[] }> {
  const sender = new FakeSender(ipMaker(src, m.dst), answers(m));
  let text = '';
  // Without HERE/NEAR factors: a wait scaled from the simulated round trips would race the real clock.
  const tr = new Traceroute(sender, src, m.dst, { ...defaultTraceOptions, hereFactor: 0, nearFactor: 0, ...o }, {
    probe(pb, _i, hop) { text += probeText(pb, hop, true, null); },
  });
  sender.deliver = (v, at) => tr.onFrame(v, at);
  const end = await tr.run();
  return { text: text + '\n', sender, probes: tr.result.slice(0, end) };
}

const R = ['10.0.1.1', '10.0.2.1'];

describe('traceroute over a simulated path', () => {
  it('UDP: one line per hop, three times each, ends at the destination\'s port unreachable', async () => {
    const { text, sender } = await trace({ routers: R, dst: '10.0.3.2' });
    expect(text).toBe(
      '\n 1  10.0.1.1  0.125 ms  0.125 ms  0.125 ms' +
      '\n 2  10.0.2.1  0.250 ms  0.250 ms  0.250 ms' +
      '\n 3  10.0.3.2  0.375 ms  0.375 ms  0.375 ms\n');
    // Probes: destination ports from 33434 up, TTLs 1,1,1,2,...; probes past the destination may go out in parallel.
    const first9 = sender.sent.slice(0, 9);
    expect(first9.map((s) => s.view.udp!.dstPort)).toEqual([33434, 33435, 33436, 33437, 33438, 33439, 33440, 33441, 33442]);
    expect(first9.map((s) => (s.view.ip as { ttl: number }).ttl)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('silence: "*" per unanswered probe, after the wait (-w 0.05: no HERE/NEAR factors)', async () => {
    const { text } = await trace({ routers: R, dst: '10.0.3.2', silent: [2] }, { waitSecs: 0.05, hereFactor: 0, nearFactor: 0 });
    expect(text).toBe(
      '\n 1  10.0.1.1  0.125 ms  0.125 ms  0.125 ms' +
      '\n 2  * * *' +
      '\n 3  10.0.3.2  0.375 ms  0.375 ms  0.375 ms\n');
  });

  it('an unreachable ends the trace at its hop with the annotation: !H, !N, !X, !P', async () => {
    const cases: Array<[number, string]> = [[1, '!H'], [0, '!N'], [13, '!X'], [2, '!P']];
    for (const [code, ann] of cases) {
      const { text } = await trace({ routers: R, dst: '10.0.3.2', unreach: { hop: 2, type: 3, code } });
      expect(text).toBe(`\n 1  10.0.1.1  0.125 ms  0.125 ms  0.125 ms\n 2  10.0.2.1  0.250 ms ${ann}  0.250 ms ${ann}  0.250 ms ${ann}\n`);
    }
  });

  it('an unreachable that answers only later probes is moved back to the silent hop (check_expired)', async () => {
    // r2 drops the TTL-3 probes and answers those sent after them with !H: traceroute puts the
    // answers where the silence was, since r2 was already seen at hop 2.
    const { text } = await trace({ routers: R, dst: '10.0.3.2', silent: [3], unreach: { hop: 2, type: 3, code: 1, fromTtl: 4 } },
      { waitSecs: 0.05, hereFactor: 0, nearFactor: 0 });
    expect(text).toBe(
      '\n 1  10.0.1.1  0.125 ms  0.125 ms  0.125 ms' +
      '\n 2  10.0.2.1  0.250 ms  0.250 ms  0.250 ms' +
      '\n 3  10.0.2.1  0.250 ms !H  0.250 ms !H  0.250 ms !H\n');
  });

  it('-I: echo requests with the process id and sequence 1, 2, 3 ...; the echo reply ends the trace', async () => {
    const { text, sender } = await trace({ routers: R, dst: '10.0.3.2' }, { method: 'icmp' });
    expect(text).toBe(
      '\n 1  10.0.1.1  0.125 ms  0.125 ms  0.125 ms' +
      '\n 2  10.0.2.1  0.250 ms  0.250 ms  0.250 ms' +
      '\n 3  10.0.3.2  0.375 ms  0.375 ms  0.375 ms\n');
    expect(sender.sent.slice(0, 4).map((s) => [s.view.icmp!.type, s.view.icmp!.ident, s.view.icmp!.seq]))
      .toEqual([1, 2, 3, 4].map((seq) => [8, process.pid & 0xffff, seq]));
  });

  it('-T -p 443: SYNs to port 443 from distinct source ports; a RST or a SYN-ACK from the destination ends it', async () => {
    for (const flags of [TH.RST | TH.ACK, TH.SYN | TH.ACK]) {
      const { text, sender } = await trace({ routers: R, dst: '10.0.3.2', tcpFlags: flags }, { method: 'tcp', port: 443 });
      expect(text.split('\n')[3]).toBe(' 3  10.0.3.2  0.375 ms  0.375 ms  0.375 ms');
      const syns = sender.sent.map((s) => s.view.tcp!);
      expect(syns.every((t) => t.dstPort === 443 && t.flags === TH.SYN)).toBe(true);
      expect(new Set(syns.map((t) => t.srcPort)).size).toBe(syns.length);
    }
  });

  it('IPv6: hop limits, ICMPv6 time exceeded, port unreachable from the destination; -I with ICMPv6 echo', async () => {
    const m = { routers: ['fd00:1::1', 'fd00:2::1'], dst: 'fd00:3::2' };
    const expected = '\n 1  fd00:1::1  0.125 ms  0.125 ms  0.125 ms\n 2  fd00:2::1  0.250 ms  0.250 ms  0.250 ms\n 3  fd00:3::2  0.375 ms  0.375 ms  0.375 ms\n';
    expect((await trace(m)).text).toBe(expected);
    expect((await trace(m, { method: 'icmp' })).text).toBe(expected);
    expect((await trace(m, { method: 'tcp' })).text).toBe(expected);
    const u = await trace({ ...m, unreach: { hop: 2, type: 1, code: 1 } });
    expect(u.text).toBe('\n 1  fd00:1::1  0.125 ms  0.125 ms  0.125 ms\n 2  fd00:2::1  0.250 ms !X  0.250 ms !X  0.250 ms !X\n');
  });

  it('a hop answering from two addresses prints the address again when it changes', async () => {
    const { text } = await trace({ routers: R, dst: '10.0.3.2', alternate: { 2: '10.0.2.9' } }, { simProbes: 1 });
    expect(text.split('\n')[2]).toBe(' 2  10.0.2.9  0.250 ms 10.0.2.1  0.250 ms 10.0.2.9  0.250 ms');
  });

  it('-f 2 -q 1 starts at hop 2 with one probe; -m 2 stops at hop 2 short of the destination', async () => {
    expect((await trace({ routers: R, dst: '10.0.3.2' }, { firstTtl: 2, queries: 1 })).text).toBe('\n 2  10.0.2.1  0.250 ms\n 3  10.0.3.2  0.375 ms\n');
    const far = await trace({ routers: [...R, '10.0.3.1', '10.0.4.1'], dst: '10.0.5.2' }, { maxTtl: 2 });
    expect(far.text).toBe('\n 1  10.0.1.1  0.125 ms  0.125 ms  0.125 ms\n 2  10.0.2.1  0.250 ms  0.250 ms  0.250 ms\n');
  });

  it('the header and a resolved name as traceroute prints them', () => {
    expect(traceHeader('server', '10.0.3.2', 30, 60)).toBe('traceroute to server (10.0.3.2), 30 hops max, 60 byte packets');
    const pb: TraceProbe = {
      ttl: 12, key: 1, sendAt: 10, recvAt: 10.5, from: '10.0.1.1', err: '', final: false, done: true, recvTtl: 64, icmpType: 11, icmpCode: 0,
    };
    expect(probeText(pb, [pb], false, 'gw.example')).toBe('\n12  gw.example (10.0.1.1)  0.500 ms');
    expect(probeText(pb, [pb], false, null)).toBe('\n12  10.0.1.1 (10.0.1.1)  0.500 ms');
    expect(probeText({ ...pb, from: null, recvAt: 0 }, [pb, pb], true, null)).toBe(' *');
  });
});

// ------------------------------------------------------------------------------------------------
// Beside traceroute(8) in the namespace topology.

const unavailable = topologyUnavailable() ?? (hasTool('traceroute') ? null : 'traceroute(8) not installed');
if (unavailable) console.log(`traceroute topology tests skipped: ${unavailable}`);

interface Hop {
  hop: number;
  /** Answering addresses in order of appearance. */
  addrs: string[];
  stars: number;
  annotations: string[];
}

/** traceroute -n's hop lines as hops. */
function parseTrace(out: string): Hop[] {
  const hops: Hop[] = [];
  for (const line of out.split('\n').slice(1)) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const h: Hop = { hop: Number(m[1]), addrs: [], stars: 0, annotations: [] };
    for (const tok of m[2].split(/\s+/)) {
      if (tok === '*') h.stars++;
      else if (tok.startsWith('!')) { if (!h.annotations.includes(tok)) h.annotations.push(tok); }
      else if (/^[0-9a-f:.]+$/i.test(tok) && (tok.includes('.') || tok.includes(':')) && !/^\d+\.\d+$/.test(tok)) {
        if (!h.addrs.includes(tok)) h.addrs.push(tok);
      }
    }
    hops.push(h);
  }
  return hops;
}

describe.skipIf(unavailable !== null)('wirescope traceroute beside traceroute(8) in the namespace topology', () => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await buildTopology();
    // Routers rate-limit ICMP errors (1 per second per source by default): two traces back to back would lose answers.
    for (const n of [topo.ns.r1, topo.ns.r2, topo.ns.server]) {
      topo.exec(n, ['sysctl', '-q', '-w', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
    }
  }, 60000);
  afterAll(() => topo?.close());

  /** Both traces with the same options (each after pauseMs); their hop lists, after checking both exited 0. */
  function both(args: string[], pauseMs = 0): { ref: Hop[]; ours: Hop[]; refOut: string; ourOut: string } {
    const pause = (): void => { if (pauseMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs); };
    pause();
    const ref = topo.exec(topo.ns.client, ['traceroute', '-n', ...args], 60000);
    pause();
    const ours = topo.exec(topo.ns.client, wirescope('traceroute', '-n', ...args), 60000);
    expect(ref.status, ref.stderr).toBe(0);
    expect(ours.status, ours.stderr).toBe(0);
    // The first line (to stdout, as traceroute prints it) is the same.
    expect(ours.stdout.split('\n')[0]).toBe(ref.stdout.split('\n')[0]);
    return { ref: parseTrace(ref.stdout), ours: parseTrace(ours.stdout), refOut: ref.stdout, ourOut: ours.stdout };
  }

  const hopsOf = (h: Hop[]): Array<[number, string[], string[]]> => h.map((x) => [x.hop, x.addrs, x.annotations]);

  const cases: Array<[string, string[], string[]]> = [
    ['UDP', [ADDR.server], [ADDR.r1, ADDR.r2, ADDR.server]],
    ['-I (ICMP echo)', ['-I', ADDR.server], [ADDR.r1, ADDR.r2, ADDR.server]],
    ['-T (TCP SYN to the open port)', ['-T', '-p', String(PORTS.open), ADDR.server], [ADDR.r1, ADDR.r2, ADDR.server]],
    ['-T to the closed port (RST)', ['-T', '-p', String(PORTS.closed), ADDR.server], [ADDR.r1, ADDR.r2, ADDR.server]],
    ['IPv6 UDP', ['-6', ADDR.server6], [ADDR.r16, ADDR.r26, ADDR.server6]],
    ['IPv6 -I', ['-6', '-I', ADDR.server6], [ADDR.r16, ADDR.r26, ADDR.server6]],
    ['IPv6 -T', ['-6', '-T', '-p', String(PORTS.open), ADDR.server6], [ADDR.r16, ADDR.r26, ADDR.server6]],
  ];
  for (const [name, args, path] of cases) {
    it(`${name}: the same hops in the same order, destination reached`, () => {
      // -w 5 alone: each probe waits up to 5 s. The default HERE/NEAR factors (a few times the
      // round trip, 50 ms at least here) turn a reply into '*' when a loaded machine delays the
      // JavaScript that stamps it; they are tested against the simulated path above.
      const { ref, ours, refOut, ourOut } = both(['-w', '5', ...args]);
      expect(hopsOf(ours), `traceroute:\n${refOut}\nwirescope:\n${ourOut}`).toEqual(hopsOf(ref));
      expect(ours.map((h) => h.addrs[0])).toEqual(path);
      expect(ours.every((h) => h.stars === 0)).toBe(true);
    }, 60000);
  }

  const errors: Array<[string, string[], string]> = [
    ['no route at r1: !N', [ADDR.noRouteNet], '!N'],
    ['r1\'s unreachable route: !H', [ADDR.unreachableNet], '!H'],
    ['r1\'s prohibit route: !X', [ADDR.prohibitedNet], '!X'],
    ['IPv6 no route at r1: !N', ['-6', ADDR.noRouteNet6], '!N'],
    ['IPv6 prohibit route: !X', ['-6', ADDR.prohibitedNet6], '!X'],
  ];
  for (const [name, args, ann] of errors) {
    it(`ICMP unreachable recognised, ${name}, the trace ends there`, () => {
      // One probe, a second after any other ICMP from r1: its errors about its routes are limited
      // per destination to one a second (net.ipv4.route.error_cost, not settable in a namespace),
      // in a bucket each ICMP message it sends empties when icmp_ratelimit is 0.
      const { ref, ours, refOut, ourOut } = both(['-q', '1', '-N', '1', ...args], 1100);
      expect(hopsOf(ours), `traceroute:\n${refOut}\nwirescope:\n${ourOut}`).toEqual(hopsOf(ref));
      expect(ours.at(-1)!.annotations).toEqual([ann]);
    }, 60000);
  }

  for (const [name, addr] of [['IPv4', ADDR.serverLinkNoHost], ['IPv6', ADDR.serverLinkNoHost6]]) {
    it(`${name}: no host at the address on the server's link: r2's host unreachable after its ARP/NS fails, !H`, () => {
      // -w 5 alone (no HERE/NEAR factors) waits out r2's three seconds of address resolution.
      const { ref, ours, refOut, ourOut } = both(['-w', '5', ...(name === 'IPv6' ? ['-6'] : []), addr]);
      expect(hopsOf(ours), `traceroute:\n${refOut}\nwirescope:\n${ourOut}`).toEqual(hopsOf(ref));
      expect(ours.at(-1)).toMatchObject({ hop: 3, addrs: [name === 'IPv6' ? ADDR.r26 : ADDR.r2], annotations: ['!H'] });
    }, 60000);
  }

  it('-T to the nftables-dropped port: the routers, then "* * *" up to -m', () => {
    const { ref, ours } = both(['-T', '-p', String(PORTS.dropped), '-m', '4', '-w', '1', ADDR.server]);
    expect(hopsOf(ours)).toEqual(hopsOf(ref));
    expect(ours.map((h) => h.stars)).toEqual([0, 0, 3, 3]);
  }, 60000);

  it('--json: one object per probe with its reply, then a summary saying the destination was reached', () => {
    const r = topo.exec(topo.ns.client, wirescope('traceroute', '-n', '--json', '-q', '2', ADDR.server), 60000);
    expect(r.status, r.stderr).toBe(0);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.slice(0, -1).map((o) => [o.type, o.hop, (o.reply as { from: string }).from])).toEqual([
      ['probe', 1, ADDR.r1], ['probe', 1, ADDR.r1], ['probe', 2, ADDR.r2], ['probe', 2, ADDR.r2], ['probe', 3, ADDR.server], ['probe', 3, ADDR.server],
    ]);
    expect(objs.at(-1)).toMatchObject({ type: 'summary', reached: true, hops: 3, address: ADDR.server });
  }, 60000);

  it('without root or CAP_NET_RAW: one line saying what is needed, exit 2', () => {
    if (!hasTool('setpriv')) return;
    const r = topo.exec(topo.ns.client, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...wirescope('traceroute', '-n', ADDR.server)]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/root or .*CAP_NET_RAW/);
  }, 60000);
});
