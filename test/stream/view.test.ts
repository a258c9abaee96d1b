/**
 * Where StreamView places application messages: on the frame that brought their last bytes, even
 * when those bytes came out of reassembly frames later (held behind a hole); lines stay in frame
 * order, wait no longer than needed, never read a frame's bytes after its push (a capture reader
 * reuses its buffer), and the number waiting is bounded (the hole is then given up, with a warning).
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, type Packet } from '../../src/core/dissector.js';
import type { Frame } from '../../src/core/frame.js';
import { FieldsOut, type LineOut } from '../../src/output/fields.js';
import { JsonOut } from '../../src/output/json.js';
import { StreamView, type FrameBuilder } from '../../src/stream/view.js';
import { conversation } from './dns-conversation.js';

const FIELDS = ['frame.number', 'frame.protocols', 'tcp.stream', 'dns.id'];

/** Lines written, and after which push each was written. */
class Recorder implements LineOut {
  lines: string[] = [];
  writtenAt: number[] = [];
  pushed = 0;
  writeLine(s: string): void {
    this.lines.push(s);
    this.writtenAt.push(this.pushed);
  }
}

/** Feeds frames through write() and finish(), spoiling each frame's bytes after its push. */
function run(out: { write(p: Packet, o: LineOut): void; finish(o: LineOut): void }, fs: Frame[]): Recorder {
  const rec = new Recorder();
  for (const f of fs) {
    const data = f.data.slice();
    rec.pushed++;
    out.write(decodeFrame({ ...f, data }), rec);
    data.fill(0x2a);
  }
  rec.pushed++;
  out.finish(rec);
  return rec;
}

/** conversation(53, true) with its retransmission moved before the segment filling the hole (renumbered). */
function longHole(): Frame[] {
  const fs = conversation(53, true);
  const retransmission = fs.splice(9, 1)[0];
  fs.splice(8, 0, retransmission);
  return fs.map((f, i) => ({ ...f, number: i + 1 }));
}

describe('StreamView placement', () => {
  it('places messages completed by bytes held behind a hole on the frame that brought them, in frame order', () => {
    // Frame 8 brings the responses' last bytes but after a hole; frame 9 fills the hole.
    const rec = run(new FieldsOut(FIELDS), conversation(53, true));
    const rows = rec.lines.map((l) => l.split('\t'));
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(rows[7]).toEqual(['8', 'eth:ethertype:ip:tcp:dns:dns', '0', '0x1111,0x2222']);
    expect(rows[8]).toEqual(['9', 'eth:ethertype:ip:tcp', '0', '']);
    // Frame 8 waited for frame 9; the frames before the hole did not wait.
    expect(rec.writtenAt.slice(0, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 9, 9]);
  });

  it('format() places at once: a message whose frame was written goes on the frame being formatted', () => {
    const out = new FieldsOut(FIELDS);
    const rows = conversation(53, true).map((f) => out.format(decodeFrame(f)).split('\t'));
    expect(rows[7][3]).toBe('');
    expect(rows[8][3]).toBe('0x1111,0x2222');
  });

  it('--json places them alike, each object complete without the frame bytes', () => {
    const rec = run(new JsonOut(), conversation(53, true));
    const objs = rec.lines.map((l) => JSON.parse(l) as { frame: { number: number; protocols: string }; layers: Array<Record<string, unknown>> });
    expect(objs.map((o) => o.frame.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(objs[7].layers.map((l) => l.layer)).toEqual(['eth', 'ip', 'tcp', 'dns', 'dns']);
    expect(objs[7].layers[1].src).toBe('10.0.0.2');
    expect(objs[7].layers[3].id).toBe(0x1111);
    expect(objs[7].frame.protocols).toBe('eth:ethertype:ip:tcp:dns:dns');
    expect(objs[8].layers.map((l) => l.layer)).toEqual(['eth', 'ip', 'tcp']);
  });

  it('bounds the frames waiting: beyond the limit the oldest hole is given up, with one warning', () => {
    const ended: number[] = [];
    const builder: FrameBuilder<number> = {
      start: (p) => p.frame.number,
      message: () => {},
      end: (n) => ended.push(n),
    };
    const warnings: string[] = [];
    const view = new StreamView(builder, { apps: true, maxHeld: 1, warn: (m) => warnings.push(m) });
    const fs = longHole();
    const endedAt: number[] = [];
    for (const f of fs) {
      view.push(decodeFrame(f));
      endedAt.push(ended.length);
    }
    view.finish();
    expect(ended).toEqual(fs.map((f) => f.number));
    // Frames 8 and 9 would wait for frame 10; with room for one, frame 8's hole is given up at frame 9.
    expect(endedAt.slice(6, 10)).toEqual([7, 7, 9, 10]);
    expect(view.gaveUp).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/TCP stream 0 \(frame 8 on\): that hole is given up as lost/);
  });

  it('without the bound reached, the same capture waits for the hole to fill', () => {
    const rows = run(new FieldsOut(FIELDS), longHole()).lines.map((l) => l.split('\t'));
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(rows[7][3]).toBe('0x1111,0x2222');
  });
});
