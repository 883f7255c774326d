/**
 * What calico-node does once at start, against the datastore: register (create or update) this
 * node's Node with its autodetected address, create the default IP pools from the environment
 * when no pool exists, and allocate the node's tunnel addresses (VXLAN VTEP address and MAC for
 * VXLAN pools and the automatic fallback; IPIP address for IPIP pools) into Node.spec.
 *
 * Every write is a compare-and-swap on the resource's revision, retried on conflict; nothing
 * else in the Node is changed.
 */
import { defaultVtepMac } from '@tabby/felix';
import { DEFAULT_BLOCK_SIZE_V4, DEFAULT_BLOCK_SIZE_V6, isCidr, type IPPool, type Node, type Resource } from '@tabby/api';
import { isDatastoreError, type Datastore } from '@tabby/datastore';
import type { Ipam } from '@tabby/ipam';

/** The environment variables calico-node reads for its default pools. */
export type PoolEnv = Partial<Record<
  | 'CALICO_IPV4POOL_CIDR' | 'CALICO_IPV4POOL_BLOCK_SIZE' | 'CALICO_IPV4POOL_IPIP' | 'CALICO_IPV4POOL_VXLAN' | 'CALICO_IPV4POOL_NAT_OUTGOING' | 'CALICO_IPV4POOL_NODE_SELECTOR'
  | 'CALICO_IPV6POOL_CIDR' | 'CALICO_IPV6POOL_BLOCK_SIZE' | 'CALICO_IPV6POOL_VXLAN' | 'CALICO_IPV6POOL_NAT_OUTGOING' | 'NO_DEFAULT_POOLS',
  string
>>;

async function withCas<T extends Resource>(store: Datastore, key: { kind: string; name: string }, change: (cur: T | undefined) => T | undefined): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    let cur: T | undefined;
    try {
      cur = await store.get<T>(key);
    } catch (e: unknown) {
      if (!isDatastoreError(e, 'NotFound')) throw e;
    }
    const next = change(cur);
    if (!next) return cur;
    try {
      return cur ? await store.update(next) : await store.create(next);
    } catch (e: unknown) {
      const retry = isDatastoreError(e, 'Conflict', 'AlreadyExists');
      if (!retry || attempt >= 10) throw e;
    }
  }
}

/**
 * Creates or updates this node's Node with its addresses (as `addr/len`) and, for a route
 * reflector, its cluster ID.
 */
export async function registerNode(store: Datastore, name: string, addrs: { ipv4?: string; ipv6?: string }, opts: { routeReflectorClusterId?: string } = {}): Promise<Node> {
  const node = await withCas<Node>(store, { kind: 'Node', name }, (cur) => {
    const bgp = { ...(cur?.spec.bgp ?? {}) };
    if (addrs.ipv4) bgp.ipv4Address = addrs.ipv4;
    if (addrs.ipv6) bgp.ipv6Address = addrs.ipv6;
    if (opts.routeReflectorClusterId) bgp.routeReflectorClusterID = opts.routeReflectorClusterId;
    const labels = { ...(cur?.metadata.labels ?? {}), 'kubernetes.io/hostname': name };
    const same = cur && cur.spec.bgp?.ipv4Address === bgp.ipv4Address && cur.spec.bgp?.ipv6Address === bgp.ipv6Address && cur.spec.bgp?.routeReflectorClusterID === bgp.routeReflectorClusterID;
    if (same && cur.metadata.labels?.['kubernetes.io/hostname'] === name) return undefined;
    return {
      apiVersion: cur?.apiVersion ?? 'tabby.dev/v1',
      kind: 'Node',
      metadata: { ...(cur?.metadata ?? { name }), labels },
      spec: { ...(cur?.spec ?? {}), bgp },
    };
  });
  return node!;
}

function encap(v: string | undefined, dflt: 'Never' | 'Always' | 'CrossSubnet'): 'Never' | 'Always' | 'CrossSubnet' {
  if (v === undefined || v === '') return dflt;
  const norm = v.toLowerCase();
  if (norm === 'always') return 'Always';
  if (norm === 'crosssubnet') return 'CrossSubnet';
  if (norm === 'never' || norm === 'off') return 'Never';
  throw new Error(`invalid encapsulation mode "${v}": expected Always, CrossSubnet or Never`);
}

/** The default pools calico-node would create from `env` (none with NO_DEFAULT_POOLS=true). */
export function defaultPools(env: PoolEnv): IPPool[] {
  if ((env.NO_DEFAULT_POOLS ?? '').toLowerCase() === 'true') return [];
  const pools: IPPool[] = [];
  const v4 = env.CALICO_IPV4POOL_CIDR ?? '192.168.0.0/16';
  if (!isCidr(v4)) throw new Error(`CALICO_IPV4POOL_CIDR "${v4}" is not a CIDR`);
  pools.push({
    apiVersion: 'tabby.dev/v1',
    kind: 'IPPool',
    metadata: { name: 'default-ipv4-ippool' },
    spec: {
      cidr: v4, blockSize: Number(env.CALICO_IPV4POOL_BLOCK_SIZE ?? DEFAULT_BLOCK_SIZE_V4), ipipMode: encap(env.CALICO_IPV4POOL_IPIP, 'Never'),
      vxlanMode: encap(env.CALICO_IPV4POOL_VXLAN, 'Never'), natOutgoing: (env.CALICO_IPV4POOL_NAT_OUTGOING ?? 'true') !== 'false', disabled: false,
      disableBGPExport: false, nodeSelector: env.CALICO_IPV4POOL_NODE_SELECTOR ?? 'all()', allowedUses: ['Workload', 'Tunnel'],
    },
  });
  if (env.CALICO_IPV6POOL_CIDR) {
    if (!isCidr(env.CALICO_IPV6POOL_CIDR)) throw new Error(`CALICO_IPV6POOL_CIDR "${env.CALICO_IPV6POOL_CIDR}" is not a CIDR`);
    pools.push({
      apiVersion: 'tabby.dev/v1',
      kind: 'IPPool',
      metadata: { name: 'default-ipv6-ippool' },
      spec: {
        cidr: env.CALICO_IPV6POOL_CIDR, blockSize: Number(env.CALICO_IPV6POOL_BLOCK_SIZE ?? DEFAULT_BLOCK_SIZE_V6), ipipMode: 'Never',
        vxlanMode: encap(env.CALICO_IPV6POOL_VXLAN, 'Never'), natOutgoing: (env.CALICO_IPV6POOL_NAT_OUTGOING ?? 'false') === 'true', disabled: false,
        disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'],
      },
    });
  }
  return pools;
}

/** Creates the default pools when the datastore has no pool at all. Returns what it created. */
export async function ensureDefaultPools(store: Datastore, env: PoolEnv): Promise<string[]> {
  const existing = await store.list<IPPool>({ kind: 'IPPool' });
  if (existing.items.length > 0) return [];
  const made: string[] = [];
  for (const p of defaultPools(env)) {
    try {
      await store.create(p);
      made.push(p.metadata.name);
    } catch (e: unknown) {
      if (!isDatastoreError(e, 'AlreadyExists')) throw e; // another node was first
    }
  }
  return made;
}

/**
 * Allocates this node's tunnel addresses and writes them into Node.spec: the VXLAN VTEP address
 * and MAC when `vxlan` (VXLAN pools, or the automatic fallback), the IPIP address when `ipip`.
 */
export async function ensureTunnelAddresses(store: Datastore, ipam: Ipam, name: string, want: { vxlan: boolean; ipip: boolean; fallback?: boolean }): Promise<Node> {
  const vtep = want.vxlan ? await vtepAddress(ipam, name, want.fallback ?? false) : undefined;
  const tunl = want.ipip ? await ipam.tunnelAddress(name, 'ipip') : undefined;
  const node = await withCas<Node>(store, { kind: 'Node', name }, (cur) => {
    if (!cur) throw new Error(`node ${name}: no Node resource to write tunnel addresses into`);
    const spec = { ...cur.spec, bgp: { ...(cur.spec.bgp ?? {}) } };
    let changed = false;
    if (vtep && spec.ipv4VXLANTunnelAddr !== vtep) {
      spec.ipv4VXLANTunnelAddr = vtep;
      changed = true;
    }
    if (vtep && !spec.vxlanTunnelMACAddr) {
      spec.vxlanTunnelMACAddr = defaultVtepMac(name);
      changed = true;
    }
    if (tunl && spec.bgp.ipv4IPIPTunnelAddr !== tunl) {
      spec.bgp.ipv4IPIPTunnelAddr = tunl;
      changed = true;
    }
    return changed ? { ...cur, spec } : undefined;
  });
  return node!;
}

/**
 * The node's VTEP address. With the automatic fallback on, every node needs one even when no
 * pool uses VXLAN (Calico would allocate none): it then comes from any pool that allows Tunnel
 * use, under the same handle, so IPAM's leak checks know it.
 */
async function vtepAddress(ipam: Ipam, name: string, fallback: boolean): Promise<string> {
  try {
    return await ipam.tunnelAddress(name, 'vxlan');
  } catch (e: unknown) {
    if (!fallback) throw e;
  }
  const handle = `vxlan-tunnel-addr-${name}`;
  const have = await ipam.ipsByHandle(handle);
  if (have[0]) return have[0];
  const got = await ipam.autoAssign({ handle, node: name, num4: 1, use: 'Tunnel' });
  const ip = got.ipv4[0];
  if (!ip) throw new Error(`node ${name}: no VTEP address could be allocated for the BGP fallback`);
  return ip;
}
