/**
 * Helpers for the link-layer tests: frames built from hex or read from the corpus, tcpdump's and
 * tshark's output on them (through a temporary pcap), wirescope's for the same flags, the
 * decode→encode identity and the truncation sweep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { decodeFrame, encodeStack, type Packet } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { openCapture } from '../../src/pcap/reader.js';
import { TextOut } from '../../src/output/text.js';
import { FieldsOut } from '../../src/output/fields.js';
import { corpusDir, frameProtocols, hasCorpus, hasTool, repoRoot, run, splitNumbered } from '../conformance/corpus.js';
import { textOptionsFromFlags } from '../conformance/tcpdump-text.js';
import { frame, hex, writeNsecPcap } from '../output/frames.js';
import '../../dissectors/index.js';

export { corpusDir, hasCorpus, hex };
export const haveTcpdump = hasTool('tcpdump');
export const haveTshark = hasTool('tshark');

/** Why a test comparing with a tool is skipped, or '' (printed once per file by the caller). */
export function toolSkipReason(tool: 'tcpdump' | 'tshark', needCorpus = false): string {
  if (needCorpus && !hasCorpus) return '../shared/corpus is absent';
  if (tool === 'tcpdump' && !haveTcpdump) return 'tcpdump is not installed';
  if (tool === 'tshark' && !haveTshark) return 'tshark is not installed';
  return '';
}

/** Frames of one link type from hex ("hex", or ["hex", length on the wire] for a cut-short capture). */
export function framesOf(linkType: number, specs: Array<string | [string, number]>): Frame[] {
  return specs.map((s, k) => {
    const [h, wire] = typeof s === 'string' ? [s, -1] : s;
    const data = hex(h);
    return frame(k + 1, 1_600_000_000 + k, 0, data, wire < 0 ? data.length : wire, linkType);
  });
}

/** Every frame of a capture, copied (the reader reuses its buffer). */
export function readFrames(file: string): Frame[] {
  const out: Frame[] = [];
  const r = openCapture(file, { clipToSnaplen: false });
  try {
    for (let f = r.next(); f !== null; f = r.next()) out.push({ ...f, data: f.data.slice(0, f.capLen) });
  } finally {
    r.close();
  }
  return out;
}

export function corpusPath(rel: string): string {
  return path.join(corpusDir, rel);
}

/** Protocols (tshark's frame.protocols names) whose tcpdump text wirescope prints in full, link layer and the basic IP family. */
export const PRINTED_PROTOCOLS = new Set([
  'eth', 'ethertype', 'vlan', 'ieee8021ad', 'llc', 'arp', 'sll', 'null', 'raw', 'ip', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp', 'data',
]);

/** The project's own captures of real traffic (fixtures/README.md). */
export function fixturePath(name: string): string {
  return path.join(repoRoot, 'fixtures', name);
}

/** The frames of a corpus capture (or any capture given by absolute path) whose protocols (per tshark) are all in `allowed`. */
export function corpusFrames(rel: string, allowed: Set<string> = PRINTED_PROTOCOLS): Frame[] {
  const file = path.isAbsolute(rel) ? rel : corpusPath(rel);
  const protos = frameProtocols(file);
  return readFrames(file).filter((f) => (protos.get(f.number) ?? '').split(':').every((p) => allowed.has(p)));
}

/** Runs fn on a temporary pcap holding the frames. */
export function withPcap<T>(frames: Frame[], fn: (file: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-l2-'));
  try {
    const file = path.join(dir, 'frames.pcap');
    writeNsecPcap(file, frames);
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tcpdump's lines per packet number for a capture file (no timestamps: -t). */
export function tcpdumpText(file: string, flags: string[]): Map<number, string[]> {
  const r = run('tcpdump', ['-#', '-t', ...flags, '-r', file], { TZ: 'UTC' });
  return splitNumbered(r.stdout);
}

/** wirescope's lines per packet number for the same flags. */
export function wirescopeText(frames: Frame[], flags: string[]): Map<number, string[]> {
  const opts = textOptionsFromFlags(['-t', ...flags]);
  if (!opts) throw new Error(`flags not supported: ${flags.join(' ')}`);
  const out = new TextOut(opts);
  const m = new Map<number, string[]>();
  for (const f of frames) m.set(f.number, out.formatPacket(decodeFrame(f)).split('\n'));
  return m;
}

/** Expects wirescope's text to equal tcpdump's for every packet of `frames`, under each set of flags. */
export function expectSameText(chosen: Frame[], flagSets: string[][]): void {
  const frames = chosen.map((f, k) => ({ ...f, number: k + 1 }));
  withPcap(frames, (file) => {
    for (const flags of flagSets) {
      const want = tcpdumpText(file, flags);
      const got = wirescopeText(frames, flags);
      for (const f of frames) expect({ flags, frame: f.number, lines: got.get(f.number) }).toEqual({ flags, frame: f.number, lines: want.get(f.number) });
    }
  });
}

/** tshark's -T fields lines (occurrence=a, aggregator=,) for a capture file. */
export function tsharkFields(file: string, names: string[]): string[] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const n of names) args.push('-e', n);
  const r = run('tshark', args);
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr.trim()}`);
  return r.stdout.split('\n').slice(0, -1);
}

export function wirescopeFields(frames: Frame[], names: string[]): string[] {
  const out = new FieldsOut(names);
  return frames.map((f) => out.format(decodeFrame(f)));
}

/** Expects wirescope's -T fields lines to equal tshark's on the frames. */
export function expectSameFields(frames: Frame[], names: string[]): void {
  const want = withPcap(frames, (file) => tsharkFields(file, names));
  expect(wirescopeFields(frames, names)).toEqual(want);
}

/** Captured bytes after the last layer's header: what encodeStack must be given to rebuild the frame. */
function trailingBytes(p: Packet): Uint8Array {
  const top = p.layers[p.layers.length - 1];
  return p.buf.subarray(Math.min(top.off + top.hdrLen, p.frame.capLen), p.frame.capLen);
}

/**
 * Decodes a frame and encodes its layers again without recomputing anything: the bytes must come
 * back unchanged. Returns false (and checks nothing) when some layer has no encoder or did not
 * decode whole.
 */
export function expectReencodes(f: Frame): boolean {
  const p = decodeFrame(f);
  if (p.layers.length === 0 || p.layers.some((l) => !l.dissector.encode || l.truncated || l.invalid !== null)) return false;
  const bytes = encodeStack(p.layers, trailingBytes(p), { fixLengths: false, computeChecksums: false });
  expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(f.data.subarray(0, f.capLen)).toString('hex'));
  return true;
}

const SWEEP_FLAGS = [['-n'], ['-n', '-e'], ['-n', '-v', '-e', '-x'], ['-n', '-q']];

/**
 * Every prefix of the frame (as a shorter snapshot length would capture it) decodes without an
 * exception, prints under several flag sets, and marks truncated the layer whose header the cut
 * falls in, which is then the last layer.
 */
export function sweepTruncation(f: Frame): void {
  const full = decodeFrame(f);
  expect(full.error).toBeNull();
  const outs = SWEEP_FLAGS.map((flags) => new TextOut(textOptionsFromFlags(flags)!));
  for (let k = 0; k < f.capLen; k++) {
    const cut: Frame = { ...f, capLen: k, data: f.data.subarray(0, k) };
    const p = decodeFrame(cut);
    expect(p.error).toBeNull();
    for (const out of outs) out.formatPacket(p);
    const j = full.layers.findIndex((l) => l.hdrLen > 0 && l.off <= k && k < l.off + l.hdrLen);
    if (j >= 0) {
      const l = p.layers[j];
      expect({ cut: k, layer: l?.dissector.name, truncated: l?.truncated, last: p.layers.length - 1 })
        .toEqual({ cut: k, layer: full.layers[j].dissector.name, truncated: true, last: j });
    }
  }
}
