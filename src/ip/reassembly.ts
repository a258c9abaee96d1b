/**
 * What a reassembled IP datagram records about its fragments, in the form tshark's fragment
 * tree shows it (ip.fragment, ip.fragment.error, ip.fragment.overlap, ...; ipv6.fragment.* alike).
 * The defragmenter (defrag.ts) fills it in; the IP layers' field getters read it.
 */

/** Per-fragment flags, as Wireshark's reassembly sets them. */
export const FRAG_OVERLAP = 1;
export const FRAG_CONFLICT = 2;
export const FRAG_MULTIPLE_TAILS = 4;
export const FRAG_TOO_LONG = 8;
/** Flags that make tshark list a fragment under *.fragment.error rather than *.fragment. */
const FRAG_ERROR = FRAG_CONFLICT | FRAG_MULTIPLE_TAILS | FRAG_TOO_LONG;

export interface FragmentRecord {
  /** Frame number the fragment came in. */
  readonly frame: number;
  /** Offset of its data in the datagram, in bytes. */
  readonly offset: number;
  /** Bytes of data it carried. */
  readonly len: number;
  flags: number;
}

export class Reassembly {
  constructor(
    /** The fragments in tshark's order: by offset, earlier arrivals first among equal offsets. */
    readonly fragments: readonly FragmentRecord[],
    /** The reassembled payload. */
    readonly data: Uint8Array,
  ) {}

  /** Bytes of the reassembled payload. */
  get length(): number {
    return this.data.length;
  }

  get count(): number {
    return this.fragments.length;
  }

  /** Frame numbers of the fragments listed as errors (true) or plainly (false); undefined when none. */
  frames(errors: boolean): number[] | undefined {
    const out: number[] = [];
    for (const f of this.fragments) if (((f.flags & FRAG_ERROR) !== 0) === errors) out.push(f.frame);
    return out.length ? out : undefined;
  }

  /** One 1 per fragment carrying flag (tshark's boolean per fragment); undefined when none. */
  flagged(flag: number): number[] | undefined {
    const out: number[] = [];
    for (const f of this.fragments) if (f.flags & flag) out.push(1);
    return out.length ? out : undefined;
  }
}
