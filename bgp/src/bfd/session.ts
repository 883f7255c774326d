/**
 * One BFD session in asynchronous mode (RFC 5880 §6.8; single hop, RFC 5881) as a pure
 * reducer: `bfdStep(state, event) → { state, actions }`. The shell (not written yet) owns the UDP
 * sockets (RFC 5881 §4: to port 3784, from 49152–65535, TTL 255) and the timers.
 *
 * Invariants: periodic packets go out every max(DesiredMinTx, remote RequiredMinRx) less 0–25 %
 * jitter (§6.8.7; 0–10 % less when Detect Mult is 1 — here applied as 75–90 %), none while the
 * remote asks for RequiredMinRx 0; DesiredMinTx is at least 1 s while not Up (§6.8.3) and the
 * faster rate is announced with a Poll Sequence once Up; the detection time is the remote
 * Detect Mult × max(RequiredMinRx, remote DesiredMinTx) (§6.8.4), armed in Init and Up.
 * Not implemented: demand mode, echo, authentication, parameter changes while Up.
 */
import { BfdDiag, BfdState, type BfdPacket, type BfdStateValue } from './packet.js';

/** Per-peer BFD settings (ms), as in the daemon's `bfd: { minRx, minTx, multiplier }`. */
export interface BfdConfig {
  minTxMs: number;
  minRxMs: number;
  multiplier: number;
}

/** The session's state variables (RFC 5880 §6.8.1). */
export interface BfdSession {
  readonly config: BfdConfig;
  state: BfdStateValue;
  localDiscr: number;
  remoteDiscr: number;
  remoteState: BfdStateValue;
  remoteMinRxUs: number;
  remoteDesiredTxUs: number;
  remoteDetectMult: number;
  localDiag: number;
  /** A Poll Sequence is running (P set until a packet with F arrives). */
  polling: boolean;
  rng: number;
}

/** Events fed to the reducer. */
export type BfdEvent =
  | { type: 'start' }
  | { type: 'admin-down' }
  | { type: 'packet'; packet: BfdPacket }
  | { type: 'timer'; timer: 'tx' | 'detect' };

/** Actions for the shell. */
export type BfdAction =
  | { type: 'send'; packet: BfdPacket }
  | { type: 'arm'; timer: 'tx' | 'detect'; ms: number }
  | { type: 'cancel'; timer: 'tx' | 'detect' }
  | { type: 'up' }
  | { type: 'down'; diag: number };

/** A session in Down with discriminator `localDiscr` (nonzero, unique per system, §6.8.1). */
export function initialBfd(config: BfdConfig, localDiscr: number, seed: number): BfdSession {
  return {
    config,
    state: BfdState.Down,
    localDiscr: localDiscr >>> 0 || 1,
    remoteDiscr: 0,
    remoteState: BfdState.Down,
    remoteMinRxUs: 1,
    remoteDesiredTxUs: 0,
    remoteDetectMult: 0,
    localDiag: BfdDiag.None,
    polling: false,
    rng: seed >>> 0 || 1,
  };
}

function desiredTxMs(s: BfdSession): number {
  return s.state === BfdState.Up ? s.config.minTxMs : Math.max(s.config.minTxMs, 1000); // §6.8.3
}

/** The packet to send now (`final` answers a Poll). */
export function controlPacket(s: BfdSession, final = false): BfdPacket {
  return {
    diag: s.localDiag,
    state: s.state,
    poll: s.polling && !final,
    final,
    cpi: false,
    demand: false,
    detectMult: s.config.multiplier,
    myDiscriminator: s.localDiscr,
    yourDiscriminator: s.remoteDiscr,
    desiredMinTxUs: desiredTxMs(s) * 1000,
    requiredMinRxUs: s.config.minRxMs * 1000,
    requiredMinEchoRxUs: 0,
  };
}

function nextRandom(s: BfdSession): number {
  let x = s.rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  s.rng = x >>> 0;
  return s.rng / 0x100000000;
}

function armTx(s: BfdSession, out: BfdAction[]): void {
  if (s.remoteMinRxUs === 0 || s.state === BfdState.AdminDown) return void out.push({ type: 'cancel', timer: 'tx' }); // §6.8.7
  const base = Math.max(desiredTxMs(s), s.remoteMinRxUs / 1000);
  const spread = s.config.multiplier === 1 ? 0.15 : 0.25;
  out.push({ type: 'arm', timer: 'tx', ms: Math.max(1, Math.round(base * (1 - spread * nextRandom(s)))) });
}

function detectMs(s: BfdSession): number {
  return s.remoteDetectMult * Math.max(s.config.minRxMs, s.remoteDesiredTxUs / 1000); // §6.8.4
}

function setState(s: BfdSession, to: BfdStateValue, diag: number, out: BfdAction[]): void {
  if (s.state === to) return;
  const wasUp = s.state === BfdState.Up;
  s.state = to;
  s.localDiag = diag;
  if (to === BfdState.Up) {
    s.polling = true; // announce the faster DesiredMinTx (§6.8.3)
    out.push({ type: 'up' });
  }
  if (wasUp) out.push({ type: 'down', diag });
  if (to === BfdState.Down || to === BfdState.AdminDown) out.push({ type: 'cancel', timer: 'detect' });
  out.push({ type: 'send', packet: controlPacket(s) }); // tell the peer at once
  armTx(s, out);
}

/** One reducer step (the state is copied; the input is not changed). */
export function bfdStep(prev: BfdSession, e: BfdEvent): { state: BfdSession; actions: BfdAction[] } {
  const s: BfdSession = { ...prev };
  const out: BfdAction[] = [];
  switch (e.type) {
    case 'start':
      if (s.state === BfdState.AdminDown) s.state = BfdState.Down;
      armTx(s, out);
      break;
    case 'admin-down':
      setState(s, BfdState.AdminDown, BfdDiag.AdministrativelyDown, out);
      break;
    case 'timer':
      if (e.timer === 'tx') {
        if (s.state !== BfdState.AdminDown) out.push({ type: 'send', packet: controlPacket(s) });
        armTx(s, out);
      } else if (s.state === BfdState.Init || s.state === BfdState.Up) {
        s.remoteDiscr = 0; // §6.8.1
        setState(s, BfdState.Down, BfdDiag.ControlDetectionTimeExpired, out);
      }
      break;
    case 'packet':
      receive(s, e.packet, out);
      break;
  }
  return { state: s, actions: out };
}

/** RFC 5880 §6.8.6 from "If the Your Discriminator field is nonzero" on. */
function receive(s: BfdSession, p: BfdPacket, out: BfdAction[]): void {
  if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== s.localDiscr) return; // not this session
  s.remoteDiscr = p.myDiscriminator;
  s.remoteState = p.state;
  s.remoteDetectMult = p.detectMult;
  s.remoteDesiredTxUs = p.desiredMinTxUs;
  const rxChanged = s.remoteMinRxUs !== p.requiredMinRxUs;
  s.remoteMinRxUs = p.requiredMinRxUs;
  if (p.final) s.polling = false;
  if (s.state === BfdState.AdminDown) return;
  if (p.state === BfdState.AdminDown) {
    if (s.state !== BfdState.Down) setState(s, BfdState.Down, BfdDiag.NeighborSignaledSessionDown, out);
  } else if (s.state === BfdState.Down) {
    if (p.state === BfdState.Down) setState(s, BfdState.Init, BfdDiag.None, out);
    else if (p.state === BfdState.Init) setState(s, BfdState.Up, BfdDiag.None, out);
  } else if (s.state === BfdState.Init) {
    if (p.state === BfdState.Init || p.state === BfdState.Up) setState(s, BfdState.Up, BfdDiag.None, out);
  } else if (p.state === BfdState.Down) {
    setState(s, BfdState.Down, BfdDiag.NeighborSignaledSessionDown, out);
  }
  if (p.poll) out.push({ type: 'send', packet: controlPacket(s, true) }); // §6.8.6: answer with F
  if (rxChanged) armTx(s, out);
  if (s.state === BfdState.Init || s.state === BfdState.Up) out.push({ type: 'arm', timer: 'detect', ms: detectMs(s) });
}
