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
import { systemMessage } from '../pcap/io.js';
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

/** A file of StreamFiles could not be created, opened, written or closed: the message is "FILE: strerror". */
export class StreamFileError extends Error {}

/** The error for a file (or directory) that could not be made, opened, written or closed. */
export function streamFileError(file: string, e: unknown): StreamFileError {
  return new StreamFileError(`${file}: ${systemMessage(e)}`);
}

export interface StreamFilesOptions {
  /** Files open at once (default 128, well below any usual `ulimit -n`): the least recently written is closed first. */
  maxOpenFiles?: number;
  /** Bytes held across all directions (default 32 MiB): beyond it, the directions holding bytes longest are written out. */
  maxBufferedBytes?: number;
}

/**
 * Writes each direction of a connection to its own file in dir, named as tcpflow names it (a
 * later connection with the same endpoints gets tcpflow's "c1", "c2"... suffix, as does a name
 * already taken in dir). Bytes sit at their stream offsets: a gap is a hole of NULs (sparse), as
 * in tcpflow's files. Files are created when the first byte comes.
 *
 * Memory and descriptors stay bounded whatever the number of concurrent connections: as tcpflow
 * does, a file closed to make room for another is reopened when its direction writes again (its
 * bytes go at their offsets, so nothing moves), and held bytes are written out per direction at
 * 1 MiB and overall at maxBufferedBytes.
 */
export class StreamFiles {
  private readonly pool: FilePool;

  constructor(dir: string, opts: StreamFilesOptions = {}) {
    this.pool = new FilePool(dir, Math.max(1, opts.maxOpenFiles ?? 128), opts.maxBufferedBytes ?? 32 << 20);
  }

  /** The completed directions' files, each once, in the order they completed. */
  get written(): readonly WrittenFile[] {
    return this.pool.written;
  }

  /** Bytes held, not yet written, across all directions. */
  get bufferedBytes(): number {
    return this.pool.held;
  }

  /** The sink for a connection between ends[0] and ends[1] (direction d is sent by ends[d]). */
  sink(stream: number, ends: readonly [{ addr: string; port: number }, { addr: string; port: number }]): StreamSink {
    const files = [0, 1].map((d) => new DirectionFile(this.pool, stream, d as 0 | 1, tcpflowName(ends[d].addr, ends[d].port, ends[1 - d].addr, ends[1 - d].port)));
    return {
      chunk: (c) => files[c.dir].add(c.bytes),
      event: (e) => {
        if (e.type === 'gap') files[e.dir].skip(e.length);
      },
      complete: (d) => files[d].close(),
    };
  }
}

/** The directions' shared budgets: open descriptors (least recently written closed first) and held bytes. */
class FilePool {
  readonly written: WrittenFile[] = [];
  /** Bytes held across all directions. */
  held = 0;
  /** Directions with an open file, least recently written first. */
  private readonly open = new Set<DirectionFile>();
  /** Directions holding bytes, in the order they began holding them. */
  private readonly holding = new Set<DirectionFile>();

  constructor(private readonly dir: string, private readonly maxOpenFiles: number, private readonly maxBufferedBytes: number) {}

  /** Creates a new file for a base name (tcpflow's connection-count suffix when taken), open for f. */
  claim(f: DirectionFile, base: string): string {
    for (let n = 0; ; n++) {
      const file = path.join(this.dir, n === 0 ? base : `${base}c${n}`);
      const fd = this.openFile(file, 'wx');
      if (fd >= 0) {
        this.opened(f, fd);
        return file;
      }
    }
  }

  /** f's descriptor on its file, which is reopened if it was closed to make room. */
  fdOf(f: DirectionFile): number {
    if (f.fd >= 0) {
      // Most recently written: last to be closed.
      this.open.delete(f);
      this.open.add(f);
      return f.fd;
    }
    this.opened(f, this.openFile(f.file, 'r+'));
    return f.fd;
  }

  release(f: DirectionFile): void {
    if (f.fd < 0) return;
    const fd = f.fd;
    f.fd = -1;
    this.open.delete(f);
    try {
      closeSync(fd);
    } catch (e) {
      throw streamFileError(f.file, e);
    }
  }

  /** f holds bytes more: past the caps, held bytes go to their files. */
  holds(f: DirectionFile, bytes: number): void {
    this.holding.add(f);
    this.held += bytes;
    if (f.held >= FILE_BUFFER) f.flush();
    // Down to half the cap, so that writes stay large rather than one small write per chunk at the cap.
    if (this.held > this.maxBufferedBytes) {
      for (const oldest of this.holding) {
        oldest.flush();
        if (this.held <= this.maxBufferedBytes / 2) break;
      }
    }
  }

  /** f's held bytes were written. */
  wrote(f: DirectionFile): void {
    this.held -= f.held;
    this.holding.delete(f);
  }

  private opened(f: DirectionFile, fd: number): void {
    f.fd = fd;
    this.open.add(f);
  }

  /**
   * Opens a file (-1: 'wx' found the name taken), first closing the least recently written ones
   * to stay within the cap, or below a lower descriptor limit.
   */
  private openFile(file: string, flags: 'wx' | 'r+'): number {
    while (this.open.size >= this.maxOpenFiles) this.closeLeastRecent();
    for (;;) {
      try {
        return openSync(file, flags);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' && flags === 'wx') return -1;
        if ((code !== 'EMFILE' && code !== 'ENFILE') || this.open.size === 0) throw streamFileError(file, e);
        this.closeLeastRecent();
      }
    }
  }

  private closeLeastRecent(): void {
    this.release(this.open.values().next().value as DirectionFile);
  }
}

class DirectionFile {
  /** Open descriptor, or -1 (not yet created, or closed to make room). */
  fd = -1;
  /** Bytes held, not yet written. */
  held = 0;
  /** '' until the first byte claims a name. */
  file = '';
  private readonly parts: Uint8Array[] = [];
  /** Stream offset of the next byte (the file position where it goes). */
  private pos = 0;
  private bytes = 0;
  private gaps = 0;

  constructor(private readonly owner: FilePool, private readonly stream: number, private readonly dir: 0 | 1, private readonly name: string) {}

  add(bytes: Uint8Array): void {
    if (this.file === '') this.file = this.owner.claim(this, this.name);
    this.parts.push(bytes.slice());
    this.held += bytes.length;
    this.bytes += bytes.length;
    this.owner.holds(this, bytes.length);
  }

  skip(length: number): void {
    this.flush();
    this.pos += length;
    this.gaps++;
  }

  close(): void {
    if (this.file === '') return;
    this.flush();
    this.owner.release(this);
    this.owner.written.push({ stream: this.stream, dir: this.dir, file: this.file, bytes: this.bytes, gaps: this.gaps });
  }

  flush(): void {
    if (this.held === 0) return;
    const data = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.held);
    const fd = this.owner.fdOf(this);
    try {
      // A regular file may take fewer bytes than asked (past 2 GiB, or a filling disk that has room for some).
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, this.pos + done);
    } catch (e) {
      throw streamFileError(this.file, e);
    }
    this.pos += data.length;
    this.owner.wrote(this);
    this.parts.length = 0;
    this.held = 0;
  }
}
