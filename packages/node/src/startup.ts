/**
 * What calico-node does once at start, against the datastore: register (create or update) this
 * node's Node with its autodetected address, create the default IP pools from the environment
 * when no pool exists, and allocate the node's tunnel addresses (VXLAN VTEP address and MAC of
 * each family for VXLAN pools and the automatic fallback; IPIP address for IPIP pools) into
 * Node.spec.
 *
 * Every write is a compare-and-swap on the resource's revision, retried on conflict; nothing
 * else in the Node is changed.
 */
import { defaultVtepMac, defaultVtepMacV6 } from '@tabby/felix';
import { DEFAULT_BLOCK_SIZE_V4, DEFAULT_BLOCK_SIZE_V6, isCidr, tryParseCidr, type IPPool, type Node, type Resource } from '@tabby/api';
import { isDatastoreError, type Datastore } from '@tabby/datastore';
import { vxlanTunnelHandle, type Ipam } from '@tabby/ipam';

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
 * and MAC when `vxlan` (VXLAN pools, or the automatic fallback), the IPIP address when `ipip`,
 * and the IPv6 VTEP address and MAC (`ipv6VXLANTunnelAddr`, `vxlanTunnelMACAddrV6`) when
 * `vxlan6` — by default when the Node has an IPv6 address and an enabled IPv6 pool uses VXLAN,
 * or the fallback is on and an enabled IPv6 pool exists.
 */
export async function ensureTunnelAddresses(store: Datastore, ipam: Ipam, name: string, want: { vxlan: boolean; ipip: boolean; fallback?: boolean; vxlan6?: boolean }): Promise<Node> {
  const fallback = want.fallback ?? false;
  const vtep = want.vxlan ? await vtepAddress(ipam, name, fallback, 4) : undefined;
  const vtep6 = (want.vxlan6 ?? (await wantsVtep6(store, name, fallback))) ? await vtepAddress(ipam, name, fallback, 6) : undefined;
  const tunl = want.ipip ? await ipam.tunnelAddress(name, 'ipip') : undefined;
  const node = await withCas<Node>(store, { kind: 'Node', name }, (cur) => {
    if (!cur) throw new Error(`node ${name}: no Node resource to write tunnel addresses into`);
    const spec = { ...cur.spec, bgp: { ...(cur.spec.bgp ?? {}) } };
    let changed = false;
    const set = <K extends 'ipv4VXLANTunnelAddr' | 'vxlanTunnelMACAddr' | 'ipv6VXLANTunnelAddr' | 'vxlanTunnelMACAddrV6'>(k: K, v: string | undefined, keep = false): void => {
      if (v === undefined || spec[k] === v || (keep && spec[k])) return;
      spec[k] = v;
      changed = true;
    };
    set('ipv4VXLANTunnelAddr', vtep);
    set('vxlanTunnelMACAddr', vtep && defaultVtepMac(name), true);
    set('ipv6VXLANTunnelAddr', vtep6);
    set('vxlanTunnelMACAddrV6', vtep6 && defaultVtepMacV6(name), true);
    if (tunl && spec.bgp.ipv4IPIPTunnelAddr !== tunl) {
      spec.bgp.ipv4IPIPTunnelAddr = tunl;
      changed = true;
    }
    return changed ? { ...cur, spec } : undefined;
  });
  return node!;
}

/** Whether the node needs an IPv6 VTEP: it has an IPv6 address, and IPv6 pools use VXLAN or may fall back. */
async function wantsVtep6(store: Datastore, name: string, fallback: boolean): Promise<boolean> {
  let node: Node;
  try {
    node = await store.get<Node>({ kind: 'Node', name });
  } catch (e: unknown) {
    if (isDatastoreError(e, 'NotFound')) return false;
    throw e;
  }
  if (!node.spec.bgp?.ipv6Address) return false;
  const v6 = (await store.list<IPPool>({ kind: 'IPPool' })).items.filter((p) => !p.spec.disabled && tryParseCidr(p.spec.cidr)?.family === 6);
  return v6.some((p) => p.spec.vxlanMode !== 'Never') || (fallback && v6.length > 0);
}

/**
 * The node's VTEP address of a family. With the automatic fallback on, every node needs one even
 * when no pool of that family uses VXLAN (Calico would allocate none): it then comes from any
 * pool of the family that allows Tunnel use, under the same handle, so IPAM's leak checks know it.
 */
async function vtepAddress(ipam: Ipam, name: string, fallback: boolean, family: 4 | 6): Promise<string> {
  try {
    return await ipam.tunnelAddress(name, 'vxlan', { family });
  } catch (e: unknown) {
    if (!fallback) throw e;
  }
  const handle = vxlanTunnelHandle(name, family);
  const have = await ipam.ipsByHandle(handle);
  if (have[0]) return have[0];
  const got = await ipam.autoAssign({ handle, node: name, num4: family === 4 ? 1 : 0, num6: family === 6 ? 1 : 0, use: 'Tunnel' });
  const ip = (family === 4 ? got.ipv4 : got.ipv6)[0];
  if (!ip) throw new Error(`node ${name}: no IPv${family} VTEP address could be allocated for the BGP fallback`);
  return ip;
}
