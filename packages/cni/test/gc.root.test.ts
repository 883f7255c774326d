/**
 * GC and STATUS (CNI 1.1), called as a runtime calls them (cnitool of this libcni version has
 * neither): GC keeps the attachments the runtime lists and releases the rest on this node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadEndpoint } from '@tabby/api';
import { CniNode, podArgs, pool } from './cni-fixture.js';

const n = new CniNode();

beforeAll(async () => {
  await n.start();
  await n.ds.create(pool('v4', '10.247.0.0/16'));
  n.writeConflist('gcnet', [n.tabbyConf()]);
});

afterAll(async () => {
  await n.stop();
});

describe('GC', () => {
  it('releases what the runtime no longer lists; keeps the rest', async () => {
    const pods = [await n.pod(), await n.pod()];
    for (const [i, p] of pods.entries()) expect((await n.cnitool('add', 'gcnet', p.path, { CNI_ARGS: podArgs('gc', `p${i}`) })).code).toBe(0);
    const weps = (await n.ds.list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint', namespace: 'gc' })).items;
    const keep = weps.find((w) => w.spec.pod === 'p0')!.spec.containerID!;
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'gcnet', ...n.tabbyConf(), 'cni.dev/valid-attachments': [{ containerID: keep, ifname: 'eth0' }] });
    const r = await n.plugin('tabby', { CNI_COMMAND: 'GC' }, conf);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const left = (await n.ds.list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint', namespace: 'gc' })).items;
    expect(left.map((w) => w.spec.pod)).toEqual(['p0']);
    expect(await n.handles()).toEqual([`gcnet.${keep}`]);
    expect(await n.allocatedCount()).toBe(1);
    expect((await n.cnitool('del', 'gcnet', pods[0]!.path, { CNI_ARGS: podArgs('gc', 'p0') })).code).toBe(0);
    expect(await n.allocatedCount()).toBe(0);
  });

  it('GC and STATUS need cniVersion 1.1.0 (code 1 otherwise)', async () => {
    const r = await n.plugin('tabby', { CNI_COMMAND: 'STATUS' }, JSON.stringify({ cniVersion: '1.0.0', name: 'gcnet', ...n.tabbyConf() }));
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 1 });
  });
});

describe('tabby-ipam under another plugin', () => {
  // ptp cannot take a /32 (it deletes the subnet route a shorter prefix would have made); bridge can.
  it("Debian's bridge with ipam tabby-ipam: ADD allocates, CHECK and DEL release", async () => {
    n.writeConflist('ptpnet', [{ type: 'bridge', bridge: 'tbr0', etcd_endpoints: n.etcd.endpoint, nodename: 'node1', agent_socket: '', ipam: { type: 'tabby-ipam' } }]);
    const pod = await n.pod();
    const add = await n.cnitool('add', 'ptpnet', pod.path, { CNI_ARGS: podArgs('ptp', 'a') });
    expect(add.code, add.stderr + add.stdout).toBe(0);
    const res = JSON.parse(add.stdout) as { ips: { address: string }[] };
    expect(res.ips[0]!.address).toMatch(/^10\.247\.\d+\.\d+\/32$/);
    expect((await n.handles()).filter((h) => h.startsWith('ptpnet.'))).toHaveLength(1);
    // bridge's own CHECK wants a gateway IPAM never gives (Calico's IPAM neither): CHECK
    // tabby-ipam directly, as bridge would delegate it.
    const cid = (await n.handles()).find((h) => h.startsWith('ptpnet.'))!.slice('ptpnet.'.length);
    const conf = (prev: unknown): string => JSON.stringify({ cniVersion: '1.0.0', name: 'ptpnet', type: 'bridge', etcd_endpoints: n.etcd.endpoint, nodename: 'node1', agent_socket: '', ipam: { type: 'tabby-ipam' }, prevResult: prev });
    const env = { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: cid, CNI_IFNAME: 'eth0', CNI_NETNS: pod.path };
    expect((await n.plugin('tabby-ipam', env, conf(res))).code).toBe(0);
    const wrong = await n.plugin('tabby-ipam', env, conf({ cniVersion: '1.0.0', ips: [{ address: '10.247.255.1/32' }] }));
    expect(JSON.parse(wrong.stdout)).toMatchObject({ code: 107 });
    expect((await n.cnitool('del', 'ptpnet', pod.path, { CNI_ARGS: podArgs('ptp', 'a') })).code).toBe(0);
    expect(await n.allocatedCount()).toBe(0);
    expect(await n.endpoints()).toEqual([]);
  });
});
