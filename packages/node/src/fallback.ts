/**
 * The automatic BGP fallback's detector (pure, time passed in): turns BGP session states into
 * felix's per-node `bgp-node-state` events.
 *
 * - BGP disabled: every other node is unavailable at once.
 * - A node we peer with directly (mesh, or a BGPPeer that is a Tabby node): available while its
 *   session is Established; unavailable once it has not been Established for
 *   `bgpFallbackTimeout` (default 10 s) since it was configured or last up.
 * - A node we do not peer with (route reflectors carry its routes): available while at least one
 *   session to a route reflector is Established, by the same timeout otherwise.
 * Events are emitted only on a change. Switching back is damped by felix (`bgpRestoreHoldMs`).
 */
import type { FelixEvent } from '@tabby/felix';

/** One configured peer and whether its session is up. */
export interface PeerState {
  /** The Tabby node behind the peer, if it is one. */
  node?: string;
  /** A route reflector (or our RR when we are its client). */
  reflector: boolean;
  established: boolean;
}

/** Tracks availability per remote node. */
export class FallbackDetector {
  private readonly downSince = new Map<string, number>();
  private readonly reported = new Map<string, boolean>();

  constructor(private readonly timeoutMs = 10_000) {}

  /**
   * The events for the current session states. `nodes`: every other Tabby node;
   * `bgpEnabled`: false when BGP is off on this node (no speaker).
   */
  update(now: number, nodes: readonly string[], peers: readonly PeerState[], bgpEnabled: boolean): FelixEvent[] {
    const direct = new Map<string, boolean>();
    for (const p of peers) if (p.node) direct.set(p.node, (direct.get(p.node) ?? false) || p.established);
    const reflectors = peers.filter((p) => p.reflector);
    const viaReflector = reflectors.some((p) => p.established);
    const out: FelixEvent[] = [];
    const known = new Set(nodes);
    for (const node of nodes) {
      let up: boolean;
      if (!bgpEnabled) up = false;
      else if (direct.has(node)) up = direct.get(node)!;
      else if (reflectors.length > 0) up = viaReflector;
      else up = false; // no session could carry its routes
      let available = up;
      if (bgpEnabled && !up) {
        const since = this.downSince.get(node) ?? now;
        this.downSince.set(node, since);
        available = now - since < this.timeoutMs && this.reported.get(node) !== false;
      } else this.downSince.delete(node);
      if (this.reported.get(node) !== available) {
        // A node seen for the first time as available needs no event: felix assumes BGP works.
        if (this.reported.has(node) || !available) out.push({ type: 'bgp-node-state', node, available, since: now });
        this.reported.set(node, available);
      }
    }
    for (const node of [...this.reported.keys()]) {
      if (known.has(node)) continue;
      this.reported.delete(node);
      this.downSince.delete(node);
    }
    return out;
  }

  /** How many nodes the last `update` reported unavailable. */
  unavailable(): number {
    let n = 0;
    for (const available of this.reported.values()) if (!available) n++;
    return n;
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
