/**
 * Where tabbyctl's datastore is: flags (`--datastore-type`, `--etcd-endpoints`,
 * `--etcd-prefix`, `--kubeconfig`) over environment (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`,
 * `ETCD_PREFIX`, `KUBECONFIG`) over a config file (`--config`, default
 * /etc/tabby/tabbyctl.yaml: `datastoreType`, `etcdEndpoints`, `etcdPrefix`, `kubeconfig`, as
 * calicoctl's `spec` keys).
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
  kubeconfig?: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/tabby/tabbyctl.yaml';

/** Resolves the settings. */
export function datastoreConfig(a: Args, env: Record<string, string | undefined>): DatastoreConfig {
  const file = (a.flags.get('--config') as string | undefined) ?? DEFAULT_CONFIG_FILE;
  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    const doc = parse(readFileSync(file, 'utf8')) as { spec?: Record<string, unknown> } | null;
    fromFile = doc?.spec ?? (doc as Record<string, unknown> | null) ?? {};
  } else if (a.flags.has('--config')) throw ctlError('usage', `--config ${file}: no such file`);
  const pick = (flag: string, envKey: string, fileKey: string): string | undefined => {
    const f = a.flags.get(flag);
    if (typeof f === 'string') return f;
    if (env[envKey]) return env[envKey];
    const v = fromFile[fileKey];
    return typeof v === 'string' ? v : undefined;
  };
  const type = pick('--datastore-type', 'DATASTORE_TYPE', 'datastoreType') ?? 'etcdv3';
  if (type !== 'etcdv3' && type !== 'kubernetes') throw ctlError('usage', `datastore type "${type}" is not etcdv3 or kubernetes`);
  const eps = pick('--etcd-endpoints', 'ETCD_ENDPOINTS', 'etcdEndpoints');
  return {
    type,
    etcdEndpoints: eps ? eps.split(',').map((s) => s.trim()).filter(Boolean) : [],
    etcdPrefix: pick('--etcd-prefix', 'ETCD_PREFIX', 'etcdPrefix'),
    kubeconfig: pick('--kubeconfig', 'KUBECONFIG', 'kubeconfig'),
  };
}
