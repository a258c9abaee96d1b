/**
 * `wirescope -r FILE -w OUT [-c N] [EXPR]` beside `tcpdump -r FILE -w OUT ...`: the files written
 * must be byte for byte the same, whatever the input's format (little/big-endian, micro/nano,
 * pcapng, records cut to the snaplen), and a damaged input gives every complete packet before
 * the damage, then one error line naming the file and the byte offset, and exit status 1.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { makeTempDir, distPcapDir, pcapFile, payload } from './helpers.js';
import { repoRoot, wirescopeBin } from '../conformance/corpus.js';

const haveTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!haveTcpdump) console.log('cli-write: tcpdump is not installed; skipping the comparisons with it');

const tmp = makeTempDir('pcap-cli-write');
afterAll(() => tmp.cleanup());
distPcapDir();

const fixtures = path.join(repoRoot, 'fixtures');

interface Run { status: number | null; stderr: string; out: Buffer }

function wirescope(input: string, args: string[]): Run {
  const out = path.join(tmp.dir, 'ws.pcap');
  const r = spawnSync('node', [wirescopeBin, '-r', input, '-w', out, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, out: existsSync(out) ? readFileSync(out) : Buffer.alloc(0) };
}

function tcpdump(input: string, args: string[]): Run {
  const out = path.join(tmp.dir, 'td.pcap');
  const r = spawnSync('tcpdump', ['-r', input, '-w', out, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, out: existsSync(out) ? readFileSync(out) : Buffer.alloc(0) };
}

/** Both tools on the same input and arguments: same status, same bytes written. */
function same(input: string, args: string[]): void {
  const ws = wirescope(input, args), td = tcpdump(input, args);
  const what = `${path.basename(input)} ${args.join(' ')}`;
  expect(ws.status, `${what}: ${ws.stderr}`).toBe(td.status);
  expect(ws.out.length, what).toBe(td.out.length);
  expect(ws.out.equals(td.out), what).toBe(true);
}

const ARGS: string[][] = [[], ['tcp'], ['udp port 53 or icmp'], ['-c', '3'], ['-c', '2', 'ip6 or arp'], ['not tcp']];

describe.skipIf(!haveTcpdump)('-w writes what tcpdump -w writes', () => {
  it.each(['http.pcap', 'dns.pcap', 'big-endian.pcap', 'nanosecond.pcap', 'snaplen-60.pcap', 'vlan.pcap', 'linux-sll.pcap', 'ipv6-fragments.pcap'])(
    '%s', (name) => {
      for (const args of ARGS) same(path.join(fixtures, name), args);
    });

  it('pcapng input', () => {
    same(path.join(fixtures, 'multi-interface.pcapng'), ['-c', '1']);
  });

  it('classic pcap variants: records cut to a small snaplen, swapped lengths of version 2.2, big-endian nanoseconds', () => {
    const records = Array.from({ length: 40 }, (_, i) => ({ sec: 1700000000 + i, frac: i * 1000, data: payload(60 + i * 37, i) }));
    const variants: Array<[string, Parameters<typeof pcapFile>[0]]> = [
      ['cut.pcap', { le: true, snaplen: 200, records }],
      ['v22.pcap', { le: true, version: [2, 2], records }],
      ['be-nano.pcap', { le: false, nano: true, records }],
    ];
    for (const [name, spec] of variants) {
      const file = path.join(tmp.dir, name);
      writeFileSync(file, pcapFile(spec));
      same(file, []);
      same(file, ['-c', '7']);
      same(file, ['greater 500']);
      // Output options for printing do not change what -w writes (records cut to the snaplen).
      expect(wirescope(file, ['--json']).out.equals(tcpdump(file, []).out), `${name} --json`).toBe(true);
    }
  });
});

describe('damaged input', () => {
  const whole = readFileSync(path.join(fixtures, 'http.pcap'));
  // Cut in the middle of a record's data, and in the middle of a record header.
  const cuts = [whole.length - 30, 24 + 16 + whole.readUInt32LE(24 + 8) + 5];

  it.each(cuts)('cut at byte %i: the complete packets, then one line with the file and offset, exit 1', (cut) => {
    const file = path.join(tmp.dir, `cut-${cut}.pcap`);
    writeFileSync(file, whole.subarray(0, cut));
    for (const args of [[], ['tcp']]) {
      const ws = wirescope(file, args);
      expect(ws.status).toBe(1);
      const lines = ws.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^reading from file /);
      expect(lines.length).toBe(2);
      expect(lines[1]).toMatch(new RegExp(`^wirescope: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated .* at byte \\d+`));
      if (haveTcpdump) {
        const td = tcpdump(file, args);
        expect(ws.out.equals(td.out)).toBe(true);
      }
    }
  });

  it('a record claiming more than the maximum length: the packets before it, then the error', () => {
    const good = Array.from({ length: 5 }, (_, i) => ({ sec: 1700000000 + i, frac: 0, data: payload(100, i) }));
    const bytes = Buffer.from(pcapFile({ le: true, records: [...good, { sec: 1, frac: 0, data: payload(100, 9) }] }));
    const at = 24 + 5 * 116;
    bytes.writeUInt32LE(300000, at + 8);
    const file = path.join(tmp.dir, 'huge-caplen.pcap');
    writeFileSync(file, bytes);
    const ws = wirescope(file, []);
    expect(ws.status).toBe(1);
    expect(ws.stderr).toContain(`invalid captured length 300000 in packet record at byte ${at}`);
    expect(ws.out.equals(bytes.subarray(0, at))).toBe(true);
  });
});
