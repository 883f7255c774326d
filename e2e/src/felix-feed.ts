/**
 * Feeds a Felix from a datastore (list, then watch; re-list on `gone`) and, optionally, from a
 * `tabby-bgp` status socket (its Loc-RIB best paths, polled). This is what tabby-node will do
 * in-process; until its issue lands, the end-to-end tests and the demo use this feed.
 *
 * Felix touches the kernel only once it is in sync: the caller sends `in-sync` when the
 * datastore feed has listed every kind and, with BGP, the first Loc-RIB poll is in (so a restart
 * adopts the previous run's BGP routes instead of removing them).
 */
import { eventFor, type Felix, type FelixEvent } from '@tabby/felix';
import type { AnyResource } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { requestStatus, type RouteReport } from '@tabby/bgp';

/** Kinds the routing half reads. */
export const FELIX_KINDS = ['Node', 'IPPool', 'IPAMBlock', 'WorkloadEndpoint', 'FelixConfiguration'] as const;

function keyOf(r: AnyResource): string {
  return `${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}

/** Lists and watches one kind, feeding felix; resolves `listed` after the first list. */
async function followKind(store: Datastore, kind: string, felix: Felix, nodeName: string, signal: AbortSignal, listed: () => void): Promise<void> {
  const known = new Map<string, AnyResource>();
  let first = true;
  while (!signal.aborted) {
    const list = await store.list<AnyResource>({ kind, signal });
    const events: FelixEvent[] = [];
    const seen = new Set<string>();
    for (const r of list.items) {
      seen.add(keyOf(r));
      known.set(keyOf(r), r);
      const ev = eventFor(r, false, nodeName);
      if (ev) events.push(ev);
    }
    for (const [k, r] of known) {
      if (seen.has(k)) continue;
      known.delete(k);
      const ev = eventFor(r, true, nodeName);
      if (ev) events.push(ev);
    }
    felix.apply(events);
    if (first) {
      first = false;
      listed();
    }
    try {
      for await (const w of store.watch<AnyResource>({ kind, revision: list.revision, signal })) {
        if (w.type === 'gone') break;
        if (w.type === 'bookmark') continue;
        const deleted = w.type === 'deleted';
        if (deleted) known.delete(keyOf(w.object));
        else known.set(keyOf(w.object), w.object);
        const ev = eventFor(w.object, deleted, nodeName);
        if (ev) felix.apply([ev]);
      }
    } catch (e: unknown) {
      if (signal.aborted) return;
      throw e;
    }
  }
}

/** Runs the datastore feed until `signal` aborts. Resolves once every kind was listed. */
export async function feedFromDatastore(store: Datastore, felix: Felix, nodeName: string, signal: AbortSignal, onError: (e: unknown) => void = () => {}): Promise<void> {
  let pending = FELIX_KINDS.length;
  let ready!: () => void;
  const allListed = new Promise<void>((r) => (ready = r));
  for (const kind of FELIX_KINDS) {
    followKind(store, kind, felix, nodeName, signal, () => {
      if (--pending === 0) ready();
    }).catch(onError);
  }
  await allListed;
}

/**
 * Polls a tabby-bgp status socket and feeds its best paths as bgp-route events. Resolves after
 * the first successful poll.
 */
export function feedFromBgpStatus(socket: string, felix: Felix, signal: AbortSignal, intervalMs = 200): Promise<void> {
  const current = new Map<string, string>();
  let first!: () => void;
  const firstPoll = new Promise<void>((r) => (first = r));
  const tick = async (): Promise<void> => {
    let routes: RouteReport[];
    try {
      routes = await requestStatus<RouteReport[]>(socket, { cmd: 'routes' });
    } catch {
      return; // the speaker is starting or restarting; try again
    }
    first();
    const events: FelixEvent[] = [];
    const now = new Map<string, string>();
    for (const r of routes) if (r.nextHop && r.from !== 'local') now.set(r.prefix, r.nextHop);
    for (const [prefix, nh] of now) if (current.get(prefix) !== nh) events.push({ type: 'bgp-route-update', prefix, nextHop: nh });
    for (const prefix of current.keys()) if (!now.has(prefix)) events.push({ type: 'bgp-route-remove', prefix });
    current.clear();
    for (const [p, nh] of now) current.set(p, nh);
    if (events.length) felix.apply(events);
  };
  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      await tick();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  void loop();
  return firstPoll;
}
