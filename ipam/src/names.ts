/**
 * Resource names of the IPAM objects, as Calico derives them, and validation of the identifiers
 * a caller passes in (handle IDs, node names). Pure.
 *
 * Invariants: a block's name is a function of its CIDR alone (`10.0.0.0/26` → `10-0-0-0-26`),
 * so two nodes racing to create the same block collide on one key and the datastore lets only
 * one create win; an affinity's name is `<node>-<block name>`, so each node has at most one
 * affinity per block; a handle's resource name is its handle ID.
 */
import { ipamError } from './errors.js';

/** Calico's `names.CIDRToName`: dots, colons and the slash become dashes. */
export function blockName(cidr: string): string {
  return cidr.replace(/[.:/]/g, '-');
}

/** The name of node `node`'s affinity to block `cidr` (Calico: `<host>-<cidr name>`). */
export function affinityName(node: string, cidr: string): string {
  return `${node}-${blockName(cidr)}`;
}

/** The `affinity` field of a block affine to `node`. */
export function hostAffinity(node: string): string {
  return `host:${node}`;
}

/** The node of a block's `affinity` field (`host:<node>`), or undefined for none / other types. */
export function affinityNode(affinity: string | undefined): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

/** Handle of a node's IPIP tunnel address (Calico's name). */
export function ipipTunnelHandle(node: string): string {
  return `ipip-tunnel-addr-${node}`;
}

/** Handle of a node's IPv4 VXLAN tunnel address (Calico's name). */
export function vxlanTunnelHandle(node: string, family: 4 | 6 = 4): string {
  return family === 4 ? `vxlan-tunnel-addr-${node}` : `vxlan-v6-tunnel-addr-${node}`;
}

const ID = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const MAX_ID = 253;

/** Throws InvalidHandle unless `handle` can name an IPAMHandle resource. */
export function validateHandle(handle: unknown): asserts handle is string {
  if (typeof handle !== 'string' || handle.length === 0 || handle.length > MAX_ID || !ID.test(handle)) {
    throw ipamError(
      'InvalidHandle',
      `handle ID ${JSON.stringify(handle)} is invalid: use 1-${MAX_ID} letters, digits, ".", "-" or "_", starting and ending with a letter or digit (for example "k8s-pod-network.<containerID>")`,
      { handle },
    );
  }
}

/** Throws InvalidRequest unless `node` is a plausible node name. */
export function validateNode(node: unknown): asserts node is string {
  if (typeof node !== 'string' || node.length === 0 || node.length > MAX_ID || !ID.test(node)) {
    throw ipamError('InvalidRequest', `node name ${JSON.stringify(node)} is invalid: pass the Kubernetes node name (letters, digits, ".", "-")`, { node });
  }
}
