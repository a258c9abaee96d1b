/**
 * `wirescope conns -r FILE [FILTER] [--json]`: a table of the capture's TCP connections (what
 * `tshark -q -z conv,tcp` counts, with states, handshake RTT, retransmissions, gaps and who closed).
 * A filter selects the connections with a frame it matches; stream numbers and counts cover
 * every frame, as in tshark.
 */
import Table from 'cli-table3';
import { runCaptureTable } from './command-line.js';
import { connectionTable, type ConnSummary } from '../tcp/conns.js';

const STATE_HEAD = ['Stream', 'Node 0', 'Node 1', 'State 0', 'State 1', 'Frames ->', 'Bytes ->', 'Frames <-', 'Bytes <-',
  'Duration', 'Handshake RTT', 'Retrans', 'Gaps', 'Closed by'];

function seconds(s: number | null): string {
  return s === null ? '-' : s.toFixed(6);
}

function closedBy(c: ConnSummary): string {
  return c.closedBy === null ? '-' : `node ${c.closedBy} (${c.closeHow === 'rst' ? 'RST' : 'FIN'})`;
}

/** The connections as a cli-table3 table, one row per stream. */
export function formatTable(rows: readonly ConnSummary[]): string {
  const t = new Table({
    head: STATE_HEAD,
    style: { head: [], border: [], compact: true },
    colAligns: ['right', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  });
  for (const c of rows) {
    t.push([
      c.stream, c.nodes[0], c.nodes[1],
      c.states[0] + (c.midstream ? ' (mid)' : ''), c.states[1],
      c.packets[0], c.bytes[0], c.packets[1], c.bytes[1],
      c.duration.toFixed(6), seconds(c.handshakeRtt),
      `${c.retransmissions[0]}/${c.retransmissions[1]}`,
      `${c.gaps[0]}/${c.gaps[1]}`,
      closedBy(c),
    ]);
  }
  return t.toString();
}

export function run(argv: string[]): Promise<number> {
  return runCaptureTable(argv, {
    name: 'conns',
    description: 'TCP connections of a capture: endpoints, states, frames/bytes each way, duration, handshake RTT, retransmissions, gaps, who closed',
    jsonHelp: 'one JSON object per connection',
    filterHelp: 'connections with a frame it matches',
    read: connectionTable,
    table: formatTable,
  });
}
