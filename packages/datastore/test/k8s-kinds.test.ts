import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KUBERNETES_KINDS, collectionPath, kindInfo } from '../src/k8s-kinds.js';
import { isDatastoreError } from '../src/errors.js';
import { crdFileText, crdFiles } from './crd-files.js';
import { crdSchemaOf, type Kind, type OpenApiSchema } from '@tabby/api';
import { kindDocs } from './kind-docs.js';

/** The schema node at a doc path (`spec.ingress[].action`), or undefined. */
function nodeAt(root: OpenApiSchema, path: string): OpenApiSchema | undefined {
  let node: OpenApiSchema | undefined = root;
  for (const part of path.split('.')) {
    const m = /^([^[{]+)((?:\[\]|\{\})*)$/.exec(part);
    node = m ? node?.properties?.[m[1]!] : undefined;
    for (const s of m?.[2]?.match(/\[\]|\{\}/g) ?? []) node = s === '[]' ? node?.items : node?.additionalProperties;
  }
  return node;
}

describe('Kubernetes kind table', () => {
  it('has one CRD file per custom kind in manifests/crds, up to date', () => {
    const files = crdFiles();
    expect(files).toHaveLength(12);
    for (const { path, info } of files) {
      expect(readFileSync(path, 'utf8'), `${path} is stale: run packages/datastore/scripts/write-crds.ts`).toBe(crdFileText(info));
    }
  });

  it('describes fields from the kinds\' doc comments, each at a field the schema has', () => {
    for (const { info } of crdFiles()) {
      const docs = kindDocs(info.kind);
      const schema = crdSchemaOf(info.kind as Kind, docs);
      for (const [path, doc] of docs) expect(nodeAt(schema, path)?.description, `${info.kind} ${path}`).toBe(doc);
    }
    expect(kindDocs('IPPool').get('spec.vxlanMode')).toMatch(/^VXLAN encapsulation/);
    expect(kindDocs('GlobalNetworkPolicy').get('spec.ingress[]')).toBe('One policy rule.');
  });

  it('uses Calico plurals and scopes', () => {
    expect(kindInfo('IPPool')).toMatchObject({ plural: 'ippools', namespaced: false, storage: 'crd' });
    expect(kindInfo('WorkloadEndpoint')).toMatchObject({ plural: 'workloadendpoints', namespaced: true });
    expect(kindInfo('NetworkPolicy')).toMatchObject({ plural: 'networkpolicies', namespaced: true });
    expect(kindInfo('Node')).toMatchObject({ plural: 'nodes', storage: 'node' });
    expect(KUBERNETES_KINDS.filter((k) => k.namespaced).map((k) => k.kind).sort()).toEqual(['NetworkPolicy', 'WorkloadEndpoint']);
  });

  it('builds collection paths', () => {
    expect(collectionPath(kindInfo('IPPool'))).toBe('/apis/tabby.dev/v1/ippools');
    expect(collectionPath(kindInfo('WorkloadEndpoint'), 'ns1')).toBe('/apis/tabby.dev/v1/namespaces/ns1/workloadendpoints');
    expect(collectionPath(kindInfo('WorkloadEndpoint'))).toBe('/apis/tabby.dev/v1/workloadendpoints');
    expect(collectionPath(kindInfo('Node'))).toBe('/api/v1/nodes');
  });

  it('rejects an unknown kind with Invalid', () => {
    expect(() => kindInfo('Pod')).toThrow(/no Kubernetes mapping/);
    try {
      kindInfo('Pod');
    } catch (e: unknown) {
      expect(isDatastoreError(e, 'Invalid')).toBe(true);
    }
  });
});
