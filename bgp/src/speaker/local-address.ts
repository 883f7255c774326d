/**
 * Our addresses toward a peer, for NEXT_HOP self: the kernel's source-address choice for the
 * peer (a connected UDP socket: `connect()` on UDP sends nothing, it only picks a route and a
 * source), plus the other family's addresses configured on the same interface, so a session
 * over IPv4 can still announce IPv6 routes with a valid IPv6 next hop (global, link-local).
 *
 * Runs in the process's own network namespace; sends no packet.
 */
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { LocalAddresses, SpeakerPeerConfig } from './types.js';

function sourceFor(peer: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(peer.includes(':') ? 'udp6' : 'udp4');
    s.on('error', () => {
      s.close();
      resolve(undefined);
    });
    s.connect(9, peer, () => {
      try {
        resolve(s.address().address);
      } catch {
        resolve(undefined);
      } finally {
        s.close();
      }
    });
  });
}

/** The default `localAddresses` component. */
export async function kernelLocalAddresses(peer: SpeakerPeerConfig): Promise<LocalAddresses> {
  const src = peer.localAddress ?? (await sourceFor(peer.address));
  if (!src) return { v6: [] };
  let v4 = src.includes(':') ? undefined : src;
  const v6: string[] = src.includes(':') ? [src] : [];
  for (const addrs of Object.values(networkInterfaces())) {
    if (!addrs?.some((a) => a.address === src)) continue;
    for (const a of addrs) {
      if (a.family === 'IPv4') v4 ??= a.address;
      else if (a.family === 'IPv6' && !v6.includes(a.address) && !a.address.startsWith('fe80')) v6.unshift(a.address);
    }
    const ll = addrs.find((a) => a.family === 'IPv6' && a.address.startsWith('fe80'));
    if (ll && v6.length === 1) v6.push(ll.address.split('%')[0]!);
  }
  return { v4, v6: v6.slice(0, 2) };
}
