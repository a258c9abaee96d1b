/**
 * Differential test against the installed tcpdump: for each expression and capture file,
 * `tcpdump -r FILE -w - EXPR` must select exactly the frames compileFilter selects, and when
 * tcpdump refuses the expression, compileFilter must refuse it too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilterError, compileFilter } from '../../src/filter/index.js';
import { corpus, haveCorpus, readFrames } from './helpers.js';

const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = tcpdump.status === 0;

/** Capture files by link type; every one must exist in the corpus. */
const FILES = [
  'pcapplusplus/PcapExamples/VlanPackets.pcap',
  'pcapplusplus/PcapExamples/one_http_stream_rst.pcap',
  'pcapplusplus/PcapExamples/ip4_fragments.pcap',
  'pcapplusplus/PcapExamples/ip6_fragments.pcap',
  'pcapplusplus/ExamplesTest/tls.pcap',
  'pcapplusplus/PacketExamples/IcmpPackets.pcap',
  'pcapplusplus/PacketExamples/ipv6_options.pcap',
  'tcpdump/dhcp-rfc4388.pcap',
  'tcpdump/bgp-4byte-asn.pcap',
  'tcpdump/erspan-type-ii-3.pcap',
  'tcpdump/malformed/arp-oobr.pcap',
  'libpcap/tests/filter/vrrp.pcap',
  'libpcap/tests/filter/gateway_or_not.pcap',
  'libpcap/tests/filter/AH-IPcomp-IPv4.pcap',
  'tcpdump/dns-badcookie.pcap',
  'gopacket/pcap/test_loopback.pcap',
  'tcpdump/icmpv6-RFC2894-RR.pcap',
  'pcapplusplus/PcapExamples/raw_ip.pcap',
  'tcpdump/babel.pcap',
  'tcpdump/malformed/bgp-infinite-loop.pcap',
  'pcapplusplus/PcapExamples/sll2.pcap',
  'tcpdump/LINKTYPE_IPV4.pcap',
  'tcpdump/ipv6_mobility_1.pcap',
];

/**
 * Expressions as typed at tcpdump, from single primitives to nested, byte-offset, vlan and IPv6
 * ones. Lines starting "#!" are known differences (libpcap's optimizer removing a test whose
 * outcome cannot change the result, see the README), run only to show they still differ.
 */
const LINES = readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'tcpdump-exprs.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim());
const EXPRS = LINES.filter((l) => l && !l.startsWith('#'));
const KNOWN_DIFFERENCES = LINES.filter((l) => l.startsWith('#!')).map((l) => l.slice(2).trim());

/** The frames of a pcap stream (what tcpdump -w - writes), as comparable keys. */
function pcapRecords(buf: Buffer): string[] {
  if (buf.length < 24) return [];
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const out: string[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const capLen = u32(o + 8);
    const origLen = u32(o + 12);
    out.push(`${capLen}/${origLen}/${buf.subarray(o + 16, o + 16 + capLen).toString('hex')}`);
    o += 16 + capLen;
  }
  return out;
}

describe.skipIf(!haveCorpus || !haveTcpdump)('filter vs tcpdump -r FILE -w - EXPR', () => {
  if (!haveCorpus) console.log('skipped: ../shared/corpus not found');
  if (!haveTcpdump) console.log('skipped: tcpdump not installed');

  it('selects the same frames, and refuses the same expressions', () => {
    expect(EXPRS.length).toBeGreaterThanOrEqual(200);
    const mismatches: string[] = [];
    let compared = 0;
    let bothRefused = 0;
    const exprsCompared = new Set<string>();
    for (const rel of FILES) {
      const file = path.join(corpus, rel);
      expect(existsSync(file), rel).toBe(true);
      const { linkType, snaplen, frames, bigEndian } = readFrames(file);
      const keys = frames.map((f) => `${f.capLen}/${f.origLen}/${Buffer.from(f.data.subarray(0, f.capLen)).toString('hex')}`);
      for (const expr of EXPRS) {
        const td = spawnSync('tcpdump', ['-r', file, '-w', '-', expr], { maxBuffer: 1 << 28 });
        let ours: string[] | FilterError;
        try {
          const prog = compileFilter(expr, linkType, { snaplen, bigEndianFile: bigEndian });
          ours = keys.filter((_, i) => prog.matches(frames[i].data, frames[i].capLen, frames[i].origLen) !== 0);
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
          ours = e;
        }
        const theirsFailed = td.status !== 0;
        if (theirsFailed || ours instanceof FilterError) {
          if (theirsFailed && ours instanceof FilterError) bothRefused++;
          else {
            const why = theirsFailed ? `tcpdump refused (${td.stderr.toString().trim().split('\n').pop()})` : `we refused (${(ours as FilterError).message})`;
            mismatches.push(`${rel}: '${expr}': ${why}`);
          }
          continue;
        }
        const theirs = pcapRecords(td.stdout);
        const mine = ours as string[];
        compared++;
        exprsCompared.add(expr);
        if (theirs.length !== mine.length || theirs.some((r, i) => r !== mine[i])) {
          mismatches.push(`${rel}: '${expr}': tcpdump selected ${theirs.length} frames, we selected ${mine.length}`);
        }
      }
    }
    console.log(
      `tcpdump differential: ${EXPRS.length} expressions x ${FILES.length} files; ${compared} frame comparisons ` +
        `(${exprsCompared.size} distinct expressions), ${bothRefused} refused by both, ${mismatches.length} mismatches`,
    );
    expect(mismatches).toEqual([]);
    if (KNOWN_DIFFERENCES.length) console.log(`known differences not compared: ${KNOWN_DIFFERENCES.map((e) => `'${e}'`).join(', ')}`);
  }, 600_000);
});
