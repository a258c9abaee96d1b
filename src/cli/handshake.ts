/** `wirescope handshake`: not built yet. */
import { errorLine } from '../output/errors.js';

export async function run(_argv: string[]): Promise<number> {
  process.stderr.write(errorLine('handshake: not implemented yet') + '\n');
  return 2;
}
