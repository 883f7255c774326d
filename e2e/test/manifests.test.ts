// Unit test (no root, no cluster): the manifests are consistent with each other and with the
// binaries they run. No Kubernetes API server can run here, so this is what can be checked:
// every file parses, kustomization lists them all, every Kubernetes object passes the Kubernetes
// OpenAPI schemas (offline, from the kubernetes-models package), every CRD schema is structural,
// references resolve, commands use real flags and environment variables, probes hit the health
// port, and Calico documents in them pass Tabby's own validation.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseDocuments, structuralProblems, type OpenApiSchema } from '@tabby/api';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, ServiceAccount } from 'kubernetes-models/v1';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../manifests');
type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown>; data?: Record<string, string>; resources?: string[] };
const docsOf = (file: string): Doc[] => parseAllDocuments(readFileSync(join(root, file), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean);
const files = ['rbac.yaml', 'config.yaml', 'tabby-node.yaml', 'route-reflector.yaml', ...readdirSync(join(root, 'crds')).map((f) => `crds/${f}`)];

/** The kubernetes-models class of each Kubernetes kind the manifests use (constructed, then validated). */
type Validatable = new (data: never) => { validate(): void };
const MODELS: Record<string, Validatable> = {
  'apps/v1/DaemonSet': DaemonSet, 'apps/v1/Deployment': Deployment, 'v1/ConfigMap': ConfigMap, 'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole, 'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};
/** Environment variables in a manifest that tabby-node does not read yet (none). */
const UNREAD_ENV = new Set<string>([]);
type Container = { name: string; command?: string[]; env?: Array<{ name: string; value?: string }>; livenessProbe?: unknown; readinessProbe?: unknown };
const containersOf = (d: Doc): Container[] => ((d.spec as { template?: { spec?: { containers?: Container[] } } }).template?.spec?.containers ?? []);

function walk(o: unknown, visit: (k: string, v: unknown, parent: Record<string, unknown>) => void): void {
  if (Array.isArray(o)) o.forEach((x) => walk(x, visit));
  else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) {
    visit(k, v, o as Record<string, unknown>);
    walk(v, visit);
  }
}

describe('manifests', () => {
  const all = files.flatMap((f) => docsOf(f).map((d) => ({ file: f, d })));

  it('every file parses and kustomization lists every manifest', () => {
    const k = docsOf('kustomization.yaml')[0]!;
    expect([...(k.resources ?? [])].sort()).toEqual([...files].sort());
    expect(all.every(({ d }) => typeof d.kind === 'string')).toBe(true);
  });

  it('service accounts and config map keys referenced by workloads exist', () => {
    const accounts = all.filter(({ d }) => d.kind === 'ServiceAccount').map(({ d }) => d.metadata?.name);
    const cm = all.find(({ d }) => d.kind === 'ConfigMap' && d.metadata?.name === 'tabby-config')!.d;
    for (const { d } of all.filter(({ d }) => d.kind === 'DaemonSet' || d.kind === 'Deployment')) {
      walk(d, (k, v) => {
        if (k === 'serviceAccountName') expect(accounts).toContain(v);
        if (k === 'configMapKeyRef') {
          const ref = v as { name: string; key: string };
          expect(ref.name).toBe('tabby-config');
          expect(Object.keys(cm.data ?? {})).toContain(ref.key);
        }
      });
    }
    expect(() => JSON.parse((cm.data?.cni_network_config ?? '').replace(/__CNI_MTU__/, '1450'))).not.toThrow();
  });

  it('tabby-node commands use flags tabby-node accepts', () => {
    const src = readFileSync(join(root, '../packages/node/src/bin/tabby-node.ts'), 'utf8');
    for (const { d } of all.filter(({ d }) => d.kind === 'DaemonSet' || d.kind === 'Deployment')) {
      walk(d, (k, v) => {
        if (k !== 'command' || !Array.isArray(v) || v[0] !== 'tabby-node') return;
        for (const arg of v as string[]) {
          if (!arg.startsWith('--')) continue;
          const name = arg.slice(2).replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&');
          expect(new RegExp(`(['"]?)${name}\\1: \\{ type:`).test(src), `${arg} in ${d.metadata?.name}`).toBe(true);
        }
      });
    }
  });

  it('Calico documents in the manifests pass Tabby’s validation, and the RBAC covers every CRD', () => {
    const text = readFileSync(join(root, 'route-reflector.yaml'), 'utf8').split(/^---$/m).filter((t) => t.includes('projectcalico.org/v3')).join('\n---\n');
    expect(parseDocuments(text, 'route-reflector.yaml').map((r) => r.kind)).toEqual(['BGPPeer', 'BGPPeer']);
    const role = all.find(({ d }) => d.kind === 'ClusterRole')!.d as unknown as { rules: Array<{ apiGroups: string[]; resources: string[] }> };
    const ours = role.rules.filter((r) => r.apiGroups.includes('tabby.dev')).flatMap((r) => r.resources);
    const crds = all.filter(({ d }) => d.kind === 'CustomResourceDefinition').map(({ d }) => (d.spec as { names: { plural: string } }).names.plural);
    expect([...ours].sort()).toEqual([...crds].sort());
  });

  it('every Kubernetes object passes the Kubernetes OpenAPI schema (kubernetes-models, offline)', () => {
    const k8s = all.filter(({ d }) => !d.apiVersion?.includes('projectcalico.org') && d.kind !== 'Kustomization');
    expect(k8s.length).toBeGreaterThan(15);
    for (const { file, d } of k8s) {
      const Model = MODELS[`${d.apiVersion}/${d.kind}`];
      expect(Model, `${file}: no schema for ${d.apiVersion} ${d.kind}`).toBeDefined();
      expect(() => new Model!(d as never).validate(), `${file}: ${d.kind} ${d.metadata?.name}`).not.toThrow();
    }
    // The check has teeth: a probe port of the wrong type is refused.
    const ds = structuredClone(all.find(({ d }) => d.kind === 'DaemonSet')!.d) as Doc;
    (containersOf(ds)[0]!.livenessProbe as { httpGet: { port: unknown } }).httpGet.port = { n: 9099 };
    expect(() => new DaemonSet(ds as never).validate()).toThrow(/livenessProbe/);
  });

  it('every CRD schema is structural', () => {
    for (const { file, d } of all.filter(({ d }) => d.kind === 'CustomResourceDefinition')) {
      const v = (d.spec as { versions: Array<{ schema: { openAPIV3Schema: OpenApiSchema } }> }).versions[0]!;
      expect(structuralProblems(v.schema.openAPIV3Schema), file).toEqual([]);
      expect(JSON.stringify(v.schema.openAPIV3Schema.properties?.spec), file).not.toContain('x-kubernetes-preserve-unknown-fields":true}');
    }
  });

  it('tabby-node containers set only environment variables tabby-node reads, and probe its health port', () => {
    const srcDir = join(root, '../packages/node/src');
    const src = readdirSync(srcDir, { recursive: true }).filter((f) => String(f).endsWith('.ts')).map((f) => readFileSync(join(srcDir, String(f)), 'utf8')).join('\n');
    for (const { d } of all.filter(({ d }) => d.kind === 'DaemonSet' || d.kind === 'Deployment')) {
      for (const c of containersOf(d).filter((c) => c.command?.[0] === 'tabby-node')) {
        for (const { name } of c.env ?? []) if (!UNREAD_ENV.has(name)) expect(src.includes(name), `${d.metadata?.name}: env ${name} is not read by tabby-node`).toBe(true);
        const port = Number(c.env?.find((e) => e.name === 'TABBY_HEALTH_PORT')?.value ?? 9099);
        expect(c.livenessProbe, d.metadata?.name).toEqual(expect.objectContaining({ httpGet: { host: '127.0.0.1', path: '/liveness', port } }));
        expect(c.readinessProbe, d.metadata?.name).toEqual(expect.objectContaining({ httpGet: { host: '127.0.0.1', path: '/readiness', port } }));
      }
    }
  });
});
