/**
 * TLS over a capture file: every TCP connection TLS takes (by port or by its first bytes) is
 * reassembled and read, and the hellos of each connection are summarised for `wirescope tls`.
 */
import { AppDispatcher } from '../stream/registry.js';
import type { AppMessage } from '../stream/app.js';
import { trackFile, type TrackFileResult } from '../tcp/conns.js';
import { endpointText } from '../tcp/flow-key.js';
import type { Connection, ConnTracker } from '../tcp/conntrack.js';
import { TlsLayer, type CertificateNames, type Hello } from '../../dissectors/tls.js';
import { TLS_PORTS, tlsProtocol } from './stream.js';

export interface ScanOptions {
  /** pcap-filter expression ('' or absent: every frame is selected). */
  filter?: string;
  /** Every TLS layer decoded, in the order decoded. */
  onMessage: (m: AppMessage) => void;
  /** Each new TCP connection, when the tracker opens it. */
  onConnection?: (c: Connection) => void;
  /** After each frame: whether the filter selected it, and the tracker (its `segments`). */
  onFrame?: (selected: boolean, tracker: ConnTracker) => void;
}

/**
 * Reads a capture and decodes the TLS of every connection TLS takes. A message's time.frame is the
 * frame whose segment brought its last bytes: bytes held behind a hole in the stream are decoded
 * only when the reassembler gives up on the hole (at the end of the file or a memory limit), after
 * later frames were read, so callers place messages by time.frame, not by when they come.
 */
export function scanTls(file: string, opts: ScanOptions): TrackFileResult {
  const dispatcher = new AppDispatcher([tlsProtocol]);
  const { onMessage, onConnection, onFrame } = opts;
  const result = trackFile(file, {
    filter: opts.filter,
    sink: onConnection === undefined ? dispatcher.sink : (c) => {
      onConnection(c);
      return dispatcher.sink(c);
    },
    onFrame: (selected, tracker) => {
      for (const m of dispatcher.take()) onMessage(m);
      onFrame?.(selected, tracker);
      return true;
    },
  });
  for (const m of dispatcher.take()) onMessage(m);
  return result;
}

/** One TLS connection as `wirescope tls` shows it. */
export interface TlsSummary {
  stream: number;
  client: string;
  server: string;
  /** From the first ClientHello. */
  sni: string | null;
  alpnOffered: string[];
  ja3: string | null;
  ja3Full: string | null;
  ja4: string | null;
  ja4_r: string | null;
  /** From the first ServerHello: the selected version (supported_versions, else the hello's). */
  version: number | null;
  cipher: number | null;
  alpnSelected: string | null;
  ja3s: string | null;
  ja3sFull: string | null;
  /** Certificates of the server (TLS 1.2 and older: sent in clear), leaf first. */
  certificates: CertificateNames[];
  /** Alerts seen in clear: [level, description]. */
  alerts: Array<[number, number]>;
  /** The client's hello was SSL 2.0's. */
  ssl2: boolean;
}

/** The TLS connections of a capture, in stream order; with a filter, those with a frame it selects. */
export function tlsTable(file: string, filter = ''): { rows: TlsSummary[]; result: TrackFileResult } {
  const conns = new Map<number, Connection>();
  const byStream = new Map<number, TlsSummary>();
  const selectedStreams = new Set<number>();
  const result = scanTls(file, {
    filter,
    onConnection: (c) => conns.set(c.stream, c),
    onMessage: (m) => add(byStream, m, conns.get(m.stream)),
    onFrame: (selected, tracker) => {
      if (selected) for (const s of tracker.segments) selectedStreams.add(s.conn.stream);
    },
  });
  const all = filter.trim() === '';
  const rows = [...byStream.values()].filter((s) => all || selectedStreams.has(s.stream));
  rows.sort((a, b) => a.stream - b.stream);
  return { rows, result };
}

function add(byStream: Map<number, TlsSummary>, m: AppMessage, conn: Connection | undefined): void {
  // Bytes TLS refused (shown as data) hold nothing to summarise.
  if (conn === undefined || !(m.layer instanceof TlsLayer)) return;
  const l = m.layer;
  let s = byStream.get(m.stream);
  if (s === undefined) {
    s = emptySummary(conn);
    byStream.set(m.stream, s);
  }
  for (const r of l.records) {
    if (r.alertLevel >= 0) s.alerts.push([r.alertLevel, r.alertDescription]);
    for (const h of r.handshakes) {
      if (h.hello !== null) {
        if (h.hello.client) clientHello(s, conn, m.dir, h.hello);
        else serverHello(s, h.hello);
      }
      if (h.certificates !== null && s.certificates.length === 0) s.certificates = h.certificates;
    }
  }
}

function emptySummary(c: Connection): TlsSummary {
  // Until a ClientHello says who the client is: the side on a TLS port is the server, else the first sender is the client.
  const [a, b] = TLS_PORTS.includes(c.ends[0].port) && !TLS_PORTS.includes(c.ends[1].port) ? [c.ends[1], c.ends[0]] : c.ends;
  return {
    stream: c.stream, client: endpointText(a.addr, a.port), server: endpointText(b.addr, b.port),
    sni: null, alpnOffered: [], ja3: null, ja3Full: null, ja4: null, ja4_r: null, version: null, cipher: null, alpnSelected: null,
    ja3s: null, ja3sFull: null, certificates: [], alerts: [], ssl2: false,
  };
}

function clientHello(s: TlsSummary, c: Connection, dir: 0 | 1, h: Hello): void {
  if (s.ja3 !== null || s.ssl2) return;
  // The client is whoever sent the ClientHello (the capture may have begun mid-connection).
  const from = c.ends[dir];
  const to = c.ends[1 - dir];
  s.client = endpointText(from.addr, from.port);
  s.server = endpointText(to.addr, to.port);
  s.sni = h.serverNames.length ? h.serverNames[0] : null;
  s.alpnOffered = h.alpnStr;
  s.ssl2 = h.ssl2;
  if (h.ssl2) return;
  s.ja3 = h.ja3;
  s.ja3Full = h.ja3Full;
  s.ja4 = h.ja4?.ja4 ?? null;
  s.ja4_r = h.ja4?.ja4_r ?? null;
}

function serverHello(s: TlsSummary, h: Hello): void {
  if (s.version !== null) return;
  s.version = h.supportedVersions.length ? h.supportedVersions[0] : h.version;
  if (h.ssl2) return;
  s.cipher = h.ciphers.length ? h.ciphers[0] : null;
  s.alpnSelected = h.alpnStr.length ? h.alpnStr[0] : null;
  s.ja3s = h.ja3;
  s.ja3sFull = h.ja3Full;
}
