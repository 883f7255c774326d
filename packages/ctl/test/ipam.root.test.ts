/**
 * `tabbyctl ipam split` and `ipam release --from-report` against a real etcd: golden output,
 * nothing written when a precondition fails, and a report's leaks re-checked before release.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, type IPAMBlock, type IPPool } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { startEtcd, type EtcdServer } from '@tabby/testkit';
import { runWith, type CtlResult } from './harness.js';

let etcd: EtcdServer;
let ds: Datastore;
let tmp: string;
const ctl = (...argv: string[]): Promise<CtlResult> => runWith({ ETCD_ENDPOINTS: etcd.endpoint }, argv);

const pool = (name: string, cidr: string, extra: Partial<IPPool['spec']> = {}): IPPool =>
  ({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name, labels: { team: 'a' } }, spec: { cidr, natOutgoing: true, ...extra } }) as IPPool;

async function withIpam<T>(fn: (ipam: Ipam) => Promise<T>): Promise<T> {
  const ipam = new Ipam({ datastore: ds });
  try {
    return await fn(ipam);
  } finally {
    await ipam.stop();
  }
}

beforeAll(async () => {
  etcd = await startEtcd();
  ds = createEtcdDatastore({ endpoints: etcd.endpoint });
  tmp = mkdtempSync(join(tmpdir(), 'tabbyctl-ipam-'));
  await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: {} });
});

afterAll(async () => {
  await ds?.close();
  await etcd?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('tabbyctl ipam split', () => {
  it('refuses an enabled pool, a bad number and too small parts, writing nothing', async () => {
    await ctl('create', '-f', '-'); // blue, green (enabled)
    await ds.create(pool('wide', '10.50.0.0/16'));
    const { ipv4 } = await withIpam((ipam) => ipam.autoAssign({ handle: 'k8s-pod-network.w1', node: 'n1', num4: 2, pools4: ['wide'] }));
    expect(ipv4).toHaveLength(2);
    const enabled = await ctl('ipam', 'split', '4', '--name=wide');
    expect(enabled).toEqual({ code: 1, out: '', err:
      'IP pool "wide" is enabled; nothing was written.\n' +
      'Disable it first so that no address is allocated from it during the split:\n' +
      `  tabbyctl patch ippool wide -p '{"spec":{"disabled":true}}'\n` });
    await ctl('patch', 'ippool', 'wide', '-p', '{"spec":{"disabled":true}}');
    expect((await ctl('ipam', 'split', '3', '--name', 'wide')).err).toMatch(/^cannot split into 3 pools: the number must be a power of 2/);
    expect((await ctl('ipam', 'split', '4')).code).toBe(2);
    expect((await ctl('ipam', 'split', '4', '--name', 'nope')).err).toBe('no IP pool named "nope"; see tabbyctl get ippools\n');
    const small = await ctl('ipam', 'split', '2048', '--name', 'wide');
    expect(small.code).toBe(2);
    expect(small.err).toMatch(/^cannot split 10\.50\.0\.0\/16 into 2048: .*spec\.cidr: the pool 10\.50\.0\.0\/27 is smaller than one block \(\/26\)/);
    expect((await ds.list<IPPool>({ kind: 'IPPool' })).items.map((p) => p.metadata.name)).toEqual(['blue', 'green', 'wide']);
  });

  it('splits by name and by CIDR; blocks and their allocations stay, each in one child', async () => {
    const r = await ctl('ipam', 'split', '4', '--name', 'wide');
    expect(r).toEqual({ code: 0, err: '', out:
      'IP Pool wide was successfully split into 4 smaller pools.\n' +
      'Created split-wide-0 with CIDR 10.50.0.0/18.\n' +
      'Created split-wide-1 with CIDR 10.50.64.0/18.\n' +
      'Created split-wide-2 with CIDR 10.50.128.0/18.\n' +
      'Created split-wide-3 with CIDR 10.50.192.0/18.\n' });
    expect((await ctl('get', 'ippools', '-o', 'custom-columns=NAME:.metadata.name,CIDR:.spec.cidr,DISABLED:.spec.disabled,NAT:.spec.natOutgoing,TEAM:.metadata.labels.team')).out).toBe(
      'NAME           CIDR             DISABLED   NAT     TEAM\n' +
      'blue           10.10.0.0/16     false      true\n' +
      'green          10.20.0.0/16     false      false\n' +
      'split-wide-0   10.50.0.0/18     false      true    a\n' +
      'split-wide-1   10.50.64.0/18    false      true    a\n' +
      'split-wide-2   10.50.128.0/18   false      true    a\n' +
      'split-wide-3   10.50.192.0/18   false      true    a\n');
    expect((await ctl('ipam', 'show')).out).toContain('| IP Pool  | 10.50.0.0/18   |     16384 |     2 (0%) | 16382 (100%) |');
    expect((await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items.map((b) => b.spec.cidr)).toEqual(['10.50.0.0/26']);
    await ctl('patch', 'ippool', 'split-wide-3', '-p', '{"spec":{"disabled":true}}');
    expect((await ctl('ipam', 'split', '2', '--cidr=10.50.192.0/18')).out).toBe(
      'IP Pool split-wide-3 was successfully split into 2 smaller pools.\n' +
      'Created split-split-wide-3-0 with CIDR 10.50.192.0/19.\n' +
      'Created split-split-wide-3-1 with CIDR 10.50.224.0/19.\n');
    await withIpam((ipam) => ipam.releaseByHandle('k8s-pod-network.w1'));
  });
});

describe('tabbyctl ipam release --from-report', () => {
  it('releases what is still leaked, skips what changed since the report, deletes orphan handles', async () => {
    await ds.create(pool('rel', '10.70.0.0/24', { blockSize: 28 } as Partial<IPPool['spec']>));
    const { ipv4 } = await withIpam((ipam) => ipam.autoAssign({ handle: 'k8s-pod-network.gone', node: 'n1', num4: 3, pools4: ['rel'] }));
    const [a, b, c] = ipv4 as [string, string, string];
    await ds.create({ apiVersion: API_VERSION, kind: 'IPAMHandle', metadata: { name: 'orphan' }, spec: { handleID: 'orphan', block: { '10.70.0.0/28': 1 }, deleted: false } });
    const report = join(tmp, 'r1.json');
    expect((await ctl('ipam', 'check', '-o', report)).code).toBe(0);
    const written = JSON.parse(readFileSync(report, 'utf8')) as { createdAt: string; leaked: { ip: string }[] };
    expect(written.createdAt).toMatch(/^\d{4}-/);
    // Since the report: a workload claims `a`; `b` is freed and handed to another pod.
    await ds.create({ apiVersion: API_VERSION, kind: 'WorkloadEndpoint', metadata: { name: 'n1-k8s-p1-eth0', namespace: 'default' }, spec: { node: 'n1', pod: 'p1', ipNetworks: [`${a}/32`], interfaceName: 'cali1', containerID: 'live1' } });
    await withIpam(async (ipam) => {
      await ipam.releaseIps([b]);
      await ipam.assignIp({ ip: b, handle: 'k8s-pod-network.new', node: 'n1' });
    });
    const r = await ctl('ipam', 'release', '--from-report', report);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      'Releasing 1 old IPs...\n' +
      'Released 1 IPs successfully\n' +
      'Skipped 2 addresses:\n' +
      `  ${a}: no longer leaked (a live workload has it, or it is free already)\n` +
      `  ${b}: reallocated (now handle k8s-pod-network.new)\n` +
      'Deleting 1 handles...\n' +
      'Released 1 handles; 0 skipped (changed or gone since the report).\n');
    expect((await ctl('ipam', 'show', '--ip', c)).out).toBe(`${c} is not assigned\n`);
    expect((await ctl('ipam', 'show', '--ip', a)).out).toMatch(/is in use/);
    expect((await ctl('ipam', 'show', '--ip', b)).out).toMatch(/^IP [\d.]+ is in use\nHandle ID: k8s-pod-network.new\nActive Owner Attributes:\n {2}node: n1\n {2}timestamp: /);
    // Again: nothing left to do.
    const again = await ctl('ipam', 'release', '--from-report', report);
    expect(again.out).toMatch(/^Releasing 0 old IPs...\nReleased 0 IPs successfully\nSkipped 3 addresses:\n/);
    expect(again.out).toMatch(/Released 0 handles; 1 skipped/);
  });

  it('with several reports releases only what all mark as leaked; rejects a file that is no report', async () => {
    await withIpam((ipam) => ipam.releaseByHandle('k8s-pod-network.new'));
    const { ipv4 } = await withIpam((ipam) => ipam.autoAssign({ handle: 'k8s-pod-network.old', node: 'n1', num4: 1, pools4: ['rel'] }));
    const r1 = join(tmp, 'm1.json');
    await ctl('ipam', 'check', '-o', r1);
    const { ipv4: later } = await withIpam((ipam) => ipam.autoAssign({ handle: 'k8s-pod-network.young', node: 'n1', num4: 1, pools4: ['rel'] }));
    const r2 = join(tmp, 'm2.json');
    await ctl('ipam', 'check', '-o', r2);
    const r = await ctl('ipam', 'release', '--from-report', r1, '--from-report', r2);
    expect(r.out).toMatch(/^Releasing 1 old IPs...\nReleased 1 IPs successfully\n/);
    expect((await ctl('ipam', 'show', '--ip', ipv4[0]!)).out).toMatch(/is not assigned/);
    expect((await ctl('ipam', 'show', '--ip', later[0]!)).out).toMatch(/is in use/);
    const bogus = join(tmp, 'bogus.json');
    writeFileSync(bogus, '{"hello": 1}');
    expect(await ctl('ipam', 'release', '--from-report', bogus)).toEqual({ code: 3, out: '', err:
      `--from-report ${bogus}: not a report of 'tabbyctl ipam check -o FILE' (needs "leaked" and "orphanHandles" lists); nothing was released\n` });
    expect((await ctl('ipam', 'release', '--ip', 'nonsense')).code).toBe(2);
    expect((await ctl('ipam', 'release', '--ip', '10.99.0.1')).err).toBe('IP address 10.99.0.1 is not assigned\n');
  });
});
