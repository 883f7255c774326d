import { describe, expect, it } from 'vitest';
import { isTabbyError, validateResource, validateUpdate, ValidationError, type AnyResource, type IPPool } from '../../src/index.js';

const V3 = 'projectcalico.org/v3';

function doc(kind: string, spec: unknown, metadata: Record<string, unknown> = { name: 'x' }): Record<string, unknown> {
  return { apiVersion: V3, kind, metadata, spec };
}

/** The issue lines (path: message) of an invalid document. */
function issues(d: unknown): string[] {
  try {
    validateResource(d);
  } catch (e: unknown) {
    if (!(e instanceof ValidationError)) throw e;
    expect(isTabbyError(e, 'Invalid')).toBe(true);
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the document to be invalid');
}

describe('IPPool', () => {
  it('fills Calico defaults and converts the apiVersion', () => {
    const r = validateResource(doc('IPPool', { cidr: '192.168.0.0/16' })) as IPPool;
    expect(r).toEqual({
      apiVersion: 'tabby.dev/v1',
      kind: 'IPPool',
      metadata: { name: 'x' },
      spec: {
        cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, disabled: false,
        disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'],
      },
    });
    expect((validateResource(doc('IPPool', { cidr: 'FD00::/48' })) as IPPool).spec).toMatchObject({ cidr: 'fd00::/48', blockSize: 122 });
  });
  it('canonicalises the CIDR text and, like Calico, rejects host bits', () => {
    expect((validateResource(doc('IPPool', { cidr: 'FD00:0::/48' })) as IPPool).spec.cidr).toBe('fd00::/48');
    expect(issues(doc('IPPool', { cidr: '10.1.2.3/16' }))).toEqual(['spec.cidr: "10.1.2.3/16" has host bits set; use 10.1.0.0/16']);
  });
  it('allows a disabled pool smaller than a block', () => {
    expect(() => validateResource(doc('IPPool', { cidr: '10.0.0.0/28', disabled: true }))).not.toThrow();
  });
  it.each([
    [{ cidr: '10.0.0.0/16', blockSize: 33 }, 'spec.blockSize: 33 is outside 20-32'],
    [{ cidr: '10.0.0.0/16', blockSize: 19 }, 'spec.blockSize: 19 is outside 20-32'],
    [{ cidr: 'fd00::/48', blockSize: 112 }, 'spec.blockSize: 112 is outside 116-128'],
    [{ cidr: 'fd00::/48', blockSize: 26 }, 'spec.blockSize: 26 is outside 116-128'],
    [{ cidr: '10.0.0.0/16', blockSize: 26.5 }, 'spec.blockSize: expected a whole number, got 26.5'],
    [{ cidr: '10.0.0.0/28' }, 'spec.cidr: the pool 10.0.0.0/28 is smaller than one block (/26); use a larger pool or a blockSize of at least 28'],
    [{ cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }, 'spec.vxlanMode: IPIP and VXLAN cannot both be enabled on one pool (ipipMode is Always, vxlanMode is CrossSubnet); set one of them to Never'],
    [{ cidr: 'fd00::/48', ipipMode: 'Always' }, 'spec.ipipMode: IPIP is not supported on an IPv6 pool (ipipMode is Always); use vxlanMode or Never'],
    [{ cidr: '10.0.0.0/16', ipipMode: 'Sometimes' }, 'spec.ipipMode: "Sometimes" is not one of Never, Always, CrossSubnet'],
    [{ cidr: '10.0.0/16' }, 'spec.cidr: "10.0.0/16" is not a valid CIDR: "10.0.0" is not an IPv4 or IPv6 address'],
    [{}, 'spec.cidr: required field is missing'],
    [{ cidr: '169.254.0.0/16' }, 'spec.cidr: 169.254.0.0/16 overlaps the link-local range 169.254.0.0/16'],
    [{ cidr: '10.0.0.0/16', natOutgoing: 'yes' }, 'spec.natOutgoing: expected true or false, got "yes"'],
    [{ cidr: '10.0.0.0/16', nodeSelector: 'role == prod' }, 'spec.nodeSelector: invalid selector "role == prod": at column 8: expected a quoted string after "==", found label "prod"'],
    [{ cidr: '10.0.0.0/16', nat: true }, 'spec.nat: unknown field'],
  ])('%j → %s', (spec, line) => {
    expect(issues(doc('IPPool', spec))).toContain(line);
  });
  it('reports every problem at once', () => {
    expect(issues(doc('IPPool', { cidr: '10.0.0.0/16', blockSize: 40, natOutgoing: 1, ipipMode: 'Always', vxlanMode: 'Always' }, { name: 'Blue' }))).toEqual([
      'metadata.name: "Blue" must consist of lowercase letters, digits, "-" and ".", and start and end with a letter or digit',
      'spec.blockSize: 40 is outside 20-32',
      'spec.natOutgoing: expected true or false, got 1',
      'spec.vxlanMode: IPIP and VXLAN cannot both be enabled on one pool (ipipMode is Always, vxlanMode is Always); set one of them to Never',
    ]);
  });
  it('names the resource in the message, or uses the given location', () => {
    expect(() => validateResource(doc('IPPool', { cidr: '10.0.0.0/16', blockSize: 33 }, { name: 'blue' }))).toThrow('IPPool "blue": spec.blockSize: 33 is outside 20-32');
    expect(() => validateResource(doc('IPPool', { cidr: '10.0.0.0/16', blockSize: 33 }, { name: 'blue' }), 'pools.yaml: document 2 (IPPool "blue")')).toThrow(
      'pools.yaml: document 2 (IPPool "blue"): spec.blockSize: 33 is outside 20-32',
    );
  });
});

describe('validateUpdate', () => {
  const old = validateResource(doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'blue' }));
  it('allows changing mutable fields', () => {
    expect((validateUpdate(old, doc('IPPool', { cidr: '10.0.0.0/16', natOutgoing: true }, { name: 'blue' })) as IPPool).spec.natOutgoing).toBe(true);
  });
  it('rejects a changed cidr or blockSize (a defaulted blockSize counts)', () => {
    try {
      validateUpdate(old, doc('IPPool', { cidr: '10.1.0.0/16', blockSize: 24 }, { name: 'blue' }));
      expect.fail('no throw');
    } catch (e: unknown) {
      expect((e as ValidationError).issues).toEqual([
        { path: 'spec.cidr', message: 'cannot be changed (from "10.0.0.0/16" to "10.1.0.0/16"); create a new IPPool instead' },
        { path: 'spec.blockSize', message: 'cannot be changed (from 26 to 24); create a new IPPool instead' },
      ]);
    }
  });
  it('rejects a rename', () => {
    expect(() => validateUpdate(old, doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'red' }))).toThrow('metadata.name: cannot change from "blue" to "red"');
  });
});

describe('header and metadata', () => {
  it.each([
    [{ kind: 'IPPool', metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/16' } }, 'apiVersion: required field is missing (use tabby.dev/v1 or projectcalico.org/v3)'],
    [{ apiVersion: 'v1', kind: 'IPPool', metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/16' } }, 'apiVersion: "v1" is not tabby.dev/v1 or projectcalico.org/v3'],
    [{ apiVersion: V3, kind: 'Pod', metadata: { name: 'x' } }, 'kind: "Pod" is not a known kind (IPPool, IPAMConfiguration, IPAMBlock, BlockAffinity, IPAMHandle, Node, BGPConfiguration, BGPPeer, WorkloadEndpoint, NetworkPolicy, GlobalNetworkPolicy, Profile, FelixConfiguration)'],
    [{ apiVersion: V3, kind: 'IPPool', spec: { cidr: '10.0.0.0/16' } }, 'metadata: required field is missing'],
    [{ apiVersion: V3, kind: 'IPPool', metadata: {}, spec: { cidr: '10.0.0.0/16' } }, 'metadata.name: required field is missing'],
    [doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'x', namespace: 'ns' }), 'metadata.namespace: IPPool is cluster-scoped; remove the namespace'],
    [doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'x', labels: { 'Example.com/a': 'b' } }), 'metadata.labels["Example.com/a"]: label key prefix "Example.com" must be a lowercase DNS subdomain of at most 253 characters'],
    [doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'x', labels: { ['a'.repeat(64)]: 'b' } }), `metadata.labels.${'a'.repeat(64)}: label key name is 64 characters long; at most 63 are allowed`],
    [doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'x', labels: { a: '-b' } }), 'metadata.labels.a: label value "-b" must start and end with a letter or digit and contain only letters, digits, "-", "_" and "."'],
    [doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'x', labels: { a: 'b'.repeat(64) } }), 'metadata.labels.a: label value is 64 characters long; at most 63 are allowed'],
    [doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'x', labels: { a: true } }), 'metadata.labels.a: label values must be strings, got true (quote it in YAML)'],
    [{ ...doc('IPPool', { cidr: '10.0.0.0/16' }), extra: 1 }, 'extra: unknown field'],
    [doc('IPPool', 'text'), 'spec: expected an object, got "text"'],
  ])('%j → %s', (d, line) => {
    expect(issues(d)).toContain(line);
  });
  it('accepts valid label forms and defaults the namespace of namespaced kinds', () => {
    const r = validateResource(doc('NetworkPolicy', {}, { name: 'p', labels: { 'app.kubernetes.io/name': 'web', empty: '' } }));
    expect(r.metadata).toEqual({ name: 'p', namespace: 'default', labels: { 'app.kubernetes.io/name': 'web', empty: '' } });
  });
  it('rejects non-objects', () => {
    expect(() => validateResource([1])).toThrow('resource: expected an object with apiVersion, kind, metadata and spec, got a list');
  });
});

describe('BGP kinds and Node', () => {
  it('accepts AS numbers as numbers, digit strings and asdot', () => {
    const peer = (asNumber: unknown): AnyResource => validateResource(doc('BGPPeer', { peerIP: '10.0.0.1', asNumber }));
    expect(peer(64512).spec).toMatchObject({ asNumber: 64512, sourceAddress: 'UseNodeIP' });
    expect(peer('64512').spec).toMatchObject({ asNumber: 64512 });
    expect(peer('1.10').spec).toMatchObject({ asNumber: 65546 });
    expect(peer(4294967295).spec).toMatchObject({ asNumber: 4294967295 });
  });
  it.each([
    [{ peerIP: '10.0.0.1', asNumber: 0 }, 'spec.asNumber: 0 is outside 1-4294967295'],
    [{ peerIP: '10.0.0.1', asNumber: 4294967296 }, 'spec.asNumber: 4294967296 is outside 1-4294967295'],
    [{ peerIP: '10.0.0.1', asNumber: 'AS1' }, 'spec.asNumber: "AS1" is not an AS number (use 1-4294967295 or the dotted form like 1.10)'],
    [{ peerIP: '10.0.0.1', asNumber: '65536.1' }, 'spec.asNumber: "65536.1" is not a valid asdot AS number (both parts must be 0-65535)'],
    [{ peerIP: '10.0.0.1' }, 'spec.asNumber: required when peerIP is set'],
    [{ asNumber: 1 }, 'spec.peerIP: either peerIP, peerSelector or localWorkloadSelector is required'],
    [{ peerIP: '10.0.0.1:99999', asNumber: 1 }, 'spec.peerIP: port 99999 in "10.0.0.1:99999" is outside 1-65535'],
    [{ peerIP: 'fd00::1:179x', asNumber: 1 }, 'spec.peerIP: "fd00::1:179x" is not a peer address (use 10.0.0.1, 10.0.0.1:1179, fd00::1 or [fd00::1]:1179)'],
    [{ peerIP: '10.0.0.1', asNumber: 1, node: 'a', nodeSelector: 'all()' }, 'spec.nodeSelector: cannot be set together with node; use one of them'],
    [{ peerSelector: 'has(rr)', peerIP: '10.0.0.1', asNumber: 1 }, 'spec.peerSelector: cannot be set together with peerIP; use one of them'],
  ])('BGPPeer %j → %s', (spec, line) => {
    expect(issues(doc('BGPPeer', spec))).toContain(line);
  });
  it('checks reachableBy against peerIP', () => {
    expect(issues(doc('BGPPeer', { peerIP: '10.0.0.1', asNumber: 1, reachableBy: 'fd00::1' }))).toEqual(['spec.reachableBy: is IPv6 but peerIP is IPv4']);
    expect(() => validateResource(doc('BGPPeer', { peerIP: '10.0.0.1:1179', asNumber: 1, reachableBy: '10.0.0.254' }))).not.toThrow();
  });
  it('accepts IPv6 peers with ports', () => {
    expect(validateResource(doc('BGPPeer', { peerIP: '[fd00::1]:1179', asNumber: 65001 })).spec).toMatchObject({ peerIP: '[fd00::1]:1179' });
  });
  it('fills BGPConfiguration defaults only on "default"', () => {
    expect(validateResource(doc('BGPConfiguration', {}, { name: 'default' })).spec).toEqual({ logSeverityScreen: 'Info', nodeToNodeMeshEnabled: true, asNumber: 64512, listenPort: 179 });
    expect(validateResource(doc('BGPConfiguration', { listenPort: 1179 }, { name: 'node.a' })).spec).toEqual({ listenPort: 1179 });
  });
  it.each([
    [{ listenPort: 0 }, 'default', 'spec.listenPort: 0 is outside 1-65535'],
    [{ asNumber: 65000 }, 'node.a', 'spec.asNumber: can only be set in the BGPConfiguration named "default", not "node.a"'],
    [{ communities: [{ name: 'c', value: '65536:1' }] }, 'default', 'spec.communities[0].value: "65536:1" is not a community (aa:nn with parts 0-65535, or aa:nn:mm with parts 0-4294967295)'],
    [{ prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['nope'] }] }, 'default', 'spec.prefixAdvertisements[0].communities[0]: "nope" is neither a community defined in spec.communities nor a community value'],
    [{ serviceClusterIPs: [{ cidr: '10.96.0.0/33' }] }, 'default', 'spec.serviceClusterIPs[0].cidr: "10.96.0.0/33" is not a valid CIDR: prefix length "33" must be a number from 0 to 32'],
    [{ nodeMeshMaxRestartTime: '2 minutes' }, 'default', 'spec.nodeMeshMaxRestartTime: "2 minutes" is not a duration (for example 90s, 1m30s, 500ms)'],
  ])('BGPConfiguration %j (%s) → %s', (spec, name, line) => {
    expect(issues(doc('BGPConfiguration', spec, { name }))).toContain(line);
  });
  it('accepts valid communities', () => {
    expect(() => validateResource(doc('BGPConfiguration', { communities: [{ name: 'big', value: '63400:300:100' }], prefixAdvertisements: [{ cidr: '172.218.4.0/26', communities: ['big', '63400:120'] }] }, { name: 'default' }))).not.toThrow();
  });
  it('validates Node', () => {
    expect(validateResource(doc('Node', { bgp: { ipv4Address: '10.0.0.1/24', asNumber: '65001', routeReflectorClusterID: '224.0.0.1' } }, { name: 'node-1' })).spec).toEqual({
      bgp: { ipv4Address: '10.0.0.1/24', asNumber: 65001, routeReflectorClusterID: '224.0.0.1' },
    });
    expect(issues(doc('Node', { bgp: { ipv4Address: 'fd00::1/64' } }))).toEqual([
      'spec.bgp.ipv4Address: "fd00::1/64" is not an IPv4 address with optional /prefix-length (for example 10.0.0.1/24)',
    ]);
    expect(issues(doc('Node', { bgp: {} }))).toEqual(['spec.bgp: must not be empty: set ipv4Address, ipv6Address or asNumber, or remove bgp for a policy-only node']);
    expect(issues(doc('Node', { vxlanTunnelMACAddr: 'zz' }))).toEqual(['spec.vxlanTunnelMACAddr: "zz" is not a MAC address (aa:bb:cc:dd:ee:ff)']);
  });
});

describe('policy', () => {
  const rule = (r: Record<string, unknown>): Record<string, unknown> => doc('GlobalNetworkPolicy', { ingress: [{ action: 'Allow', ...r }] });
  it('accepts ports, ranges, named ports and normalises protocols', () => {
    const r = validateResource(rule({ protocol: 'tcp', destination: { ports: [80, '8080:8090', 'http', '443'] } }));
    expect(r.spec).toMatchObject({ types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, '8080:8090', 'http', '443'] } }], egress: [], selector: '' });
    expect(validateResource(rule({ protocol: 'icmpv6', icmp: { type: 128 } })).spec).toMatchObject({ ingress: [{ protocol: 'ICMPv6' }] });
    expect(validateResource(rule({ protocol: '17' })).spec).toMatchObject({ ingress: [{ protocol: 17 }] });
    expect(validateResource(rule({ protocol: 'UDPLite', source: { ports: [53] } })).spec).toMatchObject({ ingress: [{ protocol: 'UDPLite' }] });
  });
  it.each([
    [{ protocol: 'TCP', destination: { ports: [70000] } }, 'spec.ingress[0].destination.ports[0]: port 70000 is outside 0-65535'],
    [{ protocol: 'TCP', destination: { ports: ['90:80'] } }, 'spec.ingress[0].destination.ports[0]: port range "90:80" has its first port after its last'],
    [{ protocol: 'TCP', destination: { ports: ['Not_A_Port'] } }, 'spec.ingress[0].destination.ports[0]: "Not_A_Port" is not a port (use a number 0-65535, a range like "80:90", or a named port of at most 15 lowercase letters, digits and "-")'],
    [{ destination: { ports: [80] } }, 'spec.ingress[0].destination.ports: numeric ports need protocol TCP, UDP, SCTP or UDPLite (no protocol is set; only named ports may go without)'],
    [{ source: { nets: ['10.0.0.0/8'] }, destination: { nets: ['fd00::/8'] } }, 'spec.ingress[0]: mixes IPv4 and IPv6 nets in one rule; split it into one rule per family'],
    [{ source: { notNets: ['0.0.0.0/0'] } }, 'spec.ingress[0].source.notNets[0]: "0.0.0.0/0" in notNets matches nothing'],
    [{ source: { selector: 'global()' } }, 'spec.ingress[0].source.selector: global() can only be used in namespaceSelector'],
    [{ source: { namespaceSelector: 'global() || a == "b"' } }, 'spec.ingress[0].source.namespaceSelector: global() must be the whole namespaceSelector'],
    [{ source: { services: { namespace: 'x' } } }, 'spec.ingress[0].source.services.name: required: the service to match'],
    [{ source: { services: { name: 's' }, selector: 'a == "b"' } }, 'spec.ingress[0].source.services: cannot be combined with selector or notSelector'],
    [{ destination: { services: { name: 's' } } }, 'spec.ingress[0].destination.services: not allowed in the destination of an ingress rule'],
    [{ protocol: 'ICMP', source: { notPorts: [80] } }, 'spec.ingress[0].source.notPorts: ports need protocol TCP, UDP, SCTP or UDPLite (protocol is ICMP)'],
    [{ protocol: 'GRE' }, 'spec.ingress[0].protocol: "GRE" is not a protocol (use TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255)'],
    [{ protocol: 256 }, 'spec.ingress[0].protocol: protocol number 256 is outside 1-255'],
    [{ protocol: 'TCP', icmp: { type: 8 } }, 'spec.ingress[0].icmp: ICMP matches need protocol ICMP or ICMPv6 (protocol is TCP)'],
    [{ protocol: 'ICMP', icmp: { code: 0 } }, 'spec.ingress[0].icmp.code: an ICMP code needs an ICMP type'],
    [{ protocol: 'ICMP', icmp: { type: 255 } }, 'spec.ingress[0].icmp.type: 255 is outside 0-254'],
    [{ protocol: 'ICMPv6', ipVersion: 4 }, 'spec.ingress[0].ipVersion: protocol ICMPv6 needs ipVersion 6'],
    [{ ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }, 'spec.ingress[0].source.nets[0]: "10.0.0.0/8" is IPv4 but the rule has ipVersion 6'],
    [{ ipVersion: 5 }, 'spec.ingress[0].ipVersion: 5 is not 4 or 6'],
    [{ source: { selector: 'a ==' } }, 'spec.ingress[0].source.selector: invalid selector "a ==": at column 4: expected a quoted string after "==", found the end of the selector'],
    [{ action: 'Accept' }, 'spec.ingress[0].action: "Accept" is not one of Allow, Deny, Log, Pass'],
  ])('rule %j → %s', (r, line) => {
    expect(issues(rule(r))).toContain(line);
  });
  it('allows named ports without a protocol and global() as a whole namespaceSelector', () => {
    expect(() => validateResource(rule({ destination: { ports: ['http'] }, source: { namespaceSelector: 'global()' } }))).not.toThrow();
  });
  it('checks policy names and selectors', () => {
    expect(() => validateResource(doc('NetworkPolicy', {}, { name: 'knp.default.allow-dns' }))).not.toThrow();
    expect(() => validateResource(doc('GlobalNetworkPolicy', {}, { name: 'security.deny-all' }))).not.toThrow();
    expect(issues(doc('GlobalNetworkPolicy', {}, { name: 'a.b.c' }))).toEqual(['metadata.name: "a.b.c" must be lowercase letters, digits and "-" (optionally prefixed by "<tier>."), at most 253 characters']);
    expect(issues(doc('GlobalNetworkPolicy', { selector: 'global()' }))).toEqual(["spec.selector: global() can only be used in a rule's namespaceSelector"]);
  });
  it('defaults types as Calico does', () => {
    const types = (spec: Record<string, unknown>): unknown => validateResource(doc('NetworkPolicy', spec)).spec;
    expect(types({})).toMatchObject({ types: ['Ingress'] });
    expect(types({ egress: [{ action: 'Allow' }] })).toMatchObject({ types: ['Egress'] });
    expect(types({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] })).toMatchObject({ types: ['Ingress', 'Egress'] });
  });
  it('checks types against rules and GlobalNetworkPolicy flags', () => {
    expect(issues(doc('NetworkPolicy', { types: ['Ingress'], egress: [{ action: 'Allow' }] }))).toEqual(['spec.egress: egress rules are present but types does not include Egress']);
    expect(issues(doc('GlobalNetworkPolicy', { preDNAT: true, doNotTrack: true, applyOnForward: true }))).toEqual(['spec.preDNAT: cannot be true together with doNotTrack']);
    expect(issues(doc('GlobalNetworkPolicy', { preDNAT: true }))).toEqual(['spec.applyOnForward: must be true when preDNAT is true']);
  });
});

describe('IPAM kinds and others', () => {
  it('fills an empty block', () => {
    expect(validateResource(doc('IPAMBlock', { cidr: '10.0.0.0/30', affinity: 'host:n1' }, { name: '10-0-0-0-30' })).spec).toEqual({
      cidr: '10.0.0.0/30', affinity: 'host:n1', strictAffinity: false, attributes: [], deleted: false,
      allocations: [null, null, null, null], unallocated: [0, 1, 2, 3],
    });
  });
  it('checks block allocation invariants', () => {
    const block = (allocations: unknown, unallocated: unknown, attributes: unknown = [{ handle_id: 'h' }]): string[] =>
      issues(doc('IPAMBlock', { cidr: '10.0.0.0/30', allocations, unallocated, attributes }));
    expect(block([0, null, null], [1, 2])).toEqual(['spec.allocations: has 3 entries but the block has 4 addresses']);
    expect(block([0, null, null, null], [1, 2])).toEqual(['spec.unallocated: ordinal 3 is neither allocated nor listed as unallocated']);
    expect(block([0, null, null, null], [1, 2, 3, 0])).toEqual(['spec.unallocated[3]: ordinal 0 is also allocated']);
    expect(block([1, null, null, null], [1, 2, 3])).toEqual(['spec.allocations[0]: attribute index 1 is outside attributes (1 entries)']);
    expect(block([0, null, null, null], [1, 1, 2, 3])).toEqual(['spec.unallocated[1]: ordinal 1 is listed twice']);
    expect(issues(doc('IPAMBlock', { cidr: '10.0.0.1/30' }))).toEqual(['spec.cidr: "10.0.0.1/30" has host bits set; use 10.0.0.0/30']);
    expect(issues(doc('IPAMBlock', { cidr: '10.0.0.0/30', affinity: 'node1' }))).toEqual(['spec.affinity: "node1" must look like host:<node> or virtual:<name>']);
  });
  it('validates affinities, handles and the IPAM configuration', () => {
    expect(validateResource(doc('BlockAffinity', { state: 'confirmed', node: 'n1', cidr: '10.0.0.0/26', deleted: 'false' }, { name: 'n1-10-0-0-0-26' })).spec).toEqual({
      state: 'confirmed', node: 'n1', cidr: '10.0.0.0/26', deleted: false,
    });
    expect(issues(doc('BlockAffinity', { state: 'done', node: 'n1', cidr: '10.0.0.0/26' }))).toEqual(['spec.state: "done" is not one of pending, confirmed, pendingDeletion']);
    expect(validateResource(doc('IPAMHandle', { handleID: 'k8s-pod-network.abc', block: { '10.0.0.0/26': 1 } }, { name: 'k8s-pod-network.abc' })).spec).toEqual({
      handleID: 'k8s-pod-network.abc', block: { '10.0.0.0/26': 1 }, deleted: false,
    });
    expect(issues(doc('IPAMHandle', { handleID: 'h', block: { nope: 1 } }))).toEqual(['spec.block.nope: "nope" is not a block CIDR']);
    expect(validateResource(doc('IPAMConfiguration', {}, { name: 'default' })).spec).toEqual({ strictAffinity: false, maxBlocksPerHost: 0, autoAllocateBlocks: true });
    expect(issues(doc('IPAMConfiguration', {}, { name: 'other' }))).toEqual(['metadata.name: an IPAMConfiguration must be named "default", not "other"']);
  });
  it('validates WorkloadEndpoint, Profile and FelixConfiguration', () => {
    expect(validateResource(doc('WorkloadEndpoint', { node: 'n1', interfaceName: 'cali0123456789a', ipNetworks: ['10.0.0.5/32'] }, { name: 'n1-k8s-pod-eth0', namespace: 'ns1' })).metadata.namespace).toBe('ns1');
    expect(issues(doc('WorkloadEndpoint', { node: 'n1', interfaceName: 'cali0', ports: [{ protocol: 'TCP', port: 80 }] }))).toEqual(['spec.ports[0].name: required unless hostPort is set']);
    expect(issues(doc('WorkloadEndpoint', { node: 'n1', interfaceName: 'cali0123456789ab' }))).toEqual([
      'spec.interfaceName: "cali0123456789ab" is not a Linux interface name (1-15 characters, no "/", ":" or spaces)',
    ]);
    expect(validateResource(doc('Profile', { labelsToApply: { 'pcns.projectcalico.org/name': 'x' } }, { name: 'kns.default' })).spec).toEqual({ labelsToApply: { 'pcns.projectcalico.org/name': 'x' } });
    expect(validateResource(doc('FelixConfiguration', { vxlanVNI: 4096, someFutureField: 1 }, { name: 'default' })).spec).toEqual({ vxlanVNI: 4096, someFutureField: 1 });
    expect(issues(doc('FelixConfiguration', { vxlanPort: 0, routeTableRange: { min: 10, max: 2 } }))).toEqual([
      'spec.routeTableRange: min 10 is greater than max 2',
      'spec.vxlanPort: 0 is outside 1-65535',
    ]);
  });
});
