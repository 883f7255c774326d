// Unit tests (no root): the service addresses a node advertises (Calico's confd route generator).
import { describe, expect, it } from 'vitest';
import { parseCidr, type BGPConfiguration, type Node } from '@tabby/api';
import { renderBgpConfig } from '../src/bgp-config.js';
import { endpointSliceProblem, serviceProblem, serviceRoutes, type KubeEndpointSlice, type KubeService, type ServiceRouteInputs } from '../src/service-routes.js';

type Spec = NonNullable<KubeService['spec']>;
const svc = (name: string, spec: Spec, lb: string[] = []): KubeService => ({
  metadata: { name, namespace: 'shop' },
  spec,
  ...(lb.length ? { status: { loadBalancer: { ingress: lb.map((ip) => ({ ip })) } } } : {}),
});
const slice = (service: string, eps: Array<{ node: string; ready?: boolean }>, addressType = 'IPv4'): KubeEndpointSlice => ({
  metadata: { name: `${service}-x1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
  addressType,
  endpoints: eps.map((e, i) => ({ addresses: [addressType === 'IPv4' ? `10.244.0.${i + 1}` : `fd00::${i + 1}`], nodeName: e.node, ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
});

const LOCAL_LB = svc('web', { type: 'LoadBalancer', clusterIP: '10.96.0.10', externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.7', '198.51.100.1'] }, ['203.0.113.5', '100.64.0.1']);

function inputs(extra: Partial<ServiceRouteInputs> = {}): ServiceRouteInputs {
  return {
    nodeName: 'a',
    nodeLabels: {},
    clusterRanges: [parseCidr('10.96.0.0/12')],
    externalRanges: [parseCidr('192.0.2.0/24')],
    loadBalancerRanges: [parseCidr('203.0.113.0/24')],
    services: [LOCAL_LB],
    endpointSlices: [slice('web', [{ node: 'a' }])],
    ...extra,
  };
}

describe('serviceRoutes (routes.go advertiseThisService / getAllRoutesForService)', () => {
  it('a Local service with a ready endpoint here: its cluster IP, and the external and LB IPs inside the ranges', () => {
    expect(serviceRoutes(inputs())).toEqual(['10.96.0.10/32', '192.0.2.7/32', '203.0.113.5/32']);
  });

  it('no route while the only local endpoint is not ready, or the endpoints are on other nodes; back when ready', () => {
    expect(serviceRoutes(inputs({ endpointSlices: [slice('web', [{ node: 'a', ready: false }, { node: 'b' }])] }))).toEqual([]);
    expect(serviceRoutes(inputs({ endpointSlices: [] }))).toEqual([]);
    expect(serviceRoutes(inputs({ endpointSlices: [slice('web', [{ node: 'b' }]), slice('web', [{ node: 'a', ready: true }])] }))).toHaveLength(3);
  });

  it('an endpoint counts only in the family of spec.clusterIP; an IPv6 service gets /128s', () => {
    expect(serviceRoutes(inputs({ endpointSlices: [slice('web', [{ node: 'a' }], 'IPv6')] }))).toEqual([]);
    const v6 = svc('v6', { type: 'ClusterIP', clusterIP: 'fd00:96::a', externalTrafficPolicy: 'Local' });
    expect(serviceRoutes(inputs({ services: [v6], clusterRanges: [parseCidr('fd00:96::/108')], endpointSlices: [slice('v6', [{ node: 'a' }], 'IPv6')] }))).toEqual(['fd00:96::a/128']);
  });

  it('externalTrafficPolicy Cluster: nothing beyond the ranges, unless an LB or external IP is a single-address entry', () => {
    const cluster = { ...LOCAL_LB, spec: { ...LOCAL_LB.spec, externalTrafficPolicy: 'Cluster' } };
    expect(serviceRoutes(inputs({ services: [cluster], endpointSlices: [] }))).toEqual([]);
    // Advertised from every node, endpoints or not: all its routes (routes.go does the same).
    const singleLb = [parseCidr('203.0.113.5/32')];
    expect(serviceRoutes(inputs({ services: [cluster], endpointSlices: [], loadBalancerRanges: singleLb }))).toEqual(['10.96.0.10/32', '192.0.2.7/32', '203.0.113.5/32']);
    const singleExt = [parseCidr('198.51.100.1/32')];
    expect(serviceRoutes(inputs({ services: [cluster], endpointSlices: [], externalRanges: singleExt }))).toEqual(['10.96.0.10/32', '198.51.100.1/32', '203.0.113.5/32']);
    // An unset policy is not Cluster (the API server sets it for NodePort / LoadBalancer only).
    const unset = { ...LOCAL_LB, spec: { ...LOCAL_LB.spec, externalTrafficPolicy: undefined } };
    expect(serviceRoutes(inputs({ services: [unset], loadBalancerRanges: singleLb }))).toEqual([]);
  });

  it('headless and ExternalName services have none; without serviceClusterIPs the cluster IP is not advertised', () => {
    const headless = svc('web', { clusterIP: 'None', externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.7'] });
    expect(serviceRoutes(inputs({ services: [headless] }))).toEqual([]);
    const external = svc('web', { type: 'ExternalName', clusterIP: '10.96.0.10', externalTrafficPolicy: 'Local' });
    expect(serviceRoutes(inputs({ services: [external] }))).toEqual([]);
    expect(serviceRoutes(inputs({ clusterRanges: [] }))).toEqual(['192.0.2.7/32', '203.0.113.5/32']);
    // No type: the API server's default, ClusterIP.
    expect(serviceRoutes(inputs({ services: [svc('web', { clusterIP: '10.96.0.10', externalTrafficPolicy: 'Local' })] }))).toEqual(['10.96.0.10/32']);
  });

  it('one route for an address two services share; none from a node excluded from load balancers', () => {
    const twin = { ...LOCAL_LB, metadata: { name: 'twin', namespace: 'shop' } };
    expect(serviceRoutes(inputs({ services: [LOCAL_LB, twin], endpointSlices: [slice('web', [{ node: 'a' }]), slice('twin', [{ node: 'a' }])] }))).toEqual(['10.96.0.10/32', '192.0.2.7/32', '203.0.113.5/32']);
    expect(serviceRoutes(inputs({ nodeLabels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } }))).toEqual([]);
  });

  it('the same answer whatever the order of services and slices', () => {
    const other = svc('api', { type: 'NodePort', clusterIP: '10.96.0.20', externalTrafficPolicy: 'Local' });
    const slices = [slice('web', [{ node: 'a' }]), slice('api', [{ node: 'a' }]), slice('api', [{ node: 'b' }])];
    const want = serviceRoutes(inputs({ services: [LOCAL_LB, other], endpointSlices: slices }));
    expect(want).toContain('10.96.0.20/32');
    expect(serviceRoutes(inputs({ services: [other, LOCAL_LB], endpointSlices: [...slices].reverse() }))).toEqual(want);
  });
});

describe('renderBgpConfig with services', () => {
  const node = (labels: Record<string, string> = {}): Node => ({ apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name: 'a', labels }, spec: { bgp: { ipv4Address: '10.0.0.1/24' } } });
  const cfg: BGPConfiguration = {
    apiVersion: 'tabby.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' },
    spec: { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], serviceExternalIPs: [{ cidr: '192.0.2.0/24' }], serviceLoadBalancerIPs: [{ cidr: '203.0.113.0/24' }], prefixAdvertisements: [{ cidr: '203.0.113.0/24', communities: ['65000:9'] }] },
  };
  const base = { nodeName: 'a', configs: [cfg], peers: [], pools: [], blocks: [], workloadAddresses: [], services: [LOCAL_LB], endpointSlices: [slice('web', [{ node: 'a' }])] };

  it('exports the ranges and the local service /32s, with the communities of prefixAdvertisements', () => {
    const { config } = renderBgpConfig({ ...base, nodes: [node()] });
    expect(config.prefixes).toEqual([
      { prefix: '10.96.0.0/12' }, { prefix: '10.96.0.10/32' }, { prefix: '192.0.2.0/24' }, { prefix: '192.0.2.7/32' },
      { prefix: '203.0.113.0/24', communities: ['65000:9'] }, { prefix: '203.0.113.5/32', communities: ['65000:9'] },
    ]);
    expect(renderBgpConfig({ ...base, nodes: [node()], endpointSlices: [] }).config.prefixes.map((p) => p.prefix)).toEqual(['10.96.0.0/12', '192.0.2.0/24', '203.0.113.0/24']);
  });

  it('a node labelled exclude-from-external-load-balancers exports no service address, ranges included', () => {
    const { config } = renderBgpConfig({ ...base, nodes: [node({ 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' })] });
    expect(config.prefixes).toEqual([]);
  });
});

describe('serviceProblem / endpointSliceProblem', () => {
  it('names the field that is wrong', () => {
    expect(serviceProblem(LOCAL_LB)).toBeUndefined();
    expect(serviceProblem({ metadata: { name: 'x' } })).toBe('spec: missing');
    expect(serviceProblem(svc('x', { clusterIP: '10.96.0.300' }))).toBe('spec.clusterIP: "10.96.0.300" is not an address');
    expect(serviceProblem(svc('x', { clusterIP: '10.96.0.1', externalIPs: ['1.2.3.4', 'nope'] }))).toBe('spec.externalIPs[1]: "nope" is not an address');
    expect(serviceProblem(svc('x', { clusterIP: '10.96.0.1' }, ['999.1.1.1']))).toBe('status.loadBalancer.ingress[0].ip: "999.1.1.1" is not an address');
    expect(serviceProblem({ metadata: { name: 'x' }, spec: { externalIPs: '1.2.3.4' } })).toBe('spec.externalIPs: not a list');
    expect(endpointSliceProblem(slice('web', [{ node: 'a' }]))).toBeUndefined();
    expect(endpointSliceProblem({ metadata: { name: 's' }, endpoints: {} })).toBe('endpoints: not a list');
    expect(endpointSliceProblem({ metadata: { name: 's' }, endpoints: [{ nodeName: 7 }] })).toBe('endpoints[0].nodeName: not a string');
  });
});
