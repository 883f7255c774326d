// Unit test (no root, no cluster): no unknown field in a Kubernetes object of manifests/. The
// OpenAPI validators of kubernetes-models (manifests.test.ts) accept unknown fields, as an API
// server without strict field validation does, so a typo (`imagee:`) would pass there; here each
// object is type-checked as an object literal against kubernetes-models' TypeScript interfaces,
// whose excess-property check names every field the Kubernetes API does not have.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const manifests = join(here, '../../manifests');

/** The kubernetes-models module and interface of each Kubernetes kind the manifests use. */
const TYPES: Record<string, [module: string, iface: string]> = {
  'apps/v1/DaemonSet': ['apps/v1/DaemonSet', 'IDaemonSet'],
  'apps/v1/Deployment': ['apps/v1/Deployment', 'IDeployment'],
  'v1/ConfigMap': ['v1/ConfigMap', 'IConfigMap'],
  'v1/ServiceAccount': ['v1/ServiceAccount', 'IServiceAccount'],
  'rbac.authorization.k8s.io/v1/ClusterRole': ['rbac.authorization.k8s.io/v1/ClusterRole', 'IClusterRole'],
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', 'IClusterRoleBinding'],
  'apiextensions.k8s.io/v1/CustomResourceDefinition': ['apiextensions.k8s.io/v1/CustomResourceDefinition', 'ICustomResourceDefinition'],
};

interface Obj {
  where: string;
  doc: { apiVersion?: string; kind?: string };
}

function kubernetesObjects(): Obj[] {
  const files = readdirSync(manifests, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(join(manifests, f), 'utf8'))
      .map((d) => d.toJS() as Obj['doc'] & { metadata?: { name?: string } })
      .filter((d) => d && !d.apiVersion?.startsWith('projectcalico.org/'))
      .map((doc) => ({ where: `${f}: ${doc.kind} ${doc.metadata?.name}`, doc })),
  );
}

/** Type-checks `objs` as literals of their interfaces; returns one line per problem. */
function typeProblems(objs: Obj[], mutate?: (o: Obj) => void): string[] {
  const file = join(here, '__manifest_fields.ts');
  const imports = new Set<string>();
  const starts: number[] = [];
  let body = '';
  objs.forEach((o, i) => {
    mutate?.(o);
    const t = TYPES[`${o.doc.apiVersion}/${o.doc.kind}`];
    if (!t) throw new Error(`${o.where}: no kubernetes-models type for ${o.doc.apiVersion} ${o.doc.kind}`);
    imports.add(`import type { ${t[1]} } from 'kubernetes-models/${t[0]}';`);
    starts.push(body.length);
    body += `export const o${i}: ${t[1]} = ${JSON.stringify(o.doc)};\n`;
  });
  const head = `${[...imports].join('\n')}\n`;
  const src = head + body;
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, src, lang) : getSourceFile.call(host, f, lang, ...rest));
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.readFile = (f) => (f === file ? src : readFile.call(host, f));
  const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([file], options, host));
  return diagnostics.map((d) => {
    const at = (d.start ?? 0) - head.length;
    const i = starts.findLastIndex((s) => s <= at);
    return `${objs[i]?.where ?? 'imports'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe('manifests: Kubernetes fields', () => {
  it('every Kubernetes object uses only fields the Kubernetes API has', () => {
    const objs = kubernetesObjects();
    expect(objs.length).toBeGreaterThan(15);
    expect(typeProblems(objs)).toEqual([]);
  }, 120_000);

  it('names a misspelt field and where it is', () => {
    const objs = kubernetesObjects().filter((o) => o.doc.kind === 'DaemonSet');
    const typo = (o: Obj): void => {
      const c = (o.doc as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } }).spec.template.spec.containers[0]!;
      c.imagee = c.image;
    };
    const problems = typeProblems(objs, typo);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^tabby-node\.yaml: DaemonSet tabby-node: .*'"imagee"' does not exist in type 'IContainer'/);
  }, 120_000);
});
