// Unit tests (no root): the IPv6 VTEP that tabby-node allocates at start (Calico's
// ipv6VXLANTunnelAddr and vxlanTunnelMACAddrV6), for an IPv6 VXLAN pool and for the automatic
// fallback, over the in-memory datastore and real IPAM.
import { describe, expect, it } from 'vitest';
import { MemoryDatastore } from '@tabby/datastore';
import { defaultVtepMac, defaultVtepMacV6 } from '@tabby/felix';
import { Ipam } from '@tabby/ipam';
import { ensureDefaultPools, ensureTunnelAddresses, registerNode, type PoolEnv } from '../src/startup.js';

async function start(env: PoolEnv, addrs: { ipv4?: string; ipv6?: string }, fallback: boolean) {
  const store = new MemoryDatastore();
  const ipam = new Ipam({ datastore: store });
  await registerNode(store, 'n1', addrs);
  await ensureDefaultPools(store, { CALICO_IPV4POOL_CIDR: '10.1.0.0/16', CALICO_IPV6POOL_CIDR: 'fd00:1::/112', ...env });
  const node = await ensureTunnelAddresses(store, ipam, 'n1', { vxlan: fallback, fallback, ipip: false });
  return { store, ipam, node };
}

const DUAL = { ipv4: '10.0.0.1/24', ipv6: '2001:db8::1/64' };

describe('ensureTunnelAddresses: the IPv6 VTEP', () => {
  it('an IPv6 VXLAN pool gives the node an IPv6 VTEP address from it and the -v6 MAC', async () => {
    const { node, ipam } = await start({ CALICO_IPV6POOL_VXLAN: 'Always' }, DUAL, false);
    expect(node.spec.ipv6VXLANTunnelAddr).toMatch(/^fd00:1::/);
    expect(node.spec.vxlanTunnelMACAddrV6).toBe(defaultVtepMacV6('n1'));
    expect(node.spec.ipv4VXLANTunnelAddr).toBeUndefined();
    expect(await ipam.ipsByHandle('vxlan-v6-tunnel-addr-n1')).toEqual([node.spec.ipv6VXLANTunnelAddr]);
  });

  it('with the fallback on, every dual-stack node gets both VTEPs even though no pool uses VXLAN', async () => {
    const { node } = await start({}, DUAL, true);
    expect(node.spec.ipv4VXLANTunnelAddr).toMatch(/^10\.1\./);
    expect(node.spec.vxlanTunnelMACAddr).toBe(defaultVtepMac('n1'));
    expect(node.spec.ipv6VXLANTunnelAddr).toMatch(/^fd00:1::/);
    expect(node.spec.vxlanTunnelMACAddrV6).toBe(defaultVtepMacV6('n1'));
    expect(node.spec.vxlanTunnelMACAddrV6).not.toBe(node.spec.vxlanTunnelMACAddr);
  });

  it('none without an IPv6 VXLAN pool and without the fallback, nor on a node without an IPv6 address', async () => {
    expect((await start({}, DUAL, false)).node.spec.ipv6VXLANTunnelAddr).toBeUndefined();
    const v4only = (await start({ CALICO_IPV6POOL_VXLAN: 'Always' }, { ipv4: '10.0.0.1/24' }, true)).node;
    expect(v4only.spec.ipv6VXLANTunnelAddr).toBeUndefined();
    expect(v4only.spec.vxlanTunnelMACAddrV6).toBeUndefined();
  });

  it('is idempotent: a restart keeps the address, and a MAC set by hand stays', async () => {
    const { store, ipam, node } = await start({ CALICO_IPV6POOL_VXLAN: 'CrossSubnet' }, DUAL, false);
    await store.update({ ...node, spec: { ...node.spec, vxlanTunnelMACAddrV6: '66:00:00:00:00:06' } });
    const again = await ensureTunnelAddresses(store, ipam, 'n1', { vxlan: false, ipip: false });
    expect(again.spec.ipv6VXLANTunnelAddr).toBe(node.spec.ipv6VXLANTunnelAddr);
    expect(again.spec.vxlanTunnelMACAddrV6).toBe('66:00:00:00:00:06');
    expect(await ipam.ipsByHandle('vxlan-v6-tunnel-addr-n1')).toHaveLength(1);
  });
});
