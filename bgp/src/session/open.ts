/**
 * The OPEN exchange, pure: `buildOpen` makes our OPEN from the configuration, `negotiate`
 * validates the peer's OPEN (RFC 4271 §6.2) and derives the `Negotiated` record — hold and
 * keepalive times, families, 4-octet AS, route refresh, extended message, ADD-PATH, graceful
 * restart — including the codec contexts for both directions.
 *
 * Invariant: `negotiate` never throws; a bad OPEN comes back as the NOTIFICATION to send.
 */
import {
  Afi,
  Notification,
  OpenSubcode,
  Safi,
  type Capability,
  type CodecContext,
  type Family,
  type OpenMessage,
} from '../codec/types.js';
import type { AddPathMode, Negotiated, SessionNotification, PeerGracefulRestart, SessionConfig } from './types.js';

/** RFC 6793 §9: the 2-octet placeholder for a 4-octet AS. */
export const AS_TRANS = 23456;

/** The BGP version we speak (RFC 4271 §4.2). */
export const BGP_VERSION = 4;

/** Family name for an AFI/SAFI pair, or undefined when Tabby does not carry it. */
export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== Safi.Unicast) return undefined;
  if (afi === Afi.IPv4) return 'ipv4-unicast';
  if (afi === Afi.IPv6) return 'ipv6-unicast';
  return undefined;
}

/** AFI/SAFI of a family. */
export function afiSafiOf(family: Family): { afi: number; safi: number } {
  return { afi: family === 'ipv4-unicast' ? Afi.IPv4 : Afi.IPv6, safi: Safi.Unicast };
}

const ADD_PATH_BITS: Record<AddPathMode, 1 | 2 | 3> = { receive: 1, send: 2, both: 3 };

/** Our capabilities, in the order we advertise them. */
export function localCapabilities(config: SessionConfig): Capability[] {
  const caps: Capability[] = config.families.map((f) => ({ type: 'multiprotocol' as const, ...afiSafiOf(f) }));
  if (config.routeRefresh) caps.push({ type: 'route-refresh' });
  if (config.enhancedRouteRefresh) caps.push({ type: 'enhanced-route-refresh' });
  if (config.extendedMessage) caps.push({ type: 'extended-message' });
  if (config.fourOctetAs || config.localAs > 0xffff) caps.push({ type: 'four-octet-as', asn: config.localAs });
  const addPath = Object.entries(config.addPath).flatMap(([f, mode]) =>
    mode ? [{ ...afiSafiOf(f as Family), mode: ADD_PATH_BITS[mode] }] : [],
  );
  if (addPath.length > 0) caps.push({ type: 'add-path', families: addPath });
  const gr = config.gracefulRestart;
  if (gr) {
    caps.push({
      type: 'graceful-restart',
      restarting: gr.restarting,
      notification: gr.notification ?? false,
      restartTime: Math.min(gr.restartTime, 4095),
      families: config.families.map((f) => ({ ...afiSafiOf(f), forwardingState: gr.forwarding.includes(f) })),
    });
  }
  return caps;
}

/** Our OPEN (RFC 4271 §4.2; RFC 6793 §4.1: AS_TRANS in My AS when our AS needs 4 octets). */
export function buildOpen(config: SessionConfig): OpenMessage {
  return {
    type: 'open',
    version: BGP_VERSION,
    myAs: config.localAs > 0xffff ? AS_TRANS : config.localAs,
    holdTime: config.holdTime,
    bgpId: config.localId,
    capabilities: localCapabilities(config),
  };
}

/** A dotted quad as an unsigned 32-bit number (0 when unparsable). */
export function idToNumber(id: string): number {
  const parts = id.split('.');
  if (parts.length !== 4) return 0;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) return 0;
    n = n * 256 + v;
  }
  return n;
}

/** Result of validating the peer's OPEN. */
export type NegotiateResult = { ok: true; negotiated: Negotiated } | { ok: false; notification: SessionNotification; reason: string };

function openError(subcode: number, reason: string, data: Uint8Array = new Uint8Array(0)): NegotiateResult {
  return { ok: false, reason, notification: { code: Notification.OpenMessageError, subcode, data } };
}

/**
 * Negotiated hold time (RFC 4271 §4.2): the smaller of both; the peer's 1 or 2 is an error
 * (checked in `negotiate`). Keepalive: configured value capped at hold/3, else hold/3 (§10),
 * at least 1 s; 0 when the hold time is 0 (§4.4: no KEEPALIVEs).
 */
export function negotiateHoldTime(ours: number, theirs: number, keepaliveTime?: number): { holdTime: number; keepaliveTime: number } {
  const holdTime = Math.min(ours, theirs);
  if (holdTime === 0) return { holdTime: 0, keepaliveTime: 0 };
  const third = Math.max(1, Math.floor(holdTime / 3));
  const keepalive = keepaliveTime !== undefined && keepaliveTime > 0 ? Math.min(keepaliveTime, third) : third;
  return { holdTime, keepaliveTime: keepalive };
}

/** Checks the version, AS, hold time and identifier fields of the peer's OPEN (RFC 4271 §6.2). */
function checkFields(config: SessionConfig, open: OpenMessage): NegotiateResult | { peerAs: number; fourOctetAs: boolean } {
  // RFC 4271 §6.2: unsupported version; data = largest locally supported version (2 octets).
  if (open.version !== BGP_VERSION) {
    return openError(OpenSubcode.UnsupportedVersionNumber, `peer speaks BGP version ${open.version}, not 4`, new Uint8Array([0, BGP_VERSION]));
  }
  const asCap = open.capabilities.find((c) => c.type === 'four-octet-as');
  const weFourOctet = config.fourOctetAs || config.localAs > 0xffff;
  // RFC 6793 §4.1: with the capability, the peer's AS is the capability's; My AS is then AS_TRANS or the same value.
  const peerAs = asCap && asCap.type === 'four-octet-as' ? asCap.asn : open.myAs;
  if (peerAs !== config.peerAs) {
    return openError(OpenSubcode.BadPeerAs, `peer AS ${peerAs} is not the configured ${config.peerAs}`, u16(open.myAs));
  }
  // RFC 6793 §4.1: a 2-octet speaker can only be identified by AS_TRANS; the check above already rejects
  // a configured 4-octet AS then. My AS must agree with the capability when it is not AS_TRANS.
  if (asCap && asCap.type === 'four-octet-as' && open.myAs !== AS_TRANS && open.myAs !== asCap.asn) {
    return openError(OpenSubcode.BadPeerAs, `My AS ${open.myAs} disagrees with the 4-octet AS capability ${asCap.asn}`, u16(open.myAs));
  }
  // RFC 4271 §6.2: Hold Time 1 or 2 MUST be rejected.
  if (open.holdTime === 1 || open.holdTime === 2) {
    return openError(OpenSubcode.UnacceptableHoldTime, `peer hold time ${open.holdTime} s is not 0 or at least 3`);
  }
  const peerIdNum = idToNumber(open.bgpId);
  // RFC 4271 §6.2 / RFC 6286 §2.2: the identifier must be nonzero, and differ from ours on iBGP.
  if (peerIdNum === 0) return openError(OpenSubcode.BadBgpIdentifier, `peer BGP identifier ${open.bgpId} is not valid`);
  if (peerAs === config.localAs && peerIdNum === idToNumber(config.localId)) {
    return openError(OpenSubcode.BadBgpIdentifier, `peer BGP identifier ${open.bgpId} equals ours on an iBGP session`);
  }
  return { peerAs, fourOctetAs: weFourOctet && asCap !== undefined };
}

function u16(v: number): Uint8Array {
  return new Uint8Array([(v >> 8) & 0xff, v & 0xff]);
}

/** Families from the peer's multiprotocol capabilities; IPv4 unicast when it sent none (RFC 4760 §8). */
function peerFamilies(caps: Capability[]): Set<Family> {
  const mp = caps.filter((c): c is Extract<Capability, { type: 'multiprotocol' }> => c.type === 'multiprotocol');
  if (mp.length === 0) return new Set(['ipv4-unicast']);
  return new Set(mp.flatMap((c) => familyOf(c.afi, c.safi) ?? []));
}

/** RFC 7911 §5: we receive path ids where we offer receive and the peer offers send, and vice versa. */
function negotiateAddPath(config: SessionConfig, caps: Capability[], families: Family[]): { receive: Family[]; send: Family[] } {
  const peerModes = new Map<Family, number>();
  for (const c of caps) {
    if (c.type !== 'add-path') continue;
    for (const f of c.families) {
      const fam = familyOf(f.afi, f.safi);
      if (fam) peerModes.set(fam, f.mode);
    }
  }
  const receive: Family[] = [];
  const send: Family[] = [];
  for (const f of families) {
    const ours = config.addPath[f];
    const theirs = peerModes.get(f) ?? 0;
    if (ours === undefined) continue;
    const bits = ADD_PATH_BITS[ours];
    if (bits & 1 && theirs & 2) receive.push(f);
    if (bits & 2 && theirs & 1) send.push(f);
  }
  return { receive, send };
}

/** The peer's graceful restart capability as a record (RFC 4724 §3); the last one wins if repeated. */
function peerGracefulRestart(caps: Capability[]): PeerGracefulRestart | undefined {
  let gr: PeerGracefulRestart | undefined;
  for (const c of caps) {
    if (c.type !== 'graceful-restart') continue;
    gr = {
      restartTime: c.restartTime,
      restarting: c.restarting,
      notification: c.notification,
      families: c.families.flatMap((f) => {
        const family = familyOf(f.afi, f.safi);
        return family ? [{ family, forwardingState: f.forwardingState }] : [];
      }),
    };
  }
  return gr;
}

/** Validates the peer's OPEN against our configuration and derives what the session will use. */
export function negotiate(config: SessionConfig, open: OpenMessage): NegotiateResult {
  const fields = checkFields(config, open);
  if ('ok' in fields) return fields;
  const caps = open.capabilities;
  const has = (t: Capability['type']): boolean => caps.some((c) => c.type === t);
  const theirs = peerFamilies(caps);
  const families = config.families.filter((f) => theirs.has(f));
  const addPath = negotiateAddPath(config, caps, families);
  const extendedMessage = config.extendedMessage && has('extended-message');
  const ctx = (addPathSet: Family[]): CodecContext => ({
    fourOctetAs: fields.fourOctetAs,
    addPath: new Set(addPathSet),
    extendedMessage,
  });
  const peerGr = peerGracefulRestart(caps);
  return {
    ok: true,
    negotiated: {
      localAs: config.localAs,
      peerAs: fields.peerAs,
      localId: config.localId,
      peerId: open.bgpId,
      ibgp: fields.peerAs === config.localAs,
      ...negotiateHoldTime(config.holdTime, open.holdTime, config.keepaliveTime),
      families,
      fourOctetAs: fields.fourOctetAs,
      routeRefresh: config.routeRefresh && has('route-refresh'),
      enhancedRouteRefresh: config.enhancedRouteRefresh && has('enhanced-route-refresh'),
      extendedMessage,
      addPath,
      peerGracefulRestart: peerGr,
      gracefulRestart: config.gracefulRestart !== undefined && peerGr !== undefined,
      receiveContext: ctx(addPath.receive),
      sendContext: ctx(addPath.send),
      peerOpen: open,
    },
  };
}
