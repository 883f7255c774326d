/**
 * prom-client metrics of the speaker, created by a factory on an injected registry (nothing is
 * registered at import time): sessions by state, UPDATEs in/out per peer, prefixes per peer,
 * inbound connections refused by reason.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SessionState } from '../session/index.js';
import type { SpeakerMetrics } from './types.js';

const STATES: SessionState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** Creates the speaker's metrics on `registry`. */
export function createSpeakerMetrics(registry: Registry): SpeakerMetrics {
  const peerState = new Map<string, SessionState>();
  let prefixSource: () => Array<{ peer: string; received: number; accepted: number; advertised: number }> = () => [];
  new Gauge({
    name: 'tabby_bgp_sessions',
    help: 'BGP sessions by FSM state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of STATES) this.set({ state: s }, 0);
      for (const s of peerState.values()) this.inc({ state: s });
    },
  });
  // Counted per received UPDATE: a plain per-peer sum, folded into the counter when it is read
  // (prom-client's labelled inc costs more than the rest of an UPDATE's session handling).
  const pendingIn = new Map<string, number>();
  new Counter({
    name: 'tabby_bgp_updates_received_total',
    help: 'UPDATE messages received',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      for (const [peer, n] of pendingIn) this.inc({ peer }, n);
      pendingIn.clear();
    },
  });
  const rejected = new Counter({ name: 'tabby_bgp_connections_rejected_total', help: 'Inbound connections refused: unconfigured source (Cease sent), or over the per-source / total cap (closed at once)', labelNames: ['reason'], registers: [registry] });
  const updOut = new Counter({ name: 'tabby_bgp_updates_sent_total', help: 'UPDATE messages sent', labelNames: ['peer'], registers: [registry] });
  new Gauge({
    name: 'tabby_bgp_prefixes',
    help: 'Prefixes per peer: received, accepted (Adj-RIB-In), advertised (Adj-RIB-Out)',
    labelNames: ['peer', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of prefixSource()) {
        this.set({ peer: p.peer, kind: 'received' }, p.received);
        this.set({ peer: p.peer, kind: 'accepted' }, p.accepted);
        this.set({ peer: p.peer, kind: 'advertised' }, p.advertised);
      }
    },
  });
  return {
    sessionState: (peer, state) => void peerState.set(peer, state),
    updatesReceived: (peer, n) => void pendingIn.set(peer, (pendingIn.get(peer) ?? 0) + n),
    updatesSent: (peer, n) => updOut.inc({ peer }, n),
    setPrefixSource: (fn) => void (prefixSource = fn),
    connectionRejected: (reason) => rejected.inc({ reason }),
  };
}
