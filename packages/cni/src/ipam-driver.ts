/**
 * How the plugin gets addresses: in process through @tabby/ipam (ipam.type `tabby-ipam` or
 * `calico-ipam`: no second process start), or by delegating to another IPAM plugin binary
 * found in CNI_PATH (SPEC.md "Delegated plugin protocol"), e.g. `host-local`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isTabbyError } from '@tabby/api';
import type { Ipam } from '@tabby/ipam';
import type { CniEnv } from './env.js';
import { cniError, CniError } from './errors.js';
import { addrOf, parseResult } from './result.js';

/** One address request. */
export interface AssignRequest {
  handle: string;
  node: string;
  v4: boolean;
  v6: boolean;
  pools4: string[];
  pools6: string[];
  /** Exact addresses (the ipAddrs annotation); overrides v4/v6/pools. */
  ipAddrs?: string[];
  attrs: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  signal?: AbortSignal;
}

/** The address operations ADD, DEL and CHECK need. */
export interface IpamDriver {
  /**
   * Plain addresses (no prefix length). Idempotent by handle where the driver can tell: when the
   * handle holds addresses already (a retried ADD), those are returned.
   */
  assign(req: AssignRequest): Promise<string[]>;
  release(handle: string, signal?: AbortSignal): Promise<void>;
  /** Addresses the handle holds; undefined when the driver cannot tell (delegated). */
  held(handle: string, signal?: AbortSignal): Promise<string[] | undefined>;
}

/** Turns IPAM and datastore errors into CNI errors with the right code. */
export function mapIpamError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (isTabbyError(e, 'PoolExhausted', 'MaxBlocksReached')) return cniError('pool-exhausted', `IPAM: ${msg}`, 'add an IPPool or free addresses (tabbyctl ipam show)', e);
  if (isTabbyError(e, 'NoPoolForNode', 'PoolNotFound', 'PoolDisabled', 'BlockOwnedByOtherNode')) return cniError('no-pool', `IPAM: ${msg}`, 'create an enabled IPPool that selects this node, or fix ipv4_pools / ipv6_pools', e);
  if (isTabbyError(e, 'NodeNotFound')) return cniError('node-not-found', `IPAM: ${msg}`, 'register the Node resource (tabby-node does at start) or set nodename in the conflist', e);
  if (isTabbyError(e, 'AddressInUse')) return cniError('address-in-use', `IPAM: ${msg}`, 'choose a free address in cni.projectcalico.org/ipAddrs', e);
  if (isTabbyError(e, 'InvalidHandle', 'InvalidRequest')) return cniError('invalid-config', `IPAM: ${msg}`, '', e);
  if (isTabbyError(e, 'Unavailable', 'TooManyConflicts', 'Aborted') || (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'))) {
    return cniError('try-again-later', `datastore unreachable or busy: ${msg}`, 'check that etcd / the Kubernetes API is reachable from this node; the runtime will retry', e);
  }
  return cniError('internal', msg, '', e);
}

/** In-process IPAM. */
export class InProcessIpam implements IpamDriver {
  constructor(private readonly ipam: Ipam) {}

  async assign(r: AssignRequest): Promise<string[]> {
    try {
      if (r.ipAddrs && r.ipAddrs.length > 0) {
        const have = await this.ipam.ipsByHandle(r.handle, { signal: r.signal });
        if (have.length > 0) return have;
        const out: string[] = [];
        for (const ip of r.ipAddrs) out.push(await this.ipam.assignIp({ ip, handle: r.handle, node: r.node, attrs: r.attrs, signal: r.signal }));
        return out;
      }
      // autoAssign is idempotent by handle itself (one round trip less than asking first).
      const res = await this.ipam.autoAssign({
        handle: r.handle, node: r.node, num4: r.v4 ? 1 : 0, num6: r.v6 ? 1 : 0,
        ...(r.pools4.length ? { pools4: r.pools4 } : {}), ...(r.pools6.length ? { pools6: r.pools6 } : {}),
        attrs: r.attrs, namespaceLabels: r.namespaceLabels, signal: r.signal,
      });
      if ((r.v4 && res.ipv4.length === 0) || (r.v6 && res.ipv6.length === 0)) {
        await this.ipam.releaseByHandle(r.handle).catch(() => undefined);
        throw cniError('pool-exhausted', `IPAM returned no ${r.v4 && res.ipv4.length === 0 ? 'IPv4' : 'IPv6'} address`, 'add an IPPool or free addresses');
      }
      return [...res.ipv4, ...res.ipv6];
    } catch (e: unknown) {
      throw mapIpamError(e);
    }
  }

  async release(handle: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.ipam.releaseByHandle(handle, { signal });
    } catch (e: unknown) {
      throw mapIpamError(e);
    }
  }

  async held(handle: string, signal?: AbortSignal): Promise<string[]> {
    try {
      return await this.ipam.ipsByHandle(handle, { signal });
    } catch (e: unknown) {
      throw mapIpamError(e);
    }
  }
}

/** Runs a plugin binary from CNI_PATH with the runtime's environment and `conf` on stdin. */
export function execPlugin(type: string, env: CniEnv, command: string, conf: Record<string, unknown>, baseEnv: NodeJS.ProcessEnv): Promise<unknown> {
  const dir = env.path.find((d) => existsSync(join(d, type)));
  if (!dir) return Promise.reject(cniError('invalid-config', `plugin "${type}" not found in CNI_PATH (${env.path.join(':')})`, 'install it in the CNI bin directory'));
  return new Promise((resolve, reject) => {
    const child = execFile(join(dir, type), [], { env: { ...baseEnv, CNI_COMMAND: command } }, (err, stdout) => {
      let parsed: unknown;
      try {
        parsed = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        parsed = undefined;
      }
      if (err) {
        const p = parsed as { msg?: unknown; code?: unknown } | undefined;
        return reject(cniError('delegate-failed', `${type} ${command} failed: ${typeof p?.msg === 'string' ? p.msg : err.message}`, typeof p?.code === 'number' ? `delegate code ${p.code}` : ''));
      }
      resolve(parsed);
    });
    child.stdin?.end(JSON.stringify(conf));
  });
}

/** IPAM by another plugin binary (SPEC.md: the IPAM plugin gets the same env and config). */
export class DelegatedIpam implements IpamDriver {
  constructor(private readonly type: string, private readonly env: CniEnv, private readonly conf: Record<string, unknown>, private readonly baseEnv: NodeJS.ProcessEnv) {}

  async assign(): Promise<string[]> {
    const out = parseResult(await execPlugin(this.type, this.env, 'ADD', this.conf, this.baseEnv), `${this.type} result`);
    return (out.ips ?? []).map((i) => addrOf(i.address));
  }

  async release(): Promise<void> {
    await execPlugin(this.type, this.env, 'DEL', this.conf, this.baseEnv);
  }

  async held(): Promise<undefined> {
    return undefined;
  }
}
