// Unit tests (no root): the BGP configuration rendered from resources (confd's job in Calico).
import { describe, expect, it } from 'vitest';
import type { BGPConfiguration, BGPPeer, IPPool, Node } from '@tabby/api';
import { renderBgpConfig, type BgpInputs } from '../src/bgp-config.js';

const node = (name: string, ip: string, extra: Partial<Node['spec']['bgp']> = {}, labels: Record<string, string> = {}): Node => ({
  apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name, labels }, spec: { bgp: { ipv4Address: `${ip}/24`, ...extra } },
});
const pool = (cidr: string, disableBGPExport = false): IPPool => ({
  apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: cidr },
  spec: { cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, disabled: false, disableBGPExport, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'] },
});
const cfg = (name: string, spec: BGPConfiguration['spec']): BGPConfiguration => ({ apiVersion: 'tabby.dev/v1', kind: 'BGPConfiguration', metadata: { name }, spec });
const peer = (name: string, spec: BGPPeer['spec']): BGPPeer => ({ apiVersion: 'tabby.dev/v1', kind: 'BGPPeer', metadata: { name }, spec });

function inputs(extra: Partial<BgpInputs> = {}): BgpInputs {
  return {
    nodeName: 'a',
    nodes: [node('a', '10.0.0.1'), node('b', '10.0.0.2', { asNumber: 65001 }), node('c', '10.0.0.3')],
    configs: [],
    peers: [],
    pools: [pool('10.244.0.0/16'), pool('10.99.0.0/16', true)],
    blocks: ['10.244.1.0/26', '10.99.0.0/26'],
    workloadAddresses: ['10.244.1.5/32', '10.244.7.9/32'],
    ...extra,
  };
}

describe('renderBgpConfig', () => {
  it('full mesh with each node’s AS, router ID, blocks and borrowed /32s (not from no-export pools)', () => {
    const { config, warnings } = renderBgpConfig(inputs());
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({ routerId: '10.0.0.1', asn: 64512, listen: { address: '::', port: 179 } });
    expect(config.peers.map((p) => `${p.address} ${p.asn} ${p.type}`)).toEqual(['10.0.0.2 65001 node-to-node mesh', '10.0.0.3 64512 node-to-node mesh']);
    expect(config.prefixes).toEqual([{ prefix: '10.244.1.0/26' }, { prefix: '10.244.7.9/32' }]);
  });

  it('mesh off, route reflectors by peerSelector: clients and reflectors; explicit peers with port, next hop, GR time, TTL security', () => {
    const nodes = [node('a', '10.0.0.1', {}, { rr: 'no' }), node('rr1', '10.0.0.10', { routeReflectorClusterID: '1.1.1.1' }, { rr: 'yes' })];
    const peers = [
      peer('to-rr', { nodeSelector: "rr == 'no'", peerSelector: "rr == 'yes'" }),
      peer('tor', { node: 'a', peerIP: '10.0.0.254:1179', asNumber: 65000, keepOriginalNextHop: true, maxRestartTime: '300s', ttlSecurity: 1 }),
    ];
    const { config } = renderBgpConfig(inputs({ nodes, peers, configs: [cfg('default', { nodeToNodeMeshEnabled: false, asNumber: 64600, listenPort: 1790 })] }));
    expect(config.asn).toBe(64600);
    expect(config.listen.port).toBe(1790);
    expect(config.peers).toEqual([
      { address: '10.0.0.10', asn: 64600, families: ['ipv4-unicast'], type: 'route reflector', node: 'rr1', gracefulRestart: { restartTime: 120 } },
      { address: '10.0.0.254', port: 1179, asn: 65000, families: ['ipv4-unicast'], type: 'node specific', nextHop: 'keep', ttlSecurity: 1, gracefulRestart: { restartTime: 300 }, filters: ['tabby-no-transit'] },
    ]);
    expect(config.filters.map((f) => f.name)).toEqual(['tabby-no-transit']); // eBGP: only our own prefixes
    // The same BGPPeer, seen from the reflector: it peers back with the BGPPeer's nodes (symmetric).
    const rr = renderBgpConfig(inputs({ nodeName: 'rr1', nodes, peers: [peers[0]!], configs: [cfg('default', { nodeToNodeMeshEnabled: false })] }));
    expect(rr.config.clusterId).toBe('1.1.1.1');
    expect(rr.config.peers).toMatchObject([{ address: '10.0.0.1', routeReflectorClient: true, type: 'route reflector client' }]);
  });

  it('service CIDRs and communities by prefixAdvertisements; a peer whose secret is missing is left out and reported', () => {
    const configs = [cfg('default', { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], communities: [{ name: 'gold', value: '65000:100' }], prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['gold', '65000:7'] }] })];
    const peers = [peer('secret', { peerIP: '10.0.0.99', asNumber: 65099, password: { secretKeyRef: { name: 'bgp', key: 'pw' } } })];
    const { config, warnings } = renderBgpConfig(inputs({ configs, peers, secret: () => undefined }));
    expect(config.prefixes).toContainEqual({ prefix: '10.96.0.0/12' });
    expect(config.prefixes).toContainEqual({ prefix: '10.244.1.0/26', communities: ['65000:100', '65000:7'] });
    expect(config.peers.some((p) => p.address === '10.0.0.99')).toBe(false);
    expect(warnings).toEqual(['BGPPeer secret: secret bgp/pw not found; peer left out']);
    const withSecret = renderBgpConfig(inputs({ peers, secret: (n, k) => (n === 'bgp' && k === 'pw' ? 's3cret' : undefined) }));
    expect(withSecret.config.peers.find((p) => p.address === '10.0.0.99')?.password).toBe('s3cret');
  });

  it('refuses a node without an address, naming it', () => {
    expect(() => renderBgpConfig(inputs({ nodes: [{ ...node('a', '10.0.0.1'), spec: {} }] }))).toThrow(/node a: Node.spec.bgp.ipv4Address is not set/);
  });
});
