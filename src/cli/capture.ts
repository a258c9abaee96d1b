/**
 * The default command: frames from a capture file (or an interface) through the frame pipeline.
 */
import { openCapture, CaptureFileError, type CaptureReader } from '../pcap/reader.js';
import { PcapReader } from '../pcap/pcap.js';
import { linkTypeDescription } from '../core/linktypes.js';
import { FieldListError } from '../output/fields.js';
import { errorLine } from '../output/errors.js';
import { FilterError } from '../filter/index.js';
import { FramePipeline } from './pipeline.js';
import type { Options } from './args.js';

const LINKTYPE_LINUX_SLL2 = 276;

export function runCapture(opts: Options): number {
  if (!opts.read) {
    process.stderr.write(errorLine('no capture file given: use -r FILE') + '\n');
    return 1;
  }
  let reader: CaptureReader;
  try {
    // tcpdump shows records cut to the file's snaplen (libpcap); tshark's fields and JSON keep them whole.
    reader = openCapture(opts.read, { clipToSnaplen: !(opts.json || opts.outputType === 'fields') });
  } catch (e) {
    return reportError(e);
  }
  let pipeline: FramePipeline;
  try {
    pipeline = new FramePipeline(opts, {
      linkType: reader.linkType, snaplen: reader.snaplen, name: opts.read,
      bigEndian: reader instanceof PcapReader ? !reader.le : undefined,
    });
  } catch (e) {
    reader.close();
    return reportError(e);
  }
  if (!opts.json && opts.outputType === undefined) {
    process.stderr.write(
      `reading from file ${opts.read}, link-type ${linkTypeDescription(reader.linkType)}, snapshot length ${reader.snaplen}\n`,
    );
    // SLL2 names interfaces by index: the names printed are this machine's, as tcpdump warns.
    if (reader.linkTypes.includes(LINKTYPE_LINUX_SLL2)) process.stderr.write('Warning: interface names might be incorrect\n');
  }
  let status = 0;
  try {
    for (let f = reader.next(); f !== null && pipeline.push(f); f = reader.next());
  } catch (e) {
    pipeline.flush();
    status = reportError(e);
  } finally {
    pipeline.close();
    reader.close();
  }
  return status;
}

/** Expected failures end the run with one line and status 1; anything else is a bug and propagates. */
function reportError(e: unknown): number {
  if (e instanceof CaptureFileError) {
    const msg = e.message.includes(e.file) ? e.message : `${e.file}: ${e.message}`;
    process.stderr.write(errorLine(msg) + '\n');
    return 1;
  }
  if (e instanceof FilterError || e instanceof FieldListError) {
    process.stderr.write(errorLine(e.message) + '\n');
    return 1;
  }
  throw e;
}
