/** Shared by the capture-file tests: temp dirs, frame collection, byte-level file builders, an independent pcap parser. */
import { mkdtempSync, rmSync, statSync, readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { openCapture, CaptureFileError, type OpenOptions } from '../../src/pcap/reader.js';
import type { Frame } from '../../src/core/frame.js';
import { repoRoot } from '../conformance/corpus.js';

export function makeTempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `wirescope-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every frame of a file (data copied), and the error that ended reading, if any. */
export function readAll(file: string, opts: OpenOptions = {}): { frames: Frame[]; error: CaptureFileError | null } {
  const frames: Frame[] = [];
  const r = openCapture(file, opts);
  try {
    for (let f = r.next(); f !== null; f = r.next()) frames.push({ ...f, data: f.data.slice() });
    return { frames, error: null };
  } catch (e) {
    if (e instanceof CaptureFileError) return { frames, error: e };
    throw e;
  } finally {
    r.close();
  }
}

/** frame.time_epoch as tshark prints it: seconds, a dot, nine digits. */
export function epoch(f: Frame): string {
  return `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`;
}

/** Little/big-endian byte writer for building capture files byte by byte. */
export class Bytes {
  private parts: number[] = [];
  constructor(readonly le: boolean) {}
  u8(x: number): this { this.parts.push(x & 0xff); return this; }
  u16(x: number): this {
    const b = [x & 0xff, (x >>> 8) & 0xff];
    this.parts.push(...(this.le ? b : b.reverse()));
    return this;
  }
  u32(x: number): this {
    const b = [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];
    this.parts.push(...(this.le ? b : b.reverse()));
    return this;
  }
  u64(x: bigint): this {
    const lo = Number(x & 0xffffffffn), hi = Number((x >> 32n) & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  /** A pcapng timestamp: high 32 bits first, in either byte order. */
  ts(x: bigint): this { return this.u32(Number((x >> 32n) & 0xffffffffn)).u32(Number(x & 0xffffffffn)); }
  raw(b: ArrayLike<number>): this { for (let i = 0; i < b.length; i++) this.parts.push(b[i]); return this; }
  pad4(): this { while (this.parts.length % 4) this.parts.push(0); return this; }
  get length(): number { return this.parts.length; }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** A deterministic packet payload of n bytes. */
export function payload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

export interface PcapRecord { sec: number; frac: number; data: Uint8Array; origLen?: number }

/** A classic pcap file: header, then records (frac in the file's unit). */
export function pcapFile(o: { le: boolean; nano?: boolean; version?: [number, number]; snaplen?: number; linkField?: number; records: PcapRecord[] }): Uint8Array {
  const b = new Bytes(o.le);
  b.u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4).u16(o.version?.[0] ?? 2).u16(o.version?.[1] ?? 4).u32(0).u32(0)
    .u32(o.snaplen ?? 65535).u32(o.linkField ?? 1);
  for (const r of o.records) b.u32(r.sec).u32(r.frac).u32(r.data.length).u32(r.origLen ?? r.data.length).raw(r.data);
  return b.bytes();
}

/** One pcapng block: type, total length, body padded to 4, total length. */
export function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  return new Bytes(le).u32(type).u32(padded + 12).raw(body).pad4().u32(padded + 12).bytes();
}

/** pcapng options (code, value) followed by opt_endofopt. */
export function options(le: boolean, opts: Array<[number, Uint8Array]>): Uint8Array {
  const b = new Bytes(le);
  for (const [code, v] of opts) b.u16(code).u16(v.length).raw(v).pad4();
  return b.u16(0).u16(0).bytes();
}

export function shb(le: boolean, version: [number, number] = [1, 0]): Uint8Array {
  return block(le, 0x0a0d0d0a, new Bytes(le).u32(0x1a2b3c4d).u16(version[0]).u16(version[1]).u64(0xffffffffffffffffn).bytes());
}

export function idb(le: boolean, linkType: number, snaplen: number, opts: Array<[number, Uint8Array]> = []): Uint8Array {
  const b = new Bytes(le).u16(linkType).u16(0).u32(snaplen);
  if (opts.length) b.raw(options(le, opts));
  return block(le, 1, b.bytes());
}

export function epb(le: boolean, iface: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  return block(le, 6, new Bytes(le).u32(iface).ts(ts).u32(data.length).u32(origLen).raw(data).pad4().bytes());
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export interface ParsedRecord { sec: number; frac: number; capLen: number; origLen: number; data: Uint8Array }

/**
 * A minimal classic-pcap parser written independently of src/pcap, to read what tcpdump -w
 * produced. Returns the magic (sub-second unit) and the records.
 */
export function parseClassicPcap(buf: Uint8Array): { nano: boolean; linkType: number; snaplen: number; records: ParsedRecord[] } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = v.getUint32(0, true);
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  const nano = (le ? m : v.getUint32(0, false)) === 0xa1b23c4d;
  const records: ParsedRecord[] = [];
  let o = 24;
  while (o + 16 <= buf.length) {
    const capLen = v.getUint32(o + 8, le);
    records.push({ sec: v.getUint32(o, le), frac: v.getUint32(o + 4, le), capLen, origLen: v.getUint32(o + 12, le), data: buf.subarray(o + 16, o + 16 + capLen) });
    o += 16 + capLen;
  }
  return { nano, linkType: v.getUint32(20, le) & 0xffff, snaplen: v.getUint32(16, le), records };
}

/**
 * Child processes run the compiled reader/writer from dist/; (re)build when dist is missing or
 * older than src/pcap. tsc emits even when another engineer's file has type errors.
 */
export function distPcapDir(): string {
  const dist = path.join(repoRoot, 'dist/src/pcap');
  const src = path.join(repoRoot, 'src/pcap');
  const newest = (dir: string, ext: string) =>
    Math.max(0, ...readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => statSync(path.join(dir, f)).mtimeMs));
  if (!existsSync(path.join(dist, 'reader.js')) || newest(dist, '.js') < newest(src, '.ts')) {
    spawnSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', path.join(repoRoot, 'tsconfig.json')], { stdio: 'ignore' });
  }
  return dist;
}
