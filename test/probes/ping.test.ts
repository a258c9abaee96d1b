/**
 * wirescope ping next to iputils ping, run one after the other from the client namespace of the
 * probe topology (topology.ts): the same text once round-trip times are masked, the same reply
 * and error counts, TTLs, ICMP errors and exit statuses. Skipped, with the reason printed,
 * without root, namespaces, nftables, cap or iputils ping.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hasTool } from '../conformance/corpus.js';
import { buildTopology, topologyUnavailable, wirescope, ADDR, CLIENT_IF, SPARE_SOURCES, type Topology } from './topology.js';

const why = topologyUnavailable() ?? (hasTool('ping') && /iputils/.test(spawnSync('ping', ['-V'], { encoding: 'utf8' }).stdout) ? null : 'iputils ping not installed');
if (why !== null) console.log(`ping tests skipped: ${why}`);

/** The output with round-trip times and the elapsed time masked: what must be identical. */
function masked(s: string): string {
  return s
    .replace(/ time=[\d.]+ ms/g, ' time=T ms')
    .replace(/^\[\d+\.\d{6}\] /gm, '[D] ')
    .replace(/^rtt min\/avg\/max\/mdev = [\d./]+ ms/m, 'rtt min/avg/max/mdev = T ms')
    .replace(/ipg\/ewma [\d./]+ ms$/m, 'ipg/ewma T ms')
    .replace(/, time \d+ms$/m, ', time Tms');
}

interface Run { status: number | null; stdout: string; stderr: string }

describe.skipIf(why !== null)('wirescope ping beside iputils ping', () => {
  let t: Topology;
  beforeAll(async () => { t = await buildTopology(); });
  afterAll(() => t?.close());

  function both(args: string[], timeoutMs = 20000): { ref: Run; ours: Run } {
    const ref = t.exec(t.ns.client, ['ping', ...args], timeoutMs);
    const ours = t.exec(t.ns.client, wirescope('ping', ...args), timeoutMs);
    return { ref, ours };
  }

  let spare = 0;
  /**
   * Identical masked text and exit status, each tool sending from a fresh source address (-I):
   * for errors the router rate-limits per source (see SPARE_SOURCES).
   */
  function sameFromFreshSources(args: string[]): { ref: Run; ours: Run } {
    const a = SPARE_SOURCES[spare++], b = SPARE_SOURCES[spare++];
    const ref = t.exec(t.ns.client, ['ping', '-I', a, ...args]);
    const ours = t.exec(t.ns.client, wirescope('ping', '-I', b, ...args));
    expect(ours.stderr).toBe('');
    expect(masked(ours.stdout).replace(`from ${b} :`, 'from S :')).toBe(masked(ref.stdout).replace(`from ${a} :`, 'from S :'));
    expect(ours.status).toBe(ref.status);
    return { ref, ours };
  }

  /** Identical masked text and exit status. */
  function same(args: string[]): { ref: Run; ours: Run } {
    const r = both(args);
    expect(r.ours.stderr).toBe('');
    expect(masked(r.ours.stdout)).toBe(masked(r.ref.stdout));
    expect(r.ours.status).toBe(r.ref.status);
    return r;
  }

  it('echo replies through two routers: 3 replies, ttl=62, statistics, exit 0', () => {
    const { ours } = same(['-c', '3', '-i', '0.2', ADDR.server]);
    expect(ours.stdout).toMatch(/^64 bytes from 10\.81\.3\.2: icmp_seq=3 ttl=62 time=[\d.]+ ms$/m);
    expect(ours.stdout).toMatch(/^3 packets transmitted, 3 received, 0% packet loss/m);
    expect(ours.status).toBe(0);
  });

  it('IPv6 echo replies through two routers (hop limit 62)', () => {
    const { ours } = same(['-c', '2', '-i', '0.2', ADDR.server6]);
    expect(ours.stdout).toMatch(/^64 bytes from fd81:3::2: icmp_seq=2 ttl=62 /m);
  });

  it('-I interface on the LAN: the "from SOURCE IFACE:" header, ttl=64', () => {
    same(['-c', '1', '-I', CLIENT_IF.lan, ADDR.h1]);
    same(['-c', '1', '-6', '-I', CLIENT_IF.lan, ADDR.h26]);
  });

  it('a link-local IPv6 address with its zone (fe80::...%c1): the interface named in every address, as iputils', () => {
    const info = JSON.parse(t.exec(t.ns.h1, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'e0']).stdout) as Array<{ addr_info: Array<{ local: string; scope: string }> }>;
    const linkLocal = info[0].addr_info.find((a) => a.scope === 'link')!.local;
    const r = same(['-c', '2', '-i', '0.2', `${linkLocal}%${CLIENT_IF.lan}`]);
    expect(r.ours.stdout).toMatch(/^64 bytes from fe80:[0-9a-f:]+%c1: icmp_seq=2 ttl=64 /m);
  });

  it('-I source address', () => {
    same(['-c', '1', '-I', ADDR.clientLan, ADDR.h2]);
  });

  it('-t 1 and -t 2: Time to live exceeded from r1, then from r2', () => {
    const a = same(['-c', '2', '-i', '0.2', '-t', '1', ADDR.server]);
    expect(a.ours.stdout).toContain('From 10.81.1.1 icmp_seq=1 Time to live exceeded\n');
    expect(a.ours.stdout).toContain('+2 errors, 100% packet loss');
    expect(a.ours.status).toBe(1);
    const b = same(['-c', '1', '-t', '2', ADDR.server]);
    expect(b.ours.stdout).toContain('From 10.81.2.2 icmp_seq=1 Time to live exceeded\n');
    same(['-c', '1', '-t', '1', ADDR.server6]);
  });

  it('no route on r1: Destination Net Unreachable (IPv6: No route)', () => {
    const a = sameFromFreshSources(['-c', '2', '-i', '0.2', '-W', '1', ADDR.noRouteNet]);
    expect(a.ours.stdout).toContain('From 10.81.1.1 icmp_seq=2 Destination Net Unreachable\n');
    const b = same(['-c', '1', '-W', '1', ADDR.noRouteNet6]);
    expect(b.ours.stdout).toContain('From fd81:1::1 icmp_seq=1 Destination unreachable: No route\n');
  });

  it('unreachable and prohibit routes on r1: the kernel\'s codes, named as iputils names them', () => {
    expect(sameFromFreshSources(['-c', '2', '-i', '0.2', '-W', '1', ADDR.unreachableNet]).ours.stdout).toContain('icmp_seq=2 Destination Host Unreachable');
    expect(sameFromFreshSources(['-c', '2', '-i', '0.2', '-W', '1', ADDR.prohibitedNet]).ours.stdout).toContain('icmp_seq=2 Packet filtered');
    same(['-c', '1', '-W', '1', ADDR.unreachableNet6]);
    expect(same(['-c', '1', '-W', '1', ADDR.prohibitedNet6]).ours.stdout).toContain('Administratively prohibited');
  });

  it('a router with no host behind an address: host unreachable after its ARP gives up', () => {
    // r2 solicits for 3 s, then answers host unreachable.
    const r = sameFromFreshSources(['-c', '1', '-W', '5', ADDR.serverLinkNoHost]);
    expect(r.ours.stdout).toContain(`From ${ADDR.r2} icmp_seq=1 Destination Host Unreachable`);
  });

  it('a LAN address with no host: silence within -W, the local host unreachable after the kernel\'s 3 s of ARP', () => {
    const quick = same(['-c', '2', '-i', '0.3', '-W', '1', ADDR.lanNoHost]);
    expect(quick.ours.stdout).toContain('2 packets transmitted, 0 received, 100% packet loss');
    const slow = same(['-c', '1', '-W', '6', ADDR.lanNoHost]);
    expect(slow.ours.stdout).toContain('From 10.81.4.1 icmp_seq=1 Destination Host Unreachable');
    expect(slow.ours.status).toBe(1);
    const slow6 = same(['-c', '1', '-W', '6', ADDR.lanNoHost6]);
    expect(slow6.ours.stdout).toContain('From fd81:4::1 icmp_seq=1 Destination unreachable: Address unreachable');
  });

  it('duplicated replies (nftables on h2 sends each echo reply twice): (DUP!) and +N duplicates', () => {
    const nft = (rules: string): void => {
      const r = spawnSync('ip', ['netns', 'exec', t.ns.h2, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
      expect(r.stderr).toBe('');
    };
    nft(`table ip wsdup {\nchain output {\ntype filter hook output priority 0;\nicmp type echo-reply dup to ${ADDR.clientLan}\n}\n}\n`);
    try {
      const r = same(['-c', '2', '-i', '0.3', ADDR.h2]);
      expect(r.ours.stdout).toMatch(/^64 bytes from 10\.81\.4\.12: icmp_seq=1 ttl=64 time=[\d.]+ ms \(DUP!\)$/m);
      // Both stop at the second reply, before its copy (which arrives a few ms later) as a rule.
      expect(r.ours.stdout).toMatch(/^2 packets transmitted, 2 received, \+[12] duplicates, 0% packet loss/m);
    } finally {
      nft('delete table ip wsdup\n');
    }
  });

  it('-i 0: back to back, with the ipg/ewma figures; without timing data too', () => {
    expect(same(['-c', '5', '-i', '0', ADDR.h1]).ours.stdout).toMatch(/^rtt min\/avg\/max\/mdev = [\d./]+ ms, ipg\/ewma [\d.]+\/[\d.]+ ms$/m);
    expect(same(['-c', '5', '-i', '0', '-s', '8', ADDR.h16]).ours.stdout).toMatch(/^ipg\/ewma [\d.]+\/0\.000 ms$/m);
  });

  it('-D: each line starts with the time of arrival, [seconds.microseconds]', () => {
    const before = Date.now() / 1000;
    const r = same(['-D', '-c', '1', '-t', '1', ADDR.server]);
    const m = /^\[(\d+\.\d{6})\] From 10\.81\.1\.1 icmp_seq=1 Time to live exceeded$/m.exec(r.ours.stdout);
    expect(Number(m?.[1])).toBeGreaterThan(before);
    expect(Number(m?.[1])).toBeLessThan(Date.now() / 1000);
    expect(same(['-D', '-c', '1', ADDR.h1]).ours.stdout).toMatch(/^\[\d+\.\d{6}\] 64 bytes from 10\.81\.4\.11: icmp_seq=1 ttl=64 time=/m);
  });

  it('-q prints only the header and the statistics; -s sizes (no times below 16 data bytes)', () => {
    same(['-c', '2', '-i', '0.2', '-q', ADDR.server]);
    const small = same(['-c', '1', '-s', '8', ADDR.h1]);
    expect(small.ours.stdout).toContain('16 bytes from 10.81.4.11: icmp_seq=1 ttl=64\n');
    same(['-c', '1', '-s', '1000', ADDR.server]);
    same(['-c', '1', '-s', '1400', ADDR.server6]);
  });

  it('-w deadline: keeps sending until the deadline, exit 0 with replies; with -c, 1 when fewer came', () => {
    const r = both(['-w', '1', '-i', '0.2', ADDR.server]);
    expect(r.ours.status).toBe(0);
    expect(r.ref.status).toBe(0);
    for (const x of [r.ours, r.ref]) expect(x.stdout).toMatch(/packets transmitted, \d+ received, 0% packet loss/);
    // Sends at 0, 0.3, 0.6 and 0.9 s: none falls on the deadline itself, where iputils' count
    // and ours would each depend on which of two timers fires first.
    const c = same(['-w', '1', '-c', '2', '-i', '0.3', ADDR.lanNoHost]);
    expect(c.ours.status).toBe(1);
  });

  it('-4 with an IPv6 address, and an unknown host: exit 2 and one line on stderr', () => {
    const a = both(['-4', '-c', '1', ADDR.server6]);
    expect(a.ref.status).toBe(2);
    expect(a.ours.status).toBe(2);
    const b = both(['-c', '1', 'no-such-host.invalid']);
    expect(b.ref.status).toBe(2);
    expect(b.ours.status).toBe(2);
    expect(b.ours.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.ours.stderr).toMatch(/^wirescope: ping: no-such-host\.invalid: /);
  });

  it('no route on this host: "connect:" and the kernel\'s reason on stderr, exit 2', () => {
    t.exec(t.ns.client, ['ip', 'route', 'add', 'unreachable', '10.99.0.0/16']);
    const r = both(['-c', '1', '10.99.0.1']);
    expect(r.ref.status).toBe(2);
    expect(r.ours.status).toBe(2);
    expect(r.ours.stderr).toBe(r.ref.stderr.replace(/^ping: /, 'wirescope: ping: '));
    expect(r.ours.stdout).toBe(r.ref.stdout);
  });

  it('without -c: runs until SIGINT, then the statistics and exit 0', async () => {
    const interrupted = async (argv: string[]): Promise<{ status: number | null; stdout: string }> => {
      const child = spawn('ip', ['netns', 'exec', t.ns.client, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Interrupted once the second reply is printed: both tools have sent at least two probes.
      for (let i = 0; i < 100 && !/icmp_seq=2 /.test(stdout); i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      return { status: await exited, stdout };
    };
    for (const argv of [['ping', '-i', '0.2', ADDR.server], wirescope('ping', '-i', '0.2', ADDR.server)]) {
      const r = await interrupted(argv);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/\n--- 10\.81\.3\.2 ping statistics ---\n(\d+) packets transmitted, \d+ received, .*\nrtt min\/avg\/max\/mdev = [\d./]+ ms\n$/);
    }
  });

  it('-I naming no interface, or an address not ours: iputils\' message, exit 2', () => {
    for (const args of [['-c', '1', '-I', 'nosuchdev', ADDR.server], ['-c', '1', '-I', '10.9.9.9', ADDR.server]]) {
      const r = both(args);
      expect(r.ref.status).toBe(2);
      expect(r.ours.status).toBe(2);
      expect(r.ours.stderr).toBe(r.ref.stderr.replace(/^ping: /, 'wirescope: ping: '));
    }
  });

  it('--json: one object per probe and reply, then the summary', () => {
    const r = t.exec(t.ns.client, wirescope('ping', '--json', '-c', '2', '-i', '0.2', ADDR.server));
    expect(r.status).toBe(0);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o.type)).toEqual(['start', 'probe', 'reply', 'probe', 'reply', 'summary']);
    expect(objs[2]).toMatchObject({ seq: 1, from: ADDR.server, ttl: 62, bytes: 64, duplicate: false });
    expect(objs[5]).toMatchObject({ transmitted: 2, received: 2, errors: 0, loss_percent: 0 });
    const e = t.exec(t.ns.client, wirescope('ping', '--json', '-I', SPARE_SOURCES[SPARE_SOURCES.length - 1], '-c', '1', '-W', '1', ADDR.noRouteNet));
    expect(JSON.parse(e.stdout.trim().split('\n')[2])).toMatchObject({ type: 'error', seq: 1, from: ADDR.r1, icmp_type: 3, icmp_code: 0, message: 'Destination Net Unreachable' });
    expect(e.status).toBe(1);
  });

  it('-v prints the frames sent and received with the capture printer', () => {
    const r = t.exec(t.ns.client, wirescope('ping', '-v', '-c', '1', ADDR.server));
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.81\.1\.2 > 10\.81\.3\.2: ICMP echo request, id \d+, seq 1, length 64$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.81\.3\.2 > 10\.81\.1\.2: ICMP echo reply, id \d+, seq 1, length 64$/m);
  });

  it('without root or CAP_NET_RAW: one line saying what is needed, exit 2; CAP_NET_RAW alone is enough', () => {
    if (!hasTool('setpriv')) return;
    const r = t.exec(t.ns.client, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...wirescope('ping', '-c', '1', ADDR.server)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^wirescope: ping: sending probes needs root or CAP_NET_RAW .*\n$/);
    expect(r.stdout).toBe('');
    // CAP_NET_RAW alone (another user) is enough.
    const capable = t.exec(t.ns.client, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+net_raw', '--ambient-caps=+net_raw',
      ...wirescope('ping', '-c', '1', ADDR.server)]);
    expect(capable.stderr).toBe('');
    expect(capable.status).toBe(0);
  });

  describe('a point-to-point raw-IP link (tun, no link header)', () => {
    // The far end of the tun is a small echo responder reading and writing raw IP packets.
    const PEER = [
      'import fcntl, os, struct, sys',
      "fd = os.open('/dev/net/tun', os.O_RDWR)",
      "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'tun0', 0x1001))",
      "print('up', flush=True)",
      'def csum(b):',
      "    b = b + b'\\0' * (len(b) % 2)",
      "    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))",
      '    while s >> 16: s = (s & 0xffff) + (s >> 16)',
      '    return ~s & 0xffff',
      'while True:',
      '    p = bytearray(os.read(fd, 65536))',
      '    h = (p[0] & 15) * 4',
      '    if p[0] >> 4 != 4 or p[9] != 1 or p[h] != 8: continue',
      '    p[12:16], p[16:20] = p[16:20], p[12:16]',
      "    p[10:12] = b'\\0\\0'; p[10:12] = struct.pack('!H', csum(bytes(p[:h])))",
      "    p[h] = 0; p[h + 2:h + 4] = b'\\0\\0'; p[h + 2:h + 4] = struct.pack('!H', csum(bytes(p[h:])))",
      '    os.write(fd, bytes(p))',
    ].join('\n');
    const tunWhy = hasTool('python3') && existsSync('/dev/net/tun') ? null : 'python3 or /dev/net/tun missing';
    let ns: string;
    let peer: ChildProcess | null = null;
    beforeAll(async () => {
      if (tunWhy !== null) return;
      ns = `wsprobe-tun-${process.pid}`;
      for (const argv of [['netns', 'add', ns], ['-n', ns, 'link', 'set', 'lo', 'up'], ['-n', ns, 'tuntap', 'add', 'dev', 'tun0', 'mode', 'tun'],
        ['-n', ns, 'addr', 'add', '10.83.0.1', 'peer', '10.83.0.2', 'dev', 'tun0'], ['-n', ns, 'link', 'set', 'tun0', 'up']]) {
        spawnSync('ip', argv);
      }
      peer = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', PEER], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => peer!.stdout!.once('data', resolve));
    });
    afterAll(() => {
      if (peer !== null && peer.exitCode === null) peer.kill('SIGKILL');
      if (ns) spawnSync('ip', ['netns', 'del', ns]);
    });

    it.skipIf(tunWhy !== null)('frames without a link header (LINKTYPE_RAW), no next-hop MAC: as iputils', () => {
      const exec = (argv: string[]): Run => {
        const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 20000 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      const ref = exec(['ping', '-c', '2', '-i', '0.2', '10.83.0.2']), ours = exec(wirescope('ping', '-c', '2', '-i', '0.2', '10.83.0.2'));
      expect(ours.stderr).toBe('');
      expect(masked(ours.stdout)).toBe(masked(ref.stdout));
      expect(ours.stdout).toContain('64 bytes from 10.83.0.2: icmp_seq=2 ttl=64 ');
      const v = exec(wirescope('ping', '-v', '-c', '1', '10.83.0.2'));
      expect(v.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.83\.0\.1 > 10\.83\.0\.2: ICMP echo request, id \d+, seq 1, length 64$/m);
    });
  });

  describe('loopback', () => {
    let ns: string;
    beforeAll(() => {
      ns = `wsprobe-lo-${process.pid}`;
      spawnSync('ip', ['netns', 'add', ns]);
      spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    });
    afterAll(() => { spawnSync('ip', ['netns', 'del', ns]); });
    const exec = (argv: string[]): Run => {
      const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 20000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    it('IPv6 ::1 as iputils', () => {
      const ref = exec(['ping', '-c', '2', '-i', '0.2', '::1']), ours = exec(wirescope('ping', '-c', '2', '-i', '0.2', '::1'));
      expect(masked(ours.stdout)).toBe(masked(ref.stdout));
      expect(ours.status).toBe(0);
    });

    it('IPv4 127.0.0.1: refused with the sysctls the kernel needs; with them, as iputils', () => {
      const refused = exec(wirescope('ping', '-c', '1', '127.0.0.1'));
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/^wirescope: ping: 127\.0\.0\.1 is local: .*accept_local=1 and .*route_localnet=1\n$/);
      exec(['sysctl', '-q', '-w', 'net.ipv4.conf.lo.accept_local=1', 'net.ipv4.conf.lo.route_localnet=1']);
      const ref = exec(['ping', '-c', '2', '-i', '0.2', '127.0.0.1']), ours = exec(wirescope('ping', '-c', '2', '-i', '0.2', '127.0.0.1'));
      expect(masked(ours.stdout)).toBe(masked(ref.stdout));
      expect(ours.status).toBe(0);
    });

    it('a host name (/etc/hosts): "from NAME (ADDRESS)" by reverse lookup, -n without it; -6 (an error where the name has no IPv6 address), as iputils', () => {
      for (const args of [['-c', '1', 'localhost'], ['-n', '-c', '1', 'localhost'], ['-6', '-c', '1', 'localhost']]) {
        const ref = exec(['ping', ...args]), ours = exec(wirescope('ping', ...args));
        expect(masked(ours.stdout)).toBe(masked(ref.stdout));
        expect(ours.status).toBe(ref.status);
        expect(ours.stderr).toBe(ref.stderr.replace(/^ping: /, 'wirescope: ping: '));
      }
    });
  });
});
