/**
 * Every corpus capture read by src/pcap against the real tools:
 * - tshark (wiretap): number of frames, and per frame frame.time_epoch, frame.len, frame.cap_len,
 *   the link type (as frame.encap_type) and, for pcapng, frame.interface_id. Read with
 *   clipToSnaplen: false, since wiretap does not cut records to the snaplen.
 * - tcpdump (libpcap 1.10): `tcpdump --nano -r F -w OUT` re-read with an independent parser:
 *   timestamps, lengths and the captured bytes of every frame, with the default (libpcap) options.
 * Every difference must be in the known lists below, with its reason.
 *
 * tshark costs ~0.25 s per process, too much for 500 files; so the single-interface files go
 * through one `mergecap -a -I none` (wiretap reading each file, one interface per file) and one
 * tshark run. Any file that differs there is re-checked with a direct `tshark -r F`, which is the
 * authority; files with several interfaces or sections get a direct run from the start.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { corpusDir, hasCorpus, hasTool, readTsv } from '../conformance/corpus.js';
import { makeTempDir, readAll, epoch, parseClassicPcap } from './helpers.js';
import type { Frame } from '../../src/core/frame.js';
import { openCapture, CaptureFileError } from '../../src/pcap/reader.js';

const skipReason = !hasCorpus ? '../shared/corpus is absent'
  : !hasTool('tshark') || !hasTool('mergecap') ? 'tshark/mergecap are not installed'
  : !hasTool('tcpdump') ? 'tcpdump is not installed' : '';
if (skipReason) console.log(`capture-file corpus conformance skipped: ${skipReason}`);

/** Wireshark's WTAP_ENCAP_* (what frame.encap_type prints) for the LINKTYPE_* values in the corpus (wiretap/pcap-common.c). */
const WTAP_ENCAP_OF_LINKTYPE = new Map<number, number>([
  [0, 15], [1, 1], [8, 3], [9, 4], [12, 7], [100, 10], [101, 7], [104, 28], [105, 20], [107, 26], [113, 25],
  [127, 23], [129, 9], [140, 42], [165, 63], [192, 97], [228, 129], [229, 130], [253, 158], [271, 185], [276, 210],
]);

/** Frames where we knowingly differ from tshark: "path#frame" -> reason. */
const TSHARK_FRAME_DIFFERENCES = new Map<string, string>([
  ['tcpdump/malformed/timestamp_invalid_micro.pcap#3',
    'sub-second field 2^31 us: wiretap overflows its 32-bit nanoseconds (prints .000000000); we keep the raw value, which tcpdump prints as ".2147483648 (invalid us)"'],
  ['tcpdump/malformed/timestamp_invalid_nano.pcap#3',
    'sub-second field 2^31 ns: wiretap\'s signed 32-bit nanoseconds print as "-1418145370.2147483648"; we keep the raw value, as tcpdump does'],
]);

/** Files tshark reads and we refuse, as libpcap does. */
const TSHARK_FILE_DIFFERENCES = new Map<string, string>([
  ['libpcap/tests/pcap-invalid-version-2.pcap', 'pcap version 2.5: libpcap reads only 2.0-2.4 ("unsupported pcap savefile version 2.5"); wiretap accepts any 2.x'],
]);

/**
 * Files where libpcap (tcpdump -w) and we differ, by design: we read pcapng as Wireshark does
 * (several link types and snaplens, no IDB), and refuse reserved link-type bits as tshark does.
 */
const LIBPCAP_FILE_DIFFERENCES: Array<[RegExp, string]> = [
  [/^libpcap\/tests\/linktype-reserved-field-not-zero\.pcap$/, 'reserved link-type bits 0x00300000: libpcap 1.10 passes them as link type 3145728; we refuse the file, as tshark and newer libpcap do'],
  [/^gopacket\/pcapgo\/tests\/(le|be)\/test(002|017)\.pcapng$/, 'no interface description block: libpcap refuses the file; we read its zero packets, as tshark does'],
  [/^(gopacket\/pcapgo\/tests\/(le|be)\/test(004|005|006|008|014|100|101|102|200|201|202)\.pcapng|pcapplusplus\/\w+\/(dns_over_tcp\.pcapng|ipv4-malformed\.pcap|many_interfaces-1\.pcapng|pcapng-example\.pcapng|too_many_interfaces\.pcapng))$/,
    'interfaces with different link types or snaplens: libpcap stops there ("an interface has a type/snapshot length different from the first"); we read on, as tshark does'],
];

interface Capture {
  /** Path relative to the corpus. */
  rel: string;
  /** Readable path (a gunzipped temp copy for .gz). */
  file: string;
  format: 'pcap' | 'pcapng';
  /** The corpus has a tshark reference for it, i.e. tshark can read it. */
  tsharkReads: boolean;
}

interface TsharkRow { iface: string; time: string; len: string; capLen: string; encap: string }

function tsharkRows(text: string): TsharkRow[] {
  const rows: TsharkRow[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [iface, time, len, capLen, encap] = line.split('\t');
    // Records without an encapsulation are pcapng blocks Wireshark shows as records (custom blocks): not packets.
    if (!encap) continue;
    // A simple packet block has no timestamp: tshark prints none, we say 0.
    rows.push({ iface, time: time || '0.000000000', len, capLen, encap });
  }
  return rows;
}

const TSHARK_FIELDS = ['-e', 'frame.interface_id', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.encap_type'];

function tsharkAsync(file: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('tshark', ['-n', '-r', file, '-T', 'fields', ...TSHARK_FIELDS], { maxBuffer: 1 << 28 }, (_err, stdout) => resolve(stdout));
  });
}

function tsharkSync(file: string): string {
  return spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', ...TSHARK_FIELDS], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout ?? '';
}

/** Differences between our frames and tshark's rows, as "#n: ..." strings. */
function compareWithTshark(c: Capture, frames: Frame[], rows: TsharkRow[], viaMerge: boolean): string[] {
  const out: string[] = [];
  if (frames.length !== rows.length) out.push(`frame count ${frames.length}, tshark ${rows.length}`);
  for (let i = 0; i < Math.min(frames.length, rows.length); i++) {
    const f = frames[i], r = rows[i];
    const encap = WTAP_ENCAP_OF_LINKTYPE.get(f.linkType);
    const ours = [epoch(f), String(f.origLen), String(f.capLen), String(encap ?? `LINKTYPE ${f.linkType} (add it to WTAP_ENCAP_OF_LINKTYPE)`)];
    const theirs = [r.time, r.len, r.capLen, r.encap];
    if (c.format === 'pcapng') { ours.push(String(f.ifIndex)); theirs.push(viaMerge ? '0' : r.iface); }
    if (ours.join(' ') !== theirs.join(' ')) out.push(`#${i + 1}: ours ${ours.join(' ')}, tshark ${theirs.join(' ')}`);
  }
  return out;
}

/** Interfaces in a capture, by our reader (0 when unreadable): picks how tshark is run on it. */
function interfaceCount(file: string): number {
  try {
    const r = openCapture(file);
    try { while (r.next()); } catch { /* counted up to the damage */ }
    r.close();
    return r.interfaces.length;
  } catch {
    return 0;
  }
}

describe.skipIf(!!skipReason)('corpus captures', () => {
  const tmp = makeTempDir('pcap-corpus');
  const captures: Capture[] = [];
  const tsharkOut = new Map<string, TsharkRow[]>();
  /** Files whose tshark rows came through the merge (interface ids there are file numbers). */
  const viaMerge = new Set<string>();

  beforeAll(async () => {
    for (const r of readTsv(path.join(corpusDir, 'MANIFEST.tsv'))) {
      let file = path.join(corpusDir, r.path);
      if (r.path.endsWith('.gz')) {
        file = path.join(tmp.dir, r.path.replaceAll('/', '_').replace(/\.gz$/, ''));
        writeFileSync(file, gunzipSync(readFileSync(path.join(corpusDir, r.path))));
      }
      const tsharkReads = existsSync(path.join(corpusDir, 'reference', r.path + '.fields.tsv.gz'));
      captures.push({ rel: r.path, file, format: r.file_format.startsWith('pcapng') ? 'pcapng' : 'pcap', tsharkReads });
    }
    // Files with one interface: one merge, one tshark; interface i of the merge is file i.
    const merged = captures.filter((c) => c.tsharkReads && !c.rel.startsWith('gopacket/pcapgo/') && interfaceCount(c.file) === 1);
    for (const c of merged) viaMerge.add(c.rel);
    const mergedFile = path.join(tmp.dir, 'merged.pcapng');
    const m = spawnSync('mergecap', ['-a', '-I', 'none', '-w', mergedFile, ...merged.map((c) => c.file)], { encoding: 'utf8' });
    if (m.status === 0) {
      const byIface = new Map<string, TsharkRow[]>();
      for (const row of tsharkRows(tsharkSync(mergedFile))) {
        let list = byIface.get(row.iface);
        if (!list) byIface.set(row.iface, (list = []));
        list.push(row);
      }
      merged.forEach((c, i) => tsharkOut.set(c.rel, byIface.get(String(i)) ?? []));
    }
    // The others (several interfaces or sections, the pcapng test suite): a direct tshark per file, a few at a time.
    const queue = captures.filter((c) => c.tsharkReads && !viaMerge.has(c.rel));
    const workers = Array.from({ length: os.cpus().length + 1 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) tsharkOut.set(c.rel, tsharkRows(await tsharkAsync(c.file)));
    });
    await Promise.all(workers);
  }, 180_000);

  afterAll(() => tmp.cleanup());

  it('frames, timestamps, lengths, link types and interface ids are identical to tshark', () => {
    let files = 0, frames = 0, recheckedDirectly = 0;
    const unexpected: string[] = [];
    const expectedDiffs: string[] = [];
    for (const c of captures) {
      if (!c.tsharkReads) continue;
      if (TSHARK_FILE_DIFFERENCES.has(c.rel)) {
        expect(() => readAll(c.file), c.rel).toThrow(CaptureFileError);
        expectedDiffs.push(`${c.rel}: ${TSHARK_FILE_DIFFERENCES.get(c.rel)}`);
        continue;
      }
      const { frames: ours, error } = readAll(c.file, { clipToSnaplen: false });
      files++;
      frames += ours.length;
      if (error) unexpected.push(`${c.rel}: ${error.message}`);
      const rows = tsharkOut.get(c.rel);
      let diffs = rows ? compareWithTshark(c, ours, rows, viaMerge.has(c.rel)) : ['no tshark output'];
      if (diffs.length && viaMerge.has(c.rel)) {
        recheckedDirectly++;
        diffs = compareWithTshark(c, ours, tsharkRows(tsharkSync(c.file)), false);
      }
      for (const d of diffs) {
        const key = `${c.rel}${d.startsWith('#') ? d.slice(0, d.indexOf(':')) : ''}`;
        if (TSHARK_FRAME_DIFFERENCES.has(key)) expectedDiffs.push(`${key}: ${TSHARK_FRAME_DIFFERENCES.get(key)}`);
        else unexpected.push(`${c.rel} ${d}`);
      }
    }
    console.log(`tshark conformance: ${files} files, ${frames} frames compared, ${unexpected.length} unexpected differences, ` +
      `${expectedDiffs.length} known (${recheckedDirectly} files re-checked with a direct tshark run):\n  ${expectedDiffs.join('\n  ')}`);
    expect(unexpected).toEqual([]);
    expect(expectedDiffs.length).toBe(TSHARK_FRAME_DIFFERENCES.size + TSHARK_FILE_DIFFERENCES.size);
  });

  it('timestamps, lengths and captured bytes are identical to what libpcap reads (tcpdump -w)', () => {
    let files = 0, frames = 0, bytes = 0;
    const unexpected: string[] = [];
    const known = new Set<string>();
    // One shell runs every tcpdump (a process per spawnSync from here costs several times more).
    const outOf = (i: number) => path.join(tmp.dir, `libpcap${i}.pcap`);
    const q = (x: string) => `'${x.replaceAll("'", "'\\''")}'`;
    const script = captures.map((c, i) => `tcpdump --nano -r ${q(c.file)} -w ${q(outOf(i))} 2>&1; echo "@@ $?"`).join('\n');
    // On stdin: as one argument the script can pass the kernel's 128 KiB limit on an argument's length.
    const parts = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', maxBuffer: 1 << 28 }).stdout.split(/^@@ (\d+)\n/m);
    captures.forEach((c, i) => {
      const td = { stderr: parts[2 * i], status: Number(parts[2 * i + 1]) };
      const out = outOf(i);
      const theirs = existsSync(out) ? parseClassicPcap(readFileSync(out)) : null;
      rmSync(out, { force: true });
      let ours: ReturnType<typeof readAll> | null = null;
      let openError = '';
      try { ours = readAll(c.file); } catch (e) { openError = (e as Error).message; }
      const diffs: string[] = [];
      if (!theirs || !ours) {
        if (!!theirs !== !!ours) diffs.push(`open: tcpdump ${theirs ? 'reads it' : td.stderr.trim()}, ours ${ours ? 'reads it' : openError}`);
      } else {
        const stoppedEarly = td.status !== 0;
        const sameEnd = stoppedEarly
          ? ours.error !== null && ours.frames.length === theirs.records.length
          : ours.error === null && ours.frames.length === theirs.records.length;
        if (!sameEnd) {
          diffs.push(`libpcap ${stoppedEarly ? `stopped after ${theirs.records.length} frames: ${td.stderr.trim().split('\n').pop()}` : `read ${theirs.records.length} frames`}; ` +
            `ours ${ours.error ? `failed after ${ours.frames.length}: ${ours.error.message}` : `read ${ours.frames.length}`}`);
        }
        for (let i = 0; i < Math.min(ours.frames.length, theirs.records.length); i++) {
          const f = ours.frames[i], r = theirs.records[i];
          // The pcap written by tcpdump -w has 32-bit seconds: pcapng times past 2106 wrap there.
          const sec = f.tsSec % 2 ** 32;
          if (sec !== f.tsSec) known.add(`${c.rel}#${i + 1}: seconds ${f.tsSec} do not fit tcpdump -w's 32-bit field`);
          const a = `${sec}.${f.tsNsec} ${f.capLen} ${f.origLen} ${Buffer.from(f.data).toString('hex')}`;
          const b = `${r.sec}.${r.frac} ${r.capLen} ${r.origLen} ${Buffer.from(r.data).toString('hex')}`;
          if (a !== b) {
            // libpcap scales a raw 2^31 us to ns in a 64-bit long and then writes it as 32 bits.
            if (f.tsNsec >= 1e9 && f.capLen === r.capLen) { known.add(`${c.rel}#${i + 1}: out-of-range sub-second field ${f.tsNsec} ns`); continue; }
            diffs.push(`#${i + 1}: ours ${a.slice(0, 80)}, libpcap ${b.slice(0, 80)}`);
          }
          frames++;
          bytes += f.capLen;
        }
      }
      files++;
      if (!diffs.length) return;
      const reason = LIBPCAP_FILE_DIFFERENCES.find(([re]) => re.test(c.rel));
      if (reason) known.add(`${c.rel}: ${reason[1]}`);
      else unexpected.push(`${c.rel}: ${diffs.join('; ')}`);
    });
    console.log(`libpcap conformance: ${files} files, ${frames} frames (${bytes} captured bytes) compared, ` +
      `${unexpected.length} unexpected differences, ${known.size} known:\n  ${[...known].join('\n  ')}`);
    expect(unexpected).toEqual([]);
  });
});
