/**
 * Pure operations on an IPAM block's spec (Calico's allocation block): allocate, release, query.
 * Every function returns a new spec and never mutates its argument, so a caller can compute
 * the next state from a read, write it with a compare-and-swap, and on Conflict simply re-read
 * and compute again.
 *
 * Invariants kept (and checked by `blockProblems`): `allocations.length` is the block size;
 * every ordinal is either free (null, listed exactly once in `unallocated`) or allocated (an
 * index into `attributes`, absent from `unallocated`); every attribute is referenced by at
 * least one allocation. Freed ordinals go to the end of `unallocated`, so a released address
 * is reused as late as possible.
 */
import type { AllocationAttribute, IPAMBlockSpec } from '@tabby/api';
import { cidrSize, familyBits, type Cidr } from '@tabby/api';

/** Secondary attribute keys Calico writes on each allocation. */
export const ATTR_NAMESPACE = 'namespace';
export const ATTR_POD = 'pod';
export const ATTR_NODE = 'node';
export const ATTR_TIMESTAMP = 'timestamp';

/** A new, empty block spec for `cidr`. */
export function newBlockSpec(cidr: Cidr, affinity: string | undefined, strictAffinity: boolean, claimTime?: string): IPAMBlockSpec {
  const size = Number(cidrSize(cidr));
  if (familyBits(cidr.family) - cidr.prefixLen > 16) throw new RangeError(`block ${cidr.text} is too large`);
  const spec: IPAMBlockSpec = {
    cidr: cidr.text,
    strictAffinity,
    allocations: new Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    deleted: false,
    sequenceNumber: 0,
    sequenceNumberForAllocation: {},
  };
  if (affinity !== undefined) spec.affinity = affinity;
  if (claimTime !== undefined) spec.affinityClaimTime = claimTime;
  return spec;
}

function clone(spec: IPAMBlockSpec): IPAMBlockSpec {
  return {
    ...spec,
    allocations: [...spec.allocations],
    unallocated: [...spec.unallocated],
    attributes: spec.attributes.map((a) => ({ ...a, ...(a.secondary ? { secondary: { ...a.secondary } } : {}) })),
    sequenceNumberForAllocation: { ...(spec.sequenceNumberForAllocation ?? {}) },
  };
}

/** Number of free addresses. */
export function freeCount(spec: IPAMBlockSpec): number {
  return spec.unallocated.length;
}

/** True when no address of the block is allocated. */
export function isEmpty(spec: IPAMBlockSpec): boolean {
  return spec.unallocated.length === spec.allocations.length;
}

function sameAttr(a: AllocationAttribute, b: AllocationAttribute): boolean {
  return a.handle_id === b.handle_id && JSON.stringify(a.secondary ?? {}) === JSON.stringify(b.secondary ?? {});
}

function attrIndex(spec: IPAMBlockSpec, attr: AllocationAttribute): number {
  const i = spec.attributes.findIndex((a) => sameAttr(a, attr));
  if (i >= 0) return i;
  spec.attributes.push(attr);
  return spec.attributes.length - 1;
}

/** The result of an allocation: the new spec and the ordinals taken (possibly fewer than asked). */
export interface BlockAllocation {
  spec: IPAMBlockSpec;
  ordinals: number[];
}

/** Takes up to `n` free ordinals, oldest-freed first, for `attr`. */
export function allocateInBlock(spec: IPAMBlockSpec, n: number, attr: AllocationAttribute): BlockAllocation {
  const take = Math.min(n, spec.unallocated.length);
  if (take === 0) return { spec, ordinals: [] };
  const next = clone(spec);
  const ordinals = next.unallocated.splice(0, take);
  markAllocated(next, ordinals, attr);
  return { spec: next, ordinals };
}

/** Allocates one specific ordinal; returns undefined when it is already allocated. */
export function allocateOrdinal(spec: IPAMBlockSpec, ordinal: number, attr: AllocationAttribute): IPAMBlockSpec | undefined {
  if (ordinal < 0 || ordinal >= spec.allocations.length || spec.allocations[ordinal] !== null) return undefined;
  const next = clone(spec);
  next.unallocated = next.unallocated.filter((o) => o !== ordinal);
  markAllocated(next, [ordinal], attr);
  return next;
}

function markAllocated(next: IPAMBlockSpec, ordinals: number[], attr: AllocationAttribute): void {
  const idx = attrIndex(next, attr);
  const seq = next.sequenceNumber ?? 0;
  next.sequenceNumber = seq + 1;
  for (const o of ordinals) {
    next.allocations[o] = idx;
    next.sequenceNumberForAllocation![String(o)] = seq;
  }
}

/** The handle holding `ordinal`, or undefined when it is free. */
export function handleAt(spec: IPAMBlockSpec, ordinal: number): string | undefined {
  const idx = spec.allocations[ordinal];
  if (idx === null || idx === undefined) return undefined;
  return spec.attributes[idx]?.handle_id;
}

/** The attribute of `ordinal`, or undefined when it is free. */
export function attributeAt(spec: IPAMBlockSpec, ordinal: number): AllocationAttribute | undefined {
  const idx = spec.allocations[ordinal];
  return idx === null || idx === undefined ? undefined : spec.attributes[idx];
}

/** Ordinals allocated to `handle`. */
export function ordinalsOfHandle(spec: IPAMBlockSpec, handle: string): number[] {
  const out: number[] = [];
  spec.allocations.forEach((idx, o) => {
    if (idx !== null && spec.attributes[idx]?.handle_id === handle) out.push(o);
  });
  return out;
}

/** The result of a release: the new spec and what was freed, with each freed ordinal's handle. */
export interface BlockRelease {
  spec: IPAMBlockSpec;
  released: { ordinal: number; handle: string | undefined }[];
}

/**
 * Frees `ordinals`. Free ordinals are skipped (release is idempotent). With `onlyHandle`, an
 * ordinal held by another handle is skipped too, so a stale caller cannot free a reused address.
 */
export function releaseOrdinals(spec: IPAMBlockSpec, ordinals: number[], onlyHandle?: string): BlockRelease {
  const released: BlockRelease['released'] = [];
  const next = clone(spec);
  for (const o of new Set(ordinals)) {
    const idx = next.allocations[o];
    if (idx === null || idx === undefined) continue;
    const handle = next.attributes[idx]?.handle_id;
    if (onlyHandle !== undefined && handle !== onlyHandle) continue;
    next.allocations[o] = null;
    next.unallocated.push(o);
    delete next.sequenceNumberForAllocation![String(o)];
    released.push({ ordinal: o, handle });
  }
  if (released.length === 0) return { spec, released };
  compactAttributes(next);
  return { spec: next, released };
}

/** Frees every ordinal held by `handle`. */
export function releaseHandleInBlock(spec: IPAMBlockSpec, handle: string): BlockRelease {
  return releaseOrdinals(spec, ordinalsOfHandle(spec, handle), handle);
}

/** Drops attributes no allocation references and renumbers the rest (as Calico does). */
function compactAttributes(spec: IPAMBlockSpec): void {
  const used = new Set<number>();
  for (const idx of spec.allocations) if (idx !== null) used.add(idx);
  const remap = new Map<number, number>();
  const attrs: AllocationAttribute[] = [];
  spec.attributes.forEach((a, i) => {
    if (used.has(i)) {
      remap.set(i, attrs.length);
      attrs.push(a);
    }
  });
  spec.attributes = attrs;
  spec.allocations = spec.allocations.map((idx) => (idx === null ? null : (remap.get(idx) ?? null)));
}

/** Violations of the block invariants (empty when the block is well formed). */
export function blockProblems(spec: IPAMBlockSpec): string[] {
  const out: string[] = [];
  const free = new Set<number>();
  for (const o of spec.unallocated) {
    if (free.has(o)) out.push(`ordinal ${o} listed twice as free`);
    free.add(o);
    if (spec.allocations[o] !== null) out.push(`ordinal ${o} is both free and allocated`);
  }
  spec.allocations.forEach((idx, o) => {
    if (idx === null && !free.has(o)) out.push(`ordinal ${o} is neither free nor allocated`);
    if (idx !== null && (idx < 0 || idx >= spec.attributes.length)) out.push(`ordinal ${o} points at missing attribute ${idx}`);
  });
  return out;
}
