// Root test: tabby-node in Kubernetes datastore mode on two node namespaces, against the fake
// Kubernetes API server. The server runs in this process on a unix socket (and 127.0.0.1 for
// the test's own IPAM); a forwarder in the fabric namespace gives the nodes a TCP address on
// their segment. Pods are added as kubelet + CNI would leave them (veth, IPAM address, the Pod
// object with status.podIPs); a networking.k8s.io NetworkPolicy created in the API server is
// then enforced by felix's iptables, and a pod's (or its Namespace's) label change flips the verdict.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesDatastore, type KubernetesDatastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { kubeconfigFor, kubeRequest, poll, run, startFakeApiServer, TestNet, UNIX_FORWARD, type FakeApiServer, type Netns, type Proc } from '@tabby/testkit';
import { Fabric, type FabricNode } from '../src/fabric.js';
import { plumbPod } from '../src/pod.js';
import { spawnTabbyNode, untilReady } from '../src/agent-proc.js';

const isRoot = process.getuid?.() === 0;
const API_PORT = 6443;

interface Pod {
  name: string;
  ip: string;
  netns: Netns;
  node: FabricNode;
  labels: Record<string, string>;
}

describe.skipIf(!isRoot)('tabby-node, Kubernetes datastore: endpoints from Pods, policy from NetworkPolicies', () => {
  const net = new TestNet();
  const dir = mkdtempSync(join(tmpdir(), 'tabby-node-k8s-'));
  let api: FakeApiServer;
  let store: KubernetesDatastore;
  let ipam: Ipam;
  let fabric: Fabric;
  let nodes: FabricNode[];
  const pods = new Map<string, Pod>();
  const agents: Proc[] = [];

  const podObject = (p: Pod): Record<string, unknown> => ({
    metadata: { name: p.name, namespace: 'shop', labels: p.labels },
    spec: { nodeName: p.node.name, serviceAccountName: 'default', containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
  });

  /** What kubelet + the CNI plugin leave behind: address, veth, and the Pod with its IP. */
  const addPod = async (node: FabricNode, name: string, labels: Record<string, string>): Promise<Pod> => {
    const netns = await net.netns(`${name.slice(0, 3)}`);
    const { ipv4 } = await ipam.autoAssign({ handle: `k8s-pod-network.shop.${name}`, node: node.name, num4: 1, attrs: { namespace: 'shop', pod: name } });
    const ip = ipv4[0]!;
    await plumbPod(node.nl, { namespace: 'shop', name, ip, nodeNetns: node.netns.name, podNetns: netns.name });
    const pod = { name, ip, netns, node, labels };
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/pods', podObject(pod));
    pods.set(name, pod);
    return pod;
  };

  const ping = async (from: Pod, to: Pod): Promise<boolean> => {
    try {
      await run('ping', ['-c', '1', '-W', '1', to.ip], { netns: from.netns.name });
      return true;
    } catch {
      return false;
    }
  };
  const reaches = (from: string, to: string, want: boolean, what: string): Promise<unknown> =>
    poll(async () => (await ping(pods.get(from)!, pods.get(to)!)) === want, { what, timeout: 30_000 });

  beforeAll(async () => {
    api = await startFakeApiServer({ socketPath: join(dir, 'api.sock') });
    store = await createKubernetesDatastore({ server: api.url });
    ipam = new Ipam({ datastore: store });
    fabric = await Fabric.create(net, '10.207.0');
    nodes = [await fabric.addNode('ka', 1), await fabric.addNode('kb', 2)];
    const fwd = net.spawn(fabric.netns, process.execPath, [UNIX_FORWARD, fabric.gateway, String(API_PORT), join(dir, 'api.sock')]);
    await untilReady(fwd, 'API forwarder');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(`http://${fabric.gateway}:${API_PORT}`));
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'shop', labels: { team: 'red' } } });
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/serviceaccounts', { metadata: { name: 'default' } });
    const env = { ...process.env, CALICO_IPV4POOL_CIDR: '10.247.0.0/16', CALICO_IPV4POOL_IPIP: 'Never', CALICO_IPV4POOL_VXLAN: 'Never' };
    for (const n of nodes) {
      const args = ['--datastore-type', 'kubernetes', '--kubeconfig', kubeconfig, '--fallback-timeout', '2'];
      agents.push(spawnTabbyNode(net, n, { etcd: undefined, runDir: join(dir, n.name), env, args }));
    }
    for (const [i, p] of agents.entries()) await untilReady(p, `tabby-node on ${nodes[i]!.name}`);
    await addPod(nodes[1]!, 'server', { app: 'server' });
    await addPod(nodes[0]!, 'client', { role: 'client' });
    await addPod(nodes[0]!, 'other', { role: 'other' });
  }, 180_000);

  afterAll(async () => {
    await ipam?.idle();
    await store?.close();
    fabric?.close();
    await net.cleanup();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the Nodes and the default pool through the Kubernetes API', async () => {
    const list = await kubeRequest<{ items: { metadata: { name: string } }[] }>(api.url, 'GET', '/api/v1/nodes');
    expect(list.items.map((n) => n.metadata.name).sort()).toEqual(['ka', 'kb']);
    expect((await store.list({ kind: 'IPPool' })).items.map((p) => p.metadata.name)).toEqual(['default-ipv4-ippool']);
  });

  it('without a policy, pods reach each other across nodes (endpoints from Pods, kns. profile allows)', async () => {
    await reaches('client', 'server', true, 'client → server');
    await reaches('other', 'server', true, 'other → server');
  }, 90_000);

  it('a Kubernetes NetworkPolicy is enforced by iptables: client allowed, other blocked', async () => {
    await kubeRequest(api.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', {
      metadata: { name: 'server-from-clients' },
      spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] },
    });
    await reaches('other', 'server', false, 'other → server blocked');
    await reaches('client', 'server', true, 'client → server still allowed');
    const rules = await run('iptables-save', ['-t', 'filter'], { netns: nodes[1]!.netns.name });
    expect(rules).toMatch(/^:cali-pi-/m);
  }, 90_000);

  it("changing a pod's labels changes the verdict", async () => {
    const other = pods.get('other')!;
    const client = pods.get('client')!;
    other.labels = { role: 'client' };
    await kubeRequest(api.url, 'PUT', '/api/v1/namespaces/shop/pods/other', podObject(other));
    await reaches('other', 'server', true, 'relabelled other → server allowed');
    client.labels = { role: 'gone' };
    await kubeRequest(api.url, 'PUT', '/api/v1/namespaces/shop/pods/client', podObject(client));
    await reaches('client', 'server', false, 'relabelled client → server blocked');
  }, 90_000);

  it("a namespaceSelector peer follows the Namespace's labels (kns. profile, pcns. labels)", async () => {
    await kubeRequest(api.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', {
      metadata: { name: 'server-from-blue' },
      spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }] },
    });
    await reaches('client', 'server', false, 'client (role=gone) still blocked while shop is team=red');
    await kubeRequest(api.url, 'PUT', '/api/v1/namespaces/shop', { metadata: { name: 'shop', labels: { team: 'blue' } } });
    await reaches('client', 'server', true, 'client allowed once its namespace is team=blue');
    await kubeRequest(api.url, 'DELETE', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/server-from-blue');
    await reaches('client', 'server', false, 'client blocked again without the namespace rule');
  }, 90_000);

  it('deleting the NetworkPolicy opens the server again', async () => {
    await kubeRequest(api.url, 'DELETE', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/server-from-clients');
    await reaches('client', 'server', true, 'client → server after the policy is gone');
  }, 60_000);
});
