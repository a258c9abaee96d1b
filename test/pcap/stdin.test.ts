/**
 * Reading "-": standard input in a child process, fed in small slices with pauses, on a blocking
 * pipe and on a non-blocking one (where reads answer EAGAIN until data comes).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { makeTempDir, readAll, distPcapDir, pcapFile, payload, concat, shb, idb, epb } from './helpers.js';

const tmp = makeTempDir('pcap-stdin');
afterAll(() => tmp.cleanup());

const script = path.join(tmp.dir, 'from-stdin.mjs');
writeFileSync(script, `
  import { openCapture } from ${JSON.stringify(path.join(distPcapDir(), 'reader.js'))};
  // Node opens a pipe on fd 0 non-blocking once process.stdin exists; make sure of it.
  if (process.argv[2] === 'nonblock') process.stdin._handle.setBlocking(false);
  const out = { format: '', frames: [], error: null };
  try {
    const r = openCapture('-', { chunkSize: 4096 });
    out.format = r.format;
    for (let f = r.next(); f; f = r.next()) out.frames.push([f.tsSec, f.tsNsec, f.capLen, f.origLen, f.linkType, Buffer.from(f.data).toString('base64')]);
  } catch (e) {
    out.error = e.message;
  }
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
`);

/** Runs the child, writing `bytes` to its stdin in slices with pauses between them. */
function feed(mode: 'block' | 'nonblock', bytes: Uint8Array): Promise<{ format: string; frames: unknown[][]; error: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [script, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('error', reject);
    child.on('close', () => {
      try { resolve(JSON.parse(out)); } catch (e) { reject(e); }
    });
    child.stdin.on('error', () => { /* the child may stop reading early on an error */ });
    let o = 0;
    const step = () => {
      if (o >= bytes.length) { child.stdin.end(); return; }
      child.stdin.write(bytes.subarray(o, o + 1500));
      o += 1500;
      setTimeout(step, 2);
    };
    step();
  });
}

function expectedOf(bytes: Uint8Array, name: string) {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, bytes);
  const { frames, error } = readAll(file);
  return {
    frames: frames.map((f) => [f.tsSec, f.tsNsec, f.capLen, f.origLen, f.linkType, Buffer.from(f.data).toString('base64')]),
    error: error?.message ?? null,
  };
}

const records = Array.from({ length: 40 }, (_, i) => ({ sec: 1700000000 + i, frac: i * 1000, data: payload(100 + i * 37, i) }));
const pcap = pcapFile({ le: false, records });
const pcapng = concat(shb(true), idb(true, 1, 0), ...records.map((r, i) => epb(true, 0, BigInt(r.sec) * 1_000_000n + BigInt(i), r.data)));

describe('reading standard input', () => {
  for (const mode of ['block', 'nonblock'] as const) {
    it(`a pcap arriving slowly on a ${mode === 'block' ? 'blocking' : 'non-blocking'} pipe`, async () => {
      const got = await feed(mode, pcap);
      expect(got.format).toBe('pcap');
      expect({ frames: got.frames, error: got.error }).toEqual(expectedOf(pcap, 'stdin.pcap'));
      expect(got.frames.length).toBe(40);
    });

    it(`a pcapng arriving slowly on a ${mode === 'block' ? 'blocking' : 'non-blocking'} pipe`, async () => {
      const got = await feed(mode, pcapng);
      expect(got.format).toBe('pcapng');
      expect({ frames: got.frames, error: got.error }).toEqual(expectedOf(pcapng, 'stdin.pcapng'));
    });
  }

  it('a truncated pcap: the complete frames, then the same error as from a file', async () => {
    const cut = pcap.subarray(0, pcap.length - 50);
    const got = await feed('nonblock', cut);
    const want = expectedOf(cut, 'stdin-cut.pcap');
    expect(want.error).toMatch(/^truncated packet record at byte \d+/);
    expect({ frames: got.frames, error: got.error }).toEqual(want);
  });

  it('not a capture: the one-line open error', async () => {
    const got = await feed('block', new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'));
    expect(got.error).toBe('unknown file format');
  });
});
