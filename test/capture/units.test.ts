/**
 * The parts of live capture that need no interface: tcpdump's -C/-W rotation against tcpdump
 * itself (tcpdump -r IN -w OUT -C ... rotates the same way), -G naming through strftime against
 * date(1), the shared frame queue, cap's link-type names, -D formatting and -i resolution.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { hasTool } from '../conformance/corpus.js';
import { makeTempDir } from '../pcap/helpers.js';
import { PcapWriter } from '../../src/pcap/writer.js';
import { openCapture } from '../../src/pcap/reader.js';
import type { Frame } from '../../src/core/frame.js';
import { FileLimitReached, RotatingWriter, fileNumberWidth } from '../../src/capture/rotate.js';
import { strftime } from '../../src/capture/strftime.js';
import { allocateQueue, FrameQueue, QueueState } from '../../src/capture/queue.js';
import { linkTypeOfCap, LiveCaptureError } from '../../src/capture/live.js';
import { formatInterface, resolveInterface, type Interface } from '../../src/capture/devices.js';
import { dropTarget } from '../../src/capture/privileges.js';

const tmp = makeTempDir('capture-units');
afterAll(() => tmp.cleanup());

/** n Ethernet-sized frames with distinct bytes, 1 ms apart. */
function frames(n: number, size: number): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = (i * 7 + k) & 0xff;
    out.push({ number: i + 1, linkType: 1, tsSec: 1700000000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1e6, capLen: size, origLen: size, data, ifIndex: 0 });
  }
  return out;
}

describe.skipIf(!hasTool('tcpdump'))('-C/-W rotation: the same files as tcpdump', () => {
  const input = path.join(tmp.dir, 'in.pcap');
  const all = frames(3500, 1000);
  const w = new PcapWriter(input, { linkType: 1, snaplen: 262144 });
  for (const f of all) w.write(f);
  w.close();

  function rotateBoth(tag: string, args: string[], opts: { sizeLimit: number; fileCount?: number }): { ours: string[]; theirs: string[] } {
    const tdDir = path.join(tmp.dir, `td-${tag}`), wsDir = path.join(tmp.dir, `ws-${tag}`);
    for (const d of [tdDir, wsDir]) spawnSync('mkdir', ['-p', d]);
    // -Z root: Debian's tcpdump otherwise becomes user "tcpdump" and cannot write here.
    const r = spawnSync('tcpdump', ['-Z', 'root', '-r', input, '-w', path.join(tdDir, 'cap'), ...args], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const rw = new RotatingWriter({ path: path.join(wsDir, 'cap'), linkType: 1, snaplen: 262144, nano: false, packetBuffered: false, ...opts });
    for (const f of all) rw.write(f);
    rw.close();
    return { ours: readdirSync(wsDir).sort(), theirs: readdirSync(tdDir).sort() };
  }

  function sameBytes(tag: string, names: string[]): void {
    for (const n of names) {
      expect(readFileSync(path.join(tmp.dir, `ws-${tag}`, n)).equals(readFileSync(path.join(tmp.dir, `td-${tag}`, n))), n).toBe(true);
    }
  }

  it('-C 1: cap, cap1, cap2, cap3, byte for byte', () => {
    const { ours, theirs } = rotateBoth('c', ['-C', '1'], { sizeLimit: 1_000_000 });
    expect(theirs).toEqual(['cap', 'cap1', 'cap2', 'cap3']);
    expect(ours).toEqual(theirs);
    sameBytes('c', ours);
    let n = 0;
    for (const name of ours) {
      const r = openCapture(path.join(tmp.dir, 'ws-c', name));
      while (r.next() !== null) n++;
      r.close();
    }
    expect(n).toBe(all.length);
  });

  it('-C 1 -W 3: cap0, cap1, cap2 with the numbers wrapping', () => {
    const { ours, theirs } = rotateBoth('cw', ['-C', '1', '-W', '3'], { sizeLimit: 1_000_000, fileCount: 3 });
    expect(theirs).toEqual(['cap0', 'cap1', 'cap2']);
    expect(ours).toEqual(theirs);
    sameBytes('cw', ours);
  });

  it('-C 1 -W 12: two-digit numbers', () => {
    const { ours, theirs } = rotateBoth('cw12', ['-C', '1', '-W', '12'], { sizeLimit: 1_000_000, fileCount: 12 });
    expect(theirs).toEqual(['cap00', 'cap01', 'cap02', 'cap03']);
    expect(ours).toEqual(theirs);
    sameBytes('cw12', ours);
  });
});

describe('-G rotation (clock driven, so against tcpdump.c\'s rules)', () => {
  const start = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000;

  function run(opts: { seconds: number; sizeLimit?: number; fileCount?: number }, ticks: number[]): { names: string[]; limit: number | null } {
    const dir = makeTempDir('rotate-g');
    let now = start;
    const rw = new RotatingWriter({ path: path.join(dir.dir, 'g-%H%M%S'), linkType: 1, snaplen: 65535, nano: false, packetBuffered: false, now: () => now, ...opts });
    let limit: number | null = null;
    const f = frames(1, 60)[0];
    try {
      for (const t of ticks) {
        now = start + t;
        rw.write(f);
      }
    } catch (e) {
      if (!(e instanceof FileLimitReached)) throw e;
      limit = e.fileCount;
    }
    rw.close();
    const names = rw.opened.map((n) => path.basename(n));
    dir.cleanup();
    return { names, limit };
  }

  it('a new strftime-named file on the first packet -G seconds after the last rotation', () => {
    process.env.TZ = 'UTC';
    const { names } = run({ seconds: 10 }, [0, 5, 9, 10, 11, 25, 40]);
    expect(names).toEqual(['g-030405', 'g-030415', 'g-030430', 'g-030445']);
  });

  it('-G with -W and no -C: stops after W files ("Maximum file limit reached")', () => {
    process.env.TZ = 'UTC';
    const { names, limit } = run({ seconds: 10, fileCount: 2 }, [0, 10, 20, 30]);
    expect(names).toEqual(['g-030405', 'g-030415']);
    expect(limit).toBe(2);
  });

  it('-G with -C: the size count restarts in each period, numbered with the -W width', () => {
    process.env.TZ = 'UTC';
    // A 60-byte frame makes a file of 24 + 76 = 100 bytes (not over -C), two make 176: every
    // second frame rotates; the numbers wrap at -W 3; the period change restarts them at 0.
    const { names } = run({ seconds: 10, sizeLimit: 100, fileCount: 3 }, [0, 1, 2, 3, 4, 5, 6, 7, 10, 11]);
    expect(names).toEqual(['g-0304050', 'g-0304051', 'g-0304052', 'g-0304050', 'g-0304150']);
  });

  it('file number width is the digits of W-1', () => {
    expect([1, 2, 9, 10, 11, 100, 101].map(fileNumberWidth)).toEqual([0, 1, 1, 1, 2, 2, 3]);
  });
});

describe.skipIf(!hasTool('date'))('strftime as date(1) formats it', () => {
  const patterns = ['%Y-%m-%d_%H:%M:%S', '%a %A %b %B %h', '%c', '%C %y %G %g %V %U %W %u %w %j', '%D %F %T %R %r',
    '%e|%k|%l|%I|%p|%P', '%s %z %Z %%', '%-d %-m %_H %05Y %^a %#b', 'plain', '%Q unknown', 'dump-%Y%m%d-%H%M.pcap'];
  const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata'].filter((z) => z === 'UTC' || hasZone(z));
  const times = [0, 1700000000, 1704067199, 1735689600, 1719792000, 1609459200 + 3 * 86400];
  for (const tz of zones) {
    it(`TZ=${tz}`, () => {
      process.env.TZ = tz;
      for (const t of times) {
        for (const p of patterns) {
          const r = spawnSync('date', ['-d', `@${t}`, `+${p}`], { encoding: 'utf8', env: { ...process.env, TZ: tz, LC_ALL: 'C' } });
          expect(strftime(p, t), `${p} at ${t}`).toBe(r.stdout.replace(/\n$/, ''));
        }
      }
      process.env.TZ = 'UTC';
    });
  }
});

function hasZone(z: string): boolean {
  try {
    readFileSync(`/usr/share/zoneinfo/${z}`);
    return true;
  } catch {
    return false;
  }
}

describe('shared frame queue', () => {
  const src = new Uint8Array(2000).map((_, i) => i & 0xff);

  it('hands frames out in order with their lengths and stamps, wrapping the byte ring', () => {
    const q = new FrameQueue(allocateQueue(8, 4096));
    let next = 1;
    const seen: number[] = [];
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 3; k++) {
        const len = 500 + ((round * 3 + k) % 7) * 100;
        expect(q.push(src, len, len + 4, 1000 + round, k)).toBe(true);
      }
      for (let f = q.next(next, 1); f !== null; f = q.next(next, 1)) {
        expect(f.number).toBe(next);
        expect(f.origLen).toBe(f.capLen + 4);
        expect(Array.from(f.data)).toEqual(Array.from(src.subarray(0, f.capLen)));
        seen.push(f.tsSec);
        next++;
      }
    }
    expect(seen).toHaveLength(150);
    expect(q.length).toBe(0);
    expect(q.dropped).toBe(0);
  });

  it('refuses and counts frames when the bytes or the slots run out', () => {
    const q = new FrameQueue(allocateQueue(4, 3000));
    expect([1000, 1000, 1000].map((n) => q.push(src, n, n, 0, 0))).toEqual([true, true, true]);
    expect(q.push(src, 10, 10, 0, 0)).toBe(false);
    const f = q.next(1, 1)!;
    expect(f.capLen).toBe(1000);
    // The frame handed out stays unfreed until the next call: its bytes are not reused yet.
    expect(q.push(src, 1000, 1000, 0, 0)).toBe(false);
    expect(q.next(2, 1)!.capLen).toBe(1000);
    expect(q.push(src, 900, 900, 0, 0)).toBe(true);
    // 100 bytes are left before the oldest frame, but the last of 4 slots goes to this one.
    expect(q.push(src, 100, 100, 0, 0)).toBe(true);
    expect(q.push(src, 1, 1, 0, 0)).toBe(false);
    expect(q.dropped).toBe(3);
    expect(q.length).toBe(4);
  });

  it('carries the producer\'s state to the consumer', () => {
    const layout = allocateQueue(4, 100);
    const producer = new FrameQueue(layout), consumer = new FrameQueue(layout);
    expect(consumer.state).toBe(QueueState.Run);
    producer.setState(QueueState.Finish);
    expect(consumer.state).toBe(QueueState.Finish);
    consumer.waitForFrames(1000);
  });
});

describe('cap link-type names', () => {
  it('maps the names and "Unknown linktype N" DLTs to LINKTYPE values', () => {
    expect(['ETHERNET', 'NULL', 'RAW', 'LINKTYPE_LINUX_SLL', 'IEEE802_11_RADIO'].map(linkTypeOfCap)).toEqual([1, 0, 101, 113, 127]);
    expect(['Unknown linktype 276', 'Unknown linktype 239', 'Unknown linktype 12', 'Unknown linktype 113'].map(linkTypeOfCap)).toEqual([276, 239, 101, 113]);
    expect(() => linkTypeOfCap('bogus')).toThrow(LiveCaptureError);
  });
});

describe('-D lines and -i resolution', () => {
  const iface = (o: Partial<Interface>): Interface => ({ name: 'x', up: false, running: false, loopback: false, wireless: false, connected: null, ...o });

  it('formats flags and link state as tcpdump -D', () => {
    expect(formatInterface(iface({ name: 'eth0', up: true, running: true, connected: true }), 0)).toBe('1.eth0 [Up, Running, Connected]');
    expect(formatInterface(iface({ name: 'any', description: 'Pseudo-device that captures on all interfaces', up: true, running: true }), 1))
      .toBe('2.any (Pseudo-device that captures on all interfaces) [Up, Running]');
    expect(formatInterface(iface({ name: 'lo', up: true, running: true, loopback: true }), 2)).toBe('3.lo [Up, Running, Loopback]');
    expect(formatInterface(iface({ name: 'veth1', connected: false }), 3)).toBe('4.veth1 [none, Disconnected]');
    expect(formatInterface(iface({ name: 'ifb0' }), 4)).toBe('5.ifb0 [none]');
    expect(formatInterface(iface({ name: 'wlan0', up: true, wireless: true, connected: false }), 5)).toBe('6.wlan0 [Up, Wireless, Not associated]');
  });

  it('takes a known name, else a 1-based number; the first interface without -i', () => {
    const names = (): string[] => ['eth0', 'any', 'lo', '7'];
    expect(resolveInterface('lo', names)).toBe('lo');
    expect(resolveInterface('7', names)).toBe('7');
    expect(resolveInterface('2', names)).toBe('any');
    expect(resolveInterface(undefined, names)).toBe('eth0');
    expect(() => resolveInterface('9', names)).toThrow(/Invalid adapter index 9: only 4 interfaces found/);
    expect(() => resolveInterface('0', names)).toThrow(/Invalid adapter index 0/);
    expect(() => resolveInterface('nosuch0', names)).toThrow(/nosuch0: No such device exists \(wirescope -D/);
    expect(() => resolveInterface(undefined, () => [])).toThrow(/no interfaces available/);
  });
});

describe.skipIf(process.getuid?.() !== 0)('who to become after opening the interface', () => {
  it('-Z USER; under sudo the caller; nobody to become for root itself or without sudo', () => {
    expect(dropTarget('nobody', {})).toMatchObject({ name: 'nobody', uid: 65534 });
    expect(dropTarget('root', {})).toBeNull();
    expect(dropTarget(undefined, {})).toBeNull();
    expect(dropTarget(undefined, { SUDO_UID: '1000', SUDO_GID: '1001', SUDO_USER: 'alice' })).toEqual({ name: 'alice', uid: 1000, gid: 1001 });
    expect(dropTarget(undefined, { SUDO_UID: '0', SUDO_GID: '0', SUDO_USER: 'root' })).toBeNull();
    expect(dropTarget('nobody', { SUDO_UID: '1000', SUDO_GID: '1000' })).toMatchObject({ name: 'nobody' });
    expect(() => dropTarget('no-such-user-xyz', {})).toThrow(/Couldn't find user 'no-such-user-xyz'/);
  });
});
