/**
 * Graceful restart (RFC 4724, RFC 8538) decisions, pure: the RIB applies them to its tables.
 *
 * Helper (receiving speaker) per peer:
 *   idle ──session down, GR applies──► restarting (restart timer = peer's restart time)
 *   restarting ──session up──► stale (stale-path timer; families without F bit purged at once)
 *   restarting ──restart timer──► idle, all stale routes purged
 *   stale ──End-of-RIB for family F──► stale routes of F purged; idle when none remain
 *   stale ──stale-path timer──► idle, all stale routes purged
 * Restarting speaker: `DeferralState` holds best-path results back from peers and the embedder
 * until End-of-RIB from every GR peer (or the selection deferral timer, RFC 4724 §4.1).
 *
 * Times are milliseconds from the caller's clock; nothing here reads a clock.
 */
import type { Capability, Family } from '../codec/types.js';
import { familyOf } from './prefix-key.js';

/** The peer's GR capability. */
export type GrCapability = Extract<Capability, { type: 'graceful-restart' }>;

/** Helper-side GR state of one peer. */
export type GrHelperState =
  | { phase: 'idle' }
  /** Session down; stale routes kept until `deadline` (peer's restart time). */
  | { phase: 'restarting'; deadline: number; families: Family[] }
  /** Session back; stale routes of `families` kept until their End-of-RIB or `deadline`. */
  | { phase: 'stale'; deadline: number; families: Family[] };

/** The idle state. */
export const GR_IDLE: GrHelperState = { phase: 'idle' };

/** How a session ended, as far as GR cares. */
export type SessionEnd =
  | { kind: 'transport' } // TCP failure, hold timer expiry detected locally without NOTIFICATION sent/received
  | { kind: 'notification'; code: number; subcode: number }
  | { kind: 'admin' }; // deconfigured or shut down by us: never GR

/** What to do with a peer's routes when its session ends. */
export type GrDownDecision = { action: 'flush' } | { action: 'retain'; state: GrHelperState };

/** Families in a GR capability that Tabby carries. */
export function grFamilies(cap: GrCapability): Family[] {
  const out: Family[] = [];
  for (const f of cap.families) {
    const fam = familyOf(f.afi, f.safi);
    if (fam) out.push(fam);
  }
  return out;
}

/**
 * RFC 4724 §4.2: when the session of a GR-capable peer ends without a NOTIFICATION, retain its
 * routes as stale for the families in its capability. RFC 8538 §4: when both sides sent the N
 * bit, a NOTIFICATION other than Cease/Hard Reset (subcode 9) also retains them.
 */
export function onSessionDown(cap: GrCapability | undefined, weSentN: boolean, end: SessionEnd, now: number): GrDownDecision {
  if (!cap || end.kind === 'admin') return { action: 'flush' };
  if (end.kind === 'notification') {
    const hardReset = end.code === 6 && end.subcode === 9;
    if (!(cap.notification && weSentN) || hardReset) return { action: 'flush' };
  }
  const families = grFamilies(cap);
  if (families.length === 0) return { action: 'flush' };
  return { action: 'retain', state: { phase: 'restarting', deadline: now + cap.restartTime * 1000, families } };
}

/**
 * RFC 4724 §4.2 on re-establishment: families absent from the new capability or without the
 * F bit are purged at once; the rest stay stale until End-of-RIB or the stale-path timer.
 */
export function onSessionUp(
  st: GrHelperState,
  cap: GrCapability | undefined,
  now: number,
  stalePathTimeMs: number,
): { state: GrHelperState; purge: Family[] } {
  if (st.phase === 'idle') return { state: st, purge: [] };
  const keep = new Set<Family>();
  if (cap)
    for (const f of cap.families) {
      const fam = familyOf(f.afi, f.safi);
      if (fam && f.forwardingState) keep.add(fam);
    }
  const purge = st.families.filter((f) => !keep.has(f));
  const families = st.families.filter((f) => keep.has(f));
  if (families.length === 0) return { state: GR_IDLE, purge };
  return { state: { phase: 'stale', deadline: now + stalePathTimeMs, families }, purge };
}

/** RFC 4724 §4.2: End-of-RIB for a family ends its stale period. */
export function onEndOfRib(st: GrHelperState, family: Family): { state: GrHelperState; purge: Family[] } {
  if (st.phase !== 'stale' || !st.families.includes(family)) return { state: st, purge: [] };
  const families = st.families.filter((f) => f !== family);
  return { state: families.length === 0 ? GR_IDLE : { ...st, families }, purge: [family] };
}

/** Timer expiry: purge every family still stale. */
export function onTimer(st: GrHelperState, now: number): { state: GrHelperState; purge: Family[] } {
  if (st.phase === 'idle' || now < st.deadline) return { state: st, purge: [] };
  return { state: GR_IDLE, purge: st.families };
}

/** The pending deadline of a helper state. */
export function helperDeadline(st: GrHelperState): number | undefined {
  return st.phase === 'idle' ? undefined : st.deadline;
}

/** Local graceful-restart settings (restarting speaker role). */
export interface LocalGrConfig {
  /** We came back from a restart: defer selection results until End-of-RIB (RFC 4724 §4.1). */
  restarting: boolean;
  /** We preserved forwarding state (kernel routes) across the restart: the F bit. */
  forwardingState: boolean;
  /** Restart time we advertise, seconds (RFC 4724 §3: 12 bits). */
  restartTime: number;
  /** Selection deferral timer, milliseconds. */
  selectionDeferralMs: number;
  /** Stale-path timer as helper, milliseconds. */
  stalePathMs: number;
}

/** Defaults: not restarting, forwarding state preserved, restart time 120 s, deferral 360 s. */
export const DEFAULT_LOCAL_GR: LocalGrConfig = {
  restarting: false,
  forwardingState: true,
  restartTime: 120,
  selectionDeferralMs: 360_000,
  stalePathMs: 360_000,
};

/** The GR capability the speaker advertises (RFC 4724 §3) for the given families. */
export function localGrCapability(cfg: LocalGrConfig, families: Family[]): GrCapability {
  return {
    type: 'graceful-restart',
    restarting: cfg.restarting,
    notification: true,
    restartTime: Math.min(4095, Math.max(0, Math.floor(cfg.restartTime))),
    families: families.map((f) => ({ afi: f === 'ipv4-unicast' ? 1 : 2, safi: 1, forwardingState: cfg.forwardingState })),
  };
}

/** Restarting-speaker state: deferring until `deadline` or End-of-RIB from all `waiting` peers. */
export interface DeferralState {
  deferring: boolean;
  deadline: number;
  /** peer id → families whose End-of-RIB is still awaited. */
  waiting: Map<string, Set<Family>>;
}
