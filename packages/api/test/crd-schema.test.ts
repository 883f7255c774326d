import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KINDS, crdSchemaOf, openApiOf, printerColumnsOf, structuralProblems, validateResource, type OpenApiSchema } from '../src/index.js';

/** Why `value` would not be accepted unchanged (nothing pruned) by an API server using `s`. */
function mismatches(value: unknown, s: OpenApiSchema, path: string): string[] {
  if (value === null) return s.nullable ? [] : [`${path}: null`];
  if (s['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value) ? [] : [`${path}: not int-or-string`];
  const type = Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  if (s.type !== type && !(s.type === 'number' && type === 'integer')) return [`${path}: ${type} where the schema says ${s.type}`];
  if (s.enum && !s.enum.includes(value as string)) return [`${path}: ${String(value)} not in enum`];
  if (Array.isArray(value)) return value.flatMap((v, i) => mismatches(v, s.items!, `${path}[${i}]`));
  if (type !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const sub = s.properties?.[k] ?? s.additionalProperties;
    if (sub) return mismatches(v, sub, `${path}.${k}`);
    return s['x-kubernetes-preserve-unknown-fields'] ? [] : [`${path}.${k}: pruned (not in the schema)`];
  });
}

const docs: unknown[] = [
  { kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16', vxlanMode: 'CrossSubnet', natOutgoing: true } },
  { kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: {} },
  { kind: 'IPAMBlock', metadata: { name: '10-0-0-0-30' }, spec: { cidr: '10.0.0.0/30', affinity: 'host:n1', allocations: [0, null, null, null], unallocated: [1, 2, 3], attributes: [{ handle_id: 'h', secondary: { node: 'n1' } }] } },
  { kind: 'BlockAffinity', metadata: { name: 'n1-10-0-0-0-30' }, spec: { state: 'confirmed', node: 'n1', cidr: '10.0.0.0/30', deleted: 'false' } },
  { kind: 'IPAMHandle', metadata: { name: 'h' }, spec: { handleID: 'h', block: { '10.0.0.0/30': 1 } } },
  { kind: 'Node', metadata: { name: 'n1' }, spec: { bgp: { ipv4Address: '10.1.0.1/24', asNumber: '64512' }, ipv4VXLANTunnelAddr: '10.0.0.1', vxlanTunnelMACAddr: '66:00:00:00:00:01' } },
  { kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], communities: [{ name: 'c', value: '64512:1' }], prefixAdvertisements: [{ cidr: '10.96.0.0/12', communities: ['c'] }] } },
  { kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '10.1.0.254', asNumber: 65000, nodeSelector: 'rack == "a"', password: { secretKeyRef: { name: 's', key: 'k' } } } },
  { kind: 'WorkloadEndpoint', metadata: { name: 'n1-k8s-p-eth0', namespace: 'ns' }, spec: { node: 'n1', pod: 'p', ipNetworks: ['10.0.0.1/32'], interfaceName: 'cali1', profiles: ['kns.ns'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } },
  {
    kind: 'NetworkPolicy', metadata: { name: 'allow', namespace: 'ns' },
    spec: { order: 10.5, selector: 'app == "db"', ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: 'app == "web"', nets: ['10.0.0.0/8'] }, destination: { ports: [5432, '6000:6010', 'http'] } }, { action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } }] },
  },
  { kind: 'GlobalNetworkPolicy', metadata: { name: 'deny' }, spec: { selector: 'all()', types: ['Egress'], egress: [{ action: 'Deny', protocol: 17, destination: { notNets: ['1.1.1.1/32'] } }] } },
  { kind: 'Profile', metadata: { name: 'kns.ns' }, spec: { labelsToApply: { 'projectcalico.org/namespace': 'ns' }, ingress: [{ action: 'Allow' }] } },
  { kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { vxlanEnabled: true, routeTableRange: { min: 1, max: 250 }, someCalicoField: 'kept' } },
].map((d) => ({ apiVersion: 'projectcalico.org/v3', ...(d as object) }));

describe('CRD schemas from the validator model', () => {
  it('every kind has a structural schema', () => {
    for (const kind of KINDS) expect(structuralProblems(crdSchemaOf(kind)), kind).toEqual([]);
  });

  it('keeps every field of a validated resource (nothing pruned, every type right)', () => {
    expect(docs).toHaveLength(KINDS.length);
    for (const d of docs) {
      const r = validateResource(d);
      // metadata is the API server's ObjectMeta (never pruned); the spec is ours.
      expect(mismatches(JSON.parse(JSON.stringify(r.spec)), crdSchemaOf(r.kind).properties!.spec!, `${r.kind}.spec`)).toEqual([]);
    }
  });

  it('has enums, required fields, bounds and int-or-string where the validator has them', () => {
    const pool = crdSchemaOf('IPPool').properties!.spec!;
    expect(pool.required).toEqual(['cidr']);
    expect(pool.properties!.vxlanMode).toMatchObject({ type: 'string', enum: ['Never', 'Always', 'CrossSubnet'] });
    const peer = crdSchemaOf('BGPPeer').properties!.spec!.properties!;
    expect(peer.asNumber!['x-kubernetes-int-or-string']).toBe(true);
    expect(peer.ttlSecurity).toMatchObject({ type: 'integer', minimum: 0, maximum: 255 });
    expect(crdSchemaOf('FelixConfiguration').properties!.spec!['x-kubernetes-preserve-unknown-fields']).toBe(true);
  });

  it('printer columns point at fields of the schema', () => {
    for (const kind of KINDS) {
      for (const c of printerColumnsOf(kind)) {
        if (c.jsonPath === '.metadata.creationTimestamp') continue;
        const field = c.jsonPath.replace(/^\.spec\./, '');
        expect(crdSchemaOf(kind).properties!.spec!.properties![field], `${kind} column ${c.name}`).toBeDefined();
      }
    }
    expect(printerColumnsOf('IPPool').map((c) => c.name)).toEqual(expect.arrayContaining(['CIDR', 'VXLAN', 'IPIP', 'Disabled']));
  });

  it('refuses a field with no OpenAPI form, naming it', () => {
    expect(() => openApiOf(z.object({ a: z.object({ b: z.unknown() }) }), 'spec')).toThrow(/spec\.a\.b: ZodUnknown has no OpenAPI form/);
  });

  it('flags non-structural schemas', () => {
    expect(structuralProblems({ type: 'object', properties: { a: {}, b: { type: 'array' } }, required: ['c'] })).toEqual([
      '<root>: required "c" is not a property',
      'a: no type',
      'b: an array without items',
    ]);
  });
});
