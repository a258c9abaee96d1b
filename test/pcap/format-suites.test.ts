/**
 * The format test suites in the corpus: gopacket's pcapng conformance files (made with
 * pcapng-test-generator, little- and big-endian) and libpcap's deliberately invalid files, whose
 * errors are compared with what tcpdump (libpcap 1.10) says about them.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { openCapture, CaptureFileError } from '../../src/pcap/reader.js';
import { corpusDir, hasCorpus, hasTool } from '../conformance/corpus.js';
import { readAll, epoch } from './helpers.js';

const gopacket = path.join(corpusDir, 'gopacket/pcapgo/tests');
const libpcapTests = path.join(corpusDir, 'libpcap/tests');
const haveGopacket = hasCorpus && existsSync(gopacket);
if (!haveGopacket) console.log('gopacket pcapng suite skipped: ../shared/corpus/gopacket is absent');
const haveTcpdump = hasTool('tcpdump');

describe.skipIf(!haveGopacket)('gopacket pcapng conformance files', () => {
  const be = ['test001', 'test006', 'test008', 'test010', 'test016', 'test100', 'test202', 'test901'];

  it('each big-endian file reads exactly as its little-endian twin', () => {
    for (const name of be) {
      const a = readAll(path.join(gopacket, 'le', name + '.pcapng'));
      const b = readAll(path.join(gopacket, 'be', name + '.pcapng'));
      expect(b.frames, name).toEqual(a.frames);
      expect(b.error?.message, name).toBe(a.error?.message);
    }
  });

  it('test902: if_tsresol 2^-8', () => {
    const { frames, error } = readAll(path.join(gopacket, 'le/test902.pcapng'));
    expect(error).toBeNull();
    expect(frames.map(epoch)).toEqual(['1519128000.195312500']);
  });

  it('test901: the packet of the first section, then the unsupported version 2.0 of the second', () => {
    const { frames, error } = readAll(path.join(gopacket, 'le/test901.pcapng'));
    expect(frames.length).toBe(1);
    expect(error?.message).toBe('unsupported pcapng section version 2.0 at byte 480');
  });

  it('test202: three sections with custom blocks, five interfaces, two link types', () => {
    for (const order of ['le', 'be']) {
      const r = openCapture(path.join(gopacket, order, 'test202.pcapng'));
      const frames: Array<[number, number]> = [];
      for (let f = r.next(); f; f = r.next()) frames.push([f.ifIndex, f.linkType]);
      expect(frames).toEqual([[0, 1], [0, 1], [1, 0], [0, 1], [0, 1], [0, 1], [0, 1], [1, 0]]);
      expect(r.interfaces.length).toBe(5);
      expect(r.linkTypes).toEqual([1, 0]);
      r.close();
    }
  });

  it('test017 (custom blocks, no interface) and test002 (no interface): no packets, no error', () => {
    for (const name of ['test002', 'test017']) {
      const { frames, error } = readAll(path.join(gopacket, 'le', name + '.pcapng'));
      expect([frames.length, error]).toEqual([0, null]);
    }
  });

  it('simple packet blocks take interface 0\'s snaplen rule and no timestamp', () => {
    // test012: SPBs of 314 and 342 bytes on an interface with snaplen 315.
    const { frames } = readAll(path.join(gopacket, 'le/test012.pcapng'));
    expect(frames.slice(0, 2).map((f) => [f.tsSec, f.tsNsec, f.origLen, f.capLen])).toEqual([[0, 0, 314, 314], [0, 0, 342, 315]]);
  });
});

/** libpcap's invalid files: our open-time error, and the message tcpdump gives for the same file. */
const INVALID: Array<[string, RegExp, RegExp]> = [
  ['pcap-invalid-version-1.pcap', /^archaic pcap savefile format \(version 1\.4\)$/, /^tcpdump: archaic pcap savefile format$/m],
  ['pcap-invalid-version-2.pcap', /^unsupported pcap savefile version 2\.5$/, /^tcpdump: unsupported pcap savefile version 2\.5$/m],
  ['pcapng-invalid-vers-1.pcapng', /^unsupported pcapng savefile version 0\.1$/, /^tcpdump: unsupported pcapng savefile version 0\.1$/m],
  ['pcapng-invalid-vers-2.pcapng', /^unsupported pcapng savefile version 1\.1$/, /^tcpdump: unsupported pcapng savefile version 1\.1$/m],
  ['shb-option-too-long.pcapng', /^section header block total length in header \(52\) and trailer \(808464432\) don't match at byte 0$/,
    /^tcpdump: block total length in header and trailer don't match$/m],
  // libpcap 1.10 passes the reserved bits through as a link type and fails later; tshark and newer libpcap refuse the file.
  ['linktype-reserved-field-not-zero.pcap', /^bad link-layer type field 0x00300000: reserved bits 0x00300000 are not zero$/,
    /^tcpdump: unknown data link type 3145728/m],
];

describe.skipIf(!hasCorpus)('libpcap\'s invalid files: a one-line error at open, as tcpdump gives', () => {
  for (const [name, ours, tcpdumps] of INVALID) {
    it(name, () => {
      const file = path.join(libpcapTests, name);
      let err: unknown = null;
      try { openCapture(file).close(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CaptureFileError);
      expect((err as CaptureFileError).message).toMatch(ours);
      expect((err as CaptureFileError).file).toBe(file);
      if (haveTcpdump) {
        const td = spawnSync('tcpdump', ['-r', file], { encoding: 'utf8' });
        expect(td.status).toBe(1);
        expect(td.stderr).toMatch(tcpdumps);
      }
    });
  }
});
