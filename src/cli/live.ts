/**
 * Live capture (no -r): tcpdump's run around the same frame pipeline as reading a file. The
 * interface is opened with the filter compiled by libpcap into the kernel, root is given up,
 * output files are opened, and frames flow from libpcap to the pipeline until -c, a signal
 * (INT, TERM, HUP), a closed output or the -G/-W file limit ends the run with tcpdump's summary.
 * Also -D, the interface list.
 */
import { realpathSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { Frame } from '../core/frame.js';
import { linkTypeDescription } from '../core/linktypes.js';
import { CaptureFileError } from '../pcap/error.js';
import { PcapWriter } from '../pcap/writer.js';
import { OutputClosed, writeAll } from '../output/sink.js';
import { errorLine } from '../output/errors.js';
import { FieldListError } from '../output/fields.js';
import { systemMessage } from '../pcap/io.js';
import { CAP_SNAPLEN, LiveCapture, LiveCaptureError, capDeviceList } from '../capture/live.js';
import { formatInterface, listInterfaces, resolveInterface } from '../capture/devices.js';
import { FileLimitReached, RotatingWriter } from '../capture/rotate.js';
import { dropPrivileges, dropTarget, PrivilegeError, type Account } from '../capture/privileges.js';
import { FramePipeline, filterExpression, type FrameWriter } from './pipeline.js';
import type { Options } from './args.js';

/**
 * Kernel ring for the capture socket. cap turns on immediate mode, so libpcap uses TPACKET_V2,
 * whose ring slots are MTU-sized whatever the packet: 2 MiB (libpcap's and tcpdump's default,
 * meant for TPACKET_V3's packed blocks) holds only ~1,300 full-size frames. 32 MiB holds ~20,000.
 */
export const DEFAULT_BUFFER_SIZE = 32 << 20;

/** libpcap's default snapshot length (tcpdump -s 0 or no -s). */
const DEFAULT_SNAPLEN = 262144;

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
  let capture: LiveCapture;
  let device = opts.interface ?? '';
  try {
    device = resolveInterface(opts.interface, () => capDeviceList().map((d) => d.name));
    capture = new LiveCapture({ device, filter: expr, snaplen: requestedSnaplen, bufferSize: opts.bufferSize ?? DEFAULT_BUFFER_SIZE });
  } catch (e) {
    return fail(e instanceof LiveCaptureError ? openFailure(e, device, expr) : e);
  }
  if (requestedSnaplen > CAP_SNAPLEN && requestedSnaplen !== DEFAULT_SNAPLEN) {
    process.stderr.write(`wirescope: WARNING: snaplen lowered from ${requestedSnaplen} to ${CAP_SNAPLEN}\n`);
  }

  let user: Account | null = null;
  let pipeline: FramePipeline;
  try {
    user = dropTarget(opts.user, process.env);
    if (user !== null) dropPrivileges(user);
    const liveOpts: Options = { ...opts, lineBuffered: opts.lineBuffered || isatty(1) };
    pipeline = new FramePipeline(liveOpts, {
      linkType: capture.linkType, snaplen: capture.snaplen, name: device, kernelFiltered: true,
      writer: opts.write !== undefined ? outputWriter(opts, capture) : undefined,
    });
  } catch (e) {
    capture.close();
    if (e instanceof CaptureFileError && e.code === 'EACCES' && user !== null) {
      return fail(`${e.message} (files are opened as ${user.name}, after root is given up; -Z root keeps root)`);
    }
    return fail(e);
  }

  if (!opts.json && opts.outputType === undefined) {
    const head = opts.v === 0 && opts.write === undefined
      ? 'wirescope: verbose output suppressed, use -v[v]... for full protocol decode\n'
      : 'wirescope: ';
    process.stderr.write(`${head}listening on ${device}, link-type ${linkTypeDescription(capture.linkType)}, snapshot length ${capture.snaplen} bytes\n`);
  }
  new LiveRun(capture, pipeline, opts.write === undefined && !opts.json && opts.outputType === undefined);
  return 0;
}

/** -w's destination: one pcap file, or tcpdump's rotation under -C/-G. */
function outputWriter(opts: Options, capture: LiveCapture): FrameWriter {
  const common = { linkType: capture.linkType, snaplen: capture.snaplen, nano: opts.nano, packetBuffered: opts.packetBuffered };
  if (opts.rotateSize === undefined && opts.rotateSeconds === undefined) return new PcapWriter(opts.write!, common);
  return new RotatingWriter({
    ...common, path: opts.write!, sizeLimit: opts.rotateSize !== undefined ? opts.rotateSize * 1_000_000 : undefined,
    seconds: opts.rotateSeconds, fileCount: opts.rotateCount,
  });
}

/** One running capture: frames into the pipeline until something stops it, then the summary. */
class LiveRun {
  private stopped = false;
  private status = 0;
  /** A stop signal: what was taken from libpcap so far is still written or printed. */
  private readonly onSignal = (): void => {
    this.capture.finish();
    this.end(true);
  };

  constructor(
    private readonly capture: LiveCapture,
    private readonly pipeline: FramePipeline,
    /** Printing text: an interrupted run ends stdout with a newline, as tcpdump does. */
    private readonly printingText: boolean,
  ) {
    capture.onFrame = (f) => this.frame(f);
    for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
  }

  private frame(f: Frame): void {
    try {
      if (!this.pipeline.push(f)) this.end(false);
    } catch (e) {
      this.failed(e);
    }
  }

  /** A frame could not be handled: the run ends, quietly for a closed output (tcpdump's SIGPIPE). */
  private failed(e: unknown): void {
    if (e instanceof FileLimitReached) process.stderr.write(e.message + '\n');
    else if (!(e instanceof OutputClosed)) {
      process.stderr.write(errorLine(e instanceof Error ? e.message : String(e)) + '\n');
      this.status = 1;
    }
    this.end(false);
  }

  private end(interrupted: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.capture.discard();
    for (const s of STOP_SIGNALS) process.off(s, this.onSignal);
    try {
      this.pipeline.close();
      if (interrupted && this.printingText) writeAll(1, NEWLINE);
    } catch (e) {
      if (!(e instanceof OutputClosed)) {
        process.stderr.write(errorLine(e instanceof Error ? e.message : String(e)) + '\n');
        this.status = 1;
      }
    }
    process.stderr.write(summary(this.pipeline.handled, this.capture));
    process.exitCode = this.status;
  }
}

const NEWLINE = Buffer.from('\n');

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/**
 * tcpdump's end-of-capture lines, with only the figures known here: frames handled, frames libpcap
 * delivered that wirescope did not handle, and no kernel counters (cap has no pcap_stats()).
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
  else if (e instanceof LiveCaptureError || e instanceof PrivilegeError || e instanceof FieldListError) {
    process.stderr.write(errorLine(e.message) + '\n');
  } else if (e instanceof CaptureFileError) {
    process.stderr.write(errorLine(e.message.includes(e.file) ? e.message : `${e.file}: ${e.message}`) + '\n');
  } else throw e;
  return 1;
}
