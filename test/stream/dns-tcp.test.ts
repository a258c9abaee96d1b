/**
 * DNS over TCP through the stream framework: messages split across segments, several in one
 * segment, a retransmission and a message completed by an out-of-order segment, each shown on the
 * frame that completed it, as tshark 4.0.17 shows them (checked live when tshark is installed).
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, makeLayer } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { tcp, TH } from '../../dissectors/tcp.js';
import { encodeDnsMessage, FLAG, RR } from '../../dissectors/dns.js';
import { FieldsOut } from '../../src/output/fields.js';
import { JsonOut } from '../../src/output/json.js';
import { frames, ipv4Frame, writeCapture } from '../dissectors/transport.js';
import { hasTool } from '../conformance/corpus.js';
import { tsharkFields } from '../dissectors/transport.js';

const hasTshark = hasTool('tshark');
if (!hasTshark) console.log('skipping live tshark checks of DNS over TCP: tshark is not installed');

const A = 0x0a000001;
const B = 0x0a000002;
const S = TH.SYN, K = TH.ACK, P = TH.PUSH, F = TH.FIN;

interface Seg { from: 'a' | 'b'; flags: number; seq: number; ack: number; data?: Uint8Array; port?: number }

function build(segs: Seg[]): Frame[] {
  return frames(segs.map((s) => {
    const port = s.port ?? 53;
    const [src, dst, sp, dp] = s.from === 'a' ? [A, B, 40000, port] : [B, A, port, 40000];
    const l = makeLayer(tcp, { srcPort: sp, dstPort: dp, seq: s.seq >>> 0, ack: s.ack >>> 0, flags: s.flags, window: 65535 });
    return ipv4Frame([l], s.data ?? new Uint8Array(0), { src, dst });
  }));
}

function prefixed(m: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + m.length);
  out[0] = m.length >> 8;
  out[1] = m.length & 0xff;
  out.set(m, 2);
  return out;
}

const q1 = prefixed(encodeDnsMessage({ id: 0x1111, flags: FLAG.RD, questions: [{ name: 'one.example', type: RR.A }] }));
const q2 = prefixed(encodeDnsMessage({ id: 0x2222, flags: FLAG.RD, questions: [{ name: 'two.example', type: RR.AAAA }] }));
const r1 = prefixed(encodeDnsMessage({
  id: 0x1111, flags: FLAG.QR | FLAG.RD | FLAG.RA, questions: [{ name: 'one.example', type: RR.A }],
  answers: [{ name: 'one.example', type: RR.CNAME, ttl: 60, target: 'mx.example' }, { name: 'mx.example', type: RR.A, ttl: 300, address: '192.0.2.1' }],
}));
const r2 = prefixed(encodeDnsMessage({
  id: 0x2222, flags: FLAG.QR | FLAG.RD | FLAG.RA | 3, questions: [{ name: 'two.example', type: RR.AAAA }],
}));
const both = new Uint8Array([...r1, ...r2]);

/**
 * Client 1000.., server 5000..: handshake, q1 split 1+rest, q2 whole, r1+r2 in three pieces (with
 * `late`, the middle one arrives last), a retransmission of the first piece, FIN.
 */
export function conversation(port = 53, late = false): Frame[] {
  const c = 1000, s = 5000;
  const a1 = c + 1, b1 = s + 1;
  const cut1 = 30, cut2 = 60;
  const ack = a1 + q1.length + q2.length;
  const pieces: Seg[] = [
    { from: 'b', flags: P | K, seq: b1, ack, data: both.subarray(0, cut1), port },
    { from: 'b', flags: P | K, seq: b1 + cut1, ack, data: both.subarray(cut1, cut2), port },
    { from: 'b', flags: P | K, seq: b1 + cut2, ack, data: both.subarray(cut2), port },
  ];
  if (late) pieces.push(pieces.splice(1, 1)[0]);
  return build([
    { from: 'a', flags: S, seq: c, ack: 0, port },
    { from: 'b', flags: S | K, seq: s, ack: a1, port },
    { from: 'a', flags: K, seq: a1, ack: b1, port },
    { from: 'a', flags: P | K, seq: a1, ack: b1, data: q1.subarray(0, 1), port },
    { from: 'a', flags: P | K, seq: a1 + 1, ack: b1, data: q1.subarray(1), port },
    { from: 'a', flags: P | K, seq: a1 + q1.length, ack: b1, data: q2, port },
    ...pieces,
    { from: 'b', flags: P | K, seq: b1, ack, data: both.subarray(0, cut1), port },
    { from: 'a', flags: F | K, seq: ack, ack: b1 + both.length, port },
  ]);
}

const FIELDS = [
  'frame.number', 'frame.protocols', 'tcp.stream', 'tcp.analysis.retransmission', 'dns.id', 'dns.flags.response',
  'dns.flags.rcode', 'dns.qry.name', 'dns.qry.type', 'dns.a', 'dns.cname', 'dns.resp.ttl',
];

function ours(fs: Frame[], names: string[] = FIELDS): string[][] {
  const out = new FieldsOut(names);
  return fs.map((f) => out.format(decodeFrame(f)).split('\t'));
}

describe('DNS over TCP on reassembled streams', () => {
  it('shows each message on the frame that completed it', () => {
    const rows = ours(conversation());
    const byFrame = (n: number): string[] => rows[n - 1];
    expect(byFrame(4).slice(1, 5)).toEqual(['eth:ethertype:ip:tcp', '0', '', '']);
    expect(byFrame(5).slice(1, 5)).toEqual(['eth:ethertype:ip:tcp:dns', '0', '', '0x1111']);
    expect(byFrame(6)[4]).toBe('0x2222');
    expect(byFrame(7)[1]).toBe('eth:ethertype:ip:tcp');
    // The third piece completes the first response (its tail) and holds the whole second one.
    expect(byFrame(9)).toEqual(['9', 'eth:ethertype:ip:tcp:dns:dns', '0', '', '0x1111,0x2222', '1,1', '0,3', 'one.example,two.example', '1,28', '192.0.2.1', 'mx.example', '60,300']);
    // Data sent again within the initial RTT of the last new data: out of order to tshark, not a retransmission.
    expect(byFrame(10).slice(1, 5)).toEqual(['eth:ethertype:ip:tcp', '0', '', '']);
  });

  it('waits for a late segment filling a hole (tshark, which does not reassemble out-of-order segments by default, differs)', () => {
    const rows = ours(conversation(53, true));
    expect(rows[7][4]).toBe('');
    expect(rows[8][4]).toBe('0x1111,0x2222');
  });

  it('mDNS port 5353 over TCP is DNS too', () => {
    expect(ours(conversation(5353))[8][4]).toBe('0x1111,0x2222');
  });

  it('puts the messages into --json after the TCP layer, with tcp.stream', () => {
    const out = new JsonOut();
    const lines = conversation().map((f) => JSON.parse(out.format(decodeFrame(f))) as { frame: { protocols: string }; layers: Array<Record<string, unknown>> });
    const l9 = lines[8].layers;
    expect(l9.map((l) => l.layer)).toEqual(['eth', 'ip', 'tcp', 'dns', 'dns']);
    expect(l9[2].stream).toBe(0);
    expect(l9[3].id).toBe(0x1111);
    expect(lines[8].frame.protocols).toBe('eth:ethertype:ip:tcp:dns:dns');
    expect(lines[6].layers.map((l) => l.layer)).toEqual(['eth', 'ip', 'tcp']);
  });

  it.skipIf(!hasTshark)('matches tshark field for field', () => {
    for (const port of [53, 5353]) {
      const fs = conversation(port);
      const file = writeCapture(`dns-tcp-${port}.pcap`, fs);
      expect(ours(fs)).toEqual(tsharkFields(file, FIELDS).map((r) => FIELDS.map((_, k) => r[k] ?? '')));
    }
  });
});
