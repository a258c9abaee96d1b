import { describe, expect, it } from 'vitest';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from '../../src/tcp/seq.js';

describe('sequence numbers modulo 2^32', () => {
  it('adds with wrap-around', () => {
    expect(seqAdd(0xffffffff, 1)).toBe(0);
    expect(seqAdd(0xfffffff0, 0x20)).toBe(0x10);
    expect(seqAdd(5, -6)).toBe(0xffffffff);
    expect(seqAdd(0, 0)).toBe(0);
  });
  it('measures signed distance across the wrap', () => {
    expect(seqDiff(0x10, 0xfffffff0)).toBe(0x20);
    expect(seqDiff(0xfffffff0, 0x10)).toBe(-0x20);
    expect(seqDiff(7, 7)).toBe(0);
    expect(seqDiff(0x80000000, 0)).toBe(-0x80000000); // half the space away: the far edge
  });
  it('compares across the wrap', () => {
    expect(seqLt(0xffffffff, 0)).toBe(true);
    expect(seqGt(0, 0xffffffff)).toBe(true);
    expect(seqLe(3, 3) && seqGe(3, 3)).toBe(true);
    expect(seqLt(0, 0xffffffff)).toBe(false);
    expect(seqMax(0xfffffffe, 2)).toBe(2);
    expect(seqMax(2, 0xfffffffe)).toBe(2);
  });
});
