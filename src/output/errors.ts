/** One-line error messages for stderr, red on a terminal (NO_COLOR and TERM=dumb honoured). */
import { fs } from '../core/node-fs.js';

/**
 * A terminal is a character device: a pipe or a file settles it without making process.stderr,
 * whose stream classes cost a short run ~10 ms to load.
 */
function stderrIsTerminal(): boolean {
  try {
    if (!fs.fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.stderr.isTTY === true;
}

/**
 * The decision is ours, not chalk's: chalk's own detection turns colour off whenever CI is set or
 * TERM is unset, on a real terminal too.
 */
const colour = !process.env.NO_COLOR && process.env.TERM !== 'dumb' && stderrIsTerminal();
// chalk is loaded only when it will colour something: importing it costs a run ~15 ms of start-up.
const chalk = colour ? new (await import('chalk')).Chalk({ level: 1 }) : null;

export function errorLine(message: string): string {
  const line = 'wirescope: ' + message;
  return chalk !== null ? chalk.red(line) : line;
}

/** Writes text to stderr as it is (fd 2, synchronously), without making process.stderr. */
export function writeStderr(text: string): void {
  fs.writeSync(2, text);
}

/** A -T type or -e name wirescope does not know, or no -e at all: the message is the one line to show. */
export class FieldListError extends Error {}
