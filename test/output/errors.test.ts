/**
 * Error lines: red on a terminal, plain into a pipe or a file, plain with NO_COLOR or TERM=dumb (the
 * colour is decided without making process.stderr where fd 2 is no character device). CI=1 and an
 * unset TERM, which turn chalk's own detection off, leave a terminal red.
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

  it.skipIf(!hasScript)('are red on a terminal, and plain there with NO_COLOR or TERM=dumb', () => {
    const onTerminal = (env: string) => spawnSync('script', ['-qec', `env -u NO_COLOR ${env} ${process.execPath} ${wirescopeBin} -r ${MISSING}`, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    for (const env of ['TERM=xterm-256color', 'TERM=xterm-256color CI=1', '-u TERM']) {
      const red = onTerminal(env);
      expect(red.status, env).toBe(1);
      expect(red.stdout, env).toBe(`\x1b[31m${LINE}\x1b[39m\r\n`);
    }
    for (const env of ['TERM=xterm-256color NO_COLOR=1', 'TERM=dumb']) {
      expect(onTerminal(env).stdout, env).toBe(`${LINE}\r\n`);
    }
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
