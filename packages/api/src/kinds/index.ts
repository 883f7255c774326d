/**
 * All resource kinds. `AnyResource` is the discriminated union over `kind`; `KINDS` lists every
 * kind name, and a switch over `AnyResource['kind']` is exhaustive.
 */
import type { BGPConfiguration, BGPPeer } from './bgp.js';
import type { WorkloadEndpoint } from './endpoint.js';
import type { FelixConfiguration } from './felix.js';
import type { BlockAffinity, IPAMBlock, IPAMHandle } from './ipam.js';
import type { IPAMConfiguration, IPPool } from './ippool.js';
import type { Node } from './node.js';
import type { GlobalNetworkPolicy, NetworkPolicy, Profile } from './policy.js';

export * from './bgp.js';
export * from './endpoint.js';
export * from './felix.js';
export * from './ipam.js';
export * from './ippool.js';
export * from './node.js';
export * from './policy.js';

/** Every resource kind Tabby stores. */
export type AnyResource =
  | IPPool
  | IPAMConfiguration
  | IPAMBlock
  | BlockAffinity
  | IPAMHandle
  | Node
  | BGPConfiguration
  | BGPPeer
  | WorkloadEndpoint
  | NetworkPolicy
  | GlobalNetworkPolicy
  | Profile
  | FelixConfiguration;

/** A kind name. */
export type Kind = AnyResource['kind'];

/** The resource type of a kind name. */
export type ResourceOfKind<K extends Kind> = Extract<AnyResource, { kind: K }>;

/** Every kind name, in a stable order. */
export const KINDS: readonly Kind[] = [
  'IPPool',
  'IPAMConfiguration',
  'IPAMBlock',
  'BlockAffinity',
  'IPAMHandle',
  'Node',
  'BGPConfiguration',
  'BGPPeer',
  'WorkloadEndpoint',
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'Profile',
  'FelixConfiguration',
];

/** True when `kind` is a kind Tabby knows. */
export function isKind(kind: unknown): kind is Kind {
  return typeof kind === 'string' && (KINDS as readonly string[]).includes(kind);
}
