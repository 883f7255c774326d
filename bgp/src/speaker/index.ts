/**
 * @module speaker — sessions tied to the RIB: per-peer lifecycle, ingestion, Adj-RIB-Out diffs
 * packed into UPDATEs with backpressure, End-of-RIB, graceful restart, max-prefix, route
 * refresh, runtime peer changes, events out. See speaker.ts for the invariants.
 */
export * from './types.js';
export { Speaker } from './speaker.js';
export { validatePeers, peerId, sessionConfigFor, transportFor, type PeerProblem } from './session-config.js';
export { toPrefix } from './prefix.js';
export { TransmitQueue, encodeAttrs } from './transmit.js';
export { kernelLocalAddresses } from './local-address.js';
export { createSpeakerMetrics } from './metrics.js';
export { fastSessionCodec, lazyNlri } from './fast-codec.js';
export { ingestOutcome } from './ingest.js';
