/**
 * node-service-routes: the cost of tabby-node's BGP rendering with Kubernetes services
 * (renderBgpConfig with service-routes.ts), which runs again after every Service or
 * EndpointSlice change. N Services (half `externalTrafficPolicy: Local`, each with an external
 * and a load balancer IP inside the ranges) and one EndpointSlice each, with endpoints on 20
 * nodes; measures one full rendering and the service-route computation alone (median after a
 * warm-up run). Pure CPU.
 *
 * Args: [services=10000] [runs=30]
 */
import { parseCidr, type BGPConfiguration, type Node } from '@tabby/api';
import { renderBgpConfig, serviceRoutes, type KubeEndpointSlice, type KubeService } from '@tabby/node';
import { emit, median, type Bench } from '../emit.js';

function cluster(n: number): { services: KubeService[]; endpointSlices: KubeEndpointSlice[] } {
  const services: KubeService[] = [];
  const endpointSlices: KubeEndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const ip = (base: number): string => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    services.push({
      metadata: { name: `s${i}`, namespace: 'bench' },
      spec: { type: 'LoadBalancer', clusterIP: ip(10), externalIPs: [ip(11)], externalTrafficPolicy: i % 2 ? 'Cluster' : 'Local' },
      status: { loadBalancer: { ingress: [{ ip: ip(12) }] } },
    });
    endpointSlices.push({
      metadata: { name: `s${i}-1`, namespace: 'bench', labels: { 'kubernetes.io/service-name': `s${i}` } },
      addressType: 'IPv4',
      endpoints: [0, 1, 2].map((k) => ({ addresses: [`100.64.${k}.${i & 255}`], nodeName: `node${(i + k * 7) % 20}`, conditions: { ready: true } })),
    });
  }
  return { services, endpointSlices };
}

/** Median and fastest (least disturbed by other load on a shared machine) wall-clock ms. */
function time(f: () => unknown, runs: number): { ms: number; minMs: number } {
  f(); // warm-up (JIT)
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return { ms: Number(median(ms).toFixed(2)), minMs: Number(Math.min(...ms).toFixed(2)) };
}

const bench: Bench = {
  description: 'renderBgpConfig with N Kubernetes Services / EndpointSlices (re-run on every change)',
  async run(args) {
    const n = Number(args[0] ?? 10_000);
    const runs = Number(args[1] ?? 30);
    const svc = cluster(n);
    const ranges = { serviceClusterIPs: [{ cidr: '10.0.0.0/8' }], serviceExternalIPs: [{ cidr: '11.0.0.0/8' }], serviceLoadBalancerIPs: [{ cidr: '12.0.0.0/8' }] };
    const cfg: BGPConfiguration = { apiVersion: 'tabby.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: ranges };
    const nodes: Node[] = Array.from({ length: 20 }, (_, i) => ({ apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name: `node${i}` }, spec: { bgp: { ipv4Address: `192.168.0.${i + 1}/24` } } }));
    const inputs = { nodeName: 'node0', nodes, configs: [cfg], peers: [], pools: [], blocks: [], workloadAddresses: [], ...svc };
    const prefixes = renderBgpConfig(inputs).config.prefixes.length;
    const parsed = { clusterRanges: [parseCidr('10.0.0.0/8')], externalRanges: [parseCidr('11.0.0.0/8')], loadBalancerRanges: [parseCidr('12.0.0.0/8')] };
    const routesMs = time(() => serviceRoutes({ nodeName: 'node0', nodeLabels: {}, ...parsed, ...svc }), runs);
    const renderMs = time(() => renderBgpConfig(inputs), runs);
    emit({ bench: 'node-service-routes', metric: 'service-routes', value: routesMs.ms, minMs: routesMs.minMs, unit: 'ms', services: n, prefixes });
    emit({ bench: 'node-service-routes', metric: 'render', value: renderMs.ms, minMs: renderMs.minMs, unit: 'ms', services: n, prefixes });
  },
};
export default bench;
