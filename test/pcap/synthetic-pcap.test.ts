/**
 * Classic pcap files written byte by byte: both byte orders, micro/nanoseconds, old versions,
 * snaplen clipping, chunk boundaries, truncation at every byte, and files that are not captures.
 * Where tshark/tcpdump are installed, they read the same files and must agree.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { openCapture, CaptureFileError } from '../../src/pcap/reader.js';
import { hasTool } from '../conformance/corpus.js';
import { makeTempDir, readAll, epoch, pcapFile, payload, parseClassicPcap, type PcapRecord } from './helpers.js';

const tmp = makeTempDir('pcap-synth');
afterAll(() => tmp.cleanup());
const haveTshark = hasTool('tshark');
const haveTcpdump = hasTool('tcpdump');
if (!haveTshark) console.log('synthetic pcap: tshark comparisons skipped (tshark is not installed)');
if (!haveTcpdump) console.log('synthetic pcap: tcpdump comparisons skipped (tcpdump is not installed)');

let serial = 0;
function save(bytes: Uint8Array, name = `f${serial++}.pcap`): string {
  const p = path.join(tmp.dir, name);
  writeFileSync(p, bytes);
  return p;
}

const records: PcapRecord[] = [
  { sec: 1700000000, frac: 123456, data: payload(60, 1) },
  { sec: 1700000001, frac: 0, data: payload(0, 2), origLen: 64 },
  { sec: 1700000002, frac: 999999, data: payload(1514, 3), origLen: 9000 },
  { sec: 0xfffffff0, frac: 5, data: payload(42, 4) },
];

/** tshark's view: time, len, cap_len per frame. */
function tsharkView(file: string): string[] {
  const r = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l);
}

describe('classic pcap, both byte orders, micro- and nanoseconds', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`${le ? 'little' : 'big'}-endian, ${nano ? 'nano' : 'micro'}seconds`, () => {
        const file = save(pcapFile({ le, nano, snaplen: 65535, linkField: 1, records }));
        const r = openCapture(file);
        expect([r.format, r.linkType, r.snaplen, r.nanosecond]).toEqual(['pcap', 1, 65535, nano]);
        r.close();
        const { frames, error } = readAll(file);
        expect(error).toBeNull();
        expect(frames.map((f) => [f.number, f.tsSec, f.tsNsec, f.capLen, f.origLen, f.linkType, f.ifIndex])).toEqual(
          records.map((rec, i) => [i + 1, rec.sec, rec.frac * (nano ? 1 : 1000), rec.data.length, rec.origLen ?? rec.data.length, 1, 0]));
        frames.forEach((f, i) => expect(Buffer.from(f.data).equals(Buffer.from(records[i].data))).toBe(true));
        if (haveTshark) {
          expect(frames.map((f) => `${epoch(f)}\t${f.origLen}\t${f.capLen}`)).toEqual(tsharkView(file));
        }
      });
    }
  }

  it('takes the link type from the low 16 bits, ignoring the FCS bits as libpcap does', () => {
    const file = save(pcapFile({ le: true, linkField: 0xa4000001, records }));
    expect(openCapture(file).linkType).toBe(1);
  });

  it('refuses reserved link-type bits', () => {
    const file = save(pcapFile({ le: true, linkField: 0x00300000, records }));
    expect(() => openCapture(file)).toThrow(/reserved bits 0x00300000 are not zero/);
  });

  it('reports libpcap\'s snapshot length (0 and oversized become 262144)', () => {
    expect(openCapture(save(pcapFile({ le: true, snaplen: 0, records }))).snaplen).toBe(262144);
    expect(openCapture(save(pcapFile({ le: false, snaplen: 0x80000000, records }))).snaplen).toBe(262144);
    expect(openCapture(save(pcapFile({ le: true, snaplen: 96, records: [] }))).snaplen).toBe(96);
  });

  it('swaps captured/original lengths in version 2.2 files, and in 2.3 when caplen > len', () => {
    const data = payload(40, 9);
    // Written by an old libpcap: the first length field is the original length.
    const v22 = save(pcapFile({ le: true, version: [2, 2], records: [{ sec: 1, frac: 0, data, origLen: 100 }] }));
    const bytes = pcapFile({ le: true, version: [2, 2], records: [{ sec: 1, frac: 0, data, origLen: 100 }] });
    new DataView(bytes.buffer).setUint32(24 + 8, 100, true);
    new DataView(bytes.buffer).setUint32(24 + 12, 40, true);
    writeFileSync(v22, bytes);
    const f = readAll(v22).frames[0];
    expect([f.capLen, f.origLen]).toEqual([40, 100]);
    // 2.3: swapped only when the first field is larger.
    bytes[6] = 3;
    const v23 = save(bytes);
    expect([readAll(v23).frames[0].capLen, readAll(v23).frames[0].origLen]).toEqual([40, 100]);
    const normal = save(pcapFile({ le: true, version: [2, 3], records: [{ sec: 1, frac: 0, data, origLen: 100 }] }));
    expect([readAll(normal).frames[0].capLen, readAll(normal).frames[0].origLen]).toEqual([40, 100]);
  });

  it('reads DG/UX 543.0 files (swapped lengths) and Kuznetzov\'s patched format (24-byte record headers)', () => {
    const data = payload(40, 9);
    const dgux = pcapFile({ le: true, version: [543, 0], records: [{ sec: 1, frac: 0, data, origLen: 40 }] });
    // DG/UX wrote the original length where the captured length belongs.
    new DataView(dgux.buffer).setUint32(24 + 8, 100, true);
    new DataView(dgux.buffer).setUint32(24 + 12, 40, true);
    const f = readAll(save(dgux)).frames[0];
    expect([f.capLen, f.origLen]).toEqual([40, 100]);
    // Kuznetzov: magic a1b2cd34, each record header followed by ifindex, protocol, pkt_type and a pad byte.
    const b = pcapFile({ le: false, records: [] });
    new DataView(b.buffer).setUint32(0, 0xa1b2cd34, false);
    const rec = new Uint8Array(24 + 40);
    const v = new DataView(rec.buffer);
    v.setUint32(0, 7, false); v.setUint32(4, 8, false); v.setUint32(8, 40, false); v.setUint32(12, 60, false);
    v.setUint32(16, 2, false); v.setUint16(20, 0x0800, false); rec[22] = 4;
    rec.set(data, 24);
    const kuz = save(new Uint8Array([...b, ...rec, ...rec]));
    const r = openCapture(kuz);
    expect(r.snaplen).toBe(65535 + 14); // libpcap allows for the cooked Ethernet header
    r.close();
    const frames = readAll(kuz).frames;
    expect(frames.map((x) => [x.tsSec, x.tsNsec, x.capLen, x.origLen])).toEqual([[7, 8000, 40, 60], [7, 8000, 40, 60]]);
    expect(Buffer.from(frames[1].data).equals(Buffer.from(data))).toBe(true);
  });

  it('cuts records longer than the snaplen as libpcap does, or keeps them whole (tshark\'s view)', () => {
    const data = payload(100, 5);
    const file = save(pcapFile({ le: true, snaplen: 60, records: [{ sec: 1, frac: 2, data }, { sec: 3, frac: 4, data: payload(10, 6) }] }));
    const clipped = readAll(file).frames;
    expect(clipped.map((f) => [f.capLen, f.origLen])).toEqual([[60, 100], [10, 10]]);
    expect(Buffer.from(clipped[0].data).equals(Buffer.from(data.subarray(0, 60)))).toBe(true);
    expect(Buffer.from(clipped[1].data).equals(Buffer.from(payload(10, 6)))).toBe(true);
    const whole = readAll(file, { clipToSnaplen: false }).frames;
    expect(whole.map((f) => [f.capLen, f.origLen])).toEqual([[100, 100], [10, 10]]);
    if (haveTcpdump) {
      const x = spawnSync('tcpdump', ['-r', file, '-xx'], { encoding: 'utf8' }).stdout;
      // tcpdump prints 60 bytes of the first packet: 3 full hex lines and 12 bytes.
      expect(x.split('\n')[4]).toMatch(/^\t0x0030:  (\w{4} ){5}\w{4}$/);
    }
  });

  it('reads identically with any chunk size, frames larger than the chunk included', () => {
    const big = [...records, { sec: 5, frac: 6, data: payload(5000, 7) }, { sec: 7, frac: 8, data: payload(3, 8) }];
    const file = save(pcapFile({ le: false, records: big }));
    const expected = readAll(file).frames;
    for (const chunkSize of [1, 7, 16, 64, 4096]) {
      const { frames, error } = readAll(file, { chunkSize });
      expect(error).toBeNull();
      expect(frames).toEqual(expected);
    }
  });

  it('reads grow from 128 KiB to 1 MiB over a long file, the same frames; a given chunk size stays fixed', () => {
    const many = Array.from({ length: 4000 }, (_, i) => ({ sec: 1700000000 + i, frac: i, data: payload(1000 + (i % 500), i) }));
    const file = save(pcapFile({ le: true, records: many }));
    const sizes = (opts: { chunkSize?: number }) => {
      const r = openCapture(file, opts);
      const seen = new Set<number>();
      const frames = [];
      for (let f = r.next(); f; f = r.next()) {
        seen.add((r as unknown as { src: { buf: Uint8Array } }).src.buf.length);
        frames.push({ ...f, data: f.data.slice() });
      }
      r.close();
      return { seen: [...seen].sort((a, b) => a - b), frames };
    };
    const grown = sizes({});
    expect(grown.seen).toEqual([1 << 17, 1 << 18, 1 << 19, 1 << 20]);
    const fixed = sizes({ chunkSize: 4096 });
    expect(fixed.seen).toEqual([4096]);
    expect(grown.frames).toEqual(fixed.frames);
    expect(grown.frames.map((f) => f.data)).toEqual(many.map((m) => m.data));
  });

  it('rejects a captured length beyond the link type\'s maximum after the frames before it', () => {
    const bytes = pcapFile({ le: true, records: [records[0], { sec: 1, frac: 1, data: payload(8, 1) }] });
    const second = 24 + 16 + 60;
    new DataView(bytes.buffer).setUint32(second + 8, 300000, true);
    const { frames, error } = readAll(save(bytes));
    expect(frames.length).toBe(1);
    expect(error?.message).toBe(`invalid captured length 300000 in packet record at byte ${second} (maximum 262144)`);
    expect(error?.offset).toBe(second);
  });

  it('delivers every complete record of a file cut at any byte, then names the broken record\'s offset', () => {
    const sweep = records.map((r) => ({ ...r, data: r.data.subarray(0, 100) }));
    const full = pcapFile({ le: true, records: sweep });
    const starts: number[] = [];
    let o = 24;
    for (const r of sweep) { starts.push(o); o += 16 + r.data.length; }
    starts.push(o);
    for (let cut = 24; cut < full.length; cut++) {
      const { frames, error } = readAll(save(full.subarray(0, cut), 'cut.pcap'));
      const complete = starts.filter((s, i) => i > 0 && s <= cut).length;
      expect(frames.length, `cut at ${cut}`).toBe(complete);
      if (starts.includes(cut)) {
        expect(error, `cut at ${cut}`).toBeNull();
        continue;
      }
      const at = starts[complete];
      const inHeader = cut - at < 16;
      expect(error?.message, `cut at ${cut}`).toMatch(
        inHeader ? new RegExp(`^truncated packet record header at byte ${at}: ${cut - at} of 16 bytes present$`)
          : new RegExp(`^truncated packet record at byte ${at}: ${sweep[complete].data.length} captured bytes, only ${cut - at - 16} present$`));
      expect(error?.offset).toBe(at);
      expect(error?.file).toContain('cut.pcap');
    }
  });

  it.skipIf(!haveTcpdump)('delivers the same complete records as libpcap before a truncation', () => {
    const full = pcapFile({ le: true, records });
    for (const cut of [24 + 8, 24 + 16 + 30, 24 + 16 + 60 + 16 + 0 + 10, full.length - 1]) {
      const file = save(full.subarray(0, cut), 'cut2.pcap');
      const out = path.join(tmp.dir, 'cut2-out.pcap');
      const td = spawnSync('tcpdump', ['-r', file, '-w', out], { encoding: 'utf8' });
      expect(td.stderr).toMatch(/truncated dump file/);
      expect(parseClassicPcap(readFileSync(out)).records.length).toBe(readAll(file).frames.length);
    }
  });
});

describe('files that are not captures fail at open with one line', () => {
  const cases: Array<[string, Uint8Array | null, RegExp]> = [
    ['text.txt', new TextEncoder().encode('hello world, this is text\n'), /^unknown file format$/],
    ['empty.pcap', new Uint8Array(0), /^empty file, not a capture file$/],
    ['short.pcap', Uint8Array.of(0xd4, 0xc3), /^truncated dump file: only 2 bytes$/],
    ['header.pcap', pcapFile({ le: true, records: [] }).subarray(0, 10), /^truncated dump file: the file header is 24 bytes, only 10 present$/],
    ['old.pcap', pcapFile({ le: true, version: [1, 4], records }), /^archaic pcap savefile format \(version 1\.4\)$/],
    ['new.pcap', pcapFile({ le: false, version: [2, 5], records }), /^unsupported pcap savefile version 2\.5$/],
    ['zipped.pcap.gz', gzipSync(pcapFile({ le: true, records })), /^unknown file format \(gzip-compressed: gunzip it first\)$/],
    ['badbom.pcapng', Uint8Array.of(10, 13, 13, 10, 28, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0), /^unknown file format$/],
  ];
  for (const [name, bytes, re] of cases) {
    it(name, () => {
      const file = save(bytes!, name);
      let err: unknown = null;
      try { openCapture(file); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CaptureFileError);
      expect((err as CaptureFileError).message).toMatch(re);
      expect((err as CaptureFileError).message).not.toContain('\n');
    });
  }

  it('a missing file or a directory: the system\'s reason', () => {
    const missing = path.join(tmp.dir, 'nope.pcap');
    expect(() => openCapture(missing)).toThrow(`${missing}: No such file or directory`);
    try { openCapture(missing); } catch (e) { expect((e as CaptureFileError).code).toBe('ENOENT'); }
    const dir = path.join(tmp.dir, 'adir');
    mkdirSync(dir);
    expect(() => openCapture(dir)).toThrow('error reading dump file: Is a directory');
  });
});
