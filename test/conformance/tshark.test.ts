/**
 * -T fields conformance against tshark 4.0.17. Corpus captures: the stored references
 * (reference/<path>.fields.tsv.gz, made by tshark-reference.sh fields), and a live tshark run for
 * the issue-5 fields the references lack (tcp.analysis.retransmission and some dns.*) on the
 * captures with TCP or DNS; fixtures: live tshark with every field wirescope promises. Frames whose
 * protocols (tshark's frame.protocols) all belong to issue 2 or are DNS/mDNS are compared field by
 * field; the TCP tracker's fields (tcp.stream, tcp.analysis.retransmission) on every frame. Each
 * field group is tallied on its own. Every differing value must be listed, with a reason, in
 * tshark-differences.tsv, and every listed one must still occur (UPDATE_CONFORMANCE=1 rewrites the
 * file, keeping reasons). Run from a checkout beside ../shared (e.g. /work/main); it takes minutes.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { corpusDir, hasCorpus, hasTool, onlyCoreProtocols, readTsv, repoRoot, run } from './corpus.js';
import { openCapture } from '../../src/pcap/reader.js';
import { decodeFrame } from '../../src/core/dissector.js';
import { FieldsOut, knownFieldNames } from '../../src/output/fields.js';
import '../../dissectors/index.js';

/** The reference columns issue 2 covers (tshark-reference.sh's list without tcp.stream and the application fields). */
const CORE_COLUMNS = [
  'frame.number', 'frame.protocols', 'eth.src', 'eth.dst', 'vlan.id', 'arp.opcode', 'ip.src', 'ip.dst', 'ip.proto',
  'ipv6.src', 'ipv6.dst', 'icmp.type', 'icmp.code', 'icmpv6.type', 'udp.srcport', 'udp.dstport', 'tcp.srcport',
  'tcp.dstport', 'tcp.flags.str', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len',
];

/** The TCP tracker's fields (issue 5), compared on every frame. */
const TCP_FIELDS = ['tcp.stream', 'tcp.analysis.retransmission'];

/** The DNS fields of issue 5. */
const DNS_FIELDS = [
  'dns.id', 'dns.flags.response', 'dns.flags.rcode', 'dns.qry.name', 'dns.qry.type', 'dns.a', 'dns.aaaa', 'dns.cname',
  'dns.mx.mail_exchange', 'dns.resp.ttl',
];

/** Issue-5 columns of the stored references. */
const REFERENCE_ISSUE5 = ['tcp.stream', 'dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.a', 'dns.aaaa'];

/** Issue-5 fields the references lack: from a live tshark run on corpus captures with TCP or DNS. */
const LIVE_CORPUS_FIELDS = [...TCP_FIELDS, ...DNS_FIELDS].filter((n) => !REFERENCE_ISSUE5.includes(n));

const REFERENCE_COLUMNS = [...CORE_COLUMNS, ...REFERENCE_ISSUE5];

/** The group a field is tallied in. */
function groupOf(name: string): 'core' | 'tcp' | 'dns' {
  return TCP_FIELDS.includes(name) ? 'tcp' : name.startsWith('dns.') ? 'dns' : 'core';
}

const GROUP_MINIMUM = { core: 99.5, tcp: 99, dns: 99 };

/** Every field -T fields must support (issue 2), checked with live tshark on the fixtures (issue 5's are added there). */
const REQUIRED_FIELDS = [
  'frame.number', 'frame.time_epoch', 'frame.time_relative', 'frame.time_delta', 'frame.len', 'frame.cap_len',
  'frame.protocols', 'eth.src', 'eth.dst', 'eth.type', 'vlan.id', 'vlan.priority', 'arp.opcode', 'arp.src.hw_mac',
  'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'ip.src', 'ip.dst', 'ip.proto', 'ip.ttl', 'ip.id', 'ip.flags.mf',
  'ip.frag_offset', 'ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'ipv6.hlim', 'icmp.type', 'icmp.code', 'icmpv6.type',
  'icmpv6.code', 'udp.srcport', 'udp.dstport', 'udp.length', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.str',
  'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.window_size_value', 'tcp.options.mss_val',
];

const DIFF_FILE = path.join(repoRoot, 'test/conformance/tshark-differences.tsv');
const DIFF_HEAD = ['file', 'frame', 'field', 'tshark', 'wirescope', 'reason'];
const FIXTURES = path.join(repoRoot, 'fixtures');

const haveTshark = hasTool('tshark');

/** One differing value: file (corpus- or repo-relative), frame, field, tshark's value, ours. */
type Difference = [string, string, string, string, string];

interface Counts {
  /** Values compared where either side is non-empty. */
  compared: number;
  identical: number;
}

interface Tally {
  groups: Record<'core' | 'tcp' | 'dns', Counts>;
  /** Values where both sides are empty (the field is absent in both). */
  bothEmpty: number;
  /** Frames of issue 2's protocols and DNS. */
  frames: number;
  diffs: Difference[];
}

function newTally(): Tally {
  const counts = (): Counts => ({ compared: 0, identical: 0 });
  return { groups: { core: counts(), tcp: counts(), dns: counts() }, bothEmpty: 0, frames: 0, diffs: [] };
}

/**
 * wirescope's -T fields values for a capture, by frame number, one per name (gzip captures are
 * unpacked first). A field no dissector provides yet reads as absent, so it counts against us.
 */
function wirescopeFields(file: string, names: string[]): Map<number, string[]> {
  const known = new Set(knownFieldNames());
  const asked = names.filter((n) => known.has(n));
  const column = names.map((n) => asked.indexOf(n));
  const lines = new Map<number, string[]>();
  let tmp: string | null = null;
  let input = file;
  if (file.endsWith('.gz')) {
    tmp = mkdtempSync(path.join(tmpdir(), 'wirescope-tshark-'));
    input = path.join(tmp, path.basename(file, '.gz'));
    writeFileSync(input, gunzipSync(readFileSync(file)));
  }
  const out = new FieldsOut(asked);
  // Lines come out in frame order, some after later frames were read (as the command writes them).
  const numbers: number[] = [];
  const sink = {
    writeLine: (line: string): void => {
      const cells = line.split('\t');
      lines.set(numbers[lines.size], column.map((k) => (k < 0 ? '' : cells[k])));
    },
  };
  try {
    // Wireshark keeps records longer than the snapshot length whole; so does this comparison.
    const reader = openCapture(input, { clipToSnaplen: false });
    try {
      for (let f = reader.next(); f !== null; f = reader.next()) {
        numbers.push(f.number);
        out.write(decodeFrame(f), sink);
      }
    } finally {
      reader.close();
    }
  } catch {
    // An unreadable or damaged file: the frames read so far are compared, the rest show as missing.
  } finally {
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
  out.finish(sink);
  return lines;
}

/**
 * Compares tshark's rows (field name → value) with ours: issue 2's and DNS fields on the frames of
 * those protocols, the tracker's fields on every frame. With `customBlocks`, tshark's frames of
 * bare `data` are pcapng custom blocks, which tshark numbers as frames and wirescope skips: they
 * are left out and our frame numbers shift.
 */
function compare(label: string, rows: Array<Record<string, string>>, ours: Map<number, string[]>, names: string[], t: Tally, customBlocks = false): void {
  let ourNumber = 0;
  for (const row of rows) {
    if (customBlocks && row['frame.protocols'] === 'data') continue;
    ourNumber++;
    const core = onlyCoreProtocols(row['frame.protocols']);
    if (core) t.frames++;
    const n = Number(row['frame.number']);
    const got = ours.get(ourNumber);
    names.forEach((name, k) => {
      const group = groupOf(name);
      if (!core && group !== 'tcp') return;
      const want = row[name] ?? '';
      const have = got === undefined ? '(missing)' : got[k] ?? '';
      if (want === '' && have === '') { t.bothEmpty++; return; }
      const c = t.groups[group];
      c.compared++;
      if (want === have) c.identical++;
      else t.diffs.push([label, String(n), name, want, have]);
    });
  }
}

function corpusReferences(): Array<{ capture: string; reference: string; customBlocks: boolean }> {
  const withCustomBlocks = new Set(readTsv(path.join(corpusDir, 'MANIFEST.tsv')).filter((r) => r.note.includes('custom-block')).map((r) => r.path));
  const out: Array<{ capture: string; reference: string; customBlocks: boolean }> = [];
  const refRoot = path.join(corpusDir, 'reference');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.fields.tsv.gz')) {
        const capture = path.join(corpusDir, path.relative(refRoot, p).slice(0, -'.fields.tsv.gz'.length));
        if (existsSync(capture)) out.push({ capture, reference: p, customBlocks: withCustomBlocks.has(path.relative(corpusDir, capture)) });
      }
    }
  };
  walk(refRoot);
  return out;
}

function fixtureCaptures(): string[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES).filter((n) => /\.(pcap|pcapng)$/.test(n)).sort().map((n) => path.join(FIXTURES, n));
}

function tsharkFields(file: string, names: string[]): Array<Record<string, string>> {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'header=y', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const n of names) args.push('-e', n);
  const r = run('tshark', args);
  if (r.status !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr.trim()}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  const head = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    const row: Record<string, string> = {};
    head.forEach((h, k) => (row[h] = cells[k] ?? ''));
    return row;
  });
}

function key(d: Difference): string {
  return d.join('\t');
}

function loadListed(): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(DIFF_FILE)) return m;
  for (const r of readTsv(DIFF_FILE)) m.set([r.file, r.frame, r.field, r.tshark, r.wirescope].join('\t'), r.reason);
  return m;
}

function writeListed(diffs: Difference[], listed: Map<string, string>): void {
  const rows = diffs.map((d) => [...d, listed.get(key(d)) ?? 'unexplained'].join('\t'));
  writeFileSync(DIFF_FILE, DIFF_HEAD.join('\t') + '\n' + rows.join('\n') + (rows.length ? '\n' : ''));
}

/** Logs each group's figures; returns the groups below their minimum. */
function report(what: string, t: Tally): string[] {
  const low: string[] = [];
  for (const [group, c] of Object.entries(t.groups) as Array<['core' | 'tcp' | 'dns', Counts]>) {
    const pct = (100 * c.identical) / Math.max(c.compared, 1);
    console.log(`tshark -T fields conformance (${what}), ${group} fields: ${c.identical}/${c.compared} values identical (${pct.toFixed(2)}%)`);
    if (pct < GROUP_MINIMUM[group]) low.push(`${what} ${group}: ${pct.toFixed(2)}%`);
  }
  console.log(`  over ${t.frames} frames of issue 2's protocols and DNS; ${t.diffs.length} differing; ${t.bothEmpty} more absent on both sides`);
  return low;
}

/** The live-only fields of a corpus capture with TCP or DNS, merged into its reference rows by frame number. */
function addLiveFields(capture: string, rows: Array<Record<string, string>>): void {
  if (!rows.some((r) => r['tcp.stream'] !== '' || /(^|:)m?dns(:|$)/.test(r['frame.protocols']))) return;
  const live = new Map<string, Record<string, string>>();
  for (const r of tsharkFields(capture, ['frame.number', ...LIVE_CORPUS_FIELDS])) live.set(r['frame.number'], r);
  for (const r of rows) Object.assign(r, live.get(r['frame.number']) ?? {});
}

const skipCorpus = !hasCorpus ? '../shared/corpus is absent' : '';
const skipFixtures = !haveTshark ? 'tshark is not installed' : fixtureCaptures().length === 0 ? 'no fixtures/*.pcap yet' : '';
if (skipCorpus) console.log(`tshark corpus conformance skipped: ${skipCorpus}`);
if (skipFixtures) console.log(`tshark fixture conformance skipped: ${skipFixtures}`);

describe('tshark -T fields conformance', () => {
  it('knows every required field', () => {
    const known = new Set(knownFieldNames());
    expect([...REQUIRED_FIELDS, ...TCP_FIELDS, ...DNS_FIELDS].filter((n) => !known.has(n))).toEqual([]);
  });

  it.skipIf(!!skipCorpus && !!skipFixtures)('matches tshark value for value; every difference is listed', () => {
    const all: Difference[] = [];
    const low: string[] = [];
    const corpus = newTally();
    if (!skipCorpus) {
      if (!haveTshark) console.log(`corpus fields without stored references (${LIVE_CORPUS_FIELDS.join(' ')}) skipped: tshark is not installed`);
      for (const { capture, reference, customBlocks } of corpusReferences()) {
        const rows = readTsv(reference);
        if (!rows.some((r) => onlyCoreProtocols(r['frame.protocols']) || r['tcp.stream'] !== '')) continue;
        let names = REFERENCE_COLUMNS;
        if (haveTshark) {
          addLiveFields(capture, rows);
          if (rows.some((r) => r[LIVE_CORPUS_FIELDS[0]] !== undefined)) names = [...REFERENCE_COLUMNS, ...LIVE_CORPUS_FIELDS];
        }
        compare(path.relative(corpusDir, capture), rows, wirescopeFields(capture, names), names, corpus, customBlocks);
      }
      low.push(...report('corpus references', corpus));
      all.push(...corpus.diffs);
    }
    const fixtures = newTally();
    if (!skipFixtures) {
      const names = [...new Set([...REFERENCE_COLUMNS, ...REQUIRED_FIELDS, ...TCP_FIELDS, ...DNS_FIELDS])];
      for (const capture of fixtureCaptures()) {
        compare(path.relative(repoRoot, capture), tsharkFields(capture, names), wirescopeFields(capture, names), names, fixtures);
      }
      low.push(...report('fixtures, live tshark', fixtures));
      all.push(...fixtures.diffs);
    }
    const listed = loadListed();
    if (process.env.UPDATE_CONFORMANCE) writeListed(all, listed);
    const seen = new Set(all.map(key));
    const unlisted = all.filter((d) => !listed.has(key(d)) || listed.get(key(d)) === 'unexplained');
    const gone = [...listed.keys()].filter((k) => !seen.has(k));
    if (unlisted.length) console.log('unlisted differences (first 20):\n' + unlisted.slice(0, 20).map((d) => d.join('\t')).join('\n'));
    if (gone.length) console.log('listed differences that no longer occur (first 20):\n' + gone.slice(0, 20).join('\n'));
    expect(low).toEqual([]);
    expect(unlisted.length).toBe(0);
    expect(gone.length).toBe(0);
  }, 600_000);
});
