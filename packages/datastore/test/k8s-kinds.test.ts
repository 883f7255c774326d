import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KUBERNETES_KINDS, collectionPath, kindInfo } from '../src/k8s-kinds.js';
import { isDatastoreError } from '../src/errors.js';
import { crdFileText, crdFiles } from './crd-files.js';

describe('Kubernetes kind table', () => {
  it('has one CRD file per custom kind in manifests/crds, up to date', () => {
    const files = crdFiles();
    expect(files).toHaveLength(12);
    for (const { path, info } of files) {
      expect(readFileSync(path, 'utf8'), `${path} is stale: run packages/datastore/scripts/write-crds.ts`).toBe(crdFileText(info));
    }
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
