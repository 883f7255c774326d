import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlink } from '@tabby/netlink';
import { TestNet, type Netns } from '@tabby/testkit';
import { attachPod, nsSysctl, vethName } from '../src/pod.js';

describe('pod plumbing (DESIGN.md kernel objects)', () => {
  const net = new TestNet();
  let node: Netns;
  let nl: Netlink;
  beforeAll(async () => {
    node = await net.netns('node');
    nl = await Netlink.open({ netns: node.name });
    await nsSysctl(node.name, 'net.ipv4.ip_forward', '1');
    // Proxy ARP answers for 169.254.1.1 only when the node has a unicast route to it through
    // another interface, as a real node's default route provides: give this node one.
    // (this kernel has no dummy module: the uplink is a veth to a namespace of its own)
    const up = await net.netns('up');
    await nl.links.add({ name: 'uplink', info: { kind: 'veth', peer: { name: 'eth0', netns: { name: up.name } } } });
    await nl.links.setUp('uplink', true);
    await nl.routes.add({ dst: '0.0.0.0/0', oif: (await nl.links.get('uplink')).index, scope: 253 });
  });
  afterAll(async () => {
    nl?.close();
    await net.cleanup();
  });

  it('names the host veth cali + 11 hex chars of sha1(namespace.pod)', () => {
    expect(vethName('default', 'web-0')).toMatch(/^cali[0-9a-f]{11}$/);
    expect(vethName('default', 'web-0')).toHaveLength(15);
  });

  it('two pods on one node reach each other through their /32 routes and proxy ARP', async () => {
    const a = await net.netns('pa');
    const b = await net.netns('pb');
    await attachPod(nl, { namespace: 'default', name: 'a', ip: '10.65.0.1', nodeNetns: node.name, podNetns: a.name });
    await attachPod(nl, { namespace: 'default', name: 'b', ip: '10.65.0.2', nodeNetns: node.name, podNetns: b.name });
    const routes = await nl.routes.dump({ protocol: 80 });
    expect(routes.map((r) => r.dst).sort()).toEqual(['10.65.0.1/32', '10.65.0.2/32']);
    const out = await a.exec('ping', '-c1', '-W2', '10.65.0.2');
    expect(out).toContain('1 received');
  });
});
