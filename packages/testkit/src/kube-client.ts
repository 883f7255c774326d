/**
 * Test helpers around a (fake) Kubernetes API server: a kubeconfig for its URL, and plain JSON
 * requests (what `kubectl create / replace / delete` send), so tests drive the API as users do.
 */

/** A kubeconfig (YAML is a superset of JSON) pointing at `url`, without credentials. */
export function kubeconfigFor(url: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: url } }],
    users: [{ name: 'test', user: {} }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
    'current-context': 'test',
  });
}

/** One request; returns the parsed answer, throws on a status other than 2xx. */
export async function kubeRequest<T = Record<string, unknown>>(url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
