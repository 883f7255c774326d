/**
 * The plugin as kubelet / containerd call it, through the CNI project's cnitool: ADD, CHECK and
 * DEL for IPv4, IPv6 and dual stack in pod namespaces on a node namespace, with real etcd;
 * pods reach each other and their node; the WorkloadEndpoint and IPAM handle are written and
 * removed; DEL is idempotent; a late DEL of an old sandbox leaves the new one alone.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadEndpoint } from '@tabby/api';
import { poll, type Netns } from '@tabby/testkit';
import { vethName } from '../src/names.js';
import { CniNode, NODE_NAME, NODE_V4, NODE_V6, podArgs, pool } from './cni-fixture.js';

const n = new CniNode();

beforeAll(async () => {
  await n.start();
  await n.ds.create(pool('v4', '10.244.0.0/16'));
  await n.ds.create(pool('v6', 'fd00:244::/112'));
  n.writeConflist('net4', [n.tabbyConf()]);
  n.writeConflist('net6', [n.tabbyConf({ assign_ipv4: 'false', assign_ipv6: 'true' })]);
  n.writeConflist('dual', [n.tabbyConf({ assign_ipv4: 'true', assign_ipv6: 'true' })]);
});

afterAll(async () => {
  await n.stop();
});

interface Added {
  pod: Netns;
  result: { cniVersion: string; interfaces: { name: string; mac?: string; sandbox?: string }[]; ips: { address: string; interface: number }[]; routes: { dst: string }[]; dns: unknown };
  args: string;
}

async function add(network: string, ns: string, name: string): Promise<Added> {
  const pod = await n.pod();
  const args = podArgs(ns, name);
  const r = await n.cnitool('add', network, pod.path, { CNI_ARGS: args });
  expect(r.stderr + r.stdout, 'cnitool add').toMatch(/"cniVersion"/);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return { pod, result: JSON.parse(r.stdout) as Added['result'], args };
}

async function ping(from: Netns, to: string): Promise<void> {
  await poll(async () => {
    await from.exec('ping', '-c', '1', '-W', '1', to);
    return true;
  }, { timeout: 15_000, what: `ping ${to} from ${from.name}` });
}

describe('cnitool ADD / CHECK / DEL', () => {
  it('IPv4: spec-exact result, kernel state, endpoint, reachability, CHECK, DEL (twice)', async () => {
    const a = await add('net4', 'web', 'web-0');
    const host = vethName('web', 'web-0');
    expect(a.result.cniVersion).toBe('1.0.0');
    expect(a.result.interfaces[0]).toEqual({ name: host, mac: 'ee:ee:ee:ee:ee:ee' });
    expect(a.result.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: a.pod.path });
    expect(a.result.ips).toHaveLength(1);
    expect(a.result.ips[0]!.address).toMatch(/^10\.244\.\d+\.\d+\/32$/);
    expect(a.result.ips[0]!.interface).toBe(1);
    expect(a.result.routes).toEqual([{ dst: '0.0.0.0/0' }]);
    const ip = a.result.ips[0]!.address.split('/')[0]!;
    expect(await a.pod.ip('-4', 'route', 'show')).toMatch(/default via 169\.254\.1\.1 dev eth0/);
    expect(await n.node.ip('-4', 'route', 'show', 'proto', '80')).toContain(`${ip} dev ${host} scope link`);
    expect(await n.node.exec('cat', `/proc/sys/net/ipv4/conf/${host}/proxy_arp`)).toBe('1\n');
    const weps = await n.ds.list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint', namespace: 'web' });
    expect(weps.items).toHaveLength(1);
    const wep = weps.items[0]!;
    expect(wep.metadata.name).toBe(`${NODE_NAME}-k8s-web--0-eth0`);
    expect(wep.spec).toMatchObject({ node: NODE_NAME, orchestrator: 'k8s', pod: 'web-0', endpoint: 'eth0', interfaceName: host, ipNetworks: [`${ip}/32`], profiles: ['kns.web', 'ksa.web.default'], mac: a.result.interfaces[1]!.mac });
    expect(wep.spec.containerID).toMatch(/^cnitool-/);
    expect(await n.handles()).toEqual([`net4.${wep.spec.containerID}`]);

    const b = await add('net4', 'web', 'web-1');
    await ping(a.pod, b.result.ips[0]!.address.split('/')[0]!);
    await ping(a.pod, NODE_V4);

    expect((await n.cnitool('check', 'net4', a.pod.path, { CNI_ARGS: a.args })).code).toBe(0);
    // CHECK notices a missing host route.
    await n.node.ip('route', 'del', `${ip}/32`, 'dev', host);
    const bad = await n.cnitool('check', 'net4', a.pod.path, { CNI_ARGS: a.args });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr + bad.stdout).toMatch(/host route .* is missing/);

    for (const x of [a, b]) {
      const d1 = await n.cnitool('del', 'net4', x.pod.path, { CNI_ARGS: x.args });
      expect(d1.code, d1.stderr).toBe(0);
      const d2 = await n.cnitool('del', 'net4', x.pod.path, { CNI_ARGS: x.args });
      expect(d2.code, d2.stderr).toBe(0);
    }
    expect(await n.caliLinks()).toEqual([]);
    expect(await n.tabbyRoutes()).toEqual([]);
    expect(await n.allocatedCount()).toBe(0);
    expect(await n.handles()).toEqual([]);
    expect(await n.endpoints()).toEqual([]);
  });

  it('IPv6: /128, default via the host link-local, reaches a pod and the node', async () => {
    const a = await add('net6', 'v6', 'a');
    const b = await add('net6', 'v6', 'b');
    expect(a.result.ips[0]!.address).toMatch(/^fd00:244::[0-9a-f]+\/128$/);
    expect(a.result.routes).toEqual([{ dst: '::/0' }]);
    expect(await a.pod.ip('-6', 'route', 'show')).toMatch(/default via fe80::ecee:eeff:feee:eeee dev eth0/);
    await ping(a.pod, b.result.ips[0]!.address.split('/')[0]!);
    await ping(a.pod, NODE_V6);
    expect((await n.cnitool('check', 'net6', a.pod.path, { CNI_ARGS: a.args })).code).toBe(0);
    for (const x of [a, b]) expect((await n.cnitool('del', 'net6', x.pod.path, { CNI_ARGS: x.args })).code).toBe(0);
    expect(await n.caliLinks()).toEqual([]);
    expect(await n.allocatedCount()).toBe(0);
  });

  it('dual stack: one address per family on eth0, both reachable', async () => {
    const a = await add('dual', 'ds', 'a');
    const b = await add('dual', 'ds', 'b');
    expect(a.result.ips.map((i) => i.address.includes(':'))).toEqual([false, true]);
    expect(a.result.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    for (const ip of b.result.ips) await ping(a.pod, ip.address.split('/')[0]!);
    await ping(a.pod, NODE_V4);
    await ping(a.pod, NODE_V6);
    expect((await n.cnitool('check', 'dual', a.pod.path, { CNI_ARGS: a.args })).code).toBe(0);
    for (const x of [a, b]) expect((await n.cnitool('del', 'dual', x.pod.path, { CNI_ARGS: x.args })).code).toBe(0);
    expect(await n.caliLinks()).toEqual([]);
    expect(await n.tabbyRoutes()).toEqual([]);
    expect(await n.allocatedCount()).toBe(0);
    expect(await n.endpoints()).toEqual([]);
  });

  it('DEL succeeds with the namespace gone; a late DEL of an old sandbox keeps the new endpoint', async () => {
    const old = await add('net4', 'late', 'p');
    const oldPath = old.pod.path;
    // The old sandbox dies without DEL: its namespace (and with it the veth) goes away.
    execFileSync('ip', ['netns', 'del', old.pod.name]);
    const fresh = await add('net4', 'late', 'p');
    const late = await n.cnitool('del', 'net4', oldPath, { CNI_ARGS: old.args });
    expect(late.code, late.stderr).toBe(0);
    const weps = await n.ds.list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint', namespace: 'late' });
    expect(weps.items).toHaveLength(1);
    expect(await n.caliLinks()).toEqual([vethName('late', 'p')]);
    expect((await n.cnitool('check', 'net4', fresh.pod.path, { CNI_ARGS: fresh.args })).code).toBe(0);
    expect((await n.cnitool('del', 'net4', fresh.pod.path, { CNI_ARGS: fresh.args })).code).toBe(0);
    expect(await n.endpoints()).toEqual([]);
    expect(await n.allocatedCount()).toBe(0);
  });
});
