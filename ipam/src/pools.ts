/**
 * Which pools serve a request. Pure: takes the pools, the node's labels and a selector matcher.
 *
 * Rules (as Calico's): a pool serves a request when it is enabled, of the requested family, its
 * `allowedUses` include the request's use, its assignment mode is Automatic, its `nodeSelector`
 * matches the node's labels and (for workloads) its `namespaceSelector`, when set, matches the
 * namespace's labels. Pools named explicitly in the request override the selectors and the
 * assignment mode, but a disabled pool is never used. Node labels are read at request time, so
 * relabelling a node changes where new addresses come from and leaves existing ones alone.
 */
import { cidrContains, tryParseCidr, type IPPool, type IpFamily } from '@tabby/api';
import { ipamError } from './errors.js';
import type { IpUse } from './types.js';

/** Evaluates a selector expression against labels. */
export type SelectorMatcher = (selector: string, labels: Record<string, string>) => boolean;

/** What `selectPools` needs to know about a request. */
export interface PoolQuery {
  family: IpFamily;
  use: IpUse;
  node: string;
  nodeLabels: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  /** Pool names or CIDRs named by the request. */
  explicit?: string[];
}

/** The family of a pool's CIDR, or undefined when its CIDR is malformed. */
export function poolFamily(pool: IPPool): IpFamily | undefined {
  return tryParseCidr(pool.spec.cidr)?.family;
}

/** The pool's allowed uses, defaulting as Calico does. */
export function allowedUses(pool: IPPool): readonly string[] {
  return pool.spec.allowedUses?.length ? pool.spec.allowedUses : ['Workload', 'Tunnel'];
}

/** The pool's block size, defaulting as Calico does. */
export function poolBlockSize(pool: IPPool): number {
  if (pool.spec.blockSize) return pool.spec.blockSize;
  return poolFamily(pool) === 6 ? 122 : 26;
}

function findPool(pools: IPPool[], ref: string): IPPool | undefined {
  const byName = pools.find((p) => p.metadata.name === ref);
  if (byName) return byName;
  const c = tryParseCidr(ref);
  return c ? pools.find((p) => tryParseCidr(p.spec.cidr)?.text === c.text) : undefined;
}

function explicitPools(pools: IPPool[], q: PoolQuery, explicit: string[]): IPPool[] {
  const out: IPPool[] = [];
  for (const ref of explicit) {
    const p = findPool(pools, ref);
    if (!p) {
      throw ipamError('PoolNotFound', `IP pool "${ref}" does not exist: create it, or fix the pool name/CIDR in the CNI config or the pod's annotation (known pools: ${pools.map((x) => x.metadata.name).join(', ') || 'none'})`, { pool: ref });
    }
    if (p.spec.disabled) {
      throw ipamError('PoolDisabled', `IP pool "${p.metadata.name}" (${p.spec.cidr}) is disabled: enable it (spec.disabled: false) or request another pool`, { pool: p.metadata.name });
    }
    if (poolFamily(p) !== q.family) {
      throw ipamError('InvalidRequest', `IP pool "${p.metadata.name}" (${p.spec.cidr}) is not an IPv${q.family} pool: list it under the IPv${poolFamily(p)} pools`, { pool: p.metadata.name });
    }
    if (!allowedUses(p).includes(q.use)) {
      throw ipamError('InvalidRequest', `IP pool "${p.metadata.name}" does not allow use ${q.use} (allowedUses: ${allowedUses(p).join(', ')}): add ${q.use} to its allowedUses or request another pool`, { pool: p.metadata.name });
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * The pools that serve `q`, in name order (explicit ones in the order given). Throws
 * PoolNotFound / PoolDisabled / InvalidRequest for bad explicit pools, NoPoolForNode when
 * nothing serves the request.
 */
export function selectPools(pools: IPPool[], q: PoolQuery, matches: SelectorMatcher): IPPool[] {
  if (q.explicit && q.explicit.length > 0) return explicitPools(pools, q, q.explicit);
  const out = pools
    .filter((p) => !p.spec.disabled && poolFamily(p) === q.family)
    .filter((p) => allowedUses(p).includes(q.use))
    .filter((p) => (p.spec.assignmentMode ?? 'Automatic') === 'Automatic')
    .filter((p) => matches(p.spec.nodeSelector || 'all()', q.nodeLabels))
    .filter((p) => q.use !== 'Workload' || !p.spec.namespaceSelector || matches(p.spec.namespaceSelector, q.namespaceLabels ?? {}))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  if (out.length === 0) {
    throw ipamError(
      'NoPoolForNode',
      `no enabled IPv${q.family} pool with allowedUses ${q.use} selects node "${q.node}"${q.use === 'Workload' ? ' and this namespace' : ' (a tunnel address also needs the pool\'s ipipMode / vxlanMode to be Always or CrossSubnet)'}: create one, or fix the pools' nodeSelector/namespaceSelector or the node's labels`,
      { node: q.node, family: q.family, use: q.use },
    );
  }
  return out;
}

/** The pool whose CIDR contains `ip` (enabled or not), if any. */
export function poolOf(pools: IPPool[], ip: string): IPPool | undefined {
  return pools.find((p) => {
    try {
      return cidrContains(p.spec.cidr, ip);
    } catch {
      return false;
    }
  });
}
