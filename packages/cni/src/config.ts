/**
 * The network configuration a runtime passes on stdin (SPEC.md "Section 1"), with Calico's
 * plugin fields where they apply: `mtu`, `nodename`, `datastore_type`, `etcd_endpoints`,
 * `kubernetes.kubeconfig`, `ipam.{type, assign_ipv4, assign_ipv6, ipv4_pools, ipv6_pools}`,
 * `policy.type`, `log_level`, `log_file_path`; plus Tabby's own `etcd_prefix` and
 * `agent_socket`. Pure: parses and checks text, every problem named by its field.
 */
import { cniError } from './errors.js';

import { DEFAULT_AGENT_SOCKET, SUPPORTED_VERSIONS } from './version.js';

export { DEFAULT_AGENT_SOCKET, SUPPORTED_VERSIONS };

/** The IPAM section. */
export interface IpamConf {
  type: string;
  assignIpv4: boolean;
  assignIpv6: boolean;
  ipv4Pools: string[];
  ipv6Pools: string[];
  /** The whole section as given, for a delegated IPAM plugin. */
  raw: Record<string, unknown>;
}

/** A parsed network configuration. */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  mtu: number;
  /** The node name; '' means "use the host name". */
  nodename: string;
  datastoreType: 'etcdv3' | 'kubernetes';
  etcdEndpoints: string[];
  etcdPrefix?: string;
  kubeconfig?: string;
  ipam: IpamConf;
  policyType: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  logFilePath?: string;
  /** Unix socket of the node agent's CNI API; '' disables the thin-client path. */
  agentSocket: string;
  /** Result of the previous plugin in a chain (DEL, CHECK, chained ADD). */
  prevResult?: unknown;
  runtimeConfig: Record<string, unknown>;
  /** The configuration object as received (for delegation and GC). */
  raw: Record<string, unknown>;
}


type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(field: string, why: string): never {
  throw cniError('invalid-config', `network configuration: ${field}: ${why}`, 'fix the conflist (see packages/cni/README.md for the fields)');
}

function str(o: Obj, key: string, field: string, dflt?: string): string {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) bad(field, 'is required');
    return dflt;
  }
  if (typeof v !== 'string') bad(field, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Calico writes booleans as strings ("true"); accept both. */
function flag(o: Obj, key: string, field: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return bad(field, `expected true or false, got ${JSON.stringify(v)}`);
}

function strList(o: Obj, key: string, field: string): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(field, 'expected a list of strings');
  return v as string[];
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** Parses the JSON text of stdin. Throws decode-failure (6) or invalid-config (7). */
export function parseNetConf(text: string): NetConf {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e: unknown) {
    throw cniError('decode-failure', `network configuration on stdin is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObj(doc)) throw cniError('decode-failure', 'network configuration on stdin must be a JSON object');
  return netConfFrom(doc);
}

/** Checks a decoded configuration object. */
export function netConfFrom(doc: Obj): NetConf {
  const cniVersion = str(doc, 'cniVersion', 'cniVersion');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw cniError('incompatible-version', `cniVersion ${cniVersion} is not supported; this plugin speaks ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  const name = str(doc, 'name', 'name');
  // SPEC.md: network name "must contain only alphanumeric characters, hyphen, underscore, dot".
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) bad('name', `"${name}" may hold only letters, digits, '_', '-' and '.'`);
  const mtuRaw = doc.mtu ?? 1500;
  if (typeof mtuRaw !== 'number' || !Number.isInteger(mtuRaw) || mtuRaw < 68 || mtuRaw > 65535) bad('mtu', `expected an integer 68-65535, got ${JSON.stringify(mtuRaw)}`);
  const ds = str(doc, 'datastore_type', 'datastore_type', 'etcdv3');
  if (ds !== 'etcdv3' && ds !== 'kubernetes') bad('datastore_type', `"${ds}" is not etcdv3 or kubernetes`);
  const ep = doc.etcd_endpoints;
  const etcdEndpoints = typeof ep === 'string' ? ep.split(',').map((s) => s.trim()).filter(Boolean) : Array.isArray(ep) ? strList(doc, 'etcd_endpoints', 'etcd_endpoints') : [];
  if (ds === 'etcdv3' && etcdEndpoints.length === 0) bad('etcd_endpoints', 'is required with datastore_type etcdv3');
  const k8s = doc.kubernetes;
  if (k8s !== undefined && !isObj(k8s)) bad('kubernetes', 'expected an object');
  const kubeconfig = k8s && typeof k8s.kubeconfig === 'string' ? k8s.kubeconfig : undefined;
  if (ds === 'kubernetes' && !kubeconfig) bad('kubernetes.kubeconfig', 'is required with datastore_type kubernetes');
  const ipamRaw = doc.ipam ?? {};
  if (!isObj(ipamRaw)) bad('ipam', 'expected an object');
  const ipam: IpamConf = {
    type: str(ipamRaw, 'type', 'ipam.type', 'tabby-ipam'),
    assignIpv4: flag(ipamRaw, 'assign_ipv4', 'ipam.assign_ipv4', true),
    assignIpv6: flag(ipamRaw, 'assign_ipv6', 'ipam.assign_ipv6', false),
    ipv4Pools: strList(ipamRaw, 'ipv4_pools', 'ipam.ipv4_pools'),
    ipv6Pools: strList(ipamRaw, 'ipv6_pools', 'ipam.ipv6_pools'),
    raw: ipamRaw,
  };
  if (!ipam.assignIpv4 && !ipam.assignIpv6 && (ipam.type === 'tabby-ipam' || ipam.type === 'calico-ipam')) bad('ipam', 'assign_ipv4 and assign_ipv6 are both false: nothing to assign');
  const policy = doc.policy;
  if (policy !== undefined && !isObj(policy)) bad('policy', 'expected an object');
  const level = str(doc, 'log_level', 'log_level', 'warn').toLowerCase();
  const logLevel = level === 'warning' ? 'warn' : level;
  if (!(LEVELS as readonly string[]).includes(logLevel)) bad('log_level', `"${level}" is not one of ${LEVELS.join(', ')}`);
  const rc = doc.runtimeConfig ?? {};
  if (!isObj(rc)) bad('runtimeConfig', 'expected an object');
  return {
    cniVersion,
    name,
    type: str(doc, 'type', 'type'),
    mtu: mtuRaw,
    nodename: str(doc, 'nodename', 'nodename', ''),
    datastoreType: ds,
    etcdEndpoints,
    etcdPrefix: typeof doc.etcd_prefix === 'string' ? doc.etcd_prefix : undefined,
    kubeconfig,
    ipam,
    policyType: policy && typeof policy.type === 'string' ? policy.type : 'k8s',
    logLevel: logLevel as NetConf['logLevel'],
    logFilePath: typeof doc.log_file_path === 'string' ? doc.log_file_path : undefined,
    agentSocket: str(doc, 'agent_socket', 'agent_socket', DEFAULT_AGENT_SOCKET),
    prevResult: doc.prevResult,
    runtimeConfig: rc,
    raw: doc,
  };
}

/** True when `v` is at least 1.0.0 (results without `ips[].version`). */
export function atLeast1(v: string): boolean {
  return !v.startsWith('0.');
}
