/**
 * A wirescope install where the optional `cap` addon is missing (as where it cannot be built):
 * live capture and -D fail with one line saying how to install it; -r works as ever.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, wirescopeBin } from '../conformance/corpus.js';
import { makeTempDir } from '../pcap/helpers.js';

const built = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!built) console.log('no-cap tests skipped: wirescope is not built (npx tsc -p tsconfig.json)');

describe.skipIf(!built)('without the cap addon', () => {
  const tmp = makeTempDir('no-cap');
  afterAll(() => tmp.cleanup());
  // A copy of the package (dist, bin, package.json) whose node_modules has everything but cap.
  cpSync(path.join(repoRoot, 'dist'), path.join(tmp.dir, 'dist'), { recursive: true });
  cpSync(path.join(repoRoot, 'bin'), path.join(tmp.dir, 'bin'), { recursive: true });
  cpSync(path.join(repoRoot, 'package.json'), path.join(tmp.dir, 'package.json'));
  mkdirSync(path.join(tmp.dir, 'node_modules'));
  for (const name of readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (name !== 'cap') symlinkSync(path.join(repoRoot, 'node_modules', name), path.join(tmp.dir, 'node_modules', name));
  }
  const bin = path.join(tmp.dir, 'bin/wirescope.js');
  const env = { ...process.env, NODE_PATH: '' };

  it('live capture and -D: one line on how to install cap and libpcap, exit 1', () => {
    for (const args of [['-i', 'lo'], ['-D'], []]) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^wirescope: live capture needs the npm package "cap" and libpcap, and cap could not be loaded \(Cannot find module 'cap'.*\): install libpcap \(Debian\/Ubuntu: sudo apt-get install libpcap-dev .*then run "npm install cap"/);
    }
  });

  it('-r reads files exactly as a full install does', () => {
    const fixture = path.join(repoRoot, 'fixtures/http.pcap');
    const without = spawnSync(process.execPath, [bin, '-n', '-r', fixture], { encoding: 'utf8', env });
    const full = spawnSync(process.execPath, [wirescopeBin, '-n', '-r', fixture], { encoding: 'utf8' });
    expect(without.status).toBe(0);
    expect(without.stdout).toBe(full.stdout);
    expect(without.stdout.split('\n').length).toBeGreaterThan(5);
  });
});
