/**
 * ADD (SPEC.md "ADD"). Steps, each undone in reverse order if a later one fails:
 *   1. the pod's namespace must exist (netns-gone, nothing done yet);
 *   2. the pod's facts and annotations (Kubernetes API, when configured);
 *   3. the host name caliXXX must be free, or a stale veth of ours (deleted, as Calico does);
 *      anything else is link-name-taken before anything is allocated;
 *   4. at once: addresses from IPAM under handle `<network>.<containerID>` (undo: release by
 *      handle) and the veth pair, host side ee:ee:ee:ee:ee:ee, pod side CNI_IFNAME (undo:
 *      delete it);
 *   5. at once: host sysctls, pod addresses and routes, host /32 (/128) routes (they go with
 *      the link); and the WorkloadEndpoint, created or (a new sandbox of the same pod) updated
 *      (undo: delete what was created, or write back what was there). Felix may see the
 *      endpoint a moment before its routes exist; it waits for the link as for any endpoint.
 * Steps that run at once are each awaited before the undo starts, so nothing half-done is
 * missed. A failed undo step is logged and the remaining ones still run; the error returned is
 * the one that made ADD fail (the first, in step order, of a group).
 */
import { isTabbyError, type WorkloadEndpoint } from '@tabby/api';
import { deadline, nodeName, type CniCall } from './context.js';
import { buildEndpoint, endpointKey } from './endpoint.js';
import { podRef } from './env.js';
import { cniError, CniError } from './errors.js';
import { mapIpamError } from './ipam-driver.js';
import { handleId, HOST_MAC, vethName } from './names.js';
import { addressAnnotations, annotationChoice } from './pods.js';
import { forVersion, hostCidr, type CniResult } from './result.js';
import { StepTimer } from './timing.js';

type Undo = { what: string; run: () => Promise<unknown> };

/** Named steps, so that tests can fail each one (`failAt`). */
export type AddStep = 'netns' | 'pod' | 'link-name' | 'ipam' | 'veth' | 'configure' | 'routes' | 'endpoint' | 'annotate';

/** Runs ADD and returns the result to print. */
export async function cmdAdd(call: CniCall, hooks: { before?: (s: AddStep) => void } = {}): Promise<CniResult> {
  const { env, conf, c } = call;
  const undo: Undo[] = [];
  const timer = new StepTimer();
  const step = <T>(s: AddStep, fn: () => Promise<T>): Promise<T> =>
    timer.time(s, () => {
      hooks.before?.(s);
      return fn();
    });
  const node = nodeName(call);
  const pod = podRef(env);
  const handle = handleId(conf.name, env.containerId);
  const host = vethName(pod.namespace, pod.name);
  const log = { containerID: env.containerId, pod: `${pod.namespace}/${pod.name}`, iface: host, node };
  try {
    await step('netns', () => c.dataplane.checkNetns(env.netns));
    const info = await step('pod', () => (pod.k8s ? c.pods.get(pod.namespace, pod.name, deadline(call)) : Promise.resolve(undefined)));
    const choice = annotationChoice(info);
    await step('link-name', async () => {
      const state = await c.dataplane.hostLinkState(host);
      if (state === 'foreign') throw cniError('link-name-taken', `host interface ${host} exists and is not a Tabby veth`, `delete it (ip link del ${host}) or rename it, then retry`);
      if (state === 'ours') {
        c.logger.warn(log, 'deleting a stale host veth of an earlier sandbox');
        await c.dataplane.deleteHostLink(host);
      }
    });
    // Addresses and the veth pair do not depend on each other: both at once.
    const [ips, veth] = await all([
      step('ipam', async () => {
        // Idempotent by handle: a retried ADD gets the addresses its handle holds.
        const got = await c.ipam.assign({
          handle, node, v4: conf.ipam.assignIpv4, v6: conf.ipam.assignIpv6,
          pools4: choice.ipv4Pools ?? conf.ipam.ipv4Pools, pools6: choice.ipv6Pools ?? conf.ipam.ipv6Pools,
          ipAddrs: choice.ipAddrs, attrs: { namespace: pod.namespace, pod: pod.name, node },
          namespaceLabels: info?.namespaceLabels, signal: deadline(call),
        });
        undo.push({ what: `release ${handle}`, run: () => c.ipam.release(handle, deadline(call)) });
        return got;
      }),
      step('veth', async () => {
        const v = await c.dataplane.createVeth({ host, podIf: env.ifname, podNetns: env.netns, mtu: conf.mtu });
        undo.push({ what: `delete ${host}`, run: () => c.dataplane.deleteHostLink(host) });
        return v;
      }),
    ] as const);
    const cidrs = ips.map(hostCidr);
    const families = { v4: cidrs.some((x) => !x.includes(':')), v6: cidrs.some((x) => x.includes(':')) };
    // The kernel side and the endpoint write overlap too; ADD answers once both are done.
    await all([
      (async () => {
        await step('configure', async () => {
          await c.dataplane.configureHost(host, families);
          await c.dataplane.configurePod({ podNetns: env.netns, podIf: env.ifname, addresses: cidrs });
        });
        await step('routes', () => c.dataplane.addHostRoutes(host, cidrs));
      })(),
      step('endpoint', async () => {
        const wep = buildEndpoint({ node, pod, info, containerId: env.containerId, ifname: env.ifname, hostIf: host, mac: veth.podMac, ipNetworks: cidrs });
        undo.push(...(await writeEndpoint(call, wep)));
      }),
      // As Calico's plugin: the pod carries its addresses at once (tabby-node's Kubernetes mode
      // builds the endpoint from them before kubelet reports the pod's status).
      step('annotate', async () => {
        const annotate = c.pods.annotate?.bind(c.pods);
        if (!info || !annotate) return;
        const ann = addressAnnotations(cidrs, env.containerId);
        await annotate(pod.namespace, pod.name, ann, deadline(call));
        const restore = Object.fromEntries(Object.keys(ann).map((k) => [k, info.annotations[k] ?? null]));
        undo.push({ what: `restore the annotations of pod ${pod.namespace}/${pod.name}`, run: () => annotate(pod.namespace, pod.name, restore, deadline(call)) });
      }),
    ] as const);
    c.logger.info({ ...log, ips, ms: timer.total(), steps: timer.steps }, 'ADD done');
    const result: CniResult = {
      cniVersion: conf.cniVersion,
      interfaces: [
        { name: host, mac: HOST_MAC },
        { name: env.ifname, mac: veth.podMac, sandbox: env.netns },
      ],
      ips: cidrs.map((address) => ({ address, interface: 1 })),
      routes: [...(families.v4 ? [{ dst: '0.0.0.0/0' }] : []), ...(families.v6 ? [{ dst: '::/0' }] : [])],
      dns: isDns(conf.raw.dns) ? conf.raw.dns : {},
    };
    return forVersion(result, conf.cniVersion);
  } catch (e: unknown) {
    const err = e instanceof CniError ? e : mapIpamError(e);
    c.logger.error({ ...log, err: err.message }, 'ADD failed; undoing');
    for (const u of undo.reverse()) {
      try {
        await u.run();
      } catch (ue: unknown) {
        c.logger.error({ ...log, err: ue instanceof Error ? ue.message : String(ue) }, `undo failed: ${u.what}`);
      }
    }
    throw err;
  }
}

/**
 * Awaits every step of a concurrent group, also when one fails (so each has registered its undo
 * before the undo runs); then throws the first failure.
 */
async function all<T extends readonly Promise<unknown>[]>(ps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(ps);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

function isDns(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Creates the endpoint, or replaces one left by an earlier sandbox; returns its undo. */
async function writeEndpoint(call: CniCall, wep: WorkloadEndpoint): Promise<Undo[]> {
  const ds = call.c.datastore;
  const key = endpointKey(wep.spec.node, podRef(call.env), call.env.ifname);
  try {
    const created = await ds.create(wep, { signal: deadline(call) });
    return [{ what: `delete endpoint ${key.name}`, run: () => ds.delete(key, { resourceVersion: created.metadata.resourceVersion, signal: deadline(call) }) }];
  } catch (e: unknown) {
    if (!isTabbyError(e, 'AlreadyExists')) throw mapIpamError(e);
  }
  try {
    const old = await ds.get<WorkloadEndpoint>(key, { signal: deadline(call) });
    const next = { ...wep, metadata: { ...wep.metadata, resourceVersion: old.metadata.resourceVersion } };
    const stored = await ds.update(next, { signal: deadline(call) });
    return [{ what: `restore endpoint ${key.name}`, run: () => ds.update({ ...old, metadata: { ...old.metadata, resourceVersion: stored.metadata.resourceVersion } }, { signal: deadline(call) }) }];
  } catch (e: unknown) {
    throw mapIpamError(e);
  }
}
