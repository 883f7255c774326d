/**
 * Several configured peers on one address (e.g. two BGP speakers on one host, on different
 * ports): an inbound connection only tells us the address, so the listener reads the peer's
 * OPEN (RFC 4271 §4.2: both sides send one as soon as the connection is up) and hands the
 * connection to the peer whose configured AS the OPEN carries (the 4-octet AS capability's,
 * RFC 6793 §4.1, else My Autonomous System), together with the octets already read.
 *
 * Invariants: the socket is paused when handed over (no octet is lost between the two
 * readers); when no OPEN arrives in time, or it matches no candidate, the first candidate that
 * is not Established gets the connection (its FSM then answers as it would anyway).
 */
import type { Socket } from 'node:net';
import { DEFAULT_CONTEXT } from '../codec/types.js';
import type { Clock, SessionCodec } from './ports.js';

/** A peer the listener may hand a connection to. */
export interface DemuxCandidate {
  /** The configured AS of the peer, when known. */
  readonly peerAs?: number;
  /** Whether the peer already has an Established session. */
  readonly isEstablished?: boolean;
}

/** The AS an OPEN announces, or undefined when `bytes` hold no whole OPEN yet or do not parse. */
function openAs(codec: SessionCodec, bytes: Uint8Array): number | undefined | 'incomplete' {
  let messages: Uint8Array[];
  try {
    messages = codec.newReader().push(bytes);
  } catch {
    return undefined;
  }
  const first = messages[0];
  if (first === undefined) return 'incomplete';
  const e = codec.toEvent(first, 'demux', DEFAULT_CONTEXT, true);
  if (e.type !== 'open') return undefined;
  const four = e.message.capabilities.find((c) => c.type === 'four-octet-as');
  return four?.type === 'four-octet-as' ? four.asn : e.message.myAs;
}

function choose<T extends DemuxCandidate>(candidates: readonly T[], asn: number | undefined): T {
  const free = (c: T): boolean => c.isEstablished !== true;
  const byAs = candidates.filter((c) => asn !== undefined && c.peerAs === asn);
  return byAs.find(free) ?? byAs[0] ?? candidates.find(free) ?? (candidates[0] as T);
}

/**
 * Reads `s` until the peer's OPEN (or `timeoutMs`), then calls `done` with the chosen candidate
 * and the octets read so far; `s` is left paused. `done` is not called if the socket closes first.
 */
export function demuxByOpen<T extends DemuxCandidate>(
  s: Socket,
  candidates: () => readonly T[],
  codec: SessionCodec,
  clock: Clock,
  timeoutMs: number,
  done: (target: T, initial: Uint8Array) => void,
): void {
  const chunks: Buffer[] = [];
  let finished = false;
  const finish = (asn: number | undefined): void => {
    if (finished) return;
    finished = true;
    clock.clearTimeout(timer);
    s.pause();
    s.off('data', onData);
    s.off('close', onClose);
    const list = candidates();
    if (list.length === 0) return void s.destroy(); // unregistered meanwhile
    done(choose(list, asn), Buffer.concat(chunks));
  };
  const onData = (b: Buffer): void => {
    chunks.push(b);
    const r = openAs(codec, Buffer.concat(chunks));
    if (r !== 'incomplete') finish(r);
  };
  const onClose = (): void => {
    finished = true;
    clock.clearTimeout(timer);
  };
  const timer = clock.setTimeout(() => finish(undefined), timeoutMs);
  s.on('error', () => undefined);
  s.on('data', onData);
  s.once('close', onClose);
}
