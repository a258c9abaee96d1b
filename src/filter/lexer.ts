/**
 * The pcap-filter(7) scanner: the token set and longest-match rules of libpcap's scanner.l.
 * Keywords win over names of the same length; a longer name wins over a keyword ("tcpx").
 */
import { FilterError } from './error.js';

export const enum T {
  End,
  Num, // value: number
  Id, // text: a name (or a backslash-escaped keyword)
  Hid, // dotted IPv4 form "a", "a.b", "a.b.c", "a.b.c.d" (text)
  Hid6, // IPv6 address (text)
  Eid, // MAC address (text)
  Aid, // ARCnet "$xx" (text)
  Kw, // keyword: text is the canonical keyword
  Op, // punctuation / operator: text
}

export interface Token {
  t: T;
  text: string;
  value: number;
  /** The characters as typed, for error messages. */
  src: string;
  pos: number;
}

/** Keyword spellings -> canonical keyword (aliases collapse, as scanner.l returns one token for them). */
const KEYWORDS: Record<string, string> = {
  dst: 'dst', src: 'src',
  link: 'link', ether: 'link', ppp: 'link', slip: 'link', fddi: 'link', tr: 'link', wlan: 'link',
  arp: 'arp', rarp: 'rarp', ip: 'ip', sctp: 'sctp', tcp: 'tcp', udp: 'udp', icmp: 'icmp',
  igmp: 'igmp', igrp: 'igrp', pim: 'pim', vrrp: 'vrrp', carp: 'carp', radio: 'radio',
  ip6: 'ip6', icmp6: 'icmp6', ah: 'ah', esp: 'esp',
  atalk: 'atalk', aarp: 'aarp', decnet: 'decnet', lat: 'lat', sca: 'sca', moprc: 'moprc', mopdl: 'mopdl',
  iso: 'iso', esis: 'esis', 'es-is': 'esis', isis: 'isis', 'is-is': 'isis', l1: 'l1', l2: 'l2',
  iih: 'iih', lsp: 'lsp', snp: 'snp', csnp: 'csnp', psnp: 'psnp', clnp: 'clnp', stp: 'stp',
  ipx: 'ipx', netbeui: 'netbeui',
  host: 'host', net: 'net', mask: 'mask', port: 'port', portrange: 'portrange', proto: 'proto',
  protochain: 'protochain', gateway: 'gateway',
  type: 'type', subtype: 'subtype', direction: 'dir', dir: 'dir',
  address1: 'addr1', addr1: 'addr1', address2: 'addr2', addr2: 'addr2', address3: 'addr3', addr3: 'addr3',
  address4: 'addr4', addr4: 'addr4', ra: 'ra', ta: 'ta',
  less: 'less', greater: 'greater', byte: 'byte', broadcast: 'broadcast', multicast: 'multicast',
  and: 'and', or: 'or', not: 'not', len: 'len', length: 'len', inbound: 'inbound', outbound: 'outbound',
  ifindex: 'ifindex', vlan: 'vlan', mpls: 'mpls', pppoed: 'pppoed', pppoes: 'pppoes', geneve: 'geneve',
  vxlan: 'vxlan',
  lane: 'lane', llc: 'llc', metac: 'metac', bcc: 'bcc', oam: 'oam', oamf4: 'oamf4', oamf4ec: 'oamf4ec',
  oamf4sc: 'oamf4sc', sc: 'sc', ilmic: 'ilmic', vpi: 'vpi', vci: 'vci', connectmsg: 'connectmsg',
  metaconnect: 'metaconnect',
  on: 'ifname', ifname: 'ifname', rset: 'rset', ruleset: 'rset', rnr: 'rnr', rulenum: 'rnr',
  srnr: 'srnr', subrulenum: 'srnr', reason: 'reason', action: 'action',
  fisu: 'fisu', lssu: 'lssu', lsu: 'lssu', msu: 'msu', hfisu: 'hfisu', hlssu: 'hlssu', hmsu: 'hmsu',
  sio: 'sio', opc: 'opc', dpc: 'dpc', sls: 'sls', hsio: 'hsio', hopc: 'hopc', hdpc: 'hdpc', hsls: 'hsls',
};

/** Names the scanner turns into numbers (offsets and values for the byte-access syntax). */
const NAMED_NUMBERS: Record<string, number> = {
  icmptype: 0, icmpcode: 1,
  'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5, 'icmp-echo': 8,
  'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16,
  'icmp-maskreq': 17, 'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1,
  'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4, 'icmp6-echo': 128, 'icmp6-echoreply': 129,
  'icmp6-multicastlistenerquery': 130, 'icmp6-multicastlistenerreportv1': 131,
  'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133, 'icmp6-routeradvert': 134,
  'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139, 'icmp6-nodeinformationresponse': 140,
  'icmp6-ineighbordiscoverysolicit': 141, 'icmp6-ineighbordiscoveryadvert': 142,
  'icmp6-multicastlistenerreportv2': 143, 'icmp6-homeagentdiscoveryrequest': 144,
  'icmp6-homeagentdiscoveryreply': 145, 'icmp6-mobileprefixsolicit': 146,
  'icmp6-mobileprefixadvert': 147, 'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149,
  'icmp6-multicastrouteradvert': 151, 'icmp6-multicastroutersolicit': 152,
  'icmp6-multicastrouterterm': 153,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10,
  'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

const N = '(?:0[xX][0-9A-Fa-f]+|[0-9]+)';
const B = '[0-9A-Fa-f][0-9A-Fa-f]?';
const B2 = '[0-9A-Fa-f]{4}';
const W = '[0-9A-Fa-f]{1,4}';
const V4 = `${N}\\.${N}\\.${N}\\.${N}`;

/** scanner.l's V6 alternatives: 8 groups, or "::" compressing some, optionally ending in a dotted quad. */
function v6Patterns(): string[] {
  const alts: string[] = [`${W}(?::${W}){7}`];
  const groups = (n: number) => (n === 0 ? '' : `${W}(?::${W}){${n - 1}}`);
  for (let total = 7; total >= 0; total--) {
    for (let left = 0; left <= total; left++) alts.push(`${groups(left)}::${groups(total - left)}`);
  }
  alts.push(`${W}(?::${W}){5}:${V4}`);
  for (let total = 5; total >= 0; total--) {
    for (let left = 0; left <= total; left++) {
      const right = total - left;
      alts.push(`${groups(left)}::${right ? groups(right) + ':' : ''}${V4}`);
    }
  }
  return alts;
}

/**
 * One sticky regex per alternative: flex takes the longest, JS alternation the first that matches.
 * Made on the first IPv6-shaped word: most expressions have none.
 */
let v6Res: RegExp[] | null = null;

function matchV6(src: string, pos: number): string | null {
  // Every alternative has a ':' within its characters ([0-9A-Fa-fxX:.]): without one ahead, none can
  // match, and the ~60 expressions need not be made or run.
  let colon = false;
  for (let i = pos; i < src.length && !colon; i++) {
    const c = src.charCodeAt(i);
    if (c === 58) colon = true;
    else if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46 || c === 120 || c === 88)) break;
  }
  if (!colon) return null;
  let best: string | null = null;
  v6Res ??= v6Patterns().map((p) => new RegExp(p, 'y'));
  for (const re of v6Res) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (m && (best === null || m[0].length > best.length)) best = m[0];
  }
  return best;
}

// Each rule is tried at the current position; the longest match wins, ties go to the earlier rule
// (flex's rule). Keywords and named numbers are handled by looking up an ID-shaped match.
let v6At = 0;
const RULES: Array<[T | 'kwid', RegExp]> = [
  [T.Op, /(?:>=|<=|!=|==|<<|>>|&&|\|\||[+\-*/%:\[\]!<>()&|^=])/y],
  [T.Aid, new RegExp(`\\$${B}`, 'y')],
  [T.Eid, new RegExp(`(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|(?:${B2}){3})`, 'y')],
  [T.Num, /(?:0[xX][0-9A-Fa-f]+|[0-9]+)/y],
  [T.Hid, new RegExp(`(?:${V4}|${N}\\.${N}\\.${N}|${N}\\.${N})`, 'y')],
  [T.Hid6, { exec: (src: string) => { const m = matchV6(src, v6At); return m === null ? null : [m]; }, lastIndex: 0 } as unknown as RegExp],
  [T.End, new RegExp(`${B}:+(?:${B}:+)+`, 'y')], // scanner.l's "bogus ethernet address"
  ['kwid', /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y],
  [T.Id, /\\[^ !()\n\t]+/y],
];

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    const ch = src[pos];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      pos++;
      continue;
    }
    let best = -1;
    let bestLen = 0;
    let bestText = '';
    v6At = pos;
    for (let i = 0; i < RULES.length; i++) {
      const re = RULES[i][1];
      re.lastIndex = pos;
      const m = re.exec(src);
      if (m && m[0].length > bestLen) {
        best = i;
        bestLen = m[0].length;
        bestText = m[0];
      }
    }
    if (best < 0) throw new FilterError(`can't parse filter expression: syntax error near '${ch}'`);
    const kind = RULES[best][0];
    // The keyword/ID rule competes with Num/Hid/Eid at equal length: earlier rule wins, so a
    // keyword match only counts when it is strictly longer (flex lists keywords first, but no
    // keyword has the shape of a number or address).
    const tok: Token = { t: T.Id, text: bestText, value: 0, src: bestText, pos };
    if (kind === 'kwid') {
      const kw = KEYWORDS[bestText];
      const named = NAMED_NUMBERS[bestText];
      if (kw !== undefined) {
        tok.t = T.Kw;
        tok.text = kw;
      } else if (named !== undefined) {
        tok.t = T.Num;
        tok.value = named;
      }
    } else if (kind === T.Num) {
      tok.t = T.Num;
      tok.value = parseNumber(bestText);
    } else if (kind === T.Id) {
      tok.text = bestText.slice(1);
    } else if (kind === T.End) {
      throw new FilterError(`bogus ethernet address ${bestText}`);
    } else if (kind === T.Op) {
      tok.t = T.Op;
      tok.text = bestText === '==' ? '=' : bestText === '&&' ? 'and' : bestText === '||' ? 'or' : bestText === '!' ? 'not' : bestText;
      if (tok.text === 'and' || tok.text === 'or' || tok.text === 'not') tok.t = T.Kw;
    } else {
      tok.t = kind;
    }
    out.push(tok);
    pos += bestLen;
  }
  out.push({ t: T.End, text: '', value: 0, src: 'end of expression', pos });
  return out;
}

/** stoulen(): decimal, 0x hex or 0-prefixed octal, at most 32 bits, with libpcap's messages. */
export function parseNumber(s: string): number {
  let n = 0;
  if (/^0[xX]/.test(s)) {
    for (const c of s.slice(2)) {
      if (n > 0xfffffff) throw new FilterError(`hexadecimal number ${s} overflows 32 bits`);
      n = n * 16 + parseInt(c, 16);
    }
  } else if (s.length > 1 && s[0] === '0') {
    for (const c of s.slice(1)) {
      if (c > '7') throw new FilterError(`number ${s} contains non-octal digit`);
      if (n > 0o3777777777) throw new FilterError(`octal number ${s} overflows 32 bits`);
      n = n * 8 + (c.charCodeAt(0) - 48);
    }
  } else {
    for (const c of s) {
      n = n * 10 + (c.charCodeAt(0) - 48);
      if (n > 0xffffffff) throw new FilterError(`decimal number ${s} overflows 32 bits`);
    }
  }
  return n;
}
