/**
 * Connection tracking on hand-built segment sequences: endpoint states, counters, stream numbers
 * (checked against tshark on the same capture when it is installed) and reassembled bytes.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, makeLayer } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { tcp, TH, type TcpLayer } from '../../dissectors/tcp.js';
import { ConnTracker, type Connection, type ConnTrackOptions } from '../../src/tcp/conntrack.js';
import type { StreamSink } from '../../src/tcp/reassembler.js';
import { frames, ipv4Frame, writeCapture } from '../dissectors/transport.js';
import { hasTool } from '../conformance/corpus.js';
import { tsharkFollowRaw, tsharkStreams } from './tshark-streams.js';

const hasTshark = hasTool('tshark');
if (!hasTshark) console.log('skipping tshark cross-checks of hand-built captures: tshark is not installed');

const A = 0x0a000001; // 10.0.0.1
const B = 0x0a000002; // 10.0.0.2
const S = TH.SYN, F = TH.FIN, R = TH.RST, K = TH.ACK, P = TH.PUSH;

/** A segment from A:40000 to B:80 ('a') or back ('b'). */
interface Seg { from: 'a' | 'b'; flags: number; seq: number; ack?: number; data?: string; window?: number; sport?: number }

function build(segs: Seg[]): Frame[] {
  return frames(segs.map((s) => {
    const aPort = s.sport ?? 40000;
    const [src, dst, sp, dp] = s.from === 'a' ? [A, B, aPort, 80] : [B, A, 80, aPort];
    const l = makeLayer(tcp, { srcPort: sp, dstPort: dp, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags: s.flags, window: s.window ?? 65535 });
    return ipv4Frame([l], new Uint8Array(Buffer.from(s.data ?? '', 'latin1')), { src, dst });
  }));
}

interface Run { tracker: ConnTracker; streams: string[]; states: string[]; text: Map<number, [string, string]>; events: string[] }

/** Feeds the frames; records each frame's tcp.stream and the states of both ends after it. */
function track(fs: Frame[], opts: ConnTrackOptions = {}): Run {
  const text = new Map<number, [string, string]>();
  const events: string[] = [];
  const tracker = new ConnTracker({
    sink: (c: Connection): StreamSink => {
      const t: [string, string] = ['', ''];
      text.set(c.stream, t);
      return {
        chunk: (ch) => { t[ch.dir] += Buffer.from(ch.bytes).toString('latin1'); },
        event: (e) => { events.push(`${c.stream}/${e.dir} ${e.type}`); },
        complete: (dir, how) => { events.push(`${c.stream}/${dir} complete ${how}`); },
      };
    },
    ...opts,
  });
  const streams: string[] = [];
  const states: string[] = [];
  for (const f of fs) {
    tracker.push(decodeFrame(f));
    streams.push(tracker.streams.filter((n) => n >= 0).join(','));
    const seg = tracker.segments[0];
    states.push(seg ? `${seg.conn.ends[0].state} ${seg.conn.ends[1].state}` : '');
  }
  tracker.finish();
  return { tracker, streams, states, text, events };
}

/** tshark's tcp.stream for the same frames, when it is installed. */
function expectTsharkStreams(name: string, fs: Frame[], ours: string[]): void {
  if (!hasTshark) return;
  expect(ours).toEqual(tsharkStreams(writeCapture(name, fs)));
}

const handshake: Seg[] = [
  { from: 'a', flags: S, seq: 1000 },
  { from: 'b', flags: S | K, seq: 5000, ack: 1001 },
  { from: 'a', flags: K, seq: 1001, ack: 5001 },
];

describe('connection states and counters', () => {
  it('follows a whole connection: handshake, data, half-close by the client, close', () => {
    const fs = build([
      ...handshake,
      { from: 'a', flags: P | K, seq: 1001, ack: 5001, data: 'GET /' },
      { from: 'b', flags: P | K, seq: 5001, ack: 1006, data: 'HTTP/1.1 200' },
      { from: 'a', flags: F | K, seq: 1006, ack: 5013 },
      { from: 'b', flags: K, seq: 5013, ack: 1007 },
      { from: 'b', flags: P | K, seq: 5013, ack: 1007, data: ' more' }, // half-closed: the server still sends
      { from: 'b', flags: F | K, seq: 5018, ack: 1007 },
      { from: 'a', flags: K, seq: 1007, ack: 5019 },
    ]);
    const r = track(fs);
    expect(r.states).toEqual([
      'SYN-SENT LISTEN', 'ESTABLISHED SYN-RECEIVED', 'ESTABLISHED ESTABLISHED', 'ESTABLISHED ESTABLISHED',
      'ESTABLISHED ESTABLISHED', 'FIN-WAIT-1 CLOSE-WAIT', 'FIN-WAIT-2 CLOSE-WAIT', 'FIN-WAIT-2 CLOSE-WAIT',
      'TIME-WAIT LAST-ACK', 'TIME-WAIT CLOSED',
    ]);
    const c = r.tracker.segments[0].conn;
    expect([c.closedBy, c.closeHow, c.midstream, c.portReused]).toEqual([0, 'fin', false, false]);
    expect(c.ends.map((e) => [e.packets, e.payloadBytes, e.retransmissions, e.outOfOrder])).toEqual([[5, 5, 0, 0], [5, 17, 0, 0]]);
    expect(c.ends[0].bytes).toBe(fs.filter((_, k) => [0, 2, 3, 5, 9].includes(k)).reduce((n, f) => n + f.origLen, 0));
    // frames() puts frames one second apart: SYN/ACK 1 s after the SYN, the handshake's ACK 2 s.
    expect([c.synAckRtt, c.handshakeRtt]).toEqual([1, 2]);
    expect(r.text.get(0)).toEqual(['GET /', 'HTTP/1.1 200 more']);
    expect(r.events).toEqual(['0/0 complete fin', '0/1 complete fin']);
    expectTsharkStreams('close.pcap', fs, r.streams);
  });

  it('keeps the stream through SYN and SYN/ACK retransmissions, counting them', () => {
    const fs = build([handshake[0], handshake[0], handshake[1], handshake[1], handshake[2]]);
    const r = track(fs);
    expect(r.streams).toEqual(['0', '0', '0', '0', '0']);
    expect(r.states[4]).toBe('ESTABLISHED ESTABLISHED');
    const c = r.tracker.segments[0].conn;
    expect(c.ends.map((e) => e.retransmissions)).toEqual([1, 1]);
    expectTsharkStreams('syn-retrans.pcap', fs, r.streams);
  });

  it('infers a simultaneous open', () => {
    const fs = build([
      { from: 'a', flags: S, seq: 100 },
      { from: 'b', flags: S, seq: 900 },
      { from: 'a', flags: S | K, seq: 100, ack: 901 },
      { from: 'b', flags: S | K, seq: 900, ack: 101 },
    ]);
    const r = track(fs);
    expect(r.states).toEqual(['SYN-SENT LISTEN', 'SYN-RECEIVED SYN-SENT', 'SYN-RECEIVED ESTABLISHED', 'ESTABLISHED ESTABLISHED']);
    expect(r.streams).toEqual(['0', '0', '0', '0']);
    expectTsharkStreams('simultaneous.pcap', fs, r.streams);
  });

  it('closes both ends on RST and records who reset', () => {
    const fs = build([...handshake, { from: 'b', flags: R | K, seq: 5001, ack: 1001 }]);
    const r = track(fs);
    expect(r.states[3]).toBe('CLOSED CLOSED');
    const c = r.tracker.segments[0].conn;
    expect([c.closedBy, c.closeHow, c.ends[1].sawRst]).toEqual([1, 'rst', true]);
    expect(r.events).toEqual(['0/1 complete rst', '0/0 complete end']);
  });

  it('answers a SYN to a closed port: RST/ACK puts the client back to CLOSED', () => {
    const r = track(build([handshake[0], { from: 'b', flags: R | K, seq: 0, ack: 1001 }]));
    expect(r.states).toEqual(['SYN-SENT LISTEN', 'CLOSED CLOSED']);
  });

  it('takes a capture started mid-connection as established, numbering from the first segment', () => {
    const fs = build([
      { from: 'b', flags: P | K, seq: 7000, ack: 3000, data: 'tail of a response' },
      { from: 'a', flags: K, seq: 3000, ack: 7018 },
      { from: 'a', flags: F | K, seq: 3000, ack: 7018 },
    ]);
    const r = track(fs);
    const c = r.tracker.segments[0].conn;
    expect(c.midstream).toBe(true);
    expect(c.ends[0].port).toBe(80); // the first sender
    expect(r.states).toEqual(['ESTABLISHED ESTABLISHED', 'ESTABLISHED ESTABLISHED', 'CLOSE-WAIT FIN-WAIT-1']);
    expect(r.text.get(0)).toEqual(['tail of a response', '']);
    expectTsharkStreams('midstream.pcap', fs, r.streams);
  });

  it('counts out-of-order segments apart from retransmissions, and zero windows', () => {
    const fs = build([
      ...handshake,
      { from: 'a', flags: K, seq: 1011, ack: 5001, data: 'klmnopqrst' }, // jumps ahead: a hole 1001..1011
      { from: 'a', flags: K, seq: 1001, ack: 5001, data: 'abcdefghij' }, // fills it: out of order
      { from: 'a', flags: K, seq: 1001, ack: 5001, data: 'abcdefghij' }, // again: retransmission
      { from: 'b', flags: K, seq: 5001, ack: 1021, window: 0 },
    ]);
    const r = track(fs);
    const c = r.tracker.segments[0].conn;
    expect([c.ends[0].outOfOrder, c.ends[0].retransmissions, c.ends[1].zeroWindows]).toEqual([1, 1, 1]);
    expect(r.text.get(0)![0]).toBe('abcdefghijklmnopqrst');
  });
});

describe('stream numbering as tshark', () => {
  it('starts a new stream for a SYN with a new sequence number on a used address/port pair (port reuse)', () => {
    const fs = build([
      ...handshake,
      { from: 'a', flags: F | K, seq: 1001, ack: 5001 },
      { from: 'b', flags: F | K, seq: 5001, ack: 1002 },
      { from: 'a', flags: K, seq: 1002, ack: 5002 },
      { from: 'a', flags: S, seq: 77777 }, // same ports, new ISN
      { from: 'b', flags: S | K, seq: 88888, ack: 77778 },
      { from: 'a', flags: K, seq: 77778, ack: 88889 },
      { from: 'a', flags: S, seq: 123, sport: 40001 }, // another client port
    ]);
    const r = track(fs);
    expect(r.streams).toEqual(['0', '0', '0', '0', '0', '0', '1', '1', '1', '2']);
    expect(r.states[6]).toBe('SYN-SENT LISTEN');
    expect(r.tracker.segments[0].conn.portReused).toBe(false);
    const conns = [...r.tracker.connections()];
    expect(conns.map((c) => [c.stream, c.portReused])).toEqual([[1, true], [2, false]]);
    expectTsharkStreams('reuse.pcap', fs, r.streams);
  });

  it('starts a new stream even when the old one never closed, and after a mid-stream start', () => {
    const fs = build([
      { from: 'a', flags: K, seq: 500, ack: 600, data: 'x' }, // base seq 499 for a
      { from: 'a', flags: S, seq: 499 }, // the same base: retransmission in tshark's eyes
      { from: 'a', flags: S, seq: 10 }, // different: a new stream
      { from: 'b', flags: S, seq: 42 }, // b has no base sequence number in the new stream yet: same stream
      { from: 'b', flags: S, seq: 43 }, // now it has (42): a new stream
    ]);
    const r = track(fs);
    expect(r.streams).toEqual(['0', '0', '1', '1', '2']);
    expectTsharkStreams('reuse-open.pcap', fs, r.streams);
  });

  it('gives no stream to a header cut before its window field', () => {
    const full = build([handshake[0]])[0];
    const cut: Frame = { ...full, data: full.data.subarray(0, 14 + 20 + 15), capLen: 14 + 20 + 15 };
    const r = track([full, cut]);
    expect(r.streams).toEqual(['0', '']);
  });

  it('answers the stream of each TCP header of the last packet (for -T fields)', () => {
    const [syn, synAck] = build([handshake[0], handshake[1]]);
    const tracker = new ConnTracker();
    const p = decodeFrame(syn);
    tracker.push(p);
    const l = p.layers.find((x) => x.dissector === tcp) as TcpLayer;
    expect(tracker.streamOf(l)).toBe(0);
    tracker.push(decodeFrame(synAck));
    expect(tracker.streamOf(l)).toBeUndefined(); // only the last packet's headers are known
  });

  it('bounds the connections held: the least recently seen is forgotten', () => {
    const fs = build([
      { from: 'a', flags: S, seq: 1, sport: 1 },
      { from: 'a', flags: S, seq: 1, sport: 2 },
      { from: 'a', flags: S, seq: 1, sport: 1 },
      { from: 'a', flags: S, seq: 1, sport: 3 }, // evicts sport 2
      { from: 'a', flags: S, seq: 1, sport: 2 },
    ]);
    const r = track(fs, { maxConnections: 2 });
    expect(r.streams).toEqual(['0', '1', '0', '2', '3']);
    expect(r.tracker.evicted).toBe(2);
  });
});

describe.skipIf(!hasTshark)('reassembly of hand-built captures against tshark follow,tcp,raw', () => {
  it('reorder, retransmission and a FIN sent before the last data arrives', () => {
    const fs = build([
      ...handshake,
      { from: 'a', flags: P | K, seq: 1006, ack: 5001, data: 'world' },
      { from: 'a', flags: F | K, seq: 1011, ack: 5001 },
      { from: 'a', flags: P | K, seq: 1001, ack: 5001, data: 'hello' },
      { from: 'a', flags: P | K, seq: 1001, ack: 5001, data: 'hello' },
      { from: 'b', flags: P | K, seq: 5001, ack: 1012, data: 'ok' },
      { from: 'b', flags: F | K, seq: 5003, ack: 1012 },
    ]);
    const r = track(fs);
    const t = tsharkFollowRaw(writeCapture('follow.pcap', fs), 0);
    const got = r.text.get(0)!.map((s) => Buffer.from(s, 'latin1').toString('hex'));
    expect(got).toEqual(t.hex);
    expect(r.text.get(0)).toEqual(['helloworld', 'ok']);
  });
});
