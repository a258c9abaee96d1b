/** One-line error messages for stderr, red on a terminal (NO_COLOR honoured). */
import chalk from 'chalk';

const colour = process.stderr.isTTY === true && !process.env.NO_COLOR;

export function errorLine(message: string): string {
  const line = 'wirescope: ' + message;
  return colour ? chalk.red(line) : line;
}
