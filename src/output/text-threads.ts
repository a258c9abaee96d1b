/**
 * Whether a file's text is formatted by worker threads (src/output/parallel-text.ts), decided
 * before that module and its worker machinery are loaded.
 */
import { availableParallelism } from 'node:os';

/** Files smaller than this are formatted in one thread: starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 16 << 20;

/**
 * How many worker threads format the text of a file of `fileBytes` bytes (this thread formats
 * too): WIRESCOPE_THREADS when set (0: none); else, for a file of PARALLEL_MIN_BYTES or more on
 * MIN_CORES cores or more, one fewer than the cores, up to 3. Each thread formats about a third
 * slower than one thread alone (measured on 2 cores), and the isolates' background work doubles:
 * on 2 cores that eats the gain, so fewer cores format in one thread.
 */
export function textThreads(fileBytes: number): number {
  const env = process.env.WIRESCOPE_THREADS;
  if (env !== undefined && /^\d+$/.test(env)) return Math.min(Number(env), 16);
  const cores = availableParallelism();
  return cores < MIN_CORES || fileBytes < PARALLEL_MIN_BYTES ? 0 : Math.min(cores - 1, 3);
}

/** Cores below which text is formatted in one thread unless asked otherwise. */
const MIN_CORES = 4;
