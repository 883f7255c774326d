/**
 * Kubernetes NetworkPolicy documents in tabbyctl on a real etcd: stored as Calico stores them
 * (the converted `knp.default.<name>`), rejected with file, document and field when invalid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdServer } from '@tabby/testkit';
import { fx, runWith, type CtlResult } from './harness.js';

let etcd: EtcdServer;
const ctl = (...argv: string[]): Promise<CtlResult> => runWith({ ETCD_ENDPOINTS: etcd.endpoint }, argv);

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.stop();
});

describe('tabbyctl with networking.k8s.io/v1 NetworkPolicy on etcd', () => {
  it('validate and create reject a bad policy with file, document and field, writing nothing', async () => {
    const bad = fx('k8s/bad-knp.yaml');
    const v = await ctl('validate', '-f', bad);
    expect(v.code).toBe(3);
    expect(v.err).toMatch(new RegExp(`^invalid input, nothing was written:\\n  ${bad}: document 2 \\(NetworkPolicy "broken"\\): spec\\.ingress\\[0\\]\\.from\\[0\\]\\.ipBlock\\.cidr: `));
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
});
