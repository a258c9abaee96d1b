/**
 * pcap-filter(7) parser: libpcap's grammar.y as recursive descent, producing a syntax tree.
 * Where bison decides between `term` and the qualifier-inheriting `id` after and/or/not/'('
 * by lookahead, this parser tries one reading and falls back to the other.
 */
import { FilterError, unsupported } from './error.js';
import { T, type Token, tokenize } from './lexer.js';

/** Qualifiers: 'default' when not given, 'undef' where libpcap has qerr (no qualifier to inherit). */
export interface Qual {
  proto: string;
  dir: string;
  addr: string;
}

export type IdNode =
  | { k: 'name'; s: string }
  | { k: 'num'; v: number }
  | { k: 'hid'; s: string }
  | { k: 'hidlen'; s: string; len: number }
  | { k: 'hidmask'; s: string; mask: string }
  | { k: 'hid6'; s: string; len: number | null }
  | { k: 'eid'; s: string }
  | { k: 'aid'; s: string };

export type Arth =
  | { k: 'num'; v: number }
  | { k: 'len' }
  | { k: 'load'; proto: string; idx: Arth; size: number }
  | { k: 'bin'; op: string; a: Arth; b: Arth }
  | { k: 'neg'; a: Arth };

export type Expr =
  | { k: 'and' | 'or'; a: Expr; b: Expr }
  | { k: 'not'; a: Expr }
  | { k: 'id'; q: Qual; id: IdNode }
  | { k: 'idlist'; op: 'and' | 'or'; a: Expr; b: Expr }
  | { k: 'pname'; proto: string }
  | { k: 'rel'; op: string; a: Arth; b: Arth }
  | { k: 'other'; what: string; proto: string; args: number[]; name?: string };

const QERR: Qual = { proto: 'undef', dir: 'undef', addr: 'undef' };

export const PNAMES = new Set([
  'link', 'ip', 'arp', 'rarp', 'sctp', 'tcp', 'udp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp',
  'atalk', 'aarp', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'ip6', 'icmp6', 'ah', 'esp', 'iso', 'esis',
  'isis', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp', 'clnp', 'stp', 'ipx', 'netbeui', 'radio',
]);
const DQUALS = new Set(['src', 'dst', 'addr1', 'addr2', 'addr3', 'addr4', 'ra', 'ta']);
const AQUALS = new Set(['host', 'net', 'port', 'portrange']);
const HEAD_AFTER_PNAME = new Set([...DQUALS, ...AQUALS, 'proto', 'protochain', 'gateway']);
const RELOPS = new Set(['>', '>=', '=', '<=', '<', '!=']);
/** Binding strength of the arithmetic operators (bison %left lines); '%' and '^' have none. */
const PREC: Record<string, number> = { '|': 1, '&': 2, '<<': 3, '>>': 3, '+': 4, '-': 4, '*': 5, '/': 5 };
const UMINUS = 6;
/** Keywords of protocols and features wirescope's filter compiler refuses. */
const UNSUPPORTED_OTHER = new Set([
  'lane', 'metac', 'bcc', 'oam', 'oamf4', 'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'vpi', 'vci', 'connectmsg',
  'metaconnect', 'ifname', 'rset', 'rnr', 'srnr', 'reason', 'action', 'fisu', 'lssu', 'msu', 'hfisu',
  'hlssu', 'hmsu', 'sio', 'opc', 'dpc', 'sls', 'hsio', 'hopc', 'hdpc', 'hsls', 'type', 'subtype', 'dir',
]);

class SyntaxError_ {
  constructor(readonly pos: number) {}
}

class Parser {
  private i = 0;
  /** Furthest token index a failed alternative reached: the error is reported there. */
  private furthest = 0;

  constructor(private readonly toks: Token[]) {}

  private get tok(): Token {
    return this.toks[this.i];
  }

  private atEnd(): boolean {
    return this.tok.t === T.End;
  }

  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)];
  }

  private fail(): never {
    if (this.i > this.furthest) this.furthest = this.i;
    throw new SyntaxError_(this.i);
  }

  private isKw(t: Token, ...kws: string[]): boolean {
    return t.t === T.Kw && kws.includes(t.text);
  }

  private isOp(t: Token, op: string): boolean {
    return t.t === T.Op && t.text === op;
  }

  private expectOp(op: string): void {
    if (!this.isOp(this.tok, op)) this.fail();
    this.i++;
  }

  private num(): number {
    if (this.tok.t !== T.Num) this.fail();
    return this.toks[this.i++].value;
  }

  /** Runs alternatives in order from the same position; the first that parses wins. */
  private oneOf<R>(...alts: Array<() => R>): R {
    const start = this.i;
    let last: unknown;
    for (const alt of alts) {
      try {
        return alt();
      } catch (e) {
        if (!(e instanceof SyntaxError_)) throw e;
        last = e;
        this.i = start;
      }
    }
    throw last;
  }

  parseProg(): Expr | null {
    if (this.tok.t === T.End) return null;
    try {
      const { e } = this.expr(QERR);
      if (!this.atEnd()) this.fail();
      return e;
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
      const at = this.toks[Math.max(this.furthest, e.pos)];
      throw new FilterError(`can't parse filter expression: syntax error near '${at.src}'`);
    }
  }

  private expr(inh: Qual): { e: Expr; q: Qual } {
    let { e, q } = this.term(inh);
    while (this.isKw(this.tok, 'and', 'or')) {
      const op = this.tok.text as 'and' | 'or';
      this.i++;
      const left = q;
      const r = this.oneOf(
        () => this.term(left),
        () => ({ e: this.id(left), q: left }),
      );
      e = { k: op, a: e, b: r.e };
      q = r.q;
    }
    return { e, q };
  }

  private term(inh: Qual): { e: Expr; q: Qual } {
    const t = this.tok;
    if (this.isKw(t, 'not')) {
      this.i++;
      const r = this.term(inh);
      return { e: { k: 'not', a: r.e }, q: r.q };
    }
    if (this.isOp(t, '(')) {
      return this.oneOf(
        () => ({ e: this.relation(), q: QERR }),
        () => {
          this.i++;
          const r = this.expr(inh);
          this.expectOp(')');
          return { e: r.e, q: inh };
        },
      );
    }
    if (t.t === T.Kw) {
      const kw = t.text;
      if (PNAMES.has(kw)) {
        const nx = this.peek();
        if (nx.t === T.Kw && HEAD_AFTER_PNAME.has(nx.text)) return this.headId();
        if (this.isOp(nx, '[')) return { e: this.relation(), q: QERR };
        if (this.isKw(nx, 'broadcast', 'multicast')) {
          this.i += 2;
          return { e: { k: 'other', what: nx.text, proto: kw, args: [] }, q: QERR };
        }
        if (this.isKw(nx, 'type', 'subtype', 'dir')) {
          this.i++;
          return { e: this.other(kw), q: QERR };
        }
        this.i++;
        return { e: { k: 'pname', proto: kw }, q: QERR };
      }
      if (HEAD_AFTER_PNAME.has(kw)) return this.headId();
      if (kw === 'len') return { e: this.relation(), q: QERR };
      return { e: this.other('default'), q: QERR };
    }
    if (t.t === T.Num || this.isOp(t, '-')) return { e: this.relation(), q: QERR };
    this.fail();
  }

  /** head id: [pname] then direction and/or address-type qualifiers, then the id. */
  private headId(): { e: Expr; q: Qual } {
    const q: Qual = { proto: 'default', dir: 'default', addr: 'default' };
    if (PNAMES.has(this.tok.text)) q.proto = this.toks[this.i++].text;
    const t = this.tok;
    if (this.isKw(t, 'proto', 'protochain', 'gateway')) {
      q.addr = t.text;
      this.i++;
    } else {
      if (t.t === T.Kw && DQUALS.has(t.text)) {
        q.dir = t.text;
        this.i++;
        if ((t.text === 'src' || t.text === 'dst') && this.isKw(this.tok, 'and', 'or')) {
          const other = t.text === 'src' ? 'dst' : 'src';
          if (!this.isKw(this.peek(), other)) {
            this.i++;
            this.fail();
          }
          q.dir = this.tok.text;
          this.i += 2;
        }
      }
      if (this.tok.t === T.Kw && AQUALS.has(this.tok.text)) q.addr = this.toks[this.i++].text;
      else if (q.dir === 'default') this.fail();
    }
    return { e: this.id(q), q };
  }

  /** id: nid | pnum | '(' pid ')', all taking the inherited qualifiers. */
  private id(q: Qual): Expr {
    const t = this.tok;
    if (this.isKw(t, 'not')) {
      this.i++;
      return { k: 'not', a: this.id(q) };
    }
    if (this.isOp(t, '(')) {
      this.i++;
      let e = this.id(q);
      while (this.isKw(this.tok, 'and', 'or')) {
        const op = this.toks[this.i++].text as 'and' | 'or';
        e = { k: 'idlist', op, a: e, b: this.id(q) };
      }
      this.expectOp(')');
      return e;
    }
    this.i++;
    switch (t.t) {
      case T.Num:
        return { k: 'id', q, id: { k: 'num', v: t.value } };
      case T.Id:
        return { k: 'id', q, id: { k: 'name', s: t.text } };
      case T.Hid:
        if (this.isOp(this.tok, '/')) {
          this.i++;
          return { k: 'id', q, id: { k: 'hidlen', s: t.text, len: this.num() } };
        }
        if (this.isKw(this.tok, 'mask')) {
          this.i++;
          if (this.tok.t !== T.Hid) this.fail();
          return { k: 'id', q, id: { k: 'hidmask', s: t.text, mask: this.toks[this.i++].text } };
        }
        return { k: 'id', q, id: { k: 'hid', s: t.text } };
      case T.Hid6:
        if (this.isOp(this.tok, '/')) {
          this.i++;
          return { k: 'id', q, id: { k: 'hid6', s: t.text, len: this.num() } };
        }
        return { k: 'id', q, id: { k: 'hid6', s: t.text, len: null } };
      case T.Eid:
        return { k: 'id', q, id: { k: 'eid', s: t.text } };
      case T.Aid:
        return { k: 'id', q, id: { k: 'aid', s: t.text } };
      default:
        this.i--;
        this.fail();
    }
  }

  private relation(): Expr {
    const a = this.arth(0);
    const t = this.tok;
    if (!(t.t === T.Op && RELOPS.has(t.text))) this.fail();
    this.i++;
    const b = this.arth(0);
    return { k: 'rel', op: t.text, a, b };
  }

  /**
   * Operator-precedence parse of `arth`. '%' and '^' have no precedence in libpcap's grammar, so
   * bison shifts on them: they take everything to their right ("len % 3 + 1" is len % (3 + 1)).
   */
  private arth(minPrec: number): Arth {
    let left = this.primary();
    for (;;) {
      const t = this.tok;
      if (t.t !== T.Op) break;
      if (t.text === '%' || t.text === '^') {
        this.i++;
        left = { k: 'bin', op: t.text, a: left, b: this.arth(0) };
        continue;
      }
      const p = PREC[t.text];
      if (p === undefined || p < minPrec) break;
      this.i++;
      left = { k: 'bin', op: t.text, a: left, b: this.arth(p + 1) };
    }
    return left;
  }

  private primary(): Arth {
    const t = this.tok;
    if (t.t === T.Num) {
      this.i++;
      return { k: 'num', v: t.value };
    }
    if (this.isOp(t, '(')) {
      this.i++;
      const a = this.arth(0);
      this.expectOp(')');
      return a;
    }
    if (this.isOp(t, '-')) {
      this.i++;
      return { k: 'neg', a: this.arth(UMINUS) };
    }
    if (this.isKw(t, 'len')) {
      this.i++;
      return { k: 'len' };
    }
    if (t.t === T.Kw && PNAMES.has(t.text) && this.isOp(this.peek(), '[')) {
      this.i += 2;
      const idx = this.arth(0);
      let size = 1;
      if (this.isOp(this.tok, ':')) {
        this.i++;
        size = this.num();
      }
      this.expectOp(']');
      return { k: 'load', proto: t.text, idx, size };
    }
    this.fail();
  }

  /** pnum: NUM | '(' pnum ')' */
  private pnum(): number {
    if (this.isOp(this.tok, '(')) {
      this.i++;
      const v = this.pnum();
      this.expectOp(')');
      return v;
    }
    return this.num();
  }

  private hasPnum(): boolean {
    return this.tok.t === T.Num || this.isOp(this.tok, '(');
  }

  private other(proto: string): Expr {
    const t = this.tok;
    const kw = t.text;
    const node = (what: string, args: number[] = [], name?: string): Expr => ({ k: 'other', what, proto, args, name });
    this.i++;
    switch (kw) {
      case 'broadcast':
      case 'multicast':
      case 'inbound':
      case 'outbound':
      case 'pppoed':
        return node(kw);
      case 'less':
      case 'greater':
      case 'ifindex':
        return node(kw, [this.num()]);
      case 'byte': {
        const idx = this.num();
        const op = this.tok;
        if (!(op.t === T.Op && ['&', '|', '<', '>', '='].includes(op.text))) this.fail();
        this.i++;
        return node('byte', [idx, this.num()], op.text);
      }
      case 'vlan':
      case 'mpls':
      case 'pppoes':
      case 'geneve':
      case 'vxlan':
        return this.hasPnum() ? node(kw, [this.pnum()]) : node(kw);
      case 'llc':
        if (this.tok.t === T.Id || this.isKw(this.tok, 'rnr')) return node('llc', [], this.toks[this.i++].text);
        return node('llc');
      default:
        if (UNSUPPORTED_OTHER.has(kw)) throw unsupported(proto === 'default' ? kw : `${proto} ${kw}`);
        this.i--;
        this.fail();
    }
  }
}

/** Parses an expression; null for an empty one (which matches everything). */
export function parse(src: string): Expr | null {
  return new Parser(tokenize(src)).parseProg();
}
