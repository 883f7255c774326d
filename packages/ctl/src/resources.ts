/**
 * The resource verbs: create, apply, replace, delete, get, validate, label, patch. Input is
 * read and validated in full before the first write; each write's failure is reported with the
 * resource it concerns, and the exit status is 1 when any failed.
 */
import { isNamespaced, isTabbyError, validateResource, type AnyResource, type Kind, type Resource } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';
import { readInputs } from './inputs.js';
import { resolveKind } from './kinds.js';
import { render } from './output.js';

function label(r: Resource): string {
  return `${r.kind} "${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name}"`;
}

function keyOf(r: Resource): { kind: string; name: string; namespace?: string } {
  return { kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) };
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function each(ctx: CtlContext, verb: string, past: string, items: AnyResource[], fn: (ds: Datastore, r: AnyResource) => Promise<void>): Promise<void> {
  const ds = await ctx.datastore();
  const failed: string[] = [];
  for (const r of items) {
    try {
      await fn(ds, r);
    } catch (e: unknown) {
      if (isTabbyError(e, 'Unavailable')) throw ctlError('unreachable', `datastore unreachable: ${why(e)}`);
      failed.push(`${label(r)}: ${why(e)}`);
    }
  }
  const ok = items.length - failed.length;
  if (failed.length === 0) return ctx.io.out(`Successfully ${past} ${ok} resource(s)\n`);
  throw ctlError('failed', `${ok > 0 ? `Partial success: ${past} the first ${ok} of ${items.length} resources` : `Failed to ${verb} any resources`}:\n${failed.map((f) => `  ${f}`).join('\n')}`);
}

function inputs(ctx: CtlContext): AnyResource[] {
  const items = readInputs(ctx.args.files, ctx.args.recursive, ctx.io.stdin);
  const ns = ctx.args.namespace;
  return ns ? items.map((r) => (isNamespaced(r.kind) ? ({ ...r, metadata: { ...r.metadata, namespace: ns } } as AnyResource) : r)) : items;
}

export async function create(ctx: CtlContext): Promise<void> {
  const skip = ctx.args.flags.has('--skip-exists');
  await each(ctx, 'create', 'created', inputs(ctx), async (ds, r) => {
    try {
      await ds.create(r);
    } catch (e: unknown) {
      if (!(skip && isTabbyError(e, 'AlreadyExists'))) throw e;
    }
  });
}

export async function apply(ctx: CtlContext): Promise<void> {
  await each(ctx, 'apply', 'applied', inputs(ctx), async (ds, r) => {
    try {
      const cur = await ds.get(keyOf(r));
      await ds.update({ ...r, metadata: { ...r.metadata, resourceVersion: cur.metadata.resourceVersion } });
    } catch (e: unknown) {
      if (!isTabbyError(e, 'NotFound')) throw e;
      await ds.create(r);
    }
  });
}

export async function replace(ctx: CtlContext): Promise<void> {
  await each(ctx, 'replace', 'replaced', inputs(ctx), async (ds, r) => {
    const cur = await ds.get(keyOf(r));
    await ds.update({ ...r, metadata: { ...r.metadata, resourceVersion: r.metadata.resourceVersion ?? cur.metadata.resourceVersion } });
  });
}

function named(ctx: CtlContext, verb: string): { kind: Kind; name: string; namespace?: string } {
  const [, kindWord, name] = ctx.args.words;
  if (!kindWord || !name) throw ctlError('usage', `usage: tabbyctl ${verb} <kind> <name> [-n namespace]; see tabbyctl ${verb} --help`);
  const kind = resolveKind(kindWord);
  return { kind, name, ...(isNamespaced(kind) ? { namespace: ctx.args.namespace ?? 'default' } : {}) };
}

export async function del(ctx: CtlContext): Promise<void> {
  const skip = ctx.args.flags.has('--skip-not-exists');
  const items: Resource[] = ctx.args.files.length > 0 ? inputs(ctx) : [(() => {
    const k = named(ctx, 'delete');
    return { apiVersion: '', kind: k.kind, metadata: { name: k.name, ...(k.namespace ? { namespace: k.namespace } : {}) }, spec: {} };
  })()];
  await each(ctx, 'delete', 'deleted', items as AnyResource[], async (ds, r) => {
    try {
      await ds.delete(keyOf(r));
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
    if (name) items = [await ds.get<AnyResource>({ kind, name, ...(ns ? { namespace: ns } : {}) })];
    else items = (await ds.list<AnyResource>({ kind, ...(ns ? { namespace: ns } : {}) })).items;
  } catch (e: unknown) {
    if (isTabbyError(e, 'NotFound')) throw ctlError('failed', `${kind} "${ns ? `${ns}/` : ''}${name}" not found`);
    if (isTabbyError(e, 'Unavailable')) throw ctlError('unreachable', `datastore unreachable: ${why(e)}`);
    throw e;
  }
  const shown = items.map((r) => ({ ...r, metadata: { ...r.metadata } }) as AnyResource);
  for (const r of shown) delete r.metadata.resourceVersion;
  ctx.io.out(render(kind, shown, ctx.args.output, ctx.args.allNamespaces, name === undefined));
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
