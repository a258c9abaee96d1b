/**
 * The bundled command line (package.json's bundle script: dist/src/cli/main.bundle.js and its
 * chunks), which bin/wirescope.js runs when it is at least as new as dist/src/cli/main.js:
 * - the entry picks the bundle or the modules by their modification times;
 * - the bundle prints, writes and exits exactly as the modules do, through every path that
 *   resolves a file from its own location (worker threads, package.json, lazily loaded commands).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { makeTempDir } from '../pcap/helpers.js';
import { repoRoot } from '../conformance/corpus.js';

const cliDir = path.join(repoRoot, 'dist/src/cli');
const modulesMain = path.join(cliDir, 'main.js');
const bundleMain = path.join(cliDir, 'main.bundle.js');
const bundleCurrent = existsSync(bundleMain) && existsSync(modulesMain) && statSync(bundleMain).mtimeMs >= statSync(modulesMain).mtimeMs;
if (!bundleCurrent) console.log('bundle: dist/src/cli/main.bundle.js is missing or older than main.js (npm run build makes both); skipping the comparison');

const tmp = makeTempDir('bundle');
afterAll(() => tmp.cleanup());

describe('bin/wirescope.js picks the bundle only when it is current', () => {
  // A copy of bin/ beside stand-in mains that say which one ran.
  const pkg = path.join(tmp.dir, 'pkg');
  const cli = path.join(pkg, 'dist/src/cli');
  mkdirSync(cli, { recursive: true });
  cpSync(path.join(repoRoot, 'bin'), path.join(pkg, 'bin'), { recursive: true });
  const standIn = (name: string, says: string) => writeFileSync(path.join(cli, name), `process.stdout.write(${JSON.stringify(says)} + ' ' + process.argv.slice(2).join(','));\n`);
  /** What the entry runs with main.js modified at mainAt and the bundle at bundleAt (null: no bundle). */
  const picked = (mainAt: number, bundleAt: number | null): string => {
    standIn('main.js', 'modules');
    standIn('main.bundle.js', 'bundle');
    utimesSync(path.join(cli, 'main.js'), mainAt, mainAt);
    if (bundleAt === null) rmSync(path.join(cli, 'main.bundle.js'));
    else utimesSync(path.join(cli, 'main.bundle.js'), bundleAt, bundleAt);
    return spawnSync(process.execPath, [path.join(pkg, 'bin/wirescope.js'), '-n', 'a b'], { encoding: 'utf8' }).stdout;
  };

  it('the bundle when newer than main.js, or as new', () => {
    expect(picked(1_700_000_000, 1_700_000_001)).toBe('bundle -n,a b');
    expect(picked(1_700_000_000, 1_700_000_000)).toBe('bundle -n,a b');
  });

  it('the modules after a tsc-only rebuild (main.js newer), or with no bundle', () => {
    expect(picked(1_700_000_001, 1_700_000_000)).toBe('modules -n,a b');
    expect(picked(1_700_000_001, null)).toBe('modules -n,a b');
  });
});

const hasCompileCache = typeof (createRequire(import.meta.url)('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';
if (!hasCompileCache) console.log(`bundle: node ${process.version} has no compile cache (node 22.1+); skipping its test`);

describe.skipIf(!hasCompileCache || !existsSync(modulesMain))('compile cache (node 22.1+)', () => {
  it('bin/wirescope.js turns it on: $TMPDIR/node-compile-cache fills on the first run, and the output stays the same', () => {
    const tmpdir = path.join(tmp.dir, 'cache-tmp');
    mkdirSync(tmpdir);
    const env = { ...process.env, TMPDIR: tmpdir, NODE_COMPILE_CACHE: '', NODE_DISABLE_COMPILE_CACHE: '' };
    delete env.NODE_COMPILE_CACHE;
    delete env.NODE_DISABLE_COMPILE_CACHE;
    const run = () => spawnSync(process.execPath, [path.join(repoRoot, 'bin/wirescope.js'), '-n', '-r', path.join(repoRoot, 'fixtures/dns.pcap')], { env, encoding: 'utf8' });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const cached = spawnSync('find', [path.join(tmpdir, 'node-compile-cache'), '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    expect(cached.length).toBeGreaterThan(0);
    const second = run();
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toBe(first.stderr);
  });
});

describe.skipIf(!bundleCurrent)('the bundle does what the modules do', () => {
  const fixture = (name: string) => path.join(repoRoot, 'fixtures', name);
  const allFixtures = readdirSync(path.join(repoRoot, 'fixtures')).filter((f) => /\.pcap(ng)?$/.test(f));

  /** Runs main.js and main.bundle.js with the same arguments and environment: the same stdout, stderr and status. */
  function same(args: string[], env: Record<string, string> = {}): void {
    const runs = [modulesMain, bundleMain].map((main) =>
      spawnSync(process.execPath, [main, ...args], { env: { ...process.env, TZ: 'UTC', ...env }, maxBuffer: 1 << 28, timeout: 60_000 }));
    const [modules, bundle] = runs;
    const what = `${args.join(' ')} ${JSON.stringify(env)}`;
    expect(modules.error, what).toBeUndefined();
    expect(bundle.status, `${what}: ${bundle.stderr}`).toBe(modules.status);
    expect(bundle.stderr.toString('latin1'), what).toBe(modules.stderr.toString('latin1'));
    expect(bundle.stdout.equals(modules.stdout), what).toBe(true);
  }

  it('tcpdump text on every fixture', () => {
    for (const f of allFixtures) same(['-n', '-v', '-e', '-r', fixture(f)]);
  });

  it('--json, -T fields, -x and -w with a filter', () => {
    for (const f of ['dns.pcap', 'http.pcap', 'tls.pcap', 'tcp-sack-rst.pcap', 'vlan.pcap', 'multi-interface.pcapng']) {
      same(['--json', '-r', fixture(f)]);
      same(['-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'dns.qry.name', '-e', 'http.request.uri', '-e', 'tls.handshake.extensions_server_name', '-r', fixture(f)]);
      same(['-nxX', '-c', '5', '-r', fixture(f)]);
      same(['-r', fixture(f), '-w', '-', 'tcp[tcpflags] & tcp-syn != 0 or udp port 53']);
    }
  });

  it('the lazily loaded commands: follow, conns, http, tls', () => {
    for (const f of ['http.pcap', 'tls.pcap', 'tcp-sack-rst.pcap']) {
      same(['conns', '-r', fixture(f)]);
      same(['http', '--json', '-r', fixture(f)]);
      same(['tls', '-r', fixture(f)]);
      same(['follow', '-r', fixture(f), '--stream', '0', '--format', 'hex']);
    }
  });

  it('text through worker threads (their file is found from the bundle\'s directory)', () => {
    for (const f of ['tcp-sack-rst.pcap', 'dns.pcap', 'ipv4-fragments.pcap']) {
      same(['-n', '-v', '-r', fixture(f)], { WIRESCOPE_THREADS: '2', WIRESCOPE_BATCH_FRAMES: '3' });
    }
  });

  it('errors, usage and --version (package.json found from the bundle\'s directory)', () => {
    same(['--version']);
    same(['-r', path.join(tmp.dir, 'missing.pcap')]);
    same(['-r', fixture('dns.pcap'), 'tcp port']);
    same(['--no-such-option']);
    same(['follow', '-r', fixture('http.pcap')]);
  });
});
