/**
 * wirescope arping on the LAN of the probe topology (topology.ts): what it reports is checked
 * against the namespaces' real MAC addresses, and, where iputils arping is installed (Debian's
 * iputils-arping; `arping` on PATH, or the binary named by IPUTILS_ARPING), its output is the
 * same once times are masked, with the same exit statuses. Skipped, with the reason printed,
 * without root, namespaces, nftables or cap.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { buildTopology, topologyUnavailable, wirescope, ADDR, CLIENT_IF, type Topology } from './topology.js';

const why = topologyUnavailable();
if (why !== null) console.log(`arping tests skipped: ${why}`);

/** iputils arping, or null (Debian's default `arping` package is Thomas Habets' arping, another tool). */
function iputilsArping(): string | null {
  for (const bin of [process.env.IPUTILS_ARPING, 'arping'].filter((b): b is string => !!b)) {
    const r = spawnSync(bin, ['-V'], { encoding: 'utf8' });
    if (/iputils/.test(r.stdout + r.stderr)) return bin;
  }
  return null;
}
const reference = why === null ? iputilsArping() : null;
if (why === null && reference === null) console.log('arping: comparison with iputils arping skipped: not installed (set IPUTILS_ARPING to its binary)');

function masked(s: string): string {
  return s.replace(/ \d+\.\d{3}ms$/gm, ' Tms');
}

interface Run { status: number | null; stdout: string; stderr: string }

describe.skipIf(why !== null)('wirescope arping on a bridged LAN', () => {
  let t: Topology;
  let h1Mac: string, h2Mac: string;
  beforeAll(async () => {
    t = await buildTopology();
    const mac = (ns: string): string => (JSON.parse(t.exec(ns, ['ip', '-j', 'link', 'show', 'e0']).stdout) as Array<{ address: string }>)[0].address.toUpperCase();
    h1Mac = mac(t.ns.h1);
    h2Mac = mac(t.ns.h2);
  });
  afterAll(() => t?.close());

  /** Runs wirescope arping, and iputils arping when installed: the same masked text and status. */
  function run(args: string[]): Run {
    const ours = t.exec(t.ns.client, wirescope('arping', ...args), 30000);
    expect(ours.stderr).toBe('');
    if (reference !== null) {
      const ref = t.exec(t.ns.client, [reference, ...args], 30000);
      expect(masked(ours.stdout)).toBe(masked(ref.stdout));
      expect(ours.status).toBe(ref.status);
    }
    return ours;
  }

  it('a host answers every request: the first broadcast, then unicast to its MAC; exit 0', () => {
    const r = run(['-c', '3', '-I', CLIENT_IF.lan, ADDR.h1]);
    expect(masked(r.stdout)).toBe(
      `ARPING ${ADDR.h1} from ${ADDR.clientLan} ${CLIENT_IF.lan}\n` +
      `Unicast reply from ${ADDR.h1} [${h1Mac}]  Tms\n`.repeat(3) +
      'Sent 3 probes (1 broadcast(s))\nReceived 3 response(s)\n');
    expect(r.status).toBe(0);
  });

  it('without -I: the interface of the route to the address', () => {
    const r = run(['-c', '1', ADDR.h2]);
    expect(r.stdout).toContain(`ARPING ${ADDR.h2} from ${ADDR.clientLan} ${CLIENT_IF.lan}\n`);
    expect(r.stdout).toContain(`Unicast reply from ${ADDR.h2} [${h2Mac}]`);
  });

  it('an address with no host: all broadcasts, no response, exit 1', () => {
    const r = run(['-c', '2', '-I', CLIENT_IF.lan, ADDR.lanNoHost]);
    expect(r.stdout).toBe(`ARPING ${ADDR.lanNoHost} from ${ADDR.clientLan} ${CLIENT_IF.lan}\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n`);
    expect(r.status).toBe(1);
  });

  it('-w with -c: exit 0 once -c replies came, 1 when the deadline passes first', () => {
    expect(run(['-w', '3', '-c', '1', '-I', CLIENT_IF.lan, ADDR.h1]).status).toBe(0);
    expect(run(['-w', '1', '-c', '5', '-I', CLIENT_IF.lan, ADDR.lanNoHost]).status).toBe(1);
  });

  it('-D duplicate address detection: from 0.0.0.0; an answer means in use (exit 1), silence free (exit 0)', () => {
    const used = run(['-D', '-c', '2', '-I', CLIENT_IF.lan, ADDR.h2]);
    expect(used.stdout).toContain(`ARPING ${ADDR.h2} from 0.0.0.0 ${CLIENT_IF.lan}\n`);
    expect(used.stdout).toContain(`Unicast reply from ${ADDR.h2} [${h2Mac}]`);
    expect(used.stdout).toContain('Sent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n');
    expect(used.status).toBe(1);
    expect(run(['-D', '-c', '2', '-I', CLIENT_IF.lan, ADDR.lanNoHost]).status).toBe(0);
  });

  it('-U and -A announce our address (request, reply) without waiting for answers', () => {
    for (const flag of ['-U', '-A']) {
      const r = run([flag, '-c', '2', '-I', CLIENT_IF.lan, ADDR.clientLan]);
      expect(r.stdout).toBe(`ARPING ${ADDR.clientLan} from ${ADDR.clientLan} ${CLIENT_IF.lan}\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n`);
      expect(r.status).toBe(0);
    }
  });

  it('loopback is not ARPable: exit 2 (0 with -D)', () => {
    const r = run(['-c', '1', '-I', 'lo', '127.0.0.1']);
    expect(r.stdout).toBe('Interface "lo" is not ARPable\n');
    expect(r.status).toBe(2);
    expect(run(['-D', '-c', '1', '-I', 'lo', '127.0.0.1']).status).toBe(0);
  });

  it('-I naming no interface: exit 2 and iputils\' message', () => {
    const ours = t.exec(t.ns.client, wirescope('arping', '-c', '1', '-I', 'nosuchdev', ADDR.h1));
    expect(ours.status).toBe(2);
    expect(ours.stderr).toBe('wirescope: arping: Device nosuchdev not available.\n');
    if (reference !== null) expect(t.exec(t.ns.client, [reference, '-c', '1', '-I', 'nosuchdev', ADDR.h1]).stderr).toMatch(/: Device nosuchdev not available\.\n$/);
  });

  it('--json: probes, replies with the MAC, then the summary', () => {
    const r = t.exec(t.ns.client, wirescope('arping', '--json', '-c', '2', '-I', CLIENT_IF.lan, ADDR.h1));
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o.type)).toEqual(['start', 'probe', 'reply', 'probe', 'reply', 'summary']);
    expect(objs[1]).toMatchObject({ to: 'ff:ff:ff:ff:ff:ff', op: 'request', target: ADDR.h1, sender: ADDR.clientLan });
    expect(objs[2]).toMatchObject({ op: 'reply', unicast: true, from: ADDR.h1, mac: h1Mac.toLowerCase() });
    expect(objs[3]).toMatchObject({ to: h1Mac.toLowerCase() });
    expect(objs[5]).toMatchObject({ sent: 2, broadcasts: 1, received: 2 });
    expect(r.status).toBe(0);
  });

  it('without root or CAP_NET_RAW: one line, exit 2', () => {
    const r = t.exec(t.ns.client, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...wirescope('arping', '-c', '1', ADDR.h1)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^wirescope: arping: sending probes needs root or CAP_NET_RAW .*\n$/);
  });
});
