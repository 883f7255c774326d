/**
 * BGP-4 sessions (RFC 4271 §8): a pure FSM per connection (`step`), a pure peer reducer that
 * owns up to two connections and resolves collisions (`peerStep`, RFC 4271 §6.8), and a thin
 * socket shell (`PeerSession`, `BgpListener`) that executes their actions.
 *
 * ## How a speaker uses it
 *
 * ```ts
 * const codec = defaultSessionCodec();
 * const socketOptions = netlinkSocketOptions();          // or noSocketOptions (no MD5/GTSM)
 * const listener = new BgpListener({ codec, socketOptions, logger }, { host: '::', port: 179 });
 * await listener.listen();
 *
 * const session = new PeerSession({ codec, socketOptions, logger }, {
 *   config: { ...DEFAULT_SESSION_CONFIG, localAs: 64512, localId: '10.0.0.1',
 *             peerAs: 64512, peerAddress: '10.0.0.2', families: ['ipv4-unicast', 'ipv6-unicast'] },
 *   transport: { peerAddress: '10.0.0.2', localAddress: '10.0.0.1', md5Password: 'secret', ttlSecurityHops: 1 },
 * });
 * const unregister = listener.register(session);          // inbound connections from 10.0.0.2 go to it
 * session.on((e) => {
 *   switch (e.type) {
 *     case 'established': // e.negotiated: hold time, families, ADD-PATH, graceful restart, codec contexts
 *                         // e.endpoints: the TCP connection's local/remote address and port
 *       session.sendUpdates(encodedUpdates);             // whole messages, encoded with e.negotiated.sendContext
 *       session.sendEndOfRib('ipv4-unicast');
 *       break;
 *     case 'update':      // e.payload: { kind: 'decoded', outcome: UpdateOutcome } (RFC 7606 accept / treat-as-withdraw)
 *       break;            //         or { kind: 'raw', bytes } with init.rawUpdates
 *     case 'route-refresh': // e.message (afi, safi, subtype: 0 normal, 1 BoRR, 2 EoRR); only negotiated families
 *       break;
 *     case 'down':        // e.reason: notification-sent / notification-received / connection-lost / peer-restarted
 *       break;            // e.negotiated: what the session had (graceful restart helper decisions)
 *     case 'state':       // e.from → e.to, for status and metrics
 *       break;
 *   }
 * });
 * session.start();                                         // ManualStart (passive peers: waits in Active)
 * if (!session.sendUpdates(many)) await session.drained(signal); // backpressure
 * session.sendRouteRefresh('ipv6-unicast');
 * session.setGracefulRestart({ ...gr, restarting: false }); // our restart is over: later OPENs carry R=0 (RFC 4724 §4.1)
 * session.reset(CeaseSubcode.MaximumPrefixesReached, 60_000); // AutomaticStop: Cease 1, restart in 60 s
 * session.stop(CeaseSubcode.AdministrativeShutdown);       // ManualStop: Cease 2, no restart
 * session.destroy(); unregister();                         // peer removed: Cease 3 and release everything
 * ```
 *
 * `new PeerSession` throws `SessionConfigError` (code SESSION_CONFIG_INVALID, `details.field`) for
 * an invalid configuration. The listener routes by the peer's address only (one session per
 * remote address; `transport.peerPort` applies to outbound connections).
 *
 * Invariants kept by the module:
 * - The reducers are pure (no I/O, time passed in, jitter from a PRNG state seeded by the
 *   shell's injected random source); every action they return is executed by the shell in order.
 * - Upward events arrive in the order the FSM produced them; `established` precedes every
 *   `update` of a connection and `down` follows the last one.
 * - UPDATEs sent by the speaker bypass the reducer and go to the Established connection only;
 *   before Established (or after down) `sendUpdates` returns false and writes nothing.
 * - Hold time: min of both sides, 0 disables keepalives and the hold timer, 1-2 is refused with
 *   OPEN error Unacceptable Hold Time (RFC 4271 §6.2); keepalive = hold / 3.
 * - Collision (§6.8): both sides keep the connection initiated by the higher BGP identifier,
 *   also when the other one is already Established (§8.1.1 CollisionDetectEstablishedState:
 *   the sides may see the two connections progress in different orders); a new connection
 *   whose OPEN sets the Restart State bit replaces an Established session opened without it
 *   (RFC 4724 §4.2: the peer restarted).
 */
export * from './types.js';
export { initialFsm, step, eventConn, FsmSubcode, type FsmState, type StepResult } from './fsm.js';
export { initialPeer, peerStep, peerState, establishedFsm, type PeerState } from './peer.js';
export { buildOpen, negotiate, negotiateHoldTime, localCapabilities, idToNumber, type NegotiateResult } from './open.js';
export { backoffDelay, nextRandom } from './backoff.js';
export { cease } from './transitions.js';
export {
  noSocketOptions,
  silentLogger,
  systemClock,
  type Clock,
  type FrameReader,
  type SessionCodec,
  type SessionLogger,
  type SocketOptions,
  type TimerHandle,
} from './ports.js';
export { TimerTable } from './timer-table.js';
export { Connection, openOutbound, type PeerTransport } from './connection.js';
export { PeerSession, type PeerSessionComponents, type PeerSessionInit, type UpwardListener } from './shell.js';
export { BgpListener, canonicalAddress, type IncomingTarget, type ListenerComponents, type ListenerInit } from './listener.js';
export { defaultSessionCodec } from './codec-adapter.js';
export { netlinkSocketOptions } from './socket-options.js';
export { DEFAULT_SESSION_CONFIG, sessionConfig } from './defaults.js';
export { SessionConfigError, validateSession, type SessionErrorCode } from './validate.js';
