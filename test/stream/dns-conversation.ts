/** A DNS-over-TCP conversation (hand-built frames) for the stream tests. */
import type { Frame } from '../../src/core/frame.js';
import { makeLayer } from '../../src/core/dissector.js';
import { tcp, TH } from '../../dissectors/tcp.js';
import { encodeDnsMessage, FLAG, RR } from '../../dissectors/dns.js';
import { frames, ipv4Frame } from '../dissectors/transport.js';

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
