/**
 * `wirescope arping IP`: ARP requests built by the ARP and Ethernet encoders and sent through
 * libpcap, with iputils arping's options, output and exit statuses (src/probes/arping.ts).
 */
import { errorLine } from '../output/errors.js';
import { command, invalidArgument, parseCommand } from './command-line.js';
import { hasRawAccess, rawAccessNeeded } from '../probes/privileges.js';
import { arping, type ArpingOptions } from '../probes/arping.js';

function int(flag: string, min: number): (s: string) => number {
  return (s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s.trim()) || n < min || n > 2 ** 31 - 1) {
      throw invalidArgument(`invalid argument for ${flag}: '${s}'`);
    }
    return n;
  };
}

export async function run(argv: string[]): Promise<number> {
  const cmd = command('arping')
    .description('ARP requests to IP, as iputils arping')
    .argument('<destination>', 'IPv4 address or host name')
    .option('-c <count>', 'stop after sending count requests', int('-c', 1))
    .option('-w <deadline>', 'seconds before arping exits', int('-w', 0), 0)
    .option('-i <interval>', 'seconds between requests', int('-i', 0), 1)
    .option('-I <interface>', 'interface to use (default: the route to the destination)')
    .option('-s <source>', 'source IP address')
    .option('-D', 'duplicate address detection mode')
    .option('-U', 'unsolicited ARP requests announcing the address')
    .option('-A', 'unsolicited ARP replies announcing the address')
    .option('-f', 'quit on the first reply')
    .option('-b', 'keep broadcasting (no unicast after a reply)')
    .option('-q', 'quiet')
    .option('-v', 'print each frame sent and received (capture printer)')
    .option('--json', 'one JSON object per probe and reply, then a summary');
  const early = parseCommand(cmd, argv, 'probe');
  if (early !== null) return early;
  if (!hasRawAccess()) {
    process.stderr.write(errorLine(rawAccessNeeded('arping')) + '\n');
    return 2;
  }
  const f = cmd.opts<Record<string, unknown>>();
  const o: ArpingOptions = {
    target: cmd.args[0],
    count: (f.c as number | undefined) ?? 0,
    deadline: f.w as number,
    interval: f.i as number,
    iface: f.I as string | undefined,
    source: f.s as string | undefined,
    dad: f.D === true,
    unsolicited: f.U === true || f.A === true,
    advert: f.A === true,
    quitOnReply: f.f === true || f.D === true,
    broadcastOnly: f.b === true,
    quiet: f.q === true,
    json: f.json === true,
    verbose: f.v === true,
  };
  try {
    return await arping(o, (s) => process.stdout.write(s), (line) => process.stderr.write(errorLine(line) + '\n'));
  } catch (e) {
    process.stderr.write(errorLine(`arping: ${e instanceof Error ? e.message : String(e)}`) + '\n');
    return 2;
  }
}
