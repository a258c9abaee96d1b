/**
 * What every subcommand shares: commander parsing with one-line usage errors, and one-line reports
 * of the expected failures (unreadable capture, bad filter).
 */
import { Command, CommanderError } from 'commander';
import { errorLine } from '../output/errors.js';
import { FilterError } from '../filter/index.js';
import { CaptureFileError } from '../pcap/reader.js';
import { StreamFileError } from '../tcp/follow.js';
import { TextSink } from '../output/sink.js';

/**
 * A subcommand's command line: `wirescope NAME`. Capture commands answer a usage error with
 * status 1 and their help (as the main command); the probes with status 2 and one line, as
 * iputils does.
 */
export function command(name: string): Command {
  return new Command('wirescope ' + name);
}

/**
 * Parses argv; a usage error or --help ends the command with the status to return (errors as one
 * line on stderr, "wirescope: NAME: what was wrong"), else null.
 */
export function parseCommand(cmd: Command, argv: string[], usage: 'capture' | 'probe' = 'capture'): number | null {
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });
  try {
    cmd.parse(argv, { from: 'user' });
    return null;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0) return 0;
    const name = cmd.name().replace(/^wirescope /, '');
    process.stderr.write(errorLine(`${name}: ${e.message.replace(/^error: /, '')}`) + '\n');
    if (usage === 'probe') return 2;
    process.stderr.write(cmd.helpInformation());
    return 1;
  }
}

/** A usage error from an option's parser (e.g. a number out of range), reported by parseCommand. */
export function invalidArgument(message: string): CommanderError {
  return new CommanderError(2, 'wirescope.invalidArgument', message);
}

/** Expected failures (unreadable file, bad filter, an output file that cannot be written) as one line and status 1; anything else is a bug. */
export function reportFailure(name: string, e: unknown): number {
  if (e instanceof CaptureFileError) {
    process.stderr.write(errorLine(e.message.includes(e.file) ? e.message : `${e.file}: ${e.message}`) + '\n');
    return 1;
  }
  if (e instanceof FilterError || e instanceof StreamFileError) {
    process.stderr.write(errorLine(`${name}: ${e.message}`) + '\n');
    return 1;
  }
  throw e;
}

/** A capture summarised as rows: what `conns`, `http` and `tls` read and print. */
export interface CaptureTable<R> {
  rows: R[];
  /** Connections closed early for the connection limit (their rows are partial). */
  evicted: number;
  /** The file was damaged part-way (the rows cover every frame before it). */
  error: unknown;
}

export interface CaptureTableCommand<R> {
  name: string;
  description: string;
  /** What --json prints per row. */
  jsonHelp: string;
  /** What the filter selects. */
  filterHelp: string;
  read(file: string, filter: string): CaptureTable<R>;
  table(rows: readonly R[]): string;
  json?(row: R): unknown;
}

/** `wirescope NAME -r FILE [--json] [FILTER]`: the rows as a table (cli-table3) or one JSON object each. */
export async function runCaptureTable<R>(argv: string[], spec: CaptureTableCommand<R>): Promise<number> {
  const cmd = command(spec.name)
    .description(spec.description)
    .requiredOption('-r, --read <file>', 'capture file (pcap or pcapng; - for stdin)')
    .option('--json', spec.jsonHelp)
    .option('-n', 'accepted for tcpdump/tshark habit (names are never resolved)')
    .argument('[filter...]', `pcap-filter expression: ${spec.filterHelp}`);
  const early = parseCommand(cmd, argv);
  if (early !== null) return early;
  const opts = cmd.opts<{ read: string; json?: boolean }>();
  let t: CaptureTable<R>;
  try {
    t = spec.read(opts.read, cmd.args.join(' '));
  } catch (e) {
    return reportFailure(spec.name, e);
  }
  const out = new TextSink(1);
  if (opts.json) for (const r of t.rows) out.writeLine(JSON.stringify(spec.json ? spec.json(r) : r));
  else out.writeLine(spec.table(t.rows));
  out.flush();
  if (t.evicted > 0) process.stderr.write(errorLine(`${spec.name}: ${t.evicted} connections were closed early for the connection limit`) + '\n');
  return t.error === null ? 0 : reportFailure(spec.name, t.error);
}
