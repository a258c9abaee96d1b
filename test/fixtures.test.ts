/**
 * fixtures/ holds exactly the captures fixtures/README.md lists, each small, and the real tools
 * read every one of them: same packet count from tcpdump and tshark, nothing on stderr but
 * their usual notes, no packet tshark calls malformed.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { hasTool, repoRoot, run } from './conformance/corpus.js';

const dir = path.join(repoRoot, 'fixtures');
const CAPTURE = /\.(pcap|pcapng)$/;
/** Fixtures are meant to stay "a few KB to ~100 KB". */
const MAX_BYTES = 128 * 1024;

/** The file names of README lines of the form "- `name.pcap` — how it was made". */
function listedInReadme(): string[] {
  const names: string[] = [];
  for (const line of readFileSync(path.join(dir, 'README.md'), 'utf8').split('\n')) {
    const m = /^- `([^`]+)` — \S/.exec(line);
    if (m) names.push(m[1]);
  }
  return names;
}

const listed = listedInReadme();

describe('fixtures/', () => {
  it('holds exactly the captures README.md lists, one line each', () => {
    const present = readdirSync(dir).filter((n) => CAPTURE.test(n)).sort();
    expect(listed.length).toBeGreaterThan(0);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(present);
  });

  it.each(listed)('%s is small', (name) => {
    const size = statSync(path.join(dir, name)).size;
    expect(size).toBeGreaterThan(24);
    expect(size).toBeLessThanOrEqual(MAX_BYTES);
  });
});

/** Lines on stderr that are the tools' ordinary notes, not complaints about the file. */
const TCPDUMP_NOTES = [/^reading from file .*, link-type .*, snapshot length \d+$/, /^Warning: interface names might be incorrect$/];
const TSHARK_NOTES = [/^Running as user "root" and group "root"\. This could be dangerous\.$/];

function complaints(stderr: string, notes: RegExp[]): string[] {
  return stderr.split('\n').filter((l) => l.length > 0 && !notes.some((re) => re.test(l)));
}

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!haveTcpdump) console.log('fixtures: tcpdump is not installed; skipping the tcpdump reads');
if (!haveTshark) console.log('fixtures: tshark is not installed; skipping the tshark reads');

/** Packets tcpdump printed: one line each, starting with the timestamp. */
function tcpdumpCount(stdout: string): number {
  return stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ /.test(l)).length;
}

describe('the real tools read every fixture', () => {
  it.skipIf(!haveTcpdump).each(listed)('tcpdump -n -r %s', (name) => {
    const r = run('tcpdump', ['-n', '-r', path.join(dir, name)]);
    expect(r.status).toBe(0);
    expect(complaints(r.stderr, TCPDUMP_NOTES)).toEqual([]);
    expect(tcpdumpCount(r.stdout)).toBeGreaterThan(0);
  });

  // One tshark run per file: it takes about a second to start.
  it.skipIf(!haveTshark).each(listed)('tshark -n -r %s (and the same packet count as tcpdump)', (name) => {
    const file = path.join(dir, name);
    const r = run('tshark', ['-n', '-r', file]);
    expect(r.status).toBe(0);
    expect(complaints(r.stderr, TSHARK_NOTES)).toEqual([]);
    expect(r.stdout).not.toContain('Malformed Packet');
    const count = r.stdout.split('\n').filter((l) => l.trim().length > 0).length;
    expect(count).toBeGreaterThan(0);
    if (haveTcpdump) expect(tcpdumpCount(run('tcpdump', ['-n', '-r', file]).stdout)).toBe(count);
  });
});
