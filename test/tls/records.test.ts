/**
 * TLS records, handshakes and fingerprints over crafted bytes: the stream parser's framing
 * (records split across segments, several per segment, headers cut), handshake messages spanning
 * records, encryption rules, SSLv2 hellos, hostile lengths, and JA3/JA4 against the published
 * specifications' examples.
 */
import '../../dissectors/index.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTls, TlsLayer, TlsSession, tls, type Hello } from '../../dissectors/tls.js';
import { makeLayer } from '../../src/core/dissector.js';
import { ByteView } from '../../src/core/view.js';
import { Connection, Endpoint } from '../../src/tcp/conntrack.js';
import type { AppMessage } from '../../src/stream/app.js';
import { isGrease, ja3String, ja4, md5Hex, type HelloSummary } from '../../src/tls/fingerprint.js';
import { looksLikeTls, refusedData, TlsStreamParser, tlsProtocol } from '../../src/tls/stream.js';
import {
  alpnExt, clientHello, ext, handshake, pointFormatsExt, record, serverHello, sniExt, ssl2ClientHello, supportedVersionsExt, u16ListExt, u24,
} from './build.js';

function decode(bytes: number[], session = new TlsSession(), dir: 0 | 1 = 0, frameNo = 1): TlsLayer {
  const buf = Uint8Array.from(bytes);
  const l = makeLayer(tls);
  l.buf = buf;
  l.length = buf.length;
  l.session = session;
  l.dir = dir;
  l.frameNo = frameNo;
  decodeTls(l, ByteView.of(buf));
  return l;
}

function field(l: TlsLayer, name: string): unknown {
  return tls.fields![name](l, undefined as never);
}

/** A parser over one connection, fed chunk by chunk; returns the messages per chunk. */
function feeder() {
  const conn = new Connection(7, 7, new Endpoint('192.0.2.1', 50000), new Endpoint('192.0.2.2', 443));
  const out: AppMessage[] = [];
  const parser = new TlsStreamParser(conn, (m) => out.push(m));
  let frame = 0;
  const seq = [1000, 5000];
  return {
    parser,
    /** Feeds the next bytes of a direction (after `skip` bytes lost to a hole, reported as a gap). */
    feed(bytes: number[], dir: 0 | 1 = 0, skip = 0): TlsLayer[] {
      out.length = 0;
      frame++;
      if (skip > 0) {
        parser.event({ type: 'gap', dir, seq: seq[dir], length: skip, reason: 'end', time: { sec: 0, nsec: 0, frame } });
        seq[dir] += skip;
      }
      parser.chunk({ dir, seq: seq[dir], bytes: Uint8Array.from(bytes), time: { sec: 0, nsec: 0, frame } });
      seq[dir] += bytes.length;
      return out.map((m) => m.layer as TlsLayer);
    },
  };
}

const GREASE_A = 0x0a0a;
const GREASE_B = 0x1a1a;

// The JA4 specification's example client (FoxIO JA4 technical details): ciphers and extensions in wire order.
const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

function specExtensions(sigAlgs: number[]): number[][] {
  const plain = (t: number): number[] => ext(t, []);
  return [
    ext(GREASE_A, []), plain(0x001b), sniExt('example.com'), plain(0x0033), alpnExt(['h2', 'http/1.1']), plain(0x4469), u16ListExt(0x0017, []),
    plain(0x002d), u16ListExt(0x000d, sigAlgs), plain(0x0005), plain(0x0023), plain(0x0012), supportedVersionsExt([GREASE_B, 0x0304, 0x0303]),
    plain(0xff01), pointFormatsExt([0]), u16ListExt(0x000a, [GREASE_A, 0x001d, 0x0017]), plain(0x0015), ext(GREASE_B, [0]),
  ];
}

function specHello(sigAlgs = SPEC_SIGALGS): Hello {
  const l = decode(record(22, 0x0301, clientHello([GREASE_A, ...SPEC_CIPHERS], specExtensions(sigAlgs))));
  return l.records[0].handshakes[0].hello!;
}

describe('JA4 (FoxIO specification examples)', () => {
  it('gives the specification example fingerprint, raw and original-order forms', () => {
    const h = specHello();
    expect(h.ja4).toEqual({
      ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
      ja4_r: 't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
      ja4_o: 't13d1516h2_acb858a92679_18f69afefd3d',
      ja4_ro: 't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601',
    });
  });

  it('agrees with a fingerprinting service on a Chrome hello (ja3/ja4 and raw forms published together)', () => {
    // A Chrome ClientHello as reported by a public TLS fingerprinting service (its ja3_text, ja4, ja4_r, ja4_o, ja4_ro).
    const ciphers = [4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156, 157, 47, 53];
    const body: Record<number, number[]> = {
      0: sniExt('tls.browserleaks.com').slice(4), 16: alpnExt(['h2', 'http/1.1']).slice(4), 10: u16ListExt(10, [4588, 29, 23, 24]).slice(4),
      11: [1, 0], 13: u16ListExt(13, SPEC_SIGALGS).slice(4), 43: [4, 0x03, 0x04, 0x03, 0x03],
    };
    const order = [45, 51, 16, 65037, 23, 17613, 0, 11, 10, 43, 65281, 35, 18, 5, 13, 27];
    const l = decode(record(22, 0x0301, clientHello([GREASE_A, ...ciphers], [ext(GREASE_B, []), ...order.map((t) => ext(t, body[t] ?? []))])));
    const h = l.records[0].handshakes[0].hello!;
    expect(h.ja3).toBe('98487aa16281980e7d1120d399efb6a4');
    expect(h.ja4).toEqual({
      ja4: 't13d1516h2_8daaf6152771_d8a2da3f94cd',
      ja4_r: 't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,fe0d,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
      ja4_o: 't13d1516h2_acb858a92679_f96a17c57971',
      ja4_ro: 't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b_0403,0804,0401,0503,0805,0501,0806,0601',
    });
  });

  it('ends the extension list without an underscore when no signature algorithms are sent', () => {
    expect(specHello([]).ja4!.ja4.split('_')[2]).toBe('6d807ffa2a79');
  });

  it('prints hex digits for a non-alphanumeric ALPN, 00 without ALPN, and zeros for empty lists', () => {
    const base: HelloSummary = { version: 0x0303, ciphers: [], extensions: [], groups: [], pointFormats: [], sigAlgs: [], supportedVersions: [], hasSni: false, alpn: [] };
    const alpn = (b: number[]): string => ja4({ ...base, alpn: [Uint8Array.from(b)] }).ja4.slice(8, 10);
    expect(alpn([0xab])).toBe('ab');
    expect(alpn([0xab, 0xcd])).toBe('ad');
    expect(alpn([0x30, 0xab])).toBe('3b');
    expect(alpn([0x30, 0x31, 0xab, 0xcd])).toBe('3d');
    expect(alpn([0x30, 0xab, 0xcd, 0x31])).toBe('01');
    expect(alpn([0x68])).toBe('hh');
    expect(ja4(base).ja4).toBe('t12i000000_000000000000_000000000000');
    expect(ja4({ ...base, version: 0x0300 }).ja4.slice(1, 3)).toBe('s3');
  });
});

describe('JA3', () => {
  it('leaves GREASE out of ciphers, extensions and groups', () => {
    const h = specHello();
    expect(h.ja3Full).toBe(
      '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23,0',
    );
    expect(h.ja3).toBe(md5Hex(h.ja3Full));
    expect(field(decode(record(22, 0x0301, clientHello([GREASE_A, ...SPEC_CIPHERS], specExtensions(SPEC_SIGALGS)))), 'tls.handshake.ja3')).toBe(h.ja3);
  });

  it('hashes a published JA3 string to its published MD5', () => {
    const s = '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0';
    expect(md5Hex(s)).toBe('98487aa16281980e7d1120d399efb6a4');
  });

  it('recognises every GREASE value and nothing else', () => {
    const grease = [];
    for (let v = 0; v < 0x10000; v++) if (isGrease(v)) grease.push(v);
    expect(grease).toEqual(Array.from({ length: 16 }, (_, i) => i * 0x1010 + 0x0a0a));
  });

  it('JA3S: version, cipher, extensions', () => {
    const l = decode(record(22, 0x0303, serverHello(0xc02f, [ext(0xff01, [0]), pointFormatsExt([0, 1, 2])])));
    expect(field(l, 'tls.handshake.ja3s')).toBe(md5Hex('771,49199,65281-11'));
    expect(ja3String(l.records[0].handshakes[0].hello!)).toBe('771,49199,65281-11,,0-1-2');
  });
});

describe('ClientHello and ServerHello fields', () => {
  const l = decode(record(22, 0x0301, clientHello([GREASE_A, 0x1301, 0xc02f], [sniExt('www.example.org'), alpnExt(['h2', 'http/1.1']), supportedVersionsExt([0x0304, 0x0303]), ext(0x0033, [...[0, 6], ...[0x00, 0x1d, 0, 2, 1, 2]]), ext(0x002d, [1, 1])])));
  const h = l.records[0].handshakes[0].hello!;

  it('reads the hello as tshark prints it', () => {
    expect(field(l, 'tls.record.content_type')).toBe(22);
    expect(field(l, 'tls.record.version')).toBe('0x0301');
    expect(field(l, 'tls.handshake.type')).toBe(1);
    expect(field(l, 'tls.handshake.version')).toBe('0x0303');
    expect(field(l, 'tls.handshake.extensions_server_name')).toBe('www.example.org');
    expect(field(l, 'tls.handshake.extensions_alpn_str')).toEqual(['h2', 'http/1.1']);
    expect(field(l, 'tls.handshake.ciphersuite')).toEqual(['0x0a0a', '0x1301', '0xc02f']);
  });

  it('lists the GREASE values a hello sent (JSON)', () => {
    const j = tls.json!(decode(record(22, 0x0301, clientHello([GREASE_A, ...SPEC_CIPHERS], specExtensions(SPEC_SIGALGS)))), undefined as never) as { records: Array<{ handshakes: Array<{ grease: number[] }> }> };
    expect(j.records[0].handshakes[0].grease).toEqual([GREASE_A, GREASE_B]);
  });

  it('reads key_share groups, psk modes and supported versions', () => {
    expect(h.keyShareGroups).toEqual([0x001d]);
    expect(h.pskModes).toEqual([1]);
    expect(h.supportedVersions).toEqual([0x0304, 0x0303]);
    expect(h.ja4!.ja4.slice(0, 10)).toBe('t13d0205h2');
  });

  it('a ServerHello selecting TLS 1.3 makes later application data opaque', () => {
    const s = new TlsSession();
    const sh = decode([...record(22, 0x0303, serverHello(0x1301, [ext(0x002b, [0x03, 0x04])])), ...record(20, 0x0303, [1]), ...record(23, 0x0303, new Array(40).fill(7))], s, 1);
    expect(s.version).toBe(0x0304);
    expect(field(sh, 'tls.record.content_type')).toEqual([22, 20]);
    expect(field(sh, 'tls.record.opaque_type')).toBe(23);
    expect(field(sh, 'tls.record.version')).toEqual(['0x0303', '0x0303', '0x0303']);
  });
});

describe('encryption rules (tshark is_encrypted_handshake_message)', () => {
  const finished = (): number[] => record(22, 0x0303, [0x8e, ...new Array(39).fill(0x55)]);

  it('a handshake record after the ChangeCipherSpec frame is encrypted; a plausible one in the same frame is read', () => {
    const s = new TlsSession();
    decode(record(20, 0x0303, [1]), s, 0, 5);
    const same = decode(record(22, 0x0303, handshake(20, new Array(36).fill(1))), s, 0, 5);
    expect(field(same, 'tls.handshake.type')).toBe(20);
    const later = decode(record(22, 0x0303, handshake(20, new Array(36).fill(1))), s, 0, 6);
    expect(later.records[0].encrypted).toBe(true);
    expect(field(later, 'tls.handshake.type')).toBeUndefined();
    expect(field(later, 'tls.record.content_type')).toBe(22);
  });

  it('an unknown first type or a length of 64 KiB or more marks it encrypted; short records are plaintext', () => {
    expect(decode(finished()).records[0].encrypted).toBe(true);
    expect(decode(record(22, 0x0303, [11, 0x01, 0x00, 0x00, ...new Array(30).fill(0)])).records[0].encrypted).toBe(true);
    expect(decode(record(22, 0x0303, [0, 0, 0, 0, 0, ...new Array(30).fill(9)])).records[0].encrypted).toBe(true);
    expect(decode(record(22, 0x0303, handshake(14, []))).records[0].handshakes[0].type).toBe(14);
  });

  it('alerts: read in clear, encrypted when longer than two bytes', () => {
    const a = decode(record(21, 0x0303, [2, 40]));
    expect(field(a, 'tls.alert_message.level')).toBe(2);
    expect(field(a, 'tls.alert_message.desc')).toBe(40);
    expect(decode(record(21, 0x0303, new Array(26).fill(3))).records[0].encrypted).toBe(true);
  });
});

describe('stream framing as tshark desegments', () => {
  const ch = record(22, 0x0301, clientHello([0x1301], [sniExt('split.example')]));
  const app = (n: number): number[] => record(23, 0x0303, new Array(n).fill(0xaa));

  it('a record split across three segments: an empty layer where it starts, nothing in the middle, the record at the end', () => {
    const f = feeder();
    const first = f.feed(ch.slice(0, 20));
    expect(first).toHaveLength(1);
    expect(first[0].records).toHaveLength(0);
    expect(f.feed(ch.slice(20, 40))).toHaveLength(0);
    const last = f.feed(ch.slice(40));
    expect(last).toHaveLength(1);
    expect(field(last[0], 'tls.handshake.extensions_server_name')).toBe('split.example');
  });

  it('several records in one segment make one layer', () => {
    const f = feeder();
    const [l] = f.feed([...app(10), ...app(20), ...app(30)]);
    expect(field(l, 'tls.record.content_type')).toEqual([23, 23, 23]);
  });

  it('a segment completing a record and starting another gives two layers (tshark: "tls:tls")', () => {
    const f = feeder();
    const two = [...app(100), ...app(100)];
    f.feed(two.slice(0, 50));
    const ls = f.feed(two.slice(50, 150));
    expect(ls.map((l) => l.records.length)).toEqual([1, 0]);
    expect(f.feed(two.slice(150)).map((l) => l.records.length)).toEqual([1]);
  });

  it('a cut record header takes the whole next segment into one call', () => {
    const f = feeder();
    const three = [...app(10), ...app(10), ...app(10)];
    expect(f.feed(three.slice(0, 17)).map((l) => l.records.length)).toEqual([1]);
    expect(f.feed(three.slice(17)).map((l) => l.records.length)).toEqual([2]);
  });

  it('a handshake message spanning records shows on the record completing it', () => {
    const f = feeder();
    const msg = clientHello([0x1301, 0x1302], [sniExt('spanning.example')]);
    const recs = [...record(22, 0x0301, msg.slice(0, 30)), ...record(22, 0x0301, msg.slice(30))];
    const [l] = f.feed(recs);
    expect(l.records[0].handshakes).toHaveLength(0);
    expect(l.records[1].handshakes[0].type).toBe(1);
    expect(field(l, 'tls.handshake.extensions_server_name')).toBe('spanning.example');
  });

  it('a hole loses the pending record and the bytes after it up to that record\'s end; then a segment starts afresh', () => {
    const f = feeder();
    const rec = app(100);
    f.feed(rec.slice(0, 20));
    // Bytes 20-40 are lost; 40-80 belong to the lost record (tshark files them under it).
    expect(f.feed(rec.slice(40, 80), 0, 20)).toHaveLength(0);
    // A segment straddling the record's end: the rest after it is read.
    const [l] = f.feed([...rec.slice(80), ...app(5)]);
    expect(field(l, 'tls.record.content_type')).toBe(23);
    expect(field(l, 'tls.record.length')).toBe(5);
  });

  it('after a hole, a segment not starting a record is lumped together (no record)', () => {
    const f = feeder();
    f.feed(ch);
    const [l] = f.feed([0x99, 0x98, 0x97, 0x96, 0x95, 0x94], 0, 50);
    expect(l.records).toHaveLength(0);
    expect(l.unknown).toBe(true);
  });

  it('a hand-over of more than 4 bytes starting with 4 printable ones is refused as data (dissect_ssl), nothing left pending', () => {
    const f = feeder();
    f.feed(ch);
    // tls2.pcap frame 951: after a hole, "_$&+" then binary; tshark shows tcp:data.
    const [d] = f.feed([0x5f, 0x24, 0x26, 0x2b, 0xa7, 0xdb, 0xb4], 0, 50);
    expect(d).not.toBeInstanceOf(TlsLayer);
    expect(d.dissector).toBe(refusedData);
    expect(d.length).toBe(7);
    // Four bytes are not enough to refuse; one non-printable among the first four is not refused either.
    expect(f.feed([0x41, 0x42, 0x43, 0x44], 0, 50)[0]).toBeInstanceOf(TlsLayer);
    expect(f.feed([0x41, 0x42, 0x43, 0x7f, 0x45], 0, 50)[0]).toBeInstanceOf(TlsLayer);
    expect(field(f.feed(app(8), 0, 50)[0], 'tls.record.length')).toBe(8);
  });

  it('the rest of a segment after a completed record is refused the same way (its own hand-over)', () => {
    const f = feeder();
    const rec = app(20);
    f.feed(rec.slice(0, 10));
    const ls = f.feed([...rec.slice(10), ...Array.from('GET / HTTP/1.1', (c) => c.charCodeAt(0))]);
    expect(ls.map((l) => l.dissector.name)).toEqual(['tls', 'data']);
    expect(field(ls[0], 'tls.record.length')).toBe(20);
  });

  it('directions are framed separately', () => {
    const f = feeder();
    f.feed(ch.slice(0, 10), 0);
    expect(f.feed(app(4), 1)[0].records).toHaveLength(1);
    expect(f.feed(ch.slice(10), 0)[0].records[0].handshakes[0].type).toBe(1);
  });
});

const hasOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;
if (!hasOpenssl) console.log('TLS certificate test skipped: openssl is not installed');

describe.skipIf(!hasOpenssl)('Certificate (TLS 1.2): subject and issuer CN', () => {
  it('reads the CNs of a chain made by openssl, as node:crypto reads them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wirescope-tls-cert-'));
    try {
      const run = (args: string[]): void => {
        execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      };
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/O=Test Org/CN=Test Root CA', '-days', '1']);
      run(['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/C=US/CN=leaf.example.org/OU=Unit']);
      run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1']);
      const der = (f: string): number[] => [...new X509Certificate(readFileSync(path.join(dir, f))).raw];
      const leaf = der('leaf.pem');
      const ca = der('ca.pem');
      const list = [...u24(leaf.length), ...leaf, ...u24(ca.length), ...ca];
      const l = decode(record(22, 0x0303, handshake(11, [...u24(list.length), ...list])));
      expect(l.records[0].handshakes[0].certificates).toEqual([
        { subjectCN: 'leaf.example.org', issuerCN: 'Test Root CA' },
        { subjectCN: 'Test Root CA', issuerCN: 'Test Root CA' },
      ]);
      expect(new X509Certificate(Buffer.from(leaf)).subject).toContain('CN=leaf.example.org');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SSL 2.0', () => {
  it('reads a v2 ClientHello (SSLv2-compatible, offering TLS 1.0) with its TLS cipher suites', () => {
    const v2 = ssl2ClientHello(0x0301, [0x010080, 0x00002f, 0x000035], new Array(32).fill(3));
    expect(looksLikeTls(Uint8Array.from(v2))).toBe(true);
    const l = decode(v2);
    expect(field(l, 'tls.record.version')).toBe('0x0002');
    expect(field(l, 'tls.record.content_type')).toBeUndefined();
    expect(field(l, 'tls.handshake.type')).toBe(1);
    expect(field(l, 'tls.handshake.version')).toBe('0x0301');
    expect(l.records[0].handshakes[0].hello!.ciphers).toEqual([0x2f, 0x35]);
    expect(field(l, 'tls.handshake.ja3')).toBeUndefined();
  });
});

describe('sniffing and ports', () => {
  it('recognises record headers and refuses other bytes', () => {
    // tshark's heuristic: Handshake or Application Data, SSL 3.0 to TLS 1.2, length 1 to 18431.
    expect(tlsProtocol.sniff(Uint8Array.from([22, 3, 1, 0, 200]))).toBe(true);
    expect(tlsProtocol.sniff(Uint8Array.from([23, 3, 3, 0x47, 0xff]))).toBe(true);
    expect(tlsProtocol.sniff(Uint8Array.from([23, 3, 3, 0x48, 0x00]))).toBe(false);
    expect(tlsProtocol.sniff(Uint8Array.from([23, 3, 3, 0, 0]))).toBe(false);
    expect(tlsProtocol.sniff(Uint8Array.from([21, 3, 1, 0, 2]))).toBe(false);
    expect(tlsProtocol.sniff(Uint8Array.from([22, 3, 4, 0, 1]))).toBe(false);
    expect(tlsProtocol.sniff(Uint8Array.from([...Buffer.from('GET / HTTP/1.1\r\n')]))).toBe(false);
    expect(tlsProtocol.sniff(Uint8Array.from([22]))).toBe(false);
    expect(tlsProtocol.ports).toEqual(expect.arrayContaining([443, 465, 636, 853, 993, 995]));
  });
});

describe('hostile input never throws', () => {
  const valid = [
    ...record(22, 0x0301, clientHello([GREASE_A, ...SPEC_CIPHERS], specExtensions(SPEC_SIGALGS))),
    ...record(22, 0x0303, serverHello(0xc02f, [sniExt(''), alpnExt(['h2'])])),
    ...record(22, 0x0303, handshake(11, [0, 0, 10, 0, 0, 7, 0x30, 0x82, 0xff, 0xff, 0x30, 0x03, 0x02])),
    ...record(21, 0x0303, [2, 40]),
  ];

  it('every prefix decodes, the last record left pending', () => {
    for (let n = 0; n <= valid.length; n++) {
      const l = decode(valid.slice(0, n));
      expect(l.records.length).toBeLessThanOrEqual(4);
    }
  });

  it('random mutations and claimed lengths up to the maximum decode and summarise', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    for (let k = 0; k < 1500; k++) {
      const b = valid.slice();
      const edits = 1 + (rnd() % 6);
      for (let e = 0; e < edits; e++) b[(rnd() << 8 | rnd()) % b.length] = rnd() % 3 === 0 ? 0xff : rnd();
      const l = decode(b);
      expect(() => JSON.stringify(tls.json!(l, undefined as never))).not.toThrow();
      for (const name of Object.keys(tls.fields!)) field(l, name);
    }
  });

  it('a stream of random chunks never throws and holds at most one record per direction', () => {
    const f = feeder();
    let seed = 99;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    for (let k = 0; k < 500; k++) {
      const chunk = Array.from({ length: 1 + rnd() * 4 }, () => (rnd() < 40 ? 22 : rnd()));
      f.feed(chunk, (k & 1) as 0 | 1);
    }
  });
});
