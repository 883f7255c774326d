/**
 * tabbyctl against a real etcd, in process (`runCtl` with captured output): every verb and
 * output format, compared with golden text; invalid input rejected with file, document and
 * field before anything is written; exit codes.
 */
import { fileURLToPath } from 'node:url';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { startEtcd, type EtcdServer } from '@tabby/testkit';
import { runCtl } from '../src/main.js';

const fx = (p: string): string => fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url));
let etcd: EtcdServer;
let ds: Datastore;
let tmp: string;

async function ctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCtl(argv, { out: (t) => (out += t), err: (t) => (err += t), stdin: () => readFileSync(fx('pools.yaml'), 'utf8'), env: { ETCD_ENDPOINTS: etcd.endpoint } });
  return { code, out, err };
}

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
    expect(j.kind).toBe('List');
    expect(j.items).toHaveLength(2);
    expect((await ctl('get', 'networkpolicies', '-A')).out).toBe('NAMESPACE   NAME\nshop        allow-web\n');
    expect((await ctl('get', 'networkpolicies')).out).toBe('NAME\n');
    expect((await ctl('get', 'networkpolicy', 'allow-web', '-n', 'shop', '-o', 'custom-columns=SEL:.spec.selector')).out).toBe("SEL\napp == 'web'\n");
    expect((await ctl('get', 'bgppeers')).out).toBe('NAME   PEERIP       NODE   ASN\ntor    172.16.0.1          65000\n');
    expect((await ctl('get', 'ippool', 'nope')).code).toBe(1);
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
    await ctl('patch', 'ippool', 'blue', '-p', '{"spec":{"disabled":false}}');
    const ipam = new Ipam({ datastore: ds });
    const { ipv4 } = await ipam.autoAssign({ handle: 'k8s-pod-network.c1', node: 'n1', num4: 3, attrs: { namespace: 'a', pod: 'p' } });
    await ipam.stop();
    const show = await ctl('ipam', 'show');
    expect(show.out).toBe(
      '+----------+--------------+-----------+------------+--------------+\n' +
      '| GROUPING | CIDR         | IPS TOTAL | IPS IN USE | IPS FREE     |\n' +
      '+----------+--------------+-----------+------------+--------------+\n' +
      '| IP Pool  | 10.10.0.0/16 | 65536     | 3 (0%)     | 65533 (100%) |\n' +
      '+----------+--------------+-----------+------------+--------------+\n');
    expect((await ctl('ipam', 'show', '--show-blocks')).out).toMatch(/\| Block +\| 10\.10\.[\d.]+\/26 +\| 64 +\| 3 \(5%\) +\| 61 \(95%\) +\|/);
    expect((await ctl('ipam', 'show', '--ip', ipv4[0]!)).out).toMatch(new RegExp(`^IP ${ipv4[0]} is in use\nAttributes:\n  handle: k8s-pod-network.c1\n  namespace: a\n  pod: p\n  node: n1\n`));
    expect((await ctl('ipam', 'configure', '--strictaffinity=true', '--max-blocks-per-host=4')).code).toBe(0);
    expect((await ctl('ipam', 'show', '--show-configuration')).out).toContain('| StrictAffinity   | true  |');
    const report = join(tmp, 'report.json');
    const chk = await ctl('ipam', 'check', '-o', report);
    expect(chk.out).toContain('Found 3 leaked addresses');
    expect(JSON.parse(readFileSync(report, 'utf8')).leaked).toHaveLength(3);
    expect((await ctl('ipam', 'release', '--ip', ipv4[0]!)).code).toBe(0);
    expect((await ctl('ipam', 'show', '--ip', ipv4[0]!)).out).toBe(`IP ${ipv4[0]} is not assigned\n`);
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
