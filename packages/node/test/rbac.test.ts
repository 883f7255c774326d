// Unit test (no root): the ClusterRole in manifests/rbac.yaml grants list and watch on every
// Kubernetes object stream tabby-node follows in Kubernetes mode (kube-source.ts).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubeStreamPaths } from '../src/kube-source.js';

const RBAC = join(dirname(fileURLToPath(import.meta.url)), '../../../manifests/rbac.yaml');

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe('manifests/rbac.yaml', () => {
  it('grants list and watch on every stream path of Kubernetes mode', () => {
    const docs = parseAllDocuments(readFileSync(RBAC, 'utf8')).map((d) => d.toJS() as { kind: string; rules?: Rule[] });
    const rules = docs.find((d) => d.kind === 'ClusterRole')?.rules ?? [];
    for (const path of kubeStreamPaths()) {
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/([^/]+)$/.exec(path);
      expect(m, path).not.toBeNull();
      const [group, plural] = [m?.[1] ?? '', m?.[2] ?? ''];
      const verbs = rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(plural)).flatMap((r) => r.verbs);
      expect(verbs, `${group}/${plural}`).toEqual(expect.arrayContaining(['list', 'watch']));
    }
    expect(kubeStreamPaths()).toContain('/apis/discovery.k8s.io/v1/endpointslices');
  });
});
