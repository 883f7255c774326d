/**
 * BFD Control packets (RFC 5880 §4.1): encoding and the reception checks of §6.8.6 that need
 * only the packet. Pure functions over `Uint8Array`.
 *
 * Invariant: `decodeBfd` returns a packet only when every §6.8.6 packet-level check passes;
 * otherwise the reason it must be discarded. Authentication (§4.2) is not supported: a packet
 * with the A bit is discarded (§6.8.6: "A bit set and no authentication in use").
 */

/** RFC 5880 §4.1 session states. */
export const BfdState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
export type BfdStateValue = (typeof BfdState)[keyof typeof BfdState];

/** RFC 5880 §4.1 diagnostic codes (those this implementation sets). */
export const BfdDiag = { None: 0, ControlDetectionTimeExpired: 1, NeighborSignaledSessionDown: 3, AdministrativelyDown: 7 } as const;

/** A BFD Control packet (times in microseconds, as on the wire). */
export interface BfdPacket {
  diag: number;
  state: BfdStateValue;
  poll: boolean;
  final: boolean;
  /** C bit: forwarding independent of the control plane. */
  cpi: boolean;
  demand: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  requiredMinEchoRxUs: number;
}

const LEN = 24;

/** Encodes a Control packet without authentication (24 octets). */
export function encodeBfd(p: BfdPacket): Uint8Array {
  const b = new Uint8Array(LEN);
  const v = new DataView(b.buffer);
  b[0] = (1 << 5) | (p.diag & 0x1f); // version 1
  b[1] = (p.state << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) | (p.demand ? 0x02 : 0);
  b[2] = p.detectMult;
  b[3] = LEN;
  v.setUint32(4, p.myDiscriminator >>> 0);
  v.setUint32(8, p.yourDiscriminator >>> 0);
  v.setUint32(12, p.desiredMinTxUs >>> 0);
  v.setUint32(16, p.requiredMinRxUs >>> 0);
  v.setUint32(20, p.requiredMinEchoRxUs >>> 0);
  return b;
}

/** Decodes a received Control packet, or says why RFC 5880 §6.8.6 discards it. */
export function decodeBfd(b: Uint8Array): BfdPacket | { discard: string } {
  if (b.length < LEN) return { discard: `${b.length} octets, fewer than 24` };
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = b[0]! >> 5;
  if (version !== 1) return { discard: `version ${version}, expected 1` };
  const len = b[3]!;
  const flags = b[1]!;
  const auth = (flags & 0x04) !== 0;
  if (len < (auth ? 26 : 24)) return { discard: `length field ${len} too small` };
  if (len > b.length) return { discard: `length field ${len} exceeds the ${b.length} octets received` };
  if (auth) return { discard: 'A bit set and no authentication in use' };
  const detectMult = b[2]!;
  if (detectMult === 0) return { discard: 'Detect Mult is zero' };
  if (flags & 0x01) return { discard: 'M bit is set' };
  const myDiscriminator = v.getUint32(4);
  if (myDiscriminator === 0) return { discard: 'My Discriminator is zero' };
  const state = (flags >> 6) as BfdStateValue;
  const yourDiscriminator = v.getUint32(8);
  if (yourDiscriminator === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) return { discard: `Your Discriminator is zero in state ${state}` };
  return {
    diag: b[0]! & 0x1f,
    state,
    poll: (flags & 0x20) !== 0,
    final: (flags & 0x10) !== 0,
    cpi: (flags & 0x08) !== 0,
    demand: (flags & 0x02) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxUs: v.getUint32(12),
    requiredMinRxUs: v.getUint32(16),
    requiredMinEchoRxUs: v.getUint32(20),
  };
}
