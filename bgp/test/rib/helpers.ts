/** Shared builders for RIB tests. */
import type { PathAttributes, Prefix, UpdateMessage } from '../../src/codec/types.js';
import { Rib, type PeerSession, type RibConfig, type RibInit, type RibPeerConfig } from '../../src/rib/index.js';

/** "10.0.0.0/24" → Prefix. */
export function pfx(s: string, pathId?: number): Prefix {
  const [addr, len] = s.split('/') as [string, string];
  const p: Prefix = { afi: addr.includes(':') ? 2 : 1, addr, len: Number(len) };
  if (pathId !== undefined) p.pathId = pathId;
  return p;
}

/** An IPv4 UPDATE announcing `prefixes` with `attrs` (defaults: ORIGIN IGP, next hop 192.0.2.1). */
export function announce(prefixes: string[], attrs: PathAttributes = {}): UpdateMessage {
  return { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [], nextHop: '192.0.2.1', ...attrs }, nlri: prefixes.map((p) => pfx(p)) };
}

/** An IPv6 UPDATE (MP_REACH) announcing `prefixes`. */
export function announce6(prefixes: string[], nextHop: string, attrs: PathAttributes = {}): UpdateMessage {
  return {
    type: 'update',
    withdrawn: [],
    attributes: { origin: 0, asPath: [], ...attrs, mpReach: { afi: 2, safi: 1, nextHops: [nextHop], nlri: prefixes.map((p) => pfx(p)) } },
    nlri: [],
  };
}

/** An IPv4 UPDATE withdrawing `prefixes`. */
export function withdraw(prefixes: string[]): UpdateMessage {
  return { type: 'update', withdrawn: prefixes.map((p) => pfx(p)), attributes: {}, nlri: [] };
}

/** IPv4 End-of-RIB. */
export const EOR4: UpdateMessage = { type: 'update', withdrawn: [], attributes: {}, nlri: [] };

/** IPv6 End-of-RIB. */
export const EOR6: UpdateMessage = { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] };

/** A session for peerUp. */
export function session(routerId: string, localAddress = '192.0.2.254', extra: Partial<PeerSession> = {}): PeerSession {
  return { routerId, localAddress, localAddress6: ['2001:db8::fe'], families: ['ipv4-unicast', 'ipv6-unicast'], ...extra };
}

/** A RIB with AS 65000, router id 1.1.1.1. */
export function rib(extra: Partial<RibConfig> = {}, init: RibInit = {}): Rib {
  return new Rib({ asn: 65000, routerId: '1.1.1.1', ...extra }, init);
}

/** Adds a peer and brings it up. */
export function upPeer(r: Rib, cfg: RibPeerConfig, routerId: string, s: Partial<PeerSession> = {}): void {
  r.addPeer(cfg);
  r.peerUp(cfg.id, session(routerId, undefined, s), 0);
}

/** Flattens a flush's updates for one peer into {announced: prefix→attrs, withdrawn, eor}. */
export function updatesFor(f: ReturnType<Rib['flush']>, peer: string) {
  const announced = new Map<string, PathAttributes>();
  const nextHops = new Map<string, readonly string[]>();
  const withdrawn: string[] = [];
  const eor: string[] = [];
  for (const u of f.updates) {
    if (u.peer !== peer) continue;
    for (const g of u.announce)
      for (const p of g.prefixes) {
        announced.set(`${p.addr}/${p.len}`, g.attrs.attrs);
        nextHops.set(`${p.addr}/${p.len}`, g.attrs.nextHops);
      }
    for (const p of u.withdraw) withdrawn.push(`${p.addr}/${p.len}`);
    if (u.endOfRib) eor.push(u.family);
  }
  return { announced, nextHops, withdrawn, eor };
}
