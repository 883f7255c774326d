/**
 * The kernel side of the plugin, behind one narrow interface (`Dataplane`) with a real
 * implementation over @tabby/netlink (`dataplane-linux.ts`) and a fault-injecting fake
 * (`test/fake-dataplane.ts`). Every step of ADD is one method, so the orchestration can undo
 * exactly what it did and a test can fail any step.
 */

/** What a host-side name is used by. */
export type HostLinkState = 'absent' | 'ours' | 'foreign';

/** One pod interface to create. */
export interface VethSpec {
  /** Host-side name (caliXXXXXXXXXXX). */
  host: string;
  /** Pod-side name (CNI_IFNAME). */
  podIf: string;
  /** Path of the pod's network namespace. */
  podNetns: string;
  mtu: number;
}

/** What a created veth looks like. */
export interface VethInfo {
  /** The pod side's MAC (for the endpoint and the result). */
  podMac: string;
}

/** The pod side's addresses and routes to configure. */
export interface PodAddressing {
  podNetns: string;
  podIf: string;
  /** Host CIDRs: a.b.c.d/32, x::y/128. */
  addresses: string[];
}

/** What CHECK reads back. */
export interface AttachmentState {
  host?: { index: number; mac?: string; up: boolean; kind?: string };
  pod?: { index: number; mac?: string; up: boolean; addresses: string[]; defaultV4?: string; defaultV6?: string };
  /** Host routes (dst) through the host link. */
  hostRoutes: string[];
  /** False when the pod's namespace cannot be opened. */
  netnsExists: boolean;
}

/** The kernel operations ADD, DEL and CHECK need. */
export interface Dataplane {
  /** Is `name` free, a stale veth of ours (MAC ee:ee:...), or something else? */
  hostLinkState(name: string): Promise<HostLinkState>;
  /** Throws netns-gone when the namespace path does not exist or is not a namespace. */
  checkNetns(path: string): Promise<void>;
  createVeth(spec: VethSpec): Promise<VethInfo>;
  /** Host sysctls (proxy ARP, forwarding, ...) and link up. */
  configureHost(host: string, families: { v4: boolean; v6: boolean }): Promise<void>;
  /** Pod addresses, the link route and the default route(s); pod link up. */
  configurePod(a: PodAddressing): Promise<void>;
  /** `<ip>/32 dev <host> scope link` (and /128) in the host namespace. */
  addHostRoutes(host: string, addresses: string[]): Promise<void>;
  /** Deletes a host link by name; false when it was already gone. */
  deleteHostLink(name: string): Promise<boolean>;
  /** Deletes the pod interface (its peer goes too); false when netns or link is gone. */
  deletePodLink(podNetns: string, podIf: string): Promise<boolean>;
  /** Reads back what CHECK verifies. */
  inspect(host: string, podNetns: string, podIf: string): Promise<AttachmentState>;
  close(): void;
}
