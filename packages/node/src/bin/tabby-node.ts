#!/usr/bin/env node
/**
 * tabby-node: the per-node agent of the DaemonSet.
 *
 *   tabby-node [--node NAME] [--etcd unix:///path|http://host:2379] [--run-dir /var/run/tabby]
 *              [--datastore-type etcdv3|kubernetes] [--kubeconfig FILE]
 *              [--autodetect first-found|can-reach=IP|interface=RE|skip-interface=RE|cidr=CIDR]
 *              [--bgp on|off] [--fallback-timeout SECONDS] [--netns NAME] [--log-level info]
 *              [--route-reflector CLUSTER_ID [--no-dataplane]] [--no-policy]
 *              [--health-port 9099] [--health-host 127.0.0.1]
 *   tabby-node health --socket /var/run/tabby/node.sock [--ready]   (probes: exit 0 healthy, 1 not)
 *
 * Flags fall back to calico-node's environment: NODENAME, DATASTORE_TYPE, ETCD_ENDPOINTS, KUBECONFIG,
 * IP_AUTODETECTION_METHOD, IP6=autodetect with IP6_AUTODETECTION_METHOD, CALICO_NETWORKING_BACKEND
 * (bird|vxlan|none), CALICO_IPV4POOL_*, CALICO_IPV6POOL_*.
 * `--netns` points felix at a named network namespace (tests run every node in one); without it
 * the agent programs its own namespace (the host's, as a DaemonSet pod with hostNetwork).
 * `--datastore-type kubernetes` reads the Kubernetes API (kubeconfig, else in-cluster): see docs/node.md.
 * HTTP on --health-host:--health-port (TABBY_HEALTH_HOST / TABBY_HEALTH_PORT, default
 * 127.0.0.1:9099 as calico-node's): /liveness, /readiness, /metrics (health.ts, metrics.ts).
 * Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed while running, 2 bad flags or startup failure.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { NetlinkKernel, NetnsSysctl, netnsRunner, OwnNamespaceSysctl } from '@tabby/felix';
import { hostRunner } from '../host-runner.js';
import { NodeAgent } from '../agent.js';
import { openNodeDatastore } from '../kube-mode.js';
import { requestLocal } from '../local-api.js';
import { Registry } from 'prom-client';
import { HealthServer, healthAddress, healthSource } from '../health.js';
import { createNodeMetrics } from '../metrics.js';

if (process.argv[2] === 'health') {
  const h = parseArgs({ args: process.argv.slice(3), options: { socket: { type: 'string' }, ready: { type: 'boolean' } } }).values;
  try {
    const st = await requestLocal<{ ready: boolean }>(h.socket ?? '/var/run/tabby/node.sock', { cmd: 'status' }, 3000);
    if (h.ready && !st.ready) {
      process.stderr.write('tabby-node: not ready (felix has not programmed the kernel yet)\n');
      process.exit(1);
    }
    process.exit(0);
  } catch (e: unknown) {
    process.stderr.write(`tabby-node: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}

const { values } = parseArgs({
  options: {
    node: { type: 'string' }, etcd: { type: 'string' }, 'datastore-type': { type: 'string' }, kubeconfig: { type: 'string' }, 'run-dir': { type: 'string' }, autodetect: { type: 'string' },
    bgp: { type: 'string' }, 'fallback-timeout': { type: 'string' }, netns: { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean' },
    'route-reflector': { type: 'string' }, 'no-dataplane': { type: 'boolean' }, 'no-policy': { type: 'boolean' },
    'health-port': { type: 'string' }, 'health-host': { type: 'string' },
  },
});
const env = process.env;
if (values.help) {
  process.stdout.write('usage: tabby-node [--node NAME] [--etcd ENDPOINTS | --datastore-type kubernetes [--kubeconfig FILE]] [--run-dir DIR] [--autodetect METHOD] [--bgp on|off] [--fallback-timeout S] [--netns NAME]\n' +
    '       [--route-reflector CLUSTER_ID [--no-dataplane]] [--no-policy] [--log-level LEVEL]\n' +
    '       [--health-port 9099] [--health-host 127.0.0.1]   (GET /liveness, /readiness, /metrics)\n' +
    '       tabby-node health --socket /var/run/tabby/node.sock [--ready]\n');
  process.exit(0);
}
const fail = (msg: string): never => {
  process.stderr.write(`tabby-node: ${msg}\n`);
  process.exit(2);
};
const nodeName = values.node ?? env.NODENAME ?? hostname();
const datastoreType = values['datastore-type'] ?? env.DATASTORE_TYPE ?? 'etcdv3';
if (datastoreType !== 'etcdv3' && datastoreType !== 'kubernetes') fail(`--datastore-type ${datastoreType}: expected etcdv3 or kubernetes`);
const etcd = datastoreType === 'etcdv3' ? (values.etcd ?? env.ETCD_ENDPOINTS ?? fail('no datastore: set --etcd or ETCD_ENDPOINTS, or --datastore-type kubernetes')) : undefined;
const backend = values.bgp ?? (env.CALICO_NETWORKING_BACKEND === 'vxlan' || env.CALICO_NETWORKING_BACKEND === 'none' ? 'off' : 'on');
if (backend !== 'on' && backend !== 'off') fail(`--bgp ${backend}: expected on or off`);
const timeout = Number(values['fallback-timeout'] ?? env.TABBY_BGP_FALLBACK_TIMEOUT ?? 10);
if (values['route-reflector'] !== undefined && !/^\d+\.\d+\.\d+\.\d+$/.test(values['route-reflector'])) fail(`--route-reflector ${values['route-reflector']}: a cluster ID is a dotted quad, e.g. 244.0.0.1`);
if (!(timeout > 0)) fail(`--fallback-timeout ${values['fallback-timeout']}: expected seconds > 0`);
const healthAt = healthAddress({ host: values['health-host'], port: values['health-port'] }, env);
if ('error' in healthAt) fail(healthAt.error);

const logger = pino({ level: values['log-level'] ?? 'info', base: { node: nodeName } });
const metrics = createNodeMetrics(new Registry());
// Before anything else: a health port in use is a start-up error naming the port.
const health = await HealthServer.listen({ logger, scrape: metrics.scrape }, healthAt as { host: string; port: number }).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
logger.info(health.address, 'serving /liveness, /readiness and /metrics');
const { store, view } = await openNodeDatastore(
  etcd !== undefined ? { type: 'etcdv3', etcd } : { type: 'kubernetes', kubeconfig: values.kubeconfig ?? env.KUBECONFIG, env },
  (msg, details) => logger.warn(details, msg),
).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
const kernel = await NetlinkKernel.open(values.netns);
let agent: NodeAgent;
try {
  agent = await NodeAgent.start(
    {
      store, kernel, logger, view, metrics,
      sysctl: values.netns ? new NetnsSysctl(values.netns) : new OwnNamespaceSysctl(),
      policyRunner: values['no-policy'] ? undefined : values.netns ? netnsRunner(values.netns) : hostRunner(),
    },
    {
      nodeName,
      runDir: values['run-dir'] ?? '/var/run/tabby',
      autodetect: values.autodetect ?? env.IP_AUTODETECTION_METHOD,
      autodetect6: env.IP6 === 'autodetect' ? (env.IP6_AUTODETECTION_METHOD ?? 'first-found') : undefined,
      bgp: backend === 'on',
      bgpFallbackTimeoutMs: timeout * 1000,
      poolEnv: env,
      routeReflectorClusterId: values['route-reflector'],
      dataplane: !values['no-dataplane'],
    },
  );
} catch (e: unknown) {
  logger.error({ err: e instanceof Error ? e.message : String(e) }, 'tabby-node failed to start');
  kernel.close();
  await store.close();
  await health.close();
  process.exit(2);
}
health.setSource(healthSource(() => agent.healthFacts()));
logger.info({ address: agent.address }, 'tabby-node running');
process.stdout.write('ready\n');
const stop = (): void => {
  void agent.stop().then(async () => {
    await health.close();
    kernel.close();
    await store.close();
    process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
