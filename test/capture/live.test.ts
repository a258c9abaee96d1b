/**
 * Live capture on a veth inside two network namespaces made here, next to tcpdump on the same
 * interface at the same time, with real traffic between the namespaces (ARP, ping, an HTTP
 * exchange with curl, UDP). Skipped, with the reason printed, without root, namespaces or cap.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { hasTool } from '../conformance/corpus.js';
import { makeTempDir } from '../pcap/helpers.js';
import {
  liveUnavailable, NetnsPair, startListening, wirescope, tcpdump, stop, sleep, framesOf, hex, makeTraffic, udpFlood, TPACKET_BLOCK_MS,
  type Running,
} from './netns.js';

const why = liveUnavailable() ?? (hasTool('tcpdump') ? null : 'tcpdump not installed');
if (why !== null) console.log(`live capture tests skipped: ${why}`);

/** Time for both capturers to have handed everything to their output after the traffic. */
const SETTLE_MS = TPACKET_BLOCK_MS + 500;

describe.skipIf(why !== null)('live capture in network namespaces', () => {
  let pair: NetnsPair;
  let tmp: { dir: string; cleanup: () => void };
  const file = (name: string): string => path.join(tmp.dir, name);

  beforeAll(() => {
    pair = new NetnsPair();
    tmp = makeTempDir('live');
    // -Z tests write here as another user.
    chmodSync(tmp.dir, 0o777);
  });
  afterAll(() => {
    pair?.close();
    tmp?.cleanup();
  });

  /** wirescope and tcpdump on b's end, both listening before any traffic, stopped after it. */
  async function captureBoth(wsArgs: string[], tdArgs: string[], traffic: () => Promise<void> | void): Promise<{ ws: Running; td: Running; start: number; end: number }> {
    const ws = await startListening(pair.b, wirescope('-i', pair.bIf, ...wsArgs));
    const td = await startListening(pair.b, tcpdump('-i', pair.bIf, ...tdArgs));
    const start = Date.now() / 1000;
    await traffic();
    await sleep(SETTLE_MS);
    const end = Date.now() / 1000;
    await Promise.all([stop(ws), stop(td)]);
    return { ws, td, start, end };
  }

  it('captures the same frames as tcpdump on the same interface at the same time', async () => {
    const { ws, start, end } = await captureBoth(['-w', file('same-ws.pcap')], ['-w', file('same-td.pcap')], () => makeTraffic(pair));
    const ours = framesOf(file('same-ws.pcap')), theirs = framesOf(file('same-td.pcap'));
    console.log(`same frames: wirescope ${ours.length}, tcpdump ${theirs.length} frames; ${ours.reduce((n, f) => n + f.capLen, 0)} bytes`);
    expect(ours.length).toBeGreaterThan(20);
    expect(ours.map(hex)).toEqual(theirs.map(hex));
    expect(ours.map((f) => f.origLen)).toEqual(theirs.map((f) => f.origLen));
    // Stamped on arrival from a wall-clock anchor: inside the capture window, in order.
    for (let i = 0; i < ours.length; i++) {
      const t = ours[i].tsSec + ours[i].tsNsec / 1e9;
      expect(t).toBeGreaterThanOrEqual(start - 0.001);
      expect(t).toBeLessThanOrEqual(end);
      if (i > 0) expect(t).toBeGreaterThanOrEqual(ours[i - 1].tsSec + ours[i - 1].tsNsec / 1e9);
    }
    expect(ws.stderr).toContain(`${ours.length} packets captured\n0 packets dropped by wirescope\n`);
    expect(ws.stderr).toContain('not available');
    expect(ws.stderr).toMatch(/^wirescope: listening on wsb0, link-type EN10MB \(Ethernet\), snapshot length 65535 bytes$/m);
    for (const t of ['tcpdump', 'tshark'].filter(hasTool)) {
      expect(spawnSync(t, ['-r', file('same-ws.pcap')], { stdio: 'ignore' }).status, t).toBe(0);
    }
  });

  it('lets libpcap compile the filter into the kernel: the same frames as tcpdump with it', async () => {
    const expr = ['udp', 'or', 'icmp'];
    await captureBoth(['-w', file('filter-ws.pcap'), ...expr], ['-w', file('filter-td.pcap'), ...expr], () => makeTraffic(pair));
    const ours = framesOf(file('filter-ws.pcap')), theirs = framesOf(file('filter-td.pcap'));
    // 3 echo requests and replies, 10 datagrams, and the port unreachables b answers some with.
    expect(ours.length).toBeGreaterThanOrEqual(16);
    expect(ours.map(hex)).toEqual(theirs.map(hex));
    // Nothing but IPv4 UDP (17) or ICMP (1) in Ethernet frames.
    for (const f of ours) expect([1, 17]).toContain(f.data[23]);
  });

  it('-c N stops by itself after exactly N frames', async () => {
    const ws = await startListening(pair.b, wirescope('-i', pair.bIf, '-c', '7', '-w', file('count.pcap')));
    const td = await startListening(pair.b, tcpdump('-i', pair.bIf, '-w', file('count-td.pcap')));
    await makeTraffic(pair);
    const exit = await ws.exited;
    await sleep(SETTLE_MS);
    await stop(td);
    expect(exit.code).toBe(0);
    const ours = framesOf(file('count.pcap'));
    expect(ours).toHaveLength(7);
    expect(ours.map(hex)).toEqual(framesOf(file('count-td.pcap')).slice(0, 7).map(hex));
    expect(ws.stderr).toContain('7 packets captured\n');
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} in the middle of traffic leaves a complete pcap file`, async () => {
      const out = file(`signal-${signal}.pcap`);
      const ws = await startListening(pair.b, wirescope('-i', pair.bIf, '-w', out));
      const flood = udpFlood(pair, 10000, 200, 5);
      await sleep(1500);
      const exit = await stop(ws, signal);
      await flood;
      expect(exit.code, ws.stderr).toBe(0);
      const n = Number(/(\d+) packets captured/.exec(ws.stderr)?.[1]);
      expect(n, ws.stderr).toBeGreaterThan(0);
      expect(framesOf(out)).toHaveLength(n);
      // The size is exactly header + records: nothing cut in the middle of a record.
      expect(statSync(out).size).toBe(24 + framesOf(out).reduce((s, f) => s + 16 + f.capLen, 0));
      for (const t of ['tcpdump', 'tshark'].filter(hasTool)) {
        const r = spawnSync(t, ['-r', out], { encoding: 'utf8', maxBuffer: 1 << 26 });
        expect(r.status, `${t}: ${r.stderr}`).toBe(0);
        expect(r.stdout.trim().split('\n')).toHaveLength(n);
      }
    });
  }

  it('prints while capturing through the same code path as reading a file', async () => {
    // Two wirescopes at once: one printing, one writing; the printed lines must be what -r
    // prints for the written file.
    const w = await startListening(pair.b, wirescope('-i', pair.bIf, '-w', file('print.pcap')));
    // -t: each process stamps frames with its own clock.
    const { ws } = await captureBoth(['-t', '-n', '-v', '-e'], ['-w', file('print-td.pcap')], () => makeTraffic(pair));
    await stop(w);
    const fromFile = spawnSync(process.execPath, [wirescope()[1], '-t', '-n', '-v', '-e', '-r', file('print.pcap')], { encoding: 'utf8' });
    expect(fromFile.status).toBe(0);
    // An interrupted printing run ends with an extra newline, as tcpdump's does.
    expect(ws.stdout).toBe(fromFile.stdout + '\n');
    expect(ws.stderr).toMatch(/^wirescope: verbose output suppressed|listening on wsb0/m);
  });

  it('-T fields while capturing: stream numbers, TCP analysis and HTTP fields as -r and tshark give them for the same frames', async () => {
    const fields = ['frame.number', 'frame.len', 'tcp.stream', 'tcp.analysis.retransmission', 'http.request.method', 'http.request.uri',
      'http.host', 'http.response.code', 'http.content_length', 'frame.protocols'].flatMap((f) => ['-e', f]);
    const w = await startListening(pair.b, wirescope('-i', pair.bIf, '-w', file('fields.pcap')));
    const { ws } = await captureBoth(['-T', 'fields', ...fields], ['-w', file('fields-td.pcap')], () => makeTraffic(pair));
    await stop(w);
    const fromFile = spawnSync(process.execPath, [wirescope()[1], '-T', 'fields', ...fields, '-r', file('fields.pcap')], { encoding: 'utf8' });
    expect(fromFile.status).toBe(0);
    expect(ws.stdout).toBe(fromFile.stdout);
    expect(ws.stderr).toMatch(/^Capturing on 'wsb0'\n/);
    const rows = ws.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    // curl's GET and node's 200 reply, on one TCP stream.
    const get = rows.find((r) => r[4] === 'GET'), ok = rows.find((r) => r[7] === '200');
    expect(get?.[5]).toBe('/');
    expect(get?.[6]).toBe(`${pair.bAddr}:8080`);
    expect(ok?.[8]).toBe('1000');
    expect(ok?.[2]).toBe(get?.[2]);
    if (hasTool('tshark')) {
      const ts = spawnSync('tshark', ['-r', file('fields.pcap'), '-T', 'fields', ...fields], { encoding: 'utf8' });
      expect(ts.status, ts.stderr).toBe(0);
      expect(ws.stdout).toBe(ts.stdout);
    }
  });

  it('-s N keeps N bytes of each frame and the original length', async () => {
    await captureBoth(['-s', '80', '-w', file('snap-ws.pcap')], ['-s', '80', '-w', file('snap-td.pcap')], () => makeTraffic(pair));
    const ours = framesOf(file('snap-ws.pcap')), theirs = framesOf(file('snap-td.pcap'));
    expect(ours.map((f) => [hex(f), f.capLen, f.origLen])).toEqual(theirs.map((f) => [hex(f), f.capLen, f.origLen]));
    expect(ours.some((f) => f.origLen > 80 && f.capLen === 80)).toBe(true);
  });

  it('-i any: Linux cooked capture, the same frames as tcpdump -i any -y LINUX_SLL', async () => {
    const ws = await startListening(pair.b, wirescope('-i', 'any', '-w', file('any-ws.pcap')));
    const td = await startListening(pair.b, tcpdump('-i', 'any', '-y', 'LINUX_SLL', '-w', file('any-td.pcap')));
    await makeTraffic(pair);
    await sleep(SETTLE_MS);
    await Promise.all([stop(ws), stop(td)]);
    const ours = framesOf(file('any-ws.pcap'));
    expect(ws.stderr).toContain('listening on any, link-type LINUX_SLL (Linux cooked v1), snapshot length 65535 bytes');
    expect(ours[0].linkType).toBe(113);
    expect(ours.length).toBeGreaterThan(20);
    expect(ours.map(hex)).toEqual(framesOf(file('any-td.pcap')).map(hex));
  });

  it('-U writes each frame at once; without it frames wait in the buffer until the end', async () => {
    const [buffered, unbuffered] = [file('u-off.pcap'), file('u-on.pcap')];
    const a = await startListening(pair.b, wirescope('-i', pair.bIf, '-w', buffered));
    const b = await startListening(pair.b, wirescope('-i', pair.bIf, '-U', '-w', unbuffered));
    pair.exec(pair.a, ['ping', '-c', '2', '-i', '0.2', pair.bAddr]);
    await sleep(SETTLE_MS);
    expect(statSync(buffered).size).toBe(24);
    const during = framesOf(unbuffered).length;
    await Promise.all([stop(a), stop(b)]);
    expect(during).toBeGreaterThanOrEqual(4);
    expect(framesOf(unbuffered)).toHaveLength(during);
    expect(framesOf(buffered)).toHaveLength(during);
  });

  it('-l prints each line at once', async () => {
    const ws = await startListening(pair.b, wirescope('-i', pair.bIf, '-l', '-n', 'icmp'));
    pair.exec(pair.a, ['ping', '-c', '2', '-i', '0.2', pair.bAddr]);
    await sleep(SETTLE_MS);
    const during = ws.stdout.split('\n').filter((l) => l.includes('ICMP echo')).length;
    await stop(ws);
    expect(during).toBe(4);
  });

  it('-C rotates with tcpdump\'s names; every file is valid; together they hold what tcpdump saw', async () => {
    const dir = file('rot');
    spawnSync('mkdir', ['-p', dir]);
    await captureBoth(['-C', '1', '-w', path.join(dir, 'r.pcap')], ['-w', file('rot-td.pcap')], () => udpFlood(pair, 3000, 1200, 3));
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['r.pcap', 'r.pcap1', 'r.pcap2', 'r.pcap3']);
    const all = names.flatMap((n) => {
      expect(spawnSync('tcpdump', ['-r', path.join(dir, n)], { stdio: 'ignore' }).status, n).toBe(0);
      return framesOf(path.join(dir, n));
    });
    expect(all.map(hex)).toEqual(framesOf(file('rot-td.pcap')).map(hex));
    for (const n of names.slice(0, -1)) expect(statSync(path.join(dir, n)).size).toBeGreaterThan(1_000_000);
  });

  it('-C with -W reuses the numbered names', async () => {
    const dir = file('rotw');
    spawnSync('mkdir', ['-p', dir]);
    await captureBoth(['-C', '1', '-W', '2', '-w', path.join(dir, 'r.pcap')], ['-w', file('rotw-td.pcap')], () => udpFlood(pair, 3000, 1200, 3));
    expect(readdirSync(dir).sort()).toEqual(['r.pcap0', 'r.pcap1']);
    for (const n of ['r.pcap0', 'r.pcap1']) expect(spawnSync('tcpdump', ['-r', path.join(dir, n)], { stdio: 'ignore' }).status).toBe(0);
  });

  it('-G with -W ends the capture after W files, as tcpdump does', async () => {
    const dir = file('rotg');
    spawnSync('mkdir', ['-p', dir]);
    const ws = await startListening(pair.b, wirescope('-i', pair.bIf, '-G', '1', '-W', '2', '-w', path.join(dir, 'g-%s.pcap')));
    for (let i = 0; i < 40 && ws.child.exitCode === null; i++) {
      pair.exec(pair.a, ['ping', '-c', '1', '-W', '1', pair.bAddr]);
      await sleep(100);
    }
    const exit = await ws.exited;
    expect(exit.code).toBe(0);
    expect(ws.stderr).toContain('Maximum file limit reached: 2\n');
    const names = readdirSync(dir);
    expect(names).toHaveLength(2);
    for (const n of names) {
      expect(n).toMatch(/^g-\d{10}\.pcap$/);
      expect(spawnSync('tcpdump', ['-r', path.join(dir, n)], { stdio: 'ignore' }).status).toBe(0);
    }
  });

  it('-Z USER writes files as that user; under sudo the default is the sudo caller', async () => {
    for (const [args, env] of [[['-Z', 'nobody'], {}], [[], { SUDO_UID: '65534', SUDO_GID: '65534', SUDO_USER: 'nobody' }]] as const) {
      const out = file(`owner-${args.length}.pcap`);
      const ws = await startListening(pair.b, wirescope('-i', pair.bIf, ...args, '-w', out), { env: { ...process.env, ...env } });
      pair.exec(pair.a, ['ping', '-c', '2', '-i', '0.2', pair.bAddr]);
      await sleep(SETTLE_MS);
      const exit = await stop(ws);
      expect(exit.code).toBe(0);
      expect(statSync(out).uid).toBe(65534);
      expect(framesOf(out).length).toBeGreaterThan(0);
    }
  });

  it('-D lists the interfaces as tcpdump -D does', () => {
    const ours = pair.exec(pair.b, wirescope('-D')), theirs = pair.exec(pair.b, ['tcpdump', '-D']);
    expect(ours.status).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stdout).toMatch(/^1\.wsb0 \[Up, Running, Connected\]$/m);
  });

  it('-D with interfaces up and down, with and without a link state, as tcpdump -D', () => {
    const ns = `${pair.b}-d`;
    const run = (...args: string[]): void => {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    run('netns', 'add', ns);
    try {
      run('-n', ns, 'link', 'add', 'vup', 'type', 'veth', 'peer', 'name', 'vdown');
      run('-n', ns, 'link', 'set', 'vup', 'up');
      run('-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
      run('-n', ns, 'link', 'set', 'br0', 'up');
      spawnSync('ip', ['-n', ns, 'link', 'add', 'ifb9', 'type', 'ifb']);
      const ours = spawnSync('ip', ['netns', 'exec', ns, ...wirescope('-D')], { encoding: 'utf8' });
      const theirs = spawnSync('ip', ['netns', 'exec', ns, 'tcpdump', '-D'], { encoding: 'utf8' });
      expect(ours.status).toBe(0);
      expect(ours.stdout).toBe(theirs.stdout);
      expect(ours.stdout).toMatch(/\.vdown \[none, Disconnected\]$/m);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  it('without -i opens the interface tcpdump picks; -i NUMBER counts in -D\'s list', async () => {
    const td = await startListening(pair.b, tcpdump('-w', file('default-td.pcap')));
    const ws = await startListening(pair.b, wirescope('-w', file('default-ws.pcap')));
    const num = await startListening(pair.b, wirescope('-i', '1', '-w', file('default-1.pcap')));
    await Promise.all([stop(ws), stop(td), stop(num)]);
    const dev = (s: string): string | undefined => /listening on (\S+),/.exec(s)?.[1];
    expect(dev(ws.stderr)).toBe(dev(td.stderr));
    expect(dev(num.stderr)).toBe('wsb0');
  });

  describe('errors: one line, exit status 1', () => {
    function fails(argv: string[], opts: { asNobody?: boolean } = {}): string {
      const r = spawnSync('ip', ['netns', 'exec', pair.b, ...(opts.asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []), ...argv],
        { encoding: 'utf8', timeout: 20000 });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      return lines[0];
    }

    it('no such interface, pointing at -D', () => {
      expect(fails(wirescope('-i', 'nosuch0'))).toBe('wirescope: nosuch0: No such device exists (wirescope -D lists the interfaces)');
      expect(fails(wirescope('-i', '99'))).toMatch(/^wirescope: Invalid adapter index 99: only \d+ interfaces found \(wirescope -D lists them\)$/);
    });

    it('a filter libpcap rejects: its message and the expression', () => {
      expect(fails(wirescope('-i', pair.bIf, 'tcp', 'port'))).toBe(
        "wirescope: libpcap rejected the filter expression 'tcp port': can't parse filter expression: syntax error");
      expect(fails(wirescope('-i', pair.bIf, 'ip6', 'host', '10.0.0.1'))).toMatch(/^wirescope: libpcap rejected the filter expression 'ip6 host 10.0.0.1': /);
    });

    it.skipIf(!hasTool('setpriv'))('no permission: says to use sudo or setcap, and what setcap implies', () => {
      const line = fails(wirescope('-i', pair.bIf), { asNobody: true });
      expect(line).toMatch(/^wirescope: wsb0: You don't have permission to capture on that device \(socket: Operation not permitted\): run wirescope as root \(sudo\), or .*sudo setcap cap_net_raw,cap_net_admin=eip \/\S+node.*every script run by that node/);
      // Without root, -D still works (no privilege needed to list).
      const r = spawnSync('ip', ['netns', 'exec', pair.b, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...wirescope('-D')], { encoding: 'utf8' });
      expect(r.status).toBe(0);
    });

    it('-Z with an unknown user; -w into a directory the user cannot write', () => {
      expect(fails(wirescope('-i', pair.bIf, '-Z', 'no-such-user-xyz'))).toBe("wirescope: Couldn't find user 'no-such-user-xyz'");
      const line = fails(wirescope('-i', pair.bIf, '-Z', 'nobody', '-w', '/root/wirescope-test.pcap'));
      expect(line).toBe('wirescope: /root/wirescope-test.pcap: Permission denied (files are opened as nobody, after root is given up; -Z root keeps root)');
    });
  });
});
