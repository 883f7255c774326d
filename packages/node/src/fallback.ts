/**
 * The automatic BGP fallback's detector (pure, time passed in): turns BGP session states into
 * felix's per-node, per-family `bgp-node-state` events. IPv4 blocks follow the IPv4 sessions and
 * IPv6 blocks the IPv6 ones (the mesh runs one session per family), so a node whose IPv6 session
 * is down while its IPv4 one is up has only its IPv6 blocks moved to the tunnel.
 *
 * For each remote node and each family it has an address of:
 * - BGP disabled: unavailable at once.
 * - A node we peer with directly in that family (mesh, or a BGPPeer that is a Tabby node):
 *   available while one such session is Established; unavailable once none has been for
 *   `bgpFallbackTimeout` (default 10 s) since it was configured or last up.
 * - A node we do not peer with (route reflectors carry its routes): available while a session of
 *   that family to a route reflector is Established, by the same timeout otherwise.
 * - No session of that family at all: IPv4 counts as unavailable (nothing can carry its routes);
 *   a family this node has no session of is not tracked (an IPv4-only node has no IPv6 routes).
 * Events are emitted only on a change. Switching back is damped by felix (`bgpRestoreHoldMs`).
 */
import { peerId } from '@tabby/bgp';
import type { FelixEvent } from '@tabby/felix';

export type Family = 4 | 6;

/** One configured peer and whether its session is up. */
export interface PeerState {
  /** The Tabby node behind the peer, if it is one. */
  node?: string;
  /** The session's address family [4]. */
  family?: Family;
  /** A route reflector (or our RR when we are its client). */
  reflector: boolean;
  established: boolean;
}

/** A remote node and the families it has addresses of (none known: IPv4). */
export interface RemoteNode {
  name: string;
  families: readonly Family[];
}

const key = (node: string, f: Family): string => `${node}/${f}`;

/**
 * The detector's view of the rendered peers, from the speaker's status (whose peers are keyed by
 * address, plus `:port` when the port is not 179).
 */
export function peerStates(
  rendered: ReadonlyArray<{ address: string; port?: number; node?: string; type: string }>,
  status: ReadonlyArray<{ address: string; state: string }>,
): PeerState[] {
  const up = new Map(status.map((p) => [p.address, p.state === 'Established']));
  return rendered.map((p) => ({ node: p.node, family: p.address.includes(':') ? 6 : 4, reflector: p.type === 'route reflector', established: up.get(peerId(p)) ?? false }));
}

/** Tracks availability per remote node and family. */
export class FallbackDetector {
  private readonly downSince = new Map<string, number>();
  /** The last verdict per node and family (keyed by `key`). */
  private readonly reported = new Map<string, { node: string; family: Family; available: boolean }>();

  constructor(private readonly timeoutMs = 10_000) {}

  /**
   * The events for the current session states. `nodes`: every other Tabby node (names, or with
   * their families); `bgpEnabled`: false when BGP is off on this node (no speaker).
   */
  update(now: number, nodes: ReadonlyArray<string | RemoteNode>, peers: readonly PeerState[], bgpEnabled: boolean): FelixEvent[] {
    const direct = new Map<string, boolean>();
    const reflectors: Record<Family, boolean | undefined> = { 4: undefined, 6: undefined };
    const inUse = new Set<Family>([4]);
    for (const p of peers) {
      const f = p.family ?? 4;
      inUse.add(f);
      if (p.node) direct.set(key(p.node, f), (direct.get(key(p.node, f)) ?? false) || p.established);
      if (p.reflector) reflectors[f] = (reflectors[f] ?? false) || p.established;
    }
    const out: FelixEvent[] = [];
    const tracked = new Set<string>();
    for (const n of nodes) {
      const { name, families } = typeof n === 'string' ? { name: n, families: [4] as Family[] } : n;
      for (const f of families.length ? families : ([4] as Family[])) {
        const k = key(name, f);
        let up: boolean;
        if (!bgpEnabled) up = false;
        else if (direct.has(k)) up = direct.get(k)!;
        else if (reflectors[f] !== undefined) up = reflectors[f];
        else if (inUse.has(f)) up = false; // no session could carry its routes
        else continue; // no session of this family at all: nothing to fall back from
        tracked.add(k);
        let available = up;
        if (bgpEnabled && !up) {
          const since = this.downSince.get(k) ?? now;
          this.downSince.set(k, since);
          available = now - since < this.timeoutMs && this.reported.get(k)?.available !== false;
        } else this.downSince.delete(k);
        const prev = this.reported.get(k);
        if (prev?.available !== available) {
          // A node seen for the first time as available needs no event: felix assumes BGP works.
          if (prev || !available) out.push({ type: 'bgp-node-state', node: name, family: f, available, since: now });
          this.reported.set(k, { node: name, family: f, available });
        }
      }
    }
    const known = new Set(nodes.map((n) => (typeof n === 'string' ? n : n.name)));
    for (const [k, { node, family, available }] of [...this.reported]) {
      if (tracked.has(k)) continue;
      // A family no longer tracked for a node still here: its blocks leave the tunnel.
      if (!available && known.has(node)) out.push({ type: 'bgp-node-state', node, family, available: true, since: now });
      this.reported.delete(k);
      this.downSince.delete(k);
    }
    return out;
  }

  /** How many nodes the last `update` reported unavailable (in any family). */
  unavailable(): number {
    const nodes = new Set<string>();
    for (const r of this.reported.values()) if (!r.available) nodes.add(r.node);
    return nodes.size;
  }

  /** When `update` should run again to catch a timeout expiring, if any node is pending. */
  nextCheck(): number | undefined {
    let next: number | undefined;
    for (const since of this.downSince.values()) {
      const t = since + this.timeoutMs;
      if (next === undefined || t < next) next = t;
    }
    return next;
  }
}
