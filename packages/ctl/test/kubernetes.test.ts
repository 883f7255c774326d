/**
 * tabbyctl on the Kubernetes datastore (the fake API server of @tabby/datastore's tests, which
 * speaks the real HTTP protocol): the datastore chosen by KUBECONFIG, --kubeconfig or a
 * calicoctl.cfg-shaped config file; the resource verbs and ipam verbs with golden output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION } from '@tabby/api';
import { createKubernetesDatastore, type KubernetesDatastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { kubeconfigFor, kubeRequest, startFakeApiServer, type FakeApiServer } from '@tabby/testkit';
import { fx, runWith, type CtlResult } from './harness.js';

let server: FakeApiServer;
let ds: KubernetesDatastore;
let dir: string;
let kubeconfig: string;
const env = (): Record<string, string> => ({ DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig });
const ctl = (...argv: string[]): Promise<CtlResult> => runWith(env(), argv);

beforeAll(async () => {
  server = await startFakeApiServer();
  ds = await createKubernetesDatastore({ server: server.url });
  dir = mkdtempSync(join(tmpdir(), 'tabbyctl-k8s-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor(server.url));
});

afterAll(async () => {
  await ds?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tabbyctl --datastore-type kubernetes', () => {
  it('finds the API server through KUBECONFIG, --kubeconfig, or a CalicoAPIConfig file', async () => {
    expect(await ctl('create', '-f', fx('pools.yaml'))).toEqual({ code: 0, out: 'Successfully created 2 resource(s)\n', err: '' });
    const viaFlag = await runWith({}, ['get', 'ippools', '--datastore-type=kubernetes', '--kubeconfig', kubeconfig]);
    expect(viaFlag.out).toBe('NAME    CIDR           SELECTOR\nblue    10.10.0.0/16   all()\ngreen   10.20.0.0/16   all()\n');
    const cfg = join(dir, 'tabbyctl.yaml');
    writeFileSync(cfg, `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: kubernetes\n  kubeconfig: ${kubeconfig}\n`);
    expect((await runWith({}, ['get', 'ippool', 'green', '-c', cfg, '-o', 'custom-columns=NAME:.metadata.name,BS:.spec.blockSize'])).out).toBe('NAME    BS\ngreen   24\n');
    const direct = await runWith({ DATASTORE_TYPE: 'kubernetes', K8S_API_ENDPOINT: server.url }, ['get', 'ippools', '-o', 'custom-columns=N:.metadata.name']);
    expect(direct.out).toBe('N\nblue\ngreen\n');
  });

  it('explains a configuration that cannot work (exit 2) and an API server that does not answer (exit 4)', async () => {
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n  kubeConfig: /x\n');
    const t = await runWith({}, ['get', 'ippools', '--config', typo]);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(new RegExp(`^config file ${typo}: unknown key spec.kubeConfig \\(known: datastoreType, etcdEndpoints, `));
    const wrongKind = join(dir, 'kind.yaml');
    writeFileSync(wrongKind, 'apiVersion: projectcalico.org/v3\nkind: IPPool\n');
    expect((await runWith({}, ['get', 'ippools', '--config', wrongKind])).err).toBe(`config file ${wrongKind}: kind is IPPool, expected CalicoAPIConfig\n`);
    const missing = await runWith({ DATASTORE_TYPE: 'kubernetes', KUBECONFIG: join(dir, 'none') }, ['get', 'ippools']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^datastore kubernetes \(settings from environment\): kubeconfig .*none: /);
    const dead = await runWith({ DATASTORE_TYPE: 'kubernetes', K8S_API_ENDPOINT: 'http://127.0.0.1:1' }, ['get', 'ippools']);
    expect(dead.code).toBe(4);
    expect(dead.err).toMatch(/^datastore unreachable: Kubernetes list failed: .*is the API server reachable\?/);
  });

  it('apply, replace, patch, label, get -o yaml/json/wide, delete', async () => {
    expect((await ctl('apply', '-f', fx('dir'), '-R')).out).toBe('Successfully applied 2 resource(s)\n');
    expect((await ctl('replace', '-f', fx('pools.yaml'))).out).toBe('Successfully replaced 2 resource(s)\n');
    expect((await ctl('patch', 'ippool', 'blue', '-p', '{"spec":{"natOutgoing":false}}')).out).toBe("Successfully patched 1 'IPPool' resource\n");
    expect((await ctl('label', 'ippool', 'blue', 'tier=gold')).out).toBe("Successfully labeled 1 'IPPool' resource\n");
    expect((await ctl('get', 'ippools', '-o', 'wide')).out).toBe(
      'NAME    CIDR           NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR\n' +
      'blue    10.10.0.0/16   false   Always     Never       false      false              all()\n' +
      'green   10.20.0.0/16   false   Never      Never       false      false              all()\n');
    const y = (await ctl('get', 'networkpolicy', 'allow-web', '-n', 'shop', '-o', 'yaml')).out;
    expect(y.replace(/ {2}(uid|creationTimestamp): .*\n/g, '')).toBe(
      '---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: allow-web\n  namespace: shop\nspec:\n' +
      "  selector: app == 'web'\n  types:\n    - Ingress\n  ingress:\n    - action: Allow\n      protocol: TCP\n      destination:\n        ports:\n          - 80\n  egress: []\n");
    const j = JSON.parse((await ctl('get', 'bgppeers', '-o', 'json')).out) as { kind: string; items: { spec: { peerIP: string } }[] };
    expect(j.kind).toBe('BGPPeerList');
    expect(j.items.map((p) => p.spec.peerIP)).toEqual(['172.16.0.1']);
    expect((await ctl('get', 'felixconfigurations', '-o', 'yaml')).out).toBe('apiVersion: projectcalico.org/v3\nitems: []\nkind: FelixConfigurationList\nmetadata: {}\n');
    expect((await ctl('get', 'networkpolicies', '-A')).out).toBe('NAMESPACE   NAME\nshop        allow-web\n');
    expect((await ctl('delete', '-f', fx('dir'), '-R')).out).toBe('Successfully deleted 2 resource(s)\n');
    expect((await ctl('get', 'networkpolicies', '-A')).out).toBe('NAMESPACE   NAME\n');
  });

  it('ipam show, check, split (no transactions: create, then delete) and release', async () => {
    await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'k1' }, spec: {} });
    const ipam = new Ipam({ datastore: ds });
    const ipv4 = ['10.20.7.1', '10.20.7.2'];
    for (const ip of ipv4) await ipam.assignIp({ ip, handle: 'k8s-pod-network.k', node: 'k1' });
    await ipam.stop();
    expect((await ctl('ipam', 'show', '--show-blocks')).out).toBe(
      '+----------+--------------+-----------+------------+--------------+\n' +
      '| GROUPING | CIDR         | IPS TOTAL | IPS IN USE | IPS FREE     |\n' +
      '+----------+--------------+-----------+------------+--------------+\n' +
      '| IP Pool  | 10.10.0.0/16 |     65536 |     0 (0%) | 65536 (100%) |\n' +
      '| IP Pool  | 10.20.0.0/16 |     65536 |     2 (0%) | 65534 (100%) |\n' +
      '| Block    | 10.20.7.0/24 |       256 |     2 (1%) |    254 (99%) |\n' +
      '+----------+--------------+-----------+------------+--------------+\n');
    // A running pod holds the first address: on the Kubernetes datastore pods are the live workloads.
    await kubeRequest(server.url, 'POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'k1', containers: [] }, status: { podIPs: [{ ip: ipv4[0] }] },
    });
    const report = join(dir, 'report.json');
    expect((await ctl('ipam', 'check', '-o', report)).out).toBe(
      'Checking IPAM for inconsistencies...\nFound 1 IPAM blocks, 2 allocated addresses, 1 handles, 1 nodes.\n' +
      'Found 1 leaked addresses, 0 missing, 0 orphan handles, 0 blocks of gone nodes.\nCheck complete; found 1 problems.\n' +
      `Report written to ${report}\n`);
    await ctl('patch', 'ippool', 'green', '-p', '{"spec":{"disabled":true}}');
    expect((await ctl('ipam', 'split', '2', '--name', 'green')).out).toBe(
      'IP Pool green was successfully split into 2 smaller pools.\nCreated split-green-0 with CIDR 10.20.0.0/17.\nCreated split-green-1 with CIDR 10.20.128.0/17.\n');
    expect((await ctl('ipam', 'release', '--from-report', report)).out).toBe(
      "Releasing 1 old IPs...\nReleased 1 IPs successfully\nReport didn't contain any handles to clean up.\n");
    expect((await ctl('ipam', 'show', '--ip', ipv4[1]!)).out).toBe(`${ipv4[1]} is not assigned\n`);
    expect((await ctl('ipam', 'show', '--ip', ipv4[0]!)).out).toMatch(/ is in use\n/);
  });

  it('writes a networking.k8s.io NetworkPolicy as itself (not its conversion) and deletes it', async () => {
    const path = '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/allow-frontend';
    expect((await ctl('create', '-f', fx('k8s/knp.yaml'))).out).toBe('Successfully created 1 resource(s)\n');
    const stored = await kubeRequest<{ spec: { podSelector: unknown; ingress: unknown[] } }>(server.url, 'GET', path);
    expect(stored.spec.podSelector).toEqual({ matchLabels: { app: 'db' } });
    expect((await ctl('get', 'networkpolicies', '-A')).out).toBe('NAMESPACE   NAME\nshop        knp.default.allow-frontend\n');
    expect((await ctl('get', 'networkpolicy', 'knp.default.allow-frontend', '-n', 'shop', '-o', 'custom-columns=ORDER:.spec.order,SEL:.spec.selector')).out)
      .toBe("ORDER   SEL\n1000    projectcalico.org/orchestrator == 'k8s' && app == 'db'\n");
    expect((await runWith({ ETCD_ENDPOINTS: 'unix:///nonexistent' }, ['get', 'networkpolicies', '-A', '--kubeconfig', kubeconfig, '--datastore-type', 'kubernetes'])).out).toContain('knp.default.allow-frontend');
    const viewDelete = await ctl('delete', 'networkpolicy', 'knp.default.allow-frontend', '-n', 'shop');
    expect(viewDelete).toEqual({ code: 1, out: '', err:
      'cannot delete NetworkPolicy "shop/knp.default.allow-frontend": it is the Kubernetes NetworkPolicy shop/allow-frontend as Calico sees it; ' +
      'change that networking.k8s.io/v1 object instead (tabbyctl delete -f its YAML, or kubectl)\n' });
    expect((await ctl('label', 'networkpolicy', 'knp.default.allow-frontend', '-n', 'shop', 'a=b')).code).toBe(1);
    expect((await ctl('apply', '-f', fx('k8s/knp.yaml'))).out).toBe('Successfully applied 1 resource(s)\n');
    expect((await ctl('replace', '-f', fx('k8s/knp.yaml'))).out).toBe('Successfully replaced 1 resource(s)\n');
    const again = await ctl('create', '-f', fx('k8s/knp.yaml'));
    expect(again.err).toMatch(/^Failed to create any resources:\n {2}networking\.k8s\.io\/v1 NetworkPolicy "shop\/allow-frontend": /);
    expect((await ctl('delete', '-f', fx('k8s/knp.yaml'))).out).toBe('Successfully deleted 1 resource(s)\n');
    await expect(kubeRequest(server.url, 'GET', path)).rejects.toThrow(/HTTP 404/);
    expect((await ctl('delete', '-f', fx('k8s/knp.yaml'), '--skip-not-exists')).code).toBe(0);
  });
});
