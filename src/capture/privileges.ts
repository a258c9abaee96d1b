/**
 * Giving up root once the interface is open (tcpdump -Z): initgroups, setgid, setuid, before any
 * output file is opened, so files belong to that user. Under sudo without -Z, the invoking user
 * (SUDO_USER/SUDO_UID/SUDO_GID) is the default, so `sudo wirescope -w x.pcap` leaves a file the
 * user owns.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export class PrivilegeError extends Error {}

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** getpwnam(name) through getent (NSS-aware), falling back to /etc/passwd. */
export function lookupUser(name: string): Account | null {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  let line: string | undefined;
  if (r.status === 0) line = r.stdout.split('\n')[0];
  else if (r.error !== undefined) {
    try {
      line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === name);
    } catch {
      line = undefined;
    }
  }
  if (line === undefined || line === '') return null;
  const f = line.split(':');
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]) };
}

function isRoot(): boolean {
  return process.getuid?.() === 0 || process.geteuid?.() === 0;
}

/**
 * Whom to become: -Z USER, else the sudo caller; null when not root, or when that is root itself.
 * Throws PrivilegeError for an unknown user.
 */
export function dropTarget(user: string | undefined, env: NodeJS.ProcessEnv): Account | null {
  if (!isRoot()) return null;
  if (user !== undefined) {
    const a = lookupUser(user);
    if (a === null) throw new PrivilegeError(`Couldn't find user '${user}'`);
    return a.uid === 0 ? null : a;
  }
  const uid = Number(env.SUDO_UID), gid = Number(env.SUDO_GID);
  if (!env.SUDO_UID || !Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) return null;
  return { name: env.SUDO_USER ?? String(uid), uid, gid };
}

/** process.initgroups exists in Node 20 but is missing from its type definitions. */
const withInitgroups = process as NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };

/** Becomes `a` for good (supplementary groups, then gid, then uid). Throws PrivilegeError. */
export function dropPrivileges(a: Account): void {
  try {
    try {
      withInitgroups.initgroups!(a.name, a.gid);
    } catch {
      // A sudo caller unknown to NSS (SUDO_USER without a passwd entry): the primary group only.
      process.setgroups!([a.gid]);
    }
    process.setgid!(a.gid);
    process.setuid!(a.uid);
  } catch (e) {
    throw new PrivilegeError(`Couldn't change to '${a.name}' uid=${a.uid} gid=${a.gid}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
