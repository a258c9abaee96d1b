/**
 * The dispatcher that picks an application protocol per connection: by port first, else by
 * sniffing the first bytes of a direction (held until enough arrived), replaying what it held.
 */
import { describe, expect, it } from 'vitest';
import { Connection, Endpoint } from '../../src/tcp/conntrack.js';
import type { SegmentTime, StreamSink } from '../../src/tcp/reassembler.js';
import type { AppProtocol } from '../../src/stream/app.js';
import { AppDispatcher, appProtocols, MAX_HELD_BYTES, registerAppProtocol } from '../../src/stream/registry.js';
import { dnsOverTcp } from '../../src/stream/dns.js';

const T: SegmentTime = { sec: 1, nsec: 0, frame: 1 };

/** A protocol that records what its parsers receive; sniff accepts bytes starting with `magic`. */
function recorder(name: string, ports: number[], magic: string, log: string[], sniffBytes?: number): AppProtocol {
  return {
    name,
    ports,
    sniffBytes,
    sniff: (first) => Buffer.from(first).toString('latin1').startsWith(magic),
    open: (conn): StreamSink => {
      log.push(`${name} open ${conn.stream}`);
      return {
        chunk: (c) => log.push(`${name} ${c.dir} ${Buffer.from(c.bytes).toString('latin1')}`),
        event: (e) => log.push(`${name} ${e.dir} ${e.type}`),
        complete: (dir, how) => log.push(`${name} ${dir} complete ${how}`),
      };
    },
  };
}

function conn(stream: number, a: number, b: number): Connection {
  return new Connection(stream, stream, new Endpoint('10.0.0.1', a), new Endpoint('10.0.0.2', b));
}

function feed(sink: StreamSink, dir: 0 | 1, text: string): void {
  // The bytes are valid during the call only: overwrite them afterwards, as a reused frame buffer would be.
  const bytes = new Uint8Array(Buffer.from(text, 'latin1'));
  sink.chunk({ dir, seq: 0, bytes, time: T });
  bytes.fill(0x2a);
}

describe('AppDispatcher', () => {
  it('chooses by either port before sniffing', () => {
    const log: string[] = [];
    const d = new AppDispatcher([recorder('a', [80], 'A', log), recorder('b', [443], 'B', log)]);
    const c = conn(0, 40000, 443);
    const s = d.sink(c);
    feed(s, 0, 'AAAAAAAAAA');
    expect(log).toEqual(['b open 0', 'b 0 AAAAAAAAAA']);
    expect(d.protocolOf(c)?.name).toBe('b');
  });

  it('holds a short first chunk until enough bytes to sniff, then replays everything in order', () => {
    const log: string[] = [];
    const d = new AppDispatcher([recorder('a', [80], 'AB', log), recorder('x', [], 'XYZ', log)]);
    const c = conn(1, 40000, 9999);
    const s = d.sink(c);
    feed(s, 0, 'XY');
    s.event({ type: 'overlap-conflict', dir: 0, seq: 0, length: 1, time: T });
    feed(s, 1, 'Q');
    expect(log).toEqual([]);
    expect(d.protocolOf(c)).toBeUndefined();
    feed(s, 0, 'Zzzzzz');
    feed(s, 1, 'after');
    expect(log).toEqual(['x open 1', 'x 0 XY', 'x 0 overlap-conflict', 'x 1 Q', 'x 0 Zzzzzz', 'x 1 after']);
  });

  it('says whether held bytes may still become messages: while undecided and no direction refused', () => {
    const d = new AppDispatcher([recorder('x', [], 'XYZ', []), recorder('p', [80], 'P', [])]);
    const c = conn(5, 40000, 9999);
    const s = d.sink(c);
    expect(d.holds(c)).toBe(false);
    feed(s, 0, 'XY');
    expect(d.holds(c)).toBe(true);
    feed(s, 1, 'no such protocol');
    expect(d.holds(c)).toBe(false);
    const chosen = conn(6, 40000, 9999);
    const t = d.sink(chosen);
    feed(t, 0, 'XYZ and more');
    expect(d.holds(chosen)).toBe(false);
    const byPort = conn(7, 40000, 80);
    d.sink(byPort);
    expect(d.holds(byPort)).toBe(false);
  });

  it('tries the other direction when the first is refused, and sniffs a direction that ended short', () => {
    const log: string[] = [];
    const d = new AppDispatcher([recorder('s', [], 'HELLO', log)]);
    const s = d.sink(conn(2, 1, 2));
    feed(s, 0, 'not this one');
    feed(s, 1, 'HELLO');
    s.complete(1, 'fin', T);
    expect(log).toEqual(['s open 2', 's 0 not this one', 's 1 HELLO', 's 1 complete fin']);
  });

  it('leaves a connection no protocol takes, and stops holding bytes past the limit', () => {
    const log: string[] = [];
    const d = new AppDispatcher([recorder('s', [], 'HELLO', log)]);
    const refused = conn(3, 1, 2);
    const s = d.sink(refused);
    feed(s, 0, 'nothing known');
    feed(s, 1, 'nor this');
    expect(d.protocolOf(refused)).toBeNull();
    const long = conn(4, 1, 2);
    const t = d.sink(long);
    feed(t, 0, 'refused!');
    feed(t, 1, 'HEL');
    feed(t, 0, 'x'.repeat(MAX_HELD_BYTES));
    expect(d.protocolOf(long)).toBeNull();
    feed(t, 1, 'LO');
    expect(log).toEqual([]);
  });

  it('collects emitted messages until taken', () => {
    const d = new AppDispatcher([]);
    expect(d.take()).toEqual([]);
    d.emit({ layer: null as never, stream: 0, dir: 0, time: T });
    expect(d.take()).toHaveLength(1);
    expect(d.messages).toHaveLength(0);
  });

  it('registers each protocol once, DNS over TCP on ports 53 and 5353', () => {
    const before = appProtocols().length;
    registerAppProtocol(dnsOverTcp);
    expect(appProtocols().length).toBe(before);
    expect(appProtocols()).toContain(dnsOverTcp);
    expect(dnsOverTcp.ports).toEqual([53, 5353]);
  });
});
