/**
 * DNS numbers and the names tcpdump 4.99.3 prints for them (print-domain.c's tables, checked
 * against the Debian binary: every type and class number was run through it).
 */

/** Resource record types this dissector reads the data of (104 is tcpdump's UNSPECA and Wireshark's NID). */
export const RR = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12, HINFO: 13,
  MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21, NSAP_PTR: 23, SIG: 24, KEY: 25, PX: 26,
  GPOS: 27, AAAA: 28, LOC: 29, NXT: 30, SRV: 33, NAPTR: 35, KX: 36, CERT: 37, A6: 38, DNAME: 39, OPT: 41, APL: 42,
  DS: 43, SSHFP: 44, IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, CDS: 59,
  CDNSKEY: 60, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, SPF: 99, UNSPECA: 104, NID: 104, L32: 105, L64: 106, LP: 107,
  EUI48: 108, EUI64: 109, TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252, ANY: 255, URI: 256, CAA: 257, DLV: 32769,
  WINS: 65281,
} as const;

export const CLASS_IN = 1;
/** mDNS: the top bit of a question's class asks for a unicast reply; of a record's, flushes caches (RFC 6762). */
export const MDNS_CLASS_BIT = 0x8000;

/** tcpdump's ns_type2str, exactly the entries 4.99.3 has (no NSEC3, SVCB, HTTPS, CAA...). */
const TYPE_NAMES = new Map<number, string>([
  [1, 'A'], [2, 'NS'], [3, 'MD'], [4, 'MF'], [5, 'CNAME'], [6, 'SOA'], [7, 'MB'], [8, 'MG'], [9, 'MR'],
  [10, 'NULL'], [11, 'WKS'], [12, 'PTR'], [13, 'HINFO'], [14, 'MINFO'], [15, 'MX'], [16, 'TXT'], [17, 'RP'],
  [18, 'AFSDB'], [19, 'X25'], [20, 'ISDN'], [21, 'RT'], [22, 'NSAP'], [23, 'NSAP_PTR'], [24, 'SIG'], [25, 'KEY'],
  [26, 'PX'], [27, 'GPOS'], [28, 'AAAA'], [29, 'LOC'], [30, 'NXT'], [31, 'EID'], [32, 'NIMLOC'], [33, 'SRV'],
  [34, 'ATMA'], [35, 'NAPTR'], [36, 'KX'], [37, 'CERT'], [38, 'A6'], [39, 'DNAME'], [40, 'SINK'], [41, 'OPT'],
  [42, 'APL'], [43, 'DS'], [44, 'SSHFP'], [45, 'IPSECKEY'], [46, 'RRSIG'], [47, 'NSEC'], [48, 'DNSKEY'],
  [99, 'SPF'], [100, 'UINFO'], [101, 'UID'], [102, 'GID'], [103, 'UNSPEC'], [104, 'UNSPECA'], [249, 'TKEY'],
  [250, 'TSIG'], [251, 'IXFR'], [252, 'AXFR'], [253, 'MAILB'], [254, 'MAILA'], [255, 'ANY'], [256, 'URI'],
]);

/** The type as tcpdump prints it ("A", "Type65"). */
export function typeText(t: number): string {
  return TYPE_NAMES.get(t) ?? 'Type' + t;
}

/** The class as tcpdump prints it when it is not IN. */
export function classText(c: number): string {
  switch (c) {
    case 1: return 'IN';
    case 3: return 'CHAOS';
    case 4: return 'HS';
    case 255: return 'ANY';
    default: return '(Class ' + c + ')';
  }
}

/** Opcodes after the id (" inv_q", " update"...); the empty string for a standard query. */
export const OPCODE_TEXT: readonly string[] = [
  '', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7',
  ' op8', ' updateA', ' updateD', ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef',
];

/** Response codes, extended ones (with the OPT record's upper bits) included; 17 and 21 lack the space in tcpdump too. */
const RCODE_TEXT: readonly string[] = [
  '', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet',
  ' NXRRSet', ' NotAuth', ' NotZone', ' Resp11', ' Resp12', ' Resp13', ' Resp14', ' NoChange',
  ' BadVers', 'Resp17', ' Resp18', ' Resp19', ' Resp20', 'Resp21', ' Resp22', ' BadCookie',
];

export function rcodeText(rcode: number): string {
  return rcode < RCODE_TEXT.length ? RCODE_TEXT[rcode] : ' Resp' + (rcode & 0xfff);
}

/** EDNS option codes (RFC 6891 registry). */
export const EDNS = {
  LLQ: 1, UL: 2, NSID: 3, DAU: 5, DHU: 6, N3U: 7, ECS: 8, EXPIRE: 9, COOKIE: 10, KEEPALIVE: 11, PADDING: 12,
  CHAIN: 13, KEYTAG: 14, CLIENTTAG: 16, SERVERTAG: 17,
} as const;

const EDNS_NAMES = new Map<number, string>([
  [1, 'LLQ'], [2, 'UL'], [3, 'NSID'], [5, 'DAU'], [6, 'DHU'], [7, 'N3U'], [8, 'ECS'], [9, 'EXPIRE'], [10, 'COOKIE'],
  [11, 'KEEPALIVE'], [12, 'PADDING'], [13, 'CHAIN'], [14, 'KEY-TAG'], [16, 'CLIENT-TAG'], [17, 'SERVER-TAG'],
]);

export function ednsOptionText(code: number): string {
  return EDNS_NAMES.get(code) ?? 'Opt' + code;
}

/** DNSSEC algorithm names in a DAU option; tcpdump's table has "DS" for DSA. */
const DNSSEC_ALGORITHMS = new Map<number, string>([
  [0, 'DELETE'], [1, 'RSAMD5'], [2, 'DH'], [3, 'DS'], [5, 'RSASHA1'], [6, 'DSA-NSEC3-SHA1'], [7, 'RSASHA1-NSEC3-SHA1'],
  [8, 'RSASHA256'], [10, 'RSASHA512'], [12, 'ECC-GOST'], [13, 'ECDSAP256SHA256'], [14, 'ECDSAP384SHA384'],
  [15, 'ED25519'], [16, 'ED448'], [252, 'INDIRECT'], [253, 'PRIVATEDNS'], [254, 'PRIVATEOID'],
]);
/** DS digest types in a DHU option. */
const DS_DIGESTS = new Map<number, string>([[1, 'SHA-1'], [2, 'SHA-256'], [3, 'GOST_R_34.11-94'], [4, 'SHA-384']]);
/** NSEC3 hash algorithms in an N3U option. */
const NSEC3_HASHES = new Map<number, string>([[1, 'SHA-1']]);

/** The algorithm list of a DAU, DHU or N3U option as tcpdump names each entry. */
export function algorithmText(option: number, alg: number): string {
  const table = option === EDNS.DAU ? DNSSEC_ALGORITHMS : option === EDNS.DHU ? DS_DIGESTS : NSEC3_HASHES;
  return table.get(alg) ?? 'Alg_' + alg;
}
