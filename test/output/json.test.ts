/**
 * --json: one object per packet with frame info, layers in order, truncation/invalid marks and
 * nested packets; values checked against tshark's -T json for the same bytes.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeFrame } from '../../src/core/dissector.js';
import { JsonOut } from '../../src/output/json.js';
import { FieldsOut } from '../../src/output/fields.js';
import { openCapture } from '../../src/pcap/reader.js';
import { hasTool, repoRoot, run } from '../conformance/corpus.js';
import { bindQuoteDissector, frame, hex, ipv4, MACS, QUOTE_PROTO, writeNsecPcap } from './frames.js';
import '../../dissectors/index.js';

const FRAMES = [
  frame(1, 1_700_000_000, 123_456_789, hex(MACS + '0800' + ipv4(99, 0x1234, 0x4000, 'a1a2a3a4'))),
  frame(2, 1_700_000_001, 5, hex(MACS + '88b5' + '00'.repeat(46)), 64),
  frame(3, 1_700_000_002, 0, hex(MACS + '0800' + ipv4(99, 7, 0, '00').slice(0, 24)), 60),
];

type Json = Record<string, any>;

function lines(): string[] {
  const out = new JsonOut();
  return FRAMES.map((f) => out.format(decodeFrame(f)));
}

describe('--json objects', () => {
  it('is one line of JSON per packet', () => {
    for (const line of lines()) {
      expect(line).not.toContain('\n');
      expect(() => JSON.parse(line)).not.toThrow();
    }
  });

  it('writes the time as epoch seconds with all nine decimals', () => {
    const [a, b] = lines();
    expect(a).toContain('"time":1700000000.123456789,');
    expect(b).toContain('"time":1700000001.000000005,');
    expect(JSON.parse(a).frame.time).toBeCloseTo(1700000000.123456789, 6);
  });

  it('gives frame info and the layers in order, numbers as numbers', () => {
    const o: Json = JSON.parse(lines()[0]);
    expect(o.frame).toEqual({ number: 1, time: o.frame.time, len: 38, capLen: 38, linkType: 1, interface: 0, protocols: 'eth:ethertype:ip:data' });
    expect(o.layers.map((l: Json) => l.layer)).toEqual(['eth', 'ip']);
    expect(o.layers[0]).toMatchObject({ layer: 'eth', type: 0x0800, src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' });
    expect(o.layers[1]).toMatchObject({ layer: 'ip', ttl: 63, id: 0x1234, proto: 99, src: '192.0.2.10', dst: '198.51.100.20' });
    expect(o.layers[1].flags.df).toBe(true);
    expect(o.layers[0].truncated).toBeUndefined();
  });

  it('marks a layer cut short by the snapshot length', () => {
    const o: Json = JSON.parse(lines()[2]);
    expect(o.frame).toMatchObject({ len: 60, capLen: 26 });
    expect(o.layers[1]).toMatchObject({ layer: 'ip', truncated: true });
  });

  it('puts nested packets inside their layer', () => {
    bindQuoteDissector();
    const inner = ipv4(99, 0x42, 0, 'beef');
    const p = decodeFrame(frame(9, 1, 0, hex(MACS + '0800' + ipv4(QUOTE_PROTO, 0x41, 0, '07' + inner))));
    const o: Json = JSON.parse(new JsonOut().format(p));
    expect(o.layers.map((l: Json) => l.layer)).toEqual(['eth', 'ip', 'quotetest']);
    expect(o.layers[2].code).toBe(7);
    expect(o.layers[2].nested).toHaveLength(1);
    expect(o.layers[2].nested[0].layers.map((l: Json) => [l.layer, l.id])).toEqual([['ip', 0x42]]);
    expect(o.frame.protocols).toBe('eth:ethertype:ip:quotetest:ip:data');
  });
});

const haveTshark = hasTool('tshark');
if (!haveTshark) console.log('json-vs-tshark test skipped: tshark is not installed');

describe.skipIf(!haveTshark)('--json next to tshark -T json', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wirescope-json-'));
    file = path.join(dir, 'frames.pcap');
    writeNsecPcap(file, FRAMES);
    return () => rmSync(dir, { recursive: true, force: true });
  });

  it('agrees on frame numbers, times, lengths, protocols and addresses', () => {
    const r = run('tshark', ['-n', '-r', file, '-T', 'json']);
    expect(r.status).toBe(0);
    const ref: Json[] = JSON.parse(r.stdout);
    const text = lines();
    const ours: Json[] = text.map((l) => JSON.parse(l));
    expect(ours).toHaveLength(ref.length);
    ref.forEach((t, k) => {
      const fr = t._source.layers.frame;
      const o = ours[k];
      expect(String(o.frame.number)).toBe(fr['frame.number']);
      expect(text[k]).toContain(`"time":${fr['frame.time_epoch']},`);
      expect(String(o.frame.len)).toBe(fr['frame.len']);
      expect(String(o.frame.capLen)).toBe(fr['frame.cap_len']);
      expect(o.frame.protocols).toBe(fr['frame.protocols']);
      expect(o.layers[0].src).toBe(t._source.layers.eth['eth.src']);
      const ip = t._source.layers.ip;
      if (ip?.['ip.src'] !== undefined) {
        expect(o.layers[1].src).toBe(ip['ip.src']);
        expect(String(o.layers[1].ttl)).toBe(ip['ip.ttl']);
      }
    });
  });
});

const FIXTURES = path.join(repoRoot, 'fixtures');
const fixtureFiles = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((n) => /\.pcap(ng)?$/.test(n)).sort() : [];
if (fixtureFiles.length === 0) console.log('json fixture tests skipped: no fixtures/*.pcap');

/** --json lines and -T fields frame.protocols for a capture, each through its own formatter. */
function throughBoth(file: string): { json: string[]; protocols: string[] } {
  const json = new JsonOut();
  const fields = new FieldsOut(['frame.protocols']);
  const out = { json: [] as string[], protocols: [] as string[] };
  const reader = openCapture(file, { clipToSnaplen: false });
  try {
    for (let f = reader.next(); f !== null; f = reader.next()) {
      out.json.push(json.format(decodeFrame(f)));
      out.protocols.push(fields.format(decodeFrame(f)));
    }
  } finally {
    reader.close();
  }
  return out;
}

describe.skipIf(fixtureFiles.length === 0)('--json on the fixtures', () => {
  it('writes one parsable object per frame, numbered in order, with the -T fields protocols', () => {
    for (const name of fixtureFiles) {
      const { json, protocols } = throughBoth(path.join(FIXTURES, name));
      expect(json.length, name).toBeGreaterThan(0);
      json.forEach((line, k) => {
        const o: Json = JSON.parse(line);
        expect(o.frame.number, name).toBe(k + 1);
        expect(o.frame.protocols, `${name} frame ${k + 1}`).toBe(protocols[k]);
        expect(o.layers.length, `${name} frame ${k + 1}`).toBeGreaterThan(0);
      });
    }
  });

  it.skipIf(!haveTshark)('shows reassembled IP datagrams on the last fragment, as tshark does', () => {
    for (const [name, upper] of [['ipv4-fragments.pcap', 'icmp'], ['ipv6-fragments.pcap', 'icmpv6']]) {
      const file = path.join(FIXTURES, name);
      if (!existsSync(file)) continue;
      const r = run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.protocols']);
      const want = r.stdout.split('\n').filter((l) => l.length > 0).map((p) => p.split(':').includes(upper));
      const got = throughBoth(file).json.map((l) => (JSON.parse(l) as Json).layers.some((x: Json) => x.layer === upper));
      expect(got, name).toEqual(want);
      expect(want.filter(Boolean).length, name).toBeGreaterThan(0);
      expect(want.filter((x) => !x).length, name).toBeGreaterThan(0);
    }
  });
});
