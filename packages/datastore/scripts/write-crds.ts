/**
 * Writes `manifests/crds/<plural>.yaml` from the kind table (run: `npx tsx
 * packages/datastore/scripts/write-crds.ts`). test/k8s-kinds.test.ts fails when they drift.
 */
import { writeFileSync } from 'node:fs';
import { crdFileText, crdFiles } from '../test/crd-files.js';

for (const { path, info } of crdFiles()) writeFileSync(path, crdFileText(info));
