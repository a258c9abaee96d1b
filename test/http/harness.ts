/** Helpers for the HTTP tests: our http.* columns per frame (stream parser over a tracked file) and tshark's. */
import '../../dissectors/index.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FieldValue, Layer, Packet } from '../../src/core/dissector.js';
import { trackFile } from '../../src/tcp/conns.js';
import { HttpSelector } from '../../src/http/transactions.js';
import { httpProtocol } from '../../src/http/stream.js';
import { http } from '../../dissectors/http.js';

export { plainCapture } from '../conformance/corpus.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const corpusDir = path.resolve(repoRoot, '../shared/corpus');
export const haveCorpus = existsSync(path.join(corpusDir, 'MANIFEST.tsv'));

function have(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
export const haveTshark = have('tshark');
export const haveTcpdump = have('tcpdump');

/** The http.* fields issue #5 names. */
export const HTTP_FIELDS = ['http.request.method', 'http.request.uri', 'http.host', 'http.response.code', 'http.content_length', 'http.user_agent'];
/** Every http.* field the dissector has: those, then the others. */
export const ALL_HTTP_FIELDS = [...HTTP_FIELDS, ...Object.keys(http.fields!).filter((f) => !HTTP_FIELDS.includes(f))];

/** Corpus captures with HTTP (MANIFEST's protocols_seen or note), as paths relative to the corpus. */
export function corpusHttpCaptures(): string[] {
  const rows = readFileSync(path.join(corpusDir, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  const out: string[] = [];
  for (const r of rows) {
    const c = r.split('\t');
    if (c.length < 10) continue;
    if (/(^|,)http(,|$)/.test(c[8]) || /HTTP/.test(c[9])) out.push(c[0]);
  }
  return out;
}

function cell(v: FieldValue): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return [String(v)];
}

/**
 * Our http.* columns for every frame: the messages the stream parser reports, on the frames that
 * completed them, fields as the dissector's getters give them (several messages joined by ',').
 */
export function ourHttpColumns(file: string, fields = HTTP_FIELDS): string[][] {
  const byFrame = new Map<number, Layer[]>();
  const res = trackFile(file, {
    sink: (c) => new HttpSelector(c, () => httpProtocol.open(c, (m) => {
      const list = byFrame.get(m.time.frame);
      if (list) list.push(m.layer);
      else byFrame.set(m.time.frame, [m.layer]);
    })),
  });
  const rows: string[][] = [];
  for (let f = 1; f <= res.frames; f++) {
    const ls = byFrame.get(f) ?? [];
    rows.push(fields.map((name) => {
      const vals: string[] = [];
      for (const l of ls) {
        const get = l.dissector.fields![name];
        vals.push(...cell(get(l, undefined as unknown as Packet)));
      }
      return vals.join(',');
    }));
  }
  return rows;
}

/** tshark's columns for the same fields, one row per frame. */
export function tsharkColumns(file: string, fields = HTTP_FIELDS): string[][] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.split('\t'));
}

export interface FieldComparison {
  /** Non-empty cells on either side, and those identical (in all, and per column). */
  cells: number;
  same: number;
  columnCells: number[];
  columnSame: number[];
  /** Frame numbers (1-based) with a differing cell, with both rows. */
  diffs: Array<{ frame: number; ours: string[]; tshark: string[] }>;
}

export function compareColumns(ours: string[][], theirs: string[][]): FieldComparison {
  const width = Math.max(0, ...ours.map((r) => r.length), ...theirs.map((r) => r.length));
  const r: FieldComparison = { cells: 0, same: 0, columnCells: new Array(width).fill(0), columnSame: new Array(width).fill(0), diffs: [] };
  const n = Math.max(ours.length, theirs.length);
  for (let i = 0; i < n; i++) {
    const a = ours[i] ?? [];
    const b = theirs[i] ?? [];
    let differ = false;
    for (let k = 0; k < Math.max(a.length, b.length); k++) {
      const x = a[k] ?? '';
      const y = b[k] ?? '';
      if (x === '' && y === '') continue;
      r.cells++;
      r.columnCells[k]++;
      if (x === y) {
        r.same++;
        r.columnSame[k]++;
      } else differ = true;
    }
    if (differ) r.diffs.push({ frame: i + 1, ours: a, tshark: b });
  }
  return r;
}
