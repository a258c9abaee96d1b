/**
 * `wirescope traceroute HOST`: traceroute(8)'s trace (UDP probes by default, -I ICMP echo, -T TCP
 * SYN) with its options and output, built and decoded by wirescope's dissectors (src/probes/traceroute.ts).
 */
import { InvalidArgumentError } from 'commander';
import { command, parseCommand } from './command-line.js';
import { errorLine } from '../output/errors.js';
import { openPath, resolveHost, type Family } from '../probes/path.js';
import { hostName, lacksRawAccess, probeFailure } from '../probes/probe-cli.js';
import { probeLength } from '../probes/probe-builders.js';
import { defaultTraceOptions, probeText, traceHeader, Traceroute, type TraceMethod, type TraceOptions, type TraceProbe } from '../probes/traceroute.js';

function uint(name: string, max: number): (s: string) => number {
  return (s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n > max) throw new InvalidArgumentError(`${name} must be an integer from 0 to ${max}`);
    return n;
  };
}

/** -w MAX[,HERE[,NEAR]]: as traceroute's set_wait_specs, factors not given are 0. */
function waitSpecs(s: string): number[] {
  const parts = s.split(',');
  const v = parts.map(Number);
  if (parts.length > 3 || v.some((x, i) => parts[i] === '' || !Number.isFinite(x) || x < 0)) {
    throw new InvalidArgumentError(`bad wait specifications \`${s}' used`);
  }
  return [v[0], v[1] ?? 0, v[2] ?? 0];
}

/** getnameinfo without NI_NUMERICHOST, as traceroute prints hop names: the name, or null. */

export async function run(argv: string[]): Promise<number> {
  const cmd = command('traceroute')
    .description('print the route packets take to HOST, as traceroute(8): UDP probes, or ICMP echo (-I), or TCP SYN (-T)')
    .option('-4', 'use IPv4')
    .option('-6', 'use IPv6')
    .option('-I, --icmp', 'use ICMP ECHO for tracerouting')
    .option('-T, --tcp', 'use TCP SYN for tracerouting (default port is 80)')
    .option('-p, --port <port>', 'first UDP destination port (default 33434, +1 per probe), first ICMP sequence, or the TCP port', uint('port', 65535))
    .option('-f, --first <first_ttl>', 'start from this hop (default 1)', uint('first_ttl', 255))
    .option('-m, --max-hops <max_ttl>', 'the max number of hops (default 30)', uint('max_ttl', 255))
    .option('-q, --queries <nqueries>', 'probes per hop (default 3)', uint('nqueries', 10))
    .option('-w, --wait <MAX,HERE,NEAR>', 'wait MAX seconds for a probe (default 5), or HERE times a reply of the same hop (3), or NEAR times a later hop\'s (10)', waitSpecs)
    .option('-N, --sim-queries <squeries>', 'probes in flight at once (default 16)', uint('squeries', 255))
    .option('-n', 'do not resolve addresses to names')
    .option('-i, --interface <device>', 'the interface to send from')
    .option('-s, --source <src_addr>', 'source address')
    .option('--json', 'one JSON object per probe (with its reply), then a summary')
    .argument('<host>', 'the host to trace the route to');
  const early = parseCommand(cmd, argv);
  if (early !== null) return early;
  const o = cmd.opts<{
    4?: boolean; 6?: boolean; icmp?: boolean; tcp?: boolean; port?: number; first?: number; maxHops?: number; queries?: number;
    wait?: number[]; simQueries?: number; n?: boolean; interface?: string; source?: string; json?: boolean;
  }>();
  const host = cmd.args[0];
  const method: TraceMethod = o.tcp ? 'tcp' : o.icmp ? 'icmp' : 'udp';
  const opts: TraceOptions = {
    ...defaultTraceOptions, method, port: o.port,
    firstTtl: o.first ?? 1, maxTtl: o.maxHops ?? 30, queries: o.queries ?? 3, simProbes: o.simQueries ?? 16,
  };
  if (o.wait) [opts.waitSecs, opts.hereFactor, opts.nearFactor] = o.wait;
  if (opts.firstTtl === 0 || opts.firstTtl > opts.maxTtl) return usage('first hop out of range');
  if (opts.queries === 0) return usage('no more than 10 probes per hop');
  if (opts.simProbes === 0) opts.simProbes = 1;
  const family: Family | undefined = o[6] ? 6 : o[4] ? 4 : undefined;

  const denied = lacksRawAccess('traceroute');
  if (denied !== null) return denied;
  let path;
  try {
    const dst = await resolveHost(host, family);
    const icmpFilter = dst.family === 4 ? 'icmp' : 'icmp6';
    const filter = method === 'tcp' ? `${icmpFilter} or (tcp and src host ${dst.address})` : icmpFilter;
    path = await openPath(dst, { filter, iface: o.interface, src: o.source });
  } catch (e) {
    return probeFailure('traceroute', e);
  }
  const { route, engine } = path;
  const numeric = o.n === true;
  const names = new Map<string, Promise<string | null>>();
  const write = (s: string): boolean => process.stdout.write(s);
  const tr = new Traceroute(engine, route.src, route.dst, opts, {
    async probe(pb: TraceProbe, _index: number, hop: readonly TraceProbe[]) {
      if (o.json) {
        write(JSON.stringify(probeJson(pb, hop.length)) + '\n');
        return;
      }
      const name = numeric || pb.from === null ? null : await hostName(pb.from, names);
      write(probeText(pb, hop, numeric, name));
    },
  });
  const packetLen = probeLength(tr.probeFor(1, 0));
  if (!o.json) write(traceHeader(host, route.dst, opts.maxTtl, packetLen));
  const unlisten = engine.listen((f) => tr.onFrame(f.view, f.at));
  let end: number;
  try {
    end = await tr.run();
  } catch (e) {
    engine.close();
    return probeFailure('traceroute', e);
  }
  unlisten();
  engine.close();
  const last = tr.result.slice(Math.max(0, end - opts.queries), end);
  const reached = last.some((p) => p.final && p.err === '');
  if (o.json) {
    write(JSON.stringify({
      type: 'summary', destination: host, address: route.dst, method, hops: end / opts.queries, max_hops: opts.maxTtl,
      packet_len: packetLen, reached, annotation: last.find((p) => p.err)?.err ?? null,
    }) + '\n');
  } else write('\n');
  return 0;
}

function usage(message: string): number {
  process.stderr.write(errorLine('traceroute: ' + message) + '\n');
  return 2;
}

function probeJson(pb: TraceProbe, nth: number): Record<string, unknown> {
  return {
    type: 'probe', hop: pb.ttl, probe: nth, key: pb.key,
    reply: pb.from === null ? null : {
      from: pb.from, rtt_ms: pb.recvAt ? Number((pb.recvAt - pb.sendAt).toFixed(3)) : null, ttl: pb.recvTtl,
      icmp_type: pb.icmpType >= 0 ? pb.icmpType : null, icmp_code: pb.icmpCode >= 0 ? pb.icmpCode : null,
      annotation: pb.err || null, final: pb.final,
    },
  };
}
