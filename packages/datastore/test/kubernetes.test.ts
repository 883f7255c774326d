/** The compliance suite against the Kubernetes backend, through its real client, on a fake API server. */
import { runComplianceSuite } from '../src/compliance.js';
import { createKubernetesDatastore } from '../src/index.js';
import { startFakeApiServer } from './fake-apiserver.js';

runComplianceSuite('kubernetes', async () => {
  const server = await startFakeApiServer({ bookmarkIntervalMs: 200 });
  const store = await createKubernetesDatastore({ server: server.url, pageSize: 2 });
  return {
    store,
    compact: async () => server.compact(),
    close: async () => {
      await store.close();
      await server.close();
    },
  };
});
