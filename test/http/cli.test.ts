/** `wirescope http`: the transactions of the HTTP fixture and corpus captures, checked against tshark's pairing and http.time. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { httpTransactions } from '../../src/http/transactions.js';
import { formatTable } from '../../src/cli/http.js';
import { corpusDir, haveCorpus, haveTshark, repoRoot } from './harness.js';
import { run } from '../conformance/corpus.js';

const fixture = path.join(repoRoot, 'fixtures', 'http.pcap');
const bin = path.join(repoRoot, 'bin', 'wirescope.js');
const built = existsSync(path.join(repoRoot, 'dist', 'src', 'cli', 'http.js'));
if (!built) console.log('wirescope http: dist/ not built, the command-line runs are skipped');

describe('wirescope http', () => {
  it('lists the fixture transactions: two on one IPv4 connection, one over IPv6', () => {
    const t = httpTransactions(fixture);
    expect(t.error).toBeNull();
    expect(t.rows.map((r) => [r.stream, r.method, r.host, r.uri, r.status, r.requestBytes, r.requestFrame, r.responseFrame])).toEqual([
      [0, 'GET', '198.51.100.20:8000', '/', 200, 82, 4, 8],
      [0, 'GET', '198.51.100.20:8000', '/missing', 404, 89, 10, 12],
      [1, 'GET', '[2001:db8:b::20]:8000', '/index.html', 200, 95, 19, 23],
    ]);
    expect(formatTable(t.rows)).toContain('│      0 │ GET    │ 198.51.100.20:8000    │ /           │ 200    │      82 │');
    expect(httpTransactions(fixture, 'ip6').rows.map((r) => r.stream)).toEqual([1]);
  });

  it.skipIf(!haveTshark)('pairs as tshark does and times responses as its http.time', () => {
    const files = [fixture];
    if (haveCorpus) {
      for (const rel of ['zeek/http/100-continue.pcap', 'gopacket/pcap/test_loopback.pcap', 'pcapplusplus/PcapExamples/raw_ip.pcap',
        'scapy/http_content_length.pcap', 'pcapplusplus/ExamplesTest/tcp-reassembly.pcap']) files.push(path.join(corpusDir, rel));
    }
    let pairs = 0;
    for (const file of files) {
      const r = run('tshark', ['-n', '-r', file, '-Y', 'http.response and http.request_in', '-T', 'fields', '-e', 'frame.number', '-e', 'http.request_in', '-e', 'http.time']);
      const want = r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')).map(([f, req, time]) => [Number(req), Number(f), time]);
      const got = httpTransactions(file).rows.filter((x) => !x.incomplete && x.responseFrame !== null && x.requestFrame !== null && x.status !== null && x.status >= 200)
        .map((x) => [x.requestFrame, x.responseFrame, x.responseTime!.toFixed(6) + '000']);
      expect({ file, pairs: got }).toEqual({ file, pairs: want });
      pairs += want.length;
    }
    console.log(`wirescope http: ${pairs} request/response pairs and their times identical to tshark's http.request_in/http.time on ${files.length} captures`);
  });

  it.skipIf(!built)('prints the table, JSON lines, and one-line errors with exit status 1', () => {
    const ok = spawnSync('node', [bin, 'http', '-r', fixture, '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const rows = ok.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.status)).toEqual([200, 404, 200]);
    const missing = spawnSync('node', [bin, 'http', '-r', '/nonexistent.pcap'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('wirescope: /nonexistent.pcap: No such file or directory\n');
    const badFilter = spawnSync('node', [bin, 'http', '-r', fixture, 'tcp port'], { encoding: 'utf8' });
    expect(badFilter.status).toBe(1);
    expect(badFilter.stderr.split('\n')).toHaveLength(2);
  });
});
