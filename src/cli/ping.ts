/**
 * `wirescope ping HOST`: ICMP echo built by the dissectors' encoders and sent through libpcap,
 * with iputils ping's options, output and exit statuses (src/probes/ping.ts).
 */
import { isIP } from 'node:net';
import { errorLine } from '../output/errors.js';
import { command, invalidArgument, parseCommand } from './command-line.js';
import { hasRawAccess, rawAccessNeeded } from '../probes/privileges.js';
import { ping, type PingOptions } from '../probes/ping.js';

/** A number option within [min, max], or a one-line usage error (iputils: "invalid argument"). */
function num(flag: string, min: number, max: number, integer: boolean): (s: string) => number {
  return (s) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw invalidArgument(`invalid argument for ${flag}: '${s}' (${min}..${max})`);
    }
    return n;
  };
}

export async function run(argv: string[]): Promise<number> {
  const cmd = command('ping')
    .description('ICMP echo to HOST, as iputils ping')
    .argument('<host>', 'host name or address')
    .option('-c <count>', 'stop after sending count probes', num('-c', 1, 2 ** 31 - 1, true))
    .option('-i <interval>', 'seconds between probes', num('-i', 0, 2 ** 31 - 1, false), 1)
    .option('-s <size>', 'ICMP data bytes', num('-s', 0, 65507, true), 56)
    .option('-t <ttl>', 'IP time to live / hop limit', num('-t', 1, 255, true), 64)
    .option('-W <timeout>', 'seconds to wait for a reply', num('-W', 0, 2 ** 31 - 1, false), 10)
    .option('-w <deadline>', 'seconds before ping exits', num('-w', 0, 2 ** 31 - 1, true), 0)
    .option('-I <interface>', 'interface name or source address')
    .option('-q', 'quiet: only the summary')
    .option('-n', 'numeric output: no reverse lookups')
    .option('-D', 'print the Unix time before each line')
    .option('-v', 'print each frame sent and received (capture printer)')
    .option('-4', 'IPv4 only')
    .option('-6', 'IPv6 only')
    .option('--json', 'one JSON object per probe and reply, then a summary');
  const early = parseCommand(cmd, argv, 'probe');
  if (early !== null) return early;
  const f = cmd.opts<Record<string, unknown>>();
  if (f['4'] && f['6']) {
    process.stderr.write(errorLine('ping: only one of -4 and -6 may be given') + '\n');
    return 2;
  }
  if (!hasRawAccess()) {
    process.stderr.write(errorLine(rawAccessNeeded('ping')) + '\n');
    return 2;
  }
  const I = f.I as string | undefined;
  const o: PingOptions = {
    host: cmd.args[0],
    family: f['4'] ? 4 : f['6'] ? 6 : undefined,
    count: (f.c as number | undefined) ?? 0,
    interval: f.i as number,
    size: f.s as number,
    ttl: f.t as number,
    timeout: f.W as number,
    deadline: f.w as number,
    iface: I !== undefined && !isIP(I) ? I : undefined,
    source: I !== undefined && isIP(I) ? I : undefined,
    quiet: f.q === true,
    numeric: f.n === true,
    timestamps: f.D === true,
    json: f.json === true,
    verbose: f.v === true,
  };
  try {
    return await ping(o, (s) => process.stdout.write(s), (line) => process.stderr.write(errorLine(line) + '\n'));
  } catch (e) {
    process.stderr.write(errorLine(`ping: ${e instanceof Error ? e.message : String(e)}`) + '\n');
    return 2;
  }
}
