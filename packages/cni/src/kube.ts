/**
 * A minimal Kubernetes API reader for the plugin: the pod and its namespace, through the
 * kubeconfig named in the conflist (`kubernetes.kubeconfig`). Only node:http(s) and the YAML
 * parser are loaded (not @kubernetes/client-node), since the plugin pays its start-up per call.
 * Supported kubeconfig fields: current-context, cluster server / certificate-authority(-data) /
 * insecure-skip-tls-verify, user token / tokenFile / client-certificate(-data) / client-key(-data).
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parse as parseYaml } from 'yaml';
import { cniError } from './errors.js';
import type { PodInfo, PodSource } from './pods.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Connection settings read from a kubeconfig. */
export interface KubeTarget {
  server: string;
  ca?: Buffer;
  insecure?: boolean;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

function named(list: unknown, name: string | undefined, field: string): Obj {
  const arr = Array.isArray(list) ? list.map(obj) : [];
  const hit = arr.find((x) => x.name === name) ?? (name === undefined ? arr[0] : undefined);
  if (!hit) throw cniError('invalid-config', `kubeconfig: no ${field} named ${JSON.stringify(name)}`);
  return obj(hit[field]);
}

function fileOrData(o: Obj, key: string): Buffer | undefined {
  const data = s(o[`${key}-data`]);
  if (data) return Buffer.from(data, 'base64');
  const file = s(o[key]);
  return file ? readFileSync(file) : undefined;
}

/** Reads a kubeconfig file. */
export function readKubeconfig(path: string): KubeTarget {
  let doc: Obj;
  try {
    doc = obj(parseYaml(readFileSync(path, 'utf8')));
  } catch (e: unknown) {
    throw cniError('invalid-config', `kubernetes.kubeconfig ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ctx = named(doc.contexts, s(doc['current-context']), 'context');
  const cluster = named(doc.clusters, s(ctx.cluster), 'cluster');
  const user = Array.isArray(doc.users) && doc.users.length > 0 ? named(doc.users, s(ctx.user), 'user') : {};
  const server = s(cluster.server);
  if (!server) throw cniError('invalid-config', `kubeconfig ${path}: cluster has no server`);
  const tokenFile = s(user.tokenFile);
  return {
    server: server.replace(/\/$/, ''),
    ca: fileOrData(cluster, 'certificate-authority'),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    token: s(user.token) ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined),
    cert: fileOrData(user, 'client-certificate'),
    key: fileOrData(user, 'client-key'),
  };
}

/** GET a path; undefined on 404. Throws try-again-later when the API cannot be reached. */
export function kubeGet(t: KubeTarget, path: string, signal?: AbortSignal): Promise<Obj | undefined> {
  return kubeCall(t, 'GET', path, undefined, signal);
}

/** A JSON merge patch (RFC 7386) of an object; undefined on 404. */
export function kubePatch(t: KubeTarget, path: string, patch: unknown, signal?: AbortSignal): Promise<Obj | undefined> {
  return kubeCall(t, 'PATCH', path, JSON.stringify(patch), signal);
}

function kubeCall(t: KubeTarget, method: 'GET' | 'PATCH', path: string, body: string | undefined, signal?: AbortSignal): Promise<Obj | undefined> {
  const url = new URL(t.server + path);
  const req = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/merge-patch+json';
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  return new Promise((resolve, reject) => {
    const r = req(url, { method, headers, ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: !t.insecure, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 404) return resolve(undefined);
        const body = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) return reject(cniError('try-again-later', `Kubernetes API ${path}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        try {
          resolve(obj(JSON.parse(body)));
        } catch {
          reject(cniError('try-again-later', `Kubernetes API ${path}: answer is not JSON`));
        }
      });
    });
    r.on('error', (e) => reject(cniError('try-again-later', `Kubernetes API ${t.server} unreachable: ${e.message}`, 'retry when the API server is reachable', e)));
    r.end(body);
  });
}

const strMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));

/** Pods from the Kubernetes API. */
export class KubePodSource implements PodSource {
  constructor(private readonly target: KubeTarget) {}

  async get(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined> {
    const ns = encodeURIComponent(namespace);
    const [pod, nsObj] = await Promise.all([
      kubeGet(this.target, `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}`, signal),
      kubeGet(this.target, `/api/v1/namespaces/${ns}`, signal),
    ]);
    if (!pod) return undefined;
    const meta = obj(pod.metadata);
    const nsMeta = obj(nsObj?.metadata);
    return {
      labels: strMap(meta.labels),
      annotations: strMap(meta.annotations),
      serviceAccountName: s(obj(pod.spec).serviceAccountName),
      namespaceLabels: strMap(nsMeta.labels),
      namespaceAnnotations: strMap(nsMeta.annotations),
    };
  }

  async annotate(namespace: string, name: string, annotations: Record<string, string | null>, signal?: AbortSignal): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    const done = await kubePatch(this.target, path, { metadata: { annotations } }, signal);
    if (!done) throw cniError('try-again-later', `pod ${namespace}/${name} not found in the Kubernetes API`, 'the pod was deleted; kubelet will not retry this sandbox');
  }
}
