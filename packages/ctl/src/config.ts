/**
 * Where tabbyctl's datastore is, by precedence: flags (`--datastore-type`, `--etcd-endpoints`,
 * `--etcd-prefix`, `--kubeconfig`), then environment (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`,
 * `ETCD_PREFIX`, `KUBECONFIG`, `K8S_API_ENDPOINT`, `K8S_API_TOKEN`, `K8S_CA_FILE`,
 * `K8S_INSECURE_SKIP_TLS_VERIFY`), then a config file (`-c`/`--config`, default
 * /etc/tabby/tabbyctl.yaml) in the shape of calicoctl.cfg:
 *
 *   apiVersion: projectcalico.org/v3
 *   kind: CalicoAPIConfig
 *   spec: { datastoreType: kubernetes, kubeconfig: /root/.kube/config }
 *
 * (the same keys at the top level are accepted too). Unknown keys, another kind and a type that
 * is not `etcdv3` or `kubernetes` are usage errors that name the file. Pure but for reading it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Args } from './args.js';
import { ctlError } from './errors.js';

/** Datastore connection settings. */
export interface DatastoreConfig {
  type: 'etcdv3' | 'kubernetes';
  etcdEndpoints: string[];
  etcdPrefix?: string;
  /** A kubeconfig file; without it (and without k8sAPIEndpoint) client-node's default search. */
  kubeconfig?: string;
  k8sAPIEndpoint?: string;
  k8sAPIToken?: string;
  k8sCAFile?: string;
  k8sInsecureSkipTLSVerify?: boolean;
  /** Where the settings came from, for error messages. */
  source: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/tabby/tabbyctl.yaml';

/** Config keys, the flag and environment variable over them. */
const KEYS: Record<string, { flag?: string; env: string }> = {
  datastoreType: { flag: '--datastore-type', env: 'DATASTORE_TYPE' },
  etcdEndpoints: { flag: '--etcd-endpoints', env: 'ETCD_ENDPOINTS' },
  etcdPrefix: { flag: '--etcd-prefix', env: 'ETCD_PREFIX' },
  kubeconfig: { flag: '--kubeconfig', env: 'KUBECONFIG' },
  k8sAPIEndpoint: { env: 'K8S_API_ENDPOINT' },
  k8sAPIToken: { env: 'K8S_API_TOKEN' },
  k8sCAFile: { env: 'K8S_CA_FILE' },
  k8sInsecureSkipTLSVerify: { env: 'K8S_INSECURE_SKIP_TLS_VERIFY' },
};

/** The settings in a config file (calicoctl.cfg's shape); {} when the default file is absent. */
function readConfigFile(file: string, explicit: boolean): Record<string, unknown> {
  if (!existsSync(file)) {
    if (explicit) throw ctlError('usage', `--config ${file}: no such file`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e: unknown) {
    throw ctlError('usage', `config file ${file}: not YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw ctlError('usage', `config file ${file}: expected a CalicoAPIConfig document`);
  const d = doc as Record<string, unknown>;
  if (d['kind'] !== undefined && d['kind'] !== 'CalicoAPIConfig') throw ctlError('usage', `config file ${file}: kind is ${String(d['kind'])}, expected CalicoAPIConfig`);
  const spec = (d['spec'] ?? Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'apiVersion' && k !== 'kind' && k !== 'metadata'))) as Record<string, unknown>;
  for (const k of Object.keys(spec)) {
    if (!(k in KEYS)) throw ctlError('usage', `config file ${file}: unknown key spec.${k} (known: ${Object.keys(KEYS).join(', ')})`);
  }
  return spec;
}

/** Resolves the settings. */
export function datastoreConfig(a: Args, env: Record<string, string | undefined>): DatastoreConfig {
  const flagFile = a.flags.get('--config');
  const file = typeof flagFile === 'string' ? flagFile : DEFAULT_CONFIG_FILE;
  const fromFile = readConfigFile(file, typeof flagFile === 'string');
  const sources = new Set<string>();
  const pick = (key: string): string | undefined => {
    const k = KEYS[key];
    const f = k?.flag ? a.flags.get(k.flag) : undefined;
    if (typeof f === 'string') return sources.add('flags'), f;
    const e = k ? env[k.env] : undefined;
    if (e) return sources.add('environment'), e;
    const v = fromFile[key];
    if (v === undefined || v === null) return undefined;
    sources.add(file);
    return Array.isArray(v) ? v.join(',') : String(v);
  };
  const type = pick('datastoreType') ?? 'etcdv3';
  if (type !== 'etcdv3' && type !== 'kubernetes') throw ctlError('usage', `datastore type "${type}" is not etcdv3 or kubernetes`);
  const eps = pick('etcdEndpoints');
  const opt = <K extends string>(key: K): Partial<Record<K, string>> => {
    const v = pick(key);
    return v === undefined ? {} : ({ [key]: v } as Record<K, string>);
  };
  const insecure = pick('k8sInsecureSkipTLSVerify');
  return {
    type,
    etcdEndpoints: eps ? eps.split(',').map((s) => s.trim()).filter(Boolean) : [],
    ...opt('etcdPrefix'),
    ...opt('kubeconfig'),
    ...opt('k8sAPIEndpoint'),
    ...opt('k8sAPIToken'),
    ...opt('k8sCAFile'),
    ...(insecure !== undefined ? { k8sInsecureSkipTLSVerify: insecure === 'true' } : {}),
    source: sources.size > 0 ? [...sources].join(', ') : 'defaults',
  };
}
