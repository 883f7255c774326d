/**
 * A small Kubernetes API server for tests, on 127.0.0.1 (or a given address) with an ephemeral
 * port by default. It serves the paths the Kubernetes backend and tabby-node's Kubernetes mode
 * use with the API server's semantics, so they are tested through the real HTTP client (no
 * mocked client methods):
 * - custom resources registered from the CRD files in manifests/crds (plural, kind, scope) under
 *   `/apis/tabby.dev/v1/[namespaces/<ns>/]<plural>[/<name>]`; core Nodes, Namespaces, Pods and
 *   ServiceAccounts, Services under `/api/v1/[namespaces/<ns>/]<plural>[/<name>[/status]]`;
 *   networking.k8s.io/v1 NetworkPolicies and discovery.k8s.io/v1 EndpointSlices under `/apis/<group>/v1/...`;
 * - one global resourceVersion counter; GET/POST/PUT/DELETE on collections and items; PATCH of
 *   an item with `application/merge-patch+json` (RFC 7386; other patch types get 415);
 * - 409 on POST of an existing name, on PUT with a stale resourceVersion and on DELETE with a
 *   stale `preconditions.resourceVersion`; 422 on PUT of a custom resource without one; 404;
 * - lists with `metadata.resourceVersion` and `limit`/`continue`;
 * - `?watch=true&resourceVersion=N`: newline-delimited JSON events (ADDED, MODIFIED, DELETED,
 *   BOOKMARK when `allowWatchBookmarks=true`), replayed from a retained history; an ERROR event
 *   with a 410 Status when N is older than that history (`compact()` drops it).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import { fileURLToPath } from 'node:url';

/**
 * `node UNIX_FORWARD HOST PORT SOCKET` relays TCP on HOST:PORT, in the namespace it runs in, to a
 * unix socket: how processes in node namespaces reach a fake server started with `socketPath`.
 */
export const UNIX_FORWARD = fileURLToPath(new URL('../dist/bin/unix-forward.js', import.meta.url)); // built, from src/ (tests) or dist/

/** Directory of the CRD manifests (manifests/crds in the repository). */
const CRD_DIR = fileURLToPath(new URL('../../../manifests/crds/', import.meta.url));

interface Kind {
  /** `<apiVersion>/<plural>`: the identity of a collection (plurals repeat across groups). */
  id: string;
  kind: string;
  namespaced: boolean;
  apiVersion: string;
  custom: boolean;
}

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; creationTimestamp?: string };
  [k: string]: unknown;
}

interface HistoryEvent {
  rv: number;
  /** Kind.id */
  plural: string;
  namespace?: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

interface Watcher {
  plural: string;
  namespace?: string;
  res: ServerResponse;
}

/** RFC 7386 JSON merge patch: objects merge key by key, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** A running fake API server. */
export interface FakeApiServer {
  url: string;
  /** Forgets all history up to now: older watches get 410. */
  compact(): void;
  /** Ends every open watch stream from the server side (as an API server restart does). */
  dropWatches(): void;
  close(): Promise<void>;
}

const builtin = (apiVersion: string, plural: string, kind: string, namespaced: boolean): [string, Kind] => [
  `${apiVersion}/${plural}`,
  { id: `${apiVersion}/${plural}`, kind, namespaced, apiVersion, custom: false },
];

function loadKinds(): Map<string, Kind> {
  const kinds = new Map<string, Kind>([
    builtin('v1', 'nodes', 'Node', false),
    builtin('v1', 'namespaces', 'Namespace', false),
    builtin('v1', 'pods', 'Pod', true),
    builtin('v1', 'serviceaccounts', 'ServiceAccount', true),
    builtin('v1', 'services', 'Service', true),
    builtin('discovery.k8s.io/v1', 'endpointslices', 'EndpointSlice', true),
    builtin('networking.k8s.io/v1', 'networkpolicies', 'NetworkPolicy', true),
  ]);
  for (const f of readdirSync(CRD_DIR).filter((n) => n.endsWith('.yaml'))) {
    const crd = parse(readFileSync(`${CRD_DIR}${f}`, 'utf8')) as {
      spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string }[] };
    };
    const apiVersion = `${crd.spec.group}/${crd.spec.versions[0]!.name}`;
    const id = `${apiVersion}/${crd.spec.names.plural}`;
    kinds.set(id, { id, kind: crd.spec.names.kind, namespaced: crd.spec.scope === 'Namespaced', apiVersion, custom: true });
  }
  return kinds;
}

/** `/api/v1/...` or `/apis/<group>/<version>/...`, then `[namespaces/<ns>/]<plural>[/<name>[/status]]`. */
const ROUTE = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+)(\/status)?)?$/;

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Starts the server. */
export async function startFakeApiServer(
  opts: {
    bookmarkIntervalMs?: number;
    /** Answer a too-old watch with HTTP 410 instead of an ERROR event. */
    goneAsHttpStatus?: boolean;
    /** Listen address [127.0.0.1] and port [ephemeral]. */
    host?: string;
    port?: number;
    /** Also serve on this unix socket (reachable from every network namespace, e.g. through a forwarder). */
    socketPath?: string;
  } = {},
): Promise<FakeApiServer> {
  const kinds = loadKinds();
  const objects = new Map<string, Obj>();
  let history: HistoryEvent[] = [];
  let compacted = 0;
  let rv = 1;
  const watchers = new Set<Watcher>();
  const timers = new Set<NodeJS.Timeout>();

  const storeKey = (plural: string, ns: string | undefined, name: string): string => `${plural}/${ns ?? ''}/${name}`;

  const send = (res: ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const status = (res: ServerResponse, code: number, reason: string, message: string): void =>
    send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, code });

  const record = (plural: string, namespace: string | undefined, type: HistoryEvent['type'], object: Obj): void => {
    const ev: HistoryEvent = { rv, plural, type, object: structuredClone(object), ...(namespace ? { namespace } : {}) };
    history.push(ev);
    for (const w of watchers) {
      if (w.plural === plural && (w.namespace === undefined || w.namespace === namespace)) writeEvent(w.res, ev.type, ev.object);
    }
  };
  const writeEvent = (res: ServerResponse, type: string, object: unknown): void => {
    res.write(JSON.stringify({ type, object }) + '\n');
  };

  const matching = (plural: string, ns: string | undefined): Obj[] =>
    [...objects.entries()]
      .filter(([k]) => k.startsWith(`${plural}/${ns === undefined ? '' : `${ns}/`}`))
      .map(([, o]) => o)
      .sort((a, b) => storeOrder(a).localeCompare(storeOrder(b)));
  const storeOrder = (o: Obj): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

  const list = (res: ServerResponse, url: URL, plural: string, kind: Kind, ns: string | undefined): void => {
    const all = matching(plural, ns);
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const token = url.searchParams.get('continue');
    const from = token ? (JSON.parse(Buffer.from(token, 'base64').toString()) as { rv: string; offset: number }) : undefined;
    const offset = from?.offset ?? 0;
    const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const listRv = from?.rv ?? String(rv);
    const more = limit > 0 && offset + limit < all.length;
    const cont = more ? Buffer.from(JSON.stringify({ rv: listRv, offset: offset + limit })).toString('base64') : undefined;
    send(res, 200, {
      apiVersion: kind.apiVersion,
      kind: `${kind.kind}List`,
      metadata: { resourceVersion: listRv, ...(cont ? { continue: cont } : {}) },
      items: page,
    });
  };

  const watch = (req: IncomingMessage, res: ServerResponse, url: URL, plural: string, kind: Kind, ns: string | undefined): void => {
    const from = url.searchParams.get('resourceVersion');
    const expired = from && from !== '0' && Number(from) < compacted;
    if (expired && opts.goneAsHttpStatus) return status(res, 410, 'Expired', `too old resource version: ${from} (${compacted})`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (expired) {
      writeEvent(res, 'ERROR', {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410,
        message: `too old resource version: ${from} (${compacted})`,
      });
      res.end();
      return;
    }
    if (!from || from === '0') {
      for (const o of matching(plural, ns)) writeEvent(res, 'ADDED', o);
    } else {
      for (const ev of history) {
        if (ev.rv > Number(from) && ev.plural === plural && (ns === undefined || ev.namespace === ns)) writeEvent(res, ev.type, ev.object);
      }
    }
    const w: Watcher = { plural, res, ...(ns !== undefined ? { namespace: ns } : {}) };
    watchers.add(w);
    let timer: NodeJS.Timeout | undefined;
    if (url.searchParams.get('allowWatchBookmarks') === 'true') {
      timer = setInterval(() => {
        writeEvent(res, 'BOOKMARK', { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { resourceVersion: String(rv) } });
      }, opts.bookmarkIntervalMs ?? 1000);
      timers.add(timer);
    }
    req.on('close', () => {
      watchers.delete(w);
      if (timer) {
        clearInterval(timer);
        timers.delete(timer);
      }
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = ROUTE.exec(url.pathname);
    const kind = m ? kinds.get(`${m[1] ?? m[2]}/${m[4]}`) : undefined;
    if (!m || !kind) return status(res, 404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
    const plural = kind.id;
    const ns = m[3] ? decodeURIComponent(m[3]) : undefined;
    const name = m[5] ? decodeURIComponent(m[5]) : undefined;
    if (ns !== undefined && !kind.namespaced) return status(res, 404, 'NotFound', `${plural} is cluster-scoped`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Obj) : undefined;

    if (name === undefined) {
      if (req.method === 'GET') {
        const w = url.searchParams.get('watch');
        return w === 'true' || w === '1' ? watch(req, res, url, plural, kind, ns) : list(res, url, plural, kind, ns);
      }
      if (req.method !== 'POST' || !body) return status(res, 405, 'MethodNotAllowed', `${req.method} on a collection`);
      const n = body.metadata?.name;
      if (!n) return status(res, 422, 'Invalid', 'metadata.name: Required value');
      if (kind.namespaced && ns === undefined) return status(res, 404, 'NotFound', 'namespace required');
      const k = storeKey(plural, ns, n);
      if (objects.has(k)) return status(res, 409, 'AlreadyExists', `${plural} "${n}" already exists`);
      rv++;
      const obj: Obj = {
        ...body, apiVersion: kind.apiVersion, kind: kind.kind,
        metadata: { ...body.metadata, ...(ns ? { namespace: ns } : {}), resourceVersion: String(rv), uid: randomUUID(), creationTimestamp: now() },
      };
      objects.set(k, obj);
      record(plural, ns, 'ADDED', obj);
      return send(res, 201, obj);
    }

    if (kind.namespaced && ns === undefined) return status(res, 404, 'NotFound', 'namespace required');
    const k = storeKey(plural, ns, name);
    const cur = objects.get(k);
    if (!cur) return status(res, 404, 'NotFound', `${plural} "${name}" not found`);
    switch (req.method) {
      case 'GET':
        return send(res, 200, cur);
      case 'PUT': {
        if (!body) return status(res, 400, 'BadRequest', 'no body');
        const given = body.metadata?.resourceVersion;
        if (kind.custom && !given) return status(res, 422, 'Invalid', 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
        if (given && given !== cur.metadata.resourceVersion) {
          return status(res, 409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
        rv++;
        const obj: Obj = {
          ...body, apiVersion: kind.apiVersion, kind: kind.kind,
          metadata: { ...body.metadata, ...(ns ? { namespace: ns } : {}), resourceVersion: String(rv), uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp },
        };
        objects.set(k, obj);
        record(plural, ns, 'MODIFIED', obj);
        return send(res, 200, obj);
      }
      case 'PATCH': {
        if (req.headers['content-type']?.split(';')[0] !== 'application/merge-patch+json') return status(res, 415, 'UnsupportedMediaType', `PATCH with ${req.headers['content-type'] ?? 'no content type'}: this server takes application/merge-patch+json only`);
        if (!body || typeof body !== 'object') return status(res, 400, 'BadRequest', 'no body');
        rv++;
        const merged = mergePatch(cur, body) as Obj;
        const obj: Obj = { ...merged, apiVersion: kind.apiVersion, kind: kind.kind, metadata: { ...merged.metadata, name, ...(ns ? { namespace: ns } : {}), resourceVersion: String(rv), uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp } };
        objects.set(k, obj);
        record(plural, ns, 'MODIFIED', obj);
        return send(res, 200, obj);
      }
      case 'DELETE': {
        const pre = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions?.resourceVersion;
        if (pre && pre !== cur.metadata.resourceVersion) {
          return status(res, 409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${pre}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
        }
        objects.delete(k);
        rv++;
        const obj: Obj = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv) } };
        record(plural, ns, 'DELETED', obj);
        if (!kind.custom) return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: plural } });
        return send(res, 200, obj);
      }
      default:
        return status(res, 405, 'MethodNotAllowed', `${req.method}`);
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => status(res, 500, 'InternalError', String(e)));
  };
  const server = createServer(onRequest);
  const unix = opts.socketPath ? createServer(onRequest) : undefined;
  if (unix) await new Promise<void>((resolve) => unix.listen(opts.socketPath, resolve));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    compact() {
      compacted = rv;
      history = [];
    },
    dropWatches() {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    async close() {
      for (const t of timers) clearInterval(t);
      for (const w of watchers) w.res.end();
      for (const srv of unix ? [server, unix] : [server]) {
        srv.closeAllConnections();
        await new Promise<void>((resolve) => srv.close(() => resolve()));
      }
    },
  };
}
