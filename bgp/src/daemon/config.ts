/**
 * The `tabby-bgp` configuration file (YAML): parsed and validated into a `DaemonConfig`.
 *
 * Invariants: a returned config is complete (every default filled in), addresses are in
 * canonical text, prefixes are canonical CIDRs, and every error names the file and the field
 * path (`peers[1].asn`) with what was expected, so an operator can fix it without reading code.
 * Pure: the caller reads the file; `parseDaemonConfig` only sees its text.
 */
import { TabbyError, canonicalCidr, canonicalIp, isCidr, isIp } from '@tabby/api';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Family } from '../codec/types.js';
import type { BgpFilterSpec } from '../rib/bgp-filter.js';

/** Error codes of the daemon layer. */
export type DaemonErrorCode = 'InvalidConfig' | 'ConfigUnreadable' | 'StatusSocket' | 'BadRequest';

/** The one error class of the daemon layer. */
export class DaemonError extends TabbyError<DaemonErrorCode> {}

/** How a peer is shown in `tabby-bgp status` (calicoctl's "Peer type" column). */
export type PeerType = 'node-to-node mesh' | 'global' | 'node specific' | 'route reflector client' | 'route reflector';

/** One configured peer, defaults applied. */
export interface PeerConfig {
  address: string;
  asn: number;
  port: number;
  /** Local address to connect from / bind (optional). */
  localAddress?: string;
  passive: boolean;
  routeReflectorClient: boolean;
  /**
   * NEXT_HOP toward this peer: `self` always our address, `keep` never changed (RFC 4456 §10
   * reflection style), `auto` our address toward eBGP peers only (RFC 4271 §5.1.3).
   */
  nextHop: 'auto' | 'self' | 'keep';
  /** TCP-MD5 password (RFC 2385). */
  password?: string;
  /** GTSM (RFC 5082): the maximum hop count; absent = off. */
  ttlSecurity?: number;
  families: Family[];
  /** Graceful restart towards this peer (RFC 4724); restart time in seconds, absent = off. */
  gracefulRestart?: { restartTime: number };
  /** Max-prefix limit (Cease 1 on excess) and the delay before reconnecting, seconds. */
  maxPrefixes?: { limit: number; restartAfter: number };
  holdTime: number;
  /** BFD (RFC 5880/5881) with this peer, ms; absent = off. */
  bfd?: { minRx: number; minTx: number; multiplier: number };
  /** Calico BGPFilters applied to this peer (resolved from the file's `filters` by name), in order. */
  filters: BgpFilterSpec[];
  /** RFC 9687 SendHoldTime, seconds (0 = off); absent = the session default. */
  sendHoldTime?: number;
  type: PeerType;
}

/** A locally originated prefix. */
export interface OriginatedPrefix {
  prefix: string;
  med?: number;
  communities?: number[];
  nextHop?: string;
}

/** The whole daemon configuration, defaults applied. */
export interface DaemonConfig {
  routerId: string;
  asn: number;
  /** Where to accept connections; null = never listen. */
  listen: { address: string; port: number } | null;
  clusterId?: string;
  holdTime: number;
  peers: PeerConfig[];
  prefixes: OriginatedPrefix[];
  statusSocket?: string;
  /** Restart time we advertise when graceful restart is on for a peer (seconds). */
  gracefulRestartTime: number;
}

const ip = z.string().refine(isIp, { message: 'expected an IP address' });
const ipv4 = z.string().regex(/^\d+\.\d+\.\d+\.\d+$/, 'expected a dotted-quad IPv4 address').refine(isIp, { message: 'expected a dotted-quad IPv4 address' });
const asn = z.number().int().min(1).max(4294967295);
// RFC 4271 §4.2: hold time 0 or at least 3 seconds.
const holdTime = z.number().int().min(0).max(65535).refine((h) => h === 0 || h >= 3, { message: 'hold time must be 0 or 3..65535 (RFC 4271 §4.2)' });
const family = z.enum(['ipv4-unicast', 'ipv6-unicast']);
const community = z.union([z.number().int().min(0).max(0xffffffff), z.string().regex(/^\d+:\d+$/, 'expected "ASN:value"')]);

const peerSchema = z
  .object({
    address: ip,
    asn,
    port: z.number().int().min(1).max(65535).default(179),
    localAddress: ip.optional(),
    passive: z.boolean().default(false),
    routeReflectorClient: z.boolean().default(false),
    nextHop: z.enum(['auto', 'self', 'keep']).optional(),
    /** Older spelling of `nextHop: self`. */
    nextHopSelf: z.boolean().optional(),
    password: z.string().min(1).max(80).optional(),
    // RFC 5082 §3: TTL security hop count, 1..254.
    ttlSecurity: z.union([z.boolean(), z.number().int().min(1).max(254)]).optional(),
    families: z.array(family).min(1).optional(),
    gracefulRestart: z.union([z.boolean(), z.object({ restartTime: z.number().int().min(1).max(4095) }).strict()]).optional(),
    maxPrefixes: z
      .union([z.number().int().min(1), z.object({ limit: z.number().int().min(1), restartAfter: z.number().int().min(1).default(30) }).strict()])
      .optional(),
    holdTime: holdTime.optional(),
    sendHoldTime: z.number().int().min(0).max(86400).optional(),
    bfd: z
      .union([z.boolean(), z.object({ minRx: z.number().int().min(10).max(60_000).default(300), minTx: z.number().int().min(10).max(60_000).default(300), multiplier: z.number().int().min(1).max(255).default(3) }).strict()])
      .optional(),
    /** Names of entries of the top-level `filters` (Calico BGPPeer.spec.filters). */
    filters: z.array(z.string().min(1)).optional(),
    type: z.enum(['node-to-node mesh', 'global', 'node specific', 'route reflector client', 'route reflector']).optional(),
  })
  .strict();

const filterRule = z
  .object({
    action: z.enum(['Accept', 'Reject']),
    cidr: z.string().refine(isCidr, { message: 'expected a CIDR' }).optional(),
    matchOperator: z.enum(['Equal', 'NotEqual', 'In', 'NotIn']).optional(),
    prefixLength: z.object({ min: z.number().int().min(0).max(128).optional(), max: z.number().int().min(0).max(128).optional() }).strict().optional(),
    source: z.literal('RemotePeers').optional(),
    interface: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => (r.cidr === undefined) === (r.matchOperator === undefined), { message: 'cidr and matchOperator go together (Calico BGPFilter)' });
const filterRules = { exportV4: z.array(filterRule).optional(), importV4: z.array(filterRule).optional(), exportV6: z.array(filterRule).optional(), importV6: z.array(filterRule).optional() };
/** A BGPFilter: `{ name, exportV4, ... }`, or Calico's resource form `{ kind: BGPFilter, metadata: { name }, spec }`. */
const filterSchema = z.preprocess(
  (v) => {
    if (typeof v !== 'object' || v === null || !('spec' in v)) return v;
    const r = v as { metadata?: { name?: unknown }; spec?: object };
    return { name: r.metadata?.name, ...r.spec };
  },
  z.object({ name: z.string().min(1), ...filterRules }).strict(),
);

const prefixObjectSchema = z
  .object({ prefix: z.string(), med: z.number().int().min(0).max(0xffffffff).optional(), communities: z.array(community).optional(), nextHop: ip.optional() })
  .strict();

const V4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Canonical IPv4 CIDR text without bigint arithmetic (configs may list a million prefixes), or undefined. */
export function canonicalV4Cidr(text: string): string | undefined {
  const m = V4_CIDR.exec(text);
  if (!m) return undefined;
  const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  const len = Number(m[5]);
  if (len > 32 || o.some((x) => x > 255)) return undefined;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const v = ((((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0) & mask) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${len}`;
}

function canonicalPrefix(text: string): string | undefined {
  const v4 = canonicalV4Cidr(text);
  if (v4 !== undefined) return v4;
  return text.includes(':') && isCidr(text) ? canonicalCidr(text) : undefined;
}

const configSchema = z
  .object({
    routerId: ipv4,
    asn,
    listen: z.union([z.null(), z.literal('none'), z.object({ address: ip.default('0.0.0.0'), port: z.number().int().min(0).max(65535).default(179) }).strict()]).optional(),
    clusterId: ipv4.optional(),
    holdTime: holdTime.default(90),
    gracefulRestartTime: z.number().int().min(1).max(4095).default(120),
    peers: z.array(peerSchema).default([]),
    // Elements are checked one by one below (strings on a fast path: there may be a million).
    prefixes: z.array(z.unknown()).default([]),
    statusSocket: z.string().min(1).optional(),
    filters: z.array(filterSchema).default([]),
  })
  .strict();

/** `peers[1].asn` from a zod path. */
function fieldPath(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(top level)';
}

function invalid(file: string, field: string, message: string): DaemonError {
  return new DaemonError('InvalidConfig', `${file}: ${field}: ${message}`, { file, field });
}

function parseCommunity(c: number | string): number {
  if (typeof c === 'number') return c;
  const [hi, lo] = c.split(':').map(Number) as [number, number];
  return ((hi & 0xffff) * 0x10000 + (lo & 0xffff)) >>> 0;
}

/**
 * Parses and validates the YAML text of `file`. Throws `DaemonError('InvalidConfig')` naming
 * the file and the field.
 */
export function parseDaemonConfig(text: string, file: string): DaemonConfig {
  let raw: unknown;
  try {
    // YAML is a superset of JSON; a JSON document (e.g. generated with a million prefixes) takes the fast parser.
    raw = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  } catch (e: unknown) {
    throw invalid(file, '(syntax)', e instanceof Error ? e.message : String(e));
  }
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw invalid(file, fieldPath(issue.path), issue.message);
  }
  const c = r.data;
  const filters = new Map<string, BgpFilterSpec>();
  c.filters.forEach((f, i) => {
    if (filters.has(f.name)) throw invalid(file, `filters[${i}].name`, `duplicate filter "${f.name}"`);
    for (const [k, v6] of [['exportV4', false], ['importV4', false], ['exportV6', true], ['importV6', true]] as const)
      f[k]?.forEach((rule, j) => {
        if (rule.cidr !== undefined && rule.cidr.includes(':') !== v6) throw invalid(file, `filters[${i}].${k}[${j}].cidr`, `${rule.cidr} is not an IPv${v6 ? 6 : 4} CIDR`);
      });
    filters.set(f.name, f);
  });
  const seen = new Set<string>();
  const peers = c.peers.map((p, i): PeerConfig => {
    const address = canonicalIp(p.address);
    // Two peers may share an address on different ports (two speakers on one host).
    const key = `${address} port ${p.port}`;
    if (seen.has(key)) throw invalid(file, `peers[${i}].address`, `duplicate peer ${address}${p.port === 179 ? '' : ` port ${p.port}`} (peers on one address need different ports)`);
    seen.add(key);
    if (p.routeReflectorClient && p.asn !== c.asn) throw invalid(file, `peers[${i}].routeReflectorClient`, 'route reflector clients must be iBGP peers (same AS)');
    const v6 = address.includes(':');
    const ttl = p.ttlSecurity === true ? 1 : p.ttlSecurity === false ? undefined : p.ttlSecurity;
    const gr = p.gracefulRestart === true ? { restartTime: c.gracefulRestartTime } : p.gracefulRestart === false ? undefined : p.gracefulRestart;
    if (p.nextHopSelf !== undefined && p.nextHop !== undefined && p.nextHopSelf !== (p.nextHop === 'self')) {
      throw invalid(file, `peers[${i}].nextHop`, `nextHop: ${p.nextHop} contradicts nextHopSelf: ${p.nextHopSelf}; keep only nextHop`);
    }
    const mp = typeof p.maxPrefixes === 'number' ? { limit: p.maxPrefixes, restartAfter: 30 } : p.maxPrefixes;
    return {
      address,
      asn: p.asn,
      port: p.port,
      localAddress: p.localAddress ? canonicalIp(p.localAddress) : undefined,
      passive: p.passive,
      routeReflectorClient: p.routeReflectorClient,
      nextHop: p.nextHop ?? (p.nextHopSelf ? 'self' : 'auto'),
      password: p.password,
      ttlSecurity: ttl,
      families: p.families ?? (v6 ? ['ipv6-unicast'] : ['ipv4-unicast', 'ipv6-unicast']),
      gracefulRestart: gr,
      maxPrefixes: mp,
      holdTime: p.holdTime ?? c.holdTime,
      sendHoldTime: p.sendHoldTime,
      bfd: p.bfd === true ? { minRx: 300, minTx: 300, multiplier: 3 } : p.bfd === false ? undefined : p.bfd,
      filters: (p.filters ?? []).map((name, j) => {
        const f = filters.get(name);
        if (!f) throw invalid(file, `peers[${i}].filters[${j}]`, `no filter named "${name}" in filters`);
        return f;
      }),
      type: p.type ?? (p.routeReflectorClient ? 'route reflector client' : 'global'),
    };
  });
  if (peers.some((p) => p.routeReflectorClient) && !c.clusterId) {
    // RFC 4456 §7: a reflector without a configured cluster ID uses its router ID.
  }
  const prefixes = c.prefixes.map((p, i): OriginatedPrefix => {
    if (typeof p === 'string') {
      const prefix = canonicalPrefix(p);
      if (prefix === undefined) throw invalid(file, `prefixes[${i}]`, `"${p}" is not a CIDR`);
      return { prefix };
    }
    const r = prefixObjectSchema.safeParse(p);
    if (!r.success) throw invalid(file, fieldPath(['prefixes', i, ...r.error.issues[0]!.path]), r.error.issues[0]!.message);
    const o = r.data;
    const prefix = canonicalPrefix(o.prefix);
    if (prefix === undefined) throw invalid(file, `prefixes[${i}].prefix`, `"${o.prefix}" is not a CIDR`);
    return { prefix, med: o.med, communities: o.communities?.map(parseCommunity), nextHop: o.nextHop ? canonicalIp(o.nextHop) : undefined };
  });
  const listen = c.listen === null || c.listen === 'none' ? null : { address: canonicalIp(c.listen?.address ?? '0.0.0.0'), port: c.listen?.port ?? 179 };
  return { routerId: c.routerId, asn: c.asn, listen, clusterId: c.clusterId, holdTime: c.holdTime, peers, prefixes, statusSocket: c.statusSocket, gracefulRestartTime: c.gracefulRestartTime };
}

/** True when two peer configs are equal (unchanged peers survive a reload untouched). */
export function samePeer(a: PeerConfig, b: PeerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
