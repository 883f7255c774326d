/**
 * What one command runs with: the parsed environment and configuration, and the injected
 * components (datastore, IPAM driver, dataplane, pod source, logger). Built by `direct.ts`
 * for a plugin process, or by the node agent for calls it serves over its socket.
 */
import type { Datastore } from '@tabby/datastore';
import type { NetConf } from './config.js';
import type { Dataplane } from './dataplane.js';
import type { CniEnv } from './env.js';
import type { IpamDriver } from './ipam-driver.js';
import type { PodSource } from './pods.js';

/** The logger subset the plugin uses (pino's). */
export interface CniLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: CniLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Injected dependencies of a command. */
export interface CniComponents {
  datastore: Datastore;
  ipam: IpamDriver;
  dataplane: Dataplane;
  pods: PodSource;
  logger: CniLogger;
  /** This node's name when the conflist has no `nodename`. */
  hostname: string;
  /** Deadline of each datastore / API call in ms [30 000]. */
  opTimeoutMs?: number;
}

/** One call. */
export interface CniCall {
  env: CniEnv;
  conf: NetConf;
  c: CniComponents;
}

/** The node name of a call. */
export function nodeName(call: CniCall): string {
  return call.conf.nodename || call.c.hostname;
}

/** A deadline signal for one remote call. */
export function deadline(call: CniCall): AbortSignal {
  return AbortSignal.timeout(call.c.opTimeoutMs ?? 30_000);
}
