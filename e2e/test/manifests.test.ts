// Unit test (no root, no cluster): the manifests are consistent with each other and with the
// binaries they run. No Kubernetes API server can run here, so this is what can be checked:
// every file parses, kustomization lists them all, references resolve, commands use real flags,
// and Calico documents in them pass Tabby's own validation.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseDocuments } from '@tabby/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../manifests');
type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown>; data?: Record<string, string>; resources?: string[] };
const docsOf = (file: string): Doc[] => parseAllDocuments(readFileSync(join(root, file), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean);
const files = ['rbac.yaml', 'config.yaml', 'tabby-node.yaml', 'route-reflector.yaml', ...readdirSync(join(root, 'crds')).map((f) => `crds/${f}`)];

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
});
