/**
 * TCP (RFC 9293): header, options, checksum, and tcpdump's relative sequence numbers.
 * tcpdump: print-tcp.c and print-mptcp.c; tshark fields: tcp.*.
 */
import { bind, Layer, Table, type Dissector, type EncodeContext, type Packet } from '../src/core/dissector.js';
import { foldChecksum, sumWords } from '../src/core/checksum.js';
import { ascii, defaultTextOptions, TextOut } from '../src/output/text.js';
import { hex2 } from '../src/output/format.js';
import { ipv4Text, ipv6Text } from '../src/output/host-names.js';
import { conversationKey, KEY_WORDS_V6, NUM_ACK, NUM_SACK, NUM_SEQ, sackBase, shownAck, shownSeq, TcpSeqTable } from '../src/output/tcp-seq.js';
import type { NetworkLayer } from './ipproto.js';
import { checksumShouldBe, hex4, isFragmented, networkIndex, outerNetwork, put16, putAddrPair, putEndpoints, putPorts } from './udp.js';

/** Field offsets, shared by decode and encode. */
export const TCP = {
  SPORT: 0, DPORT: 2, SEQ: 4, ACK: 8, OFF_FLAGS: 12, WINDOW: 14, CHECKSUM: 16, URGENT: 18,
  HEADER_LEN: 20, MAX_HEADER_LEN: 60,
} as const;
export const IPPROTO_TCP = 6;
/** The option bytes of a layer without options: one empty array shared by all (a typed array per layer is costly). */
const NO_BYTES = new Uint8Array(0);

/** Flag bits of the 12-bit flags field (the low 12 bits of bytes 12-13). */
export const TH = { FIN: 0x01, SYN: 0x02, RST: 0x04, PUSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80, AE: 0x100 } as const;

/** Option kinds tcpdump knows by name. */
export const TCPOPT = {
  EOL: 0, NOP: 1, MSS: 2, WSCALE: 3, SACK_PERM: 4, SACK: 5, ECHO: 6, ECHOREPLY: 7, TIMESTAMP: 8,
  CC: 11, CCNEW: 12, CCECHO: 13, MD5: 19, SCPS: 20, UTO: 28, TCP_AO: 29, MPTCP: 30, FASTOPEN: 34, EXP2: 254,
} as const;

/**
 * One option for encoding. value: raw data bytes, or numbers: a single number is written with the
 * kind's width (MSS/UTO 2 bytes, WSCALE 1, others 4); an array as 32-bit words (TS val/ecr, SACK edges).
 * NOP and EOL take no value and no length byte.
 */
export interface TcpOption {
  kind: number;
  value?: Uint8Array | number | readonly number[];
}

export class TcpLayer extends Layer {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** Header length in 32-bit words, as sent. */
  dataOffset = 5;
  /** The 12 flag bits (FIN..CWR, AE and the 3 reserved bits). */
  flags = 0;
  window = 0;
  checksum = 0;
  urgent = 0;
  /** Option bytes captured past the fixed header (decode): buf[off + 20, off + 20 + optionsCaptured). */
  optionsCaptured = 0;
  /** Option bytes given to encode (makeLayer), or null for the captured ones. */
  private optionsGiven: Uint8Array | null = null;
  /**
   * Option bytes as captured (decode; may be cut short when the layer is truncated), or as given.
   * Made on demand: the text printer reads them from the packet, so most segments never need a view.
   */
  get optionBytes(): Uint8Array {
    if (this.optionsGiven !== null) return this.optionsGiven;
    const start = this.off + TCP.HEADER_LEN;
    return this.optionsCaptured === 0 ? NO_BYTES : this.buf.subarray(start, start + this.optionsCaptured);
  }
  set optionBytes(b: Uint8Array) {
    this.optionsGiven = b;
  }
  /** Options to encode, when building a segment; when null, encode writes optionBytes as they are. */
  options: TcpOption[] | null = null;
  /** Bytes of this layer that were captured (tcpdump's snapend), within what the IP layer claims. */
  caplen = 0;
}

export const tcp: Dissector<TcpLayer> = {
  name: 'tcp',
  protocols: 'tcp',
  create: () => new TcpLayer(),

  decode(l, v, _p) {
    l.caplen = v.length;
    l.srcPort = v.u16(TCP.SPORT);
    l.dstPort = v.u16(TCP.DPORT);
    l.seq = v.u32(TCP.SEQ);
    l.ack = v.u32(TCP.ACK);
    const of = v.u16(TCP.OFF_FLAGS);
    l.dataOffset = of >>> 12;
    l.flags = of & 0x0fff;
    l.window = v.u16(TCP.WINDOW);
    l.checksum = v.u16(TCP.CHECKSUM);
    l.urgent = v.u16(TCP.URGENT);
    const hlen = l.dataOffset * 4;
    if (hlen < TCP.HEADER_LEN) { l.invalid = 'header length too small'; return; }
    if (hlen > l.length) { l.invalid = 'header length exceeds segment'; return; }
    // At least the fixed header was read, so this is never negative.
    if (hlen > TCP.HEADER_LEN) l.optionsCaptured = Math.min(hlen, v.length) - TCP.HEADER_LEN;
    l.hdrLen = hlen;
    v.check(TCP.HEADER_LEN, hlen - TCP.HEADER_LEN);
    l.payloadLen = l.length - hlen;
    // tcpdump hands a segment to a port's printer only when it carries data.
    if (l.payloadLen > 0) {
      l.nextTable = Table.TcpPort;
      l.nextKey = Math.min(l.srcPort, l.dstPort);
      l.altKey = Math.max(l.srcPort, l.dstPort);
    }
  },

  encode(l, payload, ctx: EncodeContext) {
    const opts = l.options ? encodeTcpOptions(l.options) : l.optionBytes;
    const hl = TCP.HEADER_LEN + opts.length;
    if (hl > TCP.MAX_HEADER_LEN || hl % 4) throw new Error(`TCP options make a ${hl}-byte header (must be a multiple of 4, at most 60)`);
    const out = new Uint8Array(hl + payload.length);
    const dv = new DataView(out.buffer);
    const off = ctx.opts.fixLengths || l.options ? hl >> 2 : l.dataOffset;
    put16(out, TCP.SPORT, l.srcPort);
    put16(out, TCP.DPORT, l.dstPort);
    dv.setUint32(TCP.SEQ, l.seq >>> 0);
    dv.setUint32(TCP.ACK, l.ack >>> 0);
    put16(out, TCP.OFF_FLAGS, ((off & 0xf) << 12) | (l.flags & 0x0fff));
    put16(out, TCP.WINDOW, l.window);
    put16(out, TCP.URGENT, l.urgent);
    out.set(opts, TCP.HEADER_LEN);
    out.set(payload, hl);
    let sum = l.checksum;
    if (ctx.opts.computeChecksums) {
      const net = outerNetwork(ctx);
      if (net) sum = foldChecksum(sumWords(out, 0, out.length, net.pseudoHeaderSum(IPPROTO_TCP, out.length)));
    }
    put16(out, TCP.CHECKSUM, sum);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as TcpLayer;
    const ni = networkIndex(p, i);
    const net = ni >= 0 ? (p.layers[ni] as Layer & NetworkLayer) : null;
    // tcpdump prints the addresses only when the IP header's own protocol is TCP (no extension headers between).
    const withAddrs = net !== null && ni === i - 1;
    if (l.caplen < 4) {
      // Unlike the port line below, this one has the addresses even behind extension headers.
      if (net !== null) putAddrPair(out, net, ':');
      out.trunc('tcp');
      return;
    }
    if (withAddrs) putEndpoints(out, net, 'tcp', l.srcPort, l.dstPort);
    else putPorts(out, 'tcp', l.srcPort, l.dstPort);
    if (l.caplen < TCP.HEADER_LEN) {
      out.trunc('tcp');
      return;
    }
    const o = out.opts;
    const hlen = l.dataOffset * 4;
    let length = l.length;
    if (hlen < TCP.HEADER_LEN) {
      out.s += ' tcp ' + ((length - hlen) >>> 0) + ' [bad hdr length ' + hlen + ' - too short, < 20]';
      return;
    }
    if (o.q) {
      out.s += 'tcp ' + ((length - hlen) >>> 0);
      if (hlen > length) out.s += ' [bad hdr length ' + hlen + ' - too long, > ' + length + ']';
      return;
    }
    const flags = l.flags & 0xff;
    out.putAscii(FLAGS_FIELD[flags]);
    let seq = l.seq;
    let ack = l.ack;
    // The SACK edges' base; DEFERRED when a worker thread leaves the numbers to the merge.
    let sackFrom = 0;
    let deferred = false;
    if (!o.S && (flags & TH.ACK) && net !== null) {
      const v6 = net.ipVersion === 6;
      const alen = v6 ? 16 : 4;
      const src = net.off + (v6 ? 8 : 12);
      const log = out.tcpLog;
      if (log !== null) {
        log.track(net.buf, src, src + alen, alen, l.srcPort, l.dstPort, (flags & TH.SYN) !== 0, l.seq, l.ack);
        deferred = true;
        sackFrom = DEFERRED;
      } else {
        const rev = conversationKey(net.buf, src, src + alen, alen, l.srcPort, l.dstPort, keyWords, 0);
        const b = seqTable(out).track(keyWords, 0, alen + 2, rev, (flags & TH.SYN) !== 0, l.seq, l.ack);
        seq = shownSeq(b, seq);
        ack = shownAck(b, ack);
        sackFrom = sackBase(b);
      }
    }
    if (hlen > length) {
      out.s += ' [bad hdr length ' + hlen + ' - too long, > ' + length + ']';
      return;
    }
    if (o.v && !o.K && net !== null && !isFragmented(p, ni, i) && l.caplen >= length) {
      const sum = foldChecksum(sumWords(p.buf, l.off, l.off + length, net.pseudoHeaderSum(IPPROTO_TCP, length)));
      out.s += ', cksum 0x' + hex4(l.checksum);
      if (sum !== 0) out.s += ' (incorrect -> 0x' + hex4(checksumShouldBe(l.checksum, sum)) + ')';
      else out.s += ' (correct)';
    }
    length -= hlen;
    if (o.v > 1 || length > 0 || (flags & (TH.SYN | TH.FIN | TH.RST))) {
      out.putAscii(SEQ_TEXT);
      if (deferred) out.deferNum(NUM_SEQ, seq);
      else out.num(seq);
      if (length > 0) {
        out.putChar(COLON);
        if (deferred) out.deferNum(NUM_SEQ, (seq + length) >>> 0);
        else out.num((seq + length) >>> 0);
      }
    }
    if (flags & TH.ACK) {
      out.putAscii(ACK_TEXT);
      if (deferred) out.deferNum(NUM_ACK, ack);
      else out.num(ack);
    }
    out.putAscii(WIN_TEXT);
    out.num(l.window);
    if (flags & TH.URG) out.s += ', urg ' + l.urgent;
    let proto = 'tcp';
    if (hlen > TCP.HEADER_LEN) {
      out.putAscii(OPTIONS_TEXT);
      const r = printOptions(out, p.buf, l.off + TCP.HEADER_LEN, hlen - TCP.HEADER_LEN, l.off + l.caplen, flags, length, sackFrom);
      if (r !== OPTS_OK) return;
      // The MPTCP printer leaves its name as tcpdump's current protocol for later truncation marks.
      if (sawMptcp) proto = 'mptcp';
      out.putChar(RBRACKET);
    }
    out.putAscii(LENGTH_TEXT);
    out.num(length);
    if (length === 0) return;
    // Options ended by EOL leave the rest of the header unread; tcpdump checks it before the payload.
    if (l.caplen < hlen) {
      out.s += ' [remaining caplen(' + l.caplen + ') < header length(' + hlen + ')]';
      out.truncJump(proto);
      return;
    }
    if ((flags & TH.RST) && o.v) {
      printRstData(out, p.buf, l.off + hlen, length, l.off + l.caplen);
      return;
    }
    if (i + 1 < p.layers.length) out.printLayer(p, i + 1);
  },

  fields: {
    'tcp.srcport': (l) => (l.caplen >= 4 ? l.srcPort : undefined),
    'tcp.dstport': (l) => (l.caplen >= 4 ? l.dstPort : undefined),
    'tcp.seq_raw': (l) => (l.caplen >= 8 ? l.seq : undefined),
    'tcp.hdr_len': (l) => (l.caplen >= 13 ? l.dataOffset * 4 : undefined),
    'tcp.len': (l, p) => {
      if (l.caplen < 13) return undefined;
      // tshark's reported length: what the IP layer claims, but no more than the frame had on the wire.
      const reported = p.buf === p.frame.data ? Math.min(l.length, p.frame.origLen - l.off) : l.length;
      return l.dataOffset * 4 <= reported ? reported - l.dataOffset * 4 : undefined;
    },
    'tcp.ack_raw': (l) => (hasHeader(l) ? l.ack : undefined),
    'tcp.flags': (l) => (hasHeader(l) ? '0x' + hex4(l.flags) : undefined),
    'tcp.flags.str': (l) => (hasHeader(l) ? flagsString(l.flags) : undefined),
    'tcp.window_size_value': (l) => (hasHeader(l) ? l.window : undefined),
    'tcp.checksum': (l) => (hasHeader(l) ? '0x' + hex4(l.checksum) : undefined),
    'tcp.urgent_pointer': (l) => (hasHeader(l) ? l.urgent : undefined),
    'tcp.options.mss_val': (l) => optionField(l, TCPOPT.MSS, 4, 2),
    'tcp.options.wscale.shift': (l) => optionField(l, TCPOPT.WSCALE, 3, 1),
    'tcp.options.sack_perm': (l) => optionField(l, TCPOPT.SACK_PERM, 2, 0),
    'tcp.options.timestamp.tsval': (l) => optionField(l, TCPOPT.TIMESTAMP, 10, 4),
    'tcp.options.timestamp.tsecr': (l) => optionField(l, TCPOPT.TIMESTAMP, 10, 4, 6),
  },

  json(l) {
    return {
      srcPort: l.srcPort, dstPort: l.dstPort, seq: l.seq, ack: l.ack, headerLen: l.dataOffset * 4,
      flags: flagsText(l.flags & 0xff), flagBits: l.flags, window: l.window, checksum: l.checksum, urgent: l.urgent,
      options: parseTcpOptions(l.optionBytes).map((op) => ({ kind: op.kind, name: optionName(op.kind), data: hexOf(op.value as Uint8Array | undefined) })),
      ...badOptionMark(l),
    };
  },
};

/** tshark shows the fields past the sequence number only for a captured header of a valid length. */
function hasHeader(l: TcpLayer): boolean {
  return l.caplen >= TCP.HEADER_LEN && l.dataOffset >= 5;
}

/** tcpdump's flag letters (bittok2str_nosep over the low 8 bits), or "none". */
const FLAG_LETTERS: ReadonlyArray<[number, string]> = [
  [TH.FIN, 'F'], [TH.SYN, 'S'], [TH.RST, 'R'], [TH.PUSH, 'P'], [TH.ACK, '.'], [TH.URG, 'U'], [TH.ECE, 'E'], [TH.CWR, 'W'],
];
const FLAGS_TEXT: string[] = Array.from({ length: 256 }, (_, f) => {
  let s = '';
  for (const [bit, c] of FLAG_LETTERS) if (f & bit) s += c;
  return s || 'none';
});
/** "Flags [S.]" as the TCP line has it. */
const FLAGS_FIELD: Uint8Array[] = FLAGS_TEXT.map((f) => ascii('Flags [' + f + ']'));
/** The constant parts of the line, as bytes (TextOut.putAscii). */
const SEQ_TEXT = ascii(', seq '), ACK_TEXT = ascii(', ack '), WIN_TEXT = ascii(', win '), OPTIONS_TEXT = ascii(', options [');
const LENGTH_TEXT = ascii(', length '), VAL_TEXT = ascii(' val '), ECR_TEXT = ascii(' ecr ');
export function flagsText(flags8: number): string {
  return FLAGS_TEXT[flags8 & 0xff];
}

/** tshark's tcp.flags.str: 12 positions, high bit first, a letter when set and U+00B7 when clear. */
function flagsString(flags: number): string {
  const letters = 'RRRACEUAPRSF';
  let s = '';
  for (let k = 0; k < 12; k++) s += (flags >> (11 - k)) & 1 ? letters[k] : '\u00b7';
  return s;
}

// tcpdump's sequence-number table, kept in the printer's state (src/output/tcp-seq.ts).
const STATE_KEY = 'tcp.seq';
/** Scratch for one segment's conversation key. */
const keyWords = new Uint32Array(KEY_WORDS_V6);
/** The SACK base (sackFrom) when a worker thread defers the SACK edges to the merge: a base is never negative. */
const DEFERRED = -1;

function seqTable(out: TextOut): TcpSeqTable {
  let t = out.state.get(STATE_KEY) as TcpSeqTable | undefined;
  if (t === undefined) {
    t = new TcpSeqTable();
    out.state.set(STATE_KEY, t);
  }
  return t;
}

/** For tests: a table with a small bound, installed in out's state. */
export function installSeqTable(out: TextOut, cap: number): { readonly size: number } {
  const t = new TcpSeqTable(cap);
  out.state.set(STATE_KEY, t);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Options, as tcpdump prints them.

const OPTION_NAMES = new Map<number, string>([
  [TCPOPT.EOL, 'eol'], [TCPOPT.NOP, 'nop'], [TCPOPT.MSS, 'mss'], [TCPOPT.WSCALE, 'wscale'],
  [TCPOPT.SACK_PERM, 'sackOK'], [TCPOPT.SACK, 'sack'], [TCPOPT.ECHO, 'echo'], [TCPOPT.ECHOREPLY, 'echoreply'],
  [TCPOPT.TIMESTAMP, 'TS'], [TCPOPT.CC, 'cc'], [TCPOPT.CCNEW, 'ccnew'], [TCPOPT.CCECHO, ''],
  [TCPOPT.MD5, 'md5'], [TCPOPT.SCPS, 'scps'], [TCPOPT.UTO, 'uto'], [TCPOPT.TCP_AO, 'tcp-ao'],
  [TCPOPT.MPTCP, 'mptcp'], [TCPOPT.FASTOPEN, 'tfo'], [TCPOPT.EXP2, 'exp'],
]);

/** OPTION_NAMES as an array by kind: the printer looks one up per option. */
const OPTION_NAME_BY_KIND: string[] = Array.from({ length: 256 }, (_, k) => OPTION_NAMES.get(k) ?? 'unknown-' + k);
const OPTION_NAME_BYTES: Uint8Array[] = OPTION_NAME_BY_KIND.map(ascii);

export function optionName(kind: number): string {
  return OPTION_NAME_BY_KIND[kind & 0xff];
}

const COMMA = 0x2c, COLON = 0x3a, LBRACE = 0x7b, RBRACE = 0x7d, RBRACKET = 0x5d, SPACE = 0x20;

/**
 * `invalid` for a segment whose options tcpdump stops at with "[bad opt]" (a length that contradicts
 * the header or the option's kind): the text printer's own checks, run into a scratch output.
 */
function badOptionMark(l: TcpLayer): { invalid: string } | undefined {
  const hlen = l.dataOffset * 4;
  if (hlen <= TCP.HEADER_LEN || l.caplen <= TCP.HEADER_LEN) return undefined;
  const scratch = (scratchOut ??= new TextOut(defaultTextOptions));
  const start = l.off + TCP.HEADER_LEN;
  printOptions(scratch, l.buf, start, hlen - TCP.HEADER_LEN, l.off + l.caplen, l.flags & 0xff, Math.max(0, l.length - hlen), 0);
  scratch.s = '';
  scratch.len = 0;
  if (badOptionAt < 0) return undefined;
  const kind = l.buf[badOptionAt];
  const len = badOptionAt + 1 < l.off + l.caplen ? l.buf[badOptionAt + 1] : -1;
  return { invalid: `bad option ${optionName(kind)} (kind ${kind}, length ${len}) at option byte ${badOptionAt - start}` };
}
let scratchOut: TextOut | undefined;

const OPTS_OK = 0;
/** The options ended the packet's text ("[bad opt]" or a truncation mark). */
const OPTS_STOP = 1;
/** Set by printOptions when an MPTCP option was printed (tcpdump's ndo_protocol becomes "mptcp"). */
let sawMptcp = false;
/** Where the option printOptions is at starts, and where the one it called "[bad opt]" starts (-1: none). */
let optionAt = 0;
let badOptionAt = -1;

/**
 * Prints the option list at buf[start, start+optLen) up to capEnd (captured end), after "options [".
 * Mirrors tcpdump's loop: an unreadable kind/length byte truncates (" [|tcp]"); data not captured
 * truncates too, with ">" once an option was printed; a length that contradicts the header is "[bad opt]".
 */
function printOptions(out: TextOut, buf: Uint8Array, start: number, optLen: number, capEnd: number,
  flags: number, dataLen: number, sackFrom: number): number {
  sawMptcp = false;
  badOptionAt = -1;
  let hlen = optLen;
  let cp = start;
  let sep = false;
  while (hlen > 0) {
    if (sep) out.putChar(COMMA);
    if (cp >= capEnd) return truncJump(out);
    optionAt = cp;
    const opt = buf[cp++];
    let len: number;
    if (opt === TCPOPT.EOL || opt === TCPOPT.NOP) len = 1;
    else {
      if (cp >= capEnd) return truncJump(out);
      len = buf[cp++];
      if (len < 2 || len > hlen) return badOpt(out, sep);
      hlen--;
    }
    hlen--;
    let datalen = 0;
    out.putAscii(OPTION_NAME_BYTES[opt]);
    // LENCHECK(n): n more bytes belong to this header and were captured.
    switch (opt) {
      case TCPOPT.MSS:
        datalen = 2;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + 2 > capEnd) return truncData(out, sep);
        out.putChar(SPACE);
        out.num((buf[cp] << 8) | buf[cp + 1]);
        break;
      case TCPOPT.WSCALE:
        datalen = 1;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + 1 > capEnd) return truncData(out, sep);
        out.putChar(SPACE);
        out.num(buf[cp]);
        break;
      case TCPOPT.SACK:
        datalen = len - 2;
        if (datalen % 8 !== 0) out.s += ' invalid sack';
        else {
          out.s += ' ' + datalen / 8 + ' ';
          for (let k = 0; k < datalen; k += 8) {
            if (k + 4 > hlen) return badOpt(out, sep);
            if (cp + k + 4 > capEnd) return truncData(out, sep);
            const s = u32At(buf, cp + k);
            if (k + 8 > hlen) return badOpt(out, sep);
            if (cp + k + 8 > capEnd) return truncData(out, sep);
            const e = u32At(buf, cp + k + 4);
            out.putChar(LBRACE);
            if (sackFrom === DEFERRED) out.deferNum(NUM_SACK, s);
            else out.num((s - sackFrom) >>> 0);
            out.putChar(COLON);
            if (sackFrom === DEFERRED) out.deferNum(NUM_SACK, e);
            else out.num((e - sackFrom) >>> 0);
            out.putChar(RBRACE);
          }
        }
        break;
      case TCPOPT.CC:
      case TCPOPT.CCNEW:
      case TCPOPT.CCECHO:
      case TCPOPT.ECHO:
      case TCPOPT.ECHOREPLY:
        datalen = 4;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + 4 > capEnd) return truncData(out, sep);
        out.s += ' ' + u32At(buf, cp);
        break;
      case TCPOPT.TIMESTAMP:
        datalen = 8;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + 8 > capEnd) return truncData(out, sep);
        out.putAscii(VAL_TEXT);
        out.num(u32At(buf, cp));
        out.putAscii(ECR_TEXT);
        out.num(u32At(buf, cp + 4));
        break;
      case TCPOPT.MD5:
        datalen = 16;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + 16 > capEnd) return truncData(out, sep);
        // Debian's tcpdump is built with libcrypto but is given no secret (-M): it says why it cannot check.
        out.s += ' ' + (start + optLen + dataLen > capEnd ? 'snaplen too short, ' : 'shared secret not supplied with -M, ');
        out.s += "can't check - " + hexRun(buf, cp, 16);
        break;
      case TCPOPT.SCPS:
        datalen = 2;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + 2 > capEnd) return truncData(out, sep);
        out.s += ' cap ' + hex2(buf[cp]) + ' id ' + buf[cp + 1];
        break;
      case TCPOPT.TCP_AO:
        datalen = len - 2;
        // RFC 5925: the length is at least 4.
        if (datalen < 2) out.s += ' (invalid)';
        else {
          if (1 > hlen) return badOpt(out, sep);
          if (cp + 1 > capEnd) return truncData(out, sep);
          out.s += ' keyid ' + buf[cp];
          if (2 > hlen) return badOpt(out, sep);
          if (cp + 2 > capEnd) return truncData(out, sep);
          out.s += ' rnextkeyid ' + buf[cp + 1];
          if (datalen > 2) {
            out.s += ' mac 0x';
            for (let k = 2; k < datalen; k++) {
              if (k + 1 > hlen) return badOpt(out, sep);
              if (cp + k + 1 > capEnd) return truncData(out, sep);
              out.s += hex2(buf[cp + k]);
            }
          }
        }
        break;
      case TCPOPT.EOL:
      case TCPOPT.NOP:
      case TCPOPT.SACK_PERM:
        break;
      case TCPOPT.UTO: {
        datalen = 2;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + 2 > capEnd) return truncData(out, sep);
        const uto = (buf[cp] << 8) | buf[cp + 1];
        // The low bit says whether the rest counts minutes or seconds.
        out.s += ' 0x' + uto.toString(16) + ' ' + (uto & 1 ? (uto >> 1) * 60 : uto >> 1);
        break;
      }
      case TCPOPT.MPTCP:
        datalen = len - 2;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + datalen > capEnd) return truncData(out, sep);
        sawMptcp = true;
        if (!printMptcp(out, buf, cp - 2, len, flags)) return badOpt(out, sep);
        break;
      case TCPOPT.FASTOPEN:
        datalen = len - 2;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + datalen > capEnd) return truncData(out, sep);
        out.s += ' ';
        printFastOpen(out, buf, cp, datalen, false);
        break;
      case TCPOPT.EXP2: {
        datalen = len - 2;
        if (datalen > hlen) return badOpt(out, sep);
        if (cp + datalen > capEnd) return truncData(out, sep);
        if (datalen < 2) return badOpt(out, sep);
        // RFC 6994 experiment id; 0xf989 is TCP Fast Open before it had a kind of its own.
        const magic = (buf[cp] << 8) | buf[cp + 1];
        out.s += '-';
        if (magic === 0xf989) printFastOpen(out, buf, cp + 2, datalen - 2, true);
        else out.s += hex4(magic);
        break;
      }
      default:
        datalen = len - 2;
        if (datalen) out.s += ' 0x';
        for (let k = 0; k < datalen; k++) {
          if (k + 1 > hlen) return badOpt(out, sep);
          if (cp + k + 1 > capEnd) return truncData(out, sep);
          out.s += hex2(buf[cp + k]);
        }
        break;
    }
    cp += datalen;
    hlen -= datalen;
    datalen += opt === TCPOPT.EOL || opt === TCPOPT.NOP ? 1 : 2;
    if (datalen !== len) out.s += '[len ' + len + ']';
    sep = true;
    if (opt === TCPOPT.EOL) break;
  }
  return OPTS_OK;
}

function badOpt(out: TextOut, sep: boolean): number {
  badOptionAt = optionAt;
  out.s += '[bad opt]';
  if (sep) out.s += ']';
  return OPTS_STOP;
}

/**
 * An option's data was not captured: " [|tcp]" ("[|mptcp]" once an MPTCP option was printed, as
 * tcpdump's current protocol name is then left at that), closed by ">" after the first option.
 */
function truncData(out: TextOut, sep: boolean): number {
  out.trunc(sawMptcp ? 'mptcp' : 'tcp');
  if (sep) out.s += '>';
  return OPTS_STOP;
}

/** An option's kind or length byte was not captured: tcpdump longjmps out of the printer there. */
function truncJump(out: TextOut): number {
  out.truncJump(sawMptcp ? 'mptcp' : 'tcp');
  return OPTS_STOP;
}

function printFastOpen(out: TextOut, buf: Uint8Array, cp: number, datalen: number, experimental: boolean): void {
  if (experimental) out.s += 'tfo';
  if (datalen === 0) out.s += ' cookiereq';
  else if (datalen % 2 !== 0 || datalen < 4 || datalen > 16) out.s += ' (invalid)';
  else out.s += ' cookie ' + hexRun(buf, cp, datalen);
}

const MPTCP_SUBTYPES = ['capable', 'join', 'dss', 'add-addr', 'rem-addr', 'prio', 'fail', 'fast-close', 'unknown'];

/** tcpdump 4.99's mptcp_print for the option at buf[o] of length len; false means "[bad opt]". */
function printMptcp(out: TextOut, buf: Uint8Array, o: number, len: number, flags: number): boolean {
  if (len < 3) return false;
  const subtype = Math.min(buf[o + 2] >> 4, MPTCP_SUBTYPES.length - 1);
  out.s += ' ' + len + ' ' + MPTCP_SUBTYPES[subtype];
  const syn = (flags & TH.SYN) !== 0;
  const synAck = flags & (TH.SYN | TH.ACK);
  switch (subtype) {
    case 0: { // MP_CAPABLE
      if (!((len === 12 || len === 4) && syn) && !((len === 20 || len === 22) && synAck === TH.ACK)) return false;
      const version = buf[o + 2] & 0xf;
      if (version > 1) {
        out.s += ' Unknown Version (' + version + ')';
        return true;
      }
      out.s += ' v' + version;
      if (buf[o + 3] & 0x80) out.s += ' csum';
      if (len === 12 || len >= 20) {
        out.s += ' {0x' + u64Hex(buf, o + 4);
        if (len >= 20) out.s += ',0x' + u64Hex(buf, o + 12);
        out.s += '}';
      }
      return true;
    }
    case 1: // MP_JOIN
      if (!(len === 12 && syn) && !(len === 16 && synAck === (TH.SYN | TH.ACK)) && !(len === 24 && (flags & TH.ACK))) return false;
      if (len !== 24) {
        if (buf[o + 2] & 0x01) out.s += ' backup';
        out.s += ' id ' + buf[o + 3];
      }
      if (len === 12) out.s += ' token 0x' + u32At(buf, o + 4).toString(16) + ' nonce 0x' + u32At(buf, o + 8).toString(16);
      else if (len === 16) out.s += ' hmac 0x' + u64Hex(buf, o + 4) + ' nonce 0x' + u32At(buf, o + 12).toString(16);
      else out.s += ' hmac 0x' + hexRun(buf, o + 4, 20);
      return true;
    case 2: { // DSS
      if (len < 4 || syn) return false;
      const f = buf[o + 3];
      if (f & 0x10) out.s += ' fin';
      let q = o + 4;
      let rest = len - 4;
      if (f & 0x01) {
        out.s += ' ack ';
        const w = f & 0x02 ? 8 : 4;
        if (rest < w) return false;
        out.s += w === 8 ? u64Dec(buf, q) : String(u32At(buf, q));
        q += w;
        rest -= w;
      }
      if (f & 0x04) {
        out.s += ' seq ';
        const w = f & 0x08 ? 8 : 4;
        if (rest < w) return false;
        out.s += w === 8 ? u64Dec(buf, q) : String(u32At(buf, q));
        q += w;
        rest -= w;
        if (rest < 4) return false;
        out.s += ' subseq ' + u32At(buf, q);
        q += 4;
        rest -= 4;
        if (rest < 2) return false;
        out.s += ' len ' + ((buf[q] << 8) | buf[q + 1]);
        q += 2;
        rest -= 2;
        // The checksum is there only when negotiated.
        if (rest >= 2) {
          out.s += ' csum 0x' + ((buf[q] << 8) | buf[q + 1]).toString(16);
          rest -= 2;
        }
      }
      return rest === 0;
    }
    case 3: { // ADD_ADDR
      if (!(len === 8 || len === 10 || len === 16 || len === 18 || len === 20 || len === 22 || len === 28 || len === 30)) return false;
      const echo = buf[o + 2] & 0xf;
      out.s += ' ' + (echo === 6 ? 'v0-ip6' : echo === 4 ? 'v0-ip4' : echo === 1 ? 'v1-echo' : echo === 0 ? 'v1' : '[bad version/echo]');
      out.s += ' id ' + buf[o + 3];
      if (len <= 18) {
        out.s += ' ' + ipv4Text(out, buf, o + 4);
        if (len === 10 || len === 18) out.s += ':' + ((buf[o + 8] << 8) | buf[o + 9]);
        if (len === 16) out.s += ' hmac 0x' + u64Hex(buf, o + 8);
        if (len === 18) out.s += ' hmac 0x' + u64Hex(buf, o + 10);
      } else {
        out.s += ' ' + ipv6Text(out, buf, o + 4);
        if (len === 22 || len === 30) out.s += ':' + ((buf[o + 20] << 8) | buf[o + 21]);
        if (len === 28) out.s += ' hmac 0x' + u64Hex(buf, o + 20);
        if (len === 30) out.s += ' hmac 0x' + u64Hex(buf, o + 22);
      }
      return true;
    }
    case 4: // REMOVE_ADDR
      if (len < 4) return false;
      out.s += ' id';
      for (let k = 3; k < len; k++) out.s += ' ' + buf[o + k];
      return true;
    case 5: // MP_PRIO
      if (len !== 3 && len !== 4) return false;
      out.s += buf[o + 2] & 0x01 ? ' backup' : ' non-backup';
      if (len === 4) out.s += ' id ' + buf[o + 3];
      return true;
    case 6: // MP_FAIL
      if (len !== 12) return false;
      out.s += ' seq ' + u64Dec(buf, o + 4);
      return true;
    case 7: // MP_FASTCLOSE
      if (len !== 12) return false;
      out.s += ' key 0x' + u64Hex(buf, o + 4);
      return true;
    default:
      return true;
  }
}

/** RFC 1122 4.2.2.12: text a RST may carry, printed at -v like tcpdump's print_tcp_rst_data (at most 30 bytes). */
function printRstData(out: TextOut, buf: Uint8Array, start: number, length: number, capEnd: number): void {
  out.s += start + length <= capEnd ? ' [RST' : ' [!RST';
  if (length > 30) {
    length = 30;
    out.s += '+';
  }
  out.s += ' ';
  for (let q = start; length > 0 && q < capEnd; q++, length--) out.s += printChar(buf[q]);
  out.s += ']';
}

/** tcpdump's fn_print_char: "M-" for the high bit, "^X" for control characters. */
function printChar(c: number): string {
  let s = '';
  if (c > 0x7f) {
    c &= 0x7f;
    s = 'M-';
  }
  if (c < 0x20 || c === 0x7f) return s + '^' + String.fromCharCode(c ^ 0x40);
  return s + String.fromCharCode(c);
}

function u32At(buf: Uint8Array, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

function u64Hex(buf: Uint8Array, o: number): string {
  return ((BigInt(u32At(buf, o)) << 32n) | BigInt(u32At(buf, o + 4))).toString(16);
}

function u64Dec(buf: Uint8Array, o: number): string {
  return ((BigInt(u32At(buf, o)) << 32n) | BigInt(u32At(buf, o + 4))).toString();
}

function hexRun(buf: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += hex2(buf[o + k]);
  return s;
}

function hexOf(b: Uint8Array | undefined): string | undefined {
  return b && b.length ? hexRun(b, 0, b.length) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Options as data: parsing (fields, json) and encoding (probes).

/** The options in bytes, each with its raw data; stops at EOL or at a length that does not fit. */
export function parseTcpOptions(bytes: Uint8Array): Array<{ kind: number; value?: Uint8Array }> {
  const list: Array<{ kind: number; value?: Uint8Array }> = [];
  let k = 0;
  while (k < bytes.length) {
    const kind = bytes[k];
    if (kind === TCPOPT.EOL || kind === TCPOPT.NOP) {
      list.push({ kind });
      k++;
      if (kind === TCPOPT.EOL) break;
      continue;
    }
    if (k + 1 >= bytes.length) break;
    const len = bytes[k + 1];
    if (len < 2 || k + len > bytes.length) break;
    list.push({ kind, value: bytes.subarray(k + 2, k + len) });
    k += len;
  }
  return list;
}

/**
 * tshark's value for an option field: in each well-formed option of `kind` and length `len`, the
 * `width`-byte number at offset `at` (default 2, just past kind and length), or the whole option as hex when width is 0.
 */
function optionField(l: TcpLayer, kind: number, len: number, width: number, at = 2): number | string | Array<number | string> | undefined {
  let found: Array<number | string> | undefined;
  const b = l.optionBytes;
  for (let k = 0; k < b.length; ) {
    const o = b[k];
    if (o === TCPOPT.EOL) break;
    if (o === TCPOPT.NOP) { k++; continue; }
    if (k + 1 >= b.length) break;
    const n = b[k + 1];
    if (n < 2 || k + n > b.length) break;
    if (o === kind && n === len) {
      const q = k + at;
      const v = width === 0 ? hexRun(b, k, n) : width === 1 ? b[q] : width === 2 ? (b[q] << 8) | b[q + 1] : u32At(b, q);
      (found ??= []).push(v);
    }
    k += n;
  }
  return found === undefined ? undefined : found.length === 1 ? found[0] : found;
}

const OPTION_WIDTH: Record<number, number> = { [TCPOPT.MSS]: 2, [TCPOPT.UTO]: 2, [TCPOPT.WSCALE]: 1 };

/** Encodes options, padded with EOL to a multiple of 4 bytes. */
export function encodeTcpOptions(opts: readonly TcpOption[]): Uint8Array {
  const parts: number[] = [];
  for (const op of opts) {
    parts.push(op.kind & 0xff);
    if (op.kind === TCPOPT.EOL || op.kind === TCPOPT.NOP) continue;
    const v = op.value;
    const data: number[] = [];
    if (v instanceof Uint8Array) data.push(...v);
    else if (typeof v === 'number') {
      const w = OPTION_WIDTH[op.kind] ?? 4;
      for (let k = w - 1; k >= 0; k--) data.push(Math.floor(v / 2 ** (8 * k)) & 0xff);
    } else if (v) for (const x of v) data.push((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
    if (data.length + 2 > 255) throw new Error(`TCP option ${op.kind} too long`);
    parts.push(data.length + 2, ...data);
  }
  while (parts.length % 4) parts.push(TCPOPT.EOL);
  return Uint8Array.from(parts);
}

bind(Table.IpProto, IPPROTO_TCP, tcp);
