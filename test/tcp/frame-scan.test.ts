/**
 * trackFile reads plain TCP segments from the frames' bytes and passes over frames that hold no
 * TCP (frame-scan.ts) instead of decoding them: on every capture of the fixtures and the corpus,
 * the tracker must come out exactly as when every frame is decoded (stream numbers, analysis flags
 * and counters per frame, reassembled bytes and events, the connections at the end).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { corpusDir, hasCorpus, repoRoot } from '../conformance/corpus.js';
import { trackFile } from '../../src/tcp/conns.js';
import type { StreamSink } from '../../src/tcp/reassembler.js';
import { PlainSegment, scanFrame, SCAN_DECODE, SCAN_NO_TCP, SCAN_TCP } from '../../src/tcp/frame-scan.js';
import type { Frame } from '../../src/core/frame.js';

if (!hasCorpus) console.log('skipping corpus captures in the frame-scan comparison: ../shared/corpus is absent');

const CAPTURE = /\.(pcap|pcapng|cap|dmp)$/;

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (CAPTURE.test(name)) out.push(p);
  }
  return out.sort();
}

/** Everything the tracker tells, one line per frame, chunk, event and connection. */
function trace(file: string, decodeAll: boolean): string[] {
  const lines: string[] = [];
  const sink: StreamSink = {
    chunk: (c) => lines.push(`chunk ${c.dir} ${c.seq} ${c.bytes.length} ${Buffer.from(c.bytes).toString('hex')} ${c.time.frame}`),
    event: (e) => lines.push(`event ${JSON.stringify(e)}`),
    complete: (dir, how, time) => lines.push(`complete ${dir} ${how} ${time?.frame}`),
  };
  let res;
  try {
    res = trackFile(file, {
      decodeAll,
      sink: () => sink,
      onFrame: (_selected, t, f) => {
        const segs = t.segments.map((s) => `${s.conn.stream}/${s.dir}/${s.counted}/${s.analysis}`);
        lines.push(`frame ${f.number} [${t.streams.join(',')}] ${segs.join(' ')}`);
        return true;
      },
    });
  } catch (e) {
    return [`error ${String(e)}`];
  }
  for (const c of res.tracker.connections()) {
    const { reassembly: _r, sameHash: _h, older: _o, newer: _n, ...fields } = c;
    lines.push(`conn ${JSON.stringify(fields)}`);
  }
  lines.push(`end ${res.frames} ${res.tracker.evicted} ${res.error?.message}`);
  return lines;
}

function frame(bytes: number[], capLen = bytes.length, origLen = bytes.length): Frame {
  return { number: 1, linkType: 1, tsSec: 0, tsNsec: 0, capLen, origLen, data: Uint8Array.from(bytes), ifIndex: 0 };
}

const ETH_IPV4 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];

function ipv4(proto: number, payload: number[], flagsFrag = 0): number[] {
  const len = 20 + payload.length;
  return [0x45, 0, len >> 8, len & 0xff, 0, 1, flagsFrag >> 8, flagsFrag & 0xff, 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, ...payload];
}

function tcpHeader(dataOffset: number, extra: number[] = []): number[] {
  return [0x12, 0x34, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, dataOffset << 4, 0x02, 0xff, 0xff, 0, 0, 0, 0, ...extra];
}

describe('scanFrame', () => {
  const s = new PlainSegment();

  it('reads a plain IPv4 TCP segment as the decoder would', () => {
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(6, tcpHeader(5, [1, 2, 3]))]), s)).toBe(SCAN_TCP);
    expect([s.srcPort, s.dstPort, s.seq, s.flags, s.window, s.length, s.caplen, s.off, s.hdrLen, s.truncated]).toEqual([0x1234, 80, 1, 0x02, 0xffff, 23, 23, 34, 20, false]);
  });

  it('marks a header cut in its options truncated, and leaves a bad header length to the decoder', () => {
    const f = frame([...ETH_IPV4, ...ipv4(6, tcpHeader(8, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))]);
    expect(scanFrame({ ...f, capLen: 60, data: f.data.subarray(0, 60) }, s)).toBe(SCAN_TCP);
    expect([s.caplen, s.hdrLen, s.truncated]).toEqual([26, 32, true]);
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(6, tcpHeader(4))]), s)).toBe(SCAN_DECODE);
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(6, tcpHeader(15))]), s)).toBe(SCAN_DECODE);
  });

  it('passes over ICMP other than errors and DNS, and decodes fragments, ICMP errors and IP options', () => {
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(1, [8, 0, 0, 0, 0, 0, 0, 0])]), s)).toBe(SCAN_NO_TCP);
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(1, [3, 3, 0, 0, 0, 0, 0, 0])]), s)).toBe(SCAN_DECODE);
    // An error quoting UDP holds no TCP; one quoting TCP, or a fragment, is decoded.
    const unreachable = (quoted: number[]): Frame => frame([...ETH_IPV4, ...ipv4(1, [3, 3, 0, 0, 0, 0, 0, 0, ...quoted])]);
    expect(scanFrame(unreachable(ipv4(17, [0x30, 0x39, 0x82, 0x9a, 0, 8, 0, 0])), s)).toBe(SCAN_NO_TCP);
    expect(scanFrame(unreachable(ipv4(6, tcpHeader(5))), s)).toBe(SCAN_DECODE);
    expect(scanFrame(unreachable(ipv4(17, [0x30, 0x39, 0x82, 0x9a, 0, 8, 0, 0], 0x2000)), s)).toBe(SCAN_DECODE);
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(17, [0x30, 0x39, 0, 53, 0, 8, 0, 0])]), s)).toBe(SCAN_NO_TCP);
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(6, tcpHeader(5), 0x2000)]), s)).toBe(SCAN_DECODE);
    const withOptions = ipv4(1, [8, 0, 0, 0, 0, 0, 0, 0]);
    withOptions[0] = 0x46;
    expect(scanFrame(frame([...ETH_IPV4, ...withOptions.slice(0, 20), 1, 1, 1, 0, ...withOptions.slice(20)]), s)).toBe(SCAN_NO_TCP);
    expect(scanFrame(frame([...ETH_IPV4, ...withOptions.slice(0, 20), 1, 1, 1, 0, ...tcpHeader(5)].map((b, k) => (k === 23 ? 6 : b))), s)).toBe(SCAN_DECODE);
  });

  it('hands tunnels that may carry TCP to the decoder: Geneve (UDP 6081) and AH, over IPv4 and IPv6', () => {
    const geneve = [0x30, 0x39, 0x17, 0xc1, 0, 16, 0, 0, 0, 0, 0x65, 0x58, 0, 0, 10, 0];
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(17, geneve)]), s)).toBe(SCAN_DECODE);
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(17, [0x17, 0xc1, 0x30, 0x39, ...geneve.slice(4)])]), s)).toBe(SCAN_DECODE);
    // The same datagram to a port nothing is bound to holds no TCP.
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(17, [0x30, 0x39, 0x30, 0x3a, ...geneve.slice(4)])]), s)).toBe(SCAN_NO_TCP);
    const ah = [6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, ...new Array(12).fill(0), ...tcpHeader(5)];
    expect(scanFrame(frame([...ETH_IPV4, ...ipv4(51, ah)]), s)).toBe(SCAN_DECODE);
    const ipv6 = [0x60, 0, 0, 0, 0, ah.length, 51, 64, ...new Array(32).fill(1)];
    expect(scanFrame(frame([...ETH_IPV4.slice(0, 12), 0x86, 0xdd, ...ipv6, ...ah]), s)).toBe(SCAN_DECODE);
  });
});

describe('trackFile with frames scanned is trackFile with every frame decoded', () => {
  const files = [...captures(path.join(repoRoot, 'fixtures')), ...(hasCorpus ? captures(corpusDir) : [])];

  it(`on ${files.length} captures`, () => {
    let differ = 0;
    for (const f of files) {
      const scanned = trace(f, false);
      const decoded = trace(f, true);
      if (scanned.join('\n') !== decoded.join('\n')) {
        differ++;
        expect.soft(scanned, f).toEqual(decoded);
      }
    }
    expect(differ).toBe(0);
  }, 600_000);
});
