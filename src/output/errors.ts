/** One-line error messages for stderr, red on a terminal (NO_COLOR honoured). */
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

const colour = !process.env.NO_COLOR && stderrIsTerminal();
// chalk is loaded only when it will colour something: importing it costs a run ~15 ms of start-up.
const chalk = colour ? (await import('chalk')).default : null;

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
