/**
 * The WorkloadEndpoint the plugin writes for each attachment, shaped as Calico's CNI plugin
 * shapes it (felix consumes it): spec.node, orchestrator k8s, endpoint = CNI_IFNAME,
 * interfaceName caliXXX, mac of the pod interface, ipNetworks, profiles kns.<ns> and
 * ksa.<ns>.<sa>, containerID; labels: the pod's plus projectcalico.org/namespace,
 * /orchestrator and /serviceaccount. Pure.
 */
import { API_VERSION, type WorkloadEndpoint } from '@tabby/api';
import type { PodRef } from './env.js';
import { wepName } from './names.js';
import type { PodInfo } from './pods.js';

/** Inputs of `buildEndpoint`. */
export interface EndpointInput {
  node: string;
  pod: PodRef;
  info?: PodInfo;
  containerId: string;
  ifname: string;
  hostIf: string;
  mac: string;
  /** Host CIDRs (/32, /128). */
  ipNetworks: string[];
}

/** The key of an attachment's endpoint. */
export function endpointKey(node: string, pod: PodRef, ifname: string): { kind: 'WorkloadEndpoint'; namespace: string; name: string } {
  return { kind: 'WorkloadEndpoint', namespace: pod.namespace, name: wepName(node, pod.k8s ? 'k8s' : 'cni', pod.name, ifname) };
}

/** Builds the endpoint resource. */
export function buildEndpoint(i: EndpointInput): WorkloadEndpoint {
  const sa = i.info?.serviceAccountName || 'default';
  const key = endpointKey(i.node, i.pod, i.ifname);
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: key.name,
      namespace: key.namespace,
      labels: {
        ...(i.info?.labels ?? {}),
        'projectcalico.org/namespace': i.pod.namespace,
        'projectcalico.org/orchestrator': i.pod.k8s ? 'k8s' : 'cni',
        'projectcalico.org/serviceaccount': sa,
      },
    },
    spec: {
      orchestrator: i.pod.k8s ? 'k8s' : 'cni',
      workload: i.pod.k8s ? '' : i.containerId,
      node: i.node,
      containerID: i.containerId,
      pod: i.pod.k8s ? i.pod.name : '',
      endpoint: i.ifname,
      serviceAccountName: sa,
      ipNetworks: i.ipNetworks,
      profiles: [`kns.${i.pod.namespace}`, `ksa.${i.pod.namespace}.${sa}`],
      interfaceName: i.hostIf,
      mac: i.mac,
    },
  };
}
