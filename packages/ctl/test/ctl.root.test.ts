/**
 * tabbyctl against a real etcd, in process (`runCtl` with captured output): every verb and
 * output format, compared with golden text; invalid input rejected with file, document and
 * field before anything is written; exit codes.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, nthAddress, type IPAMBlock } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { startEtcd, type EtcdServer } from '@tabby/testkit';
import { fx, runWith, type CtlResult } from './harness.js';
let etcd: EtcdServer;
let ds: Datastore;
let tmp: string;

const ctl = (...argv: string[]): Promise<CtlResult> => runWith({ ETCD_ENDPOINTS: etcd.endpoint }, argv);

beforeAll(async () => {
  etcd = await startEtcd();
  ds = createEtcdDatastore({ endpoints: etcd.endpoint });
  tmp = mkdtempSync(join(tmpdir(), 'tabbyctl-'));
});

afterAll(async () => {
  await ds?.close();
  await etcd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('tabbyctl', () => {
  it('validate rejects a bad document with file, index and field; create writes nothing then', async () => {
    const v = await ctl('validate', '-f', fx('bad.yaml'));
    expect(v.code).toBe(3);
    expect(v.err).toBe(`invalid input, nothing was written:\n  ${fx('bad.yaml')}: document 2 (IPPool "bad-pool"): spec.blockSize: 33 is outside 20-32\n`);
    const c = await ctl('create', '-f', fx('pools.yaml'), '-f', fx('bad.yaml'));
    expect(c.code).toBe(3);
    expect((await ds.list({ kind: 'IPPool' })).items).toEqual([]);
    expect(await ctl('validate', '-f', fx('pools.yaml'))).toEqual({ code: 0, out: 'Successfully validated 2 resource(s)\n', err: '' });
  });

  it('create from a file, a directory (-R) and stdin; get in every format', async () => {
    expect(await ctl('create', '-f', fx('pools.yaml'))).toEqual({ code: 0, out: 'Successfully created 2 resource(s)\n', err: '' });
    expect((await ctl('create', '-f', fx('dir'), '-R')).out).toBe('Successfully created 2 resource(s)\n');
    const again = await ctl('create', '-f', '-');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^Failed to create any resources:\n {2}IPPool "blue": /);
    expect((await ctl('get', 'ippools')).out).toBe(
      'NAME    CIDR           SELECTOR\n' +
      'blue    10.10.0.0/16   all()\n' +
      'green   10.20.0.0/16   all()\n');
    expect((await ctl('get', 'ippools', '-o', 'wide')).out).toBe(
      'NAME    CIDR           NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR\n' +
      'blue    10.10.0.0/16   true    Always     Never       false      false              all()\n' +
      'green   10.20.0.0/16   false   Never      Never       false      false              all()\n');
    expect((await ctl('get', 'pool', 'green', '-o', 'custom-columns=N:.metadata.name,BS:.spec.blockSize')).out).toBe('N       BS\ngreen   24\n');
    const y = await ctl('get', 'ippool', 'blue', '-o', 'yaml');
    expect(y.out).toMatch(/^---\napiVersion: projectcalico.org\/v3\nkind: IPPool\nmetadata:\n {2}name: blue\n/);
    expect(y.out).not.toMatch(/resourceVersion/);
    const j = JSON.parse((await ctl('get', 'ippools', '-o', 'json')).out) as { kind: string; items: unknown[] };
    expect(j.kind).toBe('IPPoolList');
    expect(j.items).toHaveLength(2);
    expect((await ctl('get', 'networkpolicies', '-A')).out).toBe('NAMESPACE   NAME\nshop        allow-web\n');
    expect((await ctl('get', 'networkpolicies')).out).toBe('NAME\n');
    expect((await ctl('get', 'networkpolicy', 'allow-web', '-n', 'shop', '-o', 'custom-columns=SEL:.spec.selector')).out).toBe("SEL\napp == 'web'\n");
    expect((await ctl('get', 'bgppeers')).out).toBe('NAME   PEERIP       NODE       ASN\ntor    172.16.0.1   (global)   65000\n');
    expect((await ctl('get', 'ippool', 'nope')).code).toBe(1);
    expect((await ctl('validate', '-f', fx('dir'))).out).toBe('Successfully validated 1 resource(s)\n'); // no -R: top level only
    expect((await ctl('create', '-f', fx('bgpconfig.yaml'))).code).toBe(0);
    expect((await ctl('get', 'bgpconfigs')).out).toBe('NAME      LOGSEVERITY   MESHENABLED   ASNUMBER\ndefault   Info          false         64513\n');
    expect((await ctl('get', 'bgpconfig', 'default', '-o', 'yaml')).out.replace(/ {2}(uid|creationTimestamp): .*\n/g, '')).toBe(
      '---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n' +
      '  logSeverityScreen: Info\n  nodeToNodeMeshEnabled: false\n  asNumber: 64513\n  listenPort: 179\n');
    const raw = (await ctl('get', 'bgpconfigs', '-o', 'json')).out;
    expect(raw).toMatch(/^\{\n {2}"apiVersion": "projectcalico.org\/v3",\n {2}"items": \[\n {4}\{\n/);
    const list = JSON.parse(raw) as { items: { metadata: Record<string, unknown> }[] };
    for (const i of list.items) for (const k of ['uid', 'creationTimestamp']) delete i.metadata[k];
    expect(list).toEqual({
      apiVersion: 'projectcalico.org/v3',
      items: [{ apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { logSeverityScreen: 'Info', nodeToNodeMeshEnabled: false, asNumber: 64513, listenPort: 179 } }],
      kind: 'BGPConfigurationList',
      metadata: {},
    });
  });

  it('apply, replace, patch, label, delete', async () => {
    expect((await ctl('apply', '-f', fx('pools.yaml'))).out).toBe('Successfully applied 2 resource(s)\n');
    expect((await ctl('replace', '-f', fx('pools.yaml'))).out).toBe('Successfully replaced 2 resource(s)\n');
    expect((await ctl('patch', 'ippool', 'blue', '-p', '{"spec":{"disabled":true}}')).out).toBe("Successfully patched 1 'IPPool' resource\n");
    const badPatch = await ctl('patch', 'ippool', 'blue', '-p', '{"spec":{"blockSize":99}}');
    expect(badPatch.code).toBe(3);
    expect(badPatch.err).toMatch(/spec.blockSize/);
    expect((await ctl('get', 'ippool', 'blue', '-o', 'custom-columns=D:.spec.disabled,BS:.spec.blockSize')).out).toBe('D      BS\ntrue   26\n');
    expect((await ctl('label', 'ippool', 'blue', 'tier=gold')).code).toBe(0);
    expect((await ctl('label', 'ippool', 'blue', 'tier=silver')).code).toBe(1);
    expect((await ctl('label', 'ippool', 'blue', 'tier=silver', '--overwrite')).code).toBe(0);
    expect((await ctl('get', 'ippool', 'blue', '-o', 'custom-columns=T:.metadata.labels.tier')).out).toBe('T\nsilver\n');
    expect((await ctl('label', 'ippool', 'blue', 'tier', '--remove')).code).toBe(0);
    expect((await ctl('delete', 'ippool', 'green')).out).toBe('Successfully deleted 1 resource(s)\n');
    expect((await ctl('delete', 'ippool', 'green')).code).toBe(1);
    expect((await ctl('delete', 'ippool', 'green', '--skip-not-exists')).code).toBe(0);
  });

  it('ipam show, show --ip, --show-blocks, configure, check -o, release', async () => {
    await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: {} });
    await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n2' }, spec: {} });
    await ctl('patch', 'ippool', 'blue', '-p', '{"spec":{"disabled":false}}');
    const ipam = new Ipam({ datastore: ds });
    const { ipv4 } = await ipam.autoAssign({ handle: 'k8s-pod-network.c1', node: 'n1', num4: 2, attrs: { namespace: 'a', pod: 'p' } });
    const block = (await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items[0]!.spec.cidr;
    const borrowed = nthAddress(block, 9);
    await ipam.assignIp({ ip: borrowed, handle: 'k8s-pod-network.c2', node: 'n2', attrs: { namespace: 'b', pod: 'q' } });
    await ipam.stop();
    const show = await ctl('ipam', 'show');
    expect(show.out).toBe(
      '+----------+--------------+-----------+------------+--------------+\n' +
      '| GROUPING | CIDR         | IPS TOTAL | IPS IN USE | IPS FREE     |\n' +
      '+----------+--------------+-----------+------------+--------------+\n' +
      '| IP Pool  | 10.10.0.0/16 |     65536 |     3 (0%) | 65533 (100%) |\n' +
      '+----------+--------------+-----------+------------+--------------+\n');
    expect((await ctl('ipam', 'show', '--show-blocks')).out.split('\n')[4]).toBe(`| Block    | ${block.padEnd(12)} |        64 |     3 (5%) |     61 (95%) |`);
    expect((await ctl('ipam', 'show', '--ip', ipv4[0]!)).out).toMatch(new RegExp(`^IP ${ipv4[0]} is in use\nHandle ID: k8s-pod-network.c1\nActive Owner Attributes:\n  namespace: a\n  node: n1\n  pod: p\n`));
    expect((await ctl('ipam', 'show', '--ip', '10.10.255.255')).out).toBe('10.10.255.255 is not assigned\n');
    const dash = '-'.repeat(borrowed.length + 2);
    const blk = block.padEnd(12);
    expect((await ctl('ipam', 'show', '--show-borrowed')).out).toBe(
      `+${dash}+----------------+--------------+-------------+------+--------------+\n` +
      `| ${'IP'.padEnd(borrowed.length)} | BORROWING-NODE | BLOCK        | BLOCK OWNER | TYPE | ALLOCATED-TO |\n` +
      `+${dash}+----------------+--------------+-------------+------+--------------+\n` +
      `| ${borrowed} | n2             | ${blk} | n1          | pod  | b/q          |\n` +
      `+${dash}+----------------+--------------+-------------+------+--------------+\n`);
    expect((await ctl('ipam', 'configure', '--strictaffinity=true', '--max-blocks-per-host=4')).out).toBe('Successfully set IPAM configuration\n');
    expect((await ctl('ipam', 'show', '--show-configuration')).out).toBe(
      '+--------------------+-------+\n' +
      '| PROPERTY           | VALUE |\n' +
      '+--------------------+-------+\n' +
      '| StrictAffinity     | true  |\n' +
      '| AutoAllocateBlocks | true  |\n' +
      '| MaxBlocksPerHost   | 4     |\n' +
      '+--------------------+-------+\n');
    const report = join(tmp, 'report.json');
    const chk = await ctl('ipam', 'check', '-o', report);
    expect(chk.out).toContain('Found 3 leaked addresses');
    expect(JSON.parse(readFileSync(report, 'utf8')).leaked).toHaveLength(3);
    expect((await ctl('ipam', 'release', '--ip', ipv4[0]!)).code).toBe(0);
    expect((await ctl('ipam', 'show', '--ip', ipv4[0]!)).out).toBe(`${ipv4[0]} is not assigned\n`);
  });

  it('node status without a socket: exit 4; usage errors: exit 2; help and completion', async () => {
    const st = await ctl('node', 'status', '--socket', join(tmp, 'none.sock'));
    expect(st.code).toBe(4);
    expect(st.err).toMatch(/status socket does not answer .*none\.sock/);
    expect((await ctl('get')).code).toBe(2);
    expect((await ctl('frobnicate')).code).toBe(2);
    expect((await ctl('get', 'ippools', '--bogus')).code).toBe(2);
    const h = await ctl('get', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toContain('Examples:');
    expect((await ctl('completion', 'bash')).out).toContain('complete -F _tabbyctl tabbyctl');
    expect((await ctl('policy', 'trace', 'a', 'b')).code).toBe(1);
  });
});
