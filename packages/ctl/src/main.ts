/**
 * tabbyctl's entry: parse, dispatch to a verb, print, and turn errors into exit codes. The
 * datastore is opened only by verbs that need one and closed at the end.
 */
import { KINDS, isTabbyError } from '@tabby/api';
import { parseArgs } from './args.js';
import { datastoreConfig } from './config.js';
import type { CtlContext, CtlIo } from './context.js';
import { CtlError, ctlError } from './errors.js';
import { completion, HELP } from './help.js';
import { ipamVerb } from './ipam.js';
import { nodeVerb } from './node.js';
import { kubeApi, type KubeApi } from './k8s-policies.js';
import { openDatastore, type Opened } from './open.js';
import { policyVerb } from './policy.js';
import { apply, create, del, get, labelVerb, patch, replace, validate } from './resources.js';

/** Runs tabbyctl with `argv`; returns the exit status. */
export async function runCtl(argv: string[], io: CtlIo): Promise<number> {
  let opened: Promise<Opened> | undefined;
  try {
    const args = parseArgs(argv);
    const verb = args.words[0] ?? '';
    if (args.flags.has('--help') || verb === '' || verb === 'help') {
      const topic = verb === 'help' ? args.words[1] ?? '' : verb;
      io.out((HELP[topic] ?? HELP['']!) + '\n');
      return verb === '' && !args.flags.has('--help') ? 2 : 0;
    }
    const open = (): Promise<Opened> => (opened ??= openDatastore(datastoreConfig(args, io.env)));
    let kube: Promise<KubeApi | undefined> | undefined;
    const ctx: CtlContext = {
      args,
      io,
      datastore: async () => (await open()).store,
      kubeApi: () => (kube ??= open().then((o) => (o.kube ? kubeApi(o.kube) : undefined))),
    };
    switch (verb) {
      case 'create': await create(ctx); break;
      case 'apply': await apply(ctx); break;
      case 'replace': await replace(ctx); break;
      case 'delete': await del(ctx); break;
      case 'get': await get(ctx); break;
      case 'patch': await patch(ctx); break;
      case 'label': await labelVerb(ctx); break;
      case 'validate': await validate(ctx); break;
      case 'ipam': await ipamVerb(ctx); break;
      case 'node': await nodeVerb(ctx); break;
      case 'completion': {
        const script = completion(args.words[1], KINDS);
        if (!script) throw ctlError('usage', 'usage: tabbyctl completion bash|zsh');
        io.out(script);
        break;
      }
      case 'policy': await policyVerb(ctx); break;
      default: throw ctlError('usage', `unknown verb "${verb}"; see tabbyctl --help`);
    }
    return 0;
  } catch (e: unknown) {
    if (e instanceof CtlError) {
      io.err(e.message + '\n');
      return e.exitCode;
    }
    if (isTabbyError(e, 'Unavailable')) {
      io.err(`datastore unreachable: ${e.message}\n`);
      return 4;
    }
    io.err(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await opened?.then((o) => o.store.close(), () => undefined);
  }
}
