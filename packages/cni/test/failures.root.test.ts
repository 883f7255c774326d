/**
 * Failure injection on a real node through the real client: datastore unreachable (11), pool
 * exhausted (101), host link name taken (103), pod namespace gone (104), the pod interface name
 * taken in the pod (after the allocation: undone). After each, nothing of ours is left: no cali
 * link, no tabby route, no allocation, handle or endpoint. STATUS answers 50 without a datastore.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vethName } from '../src/names.js';
import { CniNode, podArgs, pool } from './cni-fixture.js';

const n = new CniNode();
let used = 0;

beforeAll(async () => {
  await n.start();
  await n.ds.create(pool('tiny', '10.99.0.0/30', { blockSize: 30 }));
  n.writeConflist('tiny', [n.tabbyConf({ ipv4_pools: ['tiny'] })]);
  n.writeConflist('nods', [n.tabbyConf({}, { etcd_endpoints: `unix://${n.dir}/nothing/localhost:2379` })]);
});

afterAll(async () => {
  await n.stop();
});

async function clean(): Promise<void> {
  expect(await n.caliLinks()).toEqual([]);
  expect(await n.tabbyRoutes()).toEqual([]);
  expect(await n.allocatedCount()).toBe(used);
  expect((await n.endpoints()).length).toBe(used);
}

function env(cmd: string, netns: string, ns: string, pod: string): Record<string, string> {
  return { CNI_COMMAND: cmd, CNI_CONTAINERID: `c-${ns}-${pod}`, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: podArgs(ns, pod) };
}

function conf(name: string, plugin: Record<string, unknown>, cniVersion = '1.0.0'): string {
  return JSON.stringify({ cniVersion, name, ...plugin });
}

describe('ADD failures leave nothing behind', () => {
  it('datastore unreachable: code 11, STATUS 50', async () => {
    const pod = await n.pod();
    const r = await n.plugin('tabby', env('ADD', pod.path, 'f', 'ds'), conf('nods', n.tabbyConf({}, { etcd_endpoints: `unix://${n.dir}/nothing/localhost:2379` })));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 11 });
    await clean();
    const st = await n.plugin('tabby', { CNI_COMMAND: 'STATUS' }, conf('nods', n.tabbyConf({}, { etcd_endpoints: `unix://${n.dir}/nothing/localhost:2379` }), '1.1.0'));
    expect(JSON.parse(st.stdout)).toMatchObject({ code: 50 });
    const ok = await n.plugin('tabby', { CNI_COMMAND: 'STATUS' }, conf('tiny', n.tabbyConf(), '1.1.0'));
    expect(ok.code, ok.stdout).toBe(0);
    const viaTool = await n.cnitool('add', 'nods', pod.path, { CNI_ARGS: podArgs('f', 'ds2') });
    expect(viaTool.code).not.toBe(0);
    await clean();
  });

  it('pool exhausted: code 101 after the pool is full', async () => {
    const pods = [];
    for (let i = 0; i < 4; i++) {
      const pod = await n.pod();
      const r = await n.cnitool('add', 'tiny', pod.path, { CNI_ARGS: podArgs('f', `t${i}`) });
      expect(r.code, r.stderr).toBe(0);
      pods.push({ pod, i });
      used++;
    }
    const pod = await n.pod();
    const r = await n.plugin('tabby', env('ADD', pod.path, 'f', 'full'), conf('tiny', n.tabbyConf({ ipv4_pools: ['tiny'] })));
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 101 });
    expect((await n.caliLinks()).length).toBe(4);
    for (const { pod: p, i } of pods) {
      expect((await n.cnitool('del', 'tiny', p.path, { CNI_ARGS: podArgs('f', `t${i}`) })).code).toBe(0);
      used--;
    }
    await clean();
  });

  it('host link name taken by something else: code 103, nothing allocated', async () => {
    const pod = await n.pod();
    const name = vethName('f', 'taken');
    await n.node.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', 'takenpeer');
    const r = await n.plugin('tabby', env('ADD', pod.path, 'f', 'taken'), conf('tiny', n.tabbyConf({ ipv4_pools: ['tiny'] })));
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 103 });
    await n.node.ip('link', 'del', name);
    await clean();
  });

  it('pod namespace gone: code 104', async () => {
    const r = await n.plugin('tabby', env('ADD', `/var/run/netns/${n.net.prefix}gone`, 'f', 'gone'), conf('tiny', n.tabbyConf({ ipv4_pools: ['tiny'] })));
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 104 });
    await clean();
  });

  it('pod interface name taken inside the pod (fails after allocation): undone', async () => {
    const pod = await n.pod();
    await pod.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'x0');
    const r = await n.cnitool('add', 'tiny', pod.path, { CNI_ARGS: podArgs('f', 'ifname') });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/already exists/);
    await clean();
  });

  it('bad env and bad config: codes 4, 6, 7', async () => {
    const pod = await n.pod();
    const noId = await n.plugin('tabby', { CNI_COMMAND: 'ADD', CNI_NETNS: pod.path, CNI_IFNAME: 'eth0' }, conf('tiny', n.tabbyConf()));
    expect(JSON.parse(noId.stdout)).toMatchObject({ code: 4 });
    const notJson = await n.plugin('tabby', env('ADD', pod.path, 'f', 'x'), '{nope');
    expect(JSON.parse(notJson.stdout)).toMatchObject({ code: 6 });
    const badMtu = await n.plugin('tabby', env('ADD', pod.path, 'f', 'x'), conf('tiny', n.tabbyConf({}, { mtu: 10 })));
    expect(JSON.parse(badMtu.stdout)).toMatchObject({ code: 7, msg: expect.stringMatching(/mtu/) });
    await clean();
  });
});
