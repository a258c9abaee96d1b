/**
 * Names without -n, compared with tcpdump: host names (gethostbyaddr: /etc/hosts, then DNS) and
 * port names (/etc/services). Both run in a network namespace this test creates, where DNS
 * fails the same way, at once, for both (nothing is ever sent: the namespace has no interface
 * up); `ip netns exec` mounts /etc/netns/NAME/hosts over /etc/hosts, which names the fixtures'
 * addresses in the second pass. The fixtures go through the command (bin/wirescope.js); the
 * corpus through one process formatting with a TextOut that useHostNames() was called on, as
 * the command does for a run without -n. Every corpus line that differs without -n while it
 * is identical with -n must be listed, with a reason, in names-differences.tsv
 * (UPDATE_CONFORMANCE=1 rewrites it, keeping reasons).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { corpusDir, hasCorpus, hasTool, readTsv, frameProtocols, onlyCoreProtocols, splitNumbered, repoRoot, tcpdumpDecodedFurther } from './corpus.js';
import { textOptionsFromFlags } from './tcpdump-text.js';
import { TextOut, defaultTextOptions } from '../../src/output/text.js';
import { putIpv4, putPort, useHostNames } from '../../src/output/host-names.js';
import { portName } from '../../src/filter/names.js';

const NS = `wsnames${process.pid}`;
const NETNS_ETC = path.join('/etc/netns', NS);
const DIST = path.join(repoRoot, 'dist');
const DIFF_FILE = path.join(repoRoot, 'test/conformance/names-differences.tsv');

const skipReason = process.getuid?.() !== 0 ? 'needs root (ip netns)'
  : !hasTool('ip') || spawnSync('ip', ['netns', 'list']).status !== 0 ? 'no ip netns'
  : !hasTool('tcpdump') ? 'tcpdump is not installed'
  : !existsSync(path.join(DIST, 'src/output/host-names.js')) ? 'dist/ is not built (npx tsc -p tsconfig.json)'
  : '';
if (skipReason) console.log(`names conformance skipped: ${skipReason}`);

/**
 * Formats captures in the namespace: reads [{ file, opts }] as JSON on stdin, writes [{ text, error }].
 * One process for all of them, as one wirescope run keeps its names for the whole run.
 */
const RUNNER = `
const D = ${JSON.stringify(DIST + '/')};
const [{ openCapture }, { decodeFrame }, { TextOut }, { useHostNames }] = await Promise.all([
  import(D + 'src/pcap/reader.js'), import(D + 'src/core/dissector.js'), import(D + 'src/output/text.js'),
  import(D + 'src/output/host-names.js'), import(D + 'dissectors/index.js')]);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const { file, opts } of JSON.parse(input)) {
  const out = new TextOut(opts);
  if (opts.n === 0) useHostNames(out);
  let text = '', error = null, reader = null;
  try {
    reader = openCapture(file);
    for (let f = reader.next(); f !== null; f = reader.next()) text += out.formatPacket(decodeFrame(f)) + '\\n';
  } catch (e) { error = e.message; } finally { reader?.close(); }
  results.push({ text, error });
}
process.stdout.write(JSON.stringify(results));
`;

interface Job { file: string; flags: string[] }

function inNamespace(cmd: string, args: string[], input?: string, env: string[] = []): { stdout: string; status: number | null } {
  const r = spawnSync('ip', ['netns', 'exec', NS, 'env', 'TZ=UTC', ...env, cmd, ...args], {
    input, encoding: 'utf8', maxBuffer: 1 << 30, timeout: 600_000, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'],
  });
  return { stdout: r.stdout ?? '', status: r.status };
}

/** wirescope's text for each job (flags as tcpdump's, numbered with -#). */
function wirescope(jobs: Job[]): string[] {
  const spec = jobs.map((j) => ({ file: j.file, opts: { ...textOptionsFromFlags(j.flags.filter((f) => f !== '-N')), N: j.flags.includes('-N') } }));
  const r = inNamespace(process.execPath, ['--input-type=module', '-e', RUNNER], JSON.stringify(spec));
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ text: string }>).map((x) => x.text);
}

function tcpdump(job: Job): { text: string; ok: boolean } {
  const r = inNamespace('tcpdump', ['-#', ...job.flags, '-r', job.file]);
  return { text: r.stdout, ok: r.status === 0 || r.stdout !== '' };
}

/** A differing line: file, flags, frame, line number, tcpdump's line, wirescope's. */
type Diff = [string, string, string, string, string, string];

interface Comparison {
  compared: number;
  identical: number;
  diffs: Diff[];
  /** file, flags (without -n), frame and line number of each identical line. */
  same: Set<string>;
}

/**
 * Worker threads formatting batches of three frames (src/output/parallel-text.ts), each thread
 * with its own names: forced on small files, as test/output/parallel-text.test.ts does.
 */
const THREADED = ['WIRESCOPE_THREADS=2', 'WIRESCOPE_BATCH_FRAMES=3'];

/** wirescope's text for each job through the command itself (bin/wirescope.js -# FLAGS -r FILE), with `env` set. */
function wirescopeCli(jobs: Job[], env: string[] = []): string[] {
  return jobs.map((j) => {
    const r = inNamespace(process.execPath, [path.join(repoRoot, 'bin/wirescope.js'), '-#', ...j.flags, '-r', j.file], undefined, env);
    expect(r.status).toBe(0);
    return r.stdout;
  });
}

/**
 * Compares every job's packets line by line; `keep` picks the packets compared. The fixtures go
 * through the command; the corpus, hundreds of files, through one formatting process (RUNNER).
 */
function compare(jobs: Job[], keep: (job: Job, frame: number) => boolean, cli = false, env: string[] = []): Comparison {
  const ours = cli ? wirescopeCli(jobs, env) : wirescope(jobs);
  const c: Comparison = { compared: 0, identical: 0, diffs: [], same: new Set() };
  jobs.forEach((job, k) => {
    const td = tcpdump(job);
    if (!td.ok) return; // tcpdump cannot read it
    const actual = splitNumbered(ours[k]);
    for (const [frame, lines] of splitNumbered(td.text)) {
      if (!keep(job, frame)) continue;
      const got = actual.get(frame) ?? [];
      if (tcpdumpDecodedFurther(lines, got)) continue;
      lines.forEach((line, i) => {
        c.compared++;
        if (got[i] === line) {
          c.identical++;
          c.same.add(lineKey(job.file, job.flags, frame, i + 1));
        } else c.diffs.push([job.file, job.flags.join(' '), String(frame), String(i + 1), line, got[i] ?? '(missing)']);
      });
    }
  });
  return c;
}

function lineKey(file: string, flags: string[], frame: number, line: number): string {
  return [file, flags.filter((f) => f !== '-n').join(' '), frame, line].join('\t');
}

function report(what: string, c: Comparison): number {
  const pct = (100 * c.identical) / Math.max(c.compared, 1);
  console.log(`${what}: ${c.identical}/${c.compared} lines identical (${pct.toFixed(2)}%)`);
  return pct;
}

const FLAG_SETS = [[], ['-v'], ['-vv'], ['-e'], ['-N']];
/** Appended to the flags of a difference found with the hosts file. */
const HOSTS_MARK = ' (hosts file)';

function fixtureJobs(): Job[] {
  const dir = path.join(repoRoot, 'fixtures');
  const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
  return files.flatMap((f) => FLAG_SETS.map((flags) => ({ file: path.join(dir, f), flags })));
}

/**
 * Writes the namespace's /etc/hosts: localhost, and a name (with an alias, which must not show)
 * for every IPv4 and IPv6 address tcpdump -nn -vv prints for the files.
 */
function writeHosts(files: string[]): void {
  const addrs = new Set<string>();
  for (const file of files) {
    const r = spawnSync('tcpdump', ['-nn', '-vv', '-r', file], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
    for (const word of (r.stdout ?? '').split(/[\s,()[\]{}/]+/)) {
      // "addr.port" and "addr:" as tcpdump -nn writes them.
      for (const a of [word, word.replace(/\.\d+:?$/, ''), word.replace(/:$/, '')]) if (isIP(a)) addrs.add(a);
    }
  }
  let k = 0;
  const lines = [...addrs].sort().map((a) => `${a}\thost${++k}.names.test\talias${k}`);
  mkdirSync(NETNS_ETC, { recursive: true });
  writeFileSync(path.join(NETNS_ETC, 'hosts'), ['127.0.0.1\tlocalhost', ...lines].join('\n') + '\n');
  // The namespace sees the file.
  expect(inNamespace('getent', ['hosts', [...addrs][0]]).stdout).toMatch(/\.names\.test/);
}

describe('port names, and outputs that do not resolve', () => {
  it.skipIf(!hasTool('getent'))('names every /etc/services port as getservbyport does (getent services PORT/PROTO)', () => {
    const entries = spawnSync('getent', ['services'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[1]);
    expect(entries.length).toBeGreaterThan(0);
    for (const portProto of entries.slice(0, 60)) {
      const [port, proto] = portProto.split('/');
      if (proto !== 'tcp' && proto !== 'udp') continue;
      const name = spawnSync('getent', ['services', portProto], { encoding: 'utf8' }).stdout.split(/\s+/)[0];
      expect([portProto, portName(proto, Number(port))]).toEqual([portProto, name]);
    }
    expect(portName('tcp', 0)).toBeNull();
  });

  it('prints numbers where useHostNames was not called, or with -n', () => {
    const plain = new TextOut({ ...defaultTextOptions });
    const numeric = new TextOut({ ...defaultTextOptions, n: 1 });
    useHostNames(numeric);
    for (const out of [plain, numeric]) {
      putIpv4(out, 0x7f000001);
      out.put(' ');
      putPort(out, 'udp', 53);
      expect(out.bytes.toString('latin1', 0, out.len)).toBe('127.0.0.1 53');
    }
  });
});

describe.skipIf(!!skipReason)('names without -n, identical to tcpdump', () => {
  beforeAll(() => {
    rmSync(NETNS_ETC, { recursive: true, force: true });
    const r = spawnSync('ip', ['netns', 'add', NS]);
    if (r.status !== 0) throw new Error(`ip netns add ${NS} failed`);
  });
  afterAll(() => {
    rmSync(NETNS_ETC, { recursive: true, force: true });
    spawnSync('ip', ['netns', 'del', NS]);
  });

  it('on every fixture, through the command, with DNS failing and with a hosts file naming every address', () => {
    const all = () => true;
    const plain = compare(fixtureJobs(), all, true);
    report('fixtures, no names for documentation addresses', plain);
    expect(plain.diffs.slice(0, 10)).toEqual([]);
    try {
      writeHosts([...new Set(fixtureJobs().map((j) => j.file))]);
      const named = compare(fixtureJobs(), all, true);
      report('fixtures, every address named in /etc/hosts', named);
      expect(named.diffs.slice(0, 10)).toEqual([]);
      const threaded = compare(fixtureJobs().filter((j) => j.flags.length === 0), all, true, THREADED);
      report('fixtures, every address named, worker threads', threaded);
      expect(threaded.diffs.slice(0, 10)).toEqual([]);
    } finally {
      rmSync(NETNS_ETC, { recursive: true, force: true });
    }
  }, 300_000);

  it.skipIf(!hasCorpus)('on the corpus captures tcpdump.test.ts compares: no difference that -n does not have, unless listed', () => {
    const files = readTsv(path.join(corpusDir, 'MANIFEST.tsv')).filter((r) => !r.path.endsWith('.gz')).map((r) => path.join(corpusDir, r.path));
    const protos = new Map(files.map((f) => [f, protocolsOf(f)]));
    const core = (job: Job, frame: number) => onlyCoreProtocols(protos.get(job.file)?.get(frame));
    const jobs = files.flatMap((file) => [[], ['-v'], ['-e']].map((flags) => ({ file, flags })));
    const plain = compare(jobs, core);
    const pct = report('corpus without -n', plain);
    let named: Comparison;
    try {
      writeHosts(files);
      named = compare(jobs, core);
    } finally {
      rmSync(NETNS_ETC, { recursive: true, force: true });
    }
    report('corpus without -n, every address named in /etc/hosts', named);
    for (const d of named.diffs) d[1] += HOSTS_MARK;
    const diffs = [...plain.diffs, ...named.diffs];
    // The same lines with -n: only a line identical there is a difference in names (the others
    // differ with -n too, or belong to packets tcpdump.test.ts leaves out).
    const differing = new Set(diffs.map((d) => d[0] + '\t' + d[1].replace(HOSTS_MARK, '')));
    const numericJobs = jobs.filter((j) => differing.has(j.file + '\t' + j.flags.join(' '))).map((j) => ({ file: j.file, flags: ['-n', ...j.flags] }));
    const numeric = compare(numericJobs, core);
    const nameDiffs = diffs.filter((d) => numeric.same.has([d[0], d[1].replace(HOSTS_MARK, ''), d[2], d[3]].join('\t')));
    console.log(`${diffs.length} differing lines, ${nameDiffs.length} of them identical with -n`);
    expect(pct).toBeGreaterThanOrEqual(98);
    expect(unlisted(nameDiffs).slice(0, 15)).toEqual([]);
  }, 900_000);
});

/** frameProtocols, or none where tshark cannot read the file (the robustness test covers those). */
function protocolsOf(file: string): Map<number, string> {
  try {
    return frameProtocols(file);
  } catch {
    return new Map();
  }
}

function key(d: string[]): string {
  return [path.relative(corpusDir, d[0]), d[1], d[2], d[3]].join('\t');
}

/** The differences names-differences.tsv gives no reason for (UPDATE_CONFORMANCE=1 rewrites it first, keeping reasons). */
function unlisted(diffs: Diff[]): Diff[] {
  const reasons = new Map<string, string>();
  if (existsSync(DIFF_FILE)) for (const r of readTsv(DIFF_FILE)) reasons.set([r.file, r.flags, r.frame, r.line].join('\t'), r.reason);
  const reason = (d: Diff) => reasons.get(key(d)) ?? 'unexplained';
  if (process.env.UPDATE_CONFORMANCE) {
    const rows = diffs.map((d) => [key(d), reason(d), d[4], d[5]].join('\t') + '\n');
    writeFileSync(DIFF_FILE, 'file\tflags\tframe\tline\treason\ttcpdump\twirescope\n' + rows.join(''));
  }
  return diffs.filter((d) => reason(d) === 'unexplained' || reason(d) === '');
}
