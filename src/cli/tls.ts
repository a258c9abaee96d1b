/** `wirescope tls`: not built yet. */
import { errorLine } from '../output/errors.js';

export async function run(_argv: string[]): Promise<number> {
  process.stderr.write(errorLine('tls: not implemented yet') + '\n');
  return 2;
}
