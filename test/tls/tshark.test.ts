/**
 * TLS fields against live tshark 4.0 (`-T fields -E occurrence=a -E aggregator=,`) on the TLS
 * fixture and every corpus capture tshark finds TLS in over TCP: per frame, the tls.* fields of
 * the TLS layers our stream parser decodes (placed on the frame whose segment completed them)
 * must equal tshark's; so must the TLS part of frame.protocols (one "tls" per TLS layer, with what
 * certificates add: x509sat, x509ce, ...). Figures are printed.
 */
import '../../dissectors/index.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tls, TlsLayer } from '../../dissectors/tls.js';
import type { AppMessage } from '../../src/stream/app.js';
import { scanTls } from '../../src/tls/capture.js';
import { corpusDir, hasCorpus, hasTool, plainCapture, readTsv, repoRoot } from '../conformance/corpus.js';

const FIELDS = [
  'tls.record.content_type', 'tls.record.version', 'tls.handshake.type', 'tls.handshake.version',
  'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str', 'tls.handshake.ciphersuite',
  'tls.handshake.ja3', 'tls.handshake.ja3_full', 'tls.handshake.ja3s', 'tls.handshake.ja3s_full',
];
const JA3 = FIELDS.indexOf('tls.handshake.ja3');
const JA3S = FIELDS.indexOf('tls.handshake.ja3s');

/** Corpus captures with TLS that tshark reaches through another protocol, which this reader does not follow. */
const OUT_OF_SCOPE: Record<string, string> = {
  'tcpdump/quic_handshake.pcap': 'TLS inside QUIC (UDP)',
  'tcpdump/quic_handshake_truncated.pcap': 'TLS inside QUIC (UDP)',
  'zeek/tls/smtp-starttls.pcap': 'SMTP STARTTLS: tshark switches after the SMTP reply',
  'pcapplusplus/PcapExamples/pcapng-example.pcapng': 'MySQL SSL request: tshark switches after the MySQL handshake',
  'zeek/http/connect-with-header.pcap': 'HTTP CONNECT tunnel: tshark switches after the 200 reply',
  'pcapplusplus/ExamplesTest/tcp-reassembly.pcap': 'TLS headers sampled inside sFlow datagrams',
  'tcpdump/nfs-write-verf-cookie.pcapng': 'NFS over TCP taken for SSLv2 by tshark (a heuristic false positive)',
};


interface FrameRow {
  cols: string[];
  /** frame.protocols from the first "tls" on ('' without TLS). */
  protocols: string;
}

function tsharkRows(file: string): FrameRow[] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'frame.protocols'];
  for (const f of FIELDS) args.push('-e', f);
  const lines = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
  lines.pop();
  return lines.map((line) => {
    const cells = line.split('\t');
    const at = cells[0].indexOf(':tls');
    return { cols: cells.slice(1), protocols: at < 0 ? '' : cells[0].slice(at + 1) };
  });
}

function cell(layers: readonly AppMessage[], name: string): string {
  const get = tls.fields![name];
  const vals: Array<string | number> = [];
  for (const m of layers) {
    const v = get(m.layer as TlsLayer, undefined as never);
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) vals.push(...v);
    else vals.push(v as string | number);
  }
  return vals.join(',');
}

function ourRows(file: string, frames: number): FrameRow[] {
  const byFrame: AppMessage[][] = [];
  // Bytes TLS refused are data, outside the TLS part of frame.protocols.
  scanTls(plainCapture(file), { onMessage: (m) => m.layer instanceof TlsLayer && (byFrame[m.time.frame - 1] ??= []).push(m) });
  const rows: FrameRow[] = [];
  for (let i = 0; i < frames; i++) {
    const ms = byFrame[i] ?? [];
    rows.push({ cols: FIELDS.map((f) => cell(ms, f)), protocols: ms.map((m) => (m.layer as TlsLayer).protocols ?? 'tls').join(':') });
  }
  return rows;
}

interface Figures {
  frames: number;
  fieldsSame: number;
  protocolsSame: number;
  ja3: number;
  ja3Same: number;
  ja3s: number;
  ja3sSame: number;
  differences: string[];
}

function compare(file: string): Figures {
  const theirs = tsharkRows(file);
  const ours = ourRows(file, theirs.length);
  const fig: Figures = { frames: 0, fieldsSame: 0, protocolsSame: 0, ja3: 0, ja3Same: 0, ja3s: 0, ja3sSame: 0, differences: [] };
  for (let i = 0; i < theirs.length; i++) {
    const t = theirs[i];
    const o = ours[i];
    if (t.protocols === '' && o.protocols === '') continue;
    fig.frames++;
    const same = t.cols.join('\t') === o.cols.join('\t');
    if (same) fig.fieldsSame++;
    else if (fig.differences.length < 5) fig.differences.push(`#${i + 1}\n  tshark: ${t.cols.join('\t').slice(0, 300)}\n  ours:   ${o.cols.join('\t').slice(0, 300)}`);
    if (t.protocols === o.protocols) fig.protocolsSame++;
    if (t.cols[JA3] !== '') {
      fig.ja3++;
      if (t.cols[JA3] === o.cols[JA3]) fig.ja3Same++;
    }
    if (t.cols[JA3S] !== '') {
      fig.ja3s++;
      if (t.cols[JA3S] === o.cols[JA3S]) fig.ja3sSame++;
    }
  }
  return fig;
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : ((100 * a) / b).toFixed(2) + '%');
const hasTshark = hasTool('tshark');
if (!hasTshark) console.log('TLS tshark conformance skipped: tshark is not installed');
if (!hasCorpus) console.log('TLS corpus conformance skipped: ../shared/corpus is absent');

describe.skipIf(!hasTshark)('TLS fields against tshark: fixture', () => {
  it('fixtures/tls.pcap: every frame identical, JA3/JA3S equal', () => {
    const f = compare(path.join(repoRoot, 'fixtures/tls.pcap'));
    console.log(`fixtures/tls.pcap: fields ${f.fieldsSame}/${f.frames}, frame.protocols ${f.protocolsSame}/${f.frames}, JA3 ${f.ja3Same}/${f.ja3}, JA3S ${f.ja3sSame}/${f.ja3s}`);
    expect(f.differences).toEqual([]);
    expect(f.frames).toBeGreaterThan(10);
    expect(f.protocolsSame).toBe(f.frames);
    expect(f.ja3).toBe(2);
    expect(f.ja3Same).toBe(f.ja3);
    expect(f.ja3sSame).toBe(f.ja3s);
  });
});

describe.skipIf(!hasTshark || !hasCorpus)('TLS refusing plaintext-looking bytes as tshark', () => {
  it('tls2.pcap: the segments tshark shows as data on port 443 (first 4 bytes printable) are data here, the others TLS', () => {
    const file = path.join(corpusDir, 'pcapplusplus/ExamplesTest/tls2.pcap');
    const out = execFileSync('tshark', ['-n', '-r', file, '-Y', 'tcp.port == 443 && tcp.len > 0', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.protocols'], {
      encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'],
    });
    const theirs = out.split('\n').filter((l) => l.endsWith(':tcp:data')).map((l) => Number(l.split('\t')[0]));
    const ours: number[] = [];
    scanTls(file, { onMessage: (m) => !(m.layer instanceof TlsLayer) && ours.push(m.time.frame) });
    console.log(`tls2.pcap: ${ours.length} hand-overs refused as data, tshark ${theirs.length}`);
    expect(theirs.length).toBe(15);
    expect(ours.sort((a, b) => a - b)).toEqual(theirs);
  });
});

/** Corpus captures where tshark finds TLS, from the stored references (frame.protocols). */
function corpusTlsCaptures(): string[] {
  const refDir = path.join(corpusDir, 'reference');
  const out: string[] = [];
  for (const row of readTsv(path.join(corpusDir, 'MANIFEST.tsv'))) {
    const rel = row.path;
    if (Object.hasOwn(OUT_OF_SCOPE, rel)) continue;
    let text: string;
    try {
      text = gunzipSync(readFileSync(path.join(refDir, rel + '.fields.tsv.gz'))).toString('utf8');
    } catch {
      continue;
    }
    if (text.includes(':tls')) out.push(rel);
  }
  return out;
}

describe.skipIf(!hasTshark || !hasCorpus)('TLS fields against tshark: corpus', () => {
  it('tls.* fields identical on at least 99% of TLS frames; every JA3 and JA3S equal', () => {
    const total: Figures = { frames: 0, fieldsSame: 0, protocolsSame: 0, ja3: 0, ja3Same: 0, ja3s: 0, ja3sSame: 0, differences: [] };
    const files = corpusTlsCaptures();
    for (const rel of files) {
      const f = compare(path.join(corpusDir, rel));
      if (f.fieldsSame !== f.frames) console.log(`${rel}: fields ${f.fieldsSame}/${f.frames}\n${f.differences.slice(0, 2).join('\n')}`);
      for (const k of ['frames', 'fieldsSame', 'protocolsSame', 'ja3', 'ja3Same', 'ja3s', 'ja3sSame'] as const) total[k] += f[k];
    }
    console.log(
      `TLS corpus (${files.length} captures; out of scope: ${Object.keys(OUT_OF_SCOPE).length}): fields identical on ${total.fieldsSame}/${total.frames} frames (${pct(total.fieldsSame, total.frames)}), ` +
        `TLS part of frame.protocols ${total.protocolsSame}/${total.frames} (${pct(total.protocolsSame, total.frames)}), JA3 ${total.ja3Same}/${total.ja3}, JA3S ${total.ja3sSame}/${total.ja3s}`,
    );
    expect(files.length).toBeGreaterThan(40);
    expect(total.fieldsSame / total.frames).toBeGreaterThanOrEqual(0.99);
    expect(total.protocolsSame / total.frames).toBeGreaterThanOrEqual(0.99);
    expect(total.ja3Same).toBe(total.ja3);
    expect(total.ja3sSame).toBe(total.ja3s);
  }, 300_000);
});
