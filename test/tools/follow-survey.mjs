#!/usr/bin/env node
/**
 * Survey: `wirescope follow` against `tshark -q -z follow,tcp,FORMAT,N` on every stream tshark
 * numbers in every corpus capture with TCP (the stored references' tcp.stream column), in ascii,
 * hex and raw. One tshark run per capture and format; ours through dist/ (build first:
 * npx tsc -p tsconfig.json).
 *
 *   node test/tools/follow-survey.mjs [--list] [PATH-SUBSTRING...]
 *
 * Prints each capture with a differing stream, then the totals; --list also names the streams.
 * Each tshark run is bounded (60 s); a capture it cannot finish counts as differing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.resolve(root, '../shared/corpus');
const FORMATS = ['ascii', 'hex', 'raw'];
const args = process.argv.slice(2);
const list = args.includes('--list');
const only = args.filter((a) => a !== '--list');

if (!existsSync(path.join(root, 'dist/src/cli/follow.js'))) {
  console.error('follow-survey: dist/ is not built (npx tsc -p tsconfig.json)');
  process.exit(1);
}
if (!existsSync(path.join(corpus, 'reference'))) {
  console.error(`follow-survey: no corpus references at ${corpus}/reference`);
  process.exit(1);
}
const { printFollow } = await import(path.join(root, 'dist/src/cli/follow.js'));

function* walk(d) {
  for (const e of readdirSync(d)) {
    const p = path.join(d, e);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Captures with TCP and how many streams tshark numbers in each. */
function capturesWithTcp() {
  const out = [];
  const refDir = path.join(corpus, 'reference');
  for (const ref of walk(refDir)) {
    const rel = path.relative(refDir, ref).replace(/\.fields\.tsv\.gz$/, '');
    if (!existsSync(path.join(corpus, rel))) continue;
    if (only.length && !only.some((s) => rel.includes(s))) continue;
    const lines = gunzipSync(readFileSync(ref)).toString('utf8').split('\n').filter((l) => l.length > 0);
    const col = lines[0].split('\t').indexOf('tcp.stream');
    let streams = 0;
    for (const l of lines.slice(1)) {
      for (const s of (l.split('\t')[col] ?? '').split(',')) if (s !== '') streams = Math.max(streams, Number(s) + 1);
    }
    if (streams > 0) out.push([rel, streams]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** tshark's follow output of streams 0..n-1, by stream number ('' where it printed none). */
function tsharkFollow(file, format, n) {
  const a = ['-n', '-q', '-r', file];
  for (let k = 0; k < n; k++) a.push('-z', `follow,tcp,${format},${k}`);
  let out = '';
  try {
    out = execFileSync('tshark', a, { encoding: 'latin1', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
  } catch (e) {
    out = e.stdout ?? '';
  }
  const head = '\n===================================================================\nFollow: ';
  const blocks = new Map();
  for (const b of out.split(head).slice(1)) {
    const m = /^tcp,\w+\nFilter: tcp\.stream eq (\d+)\n/.exec(b);
    if (m) blocks.set(Number(m[1]), head + b.replace(/\n$/, '') + '\n');
  }
  return blocks;
}

function ourFollow(file, n, format) {
  let s = '';
  printFollow(file, n, format, false, (t) => { s += t; });
  return Buffer.from(s, 'utf8').toString('latin1');
}

const tmp = mkdtempSync(path.join(tmpdir(), 'follow-survey-'));
let same = 0;
let all = 0;
const perFormat = Object.fromEntries(FORMATS.map((f) => [f, [0, 0]]));
try {
  for (const [rel, n] of capturesWithTcp()) {
    let file = path.join(corpus, rel);
    if (file.endsWith('.gz')) {
      const plain = path.join(tmp, path.basename(file, '.gz'));
      writeFileSync(plain, gunzipSync(readFileSync(file)));
      file = plain;
    }
    const differing = new Set();
    const theirs = FORMATS.map((f) => tsharkFollow(file, f, n));
    for (let k = 0; k < n; k++) {
      let identical = true;
      FORMATS.forEach((f, i) => {
        const ok = ourFollow(file, k, f) === (theirs[i].get(k) ?? '');
        perFormat[f][1]++;
        if (ok) perFormat[f][0]++;
        else identical = false;
      });
      all++;
      if (identical) same++;
      else differing.add(k);
    }
    if (differing.size) console.log(`${rel}: ${n - differing.size}/${n} identical` + (list ? ` (differing: ${[...differing].join(' ')})` : ''));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
for (const f of FORMATS) console.log(`follow,tcp,${f}: ${perFormat[f][0]}/${perFormat[f][1]} streams identical`);
console.log(`all three formats identical: ${same}/${all} streams`);
