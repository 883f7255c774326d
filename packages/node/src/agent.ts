/**
 * tabby-node: the per-node agent. One datastore view (ResourceCache) feeds felix (routing and
 * policy) and the BGP configuration; the BGP speaker runs in-process (BgpDaemon, reloaded with each rendered
 * configuration); its best paths feed felix, and its session states feed the automatic fallback
 * (FallbackDetector → felix's per-node BGP availability). A unix socket answers status requests.
 *
 * Order at start, as calico-node's: autodetect the address, register the Node, create the default
 * pools when none exist, allocate tunnel addresses, then follow the datastore; felix is told
 * `in-sync` only when the datastore is listed and the speaker's first table has been read, so a
 * restarted agent adopts its previous routes instead of removing them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AnyResource, BGPConfiguration, BGPPeer, IPPool, Node } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { BgpDaemon, type SessionLogger } from '@tabby/bgp';
import { eventFor, Felix, PolicyDataplane, PolicyFeed, type CommandRunner, type FelixEvent, type FelixLogger, type Kernel, type SysctlWriter } from '@tabby/felix';
import { Ipam } from '@tabby/ipam';
import { autodetect, type InterfaceInfo } from './autodetect.js';
import { renderBgpConfig, type RenderedBgp } from './bgp-config.js';
import { BgpRouteFeed } from './bgp-routes.js';
import { FallbackDetector, peerStates } from './fallback.js';
import { kubeServiceInputs } from './service-routes.js';
import { ResourceCache, type CacheChange, type CacheSource } from './resource-cache.js';
import { ensureDefaultPools, ensureTunnelAddresses, registerNode, type PoolEnv } from './startup.js';
import { startLocalApi, type LocalApi } from './local-api.js';
import type { NodeMetrics } from './metrics.js';
import type { HealthFacts } from './health.js';
import { LinuxDataplane, serveCni } from '@tabby/cni';
import type { Server } from 'node:net';

/** A burst of datastore changes (a pod's endpoint, its block) is rendered into one BGP configuration. */
const RENDER_DELAY_MS = 5;
/** The speaker's whole table is re-read every this many polls (the events carry the changes). */
const RESYNC_ROUNDS = 40;

/** The agent's replaceable parts. */
export interface AgentComponents {
  store: Datastore;
  kernel: Kernel;
  sysctl: SysctlWriter;
  logger: FelixLogger & SessionLogger;
  /** Runs iptables / ipset in the node's namespace; without it, network policy is not enforced. */
  policyRunner?: CommandRunner;
  /** What the agent follows [the store, NODE_KINDS]; Kubernetes mode passes its view (kube-mode.ts). */
  view?: { source: CacheSource; kinds: readonly string[] };
  /** Prometheus metrics (metrics.ts); without them nothing is counted. */
  metrics?: NodeMetrics;
}

/** The agent's settings. */
export interface AgentInit {
  nodeName: string;
  /** Directory for the BGP configuration file and the sockets (node.sock, bgp.sock). */
  runDir: string;
  /** IP_AUTODETECTION_METHOD [first-found]. */
  autodetect?: string;
  /** IPv6 autodetection method (Calico's `IP6=autodetect` with IP6_AUTODETECTION_METHOD); absent: the node has no IPv6 address. */
  autodetect6?: string;
  /** Run the BGP speaker [true]; false is Calico's `CALICO_NETWORKING_BACKEND=vxlan`. */
  bgp?: boolean;
  /** How long a BGP session may fail to establish before its node's routes take the tunnel [10 s]. */
  bgpFallbackTimeoutMs?: number;
  /** The automatic fallback [true]: needs a VTEP address on every node. */
  fallback?: boolean;
  poolEnv?: PoolEnv;
  /** How often the BGP sessions are checked for the fallback [250 ms]; the whole table is re-read every 40 rounds. */
  pollMs?: number;
  /**
   * Route-reflector mode: this node's Node gets `routeReflectorClusterID` (peers selected by a
   * BGPPeer's peerSelector become its clients), and with `dataplane: false` felix is not run (a
   * dedicated reflector host carries no pods).
   */
  routeReflectorClusterId?: string;
  /** Program the kernel (felix) [true]. */
  dataplane?: boolean;
}

/** A running node agent. */
export class NodeAgent {
  private readonly abort = new AbortController();
  private daemon: BgpDaemon | undefined;
  private rendered: string | undefined;
  private peersRendered: RenderedBgp['config']['peers'] = [];
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private pollRound = 0;
  /** The blocks of the last rendering (affine to this node). */
  private exportedBlocks = new Set<string>();
  private readonly bgpRoutes = new BgpRouteFeed();
  private readonly fallback: FallbackDetector;
  private api: LocalApi | undefined;
  private cni: { server: Server; dataplane: LinuxDataplane } | undefined;
  readonly felix: Felix;
  readonly policy: PolicyDataplane | undefined;
  private readonly policyFeed: PolicyFeed;
  readonly ipam: Ipam;
  readonly cache: ResourceCache;
  address: string | undefined;
  /** When the BGP / fallback poll loop last completed a round (liveness). */
  private lastPollAt = Date.now();
  private synced = false;
  address6: string | undefined;
  /** A previous run's routes were in the kernel at start: BGP graceful restart as the restarting speaker. */
  private restarting = false;

  private constructor(private readonly c: AgentComponents, readonly init: AgentInit) {
    const m = c.metrics;
    this.felix = new Felix({ kernel: c.kernel, sysctl: c.sysctl, logger: c.logger, metrics: m?.felix }, { nodeName: init.nodeName });
    this.policy = c.policyRunner && (init.dataplane ?? true) ? new PolicyDataplane({ nodeName: init.nodeName }, { runner: c.policyRunner, logger: c.logger, metrics: m?.policy }) : undefined;
    this.policyFeed = new PolicyFeed(init.nodeName);
    this.ipam = new Ipam({ datastore: c.store, metrics: m?.ipam });
    this.cache = new ResourceCache(c.view?.source ?? c.store, (ch) => this.onChanges(ch), (kind, e) => c.logger.warn({ kind, err: String(e) }, 'datastore watch failed; retrying'), c.view?.kinds, m?.datastore);
    this.fallback = new FallbackDetector(init.bgpFallbackTimeoutMs ?? 10_000);
  }

  /** Starts the agent; resolves once felix has been told it is in sync. */
  static async start(c: AgentComponents, init: AgentInit): Promise<NodeAgent> {
    const a = new NodeAgent(c, init);
    try {
      await a.run();
    } catch (e: unknown) {
      await a.stop();
      throw e;
    }
    return a;
  }

  private get bgpEnabled(): boolean {
    return this.init.bgp ?? true;
  }

  private get dataplane(): boolean {
    return this.init.dataplane ?? true;
  }

  private async run(): Promise<void> {
    const { store, logger, kernel } = this.c;
    const { nodeName } = this.init;
    mkdirSync(this.init.runDir, { recursive: true });
    const ifaces = await interfaces(kernel);
    this.address = autodetect(this.init.autodetect ?? 'first-found', 4, ifaces);
    this.address6 = this.init.autodetect6 === undefined ? undefined : autodetect(this.init.autodetect6, 6, ifaces);
    await registerNode(store, nodeName, { ipv4: this.address, ipv6: this.address6 }, { routeReflectorClusterId: this.init.routeReflectorClusterId });
    const made = await ensureDefaultPools(store, this.init.poolEnv ?? {});
    const pools = (await store.list<IPPool>({ kind: 'IPPool' })).items;
    const fallback = this.init.fallback ?? true;
    const vxlan = fallback || pools.some((p) => p.spec.vxlanMode !== 'Never');
    await ensureTunnelAddresses(store, this.ipam, nodeName, { vxlan, fallback, ipip: pools.some((p) => p.spec.ipipMode !== 'Never') });
    logger.info({ node: nodeName, address: this.address, address6: this.address6, pools: made }, 'node registered');
    this.restarting = this.dataplane && this.bgpEnabled && (await kernel.ownedRoutes()).length > 0;
    if (this.dataplane) this.felix.start();
    this.felix.apply([{ type: 'fallback-enabled', enabled: fallback }]);
    this.cache.start(this.abort.signal);
    await this.cache.ready;
    this.synced = true;
    await this.policy?.start(this.abort.signal);
    if (this.bgpEnabled) {
      await this.renderBgp();
      if (this.restarting) await this.untilPeersResent();
      await this.poll(); // the speaker's first table before in-sync
    }
    this.felix.apply([{ type: 'in-sync' }]);
    this.schedulePoll();
    this.api = await startLocalApi(join(this.init.runDir, 'node.sock'), { status: () => this.status() });
    if (this.dataplane) {
      // The CNI plugin's thin client calls land here: one datastore, one Ipam, one netlink socket.
      await this.ipam.start({ signal: this.abort.signal });
      const dataplane = await LinuxDataplane.open();
      const server = await serveCni(join(this.init.runDir, 'cni.sock'), { datastore: store, ipam: this.ipam, dataplane, logger, hostname: nodeName });
      this.cni = { server, dataplane };
    }
  }

  /**
   * After a restart (kill -9, upgrade) the kernel still forwards with the previous run's routes
   * and the peers keep ours as stale (RFC 4724 §4.2). Felix may remove nothing until the speaker
   * has every peer's table again: End-of-RIB from each, or the selection deferral timer
   * (bgpFallbackTimeout). A peer still down by then is the fallback's to route: the wait also
   * lasts until the detector has decided for every peer that is not up, so felix's first pass
   * replaces such a node's routes with tunnel routes instead of deleting them.
   */
  private async untilPeersResent(): Promise<void> {
    this.c.logger.info({ node: this.init.nodeName }, 'restarted with routes in the kernel: waiting for End-of-RIB from the BGP peers');
    const pending = (): boolean => this.daemon?.rib.deferring === true || (this.fallback.nextCheck() ?? 0) > Date.now();
    await this.poll();
    while (pending() && !this.abort.signal.aborted) {
      await new Promise((r) => setTimeout(r, 50));
      await this.poll();
    }
  }

  private onChanges(changes: CacheChange[]): void {
    const events: FelixEvent[] = [];
    let bgp = false;
    for (const ch of changes) {
      const ev = eventFor(ch.resource, ch.deleted, this.init.nodeName);
      if (ev) events.push(ev);
      if (!bgp && this.affectsBgp(ch)) bgp = true;
    }
    if (events.length) this.felix.apply(events);
    if (this.policy) for (const ev of this.policyFeed.events(changes)) this.policy.onEvent(ev);
    if (bgp && this.daemon) this.scheduleRender();
  }

  /**
   * Whether a change can alter this node's BGP configuration. Other nodes' endpoints and blocks
   * cannot (only a block that is or was ours is exported), and skipping them spares every node a
   * render for each pod the cluster adds.
   */
  private affectsBgp(ch: CacheChange): boolean {
    const me = this.init.nodeName;
    switch (ch.kind) {
      case 'FelixConfiguration':
        return false;
      case 'WorkloadEndpoint':
        return (ch.resource as Extract<AnyResource, { kind: 'WorkloadEndpoint' }>).spec.node === me;
      case 'IPAMBlock': {
        const b = ch.resource as Extract<AnyResource, { kind: 'IPAMBlock' }>;
        return b.spec.affinity === `host:${me}` || this.exportedBlocks.has(b.spec.cidr);
      }
      default:
        return true;
    }
  }

  private scheduleRender(): void {
    if (this.renderTimer) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      this.renderBgp().catch((e: unknown) => this.c.logger.error({ err: String(e) }, 'BGP configuration not applied'));
    }, RENDER_DELAY_MS);
  }

  /** Renders the BGP configuration; starts the speaker, or reloads it when the rendering changed. */
  private async renderBgp(): Promise<void> {
    const { nodeName, runDir } = this.init;
    const blocks = this.cache.list<Extract<AnyResource, { kind: 'IPAMBlock' }>>('IPAMBlock').filter((b) => b.spec.affinity === `host:${nodeName}`).map((b) => b.spec.cidr);
    this.exportedBlocks = new Set(blocks);
    const workloads = this.cache.list<Extract<AnyResource, { kind: 'WorkloadEndpoint' }>>('WorkloadEndpoint').filter((w) => w.spec.node === nodeName).flatMap((w) => w.spec.ipNetworks);
    const out = renderBgpConfig({
      nodeName,
      nodes: this.cache.list<Node>('Node'),
      configs: this.cache.list<BGPConfiguration>('BGPConfiguration'),
      peers: this.cache.list<BGPPeer>('BGPPeer'),
      pools: this.cache.list<IPPool>('IPPool'),
      blocks,
      workloadAddresses: workloads,
      ...kubeServiceInputs(this.cache),
      statusSocket: join(runDir, 'bgp.sock'),
    });
    for (const w of out.warnings) this.c.logger.warn({ node: nodeName }, w);
    this.peersRendered = out.config.peers;
    const file = join(runDir, 'bgp.yaml');
    const text = stringify({ ...out.config, peers: out.config.peers.map(({ node: _node, ...p }) => p) });
    if (text === this.rendered) return;
    writeFileSync(file, text);
    this.rendered = text;
    if (!this.daemon) {
      await this.startDaemon(file, { restarting: this.restarting, selectionDeferralMs: this.init.bgpFallbackTimeoutMs ?? 10_000 });
      return;
    }
    try {
      this.daemon.reload();
    } catch (e: unknown) {
      // AS, router ID or cluster ID changed: only a restart of the speaker applies them.
      this.c.logger.warn({ err: String(e) }, 'BGP identity changed: restarting the speaker');
      await this.daemon.stop();
      await this.startDaemon(file, {});
      await this.poll();
    }
  }

  private schedulePoll(): void {
    if (this.abort.signal.aborted) return;
    this.pollTimer = setTimeout(() => {
      this.pollRound = (this.pollRound + 1) % RESYNC_ROUNDS;
      (this.pollRound === 0 ? this.poll() : Promise.resolve(this.checkSessions()))
        .catch((e: unknown) => this.c.logger.warn({ err: String(e) }, 'reading the BGP speaker failed'))
        .finally(() => {
          this.lastPollAt = Date.now();
          this.schedulePoll();
        });
    }, this.init.pollMs ?? 250);
  }

  /** Starts the speaker and follows its events: best paths go to felix as they change, session changes to the fallback. */
  private async startDaemon(file: string, gr: { restarting?: boolean; selectionDeferralMs?: number }): Promise<void> {
    this.daemon = await BgpDaemon.start({ logger: this.c.logger, registry: this.c.metrics?.bgpRegistry() }, { configFile: file, bestChanges: true, ...gr }, this.abort.signal);
    this.daemon.on((e) => {
      try {
        if (e.type === 'best') this.toFelix(this.bgpRoutes.changes(e.changes)); // no polling on the convergence path
        else this.checkSessions();
      } catch (err: unknown) {
        this.c.logger.error({ err: String(err), event: e.type }, 'BGP event not applied; the next full read repairs it');
      }
    });
  }

  /**
   * Reads the speaker's whole table and its sessions into felix. The events keep felix current;
   * this full read runs at start, after a speaker restart and every RESYNC_ROUNDS polls as a check.
   */
  private async poll(): Promise<void> {
    if (this.daemon) this.toFelix(this.bgpRoutes.table(this.daemon.routes()));
    this.checkSessions();
  }

  private toFelix(events: FelixEvent[]): void {
    if (events.length) this.felix.apply(events);
  }

  /** Feeds the session states to the fallback detector, and its verdicts to felix. */
  private checkSessions(): void {
    const now = Date.now();
    const others = this.cache
      .list<Node>('Node')
      .filter((n) => n.metadata.name !== this.init.nodeName)
      .map((n) => ({ name: n.metadata.name, families: [...(n.spec.bgp?.ipv4Address ? [4 as const] : []), ...(n.spec.bgp?.ipv6Address ? [6 as const] : [])] }));
    let events: FelixEvent[];
    if (this.daemon) {
      events = this.fallback.update(now, others, peerStates(this.peersRendered, this.daemon.statusReport().peers), true);
    } else {
      events = this.fallback.update(now, others, [], false);
    }
    for (const ev of events) if (ev.type === 'bgp-node-state') this.c.metrics?.bgpNodeState(ev.available, this.fallback.unavailable());
    if (events.length) this.felix.apply(events);
  }

  /** The facts behind /liveness and /readiness (health.ts). */
  healthFacts(): HealthFacts {
    const felix = this.felix.health();
    return {
      datastoreSynced: this.synced,
      bgpConfigured: !this.bgpEnabled || this.daemon !== undefined,
      dataplaneProgrammed: !this.dataplane || felix.ready,
      felixLive: !this.dataplane || felix.live,
      stopped: this.abort.signal.aborted,
      lastPollAt: this.lastPollAt,
      pollMs: this.init.pollMs ?? 250,
    };
  }

  /** What `tabbyctl node status` and the local API show. */
  status(): Record<string, unknown> {
    return {
      node: this.init.nodeName,
      address: this.address,
      address6: this.address6,
      felix: this.dataplane ? this.felix.health() : { disabled: true },
      ready: !this.dataplane || this.felix.health().ready,
      policy: this.policy ? { backend: this.policy.backend } : { disabled: true },
      bgp: this.daemon?.statusReport() ?? { disabled: true },
      fallback: {
        enabled: this.init.fallback ?? true,
        timeoutSeconds: (this.init.bgpFallbackTimeoutMs ?? 10_000) / 1000,
        nodes: this.felix.health().fallback.map((f) => ({ node: f.node, since: new Date(f.since).toISOString(), families: f.families })),
      },
    };
  }

  /** Stops everything; kernel state stays (routes keep working across an agent restart). */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.renderTimer) clearTimeout(this.renderTimer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.api?.close();
    if (this.cni) {
      await new Promise<void>((r) => this.cni!.server.close(() => r()));
      this.cni.dataplane.close();
    }
    await this.felix.stop();
    await this.policy?.stop();
    await this.daemon?.stop();
    await this.ipam.stop();
  }
}

/** The node's interfaces and addresses, read through felix's kernel interface. */
async function interfaces(kernel: Kernel): Promise<InterfaceInfo[]> {
  const [links, v4, v6] = await Promise.all([kernel.listLinks(), kernel.listAddresses(4), kernel.listAddresses(6)]);
  return links.map((l) => ({ name: l.name, addresses: [...v4, ...v6].filter((a) => a.index === l.index).map((a) => a.address) }));
}
