/**
 * The two commands of CNI spec 1.1. STATUS: ready when the datastore answers (else 50,
 * plugin-not-available). GC: `cni.dev/valid-attachments` lists the attachments the runtime
 * still has; every WorkloadEndpoint on this node of this network's orchestrator whose
 * container is not listed is deleted, and every IPAM handle `<network>.<containerID>` whose
 * container is not listed and whose addresses are all in this node's blocks is released.
 */
import { cidrContains, parseCidr, parseIp, type IPAMHandle, type WorkloadEndpoint } from '@tabby/api';
import type { Ipam } from '@tabby/ipam';
import { deadline, nodeName, type CniCall } from './context.js';
import { cniError } from './errors.js';
import { mapIpamError } from './ipam-driver.js';

/** STATUS: throws plugin-not-available (50) when the datastore cannot be read. */
export async function cmdStatus(call: CniCall): Promise<void> {
  try {
    await call.c.datastore.list({ kind: 'IPPool', signal: deadline(call) });
  } catch (e: unknown) {
    throw cniError('plugin-not-available', `datastore unreachable: ${e instanceof Error ? e.message : String(e)}`, 'check etcd / the Kubernetes API from this node');
  }
}

/** What GC removed. */
export interface GcOutcome {
  endpoints: string[];
  handles: string[];
}

function validIds(raw: Record<string, unknown>): Set<string> {
  const list = raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments'];
  if (list !== undefined && !Array.isArray(list)) throw cniError('invalid-config', 'cni.dev/valid-attachments: expected a list');
  const out = new Set<string>();
  for (const [i, a] of (list ?? []).entries()) {
    const id = (a as { containerID?: unknown }).containerID;
    if (typeof id !== 'string') throw cniError('invalid-config', `cni.dev/valid-attachments[${i}].containerID: expected a string`);
    out.add(id);
  }
  return out;
}

/**
 * GC with an in-process Ipam (needed to know this node's blocks). `endpoints` false (the
 * IPAM-only plugin) leaves WorkloadEndpoints alone.
 */
export async function cmdGc(call: CniCall, ipam: Ipam, endpoints = true): Promise<GcOutcome> {
  const { conf, c } = call;
  const valid = validIds(conf.raw);
  const node = nodeName(call);
  const out: GcOutcome = { endpoints: [], handles: [] };
  try {
    const weps = await c.datastore.list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint', signal: deadline(call) });
    for (const w of endpoints ? weps.items : []) {
      if (w.spec.node !== node || !w.spec.containerID || valid.has(w.spec.containerID)) continue;
      await c.datastore.delete({ kind: 'WorkloadEndpoint', namespace: w.metadata.namespace, name: w.metadata.name }, { resourceVersion: w.metadata.resourceVersion, signal: deadline(call) });
      out.endpoints.push(`${w.metadata.namespace}/${w.metadata.name}`);
    }
    const blocks = (await ipam.blocksForNode(node, { signal: deadline(call) })).map((b) => parseCidr(b));
    const handles = await c.datastore.list<IPAMHandle>({ kind: 'IPAMHandle', signal: deadline(call) });
    const prefix = `${conf.name}.`;
    for (const h of handles.items) {
      const id = h.spec.handleID;
      if (!id.startsWith(prefix) || valid.has(id.slice(prefix.length))) continue;
      const ips = await ipam.ipsByHandle(id, { signal: deadline(call) });
      if (ips.length === 0 || !ips.every((ip) => blocks.some((b) => cidrContains(b, parseIp(ip))))) continue;
      await ipam.releaseByHandle(id, { signal: deadline(call) });
      out.handles.push(id);
    }
  } catch (e: unknown) {
    throw mapIpamError(e);
  }
  c.logger.info({ node, ...out }, 'GC done');
  return out;
}
