/**
 * One CNI call, from (environment, stdin) to (stdout, exit status), for both binaries:
 * `tabby` (the network plugin) and `tabby-ipam` (IPAM only, usable under any plugin).
 * Components come from a `Backend`: a plugin process builds fresh ones (`direct.ts`); the node
 * agent keeps long-lived ones and serves calls over its socket (`agent.ts`). Errors become
 * the spec's error JSON (SPEC.md "Error") and exit status 1.
 */
import { cmdAdd } from './add.js';
import { cmdCheck } from './check.js';
import { atLeast1, parseNetConf, type NetConf } from './config.js';
import { versionJson } from './version.js';

export { versionJson };
import { deadline, type CniCall, type CniComponents } from './context.js';
import { cmdDel } from './del.js';
import { parseEnv, type CniEnv } from './env.js';
import { cniError, CniError, errorJson } from './errors.js';
import { cmdGc, cmdStatus } from './gc-status.js';
import { handleId } from './names.js';
import { addrOf, forVersion, hostCidr, parseResult, type CniResult } from './result.js';
import type { Ipam } from '@tabby/ipam';

/** Which binary is running. */
export type PluginKind = 'tabby' | 'tabby-ipam';

/** A call as the runtime makes it. */
export interface PluginRequest {
  env: Record<string, string | undefined>;
  stdin: string;
}

/** What to print and the exit status. */
export interface PluginResponse {
  stdout: string;
  code: number;
}

/** Components for one call; `ipam` is the in-process Ipam when there is one (GC needs it). */
export interface Backend {
  components(conf: NetConf, env: CniEnv, kind: PluginKind): Promise<{ c: CniComponents; ipam?: Ipam; done(): Promise<void> }>;
}

/** Runs one call. Never throws. */
export async function runPlugin(req: PluginRequest, backend: Backend, kind: PluginKind): Promise<PluginResponse> {
  let version = '1.0.0';
  try {
    const env = parseEnv(req.env);
    if (env.command === 'VERSION') return { stdout: versionJson(req.stdin), code: 0 };
    const conf = parseNetConf(req.stdin);
    version = conf.cniVersion;
    if ((env.command === 'GC' || env.command === 'STATUS') && (!atLeast1(conf.cniVersion) || conf.cniVersion === '1.0.0')) {
      throw cniError('incompatible-version', `${env.command} needs cniVersion 1.1.0, the configuration says ${conf.cniVersion}`);
    }
    const built = await backend.components(conf, env, kind);
    try {
      const call: CniCall = { env, conf, c: built.c };
      const out = kind === 'tabby' ? await network(call, built.ipam) : await ipamOnly(call, built.ipam);
      return { stdout: out === undefined ? '' : JSON.stringify(out), code: 0 };
    } finally {
      await built.done();
    }
  } catch (e: unknown) {
    const err = e instanceof CniError ? e : cniError('internal', e instanceof Error ? e.message : String(e), 'see the plugin log');
    return { stdout: JSON.stringify(errorJson(err, version)), code: 1 };
  }
}

async function network(call: CniCall, ipam: Ipam | undefined): Promise<CniResult | undefined> {
  switch (call.env.command) {
    case 'ADD':
      return cmdAdd(call);
    case 'DEL':
      await cmdDel(call);
      return undefined;
    case 'CHECK':
      await cmdCheck(call);
      return undefined;
    case 'STATUS':
      await cmdStatus(call);
      return undefined;
    case 'GC':
      if (ipam) await cmdGc(call, ipam);
      return undefined;
    case 'VERSION':
      return undefined;
  }
}

async function ipamOnly(call: CniCall, ipam: Ipam | undefined): Promise<CniResult | undefined> {
  const { env, conf, c } = call;
  const handle = handleId(conf.name, env.containerId);
  switch (env.command) {
    case 'ADD': {
      const ips = await c.ipam.assign({
        handle, node: conf.nodename || c.hostname, v4: conf.ipam.assignIpv4, v6: conf.ipam.assignIpv6,
        pools4: conf.ipam.ipv4Pools, pools6: conf.ipam.ipv6Pools, attrs: { containerID: env.containerId }, signal: deadline(call),
      });
      return forVersion({ cniVersion: conf.cniVersion, ips: ips.map((ip) => ({ address: hostCidr(ip) })), dns: {} }, conf.cniVersion);
    }
    case 'DEL':
      await c.ipam.release(handle, deadline(call));
      return undefined;
    case 'CHECK': {
      if (conf.prevResult === undefined) throw cniError('invalid-config', 'CHECK needs prevResult');
      const held = (await c.ipam.held(handle, deadline(call))) ?? [];
      const missing = (parseResult(conf.prevResult).ips ?? []).map((i) => addrOf(i.address)).filter((ip) => !held.includes(ip));
      if (missing.length > 0) throw cniError('check-failed', `IPAM handle ${handle} does not hold ${missing.join(', ')}`);
      return undefined;
    }
    case 'STATUS':
      await cmdStatus(call);
      return undefined;
    case 'GC':
      if (ipam) await cmdGc(call, ipam, false);
      return undefined;
    case 'VERSION':
      return undefined;
  }
}
