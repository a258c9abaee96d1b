/**
 * `wirescope tls -r FILE [FILTER] [--json]`: the TLS connections of a capture, one row per
 * connection: client and server, SNI, ALPN offered and selected, negotiated version and cipher,
 * JA3, JA3S and JA4 (what `tshark -Y tls.handshake.type==1 -T fields -e tcp.stream -e
 * tls.handshake.extensions_server_name -e tls.handshake.ja3 ...` gives, a connection per line).
 * A filter selects the connections with a frame it matches.
 */
import Table from 'cli-table3';
import { hex16 } from '../../dissectors/tls.js';
import { tlsTable, type TlsSummary } from '../tls/capture.js';
import { runCaptureTable } from './command-line.js';

const VERSION_NAMES: Record<number, string> = {
  0x0002: 'SSLv2', 0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3',
};

/** tshark's short version name (ssl_version_short_names), else the number. */
export function versionName(v: number | null): string {
  if (v === null) return '-';
  return VERSION_NAMES[v] ?? ((v >> 8) === 0x7f ? 'TLSv1.3 (draft ' + (v & 0xff) + ')' : hex16(v));
}

const HEAD = ['Stream', 'Client', 'Server', 'SNI', 'ALPN offered', 'ALPN selected', 'Version', 'Cipher', 'JA3', 'JA3S', 'JA4'];

/** The connections as a cli-table3 table. */
export function formatTlsTable(rows: readonly TlsSummary[]): string {
  const t = new Table({ head: HEAD, style: { head: [], border: [], compact: true } });
  for (const r of rows) {
    t.push([
      r.stream, r.client, r.server, r.sni ?? '-', r.alpnOffered.length ? r.alpnOffered.join(',') : '-', r.alpnSelected ?? '-',
      versionName(r.version), r.cipher === null ? '-' : hex16(r.cipher), r.ja3 ?? '-', r.ja3s ?? '-', r.ja4 ?? '-',
    ]);
  }
  return t.toString();
}

export function run(argv: string[]): Promise<number> {
  return runCaptureTable(argv, {
    name: 'tls',
    description: 'TLS connections of a capture: client/server, SNI, ALPN offered/selected, version, cipher, JA3, JA3S, JA4',
    jsonHelp: 'one JSON object per connection (with JA3/JA3S strings, JA4_r, certificates, alerts)',
    filterHelp: 'connections with a frame it matches',
    read: (file, filter) => {
      const t = tlsTable(file, filter);
      return { rows: t.rows, evicted: t.result.tracker.evicted, error: t.result.error };
    },
    table: formatTlsTable,
    json: (r) => ({ ...r, versionName: versionName(r.version) }),
  });
}
