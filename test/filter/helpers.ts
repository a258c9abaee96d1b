/** Shared by the filter tests: corpus location and frames of a capture file as plain records. */
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCapture } from '../../src/pcap/reader.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const corpus = path.resolve(repoRoot, '../shared/corpus');
export const haveCorpus = existsSync(path.join(corpus, 'libpcap/filter-tests.json'));

export interface Rec {
  data: Uint8Array;
  capLen: number;
  origLen: number;
  linkType: number;
}

/** Every frame of a capture file, copied (the reader reuses its buffer). */
export function readFrames(file: string): { linkType: number; snaplen: number; frames: Rec[]; bigEndian: boolean } {
  const r = openCapture(file);
  const frames: Rec[] = [];
  try {
    for (let f = r.next(); f; f = r.next()) {
      frames.push({ data: f.data.slice(0, f.capLen), capLen: f.capLen, origLen: f.origLen, linkType: f.linkType });
    }
  } finally {
    r.close();
  }
  return { linkType: r.linkType, snaplen: r.snaplen, frames, bigEndian: fileIsBigEndian(file) };
}

/** pcap files carry their byte order in the magic number (pcapng files are not used with NULL here). */
function fileIsBigEndian(file: string): boolean {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(4);
  readSync(fd, b, 0, 4, 0);
  closeSync(fd);
  return b[0] === 0xa1;
}

/** LINKTYPE numbers for the DLT names libpcap's tests use. */
export const DLT_BY_NAME: Record<string, number> = {
  NULL: 0, EN10MB: 1, RAW: 12, LOOP: 108, LINUX_SLL: 113, LINUX_SLL2: 276, IPV4: 228, IPV6: 229,
};

/** "255.255.255.0" -> 0xffffff00 */
export function dotted(s: string): number {
  return s.split('.').reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}
