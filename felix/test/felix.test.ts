// Unit tests (no root): Felix over the in-memory fake kernel, with injected failures.
import { describe, expect, it } from 'vitest';
import { poll } from '@tabby/testkit';
import { Registry } from 'prom-client';
import { createFelixMetrics, FakeNetlinkKernel, FakeSysctl, Felix, type FelixEvent } from '../src/index.js';

const ME = 'node-a';

function events(vxlan: 'Never' | 'Always' = 'Always'): FelixEvent[] {
  return [
    { type: 'node-update', node: { name: ME, ipv4Address: '172.16.1.1', ipv4Subnet: '172.16.1.0/24', vxlanTunnelAddress: '10.244.255.1' } },
    { type: 'node-update', node: { name: 'node-b', ipv4Address: '172.16.1.2', ipv4Subnet: '172.16.1.0/24', vxlanTunnelAddress: '10.244.255.2' } },
    { type: 'pool-update', pool: { name: 'p', cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: vxlan, disabled: false } },
    { type: 'block-update', block: { cidr: '10.244.1.0/26', node: ME } },
    { type: 'block-update', block: { cidr: '10.244.2.0/26', node: 'node-b' } },
    { type: 'endpoint-update', endpoint: { key: 'ns/p1', node: ME, iface: 'cali1', ipNetworks: ['10.244.1.5/32'] } },
  ];
}

function setup(): { k: FakeNetlinkKernel; s: FakeSysctl; f: Felix } {
  const k = new FakeNetlinkKernel();
  const eth = k.addDevice('eth0');
  k.addresses.push({ family: 4, index: eth.index, address: '172.16.1.1/24', prefixLen: 24, scope: 0, flags: 0 });
  const s = new FakeSysctl();
  const f = new Felix({ kernel: k, sysctl: s }, { nodeName: ME, retryMinMs: 1, retryMaxMs: 20 });
  return { k, s, f };
}

describe('Felix over a fake kernel', () => {
  it('programs blackholes, VXLAN device, peers and routes; a workload route waits for its veth', async () => {
    const { k, s, f } = setup();
    f.start();
    f.apply([...events(), { type: 'in-sync' }]);
    await f.whenIdle();
    expect(k.routes.get('10.244.1.0/26')?.type).toBe('blackhole');
    const vx = [...k.links.values()].find((l) => l.name === 'vxlan.calico');
    expect(vx?.vxlan).toMatchObject({ vni: 4096, port: 4789, local: '172.16.1.1' });
    expect(k.routes.get('10.244.2.0/26')).toMatchObject({ gateway: '10.244.255.2', oif: vx?.index, onlink: true });
    expect(k.neighbours.map((n) => `${n.family} ${n.dst} ${n.lladdr}`).sort()).toHaveLength(2);
    expect(k.routes.has('10.244.1.5/32')).toBe(false);
    expect(f.health().waitingRoutes).toBe(1);
    const cali = k.addDevice('cali1');
    await poll(() => k.routes.get('10.244.1.5/32')?.oif === cali.index, { what: 'workload route after the veth appears' });
    await poll(() => s.values.get('net/ipv4/conf/cali1/proxy_arp') === '1', { what: 'sysctls' });
    expect(s.values.get('net/ipv4/neigh/cali1/proxy_delay')).toBe('0');
    expect(s.values.get('net/ipv4/ip_forward')).toBe('1');
    await f.stop();
  });

  it('adopts a previous run’s routes: right ones untouched, stale ones removed only after in-sync', async () => {
    const { k, f } = setup();
    k.addDevice('cali1');
    await k.batch([
      { kind: 'route', op: 'add', route: { dst: '10.244.1.0/26', type: 'blackhole', protocol: 80 } },
      { kind: 'route', op: 'add', route: { dst: '10.244.9.0/26', type: 'blackhole', protocol: 80 } },
    ]);
    k.log.length = 0;
    f.start();
    f.apply(events('Never'));
    await f.whenIdle();
    expect(k.routes.has('10.244.9.0/26')).toBe(true); // not in sync yet: adopted, kept
    expect(k.log.filter((r) => r.kind === 'route' && r.route.dst === '10.244.1.0/26')).toEqual([]); // already right
    f.apply([{ type: 'in-sync' }]);
    await poll(() => !k.routes.has('10.244.9.0/26'), { what: 'stale route removed' });
    expect(f.health().ready).toBe(true);
    await f.stop();
  });

  it('repairs a route deleted behind its back, from the notification', async () => {
    const { k, f } = setup();
    f.start();
    f.apply([...events(), { type: 'in-sync' }]);
    await f.whenIdle();
    k.dropRoute('10.244.2.0/26');
    await poll(() => k.routes.has('10.244.2.0/26'), { what: 'route repaired' });
    k.removeDevice('vxlan.calico');
    await poll(() => [...k.links.values()].some((l) => l.name === 'vxlan.calico') && k.routes.has('10.244.2.0/26'), { what: 'device and route repaired' });
    await f.stop();
  });

  it('retries a failing kernel call with backoff and reports it (log and metric) meanwhile', async () => {
    const k = new FakeNetlinkKernel();
    const eth = k.addDevice('eth0');
    k.addresses.push({ family: 4, index: eth.index, address: '172.16.1.1/24', prefixLen: 24, scope: 0, flags: 0 });
    const warnings: string[] = [];
    const logger = { info: () => {}, debug: () => {}, error: () => {}, warn: (o: Record<string, unknown>) => void warnings.push(String(o.err)) };
    const registry = new Registry();
    const f = new Felix({ kernel: k, sysctl: new FakeSysctl(), logger, metrics: createFelixMetrics(registry) }, { nodeName: ME, retryMinMs: 1, retryMaxMs: 20 });
    k.failNext((r) => r.kind === 'route' && r.route.dst === '10.244.1.0/26', 'EBUSY', 3);
    f.start();
    f.apply([...events(), { type: 'in-sync' }]);
    await poll(() => k.routes.has('10.244.1.0/26') && f.health().lastError === undefined, { what: 'retried until it succeeds' });
    expect(warnings.filter((w) => w.includes('10.244.1.0/26') && w.includes('EBUSY'))).toHaveLength(3);
    expect(await registry.getSingleMetricAsString('tabby_felix_kernel_errors_total')).toContain('object="route",reason="replace"} 3');
    await f.stop();
  });

  it('a node in BGP fallback shows in health(), the log and the metric, and leaves them when BGP is back', async () => {
    const k = new FakeNetlinkKernel();
    const eth = k.addDevice('eth0');
    k.addresses.push({ family: 4, index: eth.index, address: '172.16.1.1/24', prefixLen: 24, scope: 0, flags: 0 });
    const logs: string[] = [];
    const log = (level: string) => (o: Record<string, unknown>, msg?: string): void => void logs.push(`${level} ${String(o.node)} ${msg ?? ''}`);
    const registry = new Registry();
    const logger = { info: log('info'), debug: () => {}, error: () => {}, warn: log('warn') };
    const f = new Felix({ kernel: k, sysctl: new FakeSysctl(), logger, metrics: createFelixMetrics(registry) }, { nodeName: ME });
    f.start();
    f.apply([...events('Never'), { type: 'config-update', config: { bgpRestoreHoldMs: 0 } }, { type: 'fallback-enabled', enabled: true }, { type: 'in-sync' }]);
    f.apply([{ type: 'bgp-node-state', node: 'node-b', available: false, since: 1000 }]);
    await poll(() => f.health().fallback.length === 1, { what: 'node-b in fallback' });
    expect(f.health().fallback).toEqual([{ node: 'node-b', since: 1000, families: [4, 6] }]);
    expect(logs.filter((l) => l.startsWith('warn node-b') && l.includes('tunnel'))).toHaveLength(1);
    expect(await registry.getSingleMetricAsString('tabby_felix_fallback_nodes')).toContain('tabby_felix_fallback_nodes 1');
    f.apply([{ type: 'bgp-node-state', node: 'node-b', available: true, since: 2000 }]);
    await poll(() => f.health().fallback.length === 0, { what: 'node-b back on BGP' });
    expect(logs.filter((l) => l.startsWith('info node-b') && l.includes('back'))).toHaveLength(1);
    expect(await registry.getSingleMetricAsString('tabby_felix_fallback_nodes')).toContain('tabby_felix_fallback_nodes 0');
    await f.stop();
  });

  it('a failed read-back forces a full resync, and an overrun does too', async () => {
    const { k, f } = setup();
    k.failReads = 1;
    f.start();
    f.apply([...events(), { type: 'in-sync' }]);
    await poll(() => k.routes.has('10.244.1.0/26'), { what: 'programmed after a failed read' });
    k.routes.delete('10.244.1.0/26'); // lost without a notification
    k.overrun();
    await poll(() => k.routes.has('10.244.1.0/26'), { what: 'full resync after overrun' });
    await f.stop();
  });

  it('on a kernel without ipip, tunl0 failure is reported and its routes wait; VXLAN still works', async () => {
    const { k, f } = setup();
    k.unsupportedKinds.add('ipip');
    f.start();
    f.apply([
      ...events('Never'),
      { type: 'pool-update', pool: { name: 'p', cidr: '10.244.0.0/16', ipipMode: 'Always', vxlanMode: 'Never', disabled: false } },
      { type: 'bgp-route-update', prefix: '10.244.2.0/26', nextHop: '172.16.1.2' },
      { type: 'in-sync' },
    ]);
    await poll(() => f.health().lastError?.includes('tunl0'), { what: 'tunl0 failure reported' });
    expect(f.health().waitingRoutes).toBeGreaterThanOrEqual(1);
    expect(k.routes.has('10.244.2.0/26')).toBe(false);
    await f.stop();
  });

  it('recreates vxlan.calico when its VNI changes, and deletes it when no pool needs it', async () => {
    const { k, f } = setup();
    f.start();
    f.apply([...events(), { type: 'in-sync' }]);
    await f.whenIdle();
    f.apply([{ type: 'config-update', config: { vxlanVni: 4097 } }]);
    await poll(() => [...k.links.values()].find((l) => l.name === 'vxlan.calico')?.vxlan?.vni === 4097, { what: 'vni changed' });
    await poll(() => k.routes.get('10.244.2.0/26')?.oif === [...k.links.values()].find((l) => l.name === 'vxlan.calico')?.index, { what: 'route on the new device' });
    k.log.length = 0;
    f.apply([{ type: 'pool-update', pool: { name: 'p', cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', disabled: false } }]);
    await poll(() => ![...k.links.values()].some((l) => l.name === 'vxlan.calico'), { what: 'device removed' });
    // Make before break: the routes left the device before it was deleted.
    const order = k.log.map((r) => `${r.kind}.${r.op}`);
    expect(order.indexOf('link.del')).toBeGreaterThan(order.lastIndexOf('route.del'));
    await f.stop();
  });
});
