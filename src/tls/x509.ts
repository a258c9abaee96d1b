/**
 * What tshark 4.0 adds to frame.protocols for an X.509 certificate it dissects inside TLS: its
 * BER dissectors hand values named by registered object identifiers to the protocol registering
 * them, and each such hand-over lists that protocol once. In tree order: the attributes of the
 * issuer and subject names (x509sat), public-key and signature algorithm parameters (pkcs-1,
 * pkix1explicit), each extension (x509ce, pkix1implicit, ...) followed by what its value hands on
 * (certificate policy qualifiers: pkix1explicit, pkix1implicit; names in general names: x509sat). Read only through a ByteView; a malformed
 * certificate yields the protocols met before the damage, as tshark stops there too.
 */
import { ByteView, OutOfBounds } from '../core/view.js';

/** Extensions by object identifier: the protocol that registers each (tshark's BER OID table). */
const EXTENSION_PROTOCOLS: Record<string, string> = {
  '1.3.6.1.5.5.7.1.1': 'pkix1implicit', // authorityInfoAccess
  '1.3.6.1.5.5.7.1.11': 'pkix1implicit', // subjectInfoAccess
  '1.3.6.1.5.5.7.1.12': 'logotypecertextn',
  '1.3.6.1.5.5.7.48.1.5': 'ocsp', // id-pkix-ocsp-nocheck
  '1.3.6.1.4.1.11129.2.4.2': 'tls', // signed certificate timestamps (RFC 6962)
};

/** Algorithm parameters by algorithm identifier. */
const ALGORITHM_PROTOCOLS: Record<string, string> = {
  '1.2.840.10045.2.1': 'pkcs-1', // id-ecPublicKey: ECParameters
  '1.2.840.113549.1.1.10': 'pkcs-1', // RSASSA-PSS parameters
  '1.2.840.10040.4.1': 'x509af', // DSA parameters
};

/** Certificate policy qualifiers. */
const QUALIFIER_PROTOCOLS: Record<string, string> = {
  '1.3.6.1.5.5.7.2.1': 'pkix1explicit', // id-qt-cps
  '1.3.6.1.5.5.7.2.2': 'pkix1implicit', // id-qt-unotice
};

const CERTIFICATE_POLICIES = '2.5.29.32';
/** Attribute types outside id-at that X509SAT registers too. */
const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
const DOMAIN_COMPONENT = '0.9.2342.19200300.100.1.25';
const USER_ID = '0.9.2342.19200300.100.1.1';
/** EV certificates' jurisdiction locality, state and country (1.3.6.1.4.1.311.60.2.1.1-3). */
const EV_JURISDICTION = '1.3.6.1.4.1.311.60.2.1.';

/** A DER element: tag, start of its contents, end of its contents. */
interface Der {
  tag: number;
  start: number;
  end: number;
}

function der(v: ByteView, o: number, limit: number): Der {
  const tag = v.u8(o);
  let len = v.u8(o + 1);
  let start = o + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new OutOfBounds(v.start + o, 0);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + v.u8(o + 2 + i);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new OutOfBounds(v.start + o, len);
  return { tag, start, end };
}

/** The children of a constructed element. */
function children(v: ByteView, e: Der): Der[] {
  const out: Der[] = [];
  for (let o = e.start; o < e.end; ) {
    const c = der(v, o, e.end);
    out.push(c);
    o = c.end;
  }
  return out;
}

const OID_TAG = 0x06;

/** Dotted text of an OBJECT IDENTIFIER's contents. */
function oidText(v: ByteView, e: Der): string {
  if (e.tag !== OID_TAG || e.end <= e.start) return '';
  const first = v.u8(e.start);
  let s = first < 80 ? Math.floor(first / 40) + '.' + (first % 40) : '2.' + (first - 80);
  let n = 0;
  for (let o = e.start + 1; o < e.end; o++) {
    const b = v.u8(o);
    n = n * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      s += '.' + n;
      n = 0;
    }
  }
  return s;
}

/** Appends the protocols tshark lists for a DER Name (a certificate authority of a CertificateRequest). */
export function distinguishedNameProtocols(v: ByteView, out: string[]): void {
  try {
    nameProtocols(v, der(v, 0, v.length), out);
  } catch (e) {
    if (!(e instanceof OutOfBounds)) throw e;
  }
}

function nameProtocols(v: ByteView, name: Der, out: string[]): void {
  for (const rdn of children(v, name)) {
    for (const atv of children(v, rdn)) {
      const parts = children(v, atv);
      const oid = parts.length ? oidText(v, parts[0]) : '';
      // Directory attributes (id-at, 2.5.4.*) and the other attribute types X509SAT registers.
      if (oid.startsWith('2.5.4.') || oid.startsWith(EV_JURISDICTION) || oid === EMAIL_ADDRESS || oid === DOMAIN_COMPONENT || oid === USER_ID) out.push('x509sat');
    }
  }
}

function algorithmProtocols(v: ByteView, alg: Der, out: string[]): void {
  const parts = children(v, alg);
  if (parts.length < 2) return;
  const p = ALGORITHM_PROTOCOLS[oidText(v, parts[0])];
  if (p !== undefined) out.push(p);
}

function policyProtocols(v: ByteView, value: Der, out: string[]): void {
  const policies = der(v, value.start, value.end);
  for (const info of children(v, policies)) {
    const parts = children(v, info);
    if (parts.length < 2) continue;
    for (const q of children(v, parts[1])) {
      const qp = children(v, q);
      const p = qp.length > 1 ? QUALIFIER_PROTOCOLS[oidText(v, qp[0])] : undefined;
      if (p !== undefined) out.push(p);
    }
  }
}

const DIRECTORY_NAME = 0xa4;
const CONSTRUCTED = 0x20;

/** Names inside a value (GeneralName's directoryName, [4]): their attributes, in order. */
function directoryNames(v: ByteView, e: Der, out: string[]): void {
  if ((e.tag & CONSTRUCTED) === 0) return;
  for (const c of children(v, e)) {
    if (c.tag === DIRECTORY_NAME) {
      const name = children(v, c);
      if (name.length) nameProtocols(v, name[0], out);
    } else directoryNames(v, c, out);
  }
}

function extensionProtocols(v: ByteView, exts: Der, out: string[]): void {
  for (const ext of children(v, exts)) {
    const parts = children(v, ext);
    if (parts.length < 2) continue;
    const oid = oidText(v, parts[0]);
    const value = parts[parts.length - 1];
    if (oid.startsWith('2.5.29.')) {
      out.push('x509ce');
      directoryNames(v, der(v, value.start, value.end), out);
    }
    else if (oid.startsWith('2.16.840.1.113730.1.')) out.push('ns_cert_exts');
    else {
      const p = EXTENSION_PROTOCOLS[oid];
      if (p !== undefined) out.push(p);
    }
    if (oid === CERTIFICATE_POLICIES) policyProtocols(v, value, out);
  }
}

/** Appends to `out` the protocols tshark lists for the DER certificate in v. */
export function certificateProtocols(v: ByteView, out: string[]): void {
  try {
    const cert = der(v, 0, v.length);
    const parts = children(v, cert);
    if (parts.length === 0) return;
    const tbs = children(v, parts[0]);
    let k = tbs.length && tbs[0].tag === 0xa0 ? 1 : 0;
    k++; // serialNumber
    if (tbs[k] !== undefined) algorithmProtocols(v, tbs[k], out);
    if (tbs[k + 1] !== undefined) nameProtocols(v, tbs[k + 1], out);
    if (tbs[k + 3] !== undefined) nameProtocols(v, tbs[k + 3], out);
    const spki = tbs[k + 4];
    if (spki !== undefined) {
      const sp = children(v, spki);
      if (sp.length) algorithmProtocols(v, sp[0], out);
    }
    for (let i = k + 5; i < tbs.length; i++) {
      if (tbs[i].tag === 0xa3) extensionProtocols(v, der(v, tbs[i].start, tbs[i].end), out);
    }
    if (parts[1] !== undefined) algorithmProtocols(v, parts[1], out);
  } catch (e) {
    if (!(e instanceof OutOfBounds)) throw e;
  }
}

const RESPONDER_BY_NAME = 0xa1;
const OCSP_CERTS = 0xa0;

/**
 * Appends the protocols tshark lists for a DER OCSPResponse (a stapled CertificateStatus): ocsp,
 * the responder's name, the signature algorithm's parameters, then each certificate it carries.
 */
export function ocspResponseProtocols(v: ByteView, out: string[]): void {
  out.push('ocsp');
  try {
    const resp = children(v, der(v, 0, v.length));
    if (resp.length < 2) return;
    const responseBytes = children(v, children(v, resp[1])[0]);
    if (responseBytes.length < 2) return;
    const octets = responseBytes[1];
    const basic = children(v, der(v, octets.start, octets.end));
    if (basic.length === 0) return;
    for (const f of children(v, basic[0])) {
      if (f.tag === RESPONDER_BY_NAME) {
        const name = children(v, f);
        if (name.length) nameProtocols(v, name[0], out);
      }
    }
    if (basic[1] !== undefined) algorithmProtocols(v, basic[1], out);
    for (let i = 3; i < basic.length; i++) {
      if (basic[i].tag !== OCSP_CERTS) continue;
      for (const c of children(v, children(v, basic[i])[0] ?? basic[i])) certificateProtocols(v.slice(headerStart(v, c), c.end - headerStart(v, c)), out);
    }
  } catch (e) {
    if (!(e instanceof OutOfBounds)) throw e;
  }
}

/** Offset of element e's tag (its header precedes its contents). */
function headerStart(v: ByteView, e: Der): number {
  const len = e.end - e.start;
  return e.start - (len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5);
}
