/**
 * Pod facts from the Kubernetes API (`kubernetes.kubeconfig`): Calico's ipv4pools / ipAddrs
 * annotations choose the pool or the address, the pod's labels and service account reach the
 * WorkloadEndpoint. The API is testkit's fake API server (real HTTP, merge-patch of the pod's
 * annotations), reached from the node namespace's loopback through a unix-socket forwarder.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadEndpoint } from '@tabby/api';
import { kubeconfigFor, kubeRequest, poll, startFakeApiServer, UNIX_FORWARD, type FakeApiServer } from '@tabby/testkit';
import { CniNode, podArgs, pool } from './cni-fixture.js';

const n = new CniNode();
let api: FakeApiServer;
let kubeconfig = '';
const podAnnotations = async (name: string): Promise<Record<string, string>> =>
  (await kubeRequest<{ metadata: { annotations?: Record<string, string> } }>(api.url, 'GET', `/api/v1/namespaces/shop/pods/${name}`)).metadata.annotations ?? {};

beforeAll(async () => {
  await n.start();
  await n.ds.create(pool('default-pool', '10.248.0.0/16'));
  await n.ds.create(pool('blue', '10.249.0.0/16'));
  api = await startFakeApiServer({ socketPath: join(n.dir, 'kube-api.sock') });
  await kubeRequest(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'shop', labels: { team: 'a' } } });
  const pods = [
    { metadata: { name: 'blue-pod', labels: { app: 'web' }, annotations: { 'cni.projectcalico.org/ipv4pools': '["blue"]' } }, spec: { serviceAccountName: 'shopper' } },
    { metadata: { name: 'agent-pod', labels: { app: 'api' }, annotations: { 'cni.projectcalico.org/ipv4pools': '["blue"]' } }, spec: {} },
    { metadata: { name: 'fixed', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.248.7.7"]' } }, spec: {} },
  ];
  for (const p of pods) await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/pods', p);
  const fwd = n.net.spawn(n.node, process.execPath, [UNIX_FORWARD, '127.0.0.1', '18443', join(n.dir, 'kube-api.sock')]);
  await poll(() => fwd.output.includes('ready'), { timeout: 20_000, what: 'the API forwarder' });
  kubeconfig = join(n.dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor('http://127.0.0.1:18443'));
  n.writeConflist('k8s', [n.tabbyConf({}, { kubernetes: { kubeconfig } })]);
});

afterAll(async () => {
  await n.stop();
  await api?.close();
});

describe('pod annotations and labels from the Kubernetes API', () => {
  it('ipv4pools picks the pool; labels and service account reach the endpoint', async () => {
    const pod = await n.pod();
    const r = await n.cnitool('add', 'k8s', pod.path, { CNI_ARGS: podArgs('shop', 'blue-pod') });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect((JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]!.address).toMatch(/^10\.249\./);
    const wep = (await n.ds.list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint', namespace: 'shop' })).items[0]!;
    expect(wep.metadata.labels).toMatchObject({ app: 'web', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/serviceaccount': 'shopper' });
    expect(wep.spec.profiles).toEqual(['kns.shop', 'ksa.shop.shopper']);
    expect((await n.cnitool('del', 'k8s', pod.path, { CNI_ARGS: podArgs('shop', 'blue-pod') })).code).toBe(0);
  });

  it('ipAddrs assigns that exact address', async () => {
    const pod = await n.pod();
    const r = await n.cnitool('add', 'k8s', pod.path, { CNI_ARGS: podArgs('shop', 'fixed') });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect((JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]!.address).toBe('10.248.7.7/32');
    expect((await n.cnitool('del', 'k8s', pod.path, { CNI_ARGS: podArgs('shop', 'fixed') })).code).toBe(0);
    expect(await n.allocatedCount()).toBe(0);
  });

  it('ADD records the pod\'s addresses and sandbox in its annotations; DEL empties the addresses', async () => {
    const pod = await n.pod();
    const r = await n.cnitool('add', 'k8s', pod.path, { CNI_ARGS: podArgs('shop', 'blue-pod') });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const ip = (JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]!.address;
    const ann = await podAnnotations('blue-pod');
    expect(ann['cni.projectcalico.org/podIP']).toBe(ip);
    expect(ann['cni.projectcalico.org/podIPs']).toBe(ip);
    expect(ann['cni.projectcalico.org/containerID']).toMatch(/./);
    expect(ann['cni.projectcalico.org/ipv4pools']).toBe('["blue"]'); // the user's annotations stay
    expect((await n.cnitool('del', 'k8s', pod.path, { CNI_ARGS: podArgs('shop', 'blue-pod') })).code).toBe(0);
    expect(await podAnnotations('blue-pod')).toMatchObject({ 'cni.projectcalico.org/podIP': '', 'cni.projectcalico.org/podIPs': '' });
  });

  it('through the node agent, the conflist\'s kubeconfig gives the pod\'s facts too', async () => {
    const socket = await n.startAgent();
    n.writeConflist('k8s-agent', [n.tabbyConf({}, { kubernetes: { kubeconfig }, agent_socket: socket })]);
    const pod = await n.pod();
    const r = await n.cnitool('add', 'k8s-agent', pod.path, { CNI_ARGS: podArgs('shop', 'agent-pod') });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(n.agentOutput()).toContain('ADD done');
    const ip = (JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]!.address;
    expect(ip).toMatch(/^10\.249\./); // the ipv4pools annotation, read by the agent
    const wep = (await n.ds.list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint', namespace: 'shop' })).items.find((w) => w.spec.pod === 'agent-pod');
    expect(wep?.metadata.labels).toMatchObject({ app: 'api' });
    expect((await podAnnotations('agent-pod'))['cni.projectcalico.org/podIP']).toBe(ip);
    expect((await n.cnitool('del', 'k8s-agent', pod.path, { CNI_ARGS: podArgs('shop', 'agent-pod') })).code).toBe(0);
  });
});
