/**
 * -T fields: frame.* fields, occurrences, value formats and field-name validation, checked against
 * tshark on the same bytes (a pcap written from the hand-built frames).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeFrame } from '../../src/core/dissector.js';
import { escapeControls, FieldsOut, FieldListError, knownFieldNames, TRACKER_FIELDS } from '../../src/output/fields.js';
import { formatTimeDiff, frameProtocols } from '../../src/output/frame-fields.js';
import { hasTool, run } from '../conformance/corpus.js';
import { bindQuoteDissector, frame, hex, ipv4, MACS, QUOTE_PROTO, writeNsecPcap } from './frames.js';
import '../../dissectors/index.js';

/** Frames whose protocols wirescope and tshark both know without upper-layer dissectors. */
const FRAMES = [
  // Unknown EtherType with a payload and Ethernet padding.
  frame(1, 100, 500_000_000, hex(MACS + '88b5' + '00'.repeat(46))),
  // Time going backwards; an IP protocol nobody dissects, DF set.
  frame(2, 100, 200_000_000, hex(MACS + '0800' + ipv4(99, 0x1234, 0x4000, 'a1a2a3a4a5a6a7a8'))),
  // Two fragments of one datagram: MF at offset 0, then the last 8 bytes at offset 16.
  frame(3, 99, 900_000_000, hex(MACS + '0800' + ipv4(99, 0xabcd, 0x2000, '00'.repeat(16)))),
  frame(4, 101, 0, hex(MACS + '0800' + ipv4(99, 0xabcd, 0x0002, '11'.repeat(8)))),
  // IPv4 header cut short by the snapshot length.
  frame(5, 101, 5, hex(MACS + '0800' + ipv4(99, 1, 0, '00'.repeat(26)).slice(0, 20)), 60),
  // Payload captured only in part.
  frame(6, 101, 999_999_999, hex(MACS + '0800' + ipv4(99, 2, 0, 'ffff')), 80),
  // An Ethernet header cut short.
  frame(7, 102, 0, hex(MACS.slice(0, 16)), 60),
  // TCP payload is data, except on a reset (tshark shows that as the reset cause).
  frame(8, 103, 0, hex(MACS + '0800' + ipv4(6, 4, 0, tcp(40000, 40001, 0x18) + '6162636465666768'))),
  frame(9, 103, 1, hex(MACS + '0800' + ipv4(6, 5, 0, tcp(40002, 40003, 0x14) + '6162636465666768'))),
];

/** Hex of a 20-byte TCP header (seq 100, ack 1, window 8192) with the given ports and flags. */
function tcp(sport: number, dport: number, flags: number): string {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(100, 4);
  h.writeUInt32BE(1, 8);
  h[12] = 0x50;
  h[13] = flags;
  h.writeUInt16BE(8192, 14);
  return h.toString('hex');
}

/** SLIP (link type 8): a link type neither tool dissects, so the whole frame is data. */
const SLIP_FRAMES = [frame(1, 5, 0, hex('c0' + ipv4(99, 3, 0, '00')), 22, 8)];

const FRAME_FIELDS = ['frame.number', 'frame.time_epoch', 'frame.time_relative', 'frame.time_delta', 'frame.len', 'frame.cap_len', 'frame.protocols'];
const LAYER_FIELDS = ['eth.src', 'eth.dst', 'eth.type', 'ip.src', 'ip.dst', 'ip.proto', 'ip.ttl', 'ip.id', 'ip.flags.mf', 'ip.frag_offset'];

function fieldsLines(names: string[], frames = FRAMES): string[] {
  const out = new FieldsOut(names);
  return frames.map((f) => out.format(decodeFrame(f)));
}

describe('field names', () => {
  it('lists frame.* and every dissector field as known', () => {
    const known = knownFieldNames();
    for (const n of [...FRAME_FIELDS, 'eth.src', 'ip.src']) expect(known).toContain(n);
    expect([...known].sort()).toEqual(known);
  });

  it('rejects an unknown name with one line naming the known ones', () => {
    let err: unknown;
    try { new FieldsOut(['ip.src', 'ip.bogus']); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FieldListError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toContain("'ip.bogus'");
    expect(msg).toContain('frame.protocols');
    expect(msg).toContain('eth.src');
  });

  it('rejects an empty field list', () => {
    expect(() => new FieldsOut([])).toThrow(FieldListError);
  });
});

describe('value formats', () => {
  it('prints time differences as tshark does, sign included', () => {
    expect(formatTimeDiff(100, 200_000_000, 100, 500_000_000)).toBe('-0.300000000');
    expect(formatTimeDiff(0, 5, 100, 500_000_000)).toBe('-100.499999995');
    expect(formatTimeDiff(101, 0, 99, 900_000_000)).toBe('1.100000000');
    expect(formatTimeDiff(7, 1, 7, 1)).toBe('0.000000000');
  });

  it('repeats a column for a repeated name and keeps empty columns for absent fields', () => {
    const [line] = fieldsLines(['frame.number', 'ip.src', 'frame.number']);
    expect(line).toBe('1\t\t1');
  });
});

describe('tshark 4.0 escaping', () => {
  // As tshark printed http.user_agent "u<TAB>a<0x01>b<0x7f>z\\q" (a crafted request): only tab, newline and CR escaped.
  it('writes tab, newline and carriage return as \\t \\n \\r, everything else as it is', () => {
    expect(escapeControls('plain')).toBe('plain');
    expect(escapeControls('u\ta\x01b\x7fz\\q"\r\n')).toBe('u\\ta\x01b\x7fz\\q"\\r\\n');
  });
});

describe('tracker fields', () => {
  it('knows tcp.stream and tcp.analysis.retransmission, and the application protocols\' fields', () => {
    const known = new Set(knownFieldNames());
    for (const n of [...Object.keys(TRACKER_FIELDS), 'dns.qry.name', 'http.request.method', 'tls.handshake.type']) expect(known.has(n)).toBe(true);
  });
});

describe('nested packets', () => {
  beforeAll(bindQuoteDissector);

  it('walks a layer, then its nested packets, then the layers after it', () => {
    const inner = ipv4(99, 0x42, 0, 'beef');
    const p = decodeFrame(frame(1, 1, 0, hex(MACS + '0800' + ipv4(QUOTE_PROTO, 0x41, 0, '07' + inner))));
    const out = new FieldsOut(['ip.id', 'ip.proto', 'quotetest.code', 'quotetest.list', 'quotetest.flag', 'frame.protocols']);
    expect(out.format(p)).toBe('0x0041,0x0042\t253,99\t7\t1,b\t1\teth:ethertype:ip:quotetest:ip:data');
    expect(frameProtocols(p)).toBe('eth:ethertype:ip:quotetest:ip:data');
  });

  it('takes a layer\'s own protocols string over its dissector\'s', () => {
    const p = decodeFrame(frame(1, 1, 0, hex(MACS + '0800' + ipv4(99, 1, 0, 'beef'))));
    Object.assign(p.layers[0], { protocols: 'eth' });
    expect(frameProtocols(p)).toBe('eth:ip:data');
  });
});

const haveTshark = hasTool('tshark');
if (!haveTshark) console.log('fields-vs-tshark tests skipped: tshark is not installed');

describe.skipIf(!haveTshark)('the same frames through tshark', () => {
  let dir = '';
  let file = '';
  let slipFile = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wirescope-fields-'));
    file = path.join(dir, 'frames.pcap');
    slipFile = path.join(dir, 'slip.pcap');
    writeNsecPcap(file, FRAMES);
    writeNsecPcap(slipFile, SLIP_FRAMES);
    return () => rmSync(dir, { recursive: true, force: true });
  });

  function tsharkLines(names: string[], f = file): string[] {
    const args = ['-n', '-r', f, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
    for (const n of names) args.push('-e', n);
    const r = run('tshark', args);
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((l) => l.length > 0);
  }

  it('gives tshark\'s frame.* fields', () => {
    expect(fieldsLines(FRAME_FIELDS)).toEqual(tsharkLines(FRAME_FIELDS));
    expect(fieldsLines(FRAME_FIELDS, SLIP_FRAMES)).toEqual(tsharkLines(FRAME_FIELDS, slipFile));
  });

  it('gives tshark\'s Ethernet and IPv4 fields', () => {
    expect(fieldsLines(LAYER_FIELDS)).toEqual(tsharkLines(LAYER_FIELDS));
  });
});
