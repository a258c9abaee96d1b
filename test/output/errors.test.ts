/**
 * Error lines: red on a terminal, plain into a pipe or a file, plain with NO_COLOR (the colour is
 * decided without making process.stderr where fd 2 is no character device).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hasTool, wirescopeBin } from '../conformance/corpus.js';
import { makeTempDir } from '../pcap/helpers.js';

const hasScript = hasTool('script');
if (!hasScript) console.log('terminal colour test skipped: script(1) (util-linux) is not installed');

const MISSING = '/nonexistent/wirescope-test.pcap';
const LINE = `wirescope: ${MISSING}: No such file or directory`;

describe('error lines', () => {
  const tmp = makeTempDir('errors');
  afterAll(() => tmp.cleanup());

  it.skipIf(!hasScript)('are red on a terminal, and plain there with NO_COLOR', () => {
    const onTerminal = (env: string) => spawnSync('script', ['-qec', `${env} ${process.execPath} ${wirescopeBin} -r ${MISSING}`, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    const red = onTerminal('');
    expect(red.status).toBe(1);
    expect(red.stdout).toBe(`\x1b[31m${LINE}\x1b[39m\r\n`);
    const plain = onTerminal('NO_COLOR=1');
    expect(plain.stdout).toBe(`${LINE}\r\n`);
  });

  it('are plain into a pipe and into a file', () => {
    const piped = spawnSync(process.execPath, [wirescopeBin, '-r', MISSING], { encoding: 'utf8', timeout: 20_000 });
    expect(piped.status).toBe(1);
    expect(piped.stderr).toBe(`${LINE}\n`);
    const file = path.join(tmp.dir, 'stderr.txt');
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${wirescopeBin}" -r ${MISSING} 2>"${file}"`], { timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(`${LINE}\n`);
  });
});
