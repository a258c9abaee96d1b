/**
 * `wirescope conns` against `tshark -n -q -z conv,tcp` (frames and bytes each way, duration) on
 * the fixtures and a spread of corpus captures, and the table and JSON the command prints.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { corpusDir, hasCorpus, hasTool, repoRoot, run, wirescopeBin } from '../conformance/corpus.js';
import { connectionTable, type ConnSummary } from '../../src/tcp/conns.js';
import { formatTable } from '../../src/cli/conns.js';

const hasTshark = hasTool('tshark');
const built = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!hasTshark) console.log('skipping conv,tcp comparisons: tshark is not installed');
if (!hasCorpus) console.log('skipping corpus conv,tcp comparisons: ../shared/corpus is absent');
if (!built) console.log('skipping wirescope conns command-line tests: dist/ is not built (npx tsc -p tsconfig.json)');

const fixture = (name: string): string => path.join(repoRoot, 'fixtures', name);

/** tshark's byte counts in conv tables (format_size, SI prefixes, whole units from 10 up). */
function tsharkSize(n: number): string {
  for (const [p, unit] of [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']] as const) if (Math.floor(n / p) >= 10) return `${Math.floor(n / p)} ${unit}`;
  return `${n} bytes`;
}

interface ConvRow {
  /** The two endpoints in sorted order, and frames/bytes from the first to the second and back, duration. */
  key: string;
  counts: string;
  start: number;
}

function convRow(a: string, b: string, fab: string, bab: string, fba: string, bba: string, duration: string, start: number): ConvRow {
  return a <= b
    ? { key: `${a} ${b}`, counts: [fab, bab, fba, bba, duration].join(' | '), start }
    : { key: `${b} ${a}`, counts: [fba, bba, fab, bab, duration].join(' | '), start };
}

const CONV_LINE = /^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+ \S+)\s+(\d+) (\d+ \S+)\s+\d+ \d+ \S+\s+(-?[\d.]+)\s+([\d.]+)\s*$/;

/** tshark's conv,tcp rows: columns "<-" are B to A, "->" A to B. */
function tsharkConv(file: string): ConvRow[] {
  const out = execFileSync('tshark', ['-n', '-q', '-r', file, '-z', 'conv,tcp'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  const rows: ConvRow[] = [];
  for (const line of out.split('\n')) {
    const m = CONV_LINE.exec(line);
    if (m) rows.push(convRow(m[1], m[2], m[5], m[6], m[3], m[4], m[8], Number(m[7])));
  }
  return rows;
}

/** Our rows the same way (tshark writes IPv6 endpoints without brackets); connections it never counted are left out. */
function ourConv(rows: ConnSummary[]): ConvRow[] {
  return rows.filter((r) => r.packets[0] + r.packets[1] > 0).map((r) => {
    const [a, b] = r.nodes.map((n) => n.replace(/^\[(.*)\]/, '$1'));
    return convRow(a, b, String(r.packets[0]), tsharkSize(r.bytes[0]), String(r.packets[1]), tsharkSize(r.bytes[1]), r.duration.toFixed(4), r.relativeStart);
  });
}

const byKeyThenStart = (x: ConvRow, y: ConvRow): number => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.start - y.start);

const CAPTURES = [
  ...['http.pcap', 'tls.pcap', 'tcp-sack-rst.pcap', 'ipv4-fragments.pcap', 'icmp-port-unreachable.pcap', 'vlan.pcap', 'linux-sll2.pcap', 'multi-interface.pcapng'].map(fixture),
  ...[
    'arkime/http-no-length.pcap', 'arkime/openssl-tls1-tls1_2.pcap', 'pcapplusplus/ExamplesTest/tls2.pcap',
    'pcapplusplus/PcapExamples/pcapng-example.pcapng', 'pcapplusplus/PcapExamples/three_http_streams.pcap',
    'pcapplusplus/PcapExamples/one_ipv6_http_stream.pcap', 'pcapplusplus/PcapExamples/unidirectional_tcp_stream_with_missing_packet.pcap',
    'zeek/tcp/truncated-header.pcap', 'zeek/tcp/handshake-reorder.pcap', 'zeek/tcp/missing-syn.pcap', 'zeek/tcp/reassembly.pcap',
    'tcpdump/bigtcp-ipv4.pcap', 'tcpdump/dns_tcp.pcap', 'tcpdump/ipv4_tcp_http_xml_tso.pcap', 'tcpdump/mptcp-aa-v1.pcap', 'tcpdump/bgp-4byte-asn.pcap',
  ].map((f) => path.join(corpusDir, f)),
].filter((f) => existsSync(f));

describe.skipIf(!hasTshark)('conns against tshark -q -z conv,tcp', () => {
  let same = 0;
  let total = 0;
  it.each(CAPTURES.map((f) => [path.relative(repoRoot, f), f]))('%s: frames and bytes each way, duration', (_name, file) => {
    const theirs = tsharkConv(file).sort(byKeyThenStart);
    const ours = ourConv(connectionTable(file).rows).sort(byKeyThenStart);
    total += theirs.length;
    same += theirs.filter((t, k) => ours[k]?.key === t.key && ours[k].counts === t.counts).length;
    expect(ours.map((r) => [r.key, r.counts])).toEqual(theirs.map((r) => [r.key, r.counts]));
  }, 120_000);

  it('reports the counts', () => {
    console.log(`conns: frames, bytes each way and duration identical to tshark's conv,tcp on ${same}/${total} connections of ${CAPTURES.length} captures`);
    expect(total).toBeGreaterThan(0);
  });
});

describe('connection table', () => {
  it('final states, handshake RTT, who closed and how', () => {
    const http = connectionTable(fixture('http.pcap')).rows;
    expect(http.map((r) => [r.stream, r.states, r.closedBy, r.closeHow])).toEqual([
      [0, ['CLOSED', 'TIME-WAIT'], 1, 'fin'],
      [1, ['TIME-WAIT', 'CLOSED'], 0, 'fin'],
    ]);
    expect(http[0].handshakeRtt).toBeGreaterThan(http[0].synAckRtt!);
    const rst = connectionTable(fixture('tcp-sack-rst.pcap')).rows;
    expect(rst.slice(1).map((r) => [r.nodes[1], r.closedBy, r.closeHow, r.handshakeRtt])).toEqual([
      ['198.51.100.20:9', 1, 'rst', null],
      ['[2001:db8:b::20]:9', 1, 'rst', null],
    ]);
  });

  it('a filter keeps the connections with a matching frame, numbered and counted in full', () => {
    const all = connectionTable(fixture('http.pcap')).rows;
    const v6 = connectionTable(fixture('http.pcap'), 'ip6').rows;
    expect(v6).toEqual(all.filter((r) => r.nodes[0].startsWith('[')));
    expect(connectionTable(fixture('http.pcap'), 'tcp[tcpflags] & tcp-syn != 0 and src port 40544').rows.map((r) => r.stream)).toEqual([0]);
  });

  it('counts reassembly gaps', () => {
    const file = path.join(corpusDir, 'pcapplusplus/PcapExamples/unidirectional_tcp_stream_with_missing_packet.pcap');
    if (!existsSync(file)) return;
    const [r] = connectionTable(file).rows;
    expect(r.gaps[0] + r.gaps[1]).toBeGreaterThan(0);
    expect(r.gapBytes[0] + r.gapBytes[1]).toBeGreaterThan(0);
  });

  it('prints one table row per connection', () => {
    const text = formatTable(connectionTable(fixture('tcp-sack-rst.pcap')).rows);
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/│ Stream │ Node 0 .*│ State 0 .*│ Frames -> │ Bytes -> │ Frames <- │ Bytes <- │ Duration │ Handshake RTT │ Retrans │ Gaps │ Closed by/);
    expect(lines.filter((l) => /^│\s+\d+ │/.test(l)).length).toBe(3);
    expect(text).toMatch(/│\s+1 │ 192\.0\.2\.10:52160\s+│ 198\.51\.100\.20:9\s+│ CLOSED\s+│ CLOSED\s+│\s+1 │\s+74 │\s+1 │\s+54 │.*│ node 1 \(RST\) │/);
  });
});

describe.skipIf(!built)('wirescope conns command line', () => {
  it('--json: one object per connection', () => {
    const r = run('node', [wirescopeBin, 'conns', '-r', fixture('http.pcap'), '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as ConnSummary);
    expect(rows.map((x) => x.stream)).toEqual([0, 1]);
    expect(rows[0]).toMatchObject({ nodes: ['192.0.2.10:40544', '198.51.100.20:8000'], packets: [8, 7] });
  });

  it('errors are one line and status 1', () => {
    for (const args of [[], ['-r', '/nonexistent.pcap'], ['-r', fixture('http.pcap'), 'port 8o'], ['-r', fixture('http.pcap'), '--bogus']]) {
      const r = run('node', [wirescopeBin, 'conns', ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr.split('\n')[0]).toMatch(/^wirescope: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
