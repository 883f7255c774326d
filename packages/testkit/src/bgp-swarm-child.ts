/**
 * The BGP client swarm process (see bgp-swarm.ts): one Node process that opens many iBGP
 * sessions to one route reflector, each from its own local address, announces `routesPer` IPv4
 * /32s per client once Established, and tracks which routes every client holds.
 *
 * Run inside the clients' network namespace as `node bgp-swarm-child.js <config.json>`.
 * Prints one JSON status line (`SwarmStatus`) on stdout every 100 ms; SIGUSR2 withdraws every
 * route of client 0. Received UPDATEs are not decoded into objects: the NLRI and withdrawn
 * fields are walked as numbers (one bit per route per client), so the swarm stays cheap next
 * to the reflector it loads.
 *
 * Invariants: a client's `held` counts distinct routes of other clients it was sent and not
 * withdrawn (its own routes coming back are counted in `reflectedOwn`, anything outside the
 * swarm's range in `foreign`); `lastChangeAt` is the time of the last UPDATE that changed any
 * client's set, so "all complete" plus `lastChangeAt` dates the moment the RR finished.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { MessageReader, encodeKeepalive, encodeOpen, encodeUpdates, forEachIpv4Nlri, locateUpdateFields, formatIpv4Number, type CodecContext, type Prefix } from '@tabby/bgp';
import type { SwarmConfig, SwarmStatus } from './bgp-swarm.js';

interface Client {
  index: number;
  addr: string;
  sock: Socket | undefined;
  reader: MessageReader;
  state: 'idle' | 'connecting' | 'open-sent' | 'open-confirm' | 'established';
  announced: boolean;
  held: number;
  bits: Uint32Array;
  establishedAt: number;
  notifications: number;
}

const cfg = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as SwarmConfig;
const total = cfg.clients.length * cfg.routesPer;
const words = (total + 31) >>> 5;
const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
const stats = { startedAt: Date.now(), announcedTotal: 0, reflectedOwn: 0, foreign: 0, lastChangeAt: 0, lastEstablishedAt: 0, withdrawSentAt: 0, errors: [] as string[] };

const clients: Client[] = cfg.clients.map((addr, index) => ({
  index,
  addr,
  sock: undefined,
  reader: new MessageReader(),
  state: 'idle',
  announced: false,
  held: 0,
  bits: new Uint32Array(words),
  establishedAt: 0,
  notifications: 0,
}));

/** The prefixes client `c` announces: routes c*routesPer .. (c+1)*routesPer - 1 from `routeBase`. */
function ownPrefixes(c: Client): Prefix[] {
  const out: Prefix[] = [];
  for (let j = 0; j < cfg.routesPer; j++) out.push({ afi: 1, addr: formatIpv4Number(cfg.routeBase + c.index * cfg.routesPer + j), len: 32 });
  return out;
}

function note(err: string): void {
  if (stats.errors.length < 20) stats.errors.push(err);
}

function open(c: Client): void {
  c.state = 'connecting';
  c.reader = new MessageReader();
  const s = connect({ host: cfg.rr, port: cfg.port, localAddress: c.addr, noDelay: true });
  c.sock = s;
  s.on('connect', () => {
    c.state = 'open-sent';
    const caps = [{ type: 'multiprotocol' as const, afi: 1, safi: 1 }, { type: 'four-octet-as' as const, asn: cfg.asn }, { type: 'route-refresh' as const }];
    s.write(encodeOpen({ type: 'open', version: 4, myAs: cfg.asn > 0xffff ? 23456 : cfg.asn, holdTime: cfg.holdTime, bgpId: c.addr, capabilities: caps }));
  });
  s.on('data', (chunk: Buffer) => onData(c, chunk));
  s.on('error', (e) => note(`${c.addr}: ${e.message}`));
  s.on('close', () => {
    if (c.sock !== s) return;
    c.sock = undefined;
    c.state = 'idle';
    if (!stopping) setTimeout(() => open(c), 1000); // reconnect, like a real client would
  });
}

function onData(c: Client, chunk: Buffer): void {
  let msgs: Uint8Array[];
  try {
    msgs = c.reader.push(chunk);
  } catch (e: unknown) {
    note(`${c.addr}: framing: ${e instanceof Error ? e.message : String(e)}`);
    c.sock?.destroy();
    return;
  }
  for (const m of msgs) {
    switch (m[18]) {
      case 1: // OPEN (RFC 4271 §4.2): answer with KEEPALIVE
        c.state = 'open-confirm';
        c.sock?.write(encodeKeepalive());
        break;
      case 2:
        onUpdate(c, m);
        break;
      case 3: // NOTIFICATION
        c.notifications++;
        note(`${c.addr}: NOTIFICATION ${m[19]}/${m[20]}`);
        break;
      case 4:
        if (c.state === 'open-confirm') established(c);
        break;
    }
  }
}

function established(c: Client): void {
  c.state = 'established';
  c.establishedAt = Date.now();
  stats.lastEstablishedAt = Math.max(stats.lastEstablishedAt, c.establishedAt);
  if (!c.announced && !(c.index === 0 && stats.withdrawSentAt > 0)) {
    c.announced = true;
    stats.announcedTotal += cfg.routesPer;
  }
  if (c.announced) for (const m of encodeUpdates({ origin: 0, asPath: [], nextHop: c.addr, localPref: 100 }, ownPrefixes(c), [], 'ipv4-unicast', ctx)) c.sock?.write(m);
}

function onUpdate(c: Client, m: Uint8Array): void {
  const f = locateUpdateFields(m);
  const own0 = c.index * cfg.routesPer;
  let changed = false;
  const visit = (add: boolean) => (addr: number, len: number): void => {
    const i = addr - cfg.routeBase;
    if (len !== 32 || i < 0 || i >= total) return void (add && stats.foreign++);
    if (i >= own0 && i < own0 + cfg.routesPer) return void (add && stats.reflectedOwn++);
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    const had = (c.bits[w]! & bit) !== 0;
    if (add === had) return;
    c.bits[w] = add ? c.bits[w]! | bit : c.bits[w]! & ~bit;
    c.held += add ? 1 : -1;
    changed = true;
  };
  forEachIpv4Nlri(m, f.withdrawn[0], f.withdrawn[1], false, visit(false));
  forEachIpv4Nlri(m, f.nlri[0], f.nlri[1], false, visit(true));
  if (changed) stats.lastChangeAt = Date.now();
}

/** SIGUSR2: client 0 withdraws everything it announced. */
function withdrawFirst(): void {
  const c = clients[0];
  if (!c?.announced) return;
  c.announced = false;
  stats.announcedTotal -= cfg.routesPer;
  stats.withdrawSentAt = Date.now();
  for (const m of encodeUpdates({}, [], ownPrefixes(c), 'ipv4-unicast', ctx)) c.sock?.write(m);
}

function status(): SwarmStatus {
  let established = 0;
  let complete = 0;
  let minHeld = Infinity;
  for (const c of clients) {
    if (c.state === 'established') established++;
    // a client holds every route the others announced, plus its own
    const expect = stats.announcedTotal - (c.announced ? cfg.routesPer : 0);
    if (c.held === expect) complete++;
    minHeld = Math.min(minHeld, c.held);
  }
  return { clients: clients.length, established, complete, minHeld: clients.length ? minHeld : 0, ...stats, errors: [...stats.errors] };
}

let stopping = false;
process.on('SIGUSR2', withdrawFirst);
process.on('SIGTERM', () => {
  stopping = true;
  for (const c of clients) c.sock?.destroy();
  process.exit(0);
});
// RFC 4271 §4.4: KEEPALIVE at a third of the hold time (the reflector's may be shorter: use ours).
if (cfg.holdTime > 0) setInterval(() => clients.forEach((c) => c.state === 'established' && c.sock?.write(encodeKeepalive())), (cfg.holdTime * 1000) / 3);
setInterval(() => process.stdout.write(JSON.stringify(status()) + '\n'), 100);
for (const c of clients) open(c);
