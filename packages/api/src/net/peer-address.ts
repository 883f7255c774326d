/**
 * BGP peer addresses as Calico writes them in BGPPeer.peerIP: `10.0.0.1`, `10.0.0.1:1179`,
 * `fd00::1` or `[fd00::1]:1179`. Pure.
 */
import { TabbyError } from '../errors.js';
import { formatIp, tryParseIp, type IpAddress } from './cidr.js';

/** A peer address with its optional port. */
export interface PeerAddress extends IpAddress {
  /** Canonical address text (no port, no brackets). */
  ip: string;
  /** TCP port when given; the caller's default (179) otherwise. */
  port?: number;
}

/** Parses a peer address, or returns undefined when it is not one. */
export function tryParsePeerAddress(text: string): PeerAddress | undefined {
  let host = text;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  if (bracket) {
    host = bracket[1] as string;
    port = bracket[2];
  } else if (/^[^:]+:\d{1,5}$/.test(text)) {
    [host, port] = text.split(':') as [string, string];
  }
  const ip = tryParseIp(host);
  if (!ip || (bracket && ip.family !== 6)) return undefined;
  const n = port === undefined ? undefined : Number(port);
  if (n !== undefined && (n < 1 || n > 65535)) return undefined;
  return { ...ip, ip: formatIp(ip.family, ip.addr), ...(n === undefined ? {} : { port: n }) };
}

/** Parses a peer address; throws TabbyError 'InvalidIp' naming the accepted forms. */
export function parsePeerAddress(text: string): PeerAddress {
  const p = tryParsePeerAddress(text);
  if (!p) {
    throw new TabbyError('InvalidIp', `"${text}" is not a peer address (use 10.0.0.1, 10.0.0.1:1179, fd00::1 or [fd00::1]:1179)`, { value: text });
  }
  return p;
}
