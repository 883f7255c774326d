/**
 * A route reflector with many clients (root): tabby-bgp reflects for 50 iBGP clients simulated
 * by testkit's BgpSwarm (one process, 50 sessions from 50 addresses), 20 /32s each. Every client
 * must end up with every other client's routes and none of its own; when one client withdraws
 * everything, the routes must leave every other client. The small version of `bench bgp-rr`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpSwarm, SWARM_ASN, SWARM_RR, TestNet, missingRequirements, poll, swarmClientAddr, swarmTopology, titleWithSkip, type SwarmStatus } from '@tabby/testkit';
import { startTabby, type TabbyProc } from './helpers.js';

const CLIENTS = 50;
const ROUTES = 20;
const missing = missingRequirements('root', 'ip');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: a route reflector with 50 simulated clients (root)', missing), () => {
  const net = new TestNet();
  let rr: TabbyProc;
  let swarm: BgpSwarm;

  beforeAll(async () => {
    const topo = await swarmTopology(net, CLIENTS);
    rr = await startTabby(net, topo.rr, {
      routerId: SWARM_RR,
      asn: SWARM_ASN,
      listen: { address: SWARM_RR, port: 179 },
      peers: topo.addresses.map((address) => ({ address, asn: SWARM_ASN, passive: true, routeReflectorClient: true, families: ['ipv4-unicast'] })),
    });
    swarm = BgpSwarm.start(net, topo.clients, { clients: topo.addresses, routesPer: ROUTES });
  });

  afterAll(async () => {
    await swarm?.stop();
    await net.cleanup();
  });

  it('every client gets every other client’s routes, and none of its own', async () => {
    const s = await swarm.until((x: SwarmStatus) => x.established === CLIENTS && x.announcedTotal === CLIENTS * ROUTES && x.complete === CLIENTS, 'all clients complete', 60_000);
    expect(s.minHeld).toBe((CLIENTS - 1) * ROUTES);
    expect(s.reflectedOwn).toBe(0);
    expect(s.foreign).toBe(0);
    const status = await poll(async () => {
      const st = await rr.status();
      return st.peers.every((p) => p.prefixesAdvertised === (CLIENTS - 1) * ROUTES) && st;
    }, { timeout: 20_000, what: 'every client advertised the others’ routes' });
    expect(status.locRib.ipv4).toBe(CLIENTS * ROUTES);
  });

  it('a client withdrawing everything: its routes leave every other client', async () => {
    swarm.withdrawFirst();
    const s = await swarm.until((x) => x.withdrawSentAt > 0 && x.announcedTotal === (CLIENTS - 1) * ROUTES && x.complete === CLIENTS, 'client 0 routes gone everywhere', 60_000);
    expect(s.reflectedOwn).toBe(0);
    const st = await poll(async () => {
      const r = await rr.status();
      return r.locRib.ipv4 === (CLIENTS - 1) * ROUTES && r;
    }, { timeout: 20_000, what: 'the reflector to drop client 0 routes' });
    // client 0 still gets everyone else's; the others lose client 0's
    expect(st.peers.find((p) => p.address === swarmClientAddr(0))?.prefixesAdvertised).toBe((CLIENTS - 1) * ROUTES);
    expect(st.peers.find((p) => p.address === swarmClientAddr(1))?.prefixesAdvertised).toBe((CLIENTS - 2) * ROUTES);
  });
});
