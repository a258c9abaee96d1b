/**
 * -T fields' _ws.short and _ws.malformed (tshark's marks of a packet cut short by the capture or
 * malformed), checked against tshark 4.0.17: hand-built frames, the fixtures through the command,
 * and the corpus captures whose frames are all of wirescope's protocols. Corpus differences are
 * listed, with a reason, in ws-marks-differences.tsv; a listed one that no longer occurs fails too
 * (UPDATE_WS_MARKS=1 rewrites the file, keeping reasons).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeFrame } from '../../src/core/dissector.js';
import { FieldsOut, FieldListError, knownFieldNames } from '../../src/output/fields.js';
import { openCapture } from '../../src/pcap/reader.js';
import {
  corpusDir, hasCorpus, hasTool, onlyCoreProtocols, plainCapture, readTsv, repoRoot, run, wirescopeBin,
} from '../conformance/corpus.js';
import { frame, hex, ipv4, MACS, writeNsecPcap } from './frames.js';
import '../../dissectors/index.js';

const MARKS = ['_ws.short', '_ws.malformed'];
const COLUMNS = ['frame.number', ...MARKS];
const SHORT_TCP = '[Packet size limited during capture: TCP truncated]';

/** Hex of a TCP header (ports 40000 > 80, ACK) with data offset `words` and the options given. */
function tcpHeader(words: number, options = ''): string {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(40000, 0);
  h.writeUInt16BE(80, 2);
  h.writeUInt32BE(1000, 4);
  h.writeUInt32BE(1, 8);
  h[12] = words << 4;
  h[13] = 0x10;
  h.writeUInt16BE(8192, 14);
  return h.toString('hex') + options;
}

/** Hex of a UDP header (40001 > 40002, ports no dissector of either tool takes; checksum 0) whose length field says `length`. */
function udpHeader(length: number): string {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(40001, 0);
  h.writeUInt16BE(40002, 2);
  h.writeUInt16BE(length, 4);
  return h.toString('hex');
}

/** Hex of a UDP datagram (40001 > 53) carrying the DNS message `message` (hex, spaces allowed). */
function dnsOverUdp(message: string): string {
  const m = message.replace(/\s+/g, '');
  const h = Buffer.alloc(8);
  h.writeUInt16BE(40001, 0);
  h.writeUInt16BE(53, 2);
  h.writeUInt16BE(8 + m.length / 2, 4);
  return h.toString('hex') + m;
}

/** MSS, SACK permitted, timestamps, two NOPs: 20 bytes of options, a 40-byte header. */
const OPTIONS = '020405b4' + '0402' + '080a0000000100000002' + '01010101';
const SYN_WITH_OPTIONS = MACS + '0800' + ipv4(6, 1, 0, tcpHeader(10, OPTIONS));

/** An IPv4 header (hex) whose total length field is set to `total`, checksum left as it was. */
function withTotalLength(ip: string, total: number): string {
  return ip.slice(0, 4) + total.toString(16).padStart(4, '0') + ip.slice(8);
}

/** An ICMP port unreachable quoting `quoted` (hex). */
function icmpUnreachable(quoted: string): string {
  return '0303' + '0000' + '00000000' + quoted;
}

/** Built frames, each with the marks tshark 4.0.17 prints for it ('' for none). */
const BUILT: Array<{ what: string; data: Uint8Array; origLen?: number; short: string; malformed: string }> = [
  {
    what: 'cut by the snapshot length inside the TCP options',
    data: hex(SYN_WITH_OPTIONS).subarray(0, 14 + 20 + 26), origLen: 14 + 20 + 40, short: SHORT_TCP, malformed: '',
  },
  {
    what: 'a TCP header running past the end of the packet on the wire (IPv4 claims more): its length, then the exception',
    data: hex(SYN_WITH_OPTIONS).subarray(0, 14 + 20 + 26), short: '', malformed: '_ws.malformed,[Malformed Packet: TCP],_ws.malformed',
  },
  {
    what: 'the fixed TCP header running past the end of the packet on the wire',
    data: hex(SYN_WITH_OPTIONS).subarray(0, 14 + 20 + 12), short: '', malformed: '[Malformed Packet: TCP],_ws.malformed',
  },
  {
    what: 'a TCP data offset past the end of the segment (an expert item, then the exception as tshark reads on)',
    data: hex(MACS + '0800' + ipv4(6, 2, 0, tcpHeader(15))), short: '', malformed: '_ws.malformed,[Malformed Packet: TCP],_ws.malformed',
  },
  {
    what: 'a UDP length beyond the IPv4 payload (an expert item only)',
    data: hex(MACS + '0800' + ipv4(17, 3, 0, udpHeader(40) + '00'.repeat(8))), short: '', malformed: '_ws.malformed',
  },
  {
    what: 'an IPv4 total length shorter than its header (tshark: a protocol error, not malformed)',
    data: hex(MACS + '0800' + withTotalLength(ipv4(17, 4, 0, udpHeader(12) + '00000000'), 16)), short: '', malformed: '',
  },
  {
    what: 'an ICMP error quoting a UDP header cut short (tshark marks no quoted packet)',
    data: hex(MACS + '0800' + ipv4(1, 5, 0, icmpUnreachable(ipv4(17, 6, 0, udpHeader(16) + '00'.repeat(8)).slice(0, 2 * 24)))),
    short: '', malformed: '',
  },
  {
    what: 'the UDP payload left out by the capture entirely (UDP shows its payload: a BoundsError of its own)',
    data: hex(MACS + '0800' + ipv4(17, 8, 0, udpHeader(20) + '00'.repeat(12))).subarray(0, 14 + 28), origLen: 14 + 40,
    short: '[Packet size limited during capture: UDP truncated]', malformed: '',
  },
  {
    what: 'an Ethernet trailer after the datagram, cut by the capture (the Ethertype dissector reads all of it)',
    data: hex(MACS + '0800' + ipv4(17, 9, 0, udpHeader(12) + '01020304') + '00'.repeat(14)).subarray(0, 14 + 32 + 4), origLen: 60,
    short: '[Packet size limited during capture: Ethertype truncated]', malformed: '',
  },
  {
    what: 'a DNS question name with a reserved label type (tshark reads the message further than tcpdump)',
    data: hex(MACS + '0800' + ipv4(17, 10, 0, dnsOverUdp('1234 0100 0001 0000 0000 0000' + '80 61 00 0001 0001'))),
    short: '', malformed: '[Malformed Packet: DNS],_ws.malformed',
  },
  {
    what: 'cut inside an 802.1Q tag',
    data: hex(MACS + '8100' + '00'), origLen: 60, short: '[Packet size limited during capture: VLAN truncated]', malformed: '',
  },
  {
    what: 'cut inside an ARP packet',
    data: hex(MACS + '0806' + '0001 0800 0604 0001' + '020000000001'), origLen: 42, short: '[Packet size limited during capture: ARP/RARP truncated]', malformed: '',
  },
  {
    what: 'a record saying fewer bytes were on the wire than were captured (the frame\'s own expert item)',
    data: hex(MACS + '0800' + ipv4(17, 11, 0, udpHeader(12) + '01020304') + '00'.repeat(14)), origLen: 50, short: '', malformed: '_ws.malformed',
  },
  {
    what: 'a whole frame',
    data: hex(MACS + '0800' + ipv4(17, 7, 0, udpHeader(12) + '01020304')), short: '', malformed: '',
  },
];

const BUILT_FRAMES = BUILT.map((b, k) => frame(k + 1, 100 + k, 0, b.data, b.origLen ?? b.data.length));

function builtLines(names: string[]): string[] {
  const out = new FieldsOut(names);
  return BUILT_FRAMES.map((f) => out.format(decodeFrame(f)));
}

function tsharkArgs(file: string, names: string[]): string[] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const n of names) args.push('-e', n);
  return args;
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

const haveTshark = hasTool('tshark');
if (!haveTshark) console.log('_ws.* marks against tshark skipped: tshark is not installed');

describe('_ws.short and _ws.malformed', () => {
  it('are known fields, named in the unknown-field error', () => {
    const known = knownFieldNames();
    for (const n of MARKS) expect(known).toContain(n);
    let err: unknown;
    try { new FieldsOut(['_ws.bogus']); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FieldListError);
    expect((err as Error).message).toContain('_ws.malformed');
  });

  it('mark the built frames as tshark 4.0.17 does', () => {
    expect(builtLines(COLUMNS)).toEqual(BUILT.map((b, k) => `${k + 1}\t${b.short}\t${b.malformed}`));
    // Each field alone, and twice in one line.
    expect(builtLines(['_ws.malformed'])[2]).toBe(BUILT[2].malformed);
    expect(builtLines(['_ws.short', '_ws.short'])[0]).toBe(`${SHORT_TCP}\t${SHORT_TCP}`);
  });

  it.skipIf(!haveTshark)('mark the built frames as live tshark does', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-ws-marks-'));
    try {
      const file = path.join(dir, 'built.pcap');
      writeNsecPcap(file, BUILT_FRAMES);
      const r = run('tshark', tsharkArgs(file, COLUMNS));
      expect(r.status).toBe(0);
      expect(builtLines(COLUMNS)).toEqual(lines(r.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const FIXTURES = path.join(repoRoot, 'fixtures');

function fixtureCaptures(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES).filter((n) => /\.(pcap|pcapng)$/.test(n)).sort().map((n) => path.join(FIXTURES, n));
}

describe.skipIf(!haveTshark)('the fixtures through the command', () => {
  it('print tshark\'s marks on every frame', () => {
    let frames = 0;
    let marked = 0;
    for (const file of fixtureCaptures()) {
      const ours = run('node', [wirescopeBin, '-r', file, '-T', 'fields', ...COLUMNS.flatMap((n) => ['-e', n])]);
      expect(ours.status, ours.stderr).toBe(0);
      const theirs = run('tshark', tsharkArgs(file, COLUMNS));
      expect(theirs.status).toBe(0);
      expect({ file, lines: lines(ours.stdout) }).toEqual({ file, lines: lines(theirs.stdout) });
      frames += lines(theirs.stdout).length;
      marked += lines(theirs.stdout).filter((l) => l.split('\t').slice(1).some((c) => c !== '')).length;
    }
    console.log(`_ws.* marks, fixtures: ${frames} frames identical to tshark's, ${marked} of them marked`);
    expect(marked).toBeGreaterThan(0);
  }, 120_000);
});

const DIFF_FILE = path.join(repoRoot, 'test/output/ws-marks-differences.tsv');
const DIFF_HEAD = ['file', 'frame', 'field', 'wirescope', 'tshark', 'reason'];

/** One differing value: corpus-relative file, frame, field, ours, tshark's. */
type Difference = [string, string, string, string, string];

/**
 * The corpus captures compared: every frame's protocols (tshark's frame.protocols in the stored
 * reference) in wirescope's scope. Left out: pcapng files with custom blocks (tshark numbers them
 * as frames, wirescope skips them).
 */
function corpusCaptures(): string[] {
  const out: string[] = [];
  for (const r of readTsv(path.join(corpusDir, 'MANIFEST.tsv'))) {
    if (r.note.includes('custom-block')) continue;
    const ref = path.join(corpusDir, 'reference', r.path + '.fields.tsv.gz');
    if (!existsSync(ref)) continue;
    const rows = readTsv(ref);
    if (rows.length > 0 && rows.every((row) => onlyCoreProtocols(row['frame.protocols']))) out.push(path.join(corpusDir, r.path));
  }
  return out;
}

/** Our marks and captured lengths of one capture, frame by frame (as tshark.test.ts reads it: records longer than the snapshot length kept whole). */
function ourMarks(file: string): Array<{ capLen: number; cells: string[] }> {
  const out = new FieldsOut(MARKS);
  const frames: Array<{ capLen: number; cells: string[] }> = [];
  let k = 0;
  const sink = { writeLine: (line: string): void => { frames[k++].cells = line.split('\t'); } };
  const reader = openCapture(plainCapture(file), { clipToSnaplen: false });
  try {
    for (let f = reader.next(); f !== null; f = reader.next()) {
      frames.push({ capLen: f.capLen, cells: [] });
      out.write(decodeFrame(f), sink);
    }
  } finally {
    reader.close();
  }
  out.finish(sink);
  return frames;
}

function loadListed(): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(DIFF_FILE)) return m;
  for (const r of readTsv(DIFF_FILE)) m.set([r.file, r.frame, r.field, r.wirescope, r.tshark].join('\t'), r.reason);
  return m;
}

const skipCorpus = !hasCorpus ? '../shared/corpus is absent' : !haveTshark ? 'tshark is not installed' : !hasTool('mergecap') ? 'mergecap is not installed' : '';
if (skipCorpus) console.log(`_ws.* marks on the corpus skipped: ${skipCorpus}`);

describe.skipIf(!!skipCorpus)('the corpus', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wirescope-ws-marks-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  it('marks frames as tshark does, but for the listed differences', () => {
    const captures = corpusCaptures();
    // tshark starts in about two seconds: it reads all the captures at once, one after another in
    // one file (its marks there were checked identical, capture by capture, to separate runs).
    const merged = path.join(dir, 'merged.pcapng');
    const m = run('mergecap', ['-a', '-w', merged, ...captures.map(plainCapture)]);
    expect(m.status, m.stderr).toBe(0);
    const t = run('tshark', tsharkArgs(merged, ['frame.cap_len', ...MARKS]));
    expect(t.status, t.stderr).toBe(0);
    const theirs = lines(t.stdout).map((l) => l.split('\t'));
    const diffs: Difference[] = [];
    let frames = 0;
    let marked = 0;
    let identical = 0;
    let row = 0;
    for (const capture of captures) {
      const label = path.relative(corpusDir, capture);
      const ours = ourMarks(capture);
      ours.forEach((f, k) => {
        const cells = theirs[row++] ?? [];
        // The captures line up frame by frame (a capture read differently would shift every later one).
        expect({ label, frame: k + 1, capLen: Number(cells[0]) }).toEqual({ label, frame: k + 1, capLen: f.capLen });
        frames++;
        const want = [cells[1] ?? '', cells[2] ?? ''];
        if (want.every((c) => c === '') && f.cells.every((c) => c === '')) return;
        marked++;
        if (want[0] === f.cells[0] && want[1] === f.cells[1]) identical++;
        MARKS.forEach((name, c) => { if (want[c] !== f.cells[c]) diffs.push([label, String(k + 1), name, f.cells[c], want[c]]); });
      });
    }
    expect(row).toBe(theirs.length);
    console.log(`_ws.* marks, corpus: ${captures.length} captures, ${frames} frames; ${marked} marked by either tool, ` +
      `${identical} identical (${((100 * identical) / Math.max(marked, 1)).toFixed(1)}%); ${diffs.length} differing values listed`);
    const listed = loadListed();
    const key = (d: Difference): string => d.join('\t');
    if (process.env.UPDATE_WS_MARKS) {
      const rows = diffs.map((d) => [...d, listed.get(key(d)) ?? 'unexplained'].join('\t'));
      writeFileSync(DIFF_FILE, DIFF_HEAD.join('\t') + '\n' + rows.join('\n') + (rows.length ? '\n' : ''));
    }
    const seen = new Set(diffs.map(key));
    const unlisted = diffs.filter((d) => (listed.get(key(d)) ?? 'unexplained') === 'unexplained').map(key);
    const gone = [...listed.keys()].filter((k) => !seen.has(k));
    expect(unlisted).toEqual([]);
    expect(gone).toEqual([]);
  }, 120_000);
});
