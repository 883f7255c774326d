import { runComplianceSuite } from '../src/compliance.js';
import { MemoryDatastore } from '../src/index.js';

runComplianceSuite('memory', async () => {
  const store = new MemoryDatastore();
  return { store, compact: async () => store.compact(), close: () => store.close() };
});
