/** The CRD files in manifests/crds and their expected text (shared by the test and the writer). */
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { KUBERNETES_KINDS, crdManifest, type KindInfo } from '../src/k8s-kinds.js';

/** Directory of the CRD manifests. */
export const CRD_DIR = fileURLToPath(new URL('../../../manifests/crds/', import.meta.url));

/** One file per custom kind. */
export function crdFiles(): { path: string; info: KindInfo }[] {
  return KUBERNETES_KINDS.filter((k) => k.storage === 'crd').map((info) => ({ path: `${CRD_DIR}${info.plural}.yaml`, info }));
}

/** The text of a kind's CRD file. */
export function crdFileText(info: KindInfo): string {
  return `# Generated from packages/datastore/src/k8s-kinds.ts by packages/datastore/scripts/write-crds.ts.\n${stringify(crdManifest(info))}`;
}
