import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DocumentsError, formatDocuments, isTabbyError, parseDocuments, type AnyResource } from '../../src/index.js';

function errorOf(text: string, file = 'pools.yaml'): DocumentsError {
  try {
    parseDocuments(text, file);
  } catch (e: unknown) {
    if (e instanceof DocumentsError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

const POOLS = `# two pools
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: red
spec:
  cidr: 10.0.0.0/16
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: blue
spec:
  cidr: 10.1.0.0/16
  blockSize: 33
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: 10.0.0.300
---
`;

describe('parseDocuments', () => {
  it('reads multi-document YAML and converts the apiVersion', () => {
    const rs = parseDocuments(POOLS.split('---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: blue')[0] as string, 'a.yaml');
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'red' }, spec: { blockSize: 26 } });
  });

  it('reports every invalid document, each with file, document, kind, name, field and reason', () => {
    const e = errorOf(POOLS);
    expect(isTabbyError(e, 'Invalid')).toBe(true);
    expect(e.message).toBe(
      [
        'pools.yaml: document 2 (IPPool "blue"): spec.blockSize: 33 is outside 20-32',
        'pools.yaml: document 3 (BGPPeer "tor"): spec.asNumber: required when peerIP is set',
        'pools.yaml: document 3 (BGPPeer "tor"): spec.peerIP: "10.0.0.300" is not a peer address (use 10.0.0.1, 10.0.0.1:1179, fd00::1 or [fd00::1]:1179)',
      ].join('\n'),
    );
    expect(e.problems[0]).toEqual({ file: 'pools.yaml', document: 2, kind: 'IPPool', name: 'blue', path: 'spec.blockSize', message: '33 is outside 20-32' });
  });

  it('names documents without kind or name as well as it can', () => {
    const e = errorOf('kind: IPPool\nmetadata: {}\nspec: {cidr: 10.0.0.0/8}\n---\n42\n', 'x.yaml');
    expect(e.message.split('\n')).toEqual([
      'x.yaml: document 1 (IPPool): apiVersion: required field is missing (use tabby.dev/v1 or projectcalico.org/v3)',
      'x.yaml: document 1 (IPPool): metadata.name: required field is missing',
      'x.yaml: document 2: expected an object with apiVersion, kind, metadata and spec, got 42',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const e = errorOf('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\n  name: b\nspec: {cidr: [10.0.0.0/8\n', 'bad.yaml');
    expect(isTabbyError(e, 'YamlSyntax')).toBe(true);
    expect(e.message.split('\n')[0]).toBe('bad.yaml: line 5, column 3: Map keys must be unique');
    expect(e.problems.length).toBeGreaterThan(1);
    expect(e.problems.every((p) => p.line !== undefined && p.column !== undefined)).toBe(true);
  });

  it('reads a JSON object, a JSON array and a List', () => {
    const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/8' } };
    const peer = { apiVersion: 'tabby.dev/v1', kind: 'BGPPeer', metadata: { name: 'q' }, spec: { peerIP: '10.0.0.1', asNumber: 65000 } };
    expect(parseDocuments(JSON.stringify(pool), 'p.json').map((r) => r.metadata.name)).toEqual(['p']);
    expect(parseDocuments(JSON.stringify([pool, peer]), 'p.json').map((r) => r.kind)).toEqual(['IPPool', 'BGPPeer']);
    expect(parseDocuments(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pool, peer] }), 'p.json')).toHaveLength(2);
    expect(parseDocuments(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPoolList', items: [pool] }), 'p.json')).toHaveLength(1);
    const e = errorOf(JSON.stringify([pool, { ...peer, spec: { peerIP: '10.0.0.1', asNumber: -1 } }]), 'p.json');
    expect(e.message).toBe('p.json: document 2 (BGPPeer "q"): spec.asNumber: -1 is outside 1-4294967295');
  });

  it('reports JSON syntax errors with line and column', () => {
    const e = errorOf('{\n  "kind": "IPPool",\n  "spec": {"cidr": "10.0.0.0/8",,}\n}\n', 'p.json');
    expect(e.code).toBe('YamlSyntax');
    expect(e.message).toMatch(/^p\.json: line 3, column \d+: /);
  });

  it('rejects duplicates in one file', () => {
    const doc = 'apiVersion: tabby.dev/v1\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8}\n';
    expect(errorOf(`${doc}---\n${doc}`, 'd.yaml').message).toBe('d.yaml: document 2 (IPPool "p"): metadata.name: duplicates document 1 (same kind, namespace and name)');
  });

  it('skips empty documents and accepts an empty file', () => {
    expect(parseDocuments('', 'e.yaml')).toEqual([]);
    expect(parseDocuments('# nothing\n---\n---\n', 'e.yaml')).toEqual([]);
  });
});

const labelKey = fc.constantFrom('app', 'tier', 'app.kubernetes.io/name', 'x_y');
const labelValue = fc.constantFrom('', 'web', 'db-1', 'A.b_c', 'yes', 'true', '123', 'null');
const labelsArb = fc.dictionary(labelKey, labelValue, { maxKeys: 3 });
const nameArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

const poolArb = fc
  .record({
    name: nameArb,
    labels: labelsArb,
    annotations: fc.dictionary(labelKey, fc.string({ unit: 'grapheme', maxLength: 20 }), { maxKeys: 2 }),
    v6: fc.boolean(),
    a: fc.integer({ min: 0, max: 255 }),
    prefix: fc.integer({ min: 16, max: 24 }),
    enc: fc.constantFrom('Never', 'Always', 'CrossSubnet'),
    vx: fc.boolean(),
    nat: fc.boolean(),
    selector: fc.constantFrom('all()', 'zone == "a"', "rack in {'r1', 'r2'}", ''),
  })
  .map(({ name, labels, annotations, v6, a, prefix, enc, vx, nat, selector }) => ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name, labels, annotations },
    spec: v6
      ? { cidr: `fd${a.toString(16).padStart(2, '0')}::/${prefix + 40}`, vxlanMode: enc, natOutgoing: nat, nodeSelector: selector }
      : { cidr: `10.${a}.0.0/${prefix}`, blockSize: 26, ipipMode: vx ? 'Never' : enc, vxlanMode: vx ? enc : 'Never', natOutgoing: nat, nodeSelector: selector },
  }));

const policyArb = fc
  .record({
    name: nameArb,
    ns: nameArb,
    order: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
    rules: fc.array(
      fc.record({
        action: fc.constantFrom('Allow', 'Deny', 'Log', 'Pass'),
        protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'),
        ports: fc.array(fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom('80:90', 'http', '22')), { maxLength: 3 }),
        nets: fc.array(fc.constantFrom('10.0.0.0/8', '192.168.1.1', '172.16.0.0/12'), { maxLength: 2 }),
      }),
      { maxLength: 3 },
    ),
  })
  .map(({ name, ns, order, rules }) => ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec: {
      ...(order === undefined ? {} : { order }),
      selector: 'role == "db"',
      ingress: rules.map((r) => ({ action: r.action, protocol: r.protocol, source: { nets: r.nets }, destination: { ports: r.ports } })),
    },
  }));

const docsArb = fc.uniqueArray(fc.oneof(poolArb, policyArb), {
  maxLength: 5,
  selector: (d) => `${d.kind}/${d.metadata.name}`,
});

describe('round trip', () => {
  it.each(['yaml', 'json'] as const)('parse∘format is stable (%s)', (format) => {
    fc.assert(
      fc.property(docsArb, (docs) => {
        const first: AnyResource[] = parseDocuments(JSON.stringify(docs), 'in.json');
        const text = formatDocuments(first, format);
        const second = parseDocuments(text, `out.${format}`);
        expect(second).toEqual(first);
        expect(formatDocuments(second, format)).toBe(text);
      }),
      { numRuns: 60 },
    );
  });

  it('writes YAML documents and a JSON List', () => {
    const rs = parseDocuments(POOLS.split('---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: blue')[0] as string, 'a.yaml');
    expect(formatDocuments(rs, 'yaml')).toBe(
      '---\napiVersion: tabby.dev/v1\nkind: IPPool\nmetadata:\n  name: red\nspec:\n  cidr: 10.0.0.0/16\n  blockSize: 26\n  ipipMode: Never\n  vxlanMode: Never\n  natOutgoing: false\n  disabled: false\n  disableBGPExport: false\n  nodeSelector: all()\n  allowedUses:\n    - Workload\n    - Tunnel\n',
    );
    expect(JSON.parse(formatDocuments([...rs, ...rs], 'json', { apiVersion: 'projectcalico.org/v3' }))).toMatchObject({ kind: 'List', items: [{ apiVersion: 'projectcalico.org/v3' }, {}] });
  });
});
