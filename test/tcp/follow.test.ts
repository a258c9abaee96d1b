/**
 * `wirescope follow` against `tshark -q -z follow,tcp,FORMAT,N` (ascii, hex and raw, every stream
 * of the fixtures and of a spread of corpus captures), the formatting rules on their own, and the
 * tcpflow-named files of --write-streams.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { corpusDir, hasCorpus, hasTool, repoRoot, run, wirescopeBin } from '../conformance/corpus.js';
import { printFollow } from '../../src/cli/follow.js';
import { FollowPrinter, followHeader, missingRecord, StreamFiles, tcpflowName, type FollowFormat } from '../../src/tcp/follow.js';
import { trackFile } from '../../src/tcp/conns.js';

const hasTshark = hasTool('tshark');
const built = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!hasTshark) console.log('skipping follow comparisons with tshark: tshark is not installed');
if (!hasCorpus) console.log('skipping corpus follow comparisons: ../shared/corpus is absent');
if (!built) console.log('skipping wirescope follow command-line tests: dist/ is not built (npx tsc -p tsconfig.json)');

const fixture = (name: string): string => path.join(repoRoot, 'fixtures', name);
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('tshark follow formats', () => {
  it('hex: offset, two 8-byte hex groups, text column; one trailing space dropped', () => {
    const p = new FollowPrinter('hex');
    expect(p.record(0, bytes('GET / HTTP/1.1\r\nHo'))).toBe(
      '00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HT TP/1.1..\n' +
      '00000010  48 6f                                             Ho\n');
    // Eight bytes: the mid-line space ends the line and is dropped, as tshark does.
    expect(p.record(0, bytes('abcdefgh'))).toBe('00000012  61 62 63 64 65 66 67 68                           abcdefgh\n');
    // A space byte at the end is dropped too (tshark trims one trailing space whatever it is).
    expect(p.record(1, bytes('a \x00\xff '))).toBe('\t00000000  61 20 00 ff 20                                    a ..\n');
  });

  it('ascii: byte count line, \\r and \\n kept, other non-printables as dots; direction 1 indented', () => {
    const p = new FollowPrinter('ascii');
    expect(p.record(0, bytes('a\r\n\t\x7f\x80~'))).toBe('7\na\r\n..' + '.~\n');
    expect(p.record(1, bytes('ok'))).toBe('\t2\nok\n');
  });

  it('raw: one line of lowercase hex per record', () => {
    const p = new FollowPrinter('raw');
    expect(p.record(0, bytes('\x00\xab'))).toBe('00ab\n');
    expect(p.record(1, bytes('\x0f'))).toBe('\t0f\n');
  });

  it("tshark's missing-bytes record carries its NUL; an unknown stream prints ':0' nodes", () => {
    expect(Buffer.from(missingRecord(1460)).toString('latin1')).toBe('[1460 bytes missing in capture file]\0');
    expect(followHeader('ascii', 'tcp.stream eq 9', null)).toBe(
      '\n===================================================================\nFollow: tcp,ascii\nFilter: tcp.stream eq 9\nNode 0: :0\nNode 1: :0\n');
  });
});

describe('tcpflow file names', () => {
  it('zero-pads IPv4 octets and ports; IPv6 as inet_ntop writes it', () => {
    expect(tcpflowName('192.168.101.102', 2345, '10.11.12.13', 45103)).toBe('192.168.101.102.02345-010.011.012.013.45103');
    expect(tcpflowName('2001:db8::1', 443, 'fe80::2', 80)).toBe('2001:db8::1.00443-fe80::2.00080');
  });

  it('writes each direction at its stream offsets (a gap is a hole), and suffixes c1 when the name is taken', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-follow-'));
    try {
      const files = new StreamFiles(dir);
      const ends = [{ addr: '10.0.0.1', port: 1000 }, { addr: '10.0.0.2', port: 80 }] as const;
      const t = { sec: 0, nsec: 0, frame: 1 };
      for (const stream of [0, 1]) {
        const s = files.sink(stream, ends);
        s.chunk({ dir: 0, seq: 1, bytes: bytes('abc'), time: t });
        s.event({ type: 'gap', dir: 0, seq: 4, length: 2, reason: 'end', time: t });
        s.chunk({ dir: 0, seq: 6, bytes: bytes('de'), time: t });
        s.chunk({ dir: 1, seq: 1, bytes: bytes('reply'), time: t });
        s.complete(0, 'fin', t);
        s.complete(1, 'fin', t);
      }
      const base = '010.000.000.001.01000-010.000.000.002.00080';
      expect(readdirSync(dir).sort()).toEqual([base, base + 'c1', '010.000.000.002.00080-010.000.000.001.01000', '010.000.000.002.00080-010.000.000.001.01000c1']);
      expect(readFileSync(path.join(dir, base)).toString('latin1')).toBe('abc\0\0de');
      expect(files.written.find((w) => w.file.endsWith(base))).toMatchObject({ stream: 0, dir: 0, bytes: 5, gaps: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** tshark's follow output of streams 0..n-1 (one run), by stream number. */
function tsharkFollow(file: string, format: FollowFormat, n: number): Map<number, string> {
  const args = ['-n', '-q', '-r', file];
  for (let k = 0; k < n; k++) args.push('-z', `follow,tcp,${format},${k}`);
  let out: string;
  try {
    out = execFileSync('tshark', args, { encoding: 'latin1', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? '';
  }
  const head = '\n===================================================================\nFollow: ';
  const blocks = new Map<number, string>();
  for (const b of out.split(head).slice(1)) {
    const m = /^tcp,\w+\nFilter: tcp\.stream eq (\d+)\n/.exec(b);
    if (m) blocks.set(Number(m[1]), head + b.replace(/\n$/, '') + '\n');
  }
  return blocks;
}

/** Our output of stream n, and how many bytes it leaves unprinted after a hole nothing acknowledged. */
function ourFollow(file: string, n: number, format: FollowFormat): { text: string; unprinted: number } {
  let s = '';
  const { unprinted } = printFollow(file, n, format, false, (t) => { s += t; });
  return { text: Buffer.from(s, 'utf8').toString('latin1'), unprinted: unprinted[0] + unprinted[1] };
}

function streamCount(file: string): number {
  let last = -1;
  for (const c of trackFile(file).tracker.connections()) last = Math.max(last, c.stream);
  return last + 1;
}

/**
 * Captures compared stream by stream: the fixtures with TCP and corpus captures with HTTP, TLS,
 * SMTP, loss, retransmissions, out-of-order segments, RST, IPv6 and capture started mid-stream.
 */
const CAPTURES = [
  ...['http.pcap', 'tls.pcap', 'tcp-sack-rst.pcap'].map(fixture),
  ...[
    'arkime/http-no-length.pcap', 'arkime/http-wrapped-header.pcap', 'arkime/openssl-tls1-tls1_2.pcap',
    'pcapplusplus/PcapExamples/one_http_stream_fin.pcap', 'pcapplusplus/PcapExamples/one_ipv6_http_stream.pcap',
    'pcapplusplus/PcapExamples/one_tcp_stream.pcap', 'pcapplusplus/PcapExamples/one_tcp_stream_fin_rst_close_packet.pcap',
    'pcapplusplus/PcapExamples/three_http_streams.pcap', 'pcapplusplus/PcapExamples/pcapng-example.pcapng',
    'pcapplusplus/PcapExamples/unidirectional_tcp_stream_with_missing_packet.pcap',
    'zeek/tcp/handshake-reorder.pcap', 'zeek/tcp/missing-syn.pcap', 'zeek/tcp/no-handshake.pcap', 'zeek/tcp/reassembly.pcap',
    'zeek/tcp/truncated-header.pcap', 'zeek/tcp/fin_retransmission.pcap', 'zeek/tcp/miss_end_data.pcap',
    'tcpdump/dns_tcp.pcap', 'tcpdump/ipv4_tcp_http_xml.pcap', 'tcpdump/bigtcp-ipv4.pcap',
    // Only an unreassembled first IP fragment: tshark's follow tap never sees it (nodes ':0').
    'tcpdump/malformed/bgp-bgp_capabilities_print-oobr-1.pcap', 'tcpdump/malformed/rpki-rtr-oobr.pcap',
  ].map((f) => path.join(corpusDir, f)),
].filter((f) => existsSync(f));

/** At most this many streams of one capture are compared (one tshark run per format). */
const MAX_STREAMS = 40;

describe.skipIf(!hasTshark)('follow against tshark -q -z follow,tcp,FORMAT,N', () => {
  const totals = { ascii: [0, 0], hex: [0, 0], raw: [0, 0] } as Record<FollowFormat, [number, number]>;
  const gapped: string[] = [];
  it.each(CAPTURES.map((f) => [path.relative(repoRoot, f), f]))('%s', (_name, file) => {
    const n = Math.min(streamCount(file), MAX_STREAMS);
    for (const format of ['ascii', 'hex', 'raw'] as FollowFormat[]) {
      const theirs = tsharkFollow(file, format, n);
      for (let k = 0; k < n; k++) {
        const { text: ours, unprinted } = ourFollow(file, k, format);
        const t = theirs.get(k) ?? '';
        totals[format][1]++;
        if (ours === t) {
          totals[format][0]++;
          continue;
        }
        // Bytes held after a hole nothing acknowledged: tshark never prints them, we print a
        // missing-bytes record at the end of the capture and go on (a direction's records past it
        // may then come earlier than tshark's). Compared up to our first missing-bytes record.
        if (unprinted > 0) {
          if (format === 'raw') {
            const gapLengths = followJson(file, k).filter((o) => o.gap !== undefined).map((o) => o.gap as number);
            const markers = new Set(gapLengths.map((g) => Buffer.from(missingRecord(g)).toString('hex')));
            const lines = ours.split('\n');
            const first = lines.findIndex((l) => markers.has(l.replace(/^\t/, '')));
            expect(t.split('\n').slice(0, first)).toEqual(lines.slice(0, first));
            gapped.push(`${path.basename(file)} stream ${k}`);
          }
          continue;
        }
        expect({ stream: k, format, ours }).toEqual({ stream: k, format, ours: t });
      }
    }
  }, 300_000);

  it('reports the counts', () => {
    for (const [f, [same, all]] of Object.entries(totals)) console.log(`follow,tcp,${f}: identical to tshark on ${same}/${all} streams`);
    console.log(`streams with bytes held after an unacknowledged hole (raw compared up to our first missing-bytes record): ${gapped.length}: ${gapped.join(', ')}`);
    expect(totals.raw[1]).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasTshark || !hasCorpus)('overlapping segments with different bytes (zeek/tcp/reassembly.pcap)', () => {
  const file = path.join(corpusDir, 'zeek/tcp/reassembly.pcap');
  it.skipIf(!existsSync(file))('stream 0 identical to tshark in every format, start to end, and its conflicts reported', () => {
    for (const format of ['ascii', 'hex', 'raw'] as FollowFormat[]) {
      const { text, unprinted } = ourFollow(file, 0, format);
      expect(unprinted).toBe(0);
      expect({ format, text }).toEqual({ format, text: tsharkFollow(file, format, 1).get(0) });
    }
    const summary = followJson(file, 0).pop()!.summary as { events: Record<string, number>; gaps: number[] };
    expect(summary.events['overlap-conflict']).toBeGreaterThan(0);
    expect(summary.gaps[0]).toBeGreaterThan(0);
  });
});

function followJson(file: string, n: number): Array<Record<string, unknown>> {
  let s = '';
  printFollow(file, n, 'raw', true, (t) => { s += t; });
  return s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe.skipIf(!built)('wirescope follow command line', () => {
  it('follows the stream of the first frame a filter matches, naming that stream in Filter:', () => {
    const r = run('node', [wirescopeBin, 'follow', '-r', fixture('tls.pcap'), 'tcp port 51866']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').slice(2, 5)).toEqual(['Follow: tcp,ascii', 'Filter: tcp.stream eq 1', 'Node 0: 192.0.2.10:51866']);
  });

  it('--json: one object per chunk, then a summary', () => {
    const r = run('node', [wirescopeBin, 'follow', '-r', fixture('http.pcap'), '--stream', '0', '--format', 'raw', '--json']);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = objs.pop()!.summary as { bytes: [number, number]; chunks: [number, number] };
    expect(objs.length).toBe(summary.chunks[0] + summary.chunks[1]);
    expect(objs[0]).toMatchObject({ stream: 0, dir: 0, src: '192.0.2.10:40544', dst: '198.51.100.20:8000', offset: 0 });
    expect(objs.filter((o) => o.dir === 1).reduce((s, o) => s + (o.length as number), 0)).toBe(summary.bytes[1]);
  });

  it.skipIf(!hasTshark)('--write-streams: each direction holds the bytes tshark follows', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-streams-'));
    try {
      const r = run('node', [wirescopeBin, 'follow', '-r', fixture('http.pcap'), '--write-streams', dir]);
      expect(r.status).toBe(0);
      expect(readdirSync(dir).sort()).toEqual([
        '192.000.002.010.40544-198.051.100.020.08000', '198.051.100.020.08000-192.000.002.010.40544',
        '2001:db8:a::10.46932-2001:db8:b::20.08000', '2001:db8:b::20.08000-2001:db8:a::10.46932',
      ]);
      const raw = tsharkFollow(fixture('http.pcap'), 'raw', 1).get(0)!.split('\n');
      const hex = (tab: boolean): string => raw.filter((l) => /^\t?[0-9a-f]+$/.test(l) && l.startsWith('\t') === tab).map((l) => l.trim()).join('');
      expect(readFileSync(path.join(dir, '192.000.002.010.40544-198.051.100.020.08000')).toString('hex')).toBe(hex(false));
      expect(readFileSync(path.join(dir, '198.051.100.020.08000-192.000.002.010.40544')).toString('hex')).toBe(hex(true));
      expect(statSync(path.join(dir, '2001:db8:a::10.46932-2001:db8:b::20.08000')).size).toBe(95);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasCorpus || !hasTshark)('bytes after a hole nothing acknowledged: not printed (as tshark), said on stderr, listed by --json', () => {
    const file = path.join(corpusDir, 'pcapplusplus/PcapExamples/unidirectional_tcp_stream_with_missing_packet.pcap');
    const r = run('node', [wirescopeBin, 'follow', '-r', file, '--stream', '0', '--format', 'raw']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(tsharkFollow(file, 'raw', 1).get(0));
    expect(r.stderr).toMatch(/^wirescope: follow: stream 0: \d+ \+ 0 bytes \(node 0, node 1\) held after a hole nothing acknowledged were not printed, as tshark does not; --json shows them\n$/);
    const objs = run('node', [wirescopeBin, 'follow', '-r', file, '--stream', '0', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = objs.pop()!.summary as { held: [number, number] };
    expect(summary.held[0]).toBeGreaterThan(0);
    expect(objs.filter((o) => o.held === true && o.length !== undefined).reduce((s, o) => s + (o.length as number), 0)).toBe(summary.held[0]);
  });

  it('usage errors and unreadable files are one line and status 1', () => {
    for (const args of [['-r', fixture('http.pcap')], ['-r', fixture('http.pcap'), '--stream', 'x'], ['-r', fixture('http.pcap'), '--stream', '0', '--format', 'yaml'],
      ['-r', '/nonexistent.pcap', '--stream', '0'], ['-r', fixture('http.pcap'), 'port 8o']]) {
      const r = run('node', [wirescopeBin, 'follow', ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr.split('\n')[0]).toMatch(/^wirescope: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a filter that matches no TCP stream says so', () => {
    const r = run('node', [wirescopeBin, 'follow', '-r', fixture('http.pcap'), 'udp']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("wirescope: follow: no TCP stream has a frame matching 'udp'\n");
  });
});
