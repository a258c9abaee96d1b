/** `wirescope ping`: not built yet. */
import { errorLine } from '../output/errors.js';

export async function run(_argv: string[]): Promise<number> {
  process.stderr.write(errorLine('ping: not implemented yet') + '\n');
  return 2;
}
