/**
 * Live capture (no -r): tcpdump's run around the same frame pipeline as reading a file. The
 * interface is opened with the filter compiled by libpcap into the kernel, root is given up,
 * output files are opened, and frames flow from libpcap to the pipeline until -c, a signal
 * (INT, TERM, HUP), a closed output or the -G/-W file limit ends the run with tcpdump's summary.
 * Also -D, the interface list.
 */
import { realpathSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { isatty } from 'node:tty';
import { Worker } from 'node:worker_threads';
import { linkTypeDescription } from '../core/linktypes.js';
import { writeAll } from '../output/sink.js';
import { errorLine } from '../output/errors.js';
import { systemMessage } from '../pcap/io.js';
import { CAP_SNAPLEN, LiveCapture, LiveCaptureError, capDeviceList } from '../capture/live.js';
import { formatInterface, listInterfaces, resolveInterface } from '../capture/devices.js';
import { dropPrivileges, dropTarget, PrivilegeError, type Account } from '../capture/privileges.js';
import { allocateQueue, FrameQueue, QueueState } from '../capture/queue.js';
import type { WorkerInput, WorkerMessage } from '../capture/worker.js';
import { filterExpression } from './args.js';
import type { Options } from './args.js';

/**
 * Kernel ring for the capture socket (-B). cap turns on immediate mode, so libpcap uses
 * TPACKET_V2 with 64 KiB slots (see capture/live.ts): libpcap's 2 MiB default would hold 31
 * frames. 64 MiB holds ~1,000 (and maps 128 MiB): enough for the bursts a paced sender makes on a
 * busy machine (tcpreplay at 20,000/s lost frames with 32 MiB, none with 64 MiB, in bench/live).
 */
export const DEFAULT_BUFFER_SIZE = 64 << 20;

/**
 * Nice value for the capture thread. It only copies frames out of libpcap (~1-2 us each), but a
 * busy machine can keep it off the CPU longer than libpcap's ring lasts; as root it takes this
 * priority before giving root up. The pipeline thread goes back to the original value.
 */
const CAPTURE_NICE = -10;

/** Raises this thread's priority when allowed (root or CAP_SYS_NICE); returns the value it had. */
function raiseCapturePriority(): number {
  const original = getPriority();
  try {
    if (original > CAPTURE_NICE) setPriority(CAPTURE_NICE);
  } catch { /* not allowed: run as we are */ }
  return original;
}

/** libpcap's default snapshot length (tcpdump -s 0 or no -s). */
const DEFAULT_SNAPLEN = 262144;

/** The queue between libpcap and the pipeline thread: ~100,000 frames of the bench's average size. */
const QUEUE_BYTES = 32 << 20;
const QUEUE_FRAMES = 1 << 17;

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** -D: libpcap's interfaces, numbered as -i NUMBER takes them. */
export function runListInterfaces(): number {
  try {
    const lines = listInterfaces().map(formatInterface);
    writeAll(1, Buffer.from(lines.map((l) => l + '\n').join('')));
    return 0;
  } catch (e) {
    return fail(e);
  }
}

/**
 * Starts a live capture. Returns 1 when it cannot start (one line on stderr), else 0; the run then
 * goes on in the event loop and sets process.exitCode when it ends.
 */
export function runLive(opts: Options): number {
  let expr: string;
  try {
    expr = filterExpression(opts);
  } catch (e) {
    return fail(`can't open ${opts.filterFile}: ${systemMessage(e)}`);
  }
  const requestedSnaplen = opts.snaplen ?? 0;
  const layout = allocateQueue(QUEUE_FRAMES, QUEUE_BYTES);
  let capture: LiveCapture;
  let device = opts.interface ?? '';
  try {
    device = resolveInterface(opts.interface, () => capDeviceList().map((d) => d.name));
    capture = new LiveCapture({ device, filter: expr, snaplen: requestedSnaplen, bufferSize: opts.bufferSize ?? DEFAULT_BUFFER_SIZE },
      new FrameQueue(layout));
  } catch (e) {
    return fail(e instanceof LiveCaptureError ? openFailure(e, device, expr) : e);
  }
  if (requestedSnaplen > CAP_SNAPLEN && requestedSnaplen !== DEFAULT_SNAPLEN) {
    process.stderr.write(`wirescope: WARNING: snaplen lowered from ${requestedSnaplen} to ${CAP_SNAPLEN}\n`);
  }
  const nice = raiseCapturePriority();
  let user: Account | null;
  try {
    user = dropTarget(opts.user, process.env);
    if (user !== null) dropPrivileges(user);
  } catch (e) {
    capture.close();
    return fail(e);
  }
  const input: WorkerInput = {
    opts: { ...opts, lineBuffered: opts.lineBuffered || isatty(1) },
    device, linkType: capture.linkType, snaplen: capture.snaplen, layout, nice,
  };
  new LiveRun(capture, new FrameQueue(layout), new Worker(new URL('../capture/worker.js', import.meta.url), { workerData: input }), opts, user);
  return 0;
}

/**
 * One running capture: this thread feeds the queue from libpcap, the worker runs the pipeline.
 * The first stop signal closes libpcap and lets the worker finish what is queued; a second one
 * stops it after the frame in hand.
 */
class LiveRun {
  private signals = 0;
  private ended = false;
  private readonly onSignal = (): void => {
    this.capture.close();
    this.interrupted = true;
    this.queue.setState(++this.signals === 1 ? QueueState.Finish : QueueState.Stop);
  };
  private interrupted = false;

  constructor(
    private readonly capture: LiveCapture,
    private readonly queue: FrameQueue,
    private readonly worker: Worker,
    private readonly opts: Options,
    private readonly user: Account | null,
  ) {
    for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
    worker.on('message', (m: WorkerMessage) => this.message(m));
    worker.on('error', (e) => this.end(1, e.message));
    // Its last message may still be on its way when 'exit' fires.
    worker.on('exit', () => setImmediate(() => this.end(1, 'the pipeline thread ended unexpectedly')));
  }

  private message(m: WorkerMessage): void {
    switch (m.type) {
      case 'ready':
        if (!this.opts.json && this.opts.outputType === undefined) {
          const head = this.opts.v === 0 && this.opts.write === undefined
            ? 'wirescope: verbose output suppressed, use -v[v]... for full protocol decode\n'
            : 'wirescope: ';
          process.stderr.write(`${head}listening on ${this.capture.device}, link-type ${linkTypeDescription(this.capture.linkType)}, ` +
            `snapshot length ${this.capture.snaplen} bytes\n`);
        } else process.stderr.write(`Capturing on '${this.capture.device}'\n`); // tshark's line, for its output formats
        break;
      case 'error': {
        const hint = m.code === 'EACCES' && this.user !== null
          ? ` (files are opened as ${this.user.name}, after root is given up; -Z root keeps root)` : '';
        this.end(1, m.message + hint, false);
        break;
      }
      case 'done':
        if (m.note !== undefined) process.stderr.write(m.note + '\n');
        this.end(m.status, m.error, true, m.handled);
    }
  }

  /** The run is over: libpcap closed, the summary (unless the output never opened), the exit status. */
  private end(status: number, error?: string, started = true, handled = 0): void {
    if (this.ended) return;
    this.ended = true;
    this.capture.close();
    this.queue.setState(QueueState.Stop);
    for (const s of STOP_SIGNALS) process.off(s, this.onSignal);
    if (error !== undefined) process.stderr.write(errorLine(error) + '\n');
    if (started) {
      const printingText = this.opts.write === undefined && !this.opts.json && this.opts.outputType === undefined;
      if (this.interrupted && printingText) {
        try {
          writeAll(1, NEWLINE);
        } catch { /* output closed */ }
      }
      process.stderr.write(summary(handled, this.capture));
    }
    process.exitCode = status;
  }
}

const NEWLINE = Buffer.from('\n');

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/**
 * tcpdump's end-of-capture lines, with only the figures known here: frames handled, frames lost
 * inside wirescope (refused by a full queue), and no kernel counters (cap has no pcap_stats()).
 */
export function summary(handled: number, capture: LiveCapture): string {
  let s = `${plural(handled, 'packet')} captured\n`;
  s += `${plural(capture.dropped, 'packet')} dropped by wirescope\n`;
  s += 'packets received by filter and dropped by kernel: not available (the cap binding does not expose pcap_stats)\n';
  if (capture.lengthUnknown > 0) {
    s += `${plural(capture.lengthUnknown, 'packet')} cut at ${CAP_SNAPLEN} bytes by libpcap: original length not known\n`;
  }
  return s;
}

/** The one-line explanation for an interface that would not open. */
function openFailure(e: LiveCaptureError, device: string, expr: string): string {
  switch (e.kind) {
    case 'permission': {
      let node = process.execPath;
      try {
        node = realpathSync(node);
      } catch { /* the path as started */ }
      return `${device}: You don't have permission to capture on that device (${e.message}): run wirescope as root ` +
        `(sudo), or give this node binary the capture capabilities with "sudo setcap cap_net_raw,cap_net_admin=eip ${node}" ` +
        '(then every script run by that node can capture and send raw packets on any interface)';
    }
    case 'no-such-device':
      return e.message.includes('wirescope -D') ? e.message : `${device}: ${e.message} (wirescope -D lists the interfaces)`;
    case 'filter':
      return `libpcap rejected the filter expression '${expr}': ${e.message}`;
    case 'not-installed':
      return e.message;
    default:
      return `${device}: ${e.message}`;
  }
}

/** Prints one error line and returns exit status 1; unexpected errors are bugs and propagate. */
function fail(e: unknown): number {
  if (typeof e === 'string') process.stderr.write(errorLine(e) + '\n');
  else if (e instanceof LiveCaptureError || e instanceof PrivilegeError) process.stderr.write(errorLine(e.message) + '\n');
  else throw e;
  return 1;
}
