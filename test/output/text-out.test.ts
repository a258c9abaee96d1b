import { describe, expect, it } from 'vitest';
import { defaultTextOptions, TextOut } from '../../src/output/text.js';
import { ipv6At } from '../../src/output/format.js';

/** A deterministic generator (xorshift32), so a failure names the same addresses every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** An address with the shapes inet_ntop treats differently: zero runs of every length and place, IPv4-mapped and -compatible tails. */
function address(next: () => number): Uint8Array {
  const a = new Uint8Array(16);
  for (let i = 0; i < 16; i++) a[i] = next() & 0xff;
  const shape = next() % 6;
  if (shape === 1) {
    const start = next() % 8, len = 1 + (next() % (8 - start));
    a.fill(0, start * 2, (start + len) * 2);
  } else if (shape === 2) {
    a.fill(0, 0, 10);
    a[10] = a[11] = 0xff;
  } else if (shape === 3) a.fill(0, 0, 12);
  else if (shape === 4) {
    a.fill(0);
    a[15] = next() & 1;
  } else if (shape === 5) for (let i = 0; i < 16; i += 2) a[i] = 0;
  return a;
}

function text(out: TextOut): string {
  const s = out.bytes.toString('latin1', 0, out.len);
  out.len = 0;
  return s;
}

describe('TextOut.ipv6', () => {
  it('writes what ipv6At (inet_ntop) gives, for known addresses', () => {
    const out = new TextOut(defaultTextOptions);
    const cases: Array<[string, number[]]> = [
      ['::', []],
      ['::1', [[15, 1]].flat()],
      ['2001:db8::1', [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]],
      ['::ffff:192.0.2.1', [...new Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]],
      ['::192.0.2.1', [...new Array(12).fill(0), 192, 0, 2, 1]],
      ['fe80::1:0:0:1', [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]],
    ];
    for (const [want, bytes] of cases) {
      const a = new Uint8Array(16);
      if (want === '::1') a[15] = 1;
      else a.set(bytes);
      out.ipv6(a, 0);
      expect(text(out)).toBe(want);
      // Again, now from the cache.
      out.ipv6(a, 0);
      expect(text(out)).toBe(want);
    }
  });

  it('gives the same text from its cache as formatted, whatever the order, collisions and surrounding text', () => {
    const next = rng(0x5eed);
    const out = new TextOut(defaultTextOptions);
    // A pool bigger than the cache, drawn from with repeats, so slots are hit, missed and overwritten.
    const pool = Array.from({ length: 700 }, () => address(next));
    const frame = new Uint8Array(64);
    for (let n = 0; n < 20000; n++) {
      const a = pool[next() % pool.length];
      const at = next() % 48;
      frame.fill(0xee);
      frame.set(a, at);
      if (n % 3 === 0) out.s += 'x';
      out.ipv6(frame, at);
      out.putChar(0x20);
      expect(text(out)).toBe((n % 3 === 0 ? 'x' : '') + ipv6At(a, 0) + ' ');
    }
  });
});
