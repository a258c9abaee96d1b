/**
 * What every subcommand shares: commander parsing with one-line usage errors, and one-line reports
 * of the expected failures (unreadable capture, bad filter).
 */
import { Command, CommanderError } from 'commander';
import { errorLine } from '../output/errors.js';
import { FilterError } from '../filter/index.js';
import { CaptureFileError } from '../pcap/reader.js';

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

/** Expected failures (unreadable file, bad filter) as one line and status 1; anything else is a bug. */
export function reportFailure(name: string, e: unknown): number {
  if (e instanceof CaptureFileError) {
    process.stderr.write(errorLine(e.message.includes(e.file) ? e.message : `${e.file}: ${e.message}`) + '\n');
    return 1;
  }
  if (e instanceof FilterError) {
    process.stderr.write(errorLine(`${name}: ${e.message}`) + '\n');
    return 1;
  }
  throw e;
}
