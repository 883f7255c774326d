/** Builders of resources for the policy tests. */
import type { GlobalNetworkPolicy, NetworkPolicy, Rule, WorkloadEndpoint } from '@tabby/api';
import { createHash } from 'node:crypto';

export function iface(ns: string, pod: string): string {
  return 'cali' + createHash('sha1').update(`${ns}.${pod}`).digest('hex').slice(0, 11);
}

export function wep(ns: string, pod: string, ip: string, labels: Record<string, string> = {}, opts: { node?: string; ports?: WorkloadEndpoint['spec']['ports']; sa?: string; ip6?: string } = {}): WorkloadEndpoint {
  const spec: WorkloadEndpoint['spec'] = {
    node: opts.node ?? 'node1',
    orchestrator: 'k8s',
    pod,
    endpoint: 'eth0',
    ipNetworks: opts.ip6 ? [`${ip}/32`, `${opts.ip6}/128`] : [`${ip}/32`],
    profiles: [`kns.${ns}`, ...(opts.sa ? [`ksa.${ns}.${opts.sa}`] : [])],
    interfaceName: iface(ns, pod),
  };
  if (opts.ports) spec.ports = opts.ports;
  if (opts.sa) spec.serviceAccountName = opts.sa;
  return { apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: `node1-k8s-${pod}-eth0`, namespace: ns, labels: { ...labels } }, spec };
}

export function np(ns: string, name: string, spec: Partial<NetworkPolicy['spec']> & { ingress?: Rule[]; egress?: Rule[] }): NetworkPolicy {
  return { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { selector: '', types: [], ingress: [], egress: [], ...spec } };
}

export function gnp(name: string, spec: Partial<GlobalNetworkPolicy['spec']>): GlobalNetworkPolicy {
  return { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name }, spec: { selector: '', types: [], ingress: [], egress: [], ...spec } };
}
