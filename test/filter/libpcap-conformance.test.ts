/**
 * libpcap's own filter test data (testprogs/TESTrun, as ../shared/corpus/libpcap/filter-tests.json):
 * `apply` (same BPF return value for every packet of the savefile), `reject` (must not compile)
 * and `accept` (must compile) — for the link types and primitives wirescope implements. The rest
 * must be refused with the "not supported" error, and is counted as such.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilterError, UnsupportedFilterError, compileFilter, nameDbFromLines } from '../../src/filter/index.js';
import { DLT_BY_NAME, corpus, dotted, haveCorpus, readFrames } from './helpers.js';

interface Data {
  name_db: { hosts_lines: string[]; ethers_lines: string[]; networks_lines: string[] };
  apply: Array<{ name: string; expr: string; savefile_in_corpus: string; results: number[]; netmask?: string; snaplen?: number; skip?: string }>;
  reject: Array<{ name: string; expr?: string; DLT?: string; savefile?: string; errstr: string; skip?: string }>;
  accept: Array<{ name: string; aliases: string[]; DLT?: string; snaplen?: number; netmask?: string; skip?: string; opt?: string[] | null }>;
}

const data: Data | null = haveCorpus ? JSON.parse(readFileSync(path.join(corpus, 'libpcap/filter-tests.json'), 'utf8')) : null;
const names = data && nameDbFromLines({ hosts: data.name_db.hosts_lines, ethers: data.name_db.ethers_lines, networks: data.name_db.networks_lines });

/**
 * TESTrun's skip conditions (Perl text) for this platform: Linux, little-endian, protochain and
 * Linux BPF extensions configured, the name databases present (injected). The extraction left a
 * `DLT => 'X'` override inside some of them; it is returned as the link type to use.
 */
function skipFor(skip: string | undefined): { skip: boolean; dlt?: string } {
  if (!skip) return { skip: false };
  const dlt = /DLT\s*=>\s*'([A-Z0-9_]+)'/.exec(skip)?.[1];
  const cond = skip.replace(/,?\s*DLT\s*=>\s*'[A-Z0-9_]+'.*$/, '').replace(/#.*$/, '').trim();
  const js = cond
    .replace(/skip_no_(hosts|ethers|networks)(_casecmp)?\(\)/g, 'false')
    .replace(/skip_big_endian\(\)/g, 'false')
    .replace(/skip_little_endian\(\)/g, 'true')
    .replace(/skip_os_not\s*\('(\w+)'\)/g, (_, os) => String(os !== 'linux'))
    .replace(/skip_os\s*\('(\w+)'\)/g, (_, os) => String(os === 'linux'))
    .replace(/skip_config_def1\s*\('(\w+)'\)/g, () => 'false')
    .replace(/skip_config_not_def1\s*\('(\w+)'\)/g, () => 'false')
    .replace(/skip_igrp(9|88)/g, (_, n) => String(n !== '9'));
  if (!/^[a-z|&()! ]*$/.test(js)) return { skip: true, dlt };
  // eslint-disable-next-line no-new-func
  return { skip: js === '' ? false : (new Function(`return ${js};`)() as boolean), dlt };
}

/** Refusals, by reason: a link type wirescope does not read, or a primitive it does not implement. */
const refused = { linkType: 0, primitive: 0 };

function classify(f: () => void): 'ok' | 'unsupported' | FilterError {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof UnsupportedFilterError) {
      if (e.message.startsWith('link type')) refused.linkType++;
      else refused.primitive++;
      return 'unsupported';
    }
    if (e instanceof FilterError) return e;
    throw e;
  }
}

describe.skipIf(!data)('libpcap filter-tests.json', () => {
  if (!data) console.log('skipped: ../shared/corpus/libpcap/filter-tests.json not found');

  it('apply: same result as libpcap for every packet of every savefile', () => {
    refused.linkType = refused.primitive = 0;
    let passed = 0;
    let unsupported = 0;
    const failures: string[] = [];
    for (const t of data!.apply) {
      const { linkType, snaplen, frames, bigEndian } = readFrames(path.join(corpus, t.savefile_in_corpus));
      let got: number[] = [];
      const r = classify(() => {
        const prog = compileFilter(t.expr, linkType, {
          snaplen: t.snaplen ?? snaplen,
          netmask: t.netmask ? dotted(t.netmask) : null,
          bigEndianFile: bigEndian,
          names: names!,
        });
        got = frames.map((f) => prog.matches(f.data, f.capLen, f.origLen));
      });
      if (r === 'unsupported') unsupported++;
      else if (r !== 'ok') failures.push(`${t.name}: '${t.expr}' did not compile: ${r.message}`);
      else if (JSON.stringify(got) !== JSON.stringify(t.results)) failures.push(`${t.name}: '${t.expr}' gave ${JSON.stringify(got)}, libpcap ${JSON.stringify(t.results)}`);
      else passed++;
    }
    console.log(`apply: ${passed} passed, ${unsupported} unsupported (${refused.linkType} other link types, ${refused.primitive} primitives), ${failures.length} failed of ${data!.apply.length}`);
    expect(failures).toEqual([]);
  });

  it('reject: every expression is refused', () => {
    refused.linkType = refused.primitive = 0;
    let passed = 0;
    let sameMessage = 0;
    let unsupported = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const t of data!.reject) {
      if (t.expr === undefined) {
        skipped++; // savefile-format tests: the reader's business, not the filter's
        continue;
      }
      const s = skipFor(t.skip);
      if (s.skip) {
        skipped++;
        continue;
      }
      const dlt = DLT_BY_NAME[s.dlt ?? t.DLT ?? 'EN10MB'] ?? -1;
      const r = classify(() => compileFilter(t.expr!, dlt, { names: names!, netmask: null }));
      if (r === 'unsupported') unsupported++;
      else if (r === 'ok') failures.push(`${t.name}: '${t.expr}' compiled; libpcap says: ${t.errstr}`);
      else {
        passed++;
        if (r.message.includes(t.errstr)) sameMessage++;
      }
    }
    console.log(`reject: ${passed} rejected (${sameMessage} with libpcap's message), ${unsupported} unsupported (${refused.linkType} other link types, ${refused.primitive} primitives), ${skipped} skipped (platform/savefile), ${failures.length} failed of ${data!.reject.length}`);
    expect(failures).toEqual([]);
  });

  it('accept: every expression compiles (optimised: or is refused when libpcap finds it rejects all packets)', () => {
    refused.linkType = refused.primitive = 0;
    let passed = 0;
    let unsupported = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const t of data!.accept) {
      const s = skipFor(t.skip);
      // *_linuxext tests are for live capture with Linux BPF extensions, not savefiles.
      if (s.skip || t.name.includes('linuxext')) {
        skipped += t.aliases.length;
        continue;
      }
      const dlt = DLT_BY_NAME[s.dlt ?? t.DLT ?? 'EN10MB'] ?? -1;
      for (const expr of t.aliases) {
        if (expr === '_enumerate_bpf_image') {
          skipped++;
          continue;
        }
        const r = classify(() =>
          compileFilter(expr, dlt, { names: names!, snaplen: t.snaplen, netmask: t.netmask ? dotted(t.netmask) : 0 }),
        );
        const rejectsAll = t.opt === null;
        if (r === 'unsupported') unsupported++;
        else if (rejectsAll ? r !== 'ok' && r.message === 'expression rejects all packets' : r === 'ok') passed++;
        else failures.push(`${t.name}: '${expr}' (${s.dlt ?? t.DLT ?? 'EN10MB'}): ${r === 'ok' ? 'compiled, libpcap finds it rejects all packets' : r.message}`);
      }
    }
    console.log(`accept: ${passed} passed, ${unsupported} unsupported (${refused.linkType} other link types, ${refused.primitive} primitives), ${skipped} skipped (platform), ${failures.length} failed`);
    expect(failures).toEqual([]);
  });
});
