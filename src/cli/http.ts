/**
 * `wirescope http -r FILE [FILTER] [--json]`: the HTTP/1.x transactions of a capture, one row per
 * request (with the response paired to it) or per response whose request was not seen: stream,
 * method, host, URI, status, request and response sizes, and the response time (tshark's
 * http.time: from the frame completing the request to the frame completing the response).
 * A filter selects the connections with a frame it matches, as in `wirescope conns`.
 */
import Table from 'cli-table3';
import { httpTransactions, type HttpTransaction } from '../http/transactions.js';
import { runCaptureTable } from './command-line.js';

const HEAD = ['Stream', 'Method', 'Host', 'URI', 'Status', 'Request', 'Response', 'Time'];
/** Longer URIs are cut in the table (--json has them whole). */
const MAX_URI = 64;

function cell(v: string | number | null): string | number {
  return v === null ? '-' : v;
}

/** The final status, after any interim ones ("100/200"); "(incomplete)" when a message was cut short. */
function status(t: HttpTransaction): string {
  const interim = t.interim.length > 0 ? t.interim.join(',') + '/' : '';
  return interim + (t.status === null ? '-' : t.status) + (t.incomplete ? ' (incomplete)' : '');
}

/** The transactions as a cli-table3 table. */
export function formatTable(rows: readonly HttpTransaction[]): string {
  const t = new Table({
    head: HEAD,
    style: { head: [], border: [], compact: true },
    colAligns: ['right', 'left', 'left', 'left', 'left', 'right', 'right', 'right'],
  });
  for (const r of rows) {
    const uri = r.uri === null ? '-' : r.uri.length > MAX_URI ? r.uri.slice(0, MAX_URI - 3) + '...' : r.uri;
    t.push([
      r.stream, cell(r.method), cell(r.host), uri, status(r),
      cell(r.requestBytes), cell(r.responseBytes), r.responseTime === null ? '-' : r.responseTime.toFixed(6),
    ]);
  }
  return t.toString();
}

export function run(argv: string[]): Promise<number> {
  return runCaptureTable(argv, {
    name: 'http',
    description: 'HTTP/1.x transactions of a capture: stream, method, host, URI, status, request/response sizes, response time',
    jsonHelp: 'one JSON object per transaction',
    filterHelp: 'transactions of connections with a frame it matches',
    read: httpTransactions,
    table: formatTable,
  });
}
