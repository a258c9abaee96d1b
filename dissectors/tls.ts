/**
 * TLS (RFC 5246, RFC 8446), SSL 3.0 and SSL 2.0 records, as tshark 4.0 dissects them (packet-tls.c,
 * packet-tls-utils.c); tshark fields tls.record.*, tls.handshake.*.
 *
 * One layer is one call of tshark's TLS dissector on a TCP payload or a reassembled PDU: the
 * records it holds, in order, plus the start of a record the stream must complete later (tshark
 * shows one "Transport Layer Security" tree per call, so frame.protocols names "tls" per layer).
 * Records never come alone off the wire: the stream parser (src/tls/stream.ts) frames them and
 * decodes each call with the conversation's TlsSession, the state tshark keeps per conversation
 * (negotiated version, ChangeCipherSpec frames, handshake messages continued across records).
 * Handshake messages are read eagerly (hellos and certificates are rare); application data only
 * by its record header. Not bound to a port: TCP payloads reach it through the stream parser.
 */
import { bind, Layer, Table, type Dissector, type FieldValue, type Packet } from '../src/core/dissector.js';
import { ByteView, OutOfBounds } from '../src/core/view.js';
import type { TextOut } from '../src/output/text.js';
import { hex4 } from './udp.js';
import { certificateProtocols, distinguishedNameProtocols, ocspResponseProtocols } from '../src/tls/x509.js';
import { isGrease, ja3sString, ja3String, ja4, md5Hex, type HelloSummary, type Ja4 } from '../src/tls/fingerprint.js';

/** Record header: type, version, length (RFC 5246 6.2.1). */
export const TLS_RECORD = { TYPE: 0, VERSION: 1, LENGTH: 3, HEADER_LEN: 5 } as const;

export const ContentType = { ChangeCipherSpec: 20, Alert: 21, Handshake: 22, ApplicationData: 23, Heartbeat: 24 } as const;

export const HandshakeType = {
  HelloRequest: 0, ClientHello: 1, ServerHello: 2, NewSessionTicket: 4, EndOfEarlyData: 5, HelloRetryRequest: 6,
  EncryptedExtensions: 8, Certificate: 11, ServerKeyExchange: 12, CertificateRequest: 13, ServerHelloDone: 14,
  CertificateVerify: 15, ClientKeyExchange: 16, Finished: 20, CertificateStatus: 22, KeyUpdate: 24,
} as const;

/** SSL 2.0 message types (draft-hickman-netscape-ssl-00). */
export const Ssl2Type = { ClientHello: 1, ClientMasterKey: 2, ServerHello: 4 } as const;

export const Extension = {
  ServerName: 0, SupportedGroups: 10, EcPointFormats: 11, SignatureAlgorithms: 13, Alpn: 16,
  PreSharedKey: 41, EarlyData: 42, SupportedVersions: 43, PskKeyExchangeModes: 45, KeyShare: 51,
} as const;

export const TLS13 = 0x0304;
export const SSL2 = 0x0002;
/** China's GM/T 0024 TLS variant, which tshark reads as TLS. */
export const GMTLS = 0x0101;

/** Handshake types tshark 4.0 names (ssl_31_handshake_type): any other first byte means encrypted. */
const KNOWN_HANDSHAKE_TYPES = new Set([0, 1, 2, 3, 4, 5, 6, 8, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 67, 203, 254]);

/** Handshake messages tshark assumes to be under 64 KiB: a longer claim marks the record encrypted. */
const MAX_HANDSHAKE_LEN = 0x10000;
/** Longest handshake message held across records (memory bound; tshark has none). */
const MAX_CARRIED_LEN = 1 << 20;
/** Records shorter than this cannot hold encrypted data (MAC or AEAD overhead): read as plaintext. */
const MIN_ENCRYPTED_LEN = 16;
/** CertificateStatus status_type of an OCSP response (RFC 6066 8). */
const OCSP_STATUS = 1;
/** The HelloRetryRequest's fixed ServerHello random (RFC 8446 4.1.3). */
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

/**
 * What tshark remembers of one TLS conversation while reading it in order; the stream parser
 * keeps one per TCP connection and hands it to every decode.
 */
export class TlsSession {
  /** Negotiated version (0: not known yet). */
  version = 0;
  /** Frame of each direction's last ChangeCipherSpec (0: none); records of later frames are encrypted. */
  readonly ccsFrame: [number, number] = [0, 0];
  /** Handshake bytes of a message continued into the next record, per direction. */
  readonly carry: [Uint8Array | null, Uint8Array | null] = [null, null];
}

export interface CertificateNames {
  subjectCN: string | null;
  issuerCN: string | null;
}

export interface Hello extends HelloSummary {
  client: boolean;
  ciphers: number[];
  extensions: number[];
  groups: number[];
  pointFormats: number[];
  sigAlgs: number[];
  supportedVersions: number[];
  alpn: Uint8Array[];
  /** Hex of the 32-byte random (SSLv2: the challenge). */
  random: string;
  /** Hex of the session id. */
  sessionId: string;
  compressions: number[];
  /** server_name host names. */
  serverNames: string[];
  /** ALPN protocol names as text (tshark's extensions_alpn_str). */
  alpnStr: string[];
  keyShareGroups: number[];
  pskModes: number[];
  /** SSL 2.0 hello: its 3-byte cipher specs instead of cipher suites. */
  ssl2: boolean;
  /** A ServerHello that is a HelloRetryRequest. */
  helloRetry: boolean;
  /** The message ended inside a field (tshark: malformed); such a hello gets no fingerprint. */
  malformed: boolean;
  /** JA3 string and MD5 (ClientHello), JA3S string and MD5 (ServerHello); '' when malformed or SSLv2. */
  ja3Full: string;
  ja3: string;
  /** JA4 of a ClientHello. */
  ja4: Ja4 | null;
}

export interface HandshakeMessage {
  type: number;
  length: number;
  hello: Hello | null;
  certificates: CertificateNames[] | null;
  /** What tshark adds to frame.protocols for the message's certificates (x509sat, x509ce, ...). */
  certificateProtocols: string[] | null;
}

export interface TlsRecord {
  /** Content type (SSLv2: 0). */
  contentType: number;
  /** Record version (SSLv2: 0x0002). */
  version: number;
  length: number;
  ssl2: boolean;
  /** TLS 1.3 protected record: tshark shows its type as tls.record.opaque_type. */
  opaque: boolean;
  /** Contents unreadable: encrypted handshake/alert, application data. */
  encrypted: boolean;
  /** Handshake messages completed in this record (a message continued from earlier records included). */
  handshakes: HandshakeMessage[];
  /** Alert level and description, when readable. */
  alertLevel: number;
  alertDescription: number;
}

export class TlsLayer extends Layer {
  /** Input: direction of the bytes (0: the connection's first sender). */
  dir: 0 | 1 = 0;
  /** Input: frame number of the segment completing this call (ChangeCipherSpec rules). */
  frameNo = 0;
  /** Input: the conversation's state; decode updates it. A layer decoded alone gets its own. */
  session: TlsSession | null = null;
  /** The records, in order. */
  records: TlsRecord[] = [];
  /** Offset of a record started but not complete in these bytes (-1: none): the stream completes it later. */
  partialAt = -1;
  /** Bytes the partial record needs in all (header included), or -1 when its header is cut (tshark: one more segment). */
  partialNeed = -1;
  /** Bytes that are not TLS records (tshark's "Ignored Unknown Record" / "Continuation Data"). */
  unknown = false;
  /** This layer's part of frame.protocols when certificates add to it (src/output/frame-fields.ts); else the dissector's. */
  protocols: string | undefined = undefined;

  /** Every handshake message of the layer, in order. */
  *handshakes(): IterableIterator<HandshakeMessage> {
    for (const r of this.records) for (const h of r.handshakes) yield h;
  }
}

/** A record content type tshark 4.0 takes (ssl_is_valid_content_type): 20-24, and 25 (RFC 9146 connection id). */
export function validContentType(t: number): boolean {
  return t >= 20 && t <= 25;
}

/**
 * tshark's ssl_looks_like_sslv2: a two-byte SSLv2 header (high bit set) before an SSLv2 (or PCT)
 * message type 0-5.
 */
export function looksLikeSsl2Record(v: ByteView, o: number): boolean {
  return v.has(o, 3) && v.u8(o) >= 0x80 && v.u8(o + 2) <= 5;
}

/** tshark's ssl_looks_like_sslv3: a valid record type and a record version of SSL 3.0 to TLS 1.2 (or GM/T). */
export function looksLikeSsl3Record(v: ByteView, o: number): boolean {
  if (!v.has(o, 3) || !validContentType(v.u8(o))) return false;
  const version = v.u16(o + 1);
  return (version >= 0x0300 && version <= 0x0303) || version === GMTLS;
}

/** tshark's ssl_is_v2_client_hello: an SSLv2-compatible ClientHello met where records are expected. */
function isSsl2ClientHello(v: ByteView, o: number): boolean {
  return v.has(o, 3) && v.u8(o) === 0x80 && v.u8(o + 2) === Ssl2Type.ClientHello;
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function emptyHello(client: boolean): Hello {
  return {
    client, version: 0, random: '', sessionId: '', ciphers: [], compressions: [], extensions: [], groups: [],
    pointFormats: [], sigAlgs: [], supportedVersions: [], hasSni: false, alpn: [], serverNames: [], alpnStr: [],
    keyShareGroups: [], pskModes: [], ssl2: false, helloRetry: false, malformed: false, ja3Full: '', ja3: '', ja4: null,
  };
}

/** Reads one extension's body into h. */
function readExtension(h: Hello, type: number, v: ByteView): void {
  switch (type) {
    case Extension.ServerName: {
      h.hasSni = true;
      const end = Math.min(2 + v.u16(0), v.length);
      let o = 2;
      while (o + 3 <= end) {
        const n = v.u16(o + 1);
        if (v.u8(o) === 0) h.serverNames.push(latin1.decode(v.bytes(o + 3, n)));
        o += 3 + n;
      }
      return;
    }
    case Extension.Alpn: {
      const end = Math.min(2 + v.u16(0), v.length);
      let o = 2;
      while (o < end) {
        const n = v.u8(o);
        const name = v.bytes(o + 1, n);
        h.alpn.push(name);
        h.alpnStr.push(latin1.decode(name));
        o += 1 + n;
      }
      return;
    }
    case Extension.SupportedGroups:
      readU16List(h.groups, v, 2, v.u16(0));
      return;
    case Extension.SignatureAlgorithms:
      readU16List(h.sigAlgs, v, 2, v.u16(0));
      return;
    case Extension.EcPointFormats: {
      const n = v.u8(0);
      for (let i = 0; i < n; i++) h.pointFormats.push(v.u8(1 + i));
      return;
    }
    case Extension.SupportedVersions:
      if (h.client) readU16List(h.supportedVersions, v, 1, v.u8(0));
      else h.supportedVersions.push(v.u16(0));
      return;
    case Extension.PskKeyExchangeModes: {
      const n = v.u8(0);
      for (let i = 0; i < n; i++) h.pskModes.push(v.u8(1 + i));
      return;
    }
    case Extension.KeyShare:
      if (!h.client) {
        h.keyShareGroups.push(v.u16(0));
        return;
      }
      {
        const end = Math.min(2 + v.u16(0), v.length);
        let o = 2;
        while (o + 4 <= end) {
          h.keyShareGroups.push(v.u16(o));
          o += 4 + v.u16(o + 2);
        }
      }
      return;
  }
}

function readU16List(out: number[], v: ByteView, o: number, n: number): void {
  for (let i = 0; i + 1 < n; i += 2) out.push(v.u16(o + i));
}

/** A ClientHello or ServerHello body (after the 4-byte handshake header). */
function readHello(v: ByteView, client: boolean): Hello {
  const h = emptyHello(client);
  try {
    h.version = v.u16(0);
    h.random = hexOf(v.bytes(2, 32));
    let o = 34;
    if (client || (h.version >> 8) !== 0x7f || (h.version & 0xff) >= 22) {
      const sidLen = v.u8(34);
      h.sessionId = hexOf(v.bytes(35, sidLen));
      o = 35 + sidLen;
    }
    if (client) {
      const n = v.u16(o);
      for (let i = 0; i + 1 < n; i += 2) h.ciphers.push(v.u16(o + 2 + i));
      o += 2 + n;
      const c = v.u8(o);
      for (let i = 0; i < c; i++) h.compressions.push(v.u8(o + 1 + i));
      o += 1 + c;
    } else if (o === 34) {
      // TLS 1.3 drafts before -22: no session id or compression method.
      h.ciphers.push(v.u16(o));
      o += 2;
    } else {
      h.ciphers.push(v.u16(o));
      h.compressions.push(v.u8(o + 2));
      o += 3;
      h.helloRetry = h.random === HRR_RANDOM;
    }
    if (o + 2 <= v.length) {
      const end = Math.min(o + 2 + v.u16(o), v.length);
      o += 2;
      while (o + 4 <= end) {
        const type = v.u16(o);
        const len = v.u16(o + 2);
        h.extensions.push(type);
        // An extension body shorter than its fields (a server's empty server_name) is read as far as it goes.
        try {
          readExtension(h, type, v.slice(o + 4, Math.min(len, end - o - 4)));
        } catch (e) {
          if (!(e instanceof OutOfBounds)) throw e;
        }
        if (o + 4 + len > end) h.malformed = true;
        o += 4 + len;
      }
    }
  } catch (e) {
    if (!(e instanceof OutOfBounds)) throw e;
    h.malformed = true;
  }
  // tshark adds no fingerprint to a hello it could not read to the end.
  if (h.malformed) return h;
  h.ja3Full = client ? ja3String(h) : ja3sString(h);
  h.ja3 = md5Hex(h.ja3Full);
  if (client) h.ja4 = ja4(h);
  return h;
}

/** An SSL 2.0 CLIENT-HELLO body (after the message type). */
function readSsl2ClientHello(v: ByteView): Hello {
  const h = emptyHello(true);
  h.ssl2 = true;
  try {
    h.version = v.u16(0);
    const specLen = v.u16(2);
    const sidLen = v.u16(4);
    const chalLen = v.u16(6);
    for (let i = 0; i + 2 < specLen; i += 3) {
      const spec = (v.u8(8 + i) << 16) | v.u16(9 + i);
      // TLS cipher suites travel in a v2 hello as 0x00XXXX specs.
      if (spec <= 0xffff) h.ciphers.push(spec);
    }
    h.sessionId = hexOf(v.bytes(8 + specLen, sidLen));
    h.random = hexOf(v.bytes(8 + specLen + sidLen, chalLen));
  } catch (e) {
    if (!(e instanceof OutOfBounds)) throw e;
    h.malformed = true;
  }
  return h;
}

/** Reads a DER header at o: [tag, header length, content length], or null when it does not fit. */
function der(v: ByteView, o: number): [number, number, number] | null {
  if (!v.has(o, 2)) return null;
  const tag = v.u8(o);
  let len = v.u8(o + 1);
  let hl = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || !v.has(o + 2, n)) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + v.u8(o + 2 + i);
    hl += n;
  }
  if (!v.has(o + hl, len)) return null;
  return [tag, hl, len];
}

const OID_CN = [0x55, 0x04, 0x03];

/** The commonName of an X.501 Name (the last one, as in a subject's most specific RDN). */
function commonName(v: ByteView, o: number, len: number): string | null {
  let cn: string | null = null;
  const end = o + len;
  let p = o;
  while (p < end) {
    const set = der(v, p);
    if (set === null) return cn;
    let q = p + set[1];
    const setEnd = q + set[2];
    while (q < setEnd) {
      const atv = der(v, q);
      if (atv === null) break;
      const oid = der(v, q + atv[1]);
      if (oid !== null && oid[0] === 0x06 && oid[2] === 3) {
        const oo = q + atv[1] + oid[1];
        if (v.u8(oo) === OID_CN[0] && v.u8(oo + 1) === OID_CN[1] && v.u8(oo + 2) === OID_CN[2]) {
          const vo = oo + 3;
          const val = der(v, vo);
          if (val !== null) {
            const bytes = v.bytes(vo + val[1], val[2]);
            cn = val[0] === 0x0c ? utf8.decode(bytes) : latin1.decode(bytes);
          }
        }
      }
      q += atv[1] + atv[2];
    }
    p = setEnd;
  }
  return cn;
}

/** Subject and issuer commonName of a DER certificate. */
export function certificateNames(v: ByteView): CertificateNames {
  const names: CertificateNames = { subjectCN: null, issuerCN: null };
  const cert = der(v, 0);
  if (cert === null) return names;
  const tbs = der(v, cert[1]);
  if (tbs === null) return names;
  let o = cert[1] + tbs[1];
  // Fields of TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject.
  const fields: Array<[number, number, number]> = [];
  const end = cert[1] + tbs[1] + tbs[2];
  while (o < end && fields.length < 6) {
    const f = der(v, o);
    if (f === null) break;
    fields.push([o, f[1], f[2]]);
    o += f[1] + f[2];
  }
  const first = fields.length && v.u8(fields[0][0]) === 0xa0 ? 1 : 0;
  const issuer = fields[first + 2];
  const subject = fields[first + 4];
  if (issuer !== undefined) names.issuerCN = commonName(v, issuer[0] + issuer[1], issuer[2]);
  if (subject !== undefined) names.subjectCN = commonName(v, subject[0] + subject[1], subject[2]);
  return names;
}

/** The distinguished names a CertificateRequest (TLS 1.2 and older) lists, for frame.protocols. */
function readCertificateAuthorities(v: ByteView, tls12: boolean, protocols: string[]): void {
  let o = 1 + v.u8(0);
  if (tls12) o += 2 + v.u16(o);
  const end = Math.min(o + 2 + v.u16(o), v.length);
  o += 2;
  while (o + 2 <= end) {
    const n = v.u16(o);
    distinguishedNameProtocols(v.slice(o + 2, n), protocols);
    o += 2 + n;
  }
}

/** The certificates of a Certificate message; what tshark lists in frame.protocols for them goes to `protocols`. */
function readCertificates(v: ByteView, tls13: boolean, protocols: string[]): CertificateNames[] {
  const out: CertificateNames[] = [];
  let o = 0;
  // TLS 1.3 puts a certificate_request_context first, and extensions after each certificate.
  if (tls13) o = 1 + v.u8(0);
  const end = Math.min(o + 3 + v.u24(o), v.length);
  o += 3;
  while (o + 3 <= end) {
    const n = v.u24(o);
    const cert = v.slice(o + 3, n);
    out.push(certificateNames(cert));
    certificateProtocols(cert, protocols);
    o += 3 + n;
    if (tls13) o += 2 + v.u16(o);
  }
  return out;
}

function readHandshake(type: number, body: ByteView, s: TlsSession): HandshakeMessage {
  const m: HandshakeMessage = { type, length: body.length, hello: null, certificates: null, certificateProtocols: null };
  if (type === HandshakeType.ClientHello) {
    const h = readHello(body, true);
    m.hello = h;
    // A TLS 1.3 client sending early data: its next records are 1.3's opaque ones (tshark's has_early_data).
    if (s.version === 0 && h.extensions.includes(Extension.EarlyData) && h.supportedVersions.some(isTls13)) s.version = TLS13;
  }
  else if (type === HandshakeType.ServerHello) {
    const h = readHello(body, false);
    m.hello = h;
    const selected = h.supportedVersions.length ? h.supportedVersions[0] : h.version;
    if (!h.malformed) s.version = isTls13(selected) ? TLS13 : selected;
  } else if (type === HandshakeType.CertificateStatus && body.length > 4 && body.u8(0) === OCSP_STATUS) {
    const protocols: string[] = [];
    ocspResponseProtocols(body.slice(4, body.u24(1)), protocols);
    m.certificateProtocols = protocols;
  } else if (type === HandshakeType.CertificateRequest && s.version !== TLS13) {
    const protocols: string[] = [];
    try {
      readCertificateAuthorities(body, s.version === 0x0303, protocols);
    } catch (e) {
      if (!(e instanceof OutOfBounds)) throw e;
    }
    if (protocols.length) m.certificateProtocols = protocols;
  } else if (type === HandshakeType.Certificate) {
    const protocols: string[] = [];
    try {
      m.certificates = readCertificates(body, s.version === TLS13, protocols);
    } catch (e) {
      if (!(e instanceof OutOfBounds)) throw e;
    }
    if (protocols.length) m.certificateProtocols = protocols;
  }
  return m;
}

/** TLS 1.3 and its drafts (0x7fNN, Facebook's 0xfbNN), which make a TLS 1.3 session in tshark. */
function isTls13(v: number): boolean {
  return v === TLS13 || v >> 8 === 0x7f || v >> 8 === 0xfb;
}

/** Whether a handshake record that continues no message is encrypted (tshark's is_encrypted_handshake_message). */
function looksEncrypted(v: ByteView, o: number, len: number, s: TlsSession, dir: 0 | 1, frame: number): boolean {
  if (len < MIN_ENCRYPTED_LEN) return false;
  // An explicit nonce of zeros (GCM/CCM in TLS 1.2), or a record after this direction's ChangeCipherSpec.
  if (v.u32(o) === 0 && v.u8(o + 4) === 0) return true;
  if (s.ccsFrame[dir] !== 0 && frame > s.ccsFrame[dir]) return true;
  if (!KNOWN_HANDSHAKE_TYPES.has(v.u8(o))) return true;
  return v.u24(o + 1) >= MAX_HANDSHAKE_LEN;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The handshake messages of a record's fragment, continuing a message begun in earlier records. */
function readHandshakeRecord(r: TlsRecord, frag: ByteView, s: TlsSession, dir: 0 | 1, frame: number): void {
  const carried = s.carry[dir];
  if (carried === null && looksEncrypted(frag, 0, frag.length, s, dir, frame)) {
    r.encrypted = true;
    return;
  }
  const data = carried === null ? frag : ByteView.of(concat(carried, frag.bytes(0, frag.length)));
  s.carry[dir] = null;
  let o = 0;
  while (o < data.length) {
    if (o + 4 > data.length || o + 4 + data.u24(o + 1) > data.length) {
      // Continued in the next record (copied: the record's bytes may be reused), unless too long to hold.
      if (o + 4 > data.length || data.u24(o + 1) < MAX_CARRIED_LEN) s.carry[dir] = data.bytes(o, data.length - o).slice();
      return;
    }
    const len = data.u24(o + 1);
    r.handshakes.push(readHandshake(data.u8(o), data.slice(o + 4, len), s));
    o += 4 + len;
  }
}

/** SSL 2.0 record at o, or false when it is incomplete (partialAt/partialNeed set). */
function readSsl2Record(l: TlsLayer, v: ByteView, o: number, s: TlsSession): boolean {
  const b0 = v.u8(o);
  const h = (b0 & 0x80) !== 0 ? 2 : 3;
  if (!v.has(o, h)) {
    l.partialAt = o;
    return false;
  }
  const len = h === 2 ? ((b0 & 0x7f) << 8) | v.u8(o + 1) : ((b0 & 0x3f) << 8) | v.u8(o + 1);
  if (!v.has(o + h, len)) {
    l.partialAt = o;
    l.partialNeed = h + len;
    return false;
  }
  const r: TlsRecord = {
    contentType: 0, version: SSL2, length: len, ssl2: true, opaque: false, encrypted: true, handshakes: [], alertLevel: -1, alertDescription: -1,
  };
  const body = v.slice(o + h, len);
  if (len >= 1) {
    const type = body.u8(0);
    const m: HandshakeMessage = { type, length: len - 1, hello: null, certificates: null, certificateProtocols: null };
    if (type === Ssl2Type.ClientHello && len >= 9 && 9 + body.u16(3) + body.u16(5) + body.u16(7) <= len) {
      m.hello = readSsl2ClientHello(body.slice(1));
      if (m.hello.version === SSL2) s.version = SSL2;
      r.handshakes.push(m);
      r.encrypted = false;
    } else if (type === Ssl2Type.ServerHello && len >= 11 && 11 + body.u16(5) + body.u16(7) + body.u16(9) <= len) {
      const sh = emptyHello(false);
      sh.ssl2 = true;
      sh.version = body.u16(3);
      m.hello = sh;
      const cert = body.slice(11, body.u16(5));
      m.certificates = [certificateNames(cert)];
      const protocols: string[] = [];
      certificateProtocols(cert, protocols);
      if (protocols.length) m.certificateProtocols = protocols;
      s.version = SSL2;
      r.handshakes.push(m);
      r.encrypted = false;
    } else if (type === Ssl2Type.ClientMasterKey && len >= 10 && 10 + body.u16(4) + body.u16(6) + body.u16(8) <= len) {
      r.handshakes.push(m);
      r.encrypted = false;
    }
  }
  l.records.push(r);
  return true;
}

/**
 * Decodes the records of one call (a TCP payload or reassembled PDU) with the layer's session,
 * which it updates. Never throws on any input: records are read only once complete.
 */
export function decodeTls(l: TlsLayer, v: ByteView): void {
  const s = l.session ?? (l.session = new TlsSession());
  let o = 0;
  const n = v.length;
  // tshark's dissect_ssl: SSLv2 sessions read v2 records; SSL 3.0 to TLS 1.2 sessions read records
  // (an SSLv2-compatible hello aside); any other session (unknown, TLS 1.3) first checks that the
  // bytes look like a record, else lumps the rest together as "Continuation Data".
  while (o < n) {
    const version = s.version;
    if (version === SSL2) {
      if (!readSsl2Record(l, v, o, s)) break;
      o += ssl2RecordLength(v, o);
      continue;
    }
    if (n - o < TLS_RECORD.HEADER_LEN) {
      l.partialAt = o;
      break;
    }
    const known = (version >= 0x0300 && version <= 0x0303) || version === GMTLS;
    if (known ? isSsl2ClientHello(v, o) : looksLikeSsl2Record(v, o)) {
      if (!readSsl2Record(l, v, o, s)) break;
      o += ssl2RecordLength(v, o);
      continue;
    }
    if (!known && !looksLikeSsl3Record(v, o)) {
      l.unknown = true;
      o = n;
      break;
    }
    const next = readRecord(l, v, o, s);
    if (next < 0) break;
    o = next;
  }
  l.hdrLen = Math.min(o, n);
  l.payloadLen = 0;
  let certs: string[] | undefined;
  for (const h of l.handshakes()) if (h.certificateProtocols !== null) (certs ??= ['tls']).push(...h.certificateProtocols);
  if (certs !== undefined) l.protocols = certs.join(':');
}

/** Bytes of the (complete) SSLv2 record at o, header included. */
function ssl2RecordLength(v: ByteView, o: number): number {
  const b0 = v.u8(o);
  return (b0 & 0x80) !== 0 ? 2 + (((b0 & 0x7f) << 8) | v.u8(o + 1)) : 3 + (((b0 & 0x3f) << 8) | v.u8(o + 1));
}

/** The SSLv3/TLS record at o (tshark's dissect_ssl3_record): the offset after it, or -1 when it is incomplete. */
function readRecord(l: TlsLayer, v: ByteView, o: number, s: TlsSession): number {
  const n = v.length;
  const dir = l.dir;
  const type = v.u8(o);
  if (!validContentType(type)) {
    // TLS 1.0-1.2 ignore unknown records (RFC 2246 6): the rest of the bytes; SSL 3.0 skips what the header claims.
    l.unknown = true;
    return s.version >= 0x0301 && s.version <= 0x0303 ? n : o + TLS_RECORD.HEADER_LEN + v.u16(o + TLS_RECORD.LENGTH);
  }
  const version = v.u16(o + TLS_RECORD.VERSION);
  const len = v.u16(o + TLS_RECORD.LENGTH);
  if (n - o < TLS_RECORD.HEADER_LEN + len) {
    l.partialAt = o;
    l.partialNeed = TLS_RECORD.HEADER_LEN + len;
    return -1;
  }
  const frag = v.slice(o + TLS_RECORD.HEADER_LEN, len);
  // The first record that is not a ClientHello sets the conversation's version (tshark's ssl_try_set_version).
  if (s.version === 0 && (type !== ContentType.Handshake || (len > 0 && frag.u8(0) !== HandshakeType.ClientHello)) && ((version >= 0x0300 && version <= 0x0304) || version === GMTLS)) {
    s.version = version;
  }
  const r: TlsRecord = {
    contentType: type, version, length: len, ssl2: false, opaque: s.version === TLS13 && type === ContentType.ApplicationData,
    encrypted: false, handshakes: [], alertLevel: -1, alertDescription: -1,
  };
  switch (type) {
    case ContentType.ChangeCipherSpec:
      s.ccsFrame[dir] = l.frameNo;
      break;
    case ContentType.Alert:
      if (len === 2 && !(s.ccsFrame[dir] !== 0 && l.frameNo > s.ccsFrame[dir])) {
        r.alertLevel = frag.u8(0);
        r.alertDescription = frag.u8(1);
      } else r.encrypted = true;
      break;
    case ContentType.Handshake:
      readHandshakeRecord(r, frag, s, dir, l.frameNo);
      break;
    case ContentType.ApplicationData:
    case ContentType.Heartbeat:
      r.encrypted = true;
      break;
  }
  l.records.push(r);
  return o + TLS_RECORD.HEADER_LEN + len;
}

export const tls: Dissector<TlsLayer> = {
  name: 'tls',
  protocols: 'tls',
  create: () => new TlsLayer(),

  decode(l, v, _p) {
    decodeTls(l, v);
  },

  print(p: Packet, i: number, out: TextOut) {
    out.s += 'TLS ' + summary(p.layers[i] as TlsLayer);
  },


  fields: {
    'tls.record.content_type': (l) => recordField(l, contentTypeOf),
    'tls.record.opaque_type': (l) => recordField(l, opaqueTypeOf),
    'tls.record.version': (l) => recordField(l, versionOf),
    'tls.record.length': (l) => recordField(l, lengthOf),
    'tls.handshake.type': (l) => handshakeField(l, (h) => h.type),
    'tls.handshake.version': (l) => handshakeField(l, (h) => (h.hello !== null && h.hello.version !== 0 ? hex16(h.hello.version) : undefined)),
    'tls.handshake.extensions_server_name': (l) => helloList(l, (h) => h.serverNames),
    'tls.handshake.extensions_alpn_str': (l) => helloList(l, (h) => h.alpnStr),
    'tls.handshake.ciphersuite': (l) => helloList(l, (h) => (h.ssl2 ? [] : h.ciphers.map(hex16))),
    'tls.handshake.ja3_full': (l) => helloOne(l, true, (h) => h.ja3Full),
    'tls.handshake.ja3': (l) => helloOne(l, true, (h) => h.ja3),
    'tls.handshake.ja3s_full': (l) => helloOne(l, false, (h) => h.ja3Full),
    'tls.handshake.ja3s': (l) => helloOne(l, false, (h) => h.ja3),
    'tls.alert_message.level': (l) => recordField(l, (r) => (r.alertLevel >= 0 ? r.alertLevel : undefined)),
    'tls.alert_message.desc': (l) => recordField(l, (r) => (r.alertDescription >= 0 ? r.alertDescription : undefined)),
  },

  json(l) {
    return {
      records: l.records.map((r) => {
        const o: Record<string, unknown> = { contentType: r.contentType, version: r.version, length: r.length };
        if (r.ssl2) o.ssl2 = true;
        if (r.opaque) o.opaque = true;
        if (r.encrypted) o.encrypted = true;
        if (r.alertLevel >= 0) o.alert = { level: r.alertLevel, description: r.alertDescription };
        if (r.handshakes.length) o.handshakes = r.handshakes.map(handshakeJson);
        return o;
      }),
      ...(l.partialAt >= 0 ? { partial: true } : {}),
      ...(l.unknown ? { unknownRecord: true } : {}),
    };
  },
};

function handshakeJson(h: HandshakeMessage): Record<string, unknown> {
  const o: Record<string, unknown> = { type: h.type, length: h.length };
  const he = h.hello;
  if (he !== null) {
    Object.assign(o, {
      version: he.version, random: he.random, sessionId: he.sessionId, ciphers: he.ciphers, compressions: he.compressions,
      extensions: he.extensions, serverNames: he.serverNames, alpn: he.alpnStr, supportedVersions: he.supportedVersions,
      supportedGroups: he.groups, ecPointFormats: he.pointFormats, signatureAlgorithms: he.sigAlgs, keyShareGroups: he.keyShareGroups,
      pskKeyExchangeModes: he.pskModes,
    });
    const grease = greaseOf(he);
    if (grease.length) o.grease = grease;
    if (he.helloRetry) o.helloRetryRequest = true;
    if (he.malformed) o.malformed = true;
    if (!he.ssl2) {
      if (he.client) Object.assign(o, { ja3: he.ja3, ja3Full: he.ja3Full, ja4: he.ja4?.ja4, ja4_r: he.ja4?.ja4_r });
      else Object.assign(o, { ja3s: he.ja3, ja3sFull: he.ja3Full });
    }
  }
  if (h.certificates !== null) o.certificates = h.certificates;
  return o;
}

/** The GREASE values (RFC 8701) a hello sent, in the order met, each once. */
export function greaseOf(h: Hello): number[] {
  const out: number[] = [];
  for (const list of [h.ciphers, h.extensions, h.groups, h.sigAlgs, h.supportedVersions, h.keyShareGroups]) {
    for (const v of list) if (isGrease(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

/** A 16-bit value as tshark prints versions and cipher suites: 0x0303. */
export function hex16(v: number): string {
  return '0x' + hex4(v);
}

const contentTypeOf = (r: TlsRecord): number | undefined => (r.ssl2 || r.opaque ? undefined : r.contentType);
const opaqueTypeOf = (r: TlsRecord): number | undefined => (r.opaque ? r.contentType : undefined);
const versionOf = (r: TlsRecord): string => hex16(r.version);
const lengthOf = (r: TlsRecord): number => r.length;

/** A per-record field over the layer's records: one value, several, or undefined. */
function recordField(l: TlsLayer, get: (r: TlsRecord) => string | number | undefined): FieldValue {
  let out: Array<string | number> | undefined;
  for (const r of l.records) {
    const x = get(r);
    if (x === undefined) continue;
    (out ??= []).push(x);
  }
  return out === undefined ? undefined : out.length === 1 ? out[0] : out;
}

function handshakeField(l: TlsLayer, get: (h: HandshakeMessage) => string | number | undefined): FieldValue {
  let out: Array<string | number> | undefined;
  for (const h of l.handshakes()) {
    const x = get(h);
    if (x === undefined) continue;
    (out ??= []).push(x);
  }
  return out === undefined ? undefined : out.length === 1 ? out[0] : out;
}

function helloList(l: TlsLayer, get: (h: Hello) => readonly string[]): FieldValue {
  let out: string[] | undefined;
  for (const h of l.handshakes()) {
    if (h.hello === null) continue;
    const xs = get(h.hello);
    if (xs.length) (out ??= []).push(...xs);
  }
  return out === undefined ? undefined : out.length === 1 ? out[0] : out;
}

function helloOne(l: TlsLayer, client: boolean, get: (h: Hello) => string): FieldValue {
  let out: string[] | undefined;
  for (const h of l.handshakes()) {
    if (h.hello === null || h.hello.client !== client || h.hello.ssl2 || h.hello.ja3 === '') continue;
    (out ??= []).push(get(h.hello));
  }
  return out === undefined ? undefined : out.length === 1 ? out[0] : out;
}

const HANDSHAKE_NAMES: Record<number, string> = {
  0: 'Hello Request', 1: 'Client Hello', 2: 'Server Hello', 4: 'New Session Ticket', 5: 'End of Early Data',
  6: 'Hello Retry Request', 8: 'Encrypted Extensions', 11: 'Certificate', 12: 'Server Key Exchange',
  13: 'Certificate Request', 14: 'Server Hello Done', 15: 'Certificate Verify', 16: 'Client Key Exchange',
  20: 'Finished', 22: 'Certificate Status', 24: 'Key Update',
};

/** tshark's Info column for the layer's records ("Client Hello", "Change Cipher Spec, Application Data"). */
export function summary(l: TlsLayer): string {
  const parts: string[] = [];
  for (const r of l.records) {
    if (r.ssl2) {
      const t = r.handshakes.length ? r.handshakes[0].type : -1;
      parts.push(t === 1 ? 'SSLv2 Client Hello' : t === 2 ? 'SSLv2 Client Master Key' : t === 4 ? 'SSLv2 Server Hello' : 'SSLv2 Encrypted Data');
      continue;
    }
    switch (r.contentType) {
      case ContentType.ChangeCipherSpec: parts.push('Change Cipher Spec'); break;
      case ContentType.Alert: parts.push(r.encrypted ? 'Encrypted Alert' : 'Alert (Level: ' + r.alertLevel + ', Description: ' + r.alertDescription + ')'); break;
      case ContentType.ApplicationData: parts.push('Application Data'); break;
      case ContentType.Heartbeat: parts.push('Heartbeat'); break;
      case ContentType.Handshake:
        if (r.encrypted) parts.push('Encrypted Handshake Message');
        for (const h of r.handshakes) {
          let name = HANDSHAKE_NAMES[h.type] ?? 'Handshake ' + h.type;
          if (h.hello?.helloRetry) name = 'Hello Retry Request';
          if (h.hello?.serverNames.length) name += ' (SNI=' + h.hello.serverNames[0] + ')';
          parts.push(name);
        }
        break;
    }
  }
  if (l.unknown) parts.push('Ignored Unknown Record');
  return parts.length ? parts.join(', ') : '[TLS segment of a reassembled PDU]';
}

/** Key of the binding in Table.None (its well-known port; any distinct key would do). */
const TLS_KEY = 443;
// Not reached through any port table: the stream parser decodes TLS; bound so -e knows its fields.
bind(Table.None, TLS_KEY, tls);
