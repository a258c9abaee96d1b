/**
 * tshark 4.0's `-z follow,tcp,FORMAT,N` output (ui/cli/tap-follow.c) over reassembled chunks, and
 * tcpflow's per-direction files.
 *
 * tshark prints one record per segment that brought new bytes (in the order they became in-order),
 * direction 1's indented by a tab: ascii as a byte count line then the bytes (\r and \n kept,
 * other non-printables as '.'), hex as 16-byte lines with a per-direction running offset, raw as
 * one line of hex. When the receiver acknowledges bytes the capture never held, tshark adds a
 * record "[N bytes missing in capture file]" with its terminating NUL; we add the same record for
 * every gap the reassembler reports. Where tshark differs: bytes held after a hole that nothing
 * acknowledges are never printed by tshark, while we print them at the end of the capture, after
 * the same missing-bytes record.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { SegmentTime, StreamEvent, StreamSink } from './reassembler.js';

export type FollowFormat = 'ascii' | 'hex' | 'raw';
export const FOLLOW_FORMATS: readonly FollowFormat[] = ['ascii', 'hex', 'raw'];

export const FOLLOW_SEPARATOR = '===================================================================';

/** The lines before the records; nodes null when the stream was not found (tshark prints ":0"). */
export function followHeader(format: FollowFormat, filter: string, nodes: readonly [string, string] | null): string {
  return `\n${FOLLOW_SEPARATOR}\nFollow: tcp,${format}\nFilter: ${filter}\nNode 0: ${nodes?.[0] ?? ':0'}\nNode 1: ${nodes?.[1] ?? ':0'}\n`;
}

/** tshark's display filter for stream n. */
export function streamFilter(n: number): string {
  return `tcp.stream eq ${n}`;
}

/** tshark's record for a hole the receiver acknowledged: the text and its NUL. */
export function missingRecord(length: number): Uint8Array {
  return Buffer.from(`[${length} bytes missing in capture file]\0`, 'latin1');
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
/** ascii format: printable ASCII, \r and \n as themselves, the rest '.'. */
const ASCII_CHAR = Array.from({ length: 256 }, (_, b) => (b === 0x0d || b === 0x0a || (b >= 0x20 && b < 0x7f) ? String.fromCharCode(b) : '.'));
/** hex format's text column: printable ASCII, the rest '.'. */
const DUMP_CHAR = Array.from({ length: 256 }, (_, b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'));

/** Offset, hex and text columns of a hex line end here: 8 + 2 + 16 * 3 + 2. */
const TEXT_COLUMN = 60;

function hexLines(prefix: string, offset: number, bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 16) {
    const n = Math.min(16, bytes.length - i);
    let hex = ((offset + i) >>> 0).toString(16).toUpperCase().padStart(8, '0') + '  ';
    let text = '';
    for (let k = 0; k < n; k++) {
      const b = bytes[i + k];
      hex += HEX[b] + ' ';
      text += DUMP_CHAR[b];
      if (k === 7) {
        hex += ' ';
        text += ' ';
      }
    }
    // tshark drops one trailing space (the mid-line one, or a space byte at the end).
    if (text.endsWith(' ')) text = text.slice(0, -1);
    out += prefix + hex.padEnd(TEXT_COLUMN) + text + '\n';
  }
  return out;
}

/** Formats records as tshark prints them, keeping the hex format's offset of each direction. */
export class FollowPrinter {
  private readonly offsets = [0, 0];
  constructor(readonly format: FollowFormat) {}

  /** One record's text, newline-terminated. */
  record(dir: 0 | 1, bytes: Uint8Array): string {
    const indent = dir === 1 ? '\t' : '';
    switch (this.format) {
      case 'raw':
        return indent + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex') + '\n';
      case 'ascii': {
        let s = indent + bytes.length + '\n';
        for (let i = 0; i < bytes.length; i++) s += ASCII_CHAR[bytes[i]];
        return s + '\n';
      }
      case 'hex': {
        const s = hexLines(indent, this.offsets[dir], bytes);
        this.offsets[dir] += bytes.length;
        return s;
      }
    }
  }
}

/** A record of the conversation: reassembled bytes, or tshark's missing-bytes record for a gap. */
export interface FollowRecord {
  dir: 0 | 1;
  /** Valid during the call only. */
  bytes: Uint8Array;
  time: SegmentTime;
  /** For a gap: the missing bytes (bytes holds tshark's record text); else 0. */
  missing: number;
  /** For a gap: why the reassembler moved past it. */
  reason?: string;
}

/** A StreamSink turning one connection's chunks and gaps into follow records. */
export function followSink(emit: (r: FollowRecord) => void, onEvent?: (e: StreamEvent) => void, onComplete?: (dir: 0 | 1) => void): StreamSink {
  return {
    chunk: (c) => emit({ dir: c.dir, bytes: c.bytes, time: c.time, missing: 0 }),
    event: (e) => {
      // tshark's follow prints the captured part of a segment cut by the snapshot length and moves on, with no record.
      if (e.type === 'gap' && e.reason !== 'snaplen') emit({ dir: e.dir, bytes: missingRecord(e.length), time: e.time, missing: e.length, reason: e.reason });
      else onEvent?.(e);
    },
    complete: (dir) => onComplete?.(dir),
  };
}

/** tcpflow's address in a file name: IPv4 as four zero-padded decimals, IPv6 as inet_ntop writes it. */
function tcpflowAddress(addr: string): string {
  if (addr.indexOf(':') >= 0) return addr;
  return addr.split('.').map((o) => o.padStart(3, '0')).join('.');
}

/** tcpflow's name of the file holding the bytes src:sport sent to dst:dport (its default template %A.%a-%B.%b). */
export function tcpflowName(src: string, sport: number, dst: string, dport: number): string {
  return `${tcpflowAddress(src)}.${String(sport).padStart(5, '0')}-${tcpflowAddress(dst)}.${String(dport).padStart(5, '0')}`;
}

/** Bytes held per direction before they are written out. */
const FILE_BUFFER = 1 << 20;

/** A written direction: its file and size. */
export interface WrittenFile {
  stream: number;
  dir: 0 | 1;
  file: string;
  bytes: number;
  gaps: number;
}

/**
 * Writes each direction of a connection to its own file in dir, named as tcpflow names it (a
 * later connection with the same endpoints gets tcpflow's "c1", "c2"... suffix, as does a name
 * already taken in dir). Bytes sit at their stream offsets: a gap is a hole of NULs (sparse), as
 * in tcpflow's files. Files are created when the first byte comes.
 */
export class StreamFiles {
  readonly written: WrittenFile[] = [];
  constructor(private readonly dir: string) {}

  /** The sink for a connection between ends[0] and ends[1] (direction d is sent by ends[d]). */
  sink(stream: number, ends: readonly [{ addr: string; port: number }, { addr: string; port: number }]): StreamSink {
    const files = [0, 1].map((d) => new DirectionFile(this, stream, d as 0 | 1, tcpflowName(ends[d].addr, ends[d].port, ends[1 - d].addr, ends[1 - d].port)));
    return {
      chunk: (c) => files[c.dir].add(c.bytes),
      event: (e) => {
        if (e.type === 'gap') files[e.dir].skip(e.length);
      },
      complete: (d) => files[d].close(),
    };
  }

  /** Creates a new file for a base name (tcpflow's connection-count suffix when taken). */
  create(base: string): { file: string; fd: number } {
    for (let n = 0; ; n++) {
      const file = path.join(this.dir, n === 0 ? base : `${base}c${n}`);
      try {
        return { file, fd: openSync(file, 'wx') };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }
}

class DirectionFile {
  private fd = -1;
  private file = '';
  private readonly parts: Uint8Array[] = [];
  private held = 0;
  /** Stream offset of the next byte (the file position where it goes). */
  private pos = 0;
  private bytes = 0;
  private gaps = 0;

  constructor(private readonly owner: StreamFiles, private readonly stream: number, private readonly dir: 0 | 1, private readonly name: string) {}

  add(bytes: Uint8Array): void {
    if (this.fd < 0) ({ file: this.file, fd: this.fd } = this.owner.create(this.name));
    this.parts.push(bytes.slice());
    this.held += bytes.length;
    this.bytes += bytes.length;
    if (this.held >= FILE_BUFFER) this.flush();
  }

  skip(length: number): void {
    this.flush();
    this.pos += length;
    this.gaps++;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
    this.owner.written.push({ stream: this.stream, dir: this.dir, file: this.file, bytes: this.bytes, gaps: this.gaps });
  }

  private flush(): void {
    if (this.held === 0 || this.fd < 0) return;
    const data = Buffer.concat(this.parts, this.held);
    writeSync(this.fd, data, 0, data.length, this.pos);
    this.pos += data.length;
    this.parts.length = 0;
    this.held = 0;
  }
}
