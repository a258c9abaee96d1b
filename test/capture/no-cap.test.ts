/**
 * Installs where the optional `cap` addon cannot be loaded: live capture and -D fail with one
 * line saying how to install it; -r works as ever. Two real cases: cap's package present but its
 * native build missing (npm install --ignore-scripts, or a build that failed), and cap absent.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, wirescopeBin } from '../conformance/corpus.js';
import { makeTempDir } from '../pcap/helpers.js';

const built = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!built) console.log('no-cap tests skipped: wirescope is not built (npx tsc -p tsconfig.json)');

/** Bounds every run: were cap loadable after all, `-i lo` would capture until killed. */
const RUN_TIMEOUT_MS = 20_000;

/** A copy of the package (dist, bin, package.json) whose node_modules links everything but cap. */
function packageCopy(dir: string): string {
  cpSync(path.join(repoRoot, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(repoRoot, 'bin'), path.join(dir, 'bin'), { recursive: true });
  cpSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
  mkdirSync(path.join(dir, 'node_modules'));
  for (const name of readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (name !== 'cap') symlinkSync(path.join(repoRoot, 'node_modules', name), path.join(dir, 'node_modules', name));
  }
  return path.join(dir, 'bin/wirescope.js');
}

/** Whether `cap` resolves from the copy's live-capture module (a node_modules/cap in a parent folder would). */
function capResolvesFrom(dir: string): boolean {
  try {
    createRequire(path.join(dir, 'dist/src/capture/live.js')).resolve('cap');
    return true;
  } catch {
    return false;
  }
}

function expectInstallHint(bin: string, cause: RegExp): void {
  for (const args of [['-i', 'lo'], ['-D'], []]) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NODE_PATH: '' }, timeout: RUN_TIMEOUT_MS });
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^wirescope: live capture needs the npm package "cap" and libpcap, and cap could not be loaded \(/);
    expect(lines[0]).toMatch(cause);
    expect(lines[0]).toMatch(/\): install libpcap \(Debian\/Ubuntu: sudo apt-get install libpcap-dev .*then run "npm install cap"/);
  }
}

describe.skipIf(!built)('without a loadable cap addon', () => {
  const tmp = makeTempDir('no-cap');
  const unbuiltDir = path.join(tmp.dir, 'unbuilt');
  mkdirSync(unbuiltDir);
  // cap absent: in the first of these folders from which no parent node_modules provides cap.
  let absentDir = '';
  for (const parent of [os.tmpdir(), '/var/tmp', '/dev/shm']) {
    if (!existsSync(parent)) continue;
    absentDir = mkdtempSync(path.join(parent, 'wirescope-no-cap-absent-'));
    mkdirSync(path.join(absentDir, 'dist/src/capture'), { recursive: true });
    if (!capResolvesFrom(absentDir)) break;
    rmSync(absentDir, { recursive: true, force: true });
    absentDir = '';
  }
  afterAll(() => {
    tmp.cleanup();
    if (absentDir) rmSync(absentDir, { recursive: true, force: true });
  });
  const capElsewhere = absentDir === '';
  if (capElsewhere) console.log('no-cap "cap absent" test skipped: cap resolves from a node_modules above every temporary folder tried');
  const absentBin = capElsewhere ? '' : packageCopy(absentDir);
  const unbuiltBin = packageCopy(unbuiltDir);
  // cap's JavaScript without build/: what `npm install --ignore-scripts` leaves.
  const capSource = path.join(repoRoot, 'node_modules/cap');
  for (const part of ['package.json', 'lib']) cpSync(path.join(capSource, part), path.join(unbuiltDir, 'node_modules/cap', part), { recursive: true });

  it('cap built without its addon: -i, -D and no arguments give one line on installing cap and libpcap, exit 1', () => {
    expectInstallHint(unbuiltBin, /Cannot find module '\.\.\/build\/Release\/cap\.node'/);
  });

  it.skipIf(capElsewhere)('cap absent: the same line, naming the missing module', () => {
    expectInstallHint(absentBin, /Cannot find module 'cap'/);
  });

  it('-r reads files exactly as a full install does', () => {
    const fixture = path.join(repoRoot, 'fixtures/http.pcap');
    for (const bin of [unbuiltBin, absentBin].filter((b) => b !== '')) {
      const without = spawnSync(process.execPath, [bin, '-n', '-r', fixture], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
      const full = spawnSync(process.execPath, [wirescopeBin, '-n', '-r', fixture], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
      expect(without.status).toBe(0);
      expect(without.stdout).toBe(full.stdout);
      expect(without.stdout.split('\n').length).toBeGreaterThan(5);
    }
  });
});
