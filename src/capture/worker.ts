/**
 * The pipeline thread of a live capture: takes frames from the shared FrameQueue and pushes them
 * through the same FramePipeline as reading a file (-c, -w with tcpdump's rotation, or printing).
 * Decoding and output happen here, so the capture thread only copies frames out of libpcap.
 *
 * Messages to the capture thread: 'ready' (output open), 'error' (output could not be opened),
 * 'done' (the run ended: -c reached, queue finished or stopped, output closed or failed).
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { PcapWriter } from '../pcap/writer.js';
import { CaptureFileError } from '../pcap/error.js';
import { OutputClosed } from '../output/sink.js';
import { openPipeline, type FramePipeline, type FrameWriter } from '../cli/pipeline.js';
import type { Options } from '../cli/args.js';
import { FileLimitReached, RotatingWriter } from './rotate.js';
import { FrameQueue, QueueState, type QueueLayout } from './queue.js';

export interface WorkerInput {
  opts: Options;
  device: string;
  linkType: number;
  snaplen: number;
  layout: QueueLayout;
  /** Nice value to run at: the process's own, not the capture thread's raised one. */
  nice: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'error'; message: string; code?: string }
  | { type: 'done'; handled: number; status: number; error?: string; note?: string };

/** How long an idle wait lasts before the state is looked at again. */
const IDLE_WAIT_MS = 50;

/** -w's destination: one pcap file, or tcpdump's rotation under -C/-G. */
function outputWriter(opts: Options, linkType: number, snaplen: number): FrameWriter {
  const common = { linkType, snaplen, nano: opts.nano, packetBuffered: opts.packetBuffered };
  if (opts.rotateSize === undefined && opts.rotateSeconds === undefined) return new PcapWriter(opts.write!, common);
  return new RotatingWriter({
    ...common, path: opts.write!, sizeLimit: opts.rotateSize !== undefined ? opts.rotateSize * 1_000_000 : undefined,
    seconds: opts.rotateSeconds, fileCount: opts.rotateCount,
  });
}

function post(m: WorkerMessage): void {
  parentPort!.postMessage(m);
}

async function run(input: WorkerInput): Promise<void> {
  const { opts, linkType, snaplen } = input;
  // Threads start with their creator's priority; on Linux setPriority(n) sets this thread's only.
  if (getPriority() !== input.nice) setPriority(input.nice);
  const queue = new FrameQueue(input.layout);
  let pipeline: FramePipeline;
  try {
    pipeline = await openPipeline(opts, {
      linkType, snaplen, name: input.device, kernelFiltered: true,
      writer: opts.write !== undefined ? outputWriter(opts, linkType, snaplen) : undefined,
    });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e), code: (e as CaptureFileError).code });
    return;
  }
  post({ type: 'ready' });
  const done: WorkerMessage & { type: 'done' } = { type: 'done', handled: 0, status: 0 };
  let number = 0;
  for (;;) {
    const f = queue.next(number + 1, linkType);
    if (f === null) {
      // The capture thread closes libpcap before it asks to finish: nothing more will come.
      if (queue.state !== QueueState.Run) break;
      queue.waitForFrames(IDLE_WAIT_MS);
      continue;
    }
    if (queue.state === QueueState.Stop) break;
    number++;
    try {
      if (!pipeline.push(f)) break;
    } catch (e) {
      if (e instanceof FileLimitReached) done.note = e.message;
      else if (!(e instanceof OutputClosed)) {
        done.error = e instanceof Error ? e.message : String(e);
        done.status = 1;
      }
      break;
    }
  }
  try {
    pipeline.close();
  } catch (e) {
    if (!(e instanceof OutputClosed)) {
      done.error = e instanceof Error ? e.message : String(e);
      done.status = 1;
    }
  }
  done.handled = pipeline.handled;
  post(done);
}

run(workerData as WorkerInput);
