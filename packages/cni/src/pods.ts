/**
 * What the plugin reads about a pod: labels (for the WorkloadEndpoint), service account (for
 * the `ksa.` profile), and Calico's IPAM annotations on the pod or its namespace, parsed as
 * Calico parses them (JSON lists):
 *   cni.projectcalico.org/ipv4pools, cni.projectcalico.org/ipv6pools  — pool names or CIDRs
 *   cni.projectcalico.org/ipAddrs                                     — exact addresses
 * Pod annotations win over namespace annotations. Pure, except the `PodSource` interface.
 */
import { cniError } from './errors.js';

/** The pod and namespace facts the plugin uses. */
export interface PodInfo {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccountName?: string;
  namespaceLabels: Record<string, string>;
  namespaceAnnotations: Record<string, string>;
}

/** Where pod facts come from (the Kubernetes API; nothing without one). */
export interface PodSource {
  /** The pod, or undefined when there is no API to ask. Throws try-again-later when unreachable. */
  get(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined>;
  /**
   * Merges annotations into the pod (a null value removes one), as Calico's plugin records the
   * pod's addresses and container ID; absent without an API. Throws try-again-later when unreachable.
   */
  annotate?(namespace: string, name: string, annotations: Record<string, string | null>, signal?: AbortSignal): Promise<void>;
}

/** A source for runtimes without Kubernetes. */
export const noPods: PodSource = { get: async () => undefined };

export const ANN_IPV4_POOLS = 'cni.projectcalico.org/ipv4pools';
export const ANN_IPV6_POOLS = 'cni.projectcalico.org/ipv6pools';
export const ANN_IP_ADDRS = 'cni.projectcalico.org/ipAddrs';
/** Written by the plugin (Calico's names): the pod's first address, all of them, and its sandbox. */
export const ANN_POD_IP = 'cni.projectcalico.org/podIP';
export const ANN_POD_IPS = 'cni.projectcalico.org/podIPs';
export const ANN_CONTAINER_ID = 'cni.projectcalico.org/containerID';

/** The annotations an ADD writes: host CIDRs, IPv4 first as Calico orders them. */
export function addressAnnotations(cidrs: readonly string[], containerId: string): Record<string, string> {
  const ordered = [...cidrs.filter((c) => !c.includes(':')), ...cidrs.filter((c) => c.includes(':'))];
  return { [ANN_POD_IP]: ordered[0] ?? '', [ANN_POD_IPS]: ordered.join(','), [ANN_CONTAINER_ID]: containerId };
}

/** Pools and addresses chosen by annotations. */
export interface AnnotationChoice {
  ipv4Pools?: string[];
  ipv6Pools?: string[];
  ipAddrs?: string[];
}

function jsonList(text: string, key: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw cniError('invalid-config', `annotation ${key}: ${JSON.stringify(text)} is not a JSON list`, `write it as '["10.0.0.0/24"]'`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw cniError('invalid-config', `annotation ${key}: expected a JSON list of strings`);
  return v as string[];
}

/** Reads the annotations of a pod (then its namespace). */
export function annotationChoice(p: PodInfo | undefined): AnnotationChoice {
  if (!p) return {};
  const pick = (key: string): string[] | undefined => {
    const t = p.annotations[key] ?? p.namespaceAnnotations[key];
    return t === undefined ? undefined : jsonList(t, key);
  };
  const out: AnnotationChoice = {};
  const v4 = pick(ANN_IPV4_POOLS);
  const v6 = pick(ANN_IPV6_POOLS);
  const ips = p.annotations[ANN_IP_ADDRS] === undefined ? undefined : jsonList(p.annotations[ANN_IP_ADDRS], ANN_IP_ADDRS);
  if (v4) out.ipv4Pools = v4;
  if (v6) out.ipv6Pools = v6;
  if (ips) {
    if (v4 || v6) throw cniError('invalid-config', `annotation ${ANN_IP_ADDRS} cannot be combined with ${ANN_IPV4_POOLS} / ${ANN_IPV6_POOLS}`);
    out.ipAddrs = ips;
  }
  return out;
}
