/**
 * pcap-filter(7) for capture files: compileFilter() turns an expression into a predicate over
 * raw frames with libpcap's semantics, for the link types wirescope reads.
 */
import { FilterError, UnsupportedFilterError } from './error.js';
import { Gen, isSupportedLinkType } from './gencode.js';
import { type Bool, TRUE, simplify } from './ir.js';
import { type MatchAtFn, compileToFunction, toSource } from './codegen.js';
import { type NameDb, systemNameDb } from './names.js';
import { parse } from './parser.js';

export { FilterError, UnsupportedFilterError } from './error.js';
export type { MatchAtFn } from './codegen.js';
export { type NameDb, type NameLines, nameDbFromLines, systemNameDb } from './names.js';

export interface FilterOptions {
  /** The value a match returns (BPF's `ret #snaplen`); tcpdump's default is 262144. */
  snaplen?: number;
  /** Netmask for `ip broadcast`; tcpdump uses 0 when reading files. null: unknown (refused). */
  netmask?: number | null;
  /**
   * For LINKTYPE_NULL (0): the savefile is big-endian. Its address-family word is in the byte
   * order of the host that wrote the file, which libpcap matches through the file's byte order.
   */
  bigEndianFile?: boolean;
  /** Host/ether/network names; defaults to the system's (/etc files and the resolver). */
  names?: NameDb;
  /** false: skip libpcap's optimizer step (constant folding, redundant tests, "rejects all"). */
  optimize?: boolean;
}

export interface FilterProgram {
  /**
   * BPF's return value for one frame: 0 when it does not match, else the snap length.
   * capLen bytes of data are valid; origLen is the length on the wire (`len`, `less`, `greater`).
   */
  matches(data: Uint8Array, capLen: number, origLen: number): number;
  /** matches() over the frame at data[start, start + capLen): a reader's buffer, without a subarray per frame. */
  readonly matchesAt: MatchAtFn;
  /** The generated JavaScript, for inspection. */
  readonly source: string;
}

const DEFAULT_SNAPLEN = 262144;

/**
 * Compiles a pcap-filter expression for frames of the given LINKTYPE. An empty expression
 * matches everything. Throws FilterError, whose message is the one line to print.
 */
export function compileFilter(expr: string, linkType: number, opts: FilterOptions = {}): FilterProgram {
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const ast = parse(expr);
  let tree: Bool = TRUE;
  if (ast) {
    if (!isSupportedLinkType(linkType)) throw new UnsupportedFilterError(`link type ${linkType} is not supported by wirescope's filter compiler`);
    const gen = new Gen(linkType, {
      snaplen,
      netmask: opts.netmask === undefined ? 0 : opts.netmask,
      nullBigEndian: opts.bigEndianFile ?? false,
      names: opts.names ?? systemNameDb(),
    });
    tree = gen.expr(ast);
    if (opts.optimize !== false) {
      tree = simplify(tree);
      if (tree.k === 'false') throw new FilterError('expression rejects all packets');
    }
  }
  const at = compileToFunction(tree, snaplen);
  return { matches: (data, capLen, origLen) => at(data, 0, capLen, origLen), matchesAt: at, source: toSource(tree, snaplen) };
}
