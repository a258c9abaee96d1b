/** Hand-built segment sequences through one direction's reassembler, against expected chunks and events. */
import { describe, expect, it } from 'vitest';
import { DirectionReassembler, ReassemblyBudget, type StreamChunk, type StreamEvent, type StreamSink } from '../../src/tcp/reassembler.js';

interface Log {
  chunks: StreamChunk[];
  events: StreamEvent[];
  completed: string[];
  text(): string;
}

function sink(): StreamSink & Log {
  const log: StreamSink & Log = {
    chunks: [], events: [], completed: [],
    chunk(c) { log.chunks.push({ ...c, bytes: c.bytes.slice() }); },
    event(e) { log.events.push(e); },
    complete(dir, how) { log.completed.push(`${dir}:${how}`); },
    text() { return log.chunks.map((c) => Buffer.from(c.bytes).toString('latin1')).join(''); },
  };
  return log;
}

const T = (frame: number) => ({ sec: 1000 + frame, nsec: 0, frame });
const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

function setup(limits?: ConstructorParameters<typeof ReassemblyBudget>[0]) {
  const log = sink();
  const r = new DirectionReassembler(0, log, new ReassemblyBudget(limits));
  return { log, r };
}

describe('DirectionReassembler', () => {
  it('delivers in-order data from the byte after the SYN, and completes at the FIN', () => {
    const { log, r } = setup();
    r.syn(100);
    r.segment(101, b('hello '), false, false, T(1));
    r.segment(107, b('world'), true, false, T(2));
    expect(log.text()).toBe('hello world');
    expect(log.chunks.map((c) => [c.seq, c.time.frame])).toEqual([[101, 1], [107, 2]]);
    expect(log.completed).toEqual(['0:fin']);
    expect(log.events).toEqual([]);
  });

  it('moves past the uncaptured tail of a segment cut by the snapshot length, saying so', () => {
    const { log, r } = setup();
    r.syn(0);
    // 10 bytes on the wire, 4 captured; the next segment (bytes 11-13) is delivered at once.
    r.segment(1, b('AAAA'), false, false, T(1), 6);
    r.segment(11, b('BBB'), false, false, T(2));
    expect(log.text()).toBe('AAAABBB');
    expect(log.events).toEqual([{ type: 'gap', dir: 0, seq: 5, length: 6, reason: 'snaplen', time: T(1) }]);
    // A cut segment that arrives out of order leaves its hole to the usual rules.
    const o = setup();
    o.r.syn(0);
    o.r.segment(5, b('BB'), false, false, T(1), 4);
    expect(o.log.events).toEqual([]);
    expect(o.r.bufferedBytes).toBe(2);
  });

  it('buffers out-of-order segments until the hole fills', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(6, b('CCC'), false, false, T(1));
    r.segment(4, b('BB'), false, false, T(2));
    expect(log.chunks).toEqual([]);
    expect(r.bufferedBytes).toBe(5);
    r.segment(1, b('AAA'), false, false, T(3));
    expect(log.text()).toBe('AAABBCCC');
    // Buffered bytes keep the time of the segment that brought them.
    expect(log.chunks.map((c) => c.time.frame)).toEqual([3, 2, 1]);
    expect(r.bufferedBytes).toBe(0);
  });

  it('trims retransmissions and partial overlaps without reporting identical bytes', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(1, b('abcdef'), false, false, T(1));
    r.segment(1, b('abcdef'), false, false, T(2));
    r.segment(4, b('defghi'), false, false, T(3));
    expect(log.text()).toBe('abcdefghi');
    expect(log.events).toEqual([]);
  });

  it('reports an overlap with different bytes and keeps the first bytes', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(1, b('abcdef'), false, false, T(1));
    r.segment(4, b('XYZg'), false, false, T(2)); // "def" resent as "XYZ", then a new "g"
    expect(log.text()).toBe('abcdefg');
    expect(log.events).toEqual([{ type: 'overlap-conflict', dir: 0, seq: 4, length: 3, time: T(2) }]);
    expect(r.conflicts).toBe(1);
  });

  it('held segments overlapping with different bytes: reported once; the one covering the next byte wins, as in tshark', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(5, b('efgh'), false, false, T(1));
    r.segment(3, b('cdEFghij'), false, false, T(2));
    r.segment(1, b('ab'), false, false, T(3));
    // tshark's follow delivers the segment starting at the next byte whole, then what is left of the other (nothing).
    expect(log.chunks.map((c) => Buffer.from(c.bytes).toString('latin1'))).toEqual(['ab', 'cdEFghij']);
    expect(log.events).toEqual([{ type: 'overlap-conflict', dir: 0, seq: 3, length: 8, time: T(2) }]);
  });

  it('of held segments that fit, the first to arrive is delivered, then the new part of the next', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(3, b('CDef'), false, false, T(1));
    r.segment(3, b('cdefgh'), false, false, T(2));
    r.segment(1, b('ab'), false, false, T(3));
    expect(log.chunks.map((c) => [Buffer.from(c.bytes).toString('latin1'), c.seq, c.time.frame])).toEqual([['ab', 1, 3], ['CDef', 3, 1], ['gh', 7, 2]]);
    expect(log.events.map((e) => e.type)).toEqual(['overlap-conflict']);
    expect(r.bufferedBytes).toBe(0);
  });

  it('in-order data replaces held bytes it overlaps; differing ones are reported when the stream reaches them', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(4, b('XYZg'), false, false, T(1));
    r.segment(1, b('abcdef'), false, false, T(2));
    expect(log.text()).toBe('abcdefg');
    expect(log.chunks.map((c) => [c.seq, c.time.frame])).toEqual([[1, 2], [7, 1]]);
    expect(log.events).toEqual([{ type: 'overlap-conflict', dir: 0, seq: 4, length: 3, time: T(2) }]);
  });

  it('a segment lying within one held before it is not kept (its bytes could never show)', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(3, b('cdefgh'), false, false, T(1));
    r.segment(4, b('de'), false, false, T(2));
    expect(r.bufferedBytes).toBe(6);
    r.segment(5, b('EFGHij'), false, false, T(3));
    expect(r.bufferedBytes).toBe(12);
    r.segment(1, b('ab'), false, false, T(4));
    expect(log.text()).toBe('abcdefghij');
    expect(log.events.map((e) => [e.type, e.seq])).toEqual([['overlap-conflict', 5]]);
  });

  it('waits for data sent before a FIN that arrives first', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(4, b(''), true, false, T(1)); // FIN at seq 4, bytes 1..3 not seen yet
    expect(log.completed).toEqual([]);
    r.segment(1, b('abc'), false, false, T(2));
    expect(log.text()).toBe('abc');
    expect(log.completed).toEqual(['0:fin']);
  });

  it('drops and reports data after the FIN', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(1, b('abc'), true, false, T(1));
    r.segment(4, b('zz'), false, false, T(2));
    expect(log.text()).toBe('abc');
    expect(log.events).toEqual([{ type: 'data-after-end', dir: 0, seq: 4, length: 2, time: T(2) }]);
  });

  it('cuts a segment that runs past a FIN seen earlier', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(4, b(''), true, false, T(1));
    r.segment(1, b('abcde'), false, false, T(2));
    expect(log.text()).toBe('abc');
    expect(log.events).toEqual([{ type: 'data-after-end', dir: 0, seq: 4, length: 2, time: T(2) }]);
    expect(log.completed).toEqual(['0:fin']);
  });

  it('starts at the first byte seen when the capture began mid-stream', () => {
    const { log, r } = setup();
    r.segment(5000, b('mid'), false, false, T(1));
    r.segment(5003, b('dle'), false, false, T(2));
    expect(log.text()).toBe('middle');
    expect(log.chunks[0].seq).toBe(5000);
  });

  it('reassembles across the 2^32 wrap', () => {
    const { log, r } = setup();
    r.syn(0xfffffffc); // data from 0xfffffffd
    r.segment(1, b('EF'), false, false, T(1));
    r.segment(0xfffffffd, b('ABCD'), false, false, T(2));
    r.segment(3, b('G'), true, false, T(3));
    expect(log.text()).toBe('ABCDEFG');
    expect(log.chunks.map((c) => c.seq)).toEqual([0xfffffffd, 1, 3]);
    expect(log.completed).toEqual(['0:fin']);
  });

  it('ends at a RST: buffered data comes after a gap event, later data is dropped', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(1, b('ab'), false, false, T(1));
    r.segment(6, b('fg'), false, false, T(2));
    r.segment(8, b(''), false, true, T(3));
    expect(log.text()).toBe('abfg');
    expect(log.events).toEqual([{ type: 'gap', dir: 0, seq: 3, length: 3, reason: 'rst', time: T(3) }]);
    expect(log.completed).toEqual(['0:rst']);
    r.segment(3, b('cde'), false, false, T(4));
    expect(log.events[1]).toEqual({ type: 'data-after-end', dir: 0, seq: 3, length: 3, time: T(4) });
  });

  it('reports a gap (never joins silently) when the peer acknowledged past a hole', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(1, b('ab'), false, false, T(1));
    r.segment(10, b('jk'), false, false, T(2));
    r.acked(12, T(3));
    expect(log.events).toEqual([{ type: 'gap', dir: 0, seq: 3, length: 7, reason: 'end', time: T(3) }]);
    expect(log.text()).toBe('abjk');
    expect(r.gapBytes).toBe(7);
    // The lost bytes arriving later are reported and dropped.
    r.segment(3, b('cdefghi'), false, false, T(4));
    expect(log.events[1]).toMatchObject({ type: 'late-data', seq: 3, length: 7 });
    expect(log.text()).toBe('abjk');
  });

  it('flushes held data after a gap at the end of input', () => {
    const { log, r } = setup();
    r.syn(0);
    r.segment(4, b('d'), false, false, T(1));
    r.close(null);
    expect(log.events.map((e) => e.type === 'gap' && [e.seq, e.length, e.reason])).toEqual([[1, 3, 'end']]);
    expect(log.text()).toBe('d');
    expect(log.completed).toEqual(['0:end']);
  });

  it('bounds what one direction buffers: over the limit the hole becomes a gap', () => {
    const { log, r } = setup({ maxBufferedPerDirection: 8, maxBufferedTotal: 1 << 20, conflictWindow: 64 });
    r.syn(0);
    r.segment(11, b('12345'), false, false, T(1));
    expect(log.events).toEqual([]);
    r.segment(16, b('6789'), false, false, T(2));
    expect(log.events).toEqual([{ type: 'gap', dir: 0, seq: 1, length: 10, reason: 'limit', time: T(2) }]);
    expect(log.text()).toBe('123456789');
    expect(r.bufferedBytes).toBe(0);
  });

  it('bounds the total over directions: the largest holder gives way', () => {
    const budget = new ReassemblyBudget({ maxBufferedPerDirection: 100, maxBufferedTotal: 10, conflictWindow: 0 });
    const a = sink();
    const c = sink();
    const ra = new DirectionReassembler(0, a, budget);
    const rc = new DirectionReassembler(1, c, budget);
    ra.syn(0);
    rc.syn(0);
    ra.segment(5, b('AAAAAA'), false, false, T(1));
    rc.segment(5, b('CCC'), false, false, T(2));
    expect(budget.buffered).toBe(9);
    rc.segment(9, b('DD'), false, false, T(3));
    expect(a.events).toEqual([{ type: 'gap', dir: 0, seq: 1, length: 4, reason: 'limit', time: T(3) }]);
    expect(a.text()).toBe('AAAAAA');
    expect(c.events).toEqual([]);
    expect(budget.buffered).toBe(5);
  });
});
