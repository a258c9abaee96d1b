import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { decodeFrame, encodeStack, makeLayer, Table, type Packet } from '../../src/core/dissector.js';
import { foldChecksum, sumWords } from '../../src/core/checksum.js';
import { openCapture } from '../../src/pcap/reader.js';
import { TextOut, defaultTextOptions } from '../../src/output/text.js';
import { encodeTcpOptions, installSeqTable, parseTcpOptions, tcp, TcpLayer, TCPOPT, TH, type TcpOption } from '../../dissectors/tcp.js';
import type { NetworkLayer } from '../../dissectors/ipproto.js';
import { corpusDir, hasCorpus, hasTool, run, wirescopeBin } from '../conformance/corpus.js';
import { frames, ipv4Frame, ipv6Frame, ourFields, prefixes, textDifferences, tsharkFields, writeCapture } from './transport.js';

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!hasCorpus) console.log('TCP corpus tests skipped: ../shared/corpus is absent');
if (!haveTcpdump) console.log('TCP tcpdump comparisons skipped: tcpdump is not installed');
if (!haveTshark) console.log('TCP tshark field comparisons skipped: tshark is not installed');

const FLAGS = [['-n'], ['-n', '-v'], ['-n', '-vv'], ['-n', '-q'], ['-n', '-S'], ['-n', '-e'], ['-n', '-x'], ['-n', '-X'], ['-n', '-A']];
const { FIN, SYN, RST, PUSH, ACK, URG, ECE, CWR } = TH;
const enc = (s: string) => new TextEncoder().encode(s);

/** Linux's SYN options: mss 1460, sackOK, TS, nop, wscale 7. */
const LINUX_SYN: TcpOption[] = [
  { kind: TCPOPT.MSS, value: 1460 }, { kind: TCPOPT.SACK_PERM }, { kind: TCPOPT.TIMESTAMP, value: [1, 0] },
  { kind: TCPOPT.NOP }, { kind: TCPOPT.WSCALE, value: 7 },
];

function seg(srcPort: number, dstPort: number, seq: number, ack: number, flags: number, options: TcpOption[] | null = null, data = '', more: Partial<TcpLayer> = {}): Uint8Array {
  return ipv4Frame([makeLayer(tcp, { srcPort, dstPort, seq, ack, flags, window: 8192, options, ...more })], enc(data));
}

/** A segment with raw option bytes (malformed ones included), padded with zeros to a multiple of 4. */
function rawOpts(bytes: number[], flags = ACK, data = ''): Uint8Array {
  const b = bytes.slice();
  while (b.length % 4) b.push(0);
  return ipv4Frame([makeLayer(tcp, { srcPort: 1234, dstPort: 4321, seq: 1, ack: 2, flags, window: 8192, optionBytes: Uint8Array.from(b) })], enc(data));
}

function tcpLayer(p: Packet): TcpLayer {
  const l = p.layers.find((x) => x instanceof TcpLayer);
  if (!l) throw new Error('no TCP layer');
  return l as TcpLayer;
}

describe('TCP decode and encode', () => {
  it('encodes options as a list and decodes them back', () => {
    const bytes = encodeTcpOptions(LINUX_SYN);
    expect(Buffer.from(bytes).toString('hex')).toBe('020405b40402080a0000000100000000' + '01030307');
    expect(parseTcpOptions(bytes).map((o) => o.kind)).toEqual([2, 4, 8, 1, 3]);
    // Padded with EOL to a 32-bit boundary.
    expect(Buffer.from(encodeTcpOptions([{ kind: TCPOPT.MSS, value: 1400 }, { kind: TCPOPT.WSCALE, value: 2 }])).toString('hex')).toBe('02040578030302' + '00');
    expect(Buffer.from(encodeTcpOptions([{ kind: TCPOPT.SACK, value: [10, 20] }])).toString('hex')).toBe('050a0000000a00000014' + '0000');
  });

  it('reads a SYN built by the encoder field by field, with a checksum that verifies', () => {
    const p = decodeFrame(frames([seg(40000, 80, 1000, 0, SYN, LINUX_SYN)])[0]);
    const l = tcpLayer(p);
    expect([l.srcPort, l.dstPort, l.seq, l.ack, l.dataOffset, l.flags, l.window, l.urgent]).toEqual([40000, 80, 1000, 0, 10, SYN, 8192, 0]);
    expect([l.hdrLen, l.payloadLen, l.truncated, l.invalid, l.nextTable]).toEqual([40, 0, false, null, Table.None]);
    expect(l.optionBytes).toEqual(encodeTcpOptions(LINUX_SYN));
    const net = p.layers[1] as unknown as NetworkLayer;
    expect(foldChecksum(sumWords(p.buf, l.off, l.off + 40, net.pseudoHeaderSum(6, 40)))).toBe(0);
    const d = decodeFrame(frames([seg(40000, 80, 1001, 5001, PUSH | ACK, null, 'GET /')])[0]);
    expect([tcpLayer(d).payloadLen, tcpLayer(d).nextTable, tcpLayer(d).nextKey, tcpLayer(d).altKey]).toEqual([5, Table.TcpPort, 80, 40000]);
  });

  it('marks header lengths that contradict the segment', () => {
    const bad = seg(1, 2, 0, 0, ACK);
    bad[34 + 12] = 0x40;
    expect(tcpLayer(decodeFrame(frames([bad])[0])).invalid).toBe('header length too small');
    bad[34 + 12] = 0xf0;
    expect(tcpLayer(decodeFrame(frames([bad])[0])).invalid).toBe('header length exceeds segment');
  });

  it('decodes every prefix of a segment without throwing, truncated when cut inside the header', () => {
    for (const p of prefixes(seg(2000, 3000, 100, 200, PUSH | ACK, [{ kind: 1 }, { kind: 1 }, { kind: 8, value: [5, 6] }], 'hello'))) {
      expect(p.error).toBeNull();
      const cut = p.frame.capLen;
      const l = p.layers.find((x) => x instanceof TcpLayer);
      if (cut < 34) expect(l).toBeUndefined();
      else expect(l!.truncated).toBe(cut < 34 + 32);
      new TextOut({ ...defaultTextOptions, v: 2 }).formatPacket(p);
    }
  });

  it.skipIf(!hasCorpus)('re-encodes real segments byte for byte, and recomputes checksums that verify', () => {
    let n = 0;
    let recomputed = 0;
    for (const rel of ['zeek/tcp/option-sack.pcap', 'zeek/tcp/rst-inject-rae.pcap', 'tcpdump/tfo-5c1fa7f9ae91.pcap', 'tcpdump/mptcp-v1.pcap', 'zeek/tcp/reassembly.pcap']) {
      const r = openCapture(path.join(corpusDir, rel));
      for (let f = r.next(); f !== null; f = r.next()) {
        const p = decodeFrame(f);
        const i = p.layers.findIndex((x) => x instanceof TcpLayer);
        if (i < 0 || p.layers[i].truncated || p.layers[i].invalid) continue;
        const l = p.layers[i] as TcpLayer;
        const pv = p.payloadOf(l);
        const payload = pv.buf.subarray(pv.start, pv.end);
        if (payload.length !== l.payloadLen) continue;
        const end = l.off + l.hdrLen + l.payloadLen;
        expect(encodeStack([l], payload, { fixLengths: false, computeChecksums: false })).toEqual(p.buf.subarray(l.off, end));
        const net = p.layers[i - 1] as unknown as NetworkLayer;
        if (foldChecksum(sumWords(p.buf, l.off, end, net.pseudoHeaderSum(6, end - l.off))) === 0) {
          const again = encodeStack(p.layers.slice(i - 1, i + 1), payload, { fixLengths: false, computeChecksums: true });
          const at = again.length - (end - l.off) + 16;
          expect((again[at] << 8) | again[at + 1]).toBe(l.checksum);
          recomputed++;
        }
        n++;
      }
      r.close();
    }
    expect(n).toBeGreaterThan(100);
    expect(recomputed).toBeGreaterThan(50);
  });

  it('keeps the sequence-number table within its bound, forgetting the least recently used conversation', () => {
    const out = new TextOut({ ...defaultTextOptions, n: 1 });
    const table = installSeqTable(out, 2);
    const line = (b: Uint8Array) => out.formatPacket(decodeFrame(frames([b])[0]));
    line(seg(1000, 80, 500, 900, ACK)); // conversation A
    expect(line(seg(1000, 80, 510, 900, ACK))).toContain('ack 1,');
    line(seg(1001, 80, 500, 900, ACK)); // B
    line(seg(1002, 80, 500, 900, ACK)); // C: A was used since the sweep started, so B goes
    expect(table.size).toBe(2);
    expect(line(seg(1000, 80, 520, 900, ACK))).toContain('ack 1,');
    expect(line(seg(1001, 80, 520, 905, ACK))).toContain('ack 905,'); // B starts over: absolute numbers
    expect(table.size).toBe(2);
  });
});

/** Segments with every option kind, bad lengths and options cut by the capture, as (frame, caplen) cases. */
function optionCases(): Array<Uint8Array | [Uint8Array, number]> {
  const key = Array.from({ length: 16 }, (_, k) => k);
  const list: Array<Uint8Array | [Uint8Array, number]> = [
    rawOpts([19, 18, ...key]), // md5
    rawOpts([34, 2], SYN), // tfo cookie request
    rawOpts([34, 10, 1, 2, 3, 4, 5, 6, 7, 8]),
    rawOpts([34, 5, 1, 2, 3]), // tfo, odd cookie
    rawOpts([254, 4, 0xf9, 0x89]), rawOpts([254, 12, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8]), rawOpts([254, 6, 0x12, 0x34, 0, 0]),
    rawOpts([6, 6, 0, 0, 0, 9]), rawOpts([7, 6, 0, 0, 0, 9]), rawOpts([11, 6, 0, 0, 0, 9]), rawOpts([12, 6, 0, 0, 0, 9]), rawOpts([13, 6, 0, 0, 0, 9]),
    rawOpts([99, 4, 0xab, 0xcd]), rawOpts([99, 2]),
    rawOpts([2, 3, 5, 0]), rawOpts([2, 8, 5, 0xb4, 0, 0, 0, 0]), rawOpts([2, 1, 0, 0]), rawOpts([1, 2, 1]),
    rawOpts([0, 1, 1, 1]), rawOpts([1, 1, 1, 0]),
    rawOpts([5, 11, ...new Array(9).fill(0)]), rawOpts([4, 3, 0]),
    rawOpts([28, 4, 0, 5]), rawOpts([28, 4, 0, 4]), rawOpts([20, 4, 1, 2]), rawOpts([20, 2]),
    rawOpts([29, 8, 1, 2, 0xaa, 0xbb, 0xcc, 0xdd]), rawOpts([29, 3, 1]), rawOpts([29, 4, 1, 2]),
    rawOpts([8, 10, 0, 0, 0, 1]), // TS longer than the header
    // MPTCP (RFC 8684): each subtype, and lengths its flags do not allow.
    rawOpts([30, 12, 0x01, 0x81, 1, 2, 3, 4, 5, 6, 7, 8], SYN),
    rawOpts([30, 20, 0x01, 0x81, ...key]),
    rawOpts([30, 22, 0x00, 0x01, ...key, 0, 0]),
    rawOpts([30, 4, 0x00, 0x00]),
    rawOpts([30, 4, 0x05, 0x00], SYN),
    rawOpts([30, 8, 0x20, 0x01, 0, 0, 0, 77]),
    rawOpts([30, 20, 0x20, 0x05, 0, 0, 0, 77, 0, 0, 0, 88, 0, 0, 0, 99, 0, 10, 0x12, 0x34]),
    rawOpts([30, 28, 0x20, 0x1f, ...new Array(7).fill(0), 77, ...new Array(7).fill(0), 88, 0, 0, 0, 99, 0, 10]),
    rawOpts([30, 4, 0x20, 0x01]),
    rawOpts([30, 8, 0x30, 0x05, 10, 0, 0, 1]), rawOpts([30, 10, 0x30, 0x05, 10, 0, 0, 1, 0x1f, 0x90]),
    rawOpts([30, 16, 0x31, 0x05, 10, 0, 0, 1, ...key.slice(0, 8)]),
    rawOpts([30, 20, 0x30, 0x05, 0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 1]),
    rawOpts([30, 9, 0x30, 0x05, 10, 0, 0, 1, 0]),
    rawOpts([30, 5, 0x40, 1, 2]), rawOpts([30, 4, 0x51, 3]), rawOpts([30, 3, 0x50]),
    rawOpts([30, 12, 0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8]), rawOpts([30, 12, 0x60, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
    rawOpts([30, 4, 0x90, 0]),
    rawOpts([30, 12, 0x10, 0x02, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0x12, 0x34], SYN),
    rawOpts([30, 16, 0x11, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0x99], SYN | ACK),
    rawOpts([30, 24, 0x10, 0x00, ...key, 16, 17, 18, 19]),
    rawOpts([30, 4, 0x51, 3, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]), // MPTCP then a timestamp
  ];
  // Captures cut inside the options: kind byte, length byte, and data (before and after a first option).
  const cutOf = seg(2000, 3000, 100, 200, PUSH | ACK, [{ kind: 1 }, { kind: 1 }, { kind: 8, value: [5, 6] }], 'hello');
  for (const c of [34 + 2, 34 + 4, 34 + 10, 34 + 19, 34 + 20, 34 + 22, 34 + 26, 34 + 31, 34 + 32, 34 + 34]) list.push([cutOf, c]);
  const mss = seg(2000, 3000, 100, 200, ACK, [{ kind: 2, value: 1460 }]);
  list.push([mss, 34 + 22], [mss, 34 + 23]);
  const mptcpThenTs = rawOpts([30, 4, 0x51, 3, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
  list.push([mptcpThenTs, 34 + 26], [mptcpThenTs, 34 + 24]);
  const sack = seg(1234, 4321, 1, 2, ACK, [{ kind: TCPOPT.SACK, value: [10, 20, 30, 40] }]);
  list.push([sack, 34 + 20 + 8], [sack, 34 + 20 + 14]);
  // EOL first, then a header cut after it: tcpdump notices only when it reaches the payload.
  const eol = rawOpts([0, 0, 0, 0, 0, 0, 0, 0], ACK, 'data');
  list.push([eol, 34 + 22], [eol, 34 + 20 + 8]);
  // A RST whose data was cut (at -v, "[!RST").
  const rst = seg(1234, 4321, 1, 2, RST | ACK, null, 'reason');
  list.push([rst, rst.length - 2]);
  return list;
}

describe.skipIf(!haveTcpdump)('TCP text identical to tcpdump 4.99', () => {
  it('numbers a connection relative to its first ACK-bearing segment, as tcpdump does', () => {
    const list = [
      seg(40000, 4444, 1000, 0, SYN, LINUX_SYN),
      seg(4444, 40000, 5000, 1001, SYN | ACK, LINUX_SYN),
      seg(40000, 4444, 1001, 5001, ACK),
      seg(40000, 4444, 1001, 5001, PUSH | ACK, null, 'data data data'),
      seg(4444, 40000, 5001, 1019, ACK, [{ kind: 1 }, { kind: 1 }, { kind: TCPOPT.SACK, value: [6001, 7001, 8001, 9001] }]),
      seg(4321, 1234, 7, 9, ACK, [{ kind: TCPOPT.SACK, value: [10, 20] }]),
      seg(40000, 4444, 1019, 5001, FIN | ACK),
      seg(4444, 40000, 5001, 1020, RST),
      seg(40000, 4444, 7000, 0, SYN), // a new SYN resets the conversation
      seg(4444, 40000, 9000, 7001, SYN | ACK),
      seg(40000, 4444, 7001, 9001, ACK, null, 'x'),
      seg(1234, 4321, 0xfffffff0, 0, 0),
      seg(1234, 4321, 1, 2, ACK | URG | ECE | CWR, null, '', { urgent: 7 }),
      seg(5555, 5555, 1, 2, ACK),
      seg(5555, 5555, 3, 4, ACK),
      seg(1234, 4321, 1, 2, RST | ACK, null, 'connection reset\u0001\u00ff and more than thirty bytes of it'),
      seg(1234, 4321, 1, 2, ACK, null, 'abc', { checksum: 0x1234 }),
    ];
    // A bad checksum needs the encoder's computed one replaced.
    const bad = list[list.length - 1];
    bad[34 + 16] = 0x12;
    bad[34 + 17] = 0x34;
    const v6 = ipv6Frame([makeLayer(tcp, { srcPort: 1111, dstPort: 2222, seq: 5, ack: 6, flags: PUSH | ACK, window: 100, options: LINUX_SYN })], enc('abc'));
    if (v6) list.push(v6);
    const file = writeCapture('tcp-conversation.pcap', frames(list));
    for (const flags of FLAGS) expect(textDifferences(file, flags)).toEqual([]);
  });

  it('prints every option kind, bad lengths and truncated options as tcpdump does', () => {
    const file = writeCapture('tcp-options.pcap', frames(optionCases()));
    for (const flags of FLAGS) expect(textDifferences(file, flags)).toEqual([]);
  });

  it('marks invalid in --json exactly the segments whose options tcpdump calls "[bad opt]"', () => {
    const files = [writeCapture('tcp-options.pcap', frames(optionCases()))];
    if (hasCorpus) for (const f of ['tcpdump/malformed/mptcp-dss-oobr.pcap', 'tcpdump/malformed/scps_invalid.pcap']) files.push(path.join(corpusDir, f));
    for (const file of files) {
      let bad = 0;
      const lines = run('tcpdump', ['-n', '-r', file], { TZ: 'UTC' }).stdout.trimEnd().split('\n');
      const json = run(process.execPath, [wirescopeBin, '-r', file, '--json']).stdout.trimEnd().split('\n');
      expect(json.length, file).toBe(lines.length);
      for (let k = 0; k < lines.length; k++) {
        const layer = (JSON.parse(json[k]) as { layers: Array<{ layer: string; invalid?: string }> }).layers.find((x) => x.layer === 'tcp');
        const marked = layer?.invalid?.startsWith('bad option ') ?? false;
        expect(marked, `${file} frame ${k + 1}: ${lines[k]}`).toBe(lines[k].includes('[bad opt]'));
        if (marked) bad++;
      }
      // Each file has some: the comparison above is not vacuous.
      expect(bad, file).toBeGreaterThan(0);
    }
  });

  it('prints bad header lengths and short captures as tcpdump does', () => {
    const base = seg(1234, 4321, 1, 2, ACK, null, 'payload');
    const off = (o: number) => {
      const b = base.slice();
      b[34 + 12] = o << 4;
      return b;
    };
    const list: Array<Uint8Array | [Uint8Array, number]> = [off(4), off(0), off(15), off(7), [base, 34 + 1], [base, 34 + 3], [base, 34 + 4], [base, 34 + 13], [base, 34 + 19], [base, 34 + 20], [base, 34 + 21]];
    // A first fragment: tcpdump does not check its checksum.
    list.push(ipv4Frame([makeLayer(tcp, { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: ACK, window: 5 })], enc('abc'), { flagsFrag: 0x2000 }));
    const file = writeCapture('tcp-lengths.pcap', frames(list));
    for (const flags of FLAGS) expect(textDifferences(file, flags)).toEqual([]);
  });

  it.skipIf(!hasCorpus)('matches tcpdump on the corpus captures of plain TCP', () => {
    const files = [
      'zeek/tcp/syn-synack.pcap', 'zeek/tcp/option-sack.pcap', 'zeek/tcp/rst-inject-rae.pcap', 'zeek/tcp/fin_retransmission.pcap',
      'zeek/tcp/single-rst.pcap', 'zeek/tcp/syn-bad.pcap', 'zeek/tcp/syn-then-stuff-then-rst.pcap', 'zeek/tcp/timestamp.pcap',
      'zeek/chksums/ip4-tcp-bad-chksum.pcap', 'tcpdump/tcp_eight_lowest_weight_flags_set.pcap', 'tcpdump/tfo-5c1fa7f9ae91.pcap',
      'tcpdump/mptcp-fclose.pcap', 'tcpdump/mptcp-tcprst.pcap', 'tcpdump/mptcp-v1.pcap', 'tcpdump/bigtcp-ipv4.pcap', 'tcpdump/gso-ipv4.pcap',
      'tcpdump/malformed/heapoverflow-tcp_print.pcap', 'tcpdump/malformed/scps_invalid.pcap', 'tcpdump/malformed/tcp-auth-heapoverflow.pcap',
      'tcpdump/malformed/tcp_header_heapoverflow.pcap', 'tcpdump/tcp-handshake-nano.pcap',
    ];
    if (ipv6Frame([]) !== null) files.push('tcpdump/bigtcp-ipv6.pcap', 'tcpdump/gso-ipv6.pcap', 'zeek/chksums/ip6-tcp-bad-chksum.pcap');
    for (const rel of files) for (const flags of FLAGS) expect(textDifferences(path.join(corpusDir, rel), flags)).toEqual([]);
  });
});

describe.skipIf(!haveTshark || !hasCorpus)('TCP fields as tshark 4.0 prints them', () => {
  const FIELDS = [
    'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'tcp.flags.str', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.hdr_len',
    'tcp.window_size_value', 'tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.options.sack_perm',
    'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr', 'tcp.urgent_pointer', 'tcp.checksum',
  ];
  it('gives the same values on the corpus', () => {
    for (const rel of ['zeek/tcp/syn-synack.pcap', 'zeek/tcp/option-sack.pcap', 'zeek/tcp/rst-inject-rae.pcap', 'tcpdump/tfo-5c1fa7f9ae91.pcap',
      'tcpdump/mptcp-v1.pcap', 'tcpdump/tcp_eight_lowest_weight_flags_set.pcap', 'zeek/tcp/window-scale-range.pcap', 'zeek/tcp/reassembly.pcap']) {
      const file = path.join(corpusDir, rel);
      expect(ourFields(file, FIELDS), rel).toEqual(tsharkFields(file, FIELDS));
    }
  });

  it('gives the same values on built segments, malformed ones included', () => {
    const bad = seg(1234, 4321, 1, 2, ACK);
    bad[34 + 12] = 0x40;
    const file = writeCapture('tcp-fields.pcap', frames([
      seg(40000, 80, 1000, 0, SYN, LINUX_SYN), seg(80, 40000, 5000, 1001, SYN | ACK | ECE | CWR, LINUX_SYN),
      seg(1, 2, 3, 4, RST, null, 'x', { urgent: 9 }), seg(1, 2, 3, 4, ACK | URG, [{ kind: 3, value: 14 }, { kind: 2, value: 536 }]),
      seg(1, 2, 3, 4, FIN | PUSH | ACK, [{ kind: 8, value: [1, 2] }, { kind: 8, value: [3, 4] }]), bad,
    ]));
    expect(ourFields(file, FIELDS)).toEqual(tsharkFields(file, FIELDS));
  });
});
