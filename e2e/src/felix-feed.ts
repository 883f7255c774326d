/**
 * Feeds a Felix from a datastore (list, then watch; re-list on `gone`) and, optionally, from a
 * `tabby-bgp` status socket (its Loc-RIB best paths, polled): for felix run on its own
 * (`felix-node`, the felix end-to-end tests and the tabby-bgp cluster), as tabby-node does
 * in-process.
 *
 * Felix touches the kernel only once it is in sync: the caller sends `in-sync` when the
 * datastore feed has listed every kind and, with BGP, the first Loc-RIB poll is in (so a restart
 * adopts the previous run's BGP routes instead of removing them).
 */
import { eventFor, type Felix, type FelixEvent } from '@tabby/felix';
import type { Datastore } from '@tabby/datastore';
import { requestStatus, type RouteReport } from '@tabby/bgp';
import { ResourceCache } from '@tabby/node';

/** Kinds the routing half reads. */
export const FELIX_KINDS = ['Node', 'IPPool', 'IPAMBlock', 'WorkloadEndpoint', 'FelixConfiguration'] as const;

/**
 * Runs the datastore feed (tabby-node's ResourceCache over the routing kinds) until `signal`
 * aborts. Resolves once every kind was listed.
 */
export async function feedFromDatastore(store: Datastore, felix: Felix, nodeName: string, signal: AbortSignal, onError: (e: unknown) => void = () => {}): Promise<void> {
  const cache = new ResourceCache(
    store,
    (changes) => {
      const events = changes.map((ch) => eventFor(ch.resource, ch.deleted, nodeName)).filter((ev): ev is FelixEvent => ev !== undefined);
      if (events.length) felix.apply(events);
    },
    (_kind, e) => onError(e),
    FELIX_KINDS,
  );
  cache.start(signal);
  await cache.ready;
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
