/**
 * IPsec Encapsulating Security Payload (RFC 4303), IP protocol 50 under IPv4 and IPv6: the SPI and
 * sequence number; the rest is encrypted, so the layer claims it all and nothing follows.
 * tcpdump: print-esp.c (esp_print, without decryption); tshark fields: esp.* (packet-ipsec.c).
 */
import { bind, Table, type Dissector, type Packet } from '../src/core/dissector.js';
import type { TextOut } from '../src/output/text.js';
import { hexPad, IPPROTO, Ipv6ChainLayer, startChain } from './ipv6.js';

/** ESP: only SPI and sequence number are readable without the keys. */
export const ESP = { SPI: 0, SEQ: 4, HEADER_LEN: 8 } as const;

export class EspLayer extends Ipv6ChainLayer {
  spi = 0;
  seq = 0;
}

export const esp: Dissector<EspLayer> = {
  name: 'esp',
  protocols: 'esp',
  create: () => new EspLayer(),

  decode(l, v, p) {
    startChain(l, v, p);
    l.spi = v.u32(ESP.SPI);
    l.seq = v.u32(ESP.SEQ);
    // Without the keys the rest is opaque: it all belongs to ESP.
    l.hdrLen = l.length;
  },

  encode(l, payload) {
    // The encrypted rest, opaque without the keys, is part of a decoded layer.
    const rest = l.buf ? l.buf.subarray(l.off + ESP.HEADER_LEN, Math.min(l.off + l.hdrLen, l.capEnd)) : new Uint8Array(0);
    const out = new Uint8Array(ESP.HEADER_LEN + rest.length + payload.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(ESP.SPI, l.spi);
    dv.setUint32(ESP.SEQ, l.seq);
    out.set(rest, ESP.HEADER_LEN);
    out.set(payload, ESP.HEADER_LEN + rest.length);
    return out;
  },

  print(p: Packet, i: number, out: TextOut) {
    const l = p.layers[i] as EspLayer;
    // esp_print wants more than the 8-byte header captured.
    if (l.off + ESP.HEADER_LEN >= l.capEnd) { out.trunc('esp'); return; }
    out.s += 'ESP(spi=0x' + hexPad(l.spi, 8) + ',seq=0x' + l.seq.toString(16) + '), length ' + l.length;
  },

  fields: {
    'esp.spi': (l) => (l.off + 4 <= l.capEnd ? '0x' + hexPad(l.spi, 8) : undefined),
    'esp.sequence': (l) => (l.off + 8 <= l.capEnd ? l.seq : undefined),
  },

  json(l) {
    return { spi: l.spi, seq: l.seq };
  },
};

bind(Table.IpProto, IPPROTO.ESP, esp);
