/**
 * The filter's intermediate form: boolean trees over unsigned 32-bit values read from the frame,
 * with BPF's meaning (loads past the captured length reject the whole packet; division by zero too).
 * `simplify` does what libpcap's optimizer does to the result: folds constants and drops tests
 * whose outcome earlier tests on the same path already decide.
 */

export type Val =
  | { k: 'k'; v: number }
  /** Load of `size` bytes, big-endian, at off + (x ?? 0). */
  | { k: 'ld'; size: 1 | 2 | 4; off: number; x: Val | null }
  /** BPF's `ldxb 4*([off]&0xf)`: an IPv4 header length. */
  | { k: 'msh'; off: number }
  | { k: 'len' }
  | { k: 'op'; op: string; a: Val; b: Val }
  | { k: 'neg'; a: Val };

export type Bool =
  | { k: 'true' }
  | { k: 'false' }
  | { k: 'and'; a: Bool; b: Bool }
  | { k: 'or'; a: Bool; b: Bool }
  | { k: 'not'; a: Bool }
  /** a op b, unsigned; 'set' is BPF's jset: (a & b) != 0. */
  | { k: 'cmp'; op: 'eq' | 'gt' | 'ge' | 'set'; a: Val; b: Val };

export const TRUE: Bool = { k: 'true' };
export const FALSE: Bool = { k: 'false' };

export const k = (v: number): Val => ({ k: 'k', v: v >>> 0 });
export const ld = (size: 1 | 2 | 4, off: number, x: Val | null = null): Val => ({ k: 'ld', size, off, x });
export const and = (a: Bool, b: Bool): Bool => ({ k: 'and', a, b });
export const or = (a: Bool, b: Bool): Bool => ({ k: 'or', a, b });
export const not = (a: Bool): Bool => ({ k: 'not', a });
export const cmp = (op: 'eq' | 'gt' | 'ge' | 'set', a: Val, b: Val): Bool => ({ k: 'cmp', op, a, b });
/** gen_cmp: [off] == v */
export const eq = (size: 1 | 2 | 4, off: number, v: number, x: Val | null = null): Bool => cmp('eq', ld(size, off, x), k(v));
/** gen_mcmp: ([off] & mask) == v; a full mask is a plain compare. */
export function meq(size: 1 | 2 | 4, off: number, v: number, mask: number, x: Val | null = null): Bool {
  const full = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  if ((mask >>> 0) === full || (mask >>> 0) === 0xffffffff) return eq(size, off, v, x);
  return cmp('eq', { k: 'op', op: '&', a: ld(size, off, x), b: k(mask) }, k(v));
}

export function anyOf(...bs: Bool[]): Bool {
  return bs.reduce((acc, b) => or(acc, b));
}

export function allOf(...bs: Bool[]): Bool {
  return bs.reduce((acc, b) => and(acc, b));
}

export function valKey(v: Val): string {
  switch (v.k) {
    case 'k':
      return `#${v.v}`;
    case 'ld':
      return `[${v.size}:${v.off}${v.x ? '+' + valKey(v.x) : ''}]`;
    case 'msh':
      return `msh${v.off}`;
    case 'len':
      return 'len';
    case 'op':
      return `(${valKey(v.a)}${v.op}${valKey(v.b)})`;
    case 'neg':
      return `-(${valKey(v.a)})`;
  }
}

function foldOp(op: string, a: number, b: number): number | null {
  switch (op) {
    case '+': return (a + b) >>> 0;
    case '-': return (a - b) >>> 0;
    case '*': return Math.imul(a, b) >>> 0;
    case '/': return b === 0 ? null : Math.floor(a / b);
    case '%': return b === 0 ? null : a % b;
    case '&': return (a & b) >>> 0;
    case '|': return (a | b) >>> 0;
    case '^': return (a ^ b) >>> 0;
    case '<<': return b < 32 ? (a << b) >>> 0 : 0;
    case '>>': return b < 32 ? a >>> b : 0;
  }
  return null;
}

function simplifyVal(v: Val): Val {
  switch (v.k) {
    case 'op': {
      const a = simplifyVal(v.a);
      const b = simplifyVal(v.b);
      if (a.k === 'k' && b.k === 'k') {
        const r = foldOp(v.op, a.v, b.v);
        if (r !== null) return k(r);
      }
      // x & 0 is 0 whatever x is: the optimizer drops the load (libpcap's "net 0/0").
      if (v.op === '&' && b.k === 'k' && b.v === 0) return k(0);
      return { k: 'op', op: v.op, a, b };
    }
    case 'neg': {
      const a = simplifyVal(v.a);
      return a.k === 'k' ? k(-a.v) : { k: 'neg', a };
    }
    case 'ld':
      return v.x ? ld(v.size, v.off, simplifyVal(v.x)) : v;
    default:
      return v;
  }
}

/** What is known on a path: for a value, its exact value or values it is known not to have. */
type Facts = Map<string, { eq?: number; ne?: number[] }>;

function known(facts: Facts, c: Bool & { k: 'cmp' }): boolean | null {
  if (c.b.k !== 'k') return null;
  const f = facts.get(valKey(c.a));
  if (!f) return null;
  if (f.eq !== undefined) {
    const a = f.eq;
    const b = c.b.v;
    switch (c.op) {
      case 'eq': return a === b;
      case 'gt': return a > b;
      case 'ge': return a >= b;
      case 'set': return (a & b) !== 0;
    }
  }
  if (c.op === 'eq' && f.ne && f.ne.includes(c.b.v)) return false;
  return null;
}

function withFacts(facts: Facts, b: Bool, truth: boolean): Facts {
  const out: Facts = new Map(facts);
  const add = (b: Bool, truth: boolean): void => {
    if (b.k === 'not') return add(b.a, !truth);
    if (truth && b.k === 'and') {
      add(b.a, true);
      add(b.b, true);
    } else if (!truth && b.k === 'or') {
      add(b.a, false);
      add(b.b, false);
    } else if (b.k === 'cmp' && b.op === 'eq' && b.b.k === 'k') {
      const key = valKey(b.a);
      const prev = out.get(key) ?? {};
      if (truth) out.set(key, { eq: b.b.v });
      else if (prev.eq === undefined) out.set(key, { ne: [...(prev.ne ?? []), b.b.v] });
    }
  };
  add(b, truth);
  return out;
}

const MAX_PATHS = 64;

/**
 * The fact sets of the ways b can come out `want` (each path's comparisons added to facts);
 * null when there are more than MAX_PATHS.
 */
function paths(b: Bool, facts: Facts, want: boolean): Facts[] | null {
  const out: Facts[] = [];
  const walk = (b: Bool, facts: Facts, want: boolean): boolean => {
    if (out.length > MAX_PATHS) return false;
    switch (b.k) {
      case 'true':
      case 'false':
        if ((b.k === 'true') === want) out.push(facts);
        return true;
      case 'cmp': {
        const r = known(facts, b);
        if (r === null) out.push(withFacts(facts, b, want));
        else if (r === want) out.push(facts);
        return true;
      }
      case 'not':
        return walk(b.a, facts, !want);
      case 'and':
      case 'or': {
        // The side that decides alone: a false for 'and', a true for 'or'.
        const decides = b.k === 'or';
        if (want === decides && !walk(b.a, facts, decides)) return false;
        const rest = paths(b.a, facts, !decides);
        if (rest === null) return false;
        for (const p of rest) if (!walk(b.b, p, want)) return false;
        return true;
      }
    }
  };
  return walk(b, facts, want) && out.length <= MAX_PATHS ? out : null;
}

export function simplify(b: Bool, facts: Facts = new Map()): Bool {
  switch (b.k) {
    case 'true':
    case 'false':
      return b;
    case 'cmp': {
      const c: Bool & { k: 'cmp' } = { k: 'cmp', op: b.op, a: simplifyVal(b.a), b: simplifyVal(b.b) };
      if (c.a.k === 'k' && c.b.k === 'k') {
        const x = c.a.v;
        const y = c.b.v;
        const r = c.op === 'eq' ? x === y : c.op === 'gt' ? x > y : c.op === 'ge' ? x >= y : (x & y) !== 0;
        return r ? TRUE : FALSE;
      }
      if (c.op === 'ge' && c.b.k === 'k' && c.b.v === 0) return TRUE;
      if (c.op === 'set' && c.b.k === 'k' && c.b.v === 0) return FALSE;
      const r = known(facts, c);
      return r === null ? c : r ? TRUE : FALSE;
    }
    case 'not': {
      const a = simplify(b.a, facts);
      return a.k === 'true' ? FALSE : a.k === 'false' ? TRUE : a.k === 'not' ? a.a : not(a);
    }
    case 'and': {
      const a = simplify(b.a, facts);
      if (a.k === 'false') return FALSE;
      const c = simplify(b.b, a.k === 'true' ? facts : withFacts(facts, a, true));
      if (a.k === 'true') return c;
      if (c.k === 'false') return FALSE;
      if (c.k === 'true') return a;
      // b may be decided on each way a can be true even when no single fact decides it
      // ("(tcp or udp) and icmp"): libpcap's optimizer finds that too.
      const ways = paths(a, facts, true);
      if (ways && ways.every((p) => simplify(b.b, p).k === 'false')) return FALSE;
      return and(a, c);
    }
    case 'or': {
      const a = simplify(b.a, facts);
      if (a.k === 'true') return TRUE;
      const c = simplify(b.b, a.k === 'false' ? facts : withFacts(facts, a, false));
      if (a.k === 'false') return c;
      if (c.k === 'true') return TRUE;
      if (c.k === 'false') return a;
      return or(a, c);
    }
  }
}
