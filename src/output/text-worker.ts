/**
 * A worker thread of the parallel text path (parallel-text.ts): formats the batches it is sent
 * (batch-format.ts) and replies on its port, then bumps its counter for the waiting merge.
 */
import { workerData } from 'node:worker_threads';
import type { TextOptions } from './text.js';
import type { BatchDone, BatchToFormat } from './batch-format.js';
import type { TextWorkerData } from './parallel-text.js';

const { opts, port, signal, index } = workerData as TextWorkerData & { opts: TextOptions };

function reply(m: BatchDone): void {
  port.postMessage(m, m.error === undefined ? [m.text, m.log, m.input] : []);
  Atomics.add(signal, index, 1);
  Atomics.notify(signal, index);
}

/**
 * The formatter. Its modules are loaded here rather than imported above: one that fails to load
 * gives error replies instead of a thread that dies while the merge waits for it.
 */
async function formatter(): Promise<((m: BatchToFormat) => BatchDone) | string> {
  try {
    const [{ BatchFormatter }] = await Promise.all([import('./batch-format.js'), import('../../dissectors/index.js')]);
    const f = new BatchFormatter(opts);
    return (m) => f.format(m);
  } catch (e) {
    return `cannot load the formatter: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const format = await formatter();
port.on('message', (m: BatchToFormat) => reply(typeof format === 'string' ? { error: format } : format(m)));
