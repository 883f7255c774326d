/**
 * Where each Tabby kind lives in the Kubernetes API: custom resources in group `tabby.dev`,
 * version `v1`, with Calico's plural names and scopes; `Node` is the core/v1 Node. Also the
 * CRD manifest of each custom kind (written to `manifests/crds/`, one file per kind), with the
 * structural OpenAPI schema and `kubectl get` columns @tabby/api generates from the validator's
 * model. Pure data.
 */
import { API_GROUP, crdSchemaOf, printerColumnsOf, type FieldDocs, type Kind } from '@tabby/api';
import { datastoreError } from './errors.js';

/** The CRD version Tabby stores. */
export const CRD_VERSION = 'v1';

/** How one kind maps onto the Kubernetes API. */
export interface KindInfo {
  kind: string;
  /** Lower-case plural, the path segment (`ippools`). */
  plural: string;
  namespaced: boolean;
  /** `crd`: a custom resource in `tabby.dev/v1`; `node`: the core/v1 Node. */
  storage: 'crd' | 'node';
}

const crd = (kind: string, plural: string, namespaced = false): KindInfo => ({ kind, plural, namespaced, storage: 'crd' });

/** Every kind the Kubernetes backend stores. */
export const KUBERNETES_KINDS: readonly KindInfo[] = [
  crd('IPPool', 'ippools'),
  crd('BGPConfiguration', 'bgpconfigurations'),
  crd('BGPPeer', 'bgppeers'),
  crd('WorkloadEndpoint', 'workloadendpoints', true),
  crd('NetworkPolicy', 'networkpolicies', true),
  crd('GlobalNetworkPolicy', 'globalnetworkpolicies'),
  crd('Profile', 'profiles'),
  crd('FelixConfiguration', 'felixconfigurations'),
  crd('IPAMConfiguration', 'ipamconfigurations'),
  crd('IPAMBlock', 'ipamblocks'),
  crd('BlockAffinity', 'blockaffinities'),
  crd('IPAMHandle', 'ipamhandles'),
  { kind: 'Node', plural: 'nodes', namespaced: false, storage: 'node' },
];

const byKind = new Map(KUBERNETES_KINDS.map((k) => [k.kind, k]));

/** The mapping of `kind`; `Invalid` when the Kubernetes backend does not store it. */
export function kindInfo(kind: string): KindInfo {
  const info = byKind.get(kind);
  if (!info) {
    const known = KUBERNETES_KINDS.map((k) => k.kind).join(', ');
    throw datastoreError('Invalid', `kind "${kind}" has no Kubernetes mapping (known: ${known})`, { kind });
  }
  return info;
}

/** The API path of a collection (`namespace` undefined: across all namespaces). */
export function collectionPath(info: KindInfo, namespace?: string): string {
  const base = info.storage === 'node' ? '/api/v1' : `/apis/${API_GROUP}/${CRD_VERSION}`;
  const ns = info.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.plural}`;
}

/** The CustomResourceDefinition (apiextensions.k8s.io/v1) of a custom kind; `docs` describe its fields. */
export function crdManifest(info: KindInfo, docs?: FieldDocs): Record<string, unknown> {
  if (info.storage !== 'crd') throw datastoreError('Invalid', `${info.kind} is a core kind, not a CRD`);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      scope: info.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.kind.toLowerCase(),
      },
      versions: [
        {
          name: CRD_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: crdSchemaOf(info.kind as Kind, docs) },
          additionalPrinterColumns: printerColumnsOf(info.kind as Kind),
        },
      ],
    },
  };
}
