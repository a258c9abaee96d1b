/**
 * `wirescope handshake HOST PORT`: hping3 -S's SYN probe (open / closed / filtered), or with --full
 * a complete three-way handshake and close with each step's timing (src/probes/handshake.ts).
 */
import { InvalidArgumentError } from 'commander';
import { command, parseCommand } from './command-line.js';
import { errorLine } from '../output/errors.js';
import { openPath, resolveHost, type Family } from '../probes/path.js';
import { formatText } from '../probes/engine.js';
import { hostName, lacksRawAccess, probeFailure } from '../probes/probe-cli.js';
import { hpingFlags } from '../probes/probe-replies.js';
import { TH } from '../../dissectors/tcp.js';
import {
  blockKernelRst, Handshake, handshakeHeader, replyLine, statisticsBlock, verdictLine, type HandshakeProbe, type HandshakeReply,
} from '../probes/handshake.js';

function port(name: string): (s: string) => number {
  return (s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n > 65535) throw new InvalidArgumentError(`${name} must be a port number (0-65535)`);
    return n;
  };
}

/** hping3's -i: seconds, or uN microseconds. */
function interval(s: string): number {
  const us = s.startsWith('u');
  const n = Number(us ? s.slice(1) : s);
  if (s === '' || s === 'u' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('the interval is seconds, or uN microseconds');
  return us ? n / 1000 : n * 1000;
}

function count(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n === 0) throw new InvalidArgumentError('the count must be a positive integer');
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = command('handshake')
    .description('probe a TCP port with SYNs as hping3 -S does (SYN-ACK: open, RST: closed, ICMP unreachable or nothing: filtered); --full completes and closes a real handshake')
    .option('-c, --count <count>', 'stop after this many probes (default: until interrupted; 1 with --full)', count)
    .option('-i, --interval <wait>', 'between probes: seconds, or uN microseconds (default 1)', interval)
    .option('-p, --source-port <port>', 'source port of the first probe (later probes count up, as hping3); default random', port('source port'))
    .option('-I, --interface <device>', 'the interface to send from')
    .option('-n, --numeric', 'numeric output: no host names for ICMP senders')
    .option('-v, --verbose', 'print each frame sent and received, as the capture printer does')
    .option('-4', 'use IPv4')
    .option('-6', 'use IPv6')
    .option('--full', 'complete the three-way handshake, then close it (FIN), timing each step')
    .option('--block-kernel-rst', 'with --full: while it runs, an nftables rule in this network namespace drops the RSTs this host\'s kernel sends from the probe ports (it has no socket for the connection and would reset it)')
    .option('--json', 'one JSON object per probe and per reply (and per --full step), then a summary')
    .argument('<host>', 'the host to probe')
    .argument('<port>', 'the TCP port', port('port'));
  const early = parseCommand(cmd, argv);
  if (early !== null) return early;
  const o = cmd.opts<{
    count?: number; interval?: number; sourcePort?: number; interface?: string; numeric?: boolean; verbose?: boolean;
    4?: boolean; 6?: boolean; full?: boolean; blockKernelRst?: boolean; json?: boolean;
  }>();
  const host = cmd.args[0];
  const dport = cmd.processedArgs[1] as number;
  if (o.blockKernelRst && !o.full) {
    process.stderr.write(errorLine('handshake: --block-kernel-rst goes with --full') + '\n');
    return 2;
  }
  const family: Family | undefined = o[6] ? 6 : o[4] ? 4 : undefined;
  const probes = o.count ?? (o.full ? 1 : Infinity);
  const sport = o.sourcePort ?? 1024 + Math.floor(Math.random() * 2000);

  const denied = lacksRawAccess('handshake');
  if (denied !== null) return denied;
  let path;
  try {
    const dst = await resolveHost(host, family);
    const icmp = dst.family === 4 ? 'icmp' : 'icmp6';
    // Both directions of the TCP conversation: -v shows the RSTs this host's kernel sends too.
    path = await openPath(dst, { filter: `${icmp} or (tcp and host ${dst.address} and port ${dport})`, iface: o.interface });
  } catch (e) {
    return probeFailure('handshake', e);
  }
  const { route, engine } = path;
  let unblock: (() => void) | null = null;
  if (o.blockKernelRst) {
    const last = Number.isFinite(probes) ? Math.min(65535, sport + probes - 1) : 65535;
    try {
      unblock = blockKernelRst(route.dst, sport, last);
    } catch (e) {
      engine.close();
      process.stderr.write(errorLine('handshake: ' + (e as Error).message) + '\n');
      return 2;
    }
  }
  const out = (s: string): boolean => process.stdout.write(s + '\n');
  const json = (x: Record<string, unknown>): boolean => out(JSON.stringify(x));
  const names = new Map<string, Promise<string | null>>();
  const pending: Array<Promise<void>> = [];
  let kernelNote = false;
  const hs = new Handshake(engine, route.src, route.dst, { port: dport, count: probes, intervalMs: o.interval ?? 1000, sport, lingerMs: 1000, full: o.full === true }, {
    sent(pb, f, flags) {
      if (o.json && flags === TH.SYN) json({ type: 'probe', seq: pb.seq, sport: pb.sport, dport, isn: pb.isn });
      if (o.verbose && !o.json) out(formatText(f.packet));
    },
    received(f) {
      if (o.verbose && !o.json) out(formatText(f.packet));
    },
    reply(pb: HandshakeProbe, r: HandshakeReply) {
      if (o.json) {
        json(replyJson(pb, r));
        return;
      }
      if (r.verdict === 'open' && !o.full && !kernelNote) {
        kernelNote = true;
        process.stderr.write('note: wirescope answers each SYN-ACK with a RST; this host\'s kernel, which has no socket for the connection, may send its own RST too\n');
      }
      const needName = r.icmp !== null && !o.numeric;
      const line = needName ? hostName(r.from, names).then((n) => { out(replyLine(pb, r, dport, false, n)); }) : null;
      if (line) pending.push(line);
      else out(replyLine(pb, r, dport, o.numeric === true, null));
    },
    step(pb, s, detail) {
      if (o.json) json({ type: 'step', seq: pb.seq, step: s.step, ms: ms3(s.atMs), detail });
      else out(`seq=${pb.seq} +${s.atMs.toFixed(3)} ms: ${detail}`);
    },
  });
  if (!o.json) out(handshakeHeader(host, route.iface.name, route.dst));
  let kernelRsts = 0;
  const unlisten = engine.listen((f) => {
    const t = f.view.tcp;
    // Our own frames are not captured back: a segment from our address is the kernel's.
    if (t !== undefined && f.view.ip?.srcAddr === route.src) {
      if (t.flags & TH.RST) kernelRsts++;
      if (o.verbose && !o.json) out(formatText(f.packet) + '  (sent by this host\'s kernel)');
      return;
    }
    hs.onFrame(f);
  });
  const interrupt = (): void => hs.stop();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let summary;
  try {
    summary = await hs.run();
    await Promise.all(pending);
  } catch (e) {
    return probeFailure('handshake', e);
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    unlisten();
    engine.close();
    unblock?.();
  }
  if (o.json) {
    json({
      type: 'summary', destination: host, address: route.dst, port: dport, transmitted: summary.sent, received: summary.received,
      loss_percent: summary.loss, kernel_rsts: kernelRsts, rtt_min_ms: ms3(summary.rttMin), rtt_avg_ms: ms3(summary.rttAvg), rtt_max_ms: ms3(summary.rttMax),
      verdict: summary.verdict,
    });
  } else {
    process.stderr.write(statisticsBlock(host, summary));
    out(verdictLine(route.dst, dport, summary));
  }
  return summary.received > 0 ? 0 : 1;
}


function replyJson(pb: HandshakeProbe, r: HandshakeReply): Record<string, unknown> {
  return {
    type: 'reply', seq: pb.seq, from: r.from, len: r.len, ttl: r.ttl, ip_id: r.ipId >= 0 ? r.ipId : null, df: r.df,
    flags: r.icmp === null ? hpingFlags(r.tcpFlags) : null, win: r.icmp === null ? r.window : null,
    icmp_type: r.icmp?.type ?? null, icmp_code: r.icmp?.code ?? null,
    rtt_ms: ms3(r.at - pb.sendAt), verdict: r.verdict, dup: r.dup,
  };
}

/** Milliseconds to the microsecond, for JSON. */
function ms3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
