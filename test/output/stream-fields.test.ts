/**
 * -T fields of the protocols over TCP streams against live tshark 4.0 (`-E occurrence=a
 * -E aggregator=,`), through FieldsOut.write/finish as the command writes them: issue #5's tls.*
 * and http.* fields, frame.protocols and tcp.stream, on the TLS and HTTP fixtures and the corpus
 * captures with TLS or HTTP (those tshark reaches by ways wirescope does not follow left out, as in
 * test/tls/tshark.test.ts and test/http/fields.test.ts, and counted in the figure of all captures).
 * frame.protocols is compared on TCP frames (on either side). Figures per field group are printed.
 */
import '../../dissectors/index.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/core/dissector.js';
import { CaptureFileError, openCapture } from '../../src/pcap/reader.js';
import { FieldsOut } from '../../src/output/fields.js';
import { corpusDir, hasCorpus, hasTool, plainCapture, readTsv, repoRoot } from '../conformance/corpus.js';

const TLS = [
  'tls.record.content_type', 'tls.record.version', 'tls.handshake.type', 'tls.handshake.version',
  'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str', 'tls.handshake.ciphersuite', 'tls.handshake.ja3',
];
const HTTP = ['http.request.method', 'http.request.uri', 'http.host', 'http.response.code', 'http.content_length', 'http.user_agent'];
const FIELDS = ['frame.protocols', 'tcp.stream', ...TLS, ...HTTP];
const PROTOCOLS = 0;
const GROUPS: Record<string, string[]> = { 'tls.*': TLS, 'http.*': HTTP, 'frame.protocols': ['frame.protocols'], 'tcp.stream': ['tcp.stream'] };

/** Captures whose TLS or HTTP tshark reaches through something wirescope does not decode or follow. */
const OUT_OF_SCOPE: Record<string, string> = {
  'tcpdump/quic_handshake.pcap': 'TLS inside QUIC (UDP)',
  'tcpdump/quic_handshake_truncated.pcap': 'TLS inside QUIC (UDP)',
  'zeek/tls/smtp-starttls.pcap': 'SMTP STARTTLS',
  'pcapplusplus/PcapExamples/pcapng-example.pcapng': 'MySQL SSL request; a response head cut by the snaplen',
  'zeek/http/connect-with-header.pcap': 'HTTP CONNECT tunnel',
  'pcapplusplus/ExamplesTest/tcp-reassembly.pcap': 'TCP inside sFlow samples',
  'tcpdump/nfs-write-verf-cookie.pcapng': 'NFS over TCP taken for SSLv2 by tshark',
  'libpcap/tests/filter/AH-IPcomp-IPv4.pcap': 'IPComp payloads',
  'libpcap/tests/filter/AH-IPcomp-IPv6.pcap': 'IPComp payloads',
  'libpcap/tests/filter/arcnet-rfc1051-arp-icmp-http.pcap': 'ARCNET link type',
  'pcapplusplus/PcapExamples/one_http_stream_rst.pcap': 'PPPoE session frames',
  'pcapplusplus/PacketExamples/SllPacket.pcap': 'a response head cut by the snaplen',
  'zeek/raw_packets.pcap': 'HTTP over UDP (SSDP)',
  'zeek/http/docker-http-upgrade.pcap': 'HTTP Upgrade: tshark goes on dissecting the upgraded stream under http (src/http stops at the 101)',
  'zeek/http/websocket.pcap': 'HTTP Upgrade to WebSocket (not decoded)',
};


/** Our lines, as `wirescope -r FILE -T fields -e ...` writes them. */
function ours(file: string): string[] {
  const out = new FieldsOut(FIELDS);
  const lines: string[] = [];
  const sink = { writeLine: (s: string) => lines.push(s) };
  const r = openCapture(file, { clipToSnaplen: false });
  try {
    for (let f = r.next(); f !== null; f = r.next()) out.write(decodeFrame(f), sink);
  } catch (e) {
    if (!(e instanceof CaptureFileError)) throw e;
  } finally {
    r.close();
  }
  out.finish(sink);
  return lines;
}

function tshark(file: string): string[] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const n of FIELDS) args.push('-e', n);
  let text: string;
  try {
    text = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    text = (e as { stdout?: string }).stdout ?? '';
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Per field: cells non-empty on either side, and those identical; a few differences. */
interface Tally {
  cells: number[];
  same: number[];
  lines: number;
  linesSame: number;
  diffs: string[];
}

function tally(): Tally {
  return { cells: FIELDS.map(() => 0), same: FIELDS.map(() => 0), lines: 0, linesSame: 0, diffs: [] };
}

function compare(file: string, t: Tally = tally()): Tally {
  const a = ours(file);
  const b = tshark(file);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    t.lines++;
    if (a[i] === b[i]) {
      t.linesSame++;
    }
    const x = (a[i] ?? '').split('\t');
    const y = (b[i] ?? '').split('\t');
    FIELDS.forEach((_, k) => {
      const u = x[k] ?? '';
      const v = y[k] ?? '';
      if (u === '' && v === '') return;
      if (k === PROTOCOLS && !u.includes(':tcp') && !v.includes(':tcp')) return;
      t.cells[k]++;
      if (u === v) t.same[k]++;
      else if (t.diffs.length < 3) t.diffs.push(`${path.relative(corpusDir, file)} #${i + 1} ${FIELDS[k]}: ours=${u.slice(0, 100)} tshark=${v.slice(0, 100)}`);
    });
  }
  return t;
}

function merge(into: Tally, t: Tally): void {
  FIELDS.forEach((_, k) => {
    into.cells[k] += t.cells[k];
    into.same[k] += t.same[k];
  });
  into.lines += t.lines;
  into.linesSame += t.linesSame;
  into.diffs.push(...t.diffs);
}

function group(t: Tally, names: string[]): [number, number] {
  let cells = 0;
  let same = 0;
  for (const n of names) {
    const k = FIELDS.indexOf(n);
    cells += t.cells[k];
    same += t.same[k];
  }
  return [same, cells];
}

const pct = ([same, cells]: [number, number]): string => `${same}/${cells} (${cells === 0 ? '-' : ((100 * same) / cells).toFixed(2) + '%'})`;

function report(label: string, t: Tally): string {
  return `${label}: lines identical ${t.linesSame}/${t.lines}; cells identical: ` +
    Object.entries(GROUPS).map(([g, names]) => `${g} ${pct(group(t, names))}`).join(', ');
}

/** Corpus captures with TLS (tshark's stored frame.protocols) or HTTP (the manifest), in scope. */
function corpusCaptures(): string[] {
  const out: string[] = [];
  for (const row of readTsv(path.join(corpusDir, 'MANIFEST.tsv'))) {
    const rel = row.path;
    let tls = false;
    try {
      tls = gunzipSync(readFileSync(path.join(corpusDir, 'reference', rel + '.fields.tsv.gz'))).toString('utf8').includes(':tls');
    } catch {
      // No stored reference: tshark did not read it.
    }
    const http = /(^|,)http(,|$)/.test(row.protocols_seen ?? '') || /HTTP/.test(row.note ?? '');
    if (tls || http) out.push(rel);
  }
  return out;
}

const hasTshark = hasTool('tshark');
if (!hasTshark) console.log('stream fields against tshark skipped: tshark is not installed');
if (!hasCorpus) console.log('stream fields against the corpus skipped: ../shared/corpus is absent');

describe.skipIf(!hasTshark)('-T fields over TCP streams identical to tshark', () => {
  for (const name of ['tls.pcap', 'http.pcap']) {
    it(`fixtures/${name}: every line`, () => {
      const file = path.join(repoRoot, 'fixtures', name);
      expect(ours(file)).toEqual(tshark(file));
    });
  }

  it.skipIf(!hasCorpus)('lossy TLS (tls2.pcap) and HTTP with drops: messages on tshark\'s frames', () => {
    const t = compare(path.join(corpusDir, 'pcapplusplus/ExamplesTest/tls2.pcap'));
    console.log(report('tls2.pcap', t) + '\n' + t.diffs.join('\n'));
    expect(group(t, TLS)[0]).toBe(group(t, TLS)[1]);
    expect(t.linesSame / t.lines).toBeGreaterThanOrEqual(0.99);
    expect(compare(path.join(corpusDir, 'zeek/http/zero-length-bodies-with-drops.pcap')).diffs).toEqual([]);
  }, 120_000);

  it.skipIf(!hasCorpus)('corpus TLS and HTTP captures: at least 99% of cells identical in each field group', () => {
    const files = corpusCaptures();
    const all = tally();
    const t = tally();
    for (const rel of files) {
      const f = compare(plainCapture(path.join(corpusDir, rel)));
      merge(all, f);
      if (!Object.hasOwn(OUT_OF_SCOPE, rel)) merge(t, f);
    }
    console.log(report(`all ${files.length} corpus captures with TLS or HTTP`, all) + '\n' +
      report(`without the ${Object.keys(OUT_OF_SCOPE).length} out of scope`, t) +
      '\n' + FIELDS.map((f, k) => `  ${f} ${t.same[k]}/${t.cells[k]}`).join('\n') + '\n' + t.diffs.join('\n'));
    expect(files.length).toBeGreaterThan(80);
    for (const names of Object.values(GROUPS)) {
      const [same, cells] = group(t, names);
      expect(same / cells).toBeGreaterThanOrEqual(0.99);
    }
  }, 600_000);
});
