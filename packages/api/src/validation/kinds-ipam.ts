/**
 * Validation of IPPool, IPAMConfiguration, IPAMBlock, BlockAffinity and IPAMHandle, following
 * Calico's validator: blockSize 20-32 (IPv4) / 116-128 (IPv6), a pool at least one block large,
 * IPIP and VXLAN not both on, no IPIP on IPv6, no link-local pools, and for blocks the
 * allocation invariants (every ordinal either allocated or free, exactly once).
 */
import { z } from 'zod';
import { cidrOverlaps, cidrSize, isCanonicalCidr, parseCidr, tryParseCidr } from '../net/cidr.js';
import {
  DEFAULT_BLOCK_SIZE_V4, DEFAULT_BLOCK_SIZE_V6,
  type BlockAffinitySpec, type IPAMBlockSpec, type IPAMConfigurationSpec, type IPAMHandleSpec, type IPPoolSpec,
} from '../kinds/index.js';
import { bool, cidr, field, intIn, nonEmpty, oneOf, selector, str } from './fields.js';
import { describeValue } from './issues.js';
import { arrayAt, intAt, stringAt, type KindRules } from './rules.js';

const ENCAP = ['Never', 'Always', 'CrossSubnet'] as const;
const MAX_INT32 = 2147483647;

/** Block size ranges per family (Calico: IPv4 20-32, IPv6 116-128). */
export const BLOCK_SIZE_RANGE = { 4: [20, 32], 6: [116, 128] } as const;

const wholeNumber = field<number>((v) =>
  typeof v === 'number' && Number.isInteger(v) ? { value: v } : { error: `expected a whole number, got ${describeValue(v)}` },
{ type: 'integer' });

/** IPPool. */
export const ipPoolRules: KindRules<IPPoolSpec> = {
  spec: z
    .object({
      cidr: cidr({ canonical: true }),
      blockSize: wholeNumber.optional(),
      ipipMode: oneOf(ENCAP).default('Never'),
      vxlanMode: oneOf(ENCAP).default('Never'),
      natOutgoing: bool.default(false),
      disabled: bool.default(false),
      disableBGPExport: bool.default(false),
      nodeSelector: selector.default('all()'),
      namespaceSelector: selector.optional(),
      allowedUses: z.array(oneOf(['Workload', 'Tunnel', 'LoadBalancer'] as const)).default(() => ['Workload', 'Tunnel']),
      assignmentMode: oneOf(['Automatic', 'Manual'] as const).optional(),
    })
    .strict() as z.ZodType<IPPoolSpec, z.ZodTypeDef, unknown>,
  check(raw, add) {
    const pool = typeof raw.cidr === 'string' ? tryParseCidr(raw.cidr) : undefined;
    const ipip = stringAt(raw, 'ipipMode') ?? 'Never';
    const vxlan = stringAt(raw, 'vxlanMode') ?? 'Never';
    if (ipip !== 'Never' && vxlan !== 'Never') {
      add(['vxlanMode'], `IPIP and VXLAN cannot both be enabled on one pool (ipipMode is ${ipip}, vxlanMode is ${vxlan}); set one of them to Never`);
    }
    const uses = arrayAt(raw, 'allowedUses');
    if (uses?.includes('LoadBalancer') && uses.length > 1) {
      add(['allowedUses'], 'LoadBalancer cannot be combined with other uses in one pool');
    }
    if (!pool) return;
    // Calico rejects a pool CIDR with host bits set rather than guessing what was meant.
    if (typeof raw.cidr === 'string' && !isCanonicalCidr(raw.cidr)) add(['cidr'], `${describeValue(raw.cidr)} has host bits set; use ${pool.text}`);
    const [min, max] = BLOCK_SIZE_RANGE[pool.family];
    const bs = intAt(raw, 'blockSize') ?? (pool.family === 4 ? DEFAULT_BLOCK_SIZE_V4 : DEFAULT_BLOCK_SIZE_V6);
    if (bs < min || bs > max) add(['blockSize'], `${bs} is outside ${min}-${max}`);
    else if (pool.prefixLen > bs && raw.disabled !== true) {
      // Calico: only enabled pools must hold at least one block.
      add(['cidr'], `the pool ${pool.text} is smaller than one block (/${bs}); use a larger pool or a blockSize of at least ${pool.prefixLen}`);
    }
    // Calico refuses IPIP on IPv6 pools: the kernel's ipip device carries IPv4 only.
    if (pool.family === 6 && ipip !== 'Never') add(['ipipMode'], `IPIP is not supported on an IPv6 pool (ipipMode is ${ipip}); use vxlanMode or Never`);
    const linkLocal = pool.family === 4 ? '169.254.0.0/16' : 'fe80::/10';
    if (cidrOverlaps(pool, linkLocal)) add(['cidr'], `${pool.text} overlaps the link-local range ${linkLocal}`);
  },
  finish(spec) {
    if (spec.blockSize !== undefined) return spec;
    const family = parseCidr(spec.cidr).family;
    return { ...spec, blockSize: family === 4 ? DEFAULT_BLOCK_SIZE_V4 : DEFAULT_BLOCK_SIZE_V6 };
  },
};

/** IPAMConfiguration (only `default` exists). */
export const ipamConfigurationRules: KindRules<IPAMConfigurationSpec> = {
  spec: z
    .object({
      strictAffinity: bool.default(false),
      maxBlocksPerHost: intIn(0, MAX_INT32).default(0),
      autoAllocateBlocks: bool.default(true),
    })
    .strict(),
  nameProblem: (name) => (name === 'default' ? undefined : `an IPAMConfiguration must be named "default", not ${describeValue(name)}`),
};

const allocation = field<number | null>((v) => {
  if (v === null) return { value: null };
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { value: v };
  return { error: `expected null or an attribute index (a whole number ≥ 0), got ${describeValue(v)}` };
}, { type: 'integer', minimum: 0, nullable: true });

const IPAM_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.:]*[A-Za-z0-9])?$/;
function ipamNameProblem(name: string): string | undefined {
  if (name.length > 253 || !IPAM_NAME.test(name)) {
    return `${describeValue(name)} must be at most 253 letters, digits, "-", "_", "." and ":", starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Boolean, also as the strings "true"/"false" (Calico's CRD stores BlockAffinity.deleted so). */
const boolish = field<boolean>((v) => {
  if (typeof v === 'boolean') return { value: v };
  if (v === 'true' || v === 'false') return { value: v === 'true' };
  return { error: `expected true or false, got ${describeValue(v)}` };
}, { type: 'boolean' });

/** IPAMBlock. */
export const ipamBlockRules: KindRules<IPAMBlockSpec> = {
  spec: z
    .object({
      cidr: cidr(),
      affinity: str.optional(),
      affinityClaimTime: str.optional(),
      strictAffinity: bool.default(false),
      allocations: z.array(allocation).optional(),
      unallocated: z.array(intIn(0, 65535)).optional(),
      attributes: z.array(z.object({ handle_id: str.optional(), secondary: z.record(z.string(), z.string()).optional() }).strict()).default(() => []),
      deleted: boolish.default(false),
      sequenceNumber: intIn(0, Number.MAX_SAFE_INTEGER).optional(),
      sequenceNumberForAllocation: z.record(z.string(), z.number()).optional(),
    })
    .strict() as z.ZodType<IPAMBlockSpec, z.ZodTypeDef, unknown>,
  check(raw, add) {
    const text = stringAt(raw, 'cidr');
    const block = text !== undefined ? tryParseCidr(text) : undefined;
    if (text !== undefined && block && !isCanonicalCidr(text)) add(['cidr'], `${describeValue(text)} has host bits set; use ${block.text}`);
    const affinity = stringAt(raw, 'affinity');
    if (affinity !== undefined && !/^(host|virtual):.+$/.test(affinity)) {
      add(['affinity'], `${describeValue(affinity)} must look like host:<node> or virtual:<name>`);
    }
    if (!block) return;
    const [min] = BLOCK_SIZE_RANGE[block.family];
    if (block.prefixLen < min) {
      add(['cidr'], `a block must be /${min} or smaller, got ${block.text}`);
      return;
    }
    checkAllocations(raw, Number(cidrSize(block)), add);
  },
  finish(spec) {
    const size = Number(cidrSize(spec.cidr));
    return {
      ...spec,
      allocations: spec.allocations ?? new Array<number | null>(size).fill(null),
      unallocated: spec.unallocated ?? Array.from({ length: size }, (_, i) => i),
    };
  },
  nameProblem: ipamNameProblem,
};

function checkAllocations(raw: Readonly<Record<string, unknown>>, size: number, add: (p: (string | number)[], m: string) => void): void {
  const allocs = arrayAt(raw, 'allocations');
  const free = arrayAt(raw, 'unallocated');
  const attrs = arrayAt(raw, 'attributes') ?? [];
  if (allocs === undefined && free === undefined) return;
  if (allocs === undefined || free === undefined) {
    add([allocs === undefined ? 'allocations' : 'unallocated'], 'allocations and unallocated must be given together');
    return;
  }
  if (allocs.length !== size) {
    add(['allocations'], `has ${allocs.length} entries but the block has ${size} addresses`);
    return;
  }
  const seen = new Set<number>();
  free.forEach((o, i) => {
    if (typeof o !== 'number') return;
    if (o >= size) add(['unallocated', i], `ordinal ${o} is outside the block (0-${size - 1})`);
    else if (seen.has(o)) add(['unallocated', i], `ordinal ${o} is listed twice`);
    else if (allocs[o] !== null) add(['unallocated', i], `ordinal ${o} is also allocated`);
    seen.add(o);
  });
  allocs.forEach((a, i) => {
    if (typeof a === 'number' && a >= attrs.length) add(['allocations', i], `attribute index ${a} is outside attributes (${attrs.length} entries)`);
  });
  const missing = allocs.findIndex((a, i) => a === null && !seen.has(i));
  if (missing >= 0) add(['unallocated'], `ordinal ${missing} is neither allocated nor listed as unallocated`);
}

/** BlockAffinity. */
export const blockAffinityRules: KindRules<BlockAffinitySpec> = {
  spec: z
    .object({
      state: oneOf(['pending', 'confirmed', 'pendingDeletion'] as const),
      node: nonEmpty,
      type: oneOf(['host', 'virtual'] as const).optional(),
      cidr: cidr({ canonical: true }),
      deleted: boolish.default(false),
    })
    .strict(),
  nameProblem: ipamNameProblem,
};

/** IPAMHandle. */
export const ipamHandleRules: KindRules<IPAMHandleSpec> = {
  spec: z
    .object({
      handleID: nonEmpty,
      block: z.record(z.string(), intIn(0, 65536)).default(() => ({})),
      deleted: boolish.default(false),
    })
    .strict(),
  check(raw, add) {
    const blocks = raw.block;
    if (blocks === null || typeof blocks !== 'object') return;
    for (const k of Object.keys(blocks)) {
      if (!tryParseCidr(k)) add(['block', k], `${describeValue(k)} is not a block CIDR`);
    }
  },
  nameProblem: ipamNameProblem,
};
