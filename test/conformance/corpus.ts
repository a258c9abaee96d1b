/** Shared helpers for tests that use ../shared/corpus and the real tools. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusDir = path.resolve(repoRoot, '../shared/corpus');
export const hasCorpus = existsSync(path.join(corpusDir, 'MANIFEST.tsv'));
export const wirescopeBin = path.join(repoRoot, 'bin/wirescope.js');

/**
 * A path our reader takes: a gzip-compressed corpus capture is unpacked once into a cache folder
 * shared by the test workers (written under a temporary name, then renamed, so a worker never
 * reads a half-written copy). Bounded by the corpus; reused by later runs.
 */
export function plainCapture(file: string): string {
  if (!file.endsWith('.gz')) return file;
  const dir = path.join(tmpdir(), 'wirescope-corpus-unpacked');
  const out = path.join(dir, path.relative(corpusDir, file).replaceAll(path.sep, '__').slice(0, -3));
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const part = `${out}.${process.pid}.part`;
    writeFileSync(part, gunzipSync(readFileSync(file)));
    renameSync(part, out);
  }
  return out;
}

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Reads a TSV with a header line into objects. */
export function readTsv(file: string): Array<Record<string, string>> {
  const text = file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const head = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    const row: Record<string, string> = {};
    head.forEach((h, k) => (row[h] = cells[k] ?? ''));
    return row;
  });
}

/** tshark's frame.protocols per frame number, from the stored reference (or a live tshark run). */
export function frameProtocols(capture: string): Map<number, string> {
  const rel = path.relative(corpusDir, capture);
  const ref = path.join(corpusDir, 'reference', rel + '.fields.tsv.gz');
  const m = new Map<number, string>();
  if (!rel.startsWith('..') && existsSync(ref)) {
    for (const r of readTsv(ref)) m.set(Number(r['frame.number']), r['frame.protocols']);
    return m;
  }
  const out = execFileSync('tshark', ['-n', '-r', capture, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.protocols'], {
    encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'],
  });
  for (const l of out.split('\n')) {
    const [n, p] = l.split('\t');
    if (n) m.set(Number(n), p ?? '');
  }
  return m;
}

/** Protocols of issue 2, DNS and mDNS of issue 5, and the Geneve and AH headers whose inner traffic issue 5 follows, as tshark names them in frame.protocols. */
export const CORE_PROTOCOLS = new Set([
  'eth', 'ethertype', 'vlan', 'ieee8021ad', 'llc', 'arp', 'ip', 'ipv6', 'ipv6.hopopts', 'ipv6.routing', 'ipv6.fraghdr',
  'ipv6.dstopts', 'icmp', 'icmpv6', 'udp', 'tcp', 'data', 'sll', 'null', 'raw', 'dns', 'mdns', 'geneve', 'ah',
]);

/**
 * True when a differing packet is one where tcpdump ran a printer for a protocol outside issue 2
 * that tshark does not name (HTTP in a segment tshark holds for reassembly, NFS, babel, VRRP...):
 * at the first difference wirescope printed tcpdump's generic fallback for an undecoded payload,
 * or stopped where tcpdump went on with ": <protocol>".
 */
export function tcpdumpDecodedFurther(expected: string[], actual: string[]): boolean {
  for (let k = 0; k < expected.length; k++) {
    const t = expected[k];
    const w = actual[k];
    if (w === undefined) return k > 0;
    if (t === w) continue;
    let i = 0;
    while (i < t.length && i < w.length && t.charCodeAt(i) === w.charCodeAt(i)) i++;
    const ours = w.slice(i);
    // Our line stops where tcpdump goes on with a protocol's text ("...: HTTP: GET", or after -e's "length N: ").
    if (ours === '' && (t.startsWith(': ', i) || t.slice(0, i).endsWith(': '))) return true;
    return ours.startsWith('UDP, ') || ours.startsWith(' ip-proto-') || ours.startsWith('ip-proto-') ||
      ours.startsWith('[|unsupported link type') || /^[0-9a-f:]{17} > [0-9a-f:]{17}, ethertype /.test(ours);
  }
  return false;
}

export function onlyCoreProtocols(protocols: string | undefined): boolean {
  if (!protocols) return false;
  for (const p of protocols.split(':')) if (!CORE_PROTOCOLS.has(p)) return false;
  return true;
}

/**
 * Splits `-#` output into packets: a packet starts at a line beginning with its right-aligned
 * number and two spaces; continuation lines belong to it.
 */
export function splitNumbered(text: string): Map<number, string[]> {
  const m = new Map<number, string[]>();
  let cur: string[] | null = null;
  for (const line of text.split('\n')) {
    const mm = /^ *(\d+)  /.exec(line);
    if (mm && line.length >= 7 && /^[ \d]{5}  /.test(line.slice(0, 7))) {
      cur = [line];
      m.set(Number(mm[1]), cur);
    } else if (cur && line.length) cur.push(line);
  }
  return m;
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}
