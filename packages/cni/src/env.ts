/**
 * The CNI runtime parameters (SPEC.md "Parameters"): CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME, CNI_ARGS, CNI_PATH. Pure: takes the environment as a record.
 */
import { cniError } from './errors.js';

/** The commands of spec 1.0 and the two of 1.1. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'];

/** Parsed runtime parameters. */
export interface CniEnv {
  command: CniCommand;
  containerId: string;
  /** Path of the container's network namespace; '' when not given (allowed on DEL). */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, IgnoreUnknown, ...). */
  args: Record<string, string>;
  /** CNI_PATH split on ':'. */
  path: string[];
}

// SPEC.md: container ID "must only contain alphanumeric characters, hyphen, underscore and period".
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Linux interface names: at most 15 bytes, no '/', no whitespace, not '.' or '..'.
const IFNAME = /^[^/\s:]{1,15}$/;

/** Parses CNI_ARGS (`K=V;K=V`); throws invalid-env on a pair without '='. */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw cniError('invalid-env', `CNI_ARGS: "${part}" is not KEY=VALUE`, 'CNI_ARGS is a ;-separated list of KEY=VALUE pairs');
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Reads and checks the parameters a command needs (SPEC.md, per-command required parameters). */
export function parseEnv(env: Readonly<Record<string, string | undefined>>): CniEnv {
  const raw = env.CNI_COMMAND ?? '';
  const command = COMMANDS.find((c) => c === raw);
  if (!command) throw cniError('invalid-env', `CNI_COMMAND "${raw}" is not one of ${COMMANDS.join(', ')}`);
  const out: CniEnv = {
    command,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
    args: parseCniArgs(env.CNI_ARGS ?? ''),
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
  };
  const needs = (name: string, ok: boolean, why: string): void => {
    if (!ok) throw cniError('invalid-env', `${name} ${why} (CNI_COMMAND=${command})`);
  };
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') {
    needs('CNI_CONTAINERID', out.containerId !== '', 'is required');
    needs('CNI_CONTAINERID', CONTAINER_ID.test(out.containerId), `"${out.containerId}" may hold only letters, digits, '_', '-' and '.'`);
    needs('CNI_IFNAME', out.ifname !== '', 'is required');
    needs('CNI_IFNAME', IFNAME.test(out.ifname), `"${out.ifname}" is not a valid interface name`);
  }
  if (command === 'ADD' || command === 'CHECK') needs('CNI_NETNS', out.netns !== '', 'is required');
  return out;
}

/** The pod a call is for: namespace and name from CNI_ARGS, if the runtime is Kubernetes. */
export interface PodRef {
  namespace: string;
  name: string;
  /** True when the name came from K8S_POD_NAME; false when derived from the container ID. */
  k8s: boolean;
}

/** K8S_POD_NAMESPACE / K8S_POD_NAME, or a stable fallback from the container ID. */
export function podRef(e: CniEnv): PodRef {
  const ns = e.args.K8S_POD_NAMESPACE;
  const name = e.args.K8S_POD_NAME;
  if (ns && name) return { namespace: ns, name, k8s: true };
  return { namespace: 'default', name: e.containerId, k8s: false };
}

/** The CNI_* variables of a parsed call (to run a delegated plugin with). */
export function rawCniEnv(e: CniEnv): Record<string, string> {
  return {
    CNI_COMMAND: e.command,
    CNI_CONTAINERID: e.containerId,
    CNI_NETNS: e.netns,
    CNI_IFNAME: e.ifname,
    CNI_ARGS: Object.entries(e.args).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: e.path.join(':'),
  };
}
