/**
 * DEL (SPEC.md "DEL": must succeed when the resources are already gone). Deletes the pod's
 * interface inside its namespace (never the host name: a newer sandbox of the same pod owns a
 * veth of the same name), releases the handle `<network>.<containerID>`, and deletes the
 * WorkloadEndpoint only when its containerID is this one, so a late DEL of an old sandbox
 * leaves the new sandbox's endpoint alone. The three are independent and run at once (Calico
 * too releases the addresses before the link is gone; a new pod given one of them at once gets
 * its own host route by `replace`, which the old link's removal does not touch).
 */
import { isTabbyError, type WorkloadEndpoint } from '@tabby/api';
import { deadline, nodeName, type CniCall } from './context.js';
import { endpointKey } from './endpoint.js';
import { podRef } from './env.js';
import { mapIpamError } from './ipam-driver.js';
import { handleId } from './names.js';
import { ANN_CONTAINER_ID, ANN_POD_IP, ANN_POD_IPS } from './pods.js';
import { CniError } from './errors.js';
import { StepTimer } from './timing.js';

/** Runs DEL; idempotent. The link, the addresses and the endpoint go at once (independent). */
export async function cmdDel(call: CniCall): Promise<void> {
  const { env, conf, c } = call;
  const node = nodeName(call);
  const pod = podRef(env);
  const log = { containerID: env.containerId, pod: `${pod.namespace}/${pod.name}`, node };
  const timer = new StepTimer();
  const key = endpointKey(node, pod, env.ifname);
  const settled = await Promise.allSettled([
    timer.time('link', () => c.dataplane.deletePodLink(env.netns, env.ifname)),
    timer.time('ipam', () => c.ipam.release(handleId(conf.name, env.containerId), deadline(call))),
    timer.time('endpoint', async () => {
      try {
        const wep = await c.datastore.get<WorkloadEndpoint>(key, { signal: deadline(call) });
        if (wep.spec.containerID && wep.spec.containerID !== env.containerId) {
          c.logger.info({ ...log, owner: wep.spec.containerID }, 'endpoint belongs to another sandbox; left in place');
        } else {
          await c.datastore.delete(key, { resourceVersion: wep.metadata.resourceVersion, signal: deadline(call) });
        }
      } catch (e: unknown) {
        if (!isTabbyError(e, 'NotFound')) throw mapIpamError(e);
      }
    }),
    timer.time('annotate', () => clearPodAddresses(call)),
  ]);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const removed = settled[0].status === 'fulfilled' && settled[0].value;
  c.logger.info({ ...log, linkRemoved: removed, ms: timer.total(), steps: timer.steps }, 'DEL done');
}

/**
 * As Calico's plugin: the pod's address annotations are emptied (not removed: an empty podIP
 * tells tabby-node the sandbox is gone while the pod terminates), only when they are this
 * sandbox's. A pod already gone from the API needs nothing.
 */
async function clearPodAddresses(call: CniCall): Promise<void> {
  const { env, c } = call;
  const pod = podRef(env);
  if (!pod.k8s || !c.pods.annotate) return;
  const info = await c.pods.get(pod.namespace, pod.name, deadline(call));
  if (!info || info.annotations[ANN_CONTAINER_ID] !== env.containerId) return;
  await c.pods.annotate(pod.namespace, pod.name, { [ANN_POD_IP]: '', [ANN_POD_IPS]: '' }, deadline(call)).catch((e: unknown) => {
    if (!(e instanceof CniError && /not found/.test(e.message))) throw e;
  });
}
