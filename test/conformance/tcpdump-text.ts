/**
 * wirescope's text output for a capture, computed in-process with the same objects the CLI uses
 * (reader → decodeFrame → TextOut), so a conformance sweep needs no process per file.
 */
import { openCapture } from '../../src/pcap/reader.js';
import { decodeFrame } from '../../src/core/dissector.js';
import { TextOut, defaultTextOptions, type TextOptions } from '../../src/output/text.js';
import '../../dissectors/index.js';

/** Parses the tcpdump flags the text printer supports; null when a flag is outside them. */
export function textOptionsFromFlags(flags: string[]): TextOptions | null {
  const o: TextOptions = { ...defaultTextOptions, number: true };
  for (const f of flags) {
    if (f === '-#') continue;
    if (f === '--nano') { o.nano = true; continue; }
    if (!/^-[nvtxXAeqSK]+$/.test(f)) return null;
    for (const c of f.slice(1)) {
      switch (c) {
        case 'n': o.n++; break;
        case 'v': o.v++; break;
        case 't': o.t++; break;
        case 'x': o.x++; break;
        case 'X': o.X++; break;
        case 'A': o.A++; break;
        case 'e': o.e = true; break;
        case 'q': o.q++; break;
        case 'S': o.S = true; break;
        case 'K': o.K = true; break;
      }
    }
  }
  return o;
}

/** Packet number → its output lines; `error` is the reader's complaint, if any. */
export function wirescopeText(file: string, opts: TextOptions): { packets: Map<number, string[]>; error: string | null } {
  const packets = new Map<number, string[]>();
  const out = new TextOut(opts);
  let error: string | null = null;
  let reader;
  try {
    reader = openCapture(file);
  } catch (e) {
    return { packets, error: (e as Error).message };
  }
  try {
    for (let f = reader.next(); f !== null; f = reader.next()) {
      packets.set(f.number, out.formatPacket(decodeFrame(f)).split('\n'));
    }
  } catch (e) {
    error = (e as Error).message;
  } finally {
    reader.close();
  }
  return { packets, error };
}
