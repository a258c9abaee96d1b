/**
 * bin/wirescope, the command users run (package.json "bin"): a /bin/sh launcher that finds its
 * own directory through npm's symlinks (node_modules/.bin, global prefixes), drops
 * NODE_EXTRA_CA_CERTS and execs node on bin/wirescope.js with the arguments as given.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import path from 'node:path';
import { makeTempDir } from '../pcap/helpers.js';
import { repoRoot } from '../conformance/corpus.js';

const launcher = path.join(repoRoot, 'bin/wirescope');
const entry = path.join(repoRoot, 'bin/wirescope.js');
const fixture = path.join(repoRoot, 'fixtures/dns.pcap');
const built = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!built) console.log('launcher: wirescope is not built (npx tsc -p tsconfig.json); skipping the runs of the real program');
const haveTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!haveTcpdump) console.log('launcher: tcpdump is not installed; skipping the comparison with it');

const tmp = makeTempDir('launcher');
afterAll(() => tmp.cleanup());

/**
 * The ways npm and users reach the launcher: the file itself, an absolute link (a global
 * prefix's bin/), npm's relative .bin link into a package directory that is itself a link
 * (npm link, workspaces), and a link to a link.
 */
const links = (() => {
  const pkg = path.join(tmp.dir, 'project/node_modules/wirescope');
  mkdirSync(path.join(tmp.dir, 'project/node_modules/.bin'), { recursive: true });
  symlinkSync(repoRoot, pkg);
  const npmBin = path.join(tmp.dir, 'project/node_modules/.bin/wirescope');
  symlinkSync('../wirescope/bin/wirescope', npmBin);
  mkdirSync(path.join(tmp.dir, 'prefix/bin'), { recursive: true });
  const global = path.join(tmp.dir, 'prefix/bin/wirescope');
  symlinkSync(launcher, global);
  const chained = path.join(tmp.dir, 'chained');
  symlinkSync(path.relative(tmp.dir, global), chained);
  return { direct: launcher, 'npm .bin link': npmBin, 'global prefix link': global, 'link to a link': chained };
})();

/** A stand-in `node` first on PATH: records its arguments and NODE_EXTRA_CA_CERTS, exits with $FAKE_NODE_STATUS. */
const fakeBin = path.join(tmp.dir, 'fake-bin');
const fakeLog = path.join(tmp.dir, 'fake-node.log');
mkdirSync(fakeBin);
writeFileSync(path.join(fakeBin, 'node'), `#!/bin/sh
{ for a in "$@"; do printf '%s\\0' "$a"; done; printf 'NODE_EXTRA_CA_CERTS=%s\\0' "\${NODE_EXTRA_CA_CERTS-unset}"; printf 'KEEP=%s' "$KEEP"; } > "$FAKE_NODE_LOG"
exit "\${FAKE_NODE_STATUS:-0}"
`);
chmodSync(path.join(fakeBin, 'node'), 0o755);

function withFakeNode(cmd: string, args: string[], status = 0): { status: number | null; argv: string[]; env: string[] } {
  const env = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, FAKE_NODE_LOG: fakeLog, FAKE_NODE_STATUS: String(status), NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', KEEP: 'kept' };
  const r = spawnSync(cmd, args, { env });
  const fields = readFileSync(fakeLog, 'utf8').split('\0');
  return { status: r.status, argv: fields.slice(0, -2), env: fields.slice(-2) };
}

describe('launcher, with a stand-in node', () => {
  const args = ['-r', 'a file with spaces.pcap', '', '*', 'tcp port 80 and not host $HOME', '-w', '-'];

  it.each(Object.entries(links))('%s: execs node on bin/wirescope.js with the arguments verbatim, NODE_EXTRA_CA_CERTS unset', (_, cmd) => {
    const r = withFakeNode(cmd, args);
    expect(r.status).toBe(0);
    expect(r.argv.length).toBe(args.length + 1);
    // The script path may go through links of its own (the npm-style package link): it must name this entry.
    expect(spawnSync('realpath', [r.argv[0]], { encoding: 'utf8' }).stdout.trim()).toBe(entry);
    expect(r.argv.slice(1)).toEqual(args);
    expect(r.env).toEqual(['NODE_EXTRA_CA_CERTS=unset', 'KEEP=kept']);
  });

  it('found on PATH by its name, and run as `sh NAME` from its own directory', () => {
    const viaPath = spawnSync('wirescope', ['-x'], {
      env: { ...process.env, PATH: `${fakeBin}:${path.join(tmp.dir, 'prefix/bin')}:${process.env.PATH}`, FAKE_NODE_LOG: fakeLog },
    });
    expect(viaPath.status).toBe(0);
    expect(readFileSync(fakeLog, 'utf8').split('\0').slice(0, 2)).toEqual([entry, '-x']);
    const viaSh = spawnSync('sh', ['wirescope', '-y'], { cwd: path.dirname(launcher), env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, FAKE_NODE_LOG: fakeLog } });
    expect(viaSh.status).toBe(0);
    expect(readFileSync(fakeLog, 'utf8').split('\0').slice(0, 2)).toEqual(['./wirescope.js', '-y']);
  });

  it("node's exit status is the launcher's", () => {
    for (const status of [1, 2, 141]) expect(withFakeNode(links['npm .bin link'], ['-r', 'x'], status).status).toBe(status);
  });
});

describe.skipIf(!built)('launcher, running wirescope', () => {
  const run = (cmd: string, args: string[], opts: SpawnSyncOptions = {}) =>
    spawnSync(cmd, args, { ...opts, env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', ...opts.env } });

  it('node never reads NODE_EXTRA_CA_CERTS (node 20 warns at start-up about a file it cannot load)', () => {
    for (const cmd of Object.values(links)) {
      const r = run(cmd, ['--version'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^wirescope version \d/);
      expect(r.stderr).toBe('');
    }
  });

  it('-r - -w - through pipes, through npm\'s .bin link: the bytes bin/wirescope.js writes', () => {
    const input = readFileSync(fixture);
    const viaLauncher = run(links['npm .bin link'], ['-r', '-', '-w', '-', 'udp port 53'], { input });
    const viaEntry = run(process.execPath, [entry, '-r', '-', '-w', '-', 'udp port 53'], { input });
    expect(viaLauncher.status, String(viaLauncher.stderr)).toBe(0);
    expect(viaLauncher.stdout.length).toBeGreaterThan(24);
    expect(viaLauncher.stdout.equals(viaEntry.stdout)).toBe(true);
    if (haveTcpdump) {
      const td = spawnSync('tcpdump', ['-r', '-', '-w', '-', 'udp port 53'], { input });
      expect(viaLauncher.stdout.equals(td.stdout)).toBe(true);
    }
  });

  it('exit status and error line pass through: 1 for a missing file, as tcpdump', () => {
    const r = run(links['global prefix link'], ['-r', path.join(tmp.dir, 'missing.pcap'), '-w', path.join(tmp.dir, 'out.pcap')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`wirescope: ${path.join(tmp.dir, 'missing.pcap')}: No such file or directory\n`);
  });
});
