/**
 * Turns the simplified boolean tree into one JS function over the raw bytes (new Function), so
 * V8 compiles each filter to straight-line machine code: no dissection, no allocation per packet.
 * A load past the captured length, or a division by zero, throws a preallocated sentinel that
 * the wrapper turns into "no match": BPF rejects the packet outright in both cases.
 */
import type { Bool, Val } from './ir.js';

/**
 * (data, start, capLen, origLen) -> 0 for no match, else the snap length (BPF's return value).
 * The frame starts at offset s of d (a reader's buffer: no subarray per frame); c bytes from s are valid.
 */
export type MatchAtFn = (d: Uint8Array, s: number, c: number, len: number) => number;

const PRELUDE = `
const OOB = { oob: true };
function oob() { throw OOB; }
function ldb(d, s, c, i) { return i < c ? d[s + i] : oob(); }
function ldh(d, s, c, i) { return i + 2 <= c ? (d[s + i] << 8) | d[s + i + 1] : oob(); }
function ldw(d, s, c, i) { return i + 4 <= c ? ((d[s + i] << 24) | (d[s + i + 1] << 16) | (d[s + i + 2] << 8) | d[s + i + 3]) >>> 0 : oob(); }
function msh(d, s, c, i) { return i < c ? (d[s + i] & 15) << 2 : oob(); }
function div(a, b) { return b === 0 ? oob() : Math.floor(a / b); }
function mod(a, b) { return b === 0 ? oob() : a % b; }
function shl(a, b) { return b < 32 ? (a << b) >>> 0 : 0; }
function shr(a, b) { return b < 32 ? a >>> b : 0; }
`;

function val(v: Val): string {
  switch (v.k) {
    case 'k':
      return String(v.v);
    case 'len':
      return 'len';
    case 'msh':
      return `msh(d, s, c, ${v.off})`;
    case 'ld': {
      const fn = v.size === 1 ? 'ldb' : v.size === 2 ? 'ldh' : 'ldw';
      if (!v.x) {
        const o = v.off;
        // Constant offsets inline the bounds check; the offset is known at compile time.
        if (v.size === 1) return `(${o} < c ? d[s + ${o}] : oob())`;
        if (v.size === 2) return `(${o + 2} <= c ? (d[s + ${o}] << 8) | d[s + ${o + 1}] : oob())`;
        return `(${o + 4} <= c ? ((d[s + ${o}] << 24) | (d[s + ${o + 1}] << 16) | (d[s + ${o + 2}] << 8) | d[s + ${o + 3}]) >>> 0 : oob())`;
      }
      return `${fn}(d, s, c, ${val(v.x)}${v.off ? ' + ' + v.off : ''})`;
    }
    case 'neg':
      return `((-${val(v.a)}) >>> 0)`;
    case 'op': {
      const a = val(v.a);
      const b = val(v.b);
      switch (v.op) {
        case '+': return `((${a} + ${b}) >>> 0)`;
        case '-': return `((${a} - ${b}) >>> 0)`;
        case '*': return `(Math.imul(${a}, ${b}) >>> 0)`;
        case '/': return `div(${a}, ${b})`;
        case '%': return `mod(${a}, ${b})`;
        case '&': return `((${a} & ${b}) >>> 0)`;
        case '|': return `((${a} | ${b}) >>> 0)`;
        case '^': return `((${a} ^ ${b}) >>> 0)`;
        case '<<': return `shl(${a}, ${b})`;
        case '>>': return `shr(${a}, ${b})`;
      }
      throw new Error(`unknown operator ${v.op}`);
    }
  }
}

function bool(b: Bool): string {
  switch (b.k) {
    case 'true':
      return 'true';
    case 'false':
      return 'false';
    case 'and':
      return `(${bool(b.a)} && ${bool(b.b)})`;
    case 'or':
      return `(${bool(b.a)} || ${bool(b.b)})`;
    case 'not':
      return `!${bool(b.a)}`;
    case 'cmp': {
      const a = val(b.a);
      const c = val(b.b);
      switch (b.op) {
        case 'eq': return `(${a} === ${c})`;
        case 'gt': return `(${a} > ${c})`;
        case 'ge': return `(${a} >= ${c})`;
        case 'set': return `((${a} & ${c}) !== 0)`;
      }
    }
  }
}

/** The JS source of the predicate body, for debugging (`wirescope -d`-style listings). */
export function toSource(b: Bool, snaplen: number): string {
  if (b.k === 'true') return `return ${snaplen};`;
  return `try { return ${bool(b)} ? ${snaplen} : 0; } catch (e) { if (e === OOB) return 0; throw e; }`;
}

/** The predicate over a frame at an offset of a buffer. */
export function compileToFunction(b: Bool, snaplen: number): MatchAtFn {
  const body = `${PRELUDE}\nreturn function match(d, s, c, len) { ${toSource(b, snaplen)} };`;
  return new Function(body)() as MatchAtFn;
}
