/**
 * tcpdump's per-segment HTTP text (print-http.c through txtproto_print) on the segments of tcpdump's
 * HTTP ports (80, 8080): wirescope's lines against the real tcpdump 4.99.3's, at -n, -v, -vv, -x
 * and -q, on every corpus capture with such segments and the fixtures; plus the truncation sweep
 * and decode→encode identity on real HTTP frames, and crafted payloads for the printer's edges.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame, type Packet } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { openCapture } from '../../src/pcap/reader.js';
import { HttpLayer } from '../../dissectors/http.js';
import { textOptionsFromFlags, wirescopeText } from '../conformance/tcpdump-text.js';
import { expectReencodes, sweepTruncation, tcpdumpText, toolSkipReason, withPcap } from '../dissectors/link-helpers.js';
import { corpusDir, corpusHttpCaptures, haveCorpus, plainCapture, repoRoot } from './harness.js';
import { TextOut } from '../../src/output/text.js';

const skipTcpdump = toolSkipReason('tcpdump');
if (skipTcpdump) console.log(`http tcpdump text: ${skipTcpdump}, skipped`);
if (!haveCorpus) console.log('http tcpdump text: ../shared/corpus absent, corpus comparison skipped');

function isHttpSegment(p: Packet): boolean {
  return p.layers.some((l) => l instanceof HttpLayer && l.msg === null);
}

/** Frames (copied, cut to the snaplen as tcpdump reads them) of a capture that carry an HTTP segment layer. */
function httpFrames(file: string): Frame[] {
  const out: Frame[] = [];
  let r;
  try {
    r = openCapture(file);
  } catch {
    return out;
  }
  try {
    for (let f = r.next(); f !== null; f = r.next()) {
      const copy = { ...f, data: f.data.slice(0, f.capLen) };
      if (isHttpSegment(decodeFrame(copy))) out.push(copy);
    }
  } catch {
    // A damaged file: the frames before the damage.
  } finally {
    r.close();
  }
  return out;
}

/** Captures to compare: the corpus's HTTP captures, tcpdump's own tests with HTTP segments, and the fixtures. */
function captures(): string[] {
  const files = new Set<string>();
  for (const name of ['http.pcap', 'snaplen-60.pcap', 'tcp-sack-rst.pcap']) files.add(path.join(repoRoot, 'fixtures', name));
  if (haveCorpus) {
    for (const rel of corpusHttpCaptures()) files.add(path.join(corpusDir, rel));
    for (const dir of ['tcpdump', 'tcpdump/malformed']) {
      for (const f of readdirSync(path.join(corpusDir, dir))) if (/\.pcap(ng)?$/.test(f)) files.add(path.join(corpusDir, dir, f));
    }
  }
  return [...files];
}

const FLAG_SETS = [['-n'], ['-n', '-v'], ['-n', '-vv'], ['-n', '-x'], ['-n', '-q']];

describe.skipIf(skipTcpdump !== '')('HTTP segments as tcpdump prints them', () => {
  it('lines identical to tcpdump 4.99.3 on every capture with HTTP on ports 80/8080', () => {
    let lines = 0;
    let same = 0;
    let files = 0;
    let frames = 0;
    const diffs: string[] = [];
    for (const orig of captures()) {
      const file = plainCapture(orig);
      const chosen = new Set(httpFrames(file).map((f) => f.number));
      if (chosen.size === 0) continue;
      files++;
      frames += chosen.size;
      for (const flags of FLAG_SETS) {
        const want = tcpdumpText(file, flags);
        const got = wirescopeText(file, textOptionsFromFlags(['-t', ...flags])!).packets;
        for (const n of chosen) {
          // tcpdump stops at a pcapng file's second link type: frames it never printed are not compared.
          const w = want.get(n);
          if (w === undefined) continue;
          const g = got.get(n) ?? [];
          for (let k = 0; k < Math.max(w.length, g.length); k++) {
            lines++;
            if (w[k] === g[k]) same++;
            else if (diffs.length < 12) diffs.push(`${path.relative(corpusDir, orig)} ${flags.join(' ')} #${n}\n  tcpdump:   ${w[k]}\n  wirescope: ${g[k]}`);
          }
        }
      }
    }
    console.log(`http segments vs tcpdump: ${files} captures, ${frames} frames, flags ${FLAG_SETS.map((f) => f.join(' ')).join(' | ')}: ` +
      `${same}/${lines} lines identical (${((100 * same) / lines).toFixed(2)}%)` + (diffs.length ? '\n' + diffs.join('\n') : ''));
    expect(frames).toBeGreaterThan(10);
    expect(diffs).toEqual([]);
  });

  it('prints crafted payloads as tcpdump does: tokens, tabs, bare CR, binary, unterminated lines, cut captures', () => {
    const payloads = [
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      'get /lower HTTP/1.0\n\n',
      'HTTP/1.1 200 OK\r\nX: 1\r\n\r\n<html>\r\n\x00binary',
      'HTTP/1.1\t200 OK\r\n\r\n',
      'FOO 123 bar\r\n',
      'FOO 1234 bar\r\n',
      'GET /no-line-end',
      'POST / HTTP/1.1\r\nA: b\rc\r\n\r\n',
      'GET\r\n',
      'x'.repeat(140) + ' 200\r\n',
      '\x80GET / HTTP/1.1\r\n',
      'PROPFIND /dav HTTP/1.1\r\nDepth: 1\r\n\r\n\tindented\r\nend\r',
    ];
    const frames: Frame[] = [];
    const mk = (payload: string, cut: number) => {
      const p = Uint8Array.from(payload, (c) => c.charCodeAt(0));
      const ip = new Uint8Array(40 + p.length);
      const dv = new DataView(ip.buffer);
      dv.setUint16(0, 0x4500);
      dv.setUint16(2, ip.length);
      dv.setUint16(6, 0x4000);
      ip[8] = 64; ip[9] = 6;
      ip.set([192, 0, 2, 1, 198, 51, 100, 2], 12);
      dv.setUint16(20, 40000); dv.setUint16(22, 80);
      dv.setUint32(24, 1000); dv.setUint32(28, 2000);
      dv.setUint16(32, 0x5018); dv.setUint16(34, 512);
      ip.set(p, 40);
      const data = ip.subarray(0, Math.min(ip.length, cut));
      frames.push({ number: frames.length + 1, linkType: 228, tsSec: 1_600_000_000, tsNsec: 0, capLen: data.length, origLen: ip.length, data: data.slice(), ifIndex: 0 });
    };
    for (const pl of payloads) {
      mk(pl, 1 << 20);
      for (const cut of [41, 45, 40 + Math.floor(pl.length / 2), 40 + pl.length - 1]) mk(pl, cut);
    }
    withPcap(frames, (file) => {
      for (const flags of [['-n'], ['-n', '-v'], ['-n', '-x']]) {
        const want = tcpdumpText(file, flags);
        const out = new TextOut(textOptionsFromFlags(['-t', ...flags])!);
        for (const f of frames) {
          expect({ flags, frame: f.number, text: out.formatPacket(decodeFrame(f)).split('\n') }).toEqual({ flags, frame: f.number, text: want.get(f.number) });
        }
      }
    });
  });
});

describe('HTTP segment layers', () => {
  const frames = httpFrames(path.join(repoRoot, 'fixtures', 'snaplen-60.pcap'));
  const corpus = haveCorpus ? httpFrames(path.join(corpusDir, 'tcpdump/print-flags.pcap')) : [];

  it('decode and print without throwing at every truncation, marking the cut layer', () => {
    const all = [...frames, ...corpus];
    expect(all.length).toBeGreaterThan(0);
    for (const f of all) sweepTruncation(f);
  });

  it('encode back to the same bytes', () => {
    let checked = 0;
    for (const f of corpus) if (expectReencodes(f)) checked++;
    if (haveCorpus) expect(checked).toBeGreaterThan(0);
  });
});
