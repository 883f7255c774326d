/**
 * ADD undoes everything it did when any step fails (fake dataplane, memory datastore): after a
 * failure at each step there is no link, no allocation, no handle, no endpoint, and the error
 * carries the spec's code. No root, no network.
 */
import { describe, expect, it } from 'vitest';
import { API_VERSION } from '@tabby/api';
import { MemoryDatastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { cmdAdd, type AddStep } from '../src/add.js';
import { parseNetConf } from '../src/config.js';
import { silentLogger, type CniCall } from '../src/context.js';
import { cmdDel } from '../src/del.js';
import { parseEnv } from '../src/env.js';
import { CniError } from '../src/errors.js';
import { InProcessIpam } from '../src/ipam-driver.js';
import { vethName } from '../src/names.js';
import { FakeDataplane } from './fake-dataplane.js';
import { pool } from './pool.js';

async function setup(): Promise<{ call: CniCall; ds: MemoryDatastore; dp: FakeDataplane }> {
  const ds = new MemoryDatastore();
  await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: {} });
  await ds.create(pool('p4', '10.9.0.0/24'));
  const dp = new FakeDataplane();
  const conf = parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'tabby', nodename: 'n1', etcd_endpoints: 'x' }));
  const env = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/p', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod' });
  const call: CniCall = { env, conf, c: { datastore: ds, ipam: new InProcessIpam(new Ipam({ datastore: ds })), dataplane: dp, pods: { get: async () => undefined }, logger: silentLogger, hostname: 'h' } };
  return { call, ds, dp };
}

async function leftovers(ds: MemoryDatastore, dp: FakeDataplane): Promise<unknown> {
  const blocks = await ds.list<{ apiVersion: string; kind: string; metadata: { name: string }; spec: { allocations: unknown[] } }>({ kind: 'IPAMBlock' });
  return {
    links: [...dp.links.keys()],
    allocated: blocks.items.flatMap((b) => b.spec.allocations.filter((a) => a !== null)).length,
    handles: (await ds.list({ kind: 'IPAMHandle' })).items.length,
    endpoints: (await ds.list({ kind: 'WorkloadEndpoint' })).items.length,
  };
}

const CLEAN = { links: [], allocated: 0, handles: 0, endpoints: 0 };
const STEPS: AddStep[] = ['netns', 'pod', 'link-name', 'ipam', 'veth', 'configure', 'routes', 'endpoint', 'annotate'];

describe('ADD failure at each step leaves nothing behind', () => {
  for (const step of STEPS) {
    it(`fails before ${step}`, async () => {
      const { call, ds, dp } = await setup();
      await expect(cmdAdd(call, { before: (s) => { if (s === step) throw new Error(`injected at ${s}`); } })).rejects.toThrow(/injected/);
      expect(await leftovers(ds, dp)).toEqual(CLEAN);
    });
  }

  for (const m of ['createVeth', 'configureHost', 'configurePod', 'addHostRoutes'] as const) {
    it(`dataplane ${m} fails`, async () => {
      const { call, ds, dp } = await setup();
      dp.failOn = m;
      await expect(cmdAdd(call)).rejects.toBeInstanceOf(CniError);
      expect(await leftovers(ds, dp)).toEqual(CLEAN);
    });
  }

  it('the endpoint write fails with the datastore unavailable: code 11, all undone', async () => {
    const { call, ds, dp } = await setup();
    // Injected once IPAM has allocated, so the endpoint's create is the write that fails.
    const err = await cmdAdd(call, { before: (s) => { if (s === 'endpoint') ds.injectFault({ op: 'create', code: 'Unavailable' }); } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect((err as CniError).number).toBe(11);
    expect(await leftovers(ds, dp)).toEqual(CLEAN);
  });

  it('a foreign link with the host name: code 103 before anything is allocated', async () => {
    const { call, ds, dp } = await setup();
    dp.foreign.add(vethName('ns', 'pod'));
    const err = await cmdAdd(call).catch((e: unknown) => e);
    expect((err as CniError).number).toBe(103);
    expect(await leftovers(ds, dp)).toEqual(CLEAN);
  });

  it('ADD then DEL twice leaves nothing', async () => {
    const { call, ds, dp } = await setup();
    const res = await cmdAdd(call);
    expect(res.ips?.[0]?.address).toMatch(/^10\.9\.0\.\d+\/32$/);
    const del = { ...call, env: { ...call.env, command: 'DEL' as const } };
    await cmdDel(del);
    await cmdDel(del);
    expect(await leftovers(ds, dp)).toEqual(CLEAN);
  });

  it('a retried ADD of the same container gets the same address (one allocation)', async () => {
    const { call, ds, dp } = await setup();
    const first = await cmdAdd(call);
    const again = await cmdAdd(call);
    expect(again.ips).toEqual(first.ips);
    expect(await leftovers(ds, dp)).toMatchObject({ allocated: 1, handles: 1, endpoints: 1 });
  });

  it('DEL fails with the datastore unavailable: code 11; a retry then cleans up', async () => {
    const { call, ds, dp } = await setup();
    await cmdAdd(call);
    const del = { ...call, env: { ...call.env, command: 'DEL' as const } };
    ds.injectFault({ op: 'delete', code: 'Unavailable' });
    const err = await cmdDel(del).catch((e: unknown) => e);
    expect((err as CniError).number).toBe(11);
    await cmdDel(del);
    expect(await leftovers(ds, dp)).toEqual(CLEAN);
  });
});
