/**
 * ARP ping over the probe engine, as iputils arping (20221126) does it:
 * - the first request is broadcast; once a host answers, the following ones go to its MAC
 *   (unless -b); the target hardware address of a request is the frame's destination;
 * - one request per interval; with -c N it stops N intervals after the first (the last one
 *   waits for answers), with -w at the deadline, earlier on -f or -D (first answer), or when -w
 *   and -c are both given and N answers came;
 * - -D (duplicate address detection) asks from 0.0.0.0 and counts answers from any other MAC;
 *   -U / -A announce our own address (request / reply) without waiting for answers;
 * - exit: -D 1 when someone answered (address in use); -U/-A 0; with -w and -c, 0 only when
 *   N answers came; else 0 when any did. 2 for errors before sending.
 */
import { makeLayer } from '../core/dissector.js';
import { arp, ARPOP } from '../../dissectors/arp.js';
import type { ArpLayer } from '../../dissectors/arp.js';
import { formatText, ProbeEngine, type ProbeFrame } from './engine.js';
import { interfaceAddress, interfaceInfo, resolveHost, routeTo, PathError, type Route } from './path.js';

export interface ArpingOptions {
  target: string;
  /** -c: requests to send (0: no limit). */
  count: number;
  /** -w: seconds before exiting (0: none). */
  deadline: number;
  /** -i: seconds between requests. */
  interval: number;
  /** -I: interface (default: the one the route to the target leaves by). */
  iface?: string;
  /** -s: source IP address. */
  source?: string;
  /** -D: duplicate address detection. */
  dad: boolean;
  /** -U: unsolicited (gratuitous) ARP requests; -A: the same as replies. */
  unsolicited: boolean;
  advert: boolean;
  /** -f: stop at the first answer; -b: broadcast only; -q: no output. */
  quitOnReply: boolean;
  broadcastOnly: boolean;
  quiet: boolean;
  json: boolean;
  verbose: boolean;
}

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** "AA:BB:..." as iputils' print_hex. */
function upperMac(mac: string): string {
  return mac.toUpperCase();
}

/** Runs arping to completion; returns the exit status. */
export async function arping(o: ArpingOptions, write: (s: string) => void, fail: (line: string) => void): Promise<number> {
  let target: string;
  let route: Route;
  try {
    target = (await resolveHost(o.target, 4)).address;
    route = arpRoute(target, o.iface, o.source);
  } catch (e) {
    fail(`arping: ${(e as Error).message}`);
    return 2;
  }
  const dev = route.iface;
  const me = dev.mac;
  if (!dev.flags.includes('UP')) {
    if (!o.quiet) write(`Interface "${dev.name}" is down\n`);
    return 2;
  }
  if (me === null || dev.flags.includes('NOARP') || dev.flags.includes('LOOPBACK')) {
    if (!o.quiet) write(`Interface "${dev.name}" is not ARPable\n`);
    return o.dad ? 0 : 2;
  }
  const engine = new ProbeEngine(route, 'arp');
  if (!engine.ethernet) {
    engine.close();
    if (!o.quiet) write(`Interface "${dev.name}" is not ARPable (no ll address)\n`);
    return o.dad ? 0 : 2;
  }
  // The sender address: ours, none for DAD, the target's own for an unsolicited announcement.
  const src = o.source ?? (o.dad ? '0.0.0.0' : o.unsolicited || o.advert ? target : route.src);
  const emit = (obj: Record<string, unknown>): void => write(JSON.stringify(obj) + '\n');
  if (o.json) emit({ type: 'start', target, source: src, interface: dev.name, mac: me });
  else if (!o.quiet) write(`ARPING ${target} from ${src} ${dev.name}\n`);

  let sent = 0, broadcasts = 0, received = 0, broadcastReplies = 0, requestsReceived = 0;
  let peer: string | null = null;
  let lastSend = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => { done = resolve; });

  const send = (): void => {
    const linkDst = peer ?? BROADCAST;
    const l = makeLayer(arp, {
      op: o.advert ? ARPOP.REPLY : ARPOP.REQUEST, senderMac: me, senderIp: src,
      targetMac: o.advert ? me : linkDst, targetIp: target,
    });
    const f = engine.send([l], undefined, linkDst);
    lastSend = f.at;
    sent++;
    if (peer === null) broadcasts++;
    if (o.json) emit({ type: 'probe', seq: sent, op: o.advert ? 'reply' : 'request', to: linkDst, target, sender: src });
    else if (o.verbose) write(formatText(f.packet) + '\n');
    if ((o.unsolicited || o.advert) && sent === o.count) done();
  };

  const onFrame = (f: ProbeFrame): void => {
    const a = f.view.arp;
    const eth = f.view.eth;
    if (a === undefined || eth === undefined || !accepted(a, target, src, me, o.dad)) return;
    const unicast = eth.dst === me;
    const us = Math.max(0, Math.round((f.at - lastSend) * 1000));
    if (o.json) {
      emit({
        type: 'reply', op: a.op === ARPOP.REPLY ? 'reply' : 'request', unicast, from: a.senderIp, mac: a.senderMac,
        for: a.targetIp, forMac: a.targetMac, rtt_ms: us / 1000,
      });
    } else if (!o.quiet) {
      if (o.verbose) write(formatText(f.packet) + '\n');
      let s = `${unicast ? 'Unicast' : 'Broadcast'} ${a.op === ARPOP.REPLY ? 'reply' : 'request'} from ${a.senderIp} [${upperMac(a.senderMac)}] `;
      const forIp = a.targetIp !== src;
      if (forIp) s += `for ${a.targetIp} `;
      if (a.targetMac !== me) s += `${forIp ? '' : 'for '}[${upperMac(a.targetMac)}]`;
      write(s + ` ${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, '0')}ms\n`);
    }
    received++;
    if (o.deadline && received === o.count) { done(); return; }
    if (!unicast) broadcastReplies++;
    if (a.op === ARPOP.REQUEST) requestsReceived++;
    if (o.quitOnReply || o.dad) { done(); return; }
    if (!o.broadcastOnly) peer = a.senderMac;
  };
  engine.listen(onFrame);

  let expiries = 1;
  const tick = setInterval(() => {
    expiries++;
    if (o.count > 0 && o.count < expiries) done();
    else send();
  }, Math.max(1, o.interval * 1000));
  const deadline = o.deadline > 0 ? setTimeout(() => done(), o.deadline * 1000) : null;
  const stop = (): void => done();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    send();
    await finished;
  } finally {
    clearInterval(tick);
    if (deadline !== null) clearTimeout(deadline);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    engine.close();
  }
  if (o.json) {
    emit({ type: 'summary', sent, broadcasts, received, requests: requestsReceived, broadcastReplies });
  } else if (!o.quiet) {
    let s = `Sent ${sent} probes (${broadcasts} broadcast(s))\nReceived ${received} response(s)`;
    if (broadcastReplies || requestsReceived) {
      s += ' (';
      if (requestsReceived) s += `${requestsReceived} request(s)`;
      if (broadcastReplies) s += `${requestsReceived ? ', ' : ''}${broadcastReplies} broadcast(s)`;
      s += ')';
    }
    write(s + '\n');
  }
  if (o.dad) return received ? 1 : 0;
  if (o.unsolicited || o.advert) return 0;
  if (o.deadline && o.count > 0 && !o.quitOnReply) return o.count <= received ? 0 : 1;
  return received ? 0 : 1;
}

/**
 * iputils' recv_pack filter: an answer from the target to us (our address and MAC as its target),
 * or in DAD mode anything claiming the target address from a MAC that is not ours.
 */
function accepted(a: ArpLayer, target: string, src: string, me: string, dad: boolean): boolean {
  if (a.op !== ARPOP.REQUEST && a.op !== ARPOP.REPLY) return false;
  if (a.hln !== 6 || a.pln !== 4 || a.atm) return false;
  if (a.senderIp !== target) return false;
  if (!dad) return a.targetIp === src && a.targetMac === me;
  return a.senderMac !== me && (src === '0.0.0.0' || a.targetIp === src);
}

/** The interface and source for ARP to target: -I and -s when given, else the kernel's route. */
function arpRoute(target: string, iface: string | undefined, source: string | undefined): Route {
  if (iface === undefined) return routeTo(target, 4, undefined, source);
  let dev;
  try {
    dev = interfaceInfo(iface);
  } catch {
    throw new PathError(`Device ${iface} not available.`);
  }
  const src = source ?? interfaceAddress(iface, 4);
  if (src === null) throw new PathError(`no IPv4 address on ${iface}`);
  return { family: 4, dst: target, src, gateway: null, iface: dev, local: false };
}
