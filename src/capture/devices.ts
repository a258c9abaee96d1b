/**
 * Interfaces as tcpdump sees them: `-D`'s numbered list, `-i NAME|NUMBER`, and the default
 * interface. The list and its order are libpcap's (pcap_findalldevs through cap); cap passes only
 * the loopback flag, so the other flags tcpdump prints are rebuilt the way libpcap's Linux code
 * derives them (pcap-linux.c get_if_flags): IFF_UP/IFF_RUNNING, wireless, and the ETHTOOL_GLINK
 * link state, which only some drivers report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { capDeviceList, LiveCaptureError, type CapDevice } from './live.js';

export interface Interface {
  name: string;
  description?: string;
  up: boolean;
  running: boolean;
  loopback: boolean;
  wireless: boolean;
  /** Link state as ETHTOOL_GLINK reports it; null where it does not apply (tcpdump prints nothing). */
  connected: boolean | null;
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
/** ARPHRD_* types libpcap counts as wireless. */
const WIRELESS_ARPHRD = new Set([783, 801, 802, 803, 804, 805, 825]);
/**
 * rtnetlink link kinds whose drivers implement ethtool's get_link (tcpdump shows Connected or
 * Disconnected); other virtual kinds (ifb, dummy, wireguard, vrf, ...) answer EOPNOTSUPP.
 */
const KINDS_WITH_LINK_STATE = new Set([
  'veth', 'bridge', 'bond', 'team', 'tun', 'vlan', 'macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'vxlan', 'geneve', 'virt_wifi',
]);

function sysfs(name: string, attr: string): string | null {
  try {
    return readFileSync(`/sys/class/net/${name}/${attr}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** rtnetlink kind of each virtual interface (from `ip -d -j link`); physical ones have none. */
function linkKinds(): Map<string, string> | null {
  const r = spawnSync('ip', ['-d', '-j', 'link', 'show'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return null;
  try {
    const links = JSON.parse(r.stdout) as Array<{ ifname: string; linkinfo?: { info_kind?: string } }>;
    return new Map(links.filter((l) => l.linkinfo?.info_kind).map((l) => [l.ifname, l.linkinfo!.info_kind!]));
  } catch {
    return null;
  }
}

function describe(d: CapDevice, kinds: Map<string, string> | null | undefined): Interface {
  const loopbackFlag = d.flags === 'PCAP_IF_LOOPBACK';
  const flagsText = sysfs(d.name, 'flags');
  if (flagsText === null) {
    // Not a network device: libpcap's pseudo-devices set their flags themselves.
    const any = d.name === 'any';
    return { name: d.name, description: d.description, up: any, running: any, loopback: loopbackFlag,
      wireless: d.name.startsWith('bluetooth'), connected: null };
  }
  const flags = parseInt(flagsText, 16);
  const up = (flags & IFF_UP) !== 0;
  const operstate = sysfs(d.name, 'operstate');
  // dev_get_flags(): IFF_RUNNING when up and operationally up (or "unknown", as loopback is).
  const running = up && (operstate === 'up' || operstate === 'unknown');
  const loopback = loopbackFlag || (flags & IFF_LOOPBACK) !== 0;
  const type = Number(sysfs(d.name, 'type'));
  const wireless = existsSync(`/sys/class/net/${d.name}/wireless`) || existsSync(`/sys/class/net/${d.name}/phy80211`) ||
    WIRELESS_ARPHRD.has(type);
  let connected: boolean | null = null;
  if (!loopback) {
    const kind = kinds?.get(d.name);
    const physical = existsSync(`/sys/class/net/${d.name}/device`);
    const reportsLink = kind !== undefined ? KINDS_WITH_LINK_STATE.has(kind) : physical || kinds === null;
    // __ethtool_get_link(): netif_running() && carrier; the carrier file refuses reads while down.
    if (reportsLink) connected = up && sysfs(d.name, 'carrier') === '1';
  }
  return { name: d.name, description: d.description, up, running, loopback, wireless, connected };
}

/** Every capture device, in libpcap's order. */
export function listInterfaces(): Interface[] {
  const devs = capDeviceList();
  const kinds = devs.some((d) => sysfs(d.name, 'flags') !== null) ? linkKinds() : undefined;
  return devs.map((d) => describe(d, kinds));
}

/** One line of `tcpdump -D`: "1.eth0 [Up, Running, Connected]". */
export function formatInterface(i: Interface, index: number): string {
  let line = `${index + 1}.${i.name}`;
  if (i.description !== undefined) line += ` (${i.description})`;
  const names: string[] = [];
  if (i.up) names.push('Up');
  if (i.running) names.push('Running');
  if (i.loopback) names.push('Loopback');
  if (i.wireless) names.push('Wireless');
  let status = '';
  if (i.connected !== null) {
    status = i.wireless ? (i.connected ? ', Associated' : ', Not associated') : (i.connected ? ', Connected' : ', Disconnected');
  }
  // On Linux every device has a connection status (possibly "not applicable"), so libpcap's flags
  // word is never 0 and tcpdump always prints the bracket, "none" standing for no named flag.
  line += ` [${names.length > 0 ? names.join(', ') : 'none'}${status}]`;
  return line;
}

/**
 * The interface tcpdump would open for `-i arg`: a name it knows, else a 1-based number from the
 * -D list; without -i, the first of the list (libpcap sorts up, running, non-loopback ones first).
 */
export function resolveInterface(arg: string | undefined, names: () => string[]): string {
  const all = names();
  if (arg === undefined) {
    if (all.length === 0) throw new LiveCaptureError('no-such-device', 'no interfaces available for capture');
    return all[0];
  }
  if (all.includes(arg)) return arg;
  if (/^\d+$/.test(arg)) {
    const n = Number(arg);
    if (n < 1 || n > all.length) {
      throw new LiveCaptureError('no-such-device', `Invalid adapter index ${arg}: only ${all.length} interfaces found (wirescope -D lists them)`);
    }
    return all[n - 1];
  }
  throw new LiveCaptureError('no-such-device', `${arg}: No such device exists (wirescope -D lists the interfaces)`);
}
