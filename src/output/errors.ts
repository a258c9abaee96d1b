/** One-line error messages for stderr, red on a terminal (NO_COLOR honoured). */

const colour = process.stderr.isTTY === true && !process.env.NO_COLOR;
// chalk is loaded only when it will colour something: importing it costs a run ~15 ms of start-up.
const chalk = colour ? (await import('chalk')).default : null;

export function errorLine(message: string): string {
  const line = 'wirescope: ' + message;
  return chalk !== null ? chalk.red(line) : line;
}
