/**
 * `tabbyctl ipam check [-o report.json]`: IPAM's consistency against the live workloads (every
 * WorkloadEndpoint, by its handle `k8s-pod-network.<containerID>`, addresses, and pod; on the
 * Kubernetes datastore also every pod, by its addresses and name, as Calico checks there). The
 * report file is @tabby/ipam's CheckReport plus `createdAt`; `ipam release --from-report` reads it.
 */
import { writeFileSync } from 'node:fs';
import type { WorkloadEndpoint } from '@tabby/api';
import { Ipam, type CheckReport, type LiveWorkload } from '@tabby/ipam';
import type { CtlContext } from './context.js';

/** A check report as `ipam check -o` writes it. */
export type ReportFile = CheckReport & { createdAt: string };

/** Runs `fn` with an Ipam over the context's datastore, stopped afterwards. */
export async function withIpam<T>(ctx: CtlContext, fn: (ipam: Ipam) => Promise<T>): Promise<T> {
  const ipam = new Ipam({ datastore: await ctx.datastore() });
  try {
    return await fn(ipam);
  } finally {
    await ipam.stop();
  }
}

/** The live workloads: every WorkloadEndpoint, and on the Kubernetes datastore every pod. */
export async function liveWorkloads(ctx: CtlContext): Promise<LiveWorkload[]> {
  const weps = (await (await ctx.datastore()).list<WorkloadEndpoint>({ kind: 'WorkloadEndpoint' })).items;
  const pods = (await (await ctx.kubeApi())?.livePods()) ?? [];
  return [...pods, ...weps.map((w) => ({
    ips: w.spec.ipNetworks.map((n) => n.split('/')[0] ?? n),
    node: w.spec.node,
    ...(w.metadata.namespace !== undefined ? { namespace: w.metadata.namespace } : {}),
    pod: w.spec.pod,
    ...(w.spec.containerID ? { handle: `k8s-pod-network.${w.spec.containerID}` } : {}),
  }))];
}

/** A fresh report. */
export async function currentReport(ctx: CtlContext): Promise<CheckReport> {
  const live = await liveWorkloads(ctx);
  return withIpam(ctx, (ipam) => ipam.check(live));
}

/** `tabbyctl ipam check`. */
export async function check(ctx: CtlContext): Promise<void> {
  const report = await currentReport(ctx);
  const out = ctx.args.output !== 'ps' ? ctx.args.output : undefined;
  const s = report.summary;
  ctx.io.out(`Checking IPAM for inconsistencies...\nFound ${s.blocks} IPAM blocks, ${s.allocated} allocated addresses, ${s.handles} handles, ${s.nodes} nodes.\n` +
    `Found ${report.leaked.length} leaked addresses, ${report.missing.length} missing, ${report.orphanHandles.length} orphan handles, ${report.blocksOfGoneNodes.length} blocks of gone nodes.\n` +
    `Check complete; found ${report.leaked.length + report.missing.length + report.orphanHandles.length + report.corruptBlocks.length} problems.\n`);
  if (out) {
    const file: ReportFile = { createdAt: new Date().toISOString(), ...report };
    writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
    ctx.io.out(`Report written to ${out}\n`);
  }
}
