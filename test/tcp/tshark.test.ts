/**
 * The tracker against tshark 4.0.17: tcp.stream of every frame of every corpus capture with TCP
 * (stored references) and of every fixture (live tshark), and the bytes of each direction of each
 * stream against `tshark -q -z follow,tcp,raw,N`.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { corpusDir, hasCorpus, hasTool, repoRoot } from '../conformance/corpus.js';
import { TRACKER_FIELDS } from '../../src/output/fields.js';
import { ourColumns, ourStreams, tsharkColumns, tsharkFollowRaw, tsharkStreams } from './tshark-streams.js';
import type { StreamSink } from '../../src/tcp/reassembler.js';
import { endpointText } from '../../src/tcp/flow-key.js';

const hasTshark = hasTool('tshark');
if (!hasCorpus) console.log('skipping corpus tcp.stream comparison: ../shared/corpus is absent');
if (!hasTshark) console.log('skipping live tshark comparisons: tshark is not installed');

/**
 * Corpus captures whose TCP sits inside something wirescope does not decode (yet), so tshark numbers
 * streams we never see: IPComp (behind AH), ARCnet, PPI, PPPoE, sFlow samples.
 */
const UNDECODED = new Set([
  'libpcap/tests/filter/AH-IPcomp-IPv4.pcap', 'libpcap/tests/filter/AH-IPcomp-IPv6.pcap',
  'libpcap/tests/filter/arcnet-rfc1051-arp-icmp-http.pcap', 'libpcap/tests/filter/arcnet-rfc1201-arp-icmp-http.pcap',
  'libpcap/tests/filter/http_PPI.pcap',
  'pcapplusplus/PcapExamples/one_http_stream_rst.pcap', 'pcapplusplus/ExamplesTest/tcp-reassembly.pcap',
]);

function* walk(d: string): Generator<string> {
  for (const e of readdirSync(d)) {
    const p = path.join(d, e);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Corpus captures with a tcp.stream in their reference: [relative path, reference column]. */
function corpusWithTcp(): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  const refDir = path.join(corpusDir, 'reference');
  for (const ref of walk(refDir)) {
    const rel = path.relative(refDir, ref).replace(/\.fields\.tsv\.gz$/, '');
    if (rel.endsWith('.gz') || !existsSync(path.join(corpusDir, rel))) continue;
    const lines = gunzipSync(readFileSync(ref)).toString('utf8').split('\n').filter((l) => l.length > 0);
    const col = lines[0].split('\t').indexOf('tcp.stream');
    const want = lines.slice(1).map((l) => l.split('\t')[col] ?? '');
    if (want.some((w) => w !== '')) out.push([rel, want]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function firstDifference(got: string[], want: string[]): string | null {
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    if ((got[i] ?? '') !== (want[i] ?? '')) return `frame ${i + 1}: tshark "${want[i]}", ours "${got[i]}"`;
  }
  return null;
}

describe.skipIf(!hasCorpus)('tcp.stream on the corpus (stored tshark references)', () => {
  const files = hasCorpus ? corpusWithTcp() : [];
  it('numbers every frame as tshark on every capture whose TCP wirescope decodes', () => {
    let same = 0;
    const diffs: string[] = [];
    for (const [rel, want] of files) {
      const diff = firstDifference(ourStreams(path.join(corpusDir, rel)).column, want);
      if (diff === null) same++;
      else if (!UNDECODED.has(rel)) diffs.push(rel + ': ' + diff);
    }
    console.log(`tcp.stream identical on ${same}/${files.length} corpus captures with TCP (${UNDECODED.size} hold TCP in protocols not decoded)`);
    expect(diffs).toEqual([]);
    expect(same).toBe(files.length - UNDECODED.size);
  });
});

const fixtureDir = path.join(repoRoot, 'fixtures');
const fixtures = existsSync(fixtureDir) ? readdirSync(fixtureDir).filter((f) => /\.pcap(ng)?$/.test(f)).sort() : [];

describe.skipIf(!hasTshark)('tcp.stream on the fixtures (live tshark)', () => {
  it.each(fixtures)('%s', (name) => {
    const file = path.join(fixtureDir, name);
    expect(firstDifference(ourStreams(file).column, tsharkStreams(file))).toBeNull();
  });
});

/** Captures with retransmissions (and the fixtures): tcp.analysis.retransmission frame by frame. */
const RETRANSMISSIONS = [
  ...fixtures.map((f) => path.join(fixtureDir, f)),
  ...['zeek/tcp/reassembly.pcap', 'pcapplusplus/ExamplesTest/tls2.pcap', 'tcpdump/pptp.pcap', 'zeek/tcp/option-sack.pcap',
    'zeek/tcp/qi_internet_SYNACK_curl_jsonip.pcap', 'zeek/tcp/fin_retransmission.pcap', 'pcapplusplus/PcapExamples/one_tcp_stream.pcap',
    'zeek/tcp/syn-then-stuff-then-rst.pcap', 'zeek/tcp/retransmit-timeout.pcapng', 'zeek/http/get-gzip.pcap',
    'pcapplusplus/PcapExamples/unidirectional_tcp_stream_with_missing_packet.pcap',
  ].map((f) => path.join(corpusDir, f)),
].filter((f) => existsSync(f));

describe.skipIf(!hasTshark)('tcp.analysis.* against tshark (its sequence analysis rules)', () => {
  it('flags the same frames', () => {
    let flagged = 0;
    for (const file of RETRANSMISSIONS) {
      const names = ['tcp.stream', ...Object.keys(TRACKER_FIELDS).filter((n) => n !== 'tcp.stream' && n !== 'tcp.analysis.retransmission'), 'tcp.analysis.retransmission'];
      const want = tsharkColumns(file, names);
      const got = ourColumns(file, names);
      expect({ file, got }).toEqual({ file, got: want });
      flagged += want.filter((l) => l.endsWith('\t1')).length;
    }
    console.log(`tcp.analysis.* identical on ${RETRANSMISSIONS.length} captures (${flagged} frames flagged as retransmissions)`);
  }, 120000);
});

interface Followed {
  nodes: [string, string];
  /**
   * Bytes per direction up to the first gap, as hex: tshark's follow holds everything after a
   * hole that never fills and prints none of it, where we report the gap and go on.
   */
  hex: [string, string];
  gapped: [boolean, boolean];
  events: string[];
}

/** Reassembled bytes of every stream of a capture, per direction, as hex; and the endpoints. */
function ourFollow(file: string): Map<number, Followed> {
  const streams = new Map<number, Followed>();
  ourStreams(file, {
    sink: (c): StreamSink => {
      const s = {
        nodes: [endpointText(c.ends[0].addr, c.ends[0].port), endpointText(c.ends[1].addr, c.ends[1].port)] as [string, string],
        hex: ['', ''] as [string, string],
        gapped: [false, false] as [boolean, boolean],
        events: [] as string[],
      };
      streams.set(c.stream, s);
      return {
        chunk: (ch) => { if (!s.gapped[ch.dir]) s.hex[ch.dir] += Buffer.from(ch.bytes).toString('hex'); },
        event: (e) => {
          s.events.push(e.type);
          if (e.type === 'gap') s.gapped[e.dir] = true;
        },
        complete: () => {},
      };
    },
  });
  return streams;
}

const FOLLOW = [
  ...['http.pcap', 'tls.pcap', 'tcp-sack-rst.pcap'].map((f) => path.join(fixtureDir, f)),
  ...['arkime/http-no-length.pcap', 'arkime/http-wrapped-header.pcap', 'arkime/openssl-tls1-tls1_2.pcap',
    'pcapplusplus/PcapExamples/one_http_stream_fin.pcap', 'pcapplusplus/PcapExamples/one_ipv6_http_stream.pcap',
    'pcapplusplus/PcapExamples/one_tcp_stream.pcap', 'pcapplusplus/PcapExamples/one_tcp_stream_fin_rst_close_packet.pcap',
    'pcapplusplus/PcapExamples/three_http_streams.pcap',
    'pcapplusplus/PcapExamples/unidirectional_tcp_stream_with_missing_packet.pcap', 'pcapplusplus/ExamplesTest/tcp-reassembly.pcap'].map((f) => path.join(corpusDir, f)),
].filter((f) => existsSync(f));

describe.skipIf(!hasTshark)('reassembled bytes against tshark follow,tcp,raw', () => {
  it.each(FOLLOW.map((f) => [path.relative(repoRoot, f), f]))('%s', (_name, file) => {
    const ours = ourFollow(file);
    let same = 0;
    let gaps = 0;
    for (const [n, s] of ours) {
      if (s.gapped[0] || s.gapped[1]) gaps++;
      const t = tsharkFollowRaw(file, n);
      expect({ n, nodes: s.nodes, hex: s.hex }).toEqual({ n, nodes: t.nodes, hex: t.hex });
      same++;
    }
    console.log(`${path.basename(file)}: follow,tcp,raw byte-identical on ${same}/${ours.size} streams (${gaps} with an unfilled gap: compared up to it)`);
  }, 120000);
});
