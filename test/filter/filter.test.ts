/** Unit tests of libpcap semantics on hand-built frames (checked against tcpdump -d listings). */
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FilterError, UnsupportedFilterError, compileFilter, nameDbFromLines, systemNameDb } from '../../src/filter/index.js';

/** Ethernet + IPv4 + TCP, optionally behind 802.1Q tags. */
function ethTcp(opts: { sport?: number; dport?: number; flags?: number; vlans?: number[]; fragOff?: number; src?: number[] } = {}): Uint8Array {
  const vlans = opts.vlans ?? [];
  const b: number[] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5];
  for (const v of vlans) b.push(0x81, 0x00, v >> 8, v & 0xff);
  b.push(0x08, 0x00);
  const frag = opts.fragOff ?? 0;
  b.push(0x45, 0, 0, 40, 0, 0, frag >> 8, frag & 0xff, 64, 6, 0, 0, ...(opts.src ?? [10, 0, 0, 1]), 10, 0, 0, 2);
  const sp = opts.sport ?? 1234;
  const dp = opts.dport ?? 80;
  b.push(sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, opts.flags ?? 0x10, 0xff, 0xff, 0, 0, 0, 0);
  return Uint8Array.from(b);
}

function m(expr: string, frame: Uint8Array, linkType = 1, capLen = frame.length, origLen = frame.length): number {
  return compileFilter(expr, linkType, { names: nameDbFromLines({}) }).matches(frame, capLen, origLen);
}

function err(expr: string, linkType = 1): string {
  try {
    compileFilter(expr, linkType, { names: nameDbFromLines({ hosts: ['10.0.0.9 gw'], ethers: ['0:1:2:3:4:5 gw'] }) });
  } catch (e) {
    expect(e).toBeInstanceOf(FilterError);
    return (e as Error).message;
  }
  return 'compiled';
}

describe('compileFilter', () => {
  it('returns the snap length for a match and 0 otherwise; empty matches all', () => {
    const f = ethTcp();
    expect(compileFilter('tcp', 1, { snaplen: 96 }).matches(f, f.length, f.length)).toBe(96);
    expect(m('udp', f)).toBe(0);
    expect(compileFilter('', 1).matches(f, f.length, f.length)).toBe(262144);
    expect(compileFilter('  ', 9999).matches(f, 0, 0)).toBe(262144);
  });

  it('port: TCP over IPv4 through the header length, not on non-first fragments', () => {
    expect(m('port 80', ethTcp())).not.toBe(0);
    expect(m('dst port 80', ethTcp())).not.toBe(0);
    expect(m('src port 80', ethTcp())).toBe(0);
    expect(m('port 80', ethTcp({ fragOff: 0x0001 }))).toBe(0);
    expect(m('port 80', ethTcp({ fragOff: 0x4000 }))).not.toBe(0); // DF is not a fragment
  });

  it('tcp[13] reads the TCP flags; named constants and precedence', () => {
    const syn = ethTcp({ flags: 0x02 });
    expect(m('tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not port 22', syn)).not.toBe(0);
    expect(m('tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not port 22', ethTcp({ flags: 0x10 }))).toBe(0);
    expect(m('tcp[13] = 2', syn)).not.toBe(0);
    // '!=' applies to the comparison only: not TCP means no match.
    expect(m('udp[0] != 1', syn)).toBe(0);
    // and/or have equal precedence, left to right.
    expect(m('tcp or udp and port 81', syn)).toBe(0); // (tcp or udp) and port 81
    expect(m('udp and port 81 or tcp', syn)).not.toBe(0);
    expect(err('udp or tcp and icmp')).toBe('expression rejects all packets');
  });

  it('qualifier inheritance: host a or b, port 80 or 443', () => {
    const f = ethTcp({ src: [10, 0, 0, 7], dport: 443 });
    expect(m('host 10.0.0.9 or 10.0.0.7', f)).not.toBe(0);
    expect(m('tcp port 80 or 443', f)).not.toBe(0);
    expect(m('host 10.0.0.9 and (10.0.0.2 or 10.0.0.3)', f)).toBe(0);
    expect(m('src host 10.0.0.9 or 10.0.0.7', f)).not.toBe(0);
  });

  it('ip does not match tagged frames unless vlan precedes; vlan stacking shifts offsets', () => {
    const tagged = ethTcp({ vlans: [100] });
    const qinq = ethTcp({ vlans: [100, 200] });
    expect(m('ip', tagged)).toBe(0);
    expect(m('vlan and ip', tagged)).not.toBe(0);
    expect(m('vlan 100 and tcp port 80', tagged)).not.toBe(0);
    expect(m('vlan 101', tagged)).toBe(0);
    expect(m('vlan 100 and vlan 200 and ip', qinq)).not.toBe(0);
    expect(m('vlan 200', qinq)).toBe(0);
    expect(m('vlan and ip', qinq)).toBe(0);
  });

  it('a read past the captured length rejects the packet, even under not', () => {
    const f = ethTcp();
    expect(m('not tcp[100] = 1', f)).toBe(0);
    expect(m('tcp', f, 1, 20)).toBe(0);
    expect(m('ether[0] = 255', f, 1, 1)).not.toBe(0);
    expect(m('ether[0:2] = 0xffff', f, 1, 1)).toBe(0);
  });

  it('len, less and greater use the wire length', () => {
    const f = ethTcp();
    expect(m('len = 1000', f, 1, f.length, 1000)).not.toBe(0);
    expect(m('greater 999', f, 1, f.length, 1000)).not.toBe(0);
    expect(m('less 999', f, 1, f.length, 1000)).toBe(0);
    expect(m('len % 3 + 1 = 0', f, 1, f.length, 1000)).not.toBe(0); // len % (3 + 1)
  });

  it('link types: NULL follows the file byte order, RAW the version nibble, SLL the protocol field', () => {
    const ip = ethTcp().subarray(14);
    const nullLe = Uint8Array.from([2, 0, 0, 0, ...ip]);
    expect(m('tcp port 80', nullLe, 0)).not.toBe(0);
    expect(compileFilter('ip', 0, { bigEndianFile: true }).matches(nullLe, nullLe.length, nullLe.length)).toBe(0);
    expect(m('ip', Uint8Array.from([0, 0, 0, 2, ...ip]), 108)).not.toBe(0);
    expect(m('tcp port 80', Uint8Array.from(ip), 101)).not.toBe(0);
    expect(m('ip6', Uint8Array.from(ip), 101)).toBe(0);
    const sll = Uint8Array.from([0, 4, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 8, 0, ...ip]);
    expect(m('outbound and tcp dst port 80', sll, 113)).not.toBe(0);
    expect(m('inbound', sll, 113)).toBe(0);
  });

  it('names come from the injected databases', () => {
    const f = ethTcp({ src: [10, 0, 0, 9] });
    const names = nameDbFromLines({ hosts: ['10.0.0.9 Gw.Example'], networks: ['tennet 10'] });
    expect(compileFilter('host gw.example', 1, { names }).matches(f, f.length, f.length)).not.toBe(0);
    expect(compileFilter('net tennet', 1, { names }).matches(f, f.length, f.length)).not.toBe(0);
    expect(compileFilter('tcp port http', 1, { names }).matches(f, f.length, f.length)).not.toBe(0);
  });

  it("refuses what libpcap refuses, with libpcap's wording", () => {
    expect(err('tcp and')).toMatch(/^can't parse filter expression: syntax error/);
    expect(err('ip proto tcp')).toMatch(/syntax error near 'tcp'/);
    expect(err('nosuchhost.invalid.')).toMatch(/syntax error/);
    expect(err('host nosuchhost.invalid')).toBe("unknown host 'nosuchhost.invalid'");
    expect(err('port nosuchservice')).toBe("unknown port 'nosuchservice'");
    expect(err('udp port ssh')).toBe("port 'ssh' is tcp");
    expect(err('host 10.0.0.0/8')).toBe('Mask syntax for networks only');
    expect(err('net 10.0.0.1/8')).toBe('non-network bits set in "10.0.0.1/8"');
    expect(err('len / 0 = 1')).toBe('division by zero');
    expect(err('len << 32 = 1')).toBe('shift by more than 31 bits');
    expect(err('ip and ip6')).toBe('expression rejects all packets');
    expect(err('vlan', 113)).toBe('no VLAN support for Linux cooked v1');
    expect(err('inbound')).toBe('inbound/outbound not supported on Ethernet when reading savefiles');
    expect(err('ether host 1:2:3:4:5:6', 101)).toMatch(/^ethernet addresses supported only on/);
    expect(err('vlan 4096')).toBe('VLAN tag 4096 greater than maximum 4095');
    expect(err('08')).toBe('number 08 contains non-octal digit');
  });

  it('refuses unimplemented protocols and link types as not supported', () => {
    for (const e of ['mpls', 'pppoes 3', 'vxlan', 'geneve', 'llc', 'protochain 6', 'wlan type mgt', 'isis', 'decnet host 1.2']) {
      expect(() => compileFilter(e, 1), e).toThrow(UnsupportedFilterError);
    }
    expect(() => compileFilter('ip', 105)).toThrow(/link type 105 is not supported/);
  });

  it("a host name /etc/hosts lacks goes to the system resolver (getent ahosts), as libpcap's getaddrinfo()", () => {
    // A stand-in getent first on PATH: no resolver traffic leaves the test.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wirescope-getent-'));
    const savedPath = process.env.PATH;
    try {
      writeFileSync(path.join(dir, 'getent'), `#!/bin/sh
[ "$1 $2" = "ahosts wirescope-resolver-test" ] || exit 2
printf '10.0.0.1        STREAM wirescope-resolver-test\\n10.0.0.1        DGRAM\\n2001:db8::1     STREAM\\n'
`);
      chmodSync(path.join(dir, 'getent'), 0o755);
      process.env.PATH = `${dir}:${savedPath}`;
      const db = systemNameDb();
      expect(db.host('wirescope-resolver-test')).toEqual(['10.0.0.1', '2001:db8::1']);
      expect(db.host('wirescope-unknown-test')).toBeNull();
      const f = ethTcp();
      expect(compileFilter('src host wirescope-resolver-test', 1).matches(f, f.length, f.length)).toBe(262144);
      expect(compileFilter('dst host wirescope-resolver-test', 1).matches(f, f.length, f.length)).toBe(0);
    } finally {
      process.env.PATH = savedPath;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
