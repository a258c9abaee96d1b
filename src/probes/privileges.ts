/**
 * Sending crafted frames needs a packet socket: root, or CAP_NET_RAW in the effective set (as
 * iputils ping and arping need it when not setuid). Checked before anything is sent, so the
 * command can say so in one line instead of failing inside libpcap.
 */
import { readFileSync } from 'node:fs';

const CAP_NET_RAW = 13;

/** True when this process may open packet sockets. */
export function hasRawAccess(): boolean {
  if (process.geteuid?.() === 0) return true;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt('0x' + m[1]) >> BigInt(CAP_NET_RAW)) % 2n === 1n;
  } catch {
    return false;
  }
}

/** The one line a probe command prints without that access (then exits 2). */
export function rawAccessNeeded(command: string): string {
  return `${command}: sending probes needs root or CAP_NET_RAW (raw packet sockets through libpcap): ` +
    `run it with sudo, or grant node the capability (sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")")`;
}
