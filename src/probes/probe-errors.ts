/**
 * The failures a probe command expects (no permission, no cap, no route, an unsupported link) as
 * one line on stderr and exit status 2; anything else is a bug and is rethrown.
 */
import { errorLine } from '../output/errors.js';
import { LiveCaptureError } from '../capture/live.js';
import { PathError } from './path.js';
import { ProbeError } from './engine.js';

export function probeFailure(command: string, e: unknown): number {
  let message: string;
  if (e instanceof LiveCaptureError && e.kind === 'permission') {
    message = `${command}: sending probes and capturing their answers needs root or the CAP_NET_RAW capability ` +
      `(run it with sudo, or give node the capability: sudo setcap cap_net_raw,cap_net_admin=eip "$(readlink -f "$(command -v node)")")`;
  } else if (e instanceof LiveCaptureError || e instanceof PathError || e instanceof ProbeError) {
    message = `${command}: ${e.message}`;
  } else throw e;
  process.stderr.write(errorLine(message) + '\n');
  return 2;
}
