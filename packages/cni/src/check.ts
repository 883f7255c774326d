/**
 * CHECK (SPEC.md "CHECK"): the attachment still matches prevResult — host veth (kind, MAC, up),
 * pod interface with every address, the pod's default route(s), the host /32 (/128) routes,
 * the IPAM handle holding every address, and the WorkloadEndpoint of this container. Every
 * difference is listed in one check-failed error.
 */
import { isTabbyError, type WorkloadEndpoint } from '@tabby/api';
import { deadline, nodeName, type CniCall } from './context.js';
import { endpointKey } from './endpoint.js';
import { podRef } from './env.js';
import { cniError } from './errors.js';
import { mapIpamError } from './ipam-driver.js';
import { handleId, HOST_MAC, POD_GATEWAY_V4, POD_GATEWAY_V6, vethName } from './names.js';
import { addrOf, parseResult } from './result.js';

/** Runs CHECK; throws check-failed listing every problem. */
export async function cmdCheck(call: CniCall): Promise<void> {
  const { env, conf, c } = call;
  if (conf.prevResult === undefined) throw cniError('invalid-config', 'CHECK needs prevResult in the network configuration', 'the runtime passes the cached ADD result');
  const prev = parseResult(conf.prevResult);
  const pod = podRef(env);
  const host = vethName(pod.namespace, pod.name);
  const problems: string[] = [];
  const st = await c.dataplane.inspect(host, env.netns, env.ifname);
  if (!st.netnsExists) throw cniError('netns-gone', `network namespace ${env.netns} is gone`);
  if (!st.host) problems.push(`host interface ${host} is missing`);
  else {
    if (st.host.kind !== 'veth') problems.push(`host interface ${host} is a ${st.host.kind ?? 'device'}, not a veth`);
    if (st.host.mac !== HOST_MAC) problems.push(`host interface ${host} has MAC ${st.host.mac}, expected ${HOST_MAC}`);
    if (!st.host.up) problems.push(`host interface ${host} is down`);
  }
  const mine = (prev.ips ?? []).filter((ip) => {
    const itf = ip.interface === undefined ? undefined : prev.interfaces?.[ip.interface];
    return itf === undefined || (itf.name === env.ifname && itf.sandbox === env.netns);
  });
  if (mine.length === 0) problems.push('prevResult has no address on this interface');
  if (!st.pod) problems.push(`pod interface ${env.ifname} is missing in ${env.netns}`);
  else {
    if (!st.pod.up) problems.push(`pod interface ${env.ifname} is down`);
    for (const ip of mine) if (!st.pod.addresses.includes(ip.address)) problems.push(`pod interface ${env.ifname} lacks ${ip.address} (has ${st.pod.addresses.join(', ') || 'none'})`);
    const v4 = mine.some((i) => !i.address.includes(':'));
    const v6 = mine.some((i) => i.address.includes(':'));
    if (v4 && st.pod.defaultV4 !== POD_GATEWAY_V4) problems.push(`pod default route is not via ${POD_GATEWAY_V4}`);
    if (v6 && st.pod.defaultV6 !== POD_GATEWAY_V6) problems.push(`pod IPv6 default route is not via ${POD_GATEWAY_V6}`);
  }
  for (const ip of mine) if (st.host && !st.hostRoutes.includes(ip.address)) problems.push(`host route ${ip.address} dev ${host} is missing`);
  const held = await c.ipam.held(handleId(conf.name, env.containerId), deadline(call));
  if (held) for (const ip of mine) if (!held.includes(addrOf(ip.address))) problems.push(`IPAM handle ${handleId(conf.name, env.containerId)} does not hold ${addrOf(ip.address)}`);
  try {
    const wep = await c.datastore.get<WorkloadEndpoint>(endpointKey(nodeName(call), pod, env.ifname), { signal: deadline(call) });
    if (wep.spec.containerID !== env.containerId) problems.push(`WorkloadEndpoint belongs to container ${wep.spec.containerID}`);
    for (const ip of mine) if (!wep.spec.ipNetworks.includes(ip.address)) problems.push(`WorkloadEndpoint lacks ${ip.address}`);
  } catch (e: unknown) {
    if (isTabbyError(e, 'NotFound')) problems.push('WorkloadEndpoint is missing');
    else throw mapIpamError(e);
  }
  if (problems.length > 0) throw cniError('check-failed', `CHECK: ${problems.join('; ')}`, 'delete and re-create the pod sandbox');
}
