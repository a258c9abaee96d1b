/**
 * wirescope handshake: the SYN probe and --full against simulated peers (answers built with the
 * encoders: exact lines), then beside hping3 -S in the namespace topology (test/probes/topology.ts)
 * on the open, closed, nftables-dropped and ICMP-rejecting ports: the same reply lines (but the
 * round trip), the same statistics counts, the same verdicts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../conformance/corpus.js';
import {
  Handshake, handshakeHeader, replyLine, statisticsBlock, verdictLine, type HandshakeOptions, type HandshakeProbe,
  type HandshakeReply, type FullStep,
} from '../../src/probes/handshake.js';
import { TCPOPT, TH } from '../../dissectors/tcp.js';
import type { ProbeFrame } from '../../src/probes/engine.js';
import { FakeSender, icmpError, ipMaker, tcpAnswer, type Sent } from './probe-helpers.js';
import { ADDR, buildTopology, PORTS, topologyUnavailable, wirescope, type Topology } from './topology.js';

const SRC = '10.0.1.2', DST = '10.0.3.2';

/** Runs the probe against `answer`; the printed reply lines (-n), the steps, the summary and what was sent. */
async function probe(answer: (s: Sent, n: number) => { bytes: Uint8Array; rttMs: number } | null, o: Partial<HandshakeOptions> = {}, src = SRC, dst = DST) {
  let n = 0;
  const sender = new FakeSender(ipMaker(src, dst), (s) => answer(s, n++));
  const lines: string[] = [];
  const steps: FullStep[] = [];
  const opts: HandshakeOptions = { port: 80, count: 2, intervalMs: 1, sport: 40000, lingerMs: 50, full: false, ...o };
  const hs = new Handshake(sender, src, dst, opts, {
    reply(pb: HandshakeProbe, r: HandshakeReply) { lines.push(replyLine(pb, r, opts.port, true, null)); },
    step(_pb, s) { steps.push(s); },
  });
  sender.deliver = (view, at, packet) => hs.onFrame({ view, at, packet, bytes: new Uint8Array(0) } as ProbeFrame);
  const summary = await hs.run();
  return { lines, steps, summary, sender, probes: hs.probes };
}

const synAck = (s: Sent): { bytes: Uint8Array; rttMs: number } => ({
  bytes: tcpAnswer(s.bytes, TH.SYN | TH.ACK, { seq: 5000, window: 64240, ttl: 62, options: [{ kind: TCPOPT.MSS, value: 1460 }] }), rttMs: 0.2,
});

describe('the SYN probe against simulated answers', () => {
  it('SYN-ACK: open, hping3\'s line with the round trip; wirescope resets the half-open connection', async () => {
    const { lines, summary, sender } = await probe((s) => (s.view.tcp!.flags === TH.SYN ? synAck(s) : null));
    expect(lines).toEqual([
      'len=44 ip=10.0.3.2 ttl=62 DF id=0 sport=80 flags=SA seq=0 win=64240 rtt=0.2 ms',
      'len=44 ip=10.0.3.2 ttl=62 DF id=0 sport=80 flags=SA seq=1 win=64240 rtt=0.2 ms',
    ]);
    expect(summary).toMatchObject({ sent: 2, received: 2, loss: 0, verdict: 'open' });
    expect(statisticsBlock('server', summary)).toBe(
      '\n--- server hping statistic ---\n2 packets transmitted, 2 packets received, 0% packet loss\nround-trip min/avg/max = 0.2/0.2/0.2 ms\n');
    expect(verdictLine(DST, 80, summary)).toBe('10.0.3.2 port 80/tcp open: SYN-ACK from 10.0.3.2');
    // SYN (window 512, source ports 40000, 40001), each SYN-ACK answered by a RST at its acknowledgment number.
    const segs = sender.sent.map((s) => s.view.tcp!);
    const syns = segs.filter((t) => t.flags === TH.SYN);
    expect(syns.map((t) => [t.srcPort, t.dstPort, t.window])).toEqual([[40000, 80, 512], [40001, 80, 512]]);
    const rsts = segs.filter((t) => t.flags === TH.RST);
    expect(rsts.map((t) => [t.srcPort, t.seq])).toEqual(syns.map((t) => [t.srcPort, (t.seq + 1) >>> 0]));
  });

  it('len= counts what was captured from the IP header on, a short frame\'s padding included (hping3\'s ip_size)', async () => {
    const padded = (s: Sent): { bytes: Uint8Array; rttMs: number } => {
      const rst = tcpAnswer(s.bytes, TH.RST | TH.ACK, { ttl: 62 });
      const b = new Uint8Array(rst.length + 6);
      b.set(rst);
      return { bytes: b, rttMs: 0.4 };
    };
    expect((await probe(padded, { count: 1 })).lines).toEqual(['len=46 ip=10.0.3.2 ttl=62 DF id=0 sport=80 flags=RA seq=0 win=0 rtt=0.4 ms']);
  });

  it('RST: closed, no RST sent back', async () => {
    const { lines, summary, sender } = await probe((s) => ({ bytes: tcpAnswer(s.bytes, TH.RST | TH.ACK, { ttl: 62 }), rttMs: 0.4 }), { count: 1 });
    expect(lines).toEqual(['len=40 ip=10.0.3.2 ttl=62 DF id=0 sport=80 flags=RA seq=0 win=0 rtt=0.4 ms']);
    expect(summary.verdict).toBe('closed');
    expect(verdictLine(DST, 80, summary)).toBe('10.0.3.2 port 80/tcp closed: RST from 10.0.3.2');
    expect(sender.sent).toHaveLength(1);
  });

  it('ICMP unreachable: filtered, with the code; hping3 counts it received but times only TCP answers', async () => {
    const { lines, summary } = await probe((s) => ({ bytes: icmpError('10.0.2.1', s.bytes, 3, 13), rttMs: 0.3 }));
    expect(lines).toEqual(['ICMP Packet filtered from ip=10.0.2.1', 'ICMP Packet filtered from ip=10.0.2.1']);
    expect(summary).toMatchObject({ received: 2, loss: 0, verdict: 'filtered', rttMin: 0, rttAvg: 0, rttMax: 0 });
    expect(verdictLine(DST, 80, summary)).toBe('10.0.3.2 port 80/tcp filtered: Packet filtered (ICMP type 3 code 13) from 10.0.2.1');
    const host = await probe((s) => ({ bytes: icmpError('10.0.2.1', s.bytes, 3, 1), rttMs: 0.3 }), { count: 1 });
    expect(host.lines).toEqual(['ICMP Host Unreachable from ip=10.0.2.1']);
  });

  it('silence: filtered/no answer, 100% loss, exit status 1 territory', async () => {
    const { lines, summary } = await probe(() => null);
    expect(lines).toEqual([]);
    expect(summary).toMatchObject({ sent: 2, received: 0, loss: 100, verdict: 'no answer' });
    expect(statisticsBlock('10.0.3.2', summary)).toBe(
      '\n--- 10.0.3.2 hping statistic ---\n2 packets transmitted, 0 packets received, 100% packet loss\nround-trip min/avg/max = 0.0/0.0/0.0 ms\n');
    expect(verdictLine(DST, 80, summary)).toBe('10.0.3.2 port 80/tcp filtered/no answer: no answer to 2 SYNs');
  });

  it('hping3\'s loss: 100 - received*100/sent in integers (1 of 3: 67%)', async () => {
    const { summary } = await probe((s, n) => (n === 0 ? synAck(s) : null), { count: 3 });
    expect(summary).toMatchObject({ sent: 3, received: 1, loss: 67 });
  });

  it('IPv6: the line without IPv4\'s DF and id; header of 60 bytes', async () => {
    const { lines } = await probe((s) => (s.view.tcp!.flags === TH.SYN ? synAck(s) : null), { count: 1 }, 'fd00:1::2', 'fd00:3::2');
    expect(lines).toEqual(['len=64 ip=fd00:3::2 ttl=62 sport=80 flags=SA seq=0 win=64240 rtt=0.2 ms']);
    expect(handshakeHeader('server6', 'c0', 'fd00:3::2')).toBe('HPING server6 (c0 fd00:3::2): S set, 60 headers + 0 data bytes');
    expect(handshakeHeader('server', 'c0', DST)).toBe('HPING server (c0 10.0.3.2): S set, 40 headers + 0 data bytes');
  });

  it('--full: SYN, SYN-ACK, ACK, FIN, the peer\'s ACK and FIN, the last ACK, with the right numbers', async () => {
    let isn = 0;
    const peer = (s: Sent): { bytes: Uint8Array; rttMs: number } | null => {
      const t = s.view.tcp!;
      if (t.flags === TH.SYN) { isn = t.seq; return synAck(s); }
      if (t.flags === (TH.FIN | TH.ACK)) return { bytes: tcpAnswer(s.bytes, TH.FIN | TH.ACK, { seq: 5001, ack: (isn + 2) >>> 0 }), rttMs: 0.2 };
      return null;
    };
    const { steps, sender, lines } = await probe(peer, { count: 1, full: true });
    expect(steps.map((s) => s.step)).toEqual(['syn-ack', 'ack', 'fin', 'fin-acked', 'peer-fin', 'last-ack']);
    expect(lines).toEqual(['len=44 ip=10.0.3.2 ttl=62 DF id=0 sport=80 flags=SA seq=0 win=64240 rtt=0.2 ms']);
    const segs = sender.sent.map((s) => s.view.tcp!).map((t) => [t.flags, t.seq - isn, t.ack - 5000]);
    expect(segs).toEqual([[TH.SYN, 0, -5000], [TH.ACK, 1, 1], [TH.FIN | TH.ACK, 1, 1], [TH.ACK, 2, 2]]);
  });

  it('--full: a RST after our ACK is reported as a reset (what this host\'s kernel causes without --block-kernel-rst)', async () => {
    const peer = (s: Sent): { bytes: Uint8Array; rttMs: number } | null => {
      const t = s.view.tcp!;
      if (t.flags === TH.SYN) return synAck(s);
      if (t.flags === TH.ACK) return { bytes: tcpAnswer(s.bytes, TH.RST, { seq: 5001, ack: 0 }), rttMs: 0.2 };
      return null;
    };
    const { steps } = await probe(peer, { count: 1, full: true });
    expect(steps.map((s) => s.step)).toEqual(['syn-ack', 'ack', 'fin', 'reset']);
  });
});

// ------------------------------------------------------------------------------------------------
// Beside hping3 in the namespace topology.

const unavailable = topologyUnavailable() ?? (hasTool('hping3') ? null : 'hping3 not installed');
if (unavailable) console.log(`handshake topology tests skipped: ${unavailable}`);

/** Reply lines without the round trip (and hping3's per-run source-port-derived nothing else varies). */
function replyLines(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('len=') || l.startsWith('ICMP ') || l.startsWith('TTL 0')).map((l) => l.replace(/ rtt=[\d.]+ ms$/, ''));
}

function verdictOf(lines: string[]): string {
  if (lines.some((l) => l.includes('flags=SA'))) return 'open';
  if (lines.some((l) => l.includes('flags=R'))) return 'closed';
  if (lines.some((l) => l.startsWith('ICMP '))) return 'filtered';
  return 'filtered/no answer';
}

describe.skipIf(unavailable !== null)('wirescope handshake beside hping3 -S in the namespace topology', () => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await buildTopology();
  }, 60000);
  afterAll(() => topo?.close());

  const ports: Array<[string, number, string]> = [
    ['open', PORTS.open, 'open'], ['closed', PORTS.closed, 'closed'], ['nftables-dropped', PORTS.dropped, 'filtered/no answer'],
    ['nftables-rejected (ICMP admin prohibited)', PORTS.rejected, 'filtered'],
  ];
  for (const [name, port, verdict] of ports) {
    it(`${name} port ${port}: the same reply lines, counts and verdict as hping3 -S -c 2`, () => {
      const ref = topo.exec(topo.ns.client, ['hping3', '-n', '-S', '-c', '2', '-p', String(port), ADDR.server], 30000);
      const ours = topo.exec(topo.ns.client, wirescope('handshake', '-n', '-c', '2', ADDR.server, String(port)), 30000);
      const refLines = replyLines(ref.stdout), ourLines = replyLines(ours.stdout);
      expect(ourLines, `hping3:\n${ref.stdout}${ref.stderr}\nwirescope:\n${ours.stdout}${ours.stderr}`).toEqual(refLines);
      expect(verdictOf(refLines)).toBe(verdict);
      expect(ours.stdout).toContain(`${ADDR.server} port ${port}/tcp ${verdict}:`);
      // The counts line of the statistics block (stderr, as hping3 prints it) and the exit status.
      const counts = (s: string): string | undefined => s.split('\n').find((l) => l.includes('packets transmitted'));
      expect(counts(ours.stderr)).toBe(counts(ref.stderr));
      expect(ours.status).toBe(ref.status);
      expect(ours.stdout.split('\n')[0]).toBe(ref.stdout.split('\n')[0]);
    }, 60000);
  }

  it('IPv6 (hping3 has none): open, closed and filtered as over IPv4', () => {
    for (const [port, verdict] of [[PORTS.open, 'open'], [PORTS.closed, 'closed'], [PORTS.rejected, 'filtered']] as const) {
      const r = topo.exec(topo.ns.client, wirescope('handshake', '-n', '-c', '1', ADDR.server6, String(port)), 30000);
      expect(r.stdout, r.stderr).toContain(`${ADDR.server6} port ${port}/tcp ${verdict}:`);
    }
  }, 60000);

  it('--full --block-kernel-rst: a real handshake and close, each step timed; the nftables table is gone afterwards', () => {
    const r = topo.exec(topo.ns.client, wirescope('handshake', '--json', '--full', '--block-kernel-rst', ADDR.server, String(PORTS.open)), 30000);
    expect(r.status, r.stderr).toBe(0);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = objs.filter((o) => o.type === 'step').map((o) => o.step);
    expect(steps).toEqual(['syn-ack', 'ack', 'fin', 'fin-acked', 'peer-fin', 'last-ack']);
    expect(objs.at(-1)).toMatchObject({ type: 'summary', verdict: 'open', transmitted: 1, received: 1 });
    expect(topo.exec(topo.ns.client, ['nft', 'list', 'tables']).stdout).not.toContain('wirescope');
  }, 60000);

  it('--full without the rule: this host\'s kernel resets the connection first, and that is said', () => {
    const r = topo.exec(topo.ns.client, wirescope('handshake', '-n', '--full', ADDR.server, String(PORTS.open)), 30000);
    expect(r.stdout, r.stderr).toMatch(/SYN-ACK received/);
    expect(r.stdout).toMatch(/reset the connection \(this host's kernel RST/);
  }, 60000);

  it('without root or CAP_NET_RAW: one line saying what is needed, exit 2', () => {
    if (!hasTool('setpriv')) return;
    const r = topo.exec(topo.ns.client, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...wirescope('handshake', ADDR.server, '80')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/root or .*CAP_NET_RAW/);
  }, 60000);
});
