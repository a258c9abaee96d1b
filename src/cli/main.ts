/**
 * Entry point. Subcommands (follow, conns, ping, ...) are dispatched by commands.ts;
 * the default command is tcpdump's own command line.
 */
import { fs } from '../core/node-fs.js';
import { parseArgs, UsageError, type Options } from './args.js';
import { runCapture } from './capture.js';
import { OutputClosed } from '../output/sink.js';
import { errorLine } from '../output/errors.js';
import { subcommand } from './commands.js';

/** The package's version (read only for --version). */
function version(): string {
  return (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const USAGE = `Usage: wirescope [-AeKnqSvxX#] [-c count] [-r file] [-w file] [-s snaplen] [-i interface]
                 [-F file] [-T fields -e field ...] [--json] [--nano] [ expression ]
Read a capture (-r FILE, pcap or pcapng; - for stdin) or capture live (-i IF) and print each
packet as tcpdump does. Options follow tcpdump's; -T fields -e FIELD follows tshark's.
  -n  don't resolve names     -v  more detail (-vv)     -e  link-level header
  -x/-xx/-X/-XX/-A  hex / hex+ASCII / ASCII dumps        -q  quiet
  -t/-tt/-ttt/-tttt/-ttttt  timestamp formats            -S  absolute TCP sequence numbers
  -c N  stop after N packets  -w FILE  write pcap (- for stdout)   -#  packet numbers
  --json  one JSON object per packet     -T fields -e FIELD ...  tab-separated fields
Live capture (root, or node with cap_net_raw,cap_net_admin): -D lists interfaces; -i IF|N|any;
  -s N snaplen (<= 65535)  -B KiB kernel buffer  -U/-l packet/line-buffered output
  -C MB / -G SECONDS / -W N  rotate -w files as tcpdump does    -Z USER  user to run as
Commands (wirescope COMMAND --help for each):
  follow -r FILE (--stream N | FILTER)  a TCP conversation, as tshark -z follow,tcp
  conns -r FILE      TCP connections        http -r FILE   HTTP transactions
  tls -r FILE        TLS hellos, JA3/JA4    ping HOST      as iputils ping
  traceroute HOST    as traceroute(8)       arping IP      as iputils arping
  handshake HOST PORT   a TCP SYN probe, as hping3 -S`;

export function main(argv: string[]): number | Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(errorLine(e.message) + '\n' + USAGE + '\n');
      return 1;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`wirescope version ${version()}\n`);
    return 0;
  }
  if (opts.read !== undefined && !opts.listInterfaces) return runCapture(opts);
  // Live capture (and cap) is loaded only when asked for: reading a file starts faster without it.
  return import('./live.js').then((live) => (opts.listInterfaces ? live.runListInterfaces() : live.runLive(opts)));
}

function fail(e: unknown): void {
  if (!(e instanceof OutputClosed)) {
    process.stderr.write(errorLine(e instanceof Error ? e.message : String(e)) + '\n');
    process.exitCode = 1;
  }
}

const argv = process.argv.slice(2);
const command = subcommand(argv[0]);
if (command !== undefined) {
  command()
    .then((m) => m.run(argv.slice(1)))
    .then((status) => { process.exitCode = status; }, fail);
} else {
  try {
    const status = main(argv);
    if (typeof status === 'number') process.exitCode = status;
    else status.then((s) => { process.exitCode = s; }, fail);
  } catch (e) {
    fail(e);
  }
}
