/**
 * The `tabby-bgp` daemon: a `Speaker` built from a `DaemonConfig` with real sessions, a real
 * listener, pino logs and prom-client metrics, plus the status socket. Reload applies a new
 * configuration without resetting unchanged peers; stop sends Cease (Administrative Shutdown).
 *
 * Invariants: the RIB's identity (AS, router ID, cluster ID) is fixed for the daemon's life — a
 * reload that changes it is refused with a message saying a restart is needed; everything else
 * (peers, originated prefixes) is applied as a difference.
 */
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import type { PathAttributes } from '../codec/types.js';
import { FAMILIES, Rib } from '../rib/index.js';
import { BgpListener, PeerSession, defaultSessionCodec, netlinkSocketOptions, noSocketOptions, systemClock, type SessionLogger, type SocketOptions } from '../session/index.js';
import { BfdService } from '../bfd/shell.js';
import { createSpeakerMetrics } from '../speaker/metrics.js';
import { fastSessionCodec } from '../speaker/fast-codec.js';
import { toPrefix } from '../speaker/prefix.js';
import { Speaker } from '../speaker/speaker.js';
import { validatePeers } from '../speaker/session-config.js';
import type { SpeakerEvent, SpeakerOptions, SpeakerPeerConfig } from '../speaker/types.js';
import { DaemonError, parseDaemonConfig, type DaemonConfig, type OriginatedPrefix, type PeerConfig } from './config.js';
import { startStatusServer, type PeerStatus, type RouteReport, type StatusReport } from './status.js';
import { routeReport } from './routes.js';

/** Components of the daemon. */
export interface DaemonComponents {
  logger: SessionLogger;
  /** Metrics registry (a fresh one per daemon; the binary serves it on --metrics-port). */
  registry?: Registry;
}

/** Init options of the daemon. */
export interface DaemonInit {
  configFile: string;
  /** We restarted: R bit in the GR capability, selection deferred until End-of-RIB (RFC 4724 §4.1). */
  restarting?: boolean;
  /** How long a restarting speaker waits for End-of-RIB from its peers [360 s] (RFC 4724 §4.1's selection deferral timer). */
  selectionDeferralMs?: number;
  /** Report best-path changes to `on()` listeners as they happen [false: only `routes()` reads them]. */
  bestChanges?: boolean;
}

/** Reads and parses the configuration file. */
export function loadConfig(file: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e: unknown) {
    throw new DaemonError('ConfigUnreadable', `${file}: cannot read the configuration: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  return parseDaemonConfig(text, file);
}

function speakerPeer(p: PeerConfig): SpeakerPeerConfig {
  return {
    address: p.address,
    asn: p.asn,
    port: p.port,
    localAddress: p.localAddress,
    passive: p.passive,
    routeReflectorClient: p.routeReflectorClient,
    nextHop: p.nextHop,
    password: p.password,
    ttlSecurity: p.ttlSecurity,
    families: p.families,
    gracefulRestart: p.gracefulRestart,
    maxPrefixes: p.maxPrefixes ? { limit: p.maxPrefixes.limit, restartAfterMs: p.maxPrefixes.restartAfter * 1000 } : undefined,
    holdTime: p.holdTime,
    sendHoldTime: p.sendHoldTime,
    filters: p.filters.length > 0 ? p.filters : undefined,
    bfd: p.bfd ? { minRxMs: p.bfd.minRx, minTxMs: p.bfd.minTx, multiplier: p.bfd.multiplier } : undefined,
    type: p.type,
  };
}

const NO_ATTRS: PathAttributes = Object.freeze({});

/** The speaker's options for a configuration. */
function speakerOptions(cfg: DaemonConfig, restarting: boolean | undefined): SpeakerOptions {
  return { routerId: cfg.routerId, asn: cfg.asn, listen: cfg.listen, peers: cfg.peers.map(speakerPeer), originate: originated(cfg.prefixes), restarting, session: { holdTime: cfg.holdTime } };
}

/** The configuration file's name for a session setting of a peer. */
const PEER_FIELD: Readonly<Record<string, string>> = { peerAddress: 'address', peerAs: 'asn', peerPort: 'port', md5Password: 'password', ttlSecurityHops: 'ttlSecurity' };
/** Session settings that come from the top level of the file, not from the peer. */
const TOP_FIELD: Readonly<Record<string, string>> = { localAs: 'asn', localId: 'routerId' };

/**
 * Everything the sessions would refuse, checked before anything is applied (at start and on
 * reload): throws `DaemonError('InvalidConfig')` naming the file and the field.
 */
export function checkConfig(cfg: DaemonConfig, file: string): void {
  const opts = speakerOptions(cfg, false);
  const p = validatePeers(opts, opts.peers)[0];
  if (!p) return;
  const top = TOP_FIELD[p.field];
  const field = top ?? `peers[${p.index}].${PEER_FIELD[p.field] ?? p.field}`;
  throw new DaemonError('InvalidConfig', `${file}: ${field}: ${p.message} (peer ${p.peer})`, { file, field, peer: p.peer });
}

function originated(ps: OriginatedPrefix[]): Array<{ prefix: string; attrs: PathAttributes }> {
  return ps.map((p) => {
    if (p.med === undefined && !p.communities?.length && !p.nextHop) return { prefix: p.prefix, attrs: NO_ATTRS };
    const attrs: PathAttributes = {};
    if (p.med !== undefined) attrs.med = p.med;
    if (p.communities?.length) attrs.communities = p.communities;
    if (p.nextHop) {
      if (p.nextHop.includes(':')) attrs.mpReach = { afi: 2, safi: 1, nextHops: [p.nextHop], nlri: [] };
      else attrs.nextHop = p.nextHop;
    }
    return { prefix: p.prefix, attrs };
  });
}

function socketOptionsFor(cfg: DaemonConfig, log: SessionLogger): SocketOptions {
  if (!cfg.peers.some((p) => p.password || p.ttlSecurity)) return noSocketOptions;
  try {
    return netlinkSocketOptions();
  } catch (err: unknown) {
    log.error({ err }, 'TCP-MD5/GTSM unavailable (netlink addon not loaded)');
    return noSocketOptions;
  }
}

/** A running daemon. */
export class BgpDaemon {
  private statusServer: { close(): Promise<void> } | undefined;
  private bfdService: BfdService | undefined;

  private constructor(
    readonly speaker: Speaker,
    readonly rib: Rib,
    private config: DaemonConfig,
    private readonly init: DaemonInit,
    private readonly log: SessionLogger,
  ) {}

  /** Loads the configuration, starts the speaker and the status socket. */
  static async start(c: DaemonComponents, init: DaemonInit, signal?: AbortSignal): Promise<BgpDaemon> {
    const cfg = loadConfig(init.configFile);
    checkConfig(cfg, init.configFile);
    const rr = cfg.peers.some((p) => p.routeReflectorClient);
    const rib = new Rib(
      { asn: cfg.asn, routerId: cfg.routerId, routeReflector: rr, clusterId: cfg.clusterId, bestChanges: init.bestChanges === true, gracefulRestart: { restarting: init.restarting === true, restartTime: cfg.gracefulRestartTime, ...(init.selectionDeferralMs ? { selectionDeferralMs: init.selectionDeferralMs } : {}) } },
      { now: Date.now() },
    );
    const codec = defaultSessionCodec();
    const sessionCodec = fastSessionCodec(codec); // IPv4 NLRI straight into the RIB as numbers
    const socketOptions = socketOptionsFor(cfg, c.logger);
    const metrics = c.registry ? createSpeakerMetrics(c.registry) : undefined;
    // one BFD service for the daemon's life, created even when no peer uses BFD yet (a reload may add one)
    const bfd = new BfdService({ clock: systemClock, logger: c.logger });
    const speaker = new Speaker(
      {
        rib,
        clock: systemClock,
        logger: c.logger,
        metrics,
        bfd,
        sessionFactory: (i) => new PeerSession({ codec: sessionCodec, socketOptions, logger: c.logger }, i),
        listenerFactory: (i) => {
          const l = new BgpListener({ codec, socketOptions, logger: c.logger, metrics }, i);
          return { listen: (s) => l.listen(s), register: (t) => l.register(t as PeerSession), close: () => l.close() };
        },
      },
      speakerOptions(cfg, init.restarting),
    );
    const d = new BgpDaemon(speaker, rib, cfg, init, c.logger);
    d.bfdService = bfd;
    await speaker.start(signal);
    if (cfg.statusSocket) d.statusServer = await startStatusServer(cfg.statusSocket, { status: () => d.statusReport(), routes: (p) => d.routes(p) });
    c.logger.info({ asn: cfg.asn, routerId: cfg.routerId, peers: cfg.peers.length, listen: cfg.listen }, 'tabby-bgp started');
    return d;
  }

  /** Listens to the speaker: best-path changes (with `bestChanges`), session states. Returns the unsubscribe. */
  on(listener: (e: SpeakerEvent) => void): () => void {
    return this.speaker.on(listener);
  }

  /** The configuration in force. */
  get currentConfig(): DaemonConfig {
    return this.config;
  }

  /**
   * Re-reads the file and applies the difference (SIGHUP), all or nothing: the whole file is
   * validated first (syntax, schema, every peer's session settings, identity unchanged) and a
   * `DaemonError('InvalidConfig')` naming the file and field leaves the running state untouched.
   */
  reload(): { added: string[]; removed: string[]; reset: string[]; updated: string[] } {
    const file = this.init.configFile;
    const next = loadConfig(file);
    const old = this.config;
    for (const field of ['asn', 'routerId', 'clusterId', 'listen'] as const) {
      if (JSON.stringify(next[field]) !== JSON.stringify(old[field]))
        throw new DaemonError('InvalidConfig', `${file}: ${field}: cannot change on reload (asn, routerId, clusterId and listen are fixed for the daemon's life); restart tabby-bgp`, { file, field });
    }
    checkConfig(next, file);
    const res = this.speaker.setPeers(next.peers.map(speakerPeer));
    this.speaker.setOriginated(originated(next.prefixes));
    this.config = next;
    this.log.info({ ...res }, 'configuration reloaded');
    return res;
  }

  /** The answer to the status request. */
  statusReport(): StatusReport {
    const peers: PeerStatus[] = this.speaker.status().map((s) => ({
      address: s.address,
      asn: s.asn,
      state: s.state,
      since: new Date(s.since).toISOString(),
      prefixesReceived: s.received,
      prefixesAccepted: s.accepted,
      prefixesAdvertised: s.advertised,
      type: s.type,
      info: s.info || s.state,
    }));
    return { peers, locRib: { ipv4: this.rib.locRibSize('ipv4-unicast'), ipv6: this.rib.locRibSize('ipv6-unicast') } };
  }

  /** The Loc-RIB with best-path attributes, optionally one prefix. */
  routes(prefix?: string): RouteReport[] {
    if (prefix !== undefined) {
      const b = this.rib.best(toPrefix(prefix));
      return b ? [routeReport(b)] : [];
    }
    const out: RouteReport[] = [];
    for (const f of FAMILIES) for (const b of this.rib.routes(f)) out.push(routeReport(b));
    return out;
  }

  /** Cease (Administrative Shutdown) to every peer, then closes sockets. */
  async stop(): Promise<void> {
    await this.speaker.stop();
    this.bfdService?.close();
    await this.statusServer?.close();
  }
}
