/**
 * `wirescope tls`: the per-connection summary against tshark's hello fields per tcp.stream, and the
 * command's exit statuses and one-line errors.
 */
import '../../dissectors/index.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tlsTable } from '../../src/tls/capture.js';
import { corpusDir, hasCorpus, hasTool, repoRoot, wirescopeBin } from '../conformance/corpus.js';

const fixture = path.join(repoRoot, 'fixtures/tls.pcap');
const hasTshark = hasTool('tshark');
const hasBuild = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!hasTshark) console.log('wirescope tls against tshark skipped: tshark is not installed');
if (!hasBuild) console.log('wirescope tls command test skipped: run `npx tsc -p tsconfig.json` first');

interface TsharkHellos {
  sni: string;
  alpn: string;
  ja3: string;
  ja3s: string;
  cipher: string;
}

/** The first ClientHello's and ServerHello's fields of each stream, from tshark. */
function tsharkHellos(file: string): Map<number, TsharkHellos> {
  const out = execFileSync('tshark', ['-n', '-r', file, '-Y', 'tls.handshake.type == 1 || tls.handshake.type == 2', '-T', 'fields',
    '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'tcp.stream', '-e', 'tls.handshake.type', '-e', 'tls.handshake.extensions_server_name',
    '-e', 'tls.handshake.extensions_alpn_str', '-e', 'tls.handshake.ja3', '-e', 'tls.handshake.ja3s', '-e', 'tls.handshake.ciphersuite'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  const m = new Map<number, TsharkHellos>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [stream, types, sni, alpn, ja3, ja3s, ciphers] = line.split('\t');
    const s = Number(stream);
    const h = m.get(s) ?? { sni: '', alpn: '', ja3: '', ja3s: '', cipher: '' };
    const t = types.split(',');
    if (t.includes('1') && h.ja3 === '') Object.assign(h, { sni, alpn, ja3 });
    if (t.includes('2') && h.ja3s === '') Object.assign(h, { ja3s, cipher: t.length === 1 ? ciphers : h.cipher });
    m.set(s, h);
  }
  return m;
}

describe.skipIf(!hasTshark)('wirescope tls summary against tshark', () => {
  const files = [fixture];
  if (hasCorpus) for (const f of ['zeek/tls/tls13-ech.pcap', 'zeek/tls/tls1.2.pcap', 'zeek/tls/ocsp-stapling.pcap', 'pcapplusplus/ExamplesTest/tls.pcap']) files.push(path.join(corpusDir, f));
  for (const file of files) {
    it(`${path.relative(path.dirname(repoRoot), file)}: SNI, ALPN offered, JA3, JA3S and cipher per stream`, () => {
      const theirs = tsharkHellos(file);
      const { rows } = tlsTable(file);
      expect(theirs.size).toBeGreaterThan(0);
      for (const [stream, t] of theirs) {
        const r = rows.find((x) => x.stream === stream);
        expect(r, `stream ${stream}`).toBeDefined();
        expect(r!.sni ?? '').toBe(t.sni.split(',')[0]);
        expect(r!.alpnOffered.join(',')).toBe(t.alpn);
        expect(r!.ja3 ?? '').toBe(t.ja3);
        expect(r!.ja3s ?? '').toBe(t.ja3s);
        if (t.cipher !== '') expect(r!.cipher).toBe(Number(t.cipher));
      }
    });
  }

  it('fixture: TLS 1.3 and 1.2 connections with the negotiated version and the 1.2 server certificate', () => {
    const { rows } = tlsTable(fixture);
    expect(rows.map((r) => r.version)).toEqual([0x0304, 0x0303]);
    expect(rows[1].certificates).toEqual([{ subjectCN: 'www.wirescope.example', issuerCN: 'www.wirescope.example' }]);
    expect(rows[0].certificates).toEqual([]);
    expect(rows[0].ja4).toMatch(/^t13i\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
    expect(tlsTable(fixture, 'port 51866').rows.map((r) => r.stream)).toEqual([1]);
  });
});

describe.skipIf(!hasBuild)('wirescope tls command', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [wirescopeBin, 'tls', ...args], { encoding: 'utf8' });

  it('prints a table, or one JSON object per connection', () => {
    const table = run(['-r', fixture]);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain('JA3S');
    expect(table.stdout).toContain('TLSv1.3');
    const json = run(['-r', fixture, '--json']);
    expect(json.status).toBe(0);
    const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.versionName)).toEqual(['TLSv1.3', 'TLSv1.2']);
  });

  it('a missing file or a bad filter: one line on stderr, status 1', () => {
    const missing = run(['-r', '/nonexistent.pcap']);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const bad = run(['-r', fixture, 'port', '+']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^wirescope: tls: /);
    expect(run([]).status).toBe(1);
  });
});
