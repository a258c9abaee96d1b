/**
 * pcapng files written block by block: sections in both byte orders, per-interface link types,
 * if_tsresol (powers of 10 and 2, fast and bigint paths), if_tsoffset, EPB/SPB/PB, the blocks
 * that are skipped, truncation at every byte, and each kind of corruption. tshark reads the
 * same file where installed and must agree.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { openCapture, CaptureFileError } from '../../src/pcap/reader.js';
import { hasTool } from '../conformance/corpus.js';
import { makeTempDir, readAll, epoch, payload, Bytes, block, shb, idb, epb, concat } from './helpers.js';

const tmp = makeTempDir('pcapng-synth');
afterAll(() => tmp.cleanup());
const haveTshark = hasTool('tshark');
if (!haveTshark) console.log('synthetic pcapng: tshark comparison skipped (tshark is not installed)');

let serial = 0;
function save(bytes: Uint8Array): string {
  const p = path.join(tmp.dir, `f${serial++}.pcapng`);
  writeFileSync(p, bytes);
  return p;
}

const text = (s: string) => new TextEncoder().encode(s);
const u64 = (le: boolean, x: bigint) => new Bytes(le).u64(x).bytes();
const spb = (le: boolean, origLen: number, data: Uint8Array) => block(le, 3, new Bytes(le).u32(origLen).raw(data).bytes());
const pb = (le: boolean, iface: number, ts: bigint, data: Uint8Array) =>
  block(le, 2, new Bytes(le).u16(iface).u16(0).ts(ts).u32(data.length).u32(data.length).raw(data).bytes());

interface Expect { ifIndex: number; linkType: number; ts: bigint; units: bigint; offset: bigint; data: Uint8Array; origLen?: number }

/** Independent conversion with bigints: seconds and nanoseconds of ts in the given units. */
function time(e: Expect): [number, number] {
  return [Number(e.ts / e.units + e.offset), Number(((e.ts % e.units) * 1_000_000_000n) / e.units)];
}

const d = [payload(60, 1), payload(30, 2), payload(45, 3), payload(33, 4), payload(20, 5), payload(64, 6), payload(50, 7), payload(70, 8), payload(71, 9)];
const NS = 1_000_000_000n;
const t0 = 1_700_000_000n;

// Section 1, little-endian: Ethernet in ns, NULL in 2^-10 s with a 1000 s offset; every skipped block kind; SPB and PB.
const section1 = concat(
  shb(true),
  idb(true, 1, 0, [[2, text('eth0')], [9, Uint8Array.of(9)]]),
  block(true, 4, new Bytes(true).u16(1).u16(8).raw([10, 0, 0, 1]).raw(text('a.b\0')).u16(0).u16(0).bytes()), // NRB
  idb(true, 0, 100, [[9, Uint8Array.of(0x80 | 10)], [14, u64(true, 1000n)]]),
  epb(true, 0, t0 * NS + 123_456_789n, d[0]),
  epb(true, 1, (t0 << 10n) + 1023n, d[1], 40),
  block(true, 0x00000bad, concat(new Bytes(true).u32(32473).bytes(), text('custom block'))),
  block(true, 0x40000bad, concat(new Bytes(true).u32(32473).bytes(), text('do not copy'))),
  block(true, 5, new Bytes(true).u32(0).ts(5n).u16(0).u16(0).bytes()), // ISB
  block(true, 0x0a, new Bytes(true).u32(0x544c534b).u32(4).raw([1, 2, 3, 4]).bytes()), // DSB
  block(true, 0xabcd, payload(17, 9)), // unknown
  spb(true, d[2].length, d[2]),
  pb(true, 1, (t0 + 5n) << 10n, d[3]),
);
// Section 2, big-endian, version 1.2: raw IP in ms, IPv4 in ps (bigint path; 64 bits of ps reach only 1970-07); an SPB cut to interface 0's snaplen.
const section2 = concat(
  shb(false, [1, 2]),
  idb(false, 101, 64, [[9, Uint8Array.of(3)]]),
  idb(false, 228, 0, [[9, Uint8Array.of(12)]]),
  epb(false, 1, 10_000_000n * 1_000_000_000_000n + 999_999_999_999n, d[4]),
  spb(false, 100, d[5]),
  epb(false, 0, t0 * 1000n + 7n, d[6]),
);
// Section 3, little-endian: 2^-30 (fast path) and 2^-40 (bigint path).
const section3 = concat(
  shb(true),
  idb(true, 1, 0, [[9, Uint8Array.of(0x80 | 30)]]),
  idb(true, 1, 0, [[9, Uint8Array.of(0x80 | 40)]]),
  epb(true, 0, (t0 << 30n) + 0x3fffffffn, d[7]),
  epb(true, 1, (10_000_000n << 40n) + 0x123456789an, d[8]),
);
const rich = concat(section1, section2, section3);

const expected: Expect[] = [
  { ifIndex: 0, linkType: 1, ts: t0 * NS + 123_456_789n, units: NS, offset: 0n, data: d[0] },
  { ifIndex: 1, linkType: 0, ts: (t0 << 10n) + 1023n, units: 1024n, offset: 1000n, data: d[1], origLen: 40 },
  { ifIndex: 0, linkType: 1, ts: 0n, units: NS, offset: 0n, data: d[2] },
  { ifIndex: 1, linkType: 0, ts: (t0 + 5n) << 10n, units: 1024n, offset: 1000n, data: d[3] },
  { ifIndex: 1, linkType: 228, ts: 10_000_000n * 1_000_000_000_000n + 999_999_999_999n, units: 1_000_000_000_000n, offset: 0n, data: d[4] },
  { ifIndex: 0, linkType: 101, ts: 0n, units: 1000n, offset: 0n, data: d[5], origLen: 100 },
  { ifIndex: 0, linkType: 101, ts: t0 * 1000n + 7n, units: 1000n, offset: 0n, data: d[6] },
  { ifIndex: 0, linkType: 1, ts: (t0 << 30n) + 0x3fffffffn, units: 1n << 30n, offset: 0n, data: d[7] },
  { ifIndex: 1, linkType: 1, ts: (10_000_000n << 40n) + 0x123456789an, units: 1n << 40n, offset: 0n, data: d[8] },
];

describe('pcapng sections, interfaces and timestamps', () => {
  const file = save(rich);

  it('reads every packet block of three sections with their interface\'s link type, id and clock', () => {
    const r = openCapture(file);
    // Opening reads up to the first interface, so the link type is known before the first packet.
    expect([r.format, r.linkType, r.snaplen, r.interfaces.length]).toEqual(['pcapng', 1, 262144, 1]);
    r.close();
    const { frames, error } = readAll(file);
    expect(error).toBeNull();
    expect(frames.map((f) => [f.number, f.ifIndex, f.linkType, f.tsSec, f.tsNsec, f.capLen, f.origLen])).toEqual(
      expected.map((e, i) => [i + 1, e.ifIndex, e.linkType, ...time(e), e.data.length, e.origLen ?? e.data.length]));
    frames.forEach((f, i) => expect(Buffer.from(f.data).equals(Buffer.from(expected[i].data)), `frame ${i + 1}`).toBe(true));
  });

  it('lists the interfaces of every section and the link types seen', () => {
    const r = openCapture(file);
    while (r.next());
    expect(r.interfaces.map((i) => [i.linkType, i.snaplen, i.name])).toEqual([
      [1, 262144, 'eth0'], [0, 100, ''], [101, 64, ''], [228, 262144, ''], [1, 262144, ''], [1, 262144, ''],
    ]);
    expect(r.linkTypes).toEqual([1, 0, 101, 228]);
    expect(r.nanosecond).toBe(true);
    r.close();
  });

  it.skipIf(!haveTshark)('agrees with tshark on times, lengths, link types and interface ids (where tshark\'s arithmetic holds)', () => {
    const out = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.interface_id', '-e', 'frame.time_epoch',
      '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.encap_type'], { encoding: 'utf8' }).stdout;
    // Custom blocks are records without an encapsulation in Wireshark; SPBs have no time.
    const theirs = out.split('\n').filter((l) => l && l.split('\t')[4]).map((l) => l.split('\t')).map((c) => [c[0], c[1] || '0.000000000', c[2], c[3], c[4]].join(' '));
    const encap: Record<number, number> = { 0: 15, 1: 1, 101: 7, 228: 129 };
    const ours = readAll(file).frames.map((f) => [f.ifIndex, epoch(f), f.origLen, f.capLen, encap[f.linkType]].join(' '));
    // Wireshark (like libpcap) computes fraction * 1e9 in 64 bits, which overflows for clocks finer
    // than about 2^-34 s: frames 5 (10^-12) and 9 (2^-40) differ there in the nanoseconds only.
    const overflowing = [4, 8];
    for (const i of overflowing) {
      expect(ours[i].split('.')[0]).toBe(theirs[i].split('.')[0]);
      expect(ours[i]).not.toBe(theirs[i]);
    }
    expect(ours.filter((_, i) => !overflowing.includes(i))).toEqual(theirs.filter((_, i) => !overflowing.includes(i)));
  });

  it('reads identically with any chunk size', () => {
    const whole = readAll(file).frames;
    for (const chunkSize of [1, 5, 64, 300]) expect(readAll(file, { chunkSize }).frames).toEqual(whole);
  });

  it('reads through a skipped block bigger than the buffer without holding it', () => {
    const bytes = concat(shb(true), idb(true, 1, 0), block(true, 0xabcd, payload(5000, 1)), epb(true, 0, 5n, d[0]));
    const { frames, error } = readAll(save(bytes), { chunkSize: 64 });
    expect(error).toBeNull();
    expect(frames.length).toBe(1);
    const cut = readAll(save(bytes.subarray(0, 28 + 20 + 3000)), { chunkSize: 64 });
    expect(cut.error?.message).toBe('truncated block at byte 48: 5012 bytes, only 3000 present');
  });
});

describe('pcapng truncated at every byte', () => {
  const blocks = [shb(true), idb(true, 1, 0), epb(true, 0, 1n, d[0]), block(true, 0xbad, payload(8, 1)), epb(true, 0, 2n, d[1]), epb(true, 0, 3n, d[2])];
  const full = concat(...blocks);
  const starts: number[] = [];
  let o = 0;
  for (const b of blocks) { starts.push(o); o += b.length; }
  const packetEnds = [2, 4, 5].map((i) => starts[i] + blocks[i].length);

  it('delivers every complete packet, then names the offset of the broken block', () => {
    for (let cut = 12; cut < full.length; cut++) {
      const file = save(full.subarray(0, cut));
      if (cut < blocks[0].length) {
        expect(() => openCapture(file), `cut at ${cut}`).toThrow(`truncated section header block at byte 0: 28 bytes, only ${cut} present`);
        continue;
      }
      const { frames, error } = readAll(file);
      expect(frames.length, `cut at ${cut}`).toBe(packetEnds.filter((e) => e <= cut).length);
      if (starts.includes(cut)) {
        expect(error, `cut at ${cut}`).toBeNull();
        continue;
      }
      const i = starts.filter((s) => s <= cut).length - 1;
      const at = starts[i];
      expect(error?.offset, `cut at ${cut}`).toBe(at);
      expect(error?.message, `cut at ${cut}`).toBe(cut - at < 12
        ? `truncated block header at byte ${at}: ${cut - at} of 12 bytes present`
        : `truncated block at byte ${at}: ${blocks[i].length} bytes, only ${cut - at} present`);
    }
  });
});

describe('damaged pcapng: the packets before the damage, then one clear error', () => {
  const good = concat(shb(true), idb(true, 1, 0), epb(true, 0, 1n, d[0]));
  const at = good.length;

  function errorAfterGood(tail: Uint8Array): { frames: number; message: string | undefined; offset: number | undefined } {
    const { frames, error } = readAll(save(concat(good, tail)));
    return { frames: frames.length, message: error?.message, offset: error?.offset };
  }

  const setLen = (b: Uint8Array, len: number) => {
    const c = b.slice();
    new DataView(c.buffer).setUint32(4, len, true);
    new DataView(c.buffer).setUint32(c.length - 4, len, true);
    return c;
  };

  const cases: Array<[string, Uint8Array, string]> = [
    ['a length that is not a multiple of 4', setLen(epb(true, 0, 2n, d[1]), 13), `bad block length 13 at byte ${at}`],
    ['a length shorter than a block', setLen(epb(true, 0, 2n, d[1]), 8), `bad block length 8 at byte ${at}`],
    ['a trailer that disagrees', (() => { const b = epb(true, 0, 2n, d[1]); new DataView(b.buffer).setUint32(b.length - 4, 60, true); return b; })(),
      `block total length in header (64) and trailer (60) don't match at byte ${at}`],
    ['a packet for an interface never described', epb(true, 5, 2n, d[1]), `packet block at byte ${at} is for interface 5, which has no interface description block`],
    ['a captured length beyond the block', (() => { const b = epb(true, 0, 2n, d[1]); new DataView(b.buffer).setUint32(20, 1000, true); return b; })(),
      `captured length 1000 overruns the 64-byte packet block at byte ${at}`],
    ['an absurd packet block length', new Bytes(true).u32(6).u32(0x7ffffff0).u32(0).bytes(),
      `block length 2147483632 at byte ${at} is larger than the maximum of 134348800`],
    ['a later section of an unsupported version', shb(true, [2, 0]), `unsupported pcapng section version 2.0 at byte ${at}`],
    ['a later section with a bad byte-order magic', (() => { const b = shb(true); b[8] = 0x99; return b; })(),
      `bad byte-order magic 0x1a2b3c99 in section header block at byte ${at}`],
    ['an interface option that overruns its block', (() => { const b = idb(true, 1, 0, [[2, text('eth1')]]); new DataView(b.buffer).setUint16(18, 200, true); return b; })(),
      `option 2 of length 200 overruns the interface description block at byte ${at}`],
    ['an if_tsresol finer than 64 bits can count', idb(true, 1, 0, [[9, Uint8Array.of(0x80 | 64)]]), `if_tsresol 2^-64 is too fine at byte ${at}`],
  ];
  for (const [what, tail, message] of cases) {
    it(what, () => {
      expect(errorAfterGood(tail)).toEqual({ frames: 1, message, offset: at });
    });
  }

  it('a packet before any interface: no packets, then the error', () => {
    const { frames, error } = readAll(save(concat(shb(true), epb(true, 0, 1n, d[0]))));
    expect(frames.length).toBe(0);
    expect(error?.message).toBe('packet block at byte 28 is for interface 0, which has no interface description block');
  });

  it('no interface at all (custom blocks only): zero packets, no error, as tshark reads it', () => {
    const r = openCapture(save(concat(shb(false), block(false, 0xbad, payload(12, 1)))));
    expect([r.linkType, r.next()]).toEqual([-1, null]);
  });

  it('an unsupported first section or a broken first block fails at open', () => {
    expect(() => openCapture(save(concat(shb(true, [2, 0]), good.subarray(28))))).toThrow(/^unsupported pcapng savefile version 2\.0$/);
    expect(() => openCapture(save(concat(shb(false, [1, 1]), idb(false, 1, 0))))).toThrow(/^unsupported pcapng savefile version 1\.1$/);
    const badTrailer = good.slice();
    badTrailer[24] = 99;
    expect(() => openCapture(save(badTrailer))).toThrow("section header block total length in header (28) and trailer (99) don't match at byte 0");
    const tooLong = good.slice();
    new DataView(tooLong.buffer).setUint32(4, 0x01000000, true);
    expect(() => openCapture(save(tooLong))).toThrow('bad section header block length 16777216 at byte 0');
  });

  it('keeps throwing the same error', () => {
    const r = openCapture(save(concat(good, shb(true, [2, 0]))));
    expect(r.next()).not.toBeNull();
    expect(() => r.next()).toThrow(CaptureFileError);
    expect(() => r.next()).toThrow(/section version 2\.0/);
  });
});
