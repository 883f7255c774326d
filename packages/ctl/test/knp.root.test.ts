/**
 * Kubernetes NetworkPolicy documents in tabbyctl on a real etcd: stored as Calico stores them
 * (the converted `knp.default.<name>`), rejected with file, document and field when invalid, and
 * `policy trace` over them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdServer } from '@tabby/testkit';
import { fx, runWith, type CtlResult } from './harness.js';

let etcd: EtcdServer;
let tmp: string;
const ctl = (...argv: string[]): Promise<CtlResult> => runWith({ ETCD_ENDPOINTS: etcd.endpoint }, argv);

beforeAll(async () => {
  etcd = await startEtcd();
  tmp = mkdtempSync(join(tmpdir(), 'tabbyctl-knp-'));
});

afterAll(async () => {
  await etcd?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('tabbyctl with networking.k8s.io/v1 NetworkPolicy on etcd', () => {
  it('validate and create reject a bad policy with file, document and field, writing nothing', async () => {
    const bad = fx('k8s/bad-knp.yaml');
    const v = await ctl('validate', '-f', bad);
    expect(v.code).toBe(3);
    expect(v.err).toMatch(new RegExp(`^invalid input, nothing was written:\\n  ${bad}: document 2 \\(NetworkPolicy "broken"\\): spec\\.ingress\\[0\\]\\.from\\[0\\]\\.ipBlock\\.cidr: `));
    expect(v.err).toMatch(new RegExp(`\\n  ${bad}: document 3 \\(NetworkPolicy\\): metadata\\.name: required\\n$`));
    expect((await ctl('create', '-f', bad)).code).toBe(3);
    expect((await ctl('get', 'ippools')).out).toBe('NAME   CIDR   SELECTOR\n');
  });

  it('create stores the Calico conversion; apply, replace and delete address it too', async () => {
    expect(await ctl('validate', '-f', fx('k8s/knp.yaml'))).toEqual({ code: 0, out: 'Successfully validated 1 resource(s)\n', err: '' });
    expect((await ctl('create', '-f', fx('k8s/knp.yaml'))).out).toBe('Successfully created 1 resource(s)\n');
    const y = (await ctl('get', 'networkpolicy', 'knp.default.allow-frontend', '-n', 'shop', '-o', 'yaml')).out;
    expect(y.replace(/ {2}(uid|creationTimestamp): .*\n/g, '')).toBe(
      '---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: knp.default.allow-frontend\n  namespace: shop\nspec:\n' +
      '  order: 1000\n' +
      "  selector: projectcalico.org/orchestrator == 'k8s' && app == 'db'\n" +
      '  types:\n    - Ingress\n' +
      '  ingress:\n    - action: Allow\n      protocol: TCP\n' +
      "      source:\n        selector: projectcalico.org/orchestrator == 'k8s' && app == 'frontend'\n" +
      '      destination:\n        ports:\n          - 5432\n' +
      '  egress: []\n');
    const again = await ctl('create', '-f', fx('k8s/knp.yaml'));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^Failed to create any resources:\n {2}networking\.k8s\.io\/v1 NetworkPolicy "shop\/allow-frontend": /);
    expect((await ctl('apply', '-f', fx('k8s/knp.yaml'))).out).toBe('Successfully applied 1 resource(s)\n');
    expect((await ctl('replace', '-f', fx('k8s/knp.yaml'), '-n', 'other')).code).toBe(1);
    expect((await ctl('delete', '-f', fx('k8s/knp.yaml'))).out).toBe('Successfully deleted 1 resource(s)\n');
    expect((await ctl('get', 'networkpolicies', '-A')).out).toBe('NAMESPACE   NAME\n');
  });

  it('policy trace explains the verdict the Kubernetes policy gives, by pod and by address', async () => {
    const wep = (pod: string, ns: string, ip: string, app: string): string => JSON.stringify({
      apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
      metadata: { name: `n1-k8s-${pod}-eth0`, namespace: ns, labels: { app, 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/namespace': ns } },
      spec: { orchestrator: 'k8s', node: 'n1', pod, endpoint: 'eth0', interfaceName: `cali${pod}`, ipNetworks: [`${ip}/32`], profiles: [`kns.${ns}`] },
    });
    const file = join(tmp, 'weps.json');
    writeFileSync(file, `[${wep('frontend', 'shop', '10.65.0.1', 'frontend')}, ${wep('db', 'shop', '10.65.0.2', 'db')}, ${wep('intruder', 'other', '10.65.0.3', 'frontend')}]`);
    expect((await ctl('create', '-f', file)).out).toBe('Successfully created 3 resource(s)\n');
    expect((await ctl('create', '-f', fx('k8s/knp.yaml'))).code).toBe(0);
    expect((await ctl('get', 'weps', '-n', 'shop')).out).toBe(
      'WORKLOAD   NODE   NETWORKS       INTERFACE\n' +
      'db         n1     10.65.0.2/32   calidb\n' +
      'frontend   n1     10.65.0.1/32   califrontend\n');
    expect((await ctl('get', 'workloadendpoints', '-A', '-o', 'wide')).out).toBe(
      'NAMESPACE   NAME                   WORKLOAD   NODE   NETWORKS       INTERFACE      PROFILES    NATS\n' +
      'other       n1-k8s-intruder-eth0   intruder   n1     10.65.0.3/32   caliintruder   kns.other\n' +
      'shop        n1-k8s-db-eth0         db         n1     10.65.0.2/32   calidb         kns.shop\n' +
      'shop        n1-k8s-frontend-eth0   frontend   n1     10.65.0.1/32   califrontend   kns.shop\n');
    const allow = await ctl('policy', 'trace', 'shop/frontend', 'shop/db', '--protocol', 'tcp', '--port', '5432');
    expect(allow.out).toBe(
      'shop/frontend (10.65.0.1) -> shop/db (10.65.0.2) tcp/5432: ALLOW\n' +
      '  egress  shop/n1-k8s-frontend-eth0: profile kns.shop, rule 0 -> allow\n' +
      '  ingress shop/n1-k8s-db-eth0: tier default, policy default/shop/knp.default.allow-frontend, rule 0 -> allow\n');
    const deny = await ctl('policy', 'trace', 'other/intruder', '10.65.0.2', '--protocol', 'tcp', '--port', '5432');
    expect(deny.out).toBe(
      'other/intruder (10.65.0.3) -> 10.65.0.2 tcp/5432: DENY\n' +
      '  egress  other/n1-k8s-intruder-eth0: profile kns.other, rule 0 -> allow\n' +
      '  ingress shop/n1-k8s-db-eth0: tier default -> end-of-tier\n');
    const json = JSON.parse((await ctl('policy', 'trace', '10.65.0.1', '10.65.0.2', '--port', '80', '-o', 'json')).out) as { verdict: string; dstPort: number };
    expect(json).toMatchObject({ verdict: 'deny', dstPort: 80 });
  });
});
