/**
 * TLS hello fingerprints: JA3 and JA3S (Salesforce; the MD5 of a decimal summary, as tshark's
 * tls.handshake.ja3/ja3s and their *_full strings) and JA4 (FoxIO's JA4 technical details: the
 * client hello as t{version}{d|i}{ciphers}{extensions}{alpn}_{sorted ciphers}_{sorted extensions
 * and signature algorithms}, with its raw (_r) and original-order (_o, _ro) forms).
 * GREASE values (RFC 8701) are left out of every list, as both specifications say.
 */
import { createHash } from 'node:crypto';
import { hex4 } from '../../dissectors/udp.js';
import { hex2 } from '../output/format.js';

/** RFC 8701 GREASE: 0x?a?a with both bytes equal. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** What the fingerprints read from a ClientHello or ServerHello. */
export interface HelloSummary {
  /** legacy_version of the hello. */
  version: number;
  /** Cipher suites offered (ClientHello) or the one selected (ServerHello). */
  ciphers: readonly number[];
  /** Extension types in the order sent. */
  extensions: readonly number[];
  /** supported_groups (elliptic curves), in order. */
  groups: readonly number[];
  /** ec_point_formats, in order. */
  pointFormats: readonly number[];
  /** signature_algorithms, in order. */
  sigAlgs: readonly number[];
  /** supported_versions. */
  supportedVersions: readonly number[];
  /** Whether a server_name extension was sent. */
  hasSni: boolean;
  /** ALPN protocol names (raw bytes), in order. */
  alpn: readonly Uint8Array[];
}

function decimals(vs: readonly number[]): string {
  let s = '';
  for (const v of vs) {
    if (isGrease(v)) continue;
    s += (s.length ? '-' : '') + v;
  }
  return s;
}

export function md5Hex(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/** JA3's string: version,ciphers,extensions,groups,point formats (tshark's tls.handshake.ja3_full). */
export function ja3String(h: HelloSummary): string {
  return h.version + ',' + decimals(h.ciphers) + ',' + decimals(h.extensions) + ',' + decimals(h.groups) + ',' + decimals(h.pointFormats);
}

/** JA3S's string: version,cipher,extensions (tshark's tls.handshake.ja3s_full). */
export function ja3sString(h: HelloSummary): string {
  return h.version + ',' + decimals(h.ciphers) + ',' + decimals(h.extensions);
}


function sha12(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

/** JA4's two-character version. */
function ja4Version(h: HelloSummary): string {
  let v = -1;
  for (const sv of h.supportedVersions) if (!isGrease(sv) && sv > v) v = sv;
  if (v < 0) v = h.version;
  switch (v) {
    case 0x0304: return '13';
    case 0x0303: return '12';
    case 0x0302: return '11';
    case 0x0301: return '10';
    case 0x0300: return 's3';
    case 0x0002: return 's2';
    case 0xfeff: return 'd1';
    case 0xfefd: return 'd2';
    case 0xfefc: return 'd3';
    default: return '00';
  }
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** First and last character of the first ALPN value; hex digits when either is not alphanumeric. */
function ja4Alpn(h: HelloSummary): string {
  const a = h.alpn.length ? h.alpn[0] : undefined;
  if (a === undefined || a.length === 0) return '00';
  const first = a[0];
  const last = a[a.length - 1];
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first, last);
  return hex2(first)[0] + hex2(last)[1];
}

function twoDigits(n: number): string {
  return n > 99 ? '99' : n < 10 ? '0' + n : String(n);
}

export interface Ja4 {
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  ja4_ro: string;
}

/** JA4 of a ClientHello over TCP, with its raw and original-order forms. */
export function ja4(h: HelloSummary): Ja4 {
  const ciphers = h.ciphers.filter((c) => !isGrease(c));
  const exts = h.extensions.filter((e) => !isGrease(e));
  const a = 't' + ja4Version(h) + (h.hasSni ? 'd' : 'i') + twoDigits(ciphers.length) + twoDigits(exts.length) + ja4Alpn(h);
  const cipherHex = ciphers.map(hex4);
  const sortedCiphers = [...cipherHex].sort().join(',');
  const origCiphers = cipherHex.join(',');
  const sigs = h.sigAlgs.filter((s) => !isGrease(s)).map(hex4).join(',');
  const sortedExts = exts.filter((e) => e !== 0x0000 && e !== 0x0010).map(hex4).sort().join(',');
  const origExts = exts.map(hex4).join(',');
  const withSigs = (list: string): string => (sigs.length ? list + '_' + sigs : list);
  const hashOr0 = (list: string, empty: boolean): string => (empty ? '000000000000' : sha12(list));
  const cSorted = withSigs(sortedExts);
  const cOrig = withSigs(origExts);
  return {
    ja4: a + '_' + hashOr0(sortedCiphers, ciphers.length === 0) + '_' + hashOr0(cSorted, sortedExts.length === 0),
    ja4_r: a + '_' + sortedCiphers + '_' + cSorted,
    ja4_o: a + '_' + hashOr0(origCiphers, ciphers.length === 0) + '_' + hashOr0(cOrig, exts.length === 0),
    ja4_ro: a + '_' + origCiphers + '_' + cOrig,
  };
}
