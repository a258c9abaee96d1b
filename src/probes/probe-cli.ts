/**
 * What traceroute and handshake share: host names for addresses, and the failures they expect (no
 * permission, no cap, no route, an unsupported link) as one line on stderr and exit status 2.
 */
import { lookupService } from 'node:dns/promises';
import { errorLine } from '../output/errors.js';
import { LiveCaptureError } from '../capture/live.js';
import { PathError } from './path.js';
import { ProbeError } from './engine.js';
import { hasRawAccess, rawAccessNeeded } from './privileges.js';

/** An expected failure as its one line (status 2); anything else is a bug and is rethrown. */
export function probeFailure(command: string, e: unknown): number {
  let message: string;
  if (e instanceof LiveCaptureError && e.kind === 'permission') message = rawAccessNeeded(command);
  else if (e instanceof LiveCaptureError || e instanceof PathError || e instanceof ProbeError) {
    message = `${command}: ${e.message}`;
  } else throw e;
  process.stderr.write(errorLine(message) + '\n');
  return 2;
}

/**
 * The name of addr through the system resolver (getnameinfo, as traceroute and hping3 print hop and
 * sender names), or null when it has none; one lookup per address (cache).
 */
export function hostName(addr: string, cache: Map<string, Promise<string | null>>): Promise<string | null> {
  let p = cache.get(addr);
  if (p === undefined) {
    p = lookupService(addr, 0).then((r) => (r.hostname === addr ? null : r.hostname), () => null);
    cache.set(addr, p);
  }
  return p;
}

/** Without root or CAP_NET_RAW: the one line saying so (then the command exits 2); null when allowed. */
export function lacksRawAccess(command: string): number | null {
  if (hasRawAccess()) return null;
  process.stderr.write(errorLine(rawAccessNeeded(command)) + '\n');
  return 2;
}
