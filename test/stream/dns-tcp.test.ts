/**
 * DNS over TCP through the stream framework: messages split across segments, several in one
 * segment, a retransmission and a message completed by an out-of-order segment, each shown on the
 * frame that completed it, as tshark 4.0.17 shows them (checked live when tshark is installed).
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { FieldsOut } from '../../src/output/fields.js';
import { JsonOut } from '../../src/output/json.js';
import { writeCapture } from '../dissectors/transport.js';
import { conversation } from './dns-conversation.js';
import { hasTool } from '../conformance/corpus.js';
import { tsharkFields } from '../dissectors/transport.js';

const hasTshark = hasTool('tshark');
if (!hasTshark) console.log('skipping live tshark checks of DNS over TCP: tshark is not installed');

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
