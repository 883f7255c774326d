/**
 * The BFD I/O shell (RFC 5881 single hop): one UDP socket per family on port 3784 receives
 * every peer's Control packets; each session sends from its own socket, bound to a port in
 * 49152–65535 (§4) with TTL 255 (§5). Packets are routed to sessions by Your Discriminator, or
 * by source address while it is zero. Timers come from the injected clock.
 *
 * Invariants: a session's `onDown` runs once per Up → Down transition; `remove()` stops its
 * timers and closes its socket. Not checked: the received TTL (Node's dgram cannot read it).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Clock, SessionLogger } from '../session/ports.js';
import { decodeBfd, encodeBfd } from './packet.js';
import { bfdStep, initialBfd, type BfdAction, type BfdConfig, type BfdEvent, type BfdSession } from './session.js';

/** RFC 5881 §4: the destination port of single-hop Control packets. */
export const BFD_PORT = 3784;

interface Entry {
  peer: string;
  s: BfdSession;
  tx: UdpSocket;
  timers: Map<'tx' | 'detect', unknown>;
  onUp: () => void;
  onDown: (diag: number) => void;
}

/** BFD sessions of one process. */
export class BfdService {
  private readonly byPeer = new Map<string, Entry>();
  private readonly byDiscr = new Map<number, Entry>();
  private readonly rx = new Map<4 | 6, UdpSocket>();
  private nextDiscr = 1 + Math.floor(Math.random() * 0xfffff);

  constructor(
    private readonly c: { clock: Clock; logger: SessionLogger },
    private readonly init: { port?: number } = {},
  ) {}

  private receiver(fam: 4 | 6): void {
    if (this.rx.has(fam)) return;
    const sock = createSocket({ type: fam === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    sock.on('error', (err) => this.c.logger.error({ err }, 'BFD receive socket error'));
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address));
    sock.bind({ port: this.init.port ?? BFD_PORT, address: fam === 6 ? '::' : '0.0.0.0', exclusive: false });
    this.rx.set(fam, sock);
  }

  /** Starts a session with `peer` (source `local` when given); returns the function that removes it. */
  add(peer: string, local: string | undefined, config: BfdConfig, onUp: () => void, onDown: (diag: number) => void): () => void {
    const fam = isIP(peer) === 6 ? 6 : 4;
    this.receiver(fam);
    const discr = this.nextDiscr++ >>> 0 || 1;
    const tx = createSocket(fam === 6 ? 'udp6' : 'udp4');
    tx.on('error', (err) => this.c.logger.warn({ peer, err }, 'BFD send socket error'));
    const port = 49152 + Math.floor(Math.random() * 16384); // RFC 5881 §4
    tx.bind({ port, ...(local ? { address: local } : {}) }, () => {
      try {
        tx.setTTL(255); // RFC 5881 §5
      } catch (err: unknown) {
        this.c.logger.warn({ peer, err }, 'BFD: could not set TTL 255');
      }
    });
    const e: Entry = { peer, s: initialBfd(config, discr, discr * 2654435761), tx, timers: new Map(), onUp, onDown };
    this.byPeer.set(peer, e);
    this.byDiscr.set(discr, e);
    this.step(e, { type: 'start' });
    return () => {
      for (const t of e.timers.values()) this.c.clock.clearTimeout(t);
      e.timers.clear();
      this.byPeer.delete(peer);
      this.byDiscr.delete(discr);
      tx.close();
    };
  }

  /** The state of the session with `peer` (RFC 5880 numbers: 0 AdminDown … 3 Up), if any. */
  state(peer: string): number | undefined {
    return this.byPeer.get(peer)?.s.state;
  }

  private onMessage(msg: Buffer, from: string): void {
    const p = decodeBfd(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    if ('discard' in p) return;
    const addr = from.replace(/^::ffff:/, '');
    const e = p.yourDiscriminator !== 0 ? this.byDiscr.get(p.yourDiscriminator) : this.byPeer.get(addr);
    if (!e || e.peer !== addr) return;
    this.step(e, { type: 'packet', packet: p });
  }

  private step(e: Entry, ev: BfdEvent): void {
    if (!this.byPeer.has(e.peer) && ev.type !== 'start') return;
    const r = bfdStep(e.s, ev);
    e.s = r.state;
    for (const a of r.actions) this.execute(e, a);
  }

  private execute(e: Entry, a: BfdAction): void {
    switch (a.type) {
      case 'send':
        e.tx.send(encodeBfd(a.packet), this.init.port ?? BFD_PORT, e.peer);
        return;
      case 'arm': {
        const old = e.timers.get(a.timer);
        if (old !== undefined) this.c.clock.clearTimeout(old);
        e.timers.set(a.timer, this.c.clock.setTimeout(() => {
          e.timers.delete(a.timer);
          this.step(e, { type: 'timer', timer: a.timer });
        }, a.ms));
        return;
      }
      case 'cancel': {
        const old = e.timers.get(a.timer);
        if (old !== undefined) this.c.clock.clearTimeout(old);
        e.timers.delete(a.timer);
        return;
      }
      case 'up':
        this.c.logger.info({ peer: e.peer }, 'BFD session Up');
        return e.onUp();
      case 'down':
        this.c.logger.warn({ peer: e.peer, diag: a.diag }, 'BFD session Down');
        return e.onDown(a.diag);
    }
  }

  /** Closes every session and socket. */
  close(): void {
    for (const e of [...this.byPeer.values()]) {
      for (const t of e.timers.values()) this.c.clock.clearTimeout(t);
      e.tx.close();
    }
    this.byPeer.clear();
    this.byDiscr.clear();
    for (const s of this.rx.values()) s.close();
    this.rx.clear();
  }
}
