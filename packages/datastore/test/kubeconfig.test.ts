/** The Kubernetes backend built from a kubeconfig file, on the fake API server. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesDatastoreFromKubeconfig, isDatastoreError } from '../src/index.js';
import { kubeconfigFor, startFakeApiServer, type FakeApiServer } from '@tabby/testkit';

describe('createKubernetesDatastoreFromKubeconfig', () => {
  let server: FakeApiServer;
  let dir: string;
  beforeAll(async () => {
    server = await startFakeApiServer();
    dir = mkdtempSync(join(tmpdir(), 'tabby-kubeconfig-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("talks to the current context's cluster", async () => {
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfigFor(server.url));
    const ds = await createKubernetesDatastoreFromKubeconfig({ kubeconfig: file });
    await ds.create({ apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16' } });
    expect((await ds.list({ kind: 'IPPool' })).items.map((p) => p.metadata.name)).toEqual(['p']);
    await ds.close();
  });

  it('rejects a missing file and a file without a current cluster as Invalid', async () => {
    await expect(createKubernetesDatastoreFromKubeconfig({ kubeconfig: join(dir, 'none') })).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'Invalid'));
    const empty = join(dir, 'empty');
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    await expect(createKubernetesDatastoreFromKubeconfig({ kubeconfig: empty })).rejects.toThrow(/no current context with a cluster/);
  });
});
