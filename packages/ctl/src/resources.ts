/**
 * The resource verbs: create, apply, replace, delete, get, validate, label, patch. Input is
 * read and validated in full before the first write; each write's failure is reported with the
 * resource it concerns, and the exit status is 1 when any failed. A Kubernetes NetworkPolicy
 * document is written as its Calico conversion to etcd, or as itself to the Kubernetes API.
 */
import { convertK8sNetworkPolicy, isNamespaced, isTabbyError, K8S_POLICY_PREFIX, validateResource, type AnyResource, type Kind, type Resource } from '@tabby/api';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';
import { readInputs } from './inputs.js';
import { inNamespace, K8S_NETPOL_API, type Input, type KubeApi } from './k8s-policies.js';
import { resolveKind } from './kinds.js';
import { render } from './output.js';

function label(i: Input): string {
  const r = i.k8s ?? i.resource;
  return `${i.k8s ? `${K8S_NETPOL_API} ` : ''}${r.kind} "${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name}"`;
}

function keyOf(r: Resource): { kind: string; name: string; namespace?: string } {
  return { kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) };
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Where one input is written: the datastore, or (a Kubernetes policy in Kubernetes mode) the API. */
interface Target {
  /** The stored revision; NotFound when absent. */
  revision(): Promise<string | undefined>;
  create(): Promise<void>;
  update(revision: string | undefined): Promise<void>;
  delete(): Promise<void>;
}

async function targetOf(ctx: CtlContext, i: Input): Promise<Target> {
  const api = i.k8s ? (await ctx.kubeApi())?.policies : undefined;
  const p = i.k8s;
  if (api && p) {
    const ns = p.metadata.namespace ?? 'default';
    return {
      revision: async () => (await api.get(ns, p.metadata.name)).metadata.resourceVersion,
      create: () => api.create(p),
      update: (rv) => api.replace(p, rv),
      delete: () => api.delete(ns, p.metadata.name),
    };
  }
  const ds = await ctx.datastore();
  const r = i.resource;
  return {
    revision: async () => (await ds.get(keyOf(r))).metadata.resourceVersion,
    create: async () => void (await ds.create(r)),
    update: async (rv) => void (await ds.update({ ...r, metadata: { ...r.metadata, ...(rv ? { resourceVersion: rv } : {}) } })),
    delete: async () => void (await ds.delete(keyOf(r))),
  };
}

async function each(ctx: CtlContext, verb: string, past: string, items: Input[], fn: (t: Target, i: Input) => Promise<void>): Promise<void> {
  const failed: string[] = [];
  for (const i of items) {
    try {
      await fn(await targetOf(ctx, i), i);
    } catch (e: unknown) {
      if (isTabbyError(e, 'Unavailable')) throw ctlError('unreachable', `datastore unreachable: ${why(e)}`);
      failed.push(`${label(i)}: ${why(e)}`);
    }
  }
  const ok = items.length - failed.length;
  if (failed.length === 0) return ctx.io.out(`Successfully ${past} ${ok} resource(s)\n`);
  throw ctlError('failed', `${ok > 0 ? `Partial success: ${past} the first ${ok} of ${items.length} resources` : `Failed to ${verb} any resources`}:\n${failed.map((f) => `  ${f}`).join('\n')}`);
}

function inputs(ctx: CtlContext): Input[] {
  const items = readInputs(ctx.args.files, ctx.args.recursive, ctx.io.stdin);
  const ns = ctx.args.namespace;
  return ns ? items.map((i) => (isNamespaced(i.resource.kind) ? inNamespace(i, ns) : i)) : items;
}

export async function create(ctx: CtlContext): Promise<void> {
  const skip = ctx.args.flags.has('--skip-exists');
  await each(ctx, 'create', 'created', inputs(ctx), async (t) => {
    try {
      await t.create();
    } catch (e: unknown) {
      if (!(skip && isTabbyError(e, 'AlreadyExists'))) throw e;
    }
  });
}

export async function apply(ctx: CtlContext): Promise<void> {
  await each(ctx, 'apply', 'applied', inputs(ctx), async (t) => {
    let rv: string | undefined;
    try {
      rv = await t.revision();
    } catch (e: unknown) {
      if (!isTabbyError(e, 'NotFound')) throw e;
      return t.create();
    }
    await t.update(rv);
  });
}

export async function replace(ctx: CtlContext): Promise<void> {
  await each(ctx, 'replace', 'replaced', inputs(ctx), async (t, i) => {
    const rv = await t.revision();
    await t.update(i.resource.metadata.resourceVersion ?? rv);
  });
}

function named(ctx: CtlContext, verb: string): { kind: Kind; name: string; namespace?: string } {
  const [, kindWord, name] = ctx.args.words;
  if (!kindWord || !name) throw ctlError('usage', `usage: tabbyctl ${verb} <kind> <name> [-n namespace]; see tabbyctl ${verb} --help`);
  const kind = resolveKind(kindWord);
  return { kind, name, ...(isNamespaced(kind) ? { namespace: ctx.args.namespace ?? 'default' } : {}) };
}

/**
 * On the Kubernetes datastore `knp.default.*` policies are views of networking.k8s.io objects
 * (calicoctl refuses to change them too): a failure that says which object to change instead.
 */
async function refuseK8sView(ctx: CtlContext, verb: string, k: { kind: Kind; name: string; namespace?: string }): Promise<void> {
  if (k.kind !== 'NetworkPolicy' || !k.name.startsWith(K8S_POLICY_PREFIX) || !(await ctx.kubeApi())) return;
  const own = `${k.namespace ?? 'default'}/${k.name.slice(K8S_POLICY_PREFIX.length)}`;
  throw ctlError('failed', `cannot ${verb} NetworkPolicy "${k.namespace ?? 'default'}/${k.name}": it is the Kubernetes NetworkPolicy ${own} as Calico sees it; change that networking.k8s.io/v1 object instead (tabbyctl ${verb === 'delete' ? 'delete' : 'apply'} -f its YAML, or kubectl)`);
}

export async function del(ctx: CtlContext): Promise<void> {
  const skip = ctx.args.flags.has('--skip-not-exists');
  const byName = ctx.args.files.length > 0 ? undefined : named(ctx, 'delete');
  if (byName) await refuseK8sView(ctx, 'delete', byName);
  const items: Input[] = !byName ? inputs(ctx) : [(() => {
    const k = byName;
    const resource = { apiVersion: '', kind: k.kind, metadata: { name: k.name, ...(k.namespace ? { namespace: k.namespace } : {}) }, spec: {} } as AnyResource;
    return { kind: k.kind, metadata: resource.metadata, resource };
  })()];
  await each(ctx, 'delete', 'deleted', items, async (t) => {
    try {
      await t.delete();
    } catch (e: unknown) {
      if (!(skip && isTabbyError(e, 'NotFound'))) throw e;
    }
  });
}

export async function get(ctx: CtlContext): Promise<void> {
  const [, kindWord, name] = ctx.args.words;
  if (!kindWord) throw ctlError('usage', 'usage: tabbyctl get <kind> [name] [-n ns | -A] [-o ps|wide|yaml|json|custom-columns=...]');
  const kind = resolveKind(kindWord);
  const ds = await ctx.datastore();
  const ns = isNamespaced(kind) && !ctx.args.allNamespaces ? ctx.args.namespace ?? 'default' : undefined;
  let items: AnyResource[];
  try {
    const api = kind === 'NetworkPolicy' ? await ctx.kubeApi() : undefined;
    if (api && name?.startsWith(K8S_POLICY_PREFIX)) items = [convertK8sNetworkPolicy(await api.policies.get(ns ?? 'default', name.slice(K8S_POLICY_PREFIX.length)))];
    else if (name) items = [await ds.get<AnyResource>({ kind, name, ...(ns ? { namespace: ns } : {}) })];
    else items = (await ds.list<AnyResource>({ kind, ...(ns ? { namespace: ns } : {}) })).items;
    if (api && !name) items = [...items, ...(await convertedK8sPolicies(api, ns))].sort(byNamespaceAndName);
  } catch (e: unknown) {
    if (isTabbyError(e, 'NotFound')) throw ctlError('failed', `${kind} "${ns ? `${ns}/` : ''}${name}" not found`);
    if (isTabbyError(e, 'Unavailable')) throw ctlError('unreachable', `datastore unreachable: ${why(e)}`);
    throw e;
  }
  const shown = items.map((r) => ({ ...r, metadata: { ...r.metadata } }) as AnyResource);
  for (const r of shown) delete r.metadata.resourceVersion;
  ctx.io.out(render(kind, shown, ctx.args.output, ctx.args.allNamespaces, name === undefined));
}

const byNamespaceAndName = (a: AnyResource, b: AnyResource): number => {
  const x = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const y = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The API server's Kubernetes NetworkPolicies as Calico shows them (a rule that does not convert is dropped, as Calico's syncer does). */
async function convertedK8sPolicies(api: KubeApi, ns: string | undefined): Promise<AnyResource[]> {
  return (await api.policies.list(ns)).flatMap((p) => {
    try {
      return [convertK8sNetworkPolicy(p, { onBadRule: () => undefined })];
    } catch {
      return []; // a policy Calico cannot convert at all applies nowhere; validate reports why
    }
  });
}

export async function validate(ctx: CtlContext): Promise<void> {
  const items = inputs(ctx);
  ctx.io.out(`Successfully validated ${items.length} resource(s)\n`);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

async function modify(ctx: CtlContext, verb: string, change: (r: AnyResource) => unknown): Promise<void> {
  const k = named(ctx, verb);
  await refuseK8sView(ctx, verb, k);
  const ds = await ctx.datastore();
  let cur: AnyResource;
  try {
    cur = await ds.get<AnyResource>(k);
  } catch (e: unknown) {
    if (isTabbyError(e, 'NotFound')) throw ctlError('failed', `${k.kind} "${k.namespace ? `${k.namespace}/` : ''}${k.name}" not found`);
    throw e;
  }
  const next = change(cur);
  let valid: AnyResource;
  try {
    valid = validateResource(next, `${k.kind} "${k.name}"`);
  } catch (e: unknown) {
    throw ctlError('invalid-input', `${verb}: ${why(e)}; nothing was written`);
  }
  await ds.update({ ...valid, metadata: { ...valid.metadata, resourceVersion: cur.metadata.resourceVersion } });
  ctx.io.out(`Successfully ${verb === 'patch' ? 'patched' : 'labeled'} 1 '${k.kind}' resource\n`);
}

export async function patch(ctx: CtlContext): Promise<void> {
  const p = ctx.args.flags.get('--patch');
  if (typeof p !== 'string') throw ctlError('usage', "patch needs -p '<JSON merge patch>'");
  let doc: unknown;
  try {
    doc = JSON.parse(p);
  } catch {
    throw ctlError('usage', `-p: not JSON: ${p}`);
  }
  await modify(ctx, 'patch', (r) => mergePatch(r, doc));
}

export async function labelVerb(ctx: CtlContext): Promise<void> {
  const kv = ctx.args.words[3];
  if (!kv) throw ctlError('usage', 'usage: tabbyctl label <kind> <name> key=value [--overwrite] | key --remove');
  const remove = ctx.args.flags.has('--remove');
  await modify(ctx, 'label', (r) => {
    const labels = { ...(r.metadata.labels ?? {}) };
    if (remove) {
      if (!(kv in labels)) throw ctlError('failed', `label ${kv} is not set`);
      delete labels[kv];
    } else {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw ctlError('usage', `"${kv}" is not key=value`);
      const key = kv.slice(0, eq);
      if (key in labels && !ctx.args.flags.has('--overwrite')) throw ctlError('failed', `label ${key} is already set; use --overwrite`);
      labels[key] = kv.slice(eq + 1);
    }
    return { ...r, metadata: { ...r.metadata, labels } };
  });
}
