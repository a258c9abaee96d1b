/**
 * IPsec AH (RFC 4302) over IPv4 and IPv6, on every corpus capture holding it: the header field by
 * field, encode round trips, cuts, tcpdump's text and tshark's fields. The dissector (dissectors/ah.ts,
 * `ah`) is an IPv6 chain header, bound to IP protocol 51 for both versions.
 * Out of scope, and left out where met: IPComp behind AH (tcpdump prints "IPComp(cpi=...)", tshark
 * decompresses it) and OSPFv3 behind AH.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeFrame, encodeStack, type Packet } from '../../src/core/dissector.js';
import { openCapture } from '../../src/pcap/reader.js';
import { frameProtocols } from '../../src/output/frame-fields.js';
import { AhLayer } from '../../dissectors/ah.js';
import { Ipv4Layer } from '../../dissectors/ipv4.js';
import { corpusDir, hasCorpus, hasTool, repoRoot, run, wirescopeBin } from '../conformance/corpus.js';
import { prefixes, textDifferences, tsharkFields } from './transport.js';

const haveTcpdump = hasTool('tcpdump');
const haveTshark = hasTool('tshark');
if (!hasCorpus) console.log('AH tests skipped: ../shared/corpus is absent');
if (!haveTcpdump) console.log('AH tcpdump comparisons skipped: tcpdump is not installed');
if (!haveTshark) console.log('AH tshark field comparisons skipped: tshark is not installed');

const CAPTURES = [
  'libpcap/tests/filter/ah-ipip-ping.pcap', 'libpcap/tests/filter/ipv6_ah_modes.pcap', 'libpcap/tests/filter/AH-IPcomp-IPv4.pcap',
  'libpcap/tests/filter/AH-IPcomp-IPv6.pcap', 'tcpdump/malformed/heapoverflow-ip_demux_print.pcap', 'pcapplusplus/PacketExamples/ipv6_options.pcap',
].map((f) => path.join(corpusDir, f));
const FLAGS = [['-n'], ['-n', '-v'], ['-n', '-e'], ['-n', '-x']];
const FIELDS = ['ah.next_header', 'ah.length', 'ah.reserved', 'ah.spi', 'ah.icv', 'ah.sequence', 'ip.proto', 'ipv6.nxt'];

function packets(file: string): Packet[] {
  const out: Packet[] = [];
  const r = openCapture(file);
  for (let f = r.next(); f !== null; f = r.next()) {
    // The frame's bytes may be reused by the reader: keep a copy.
    out.push(decodeFrame({ ...f, data: f.data.slice() }));
  }
  r.close();
  return out;
}

function ahOf(p: Packet): AhLayer | undefined {
  return p.layers.find((x) => x instanceof AhLayer) as AhLayer | undefined;
}

describe.skipIf(!hasCorpus)('AH decode and encode', () => {
  it('reads AH over IPv4 (tunnel mode, IPv4 inside) and over IPv6 (transport and tunnel mode)', () => {
    const v4 = packets(CAPTURES[2])[0];
    const a = ahOf(v4)!;
    expect(v4.layers[1]).toBeInstanceOf(Ipv4Layer);
    expect([a.nxt, a.len, a.reserved, a.spi, a.seq, a.hdrLen, a.icv]).toEqual([4, 4, 0, 0xc67ceadf, 1, 24, 'ce9113cb69e210d6dbd24b8a']);
    expect(v4.layers.slice(v4.layers.indexOf(a)).map((l) => l.dissector.name)).toEqual(['ah', 'ip', 'tcp']);
    const [transport, tunnel] = packets(CAPTURES[1]);
    expect([ahOf(transport)!.nxt, ahOf(transport)!.hdrLen, ahOf(tunnel)!.nxt]).toEqual([17, 20, 41]);
    expect(frameProtocols(tunnel)).toBe('eth:ethertype:ipv6:ah:ipv6:udp:data');
  });

  it('re-encodes every AH header of the corpus byte for byte', () => {
    let n = 0;
    for (const file of CAPTURES) {
      for (const p of packets(file)) {
        const a = ahOf(p);
        if (!a || a.truncated) continue;
        const rest = p.payloadOf(a);
        const bytes = encodeStack([a], rest.buf.subarray(rest.start, rest.end), { fixLengths: false, computeChecksums: false });
        expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(p.buf.subarray(a.off, a.off + a.hdrLen + (rest.end - rest.start))).toString('hex'));
        n++;
      }
    }
    expect(n).toBeGreaterThan(25);
  });

  it('decodes every prefix of an AH frame without throwing, truncated when cut inside the header', () => {
    const r = openCapture(CAPTURES[2]);
    const f = r.next()!;
    const data = f.data.slice(0, f.capLen);
    r.close();
    for (const p of prefixes(data)) {
      expect(p.error).toBeNull();
      const a = ahOf(p);
      const cut = p.frame.capLen;
      if (cut < 34) expect(a).toBeUndefined();
      else expect(a!.truncated).toBe(cut < 34 + 24);
    }
  });
});

/** Differences but in packets where tcpdump ran a printer for what is out of scope here (IPComp, OSPFv3). */
function inScope(diffs: string[]): string[] {
  const packet = (d: string): string => d.slice(0, d.indexOf('\n'));
  const out = new Set(diffs.filter((d) => /\n {2}tcpdump: {3}.*(IPComp\(cpi=|OSPFv3)/.test(d)).map(packet));
  return diffs.filter((d) => !out.has(packet(d)));
}

describe.skipIf(!hasCorpus || !haveTcpdump)('AH text identical to tcpdump 4.99', () => {
  it('on the corpus captures (but IPComp and OSPFv3 behind AH)', () => {
    for (const file of CAPTURES) for (const flags of FLAGS) expect(inScope(textDifferences(file, flags))).toEqual([]);
  });
});

const built = existsSync(path.join(repoRoot, 'dist/src/cli/main.js'));
if (!built) console.log('AH field comparisons skipped: dist/ is not built (npx tsc -p tsconfig.json)');

/** wirescope -T fields as users run it (IP fragments reassembled, as tshark shows them). */
function cliFields(file: string, fields: string[]): string[][] {
  const args = [wirescopeBin, '-r', file, '-T', 'fields'];
  for (const f of fields) args.push('-e', f);
  return run('node', args).stdout.split('\n').filter((l) => l.length).map((l) => l.split('\t'));
}

describe.skipIf(!hasCorpus || !haveTshark || !built)('AH fields as tshark 4.0 prints them', () => {
  it('ah.*, the next-header fields and frame.protocols on the corpus captures, but where tshark went on into IPComp or OSPF', () => {
    let compared = 0;
    for (const file of CAPTURES) {
      const names = ['frame.protocols', ...FIELDS];
      const theirs = tsharkFields(file, names);
      const ours = cliFields(file, names);
      expect(ours.length).toBe(theirs.length);
      theirs.forEach((row, k) => {
        // tshark decompresses IPComp (and numbers the IP header inside), and decodes OSPF.
        if (/:(ipcomp|ospf)/.test(row[0])) {
          expect(ours[k].slice(1, 7), `${path.basename(file)} #${k + 1}`).toEqual(row.slice(1, 7));
          return;
        }
        expect(ours[k], `${path.basename(file)} #${k + 1}`).toEqual(row);
        compared++;
      });
    }
    expect(compared).toBeGreaterThan(15);
  });
});
