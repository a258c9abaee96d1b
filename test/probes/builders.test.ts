/**
 * The probe builders against the probes traceroute(8) 2.1 and hping3 put on the wire (captured
 * with tcpdump -x from Debian's tools in a namespace pair), and the reply classification
 * against traceroute's and hping3's tables.
 */
import { describe, expect, it } from 'vitest';
import { foldChecksum, sumWords } from '../../src/core/checksum.js';
import { viewOf } from '../../src/probes/engine.js';
import { echoProbe, hpingSyn, probeLength, tracerouteSyn, udpProbe } from '../../src/probes/probe-builders.js';
import {
  hpingFlags, hpingIcmpPrefix, icmpErrorOf, tcpVerdict, tracerouteAnnotation, UNREACH, UNREACH6,
} from '../../src/probes/probe-replies.js';
import { encodeStack } from '../../src/core/dissector.js';
import { TH } from '../../dissectors/tcp.js';
import { decodeIp, fromHex, hexOf, icmpError, ipMaker } from './probe-helpers.js';

/** The transport checksum of an encoded datagram verifies (sums to zero with the pseudo-header). */
function transportChecksumOk(bytes: Uint8Array): boolean {
  const v = viewOf(decodeIp(bytes));
  const l4 = v.udp ?? v.tcp ?? v.icmp6!;
  const proto = v.udp ? 17 : v.tcp ? 6 : 58;
  const len = bytes.length - l4.off;
  return foldChecksum(sumWords(bytes, l4.off, bytes.length, v.ip!.pseudoHeaderSum(proto, len))) === 0;
}

const encode = (p: { layers: Parameters<typeof encodeStack>[0]; payload: Uint8Array }): Uint8Array => encodeStack(p.layers, p.payload);

describe('traceroute and hping3 probes, byte for byte', () => {
  it('UDP probe (traceroute 10.99.3.2, TTL 1): IP header and data as sent; UDP checksum the one tcpdump computes', () => {
    // traceroute's datagram; its UDP checksum (0x1903) was captured before the NIC's checksum offload filled it in.
    const wire = fromHex('4500003ccc21000001 11d4c60a6301020a630302 b171829a00281903' +
      '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f');
    const p = udpProbe(ipMaker('10.99.1.2', '10.99.3.2', 0xcc21), 1, 0xb171, 0x829a);
    const b = encode(p);
    expect(hexOf(b.subarray(0, 24))).toBe(hexOf(wire.subarray(0, 24)));
    expect(hexOf(b.subarray(28))).toBe(hexOf(wire.subarray(28)));
    // tcpdump -vv: "[bad udp cksum 0x1903 -> 0xbdc3!]"
    expect(hexOf(b.subarray(26, 28))).toBe('bdc3');
    expect(probeLength(p)).toBe(60);
  });

  it('ICMP echo probe (traceroute -I): identical bytes', () => {
    const wire = fromHex('4500003c06730000 01019a850a6301020a630302 08004dc434b50001' +
      '48494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f6061626364656667');
    const b = encode(echoProbe(ipMaker('10.99.1.2', '10.99.3.2', 0x0673), 1, 0x34b5, 1));
    expect(hexOf(b)).toBe(hexOf(wire));
  });

  it('TCP SYN probe (traceroute -T): identical bytes, options mss 1460,sackOK,TS,nop,wscale 2', () => {
    const wire = fromHex('4500003c10d40000 0106901f0a6301020a630302 86cb00502f7afe4a00000000a00216d0ae600000' +
      '020405b40402080a18369cf4000000000103 0302');
    const p = tracerouteSyn(ipMaker('10.99.1.2', '10.99.3.2', 0x10d4), 1, 0x86cb, 80, 0x2f7afe4a, 0x18369cf4);
    expect(hexOf(encode(p))).toBe(hexOf(wire));
    expect(probeLength(p)).toBe(60);
  });

  it('hping3 -S SYN: same header but for hping3\'s random acknowledgment number (ours is 0)', () => {
    const wire = fromHex('45000028ba040000 4006a8020a6301020a630302 060f0050041ff8c37d89c1ab5002020052a20000');
    const b = encode(hpingSyn(ipMaker('10.99.1.2', '10.99.3.2', 0xba04), 0x060f, 80, 0x041ff8c3));
    expect(hexOf(b.subarray(0, 28))).toBe(hexOf(wire.subarray(0, 28)));
    expect(hexOf(b.subarray(28, 32))).toBe('00000000');
    expect(hexOf(b.subarray(32, 36))).toBe(hexOf(wire.subarray(32, 36)));
    expect(transportChecksumOk(b)).toBe(true);
  });

  it('IPv6 UDP probe (traceroute -6): header (but the kernel\'s flow label) and data as sent, 80 bytes', () => {
    const wire = fromHex('600dcb7600281101 fd990001000000000000000000000002 fd990003000000000000000000000002 c48f829a0028fb74' +
      '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f');
    const p = udpProbe(ipMaker('fd99:1::2', 'fd99:3::2'), 1, 0xc48f, 0x829a);
    const b = encode(p);
    expect(hexOf(b.subarray(0, 4))).toBe('60000000');
    expect(hexOf(b.subarray(4, 46))).toBe(hexOf(wire.subarray(4, 46)));
    expect(hexOf(b.subarray(48))).toBe(hexOf(wire.subarray(48)));
    expect(transportChecksumOk(b)).toBe(true);
    expect(probeLength(p)).toBe(80);
  });

  it('IPv6 echo and TCP probes: ICMPv6 echo request with id/seq and traceroute\'s data, 80-byte packets', () => {
    const ip = ipMaker('fd99:1::2', 'fd99:3::2');
    const e = encode(echoProbe(ip, 3, 0x1234, 7));
    const v = viewOf(decodeIp(e));
    expect(v.ip?.ipVersion).toBe(6);
    expect(v.icmp6?.type).toBe(128);
    expect(v.icmp6?.u16At(4)).toBe(0x1234);
    expect(v.icmp6?.u16At(6)).toBe(7);
    expect(e.length).toBe(80);
    expect(transportChecksumOk(e)).toBe(true);
    const t = encode(tracerouteSyn(ip, 2, 40000, 443, 1, 2));
    expect(t.length).toBe(80);
    expect(viewOf(decodeIp(t)).tcp?.flags).toBe(TH.SYN);
    expect(transportChecksumOk(t)).toBe(true);
  });
});

describe('reply classification', () => {
  it('a real ICMP time exceeded (r1 about traceroute\'s first UDP probe) is matched to its quoted probe', () => {
    const reply = fromHex('45c00058dc0300004001 87190a6301010a630102 0b00b2c300000000' +
      '4500003ccc21000001 11d4c60a6301020a630302 b171829a00281903' +
      '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f');
    const e = icmpErrorOf(viewOf(decodeIp(reply)))!;
    expect(e).toMatchObject({ family: 4, type: 11, code: 0, from: '10.99.1.1' });
    expect(e.quoted.udp?.dstPort).toBe(33434);
    expect(e.quoted.ip?.dstAddr).toBe('10.99.3.2');
    expect(tracerouteAnnotation(e)).toBeNull();
  });

  it('needs-fragmentation carries the MTU (!F-1400); ICMPv6 packet too big too', () => {
    const probe = encode(udpProbe(ipMaker('10.0.0.1', '10.0.9.9'), 5, 1000, 33440));
    const e = icmpErrorOf(viewOf(decodeIp(icmpError('10.0.0.254', probe, 3, UNREACH.NEEDFRAG, 1400))))!;
    expect(tracerouteAnnotation(e)).toBe('!F-1400');
    const probe6 = encode(udpProbe(ipMaker('fd00::1', 'fd00::9'), 5, 1000, 33440));
    const e6 = icmpErrorOf(viewOf(decodeIp(icmpError('fd00::fe', probe6, 2, 0, 1280))))!;
    expect(e6).toMatchObject({ family: 6, type: 2, mtu: 1280 });
    expect(tracerouteAnnotation(e6)).toBe('!F-1280');
  });

  it('traceroute\'s annotations for every ICMP unreachable code (parse_icmp_res)', () => {
    const v4 = Array.from({ length: 17 }, (_, code) => tracerouteAnnotation({ family: 4, type: 3, code, mtu: 576 }));
    expect(v4).toEqual(['!N', '!H', '!P', '', '!F-576', '!S', '!N', '!H', '!N', '!X', '!X', '!N', '!H', '!X', '!V', '!C', '!<16>']);
    const v6 = Array.from({ length: 7 }, (_, code) => tracerouteAnnotation({ family: 6, type: 1, code, mtu: 0 }));
    expect(v6).toEqual(['!N', '!X', '!H', '!H', '', '!<5>', '!<6>']);
    expect(tracerouteAnnotation({ family: 4, type: 11, code: 0, mtu: 0 })).toBeNull();
    expect(tracerouteAnnotation({ family: 4, type: 11, code: 1, mtu: 0 })).toBe('!<11-1>');
    expect(tracerouteAnnotation({ family: 6, type: 3, code: 0, mtu: 0 })).toBeNull();
    expect(tracerouteAnnotation({ family: 4, type: 12, code: 0, mtu: 0 })).toBe('!<12-0>');
  });

  it('hping3\'s texts for ICMP errors (log_icmp_unreach, log_icmp_timeexc)', () => {
    expect(hpingIcmpPrefix({ family: 4, type: 3, code: UNREACH.FILTER_PROHIB })).toBe('ICMP Packet filtered from ip=');
    expect(hpingIcmpPrefix({ family: 4, type: 3, code: UNREACH.PORT })).toBe('ICMP Port Unreachable from ip=');
    expect(hpingIcmpPrefix({ family: 4, type: 3, code: UNREACH.NEEDFRAG })).toBe('ICMP Fragmentation Needed/DF set from ip=');
    expect(hpingIcmpPrefix({ family: 4, type: 3, code: UNREACH.HOST_UNKNOWN })).toBe('ICMP Unreachable type=7 from ip=');
    expect(hpingIcmpPrefix({ family: 4, type: 11, code: 0 })).toBe('TTL 0 during transit from ip=');
    expect(hpingIcmpPrefix({ family: 4, type: 11, code: 1 })).toBe('TTL 0 during reassembly from ip=');
    expect(hpingIcmpPrefix({ family: 6, type: 1, code: UNREACH6.ADMIN })).toBe('ICMP Packet filtered from ip=');
    expect(hpingIcmpPrefix({ family: 6, type: 1, code: UNREACH6.ADDR })).toBe('ICMP Host Unreachable from ip=');
  });

  it('SYN answers: SYN-ACK open, RST (with or without ACK) closed; hping3\'s flag letters', () => {
    expect(tcpVerdict(TH.SYN | TH.ACK)).toBe('open');
    expect(tcpVerdict(TH.RST | TH.ACK)).toBe('closed');
    expect(tcpVerdict(TH.RST)).toBe('closed');
    expect(tcpVerdict(TH.ACK)).toBeNull();
    expect(hpingFlags(TH.SYN | TH.ACK)).toBe('SA');
    expect(hpingFlags(TH.RST | TH.ACK)).toBe('RA');
    expect(hpingFlags(TH.FIN | TH.PUSH | TH.ACK | TH.URG | TH.ECE | TH.CWR)).toBe('AFPUXY');
    expect(hpingFlags(0)).toBe('none');
  });
});
