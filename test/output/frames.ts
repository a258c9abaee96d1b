/** Hand-built frames for the output tests, and a pcap file of them so tshark can read the same bytes. */
import { writeFileSync } from 'node:fs';
import type { Frame } from '../../src/core/frame.js';

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function frame(number: number, tsSec: number, tsNsec: number, data: Uint8Array, origLen = data.length, linkType = 1): Frame {
  return { number, linkType, tsSec, tsNsec, capLen: data.length, origLen, data, ifIndex: 0 };
}

/** A nanosecond pcap of frames (one link type). */
export function writeNsecPcap(file: string, frames: Frame[]): void {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b23c4d, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(frames[0]?.linkType ?? 1, 20);
  parts.push(head);
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(f.tsSec >>> 0, 0);
    rec.writeUInt32LE(f.tsNsec, 4);
    rec.writeUInt32LE(f.capLen, 8);
    rec.writeUInt32LE(f.origLen, 12);
    parts.push(rec, Buffer.from(f.data.buffer, f.data.byteOffset, f.capLen));
  }
  writeFileSync(file, Buffer.concat(parts));
}
