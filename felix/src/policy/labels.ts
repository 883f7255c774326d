/**
 * Endpoint label views and endpoint matching, shared by the calculator (ipset members, which
 * policies apply) and the evaluator. An endpoint's effective labels are its profiles'
 * `labelsToApply` (in profile order, later wins) overridden by its own labels, as Calico does.
 * Namespace labels arrive as `pcns.<key>` from the `kns.<ns>` profile, service-account labels
 * as `pcsa.<key>` from `ksa.<ns>.<sa>`; namespace and service-account selectors are evaluated
 * over those, with the prefix stripped.
 */
import { selectorMatches, type Profile } from '@tabby/api';
import { LABEL_NAMESPACE, LABEL_SERVICE_ACCOUNT, NS_LABEL_PREFIX, SA_LABEL_PREFIX } from './normalise.js';
import type { EndpointMatch, EndpointN, ProfileN } from './types.js';

/** The three label maps an endpoint is matched on. */
export interface LabelViews {
  labels: Record<string, string>;
  ns: Record<string, string>;
  sa: Record<string, string>;
}

function strip(labels: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** Effective labels of an endpoint given the known profiles. */
export function labelViews(ep: EndpointN, profiles: ReadonlyMap<string, ProfileN>): LabelViews {
  const labels: Record<string, string> = {};
  for (const name of ep.profiles) Object.assign(labels, profiles.get(name)?.labelsToApply ?? {});
  Object.assign(labels, ep.labels);
  return { labels, ns: strip(labels, NS_LABEL_PREFIX), sa: strip(labels, SA_LABEL_PREFIX) };
}

/** True when the match selects an endpoint with these views. */
export function matchesEndpoint(m: EndpointMatch, v: LabelViews): boolean {
  if (m.ns) {
    if (m.ns.kind === 'name') {
      if (v.labels[LABEL_NAMESPACE] !== m.ns.name) return false;
    } else if (!selectorMatches(m.ns.selector, v.ns, { namespaced: true })) return false;
  }
  if (m.sa) {
    const sa = v.labels[LABEL_SERVICE_ACCOUNT];
    if (m.sa.names && (sa === undefined || !m.sa.names.includes(sa))) return false;
    if (m.sa.selector && !selectorMatches(m.sa.selector, v.sa, { namespaced: true })) return false;
  }
  return selectorMatches(m.selector, v.labels, { namespaced: true });
}

/** The kns.<ns> profile Calico's controllers write for a namespace: allow all, namespace labels. */
export function namespaceProfile(namespace: string, labels: Record<string, string> = {}): Profile {
  const labelsToApply: Record<string, string> = { [`${NS_LABEL_PREFIX}projectcalico.org/name`]: namespace };
  for (const [k, v] of Object.entries(labels)) labelsToApply[NS_LABEL_PREFIX + k] = v;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: `kns.${namespace}` },
    spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply },
  };
}

/** The ksa.<ns>.<sa> profile: no rules, the service account's labels. */
export function serviceAccountProfile(namespace: string, sa: string, labels: Record<string, string> = {}): Profile {
  const labelsToApply: Record<string, string> = { [`${SA_LABEL_PREFIX}projectcalico.org/name`]: sa };
  for (const [k, v] of Object.entries(labels)) labelsToApply[SA_LABEL_PREFIX + k] = v;
  return { apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: `ksa.${namespace}.${sa}` }, spec: { labelsToApply } };
}
