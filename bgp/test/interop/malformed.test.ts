/**
 * RFC 7606 against a live speaker: an in-process `BgpDaemon` listens on the root namespace's
 * loopback (127.0.0.1, an ephemeral-range port), and a raw BGP peer written here opens a TCP
 * connection, sends OPEN and KEEPALIVE, then hand-crafted UPDATEs (hex, a comment per field).
 * Treat-as-withdraw removes only that UPDATE's NLRI, attribute discard keeps the route, and
 * both keep the session; a malformed NLRI field resets it with an UPDATE Message Error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll } from '@tabby/testkit';
import { BgpDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/session/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A BGP message: 16-octet marker, length, type (RFC 4271 §4.1). */
function message(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

/** UPDATE (RFC 4271 §4.3): withdrawn length 0, path attributes, NLRI. */
function update(attrs: string, nlri: string, withdrawn = ''): Buffer {
  const w = hex(withdrawn);
  const a = hex(attrs);
  const body = Buffer.concat([Buffer.from([w.length >> 8, w.length & 255]), w, Buffer.from([a.length >> 8, a.length & 255]), a, hex(nlri)]);
  return message(2, body);
}

const OPEN = message(
  1,
  hex(`
    04            # version 4
    fdea          # my AS 65002
    005a          # hold time 90
    0a090909      # BGP identifier 10.9.9.9
    0e            # optional parameters length 14
    02 0c         # parameter 2 (capabilities), length 12
      01 04 0001 00 01     # multiprotocol IPv4 unicast (RFC 4760)
      41 04 0000fdea       # 4-octet AS 65002 (RFC 6793)
  `.replace(/#.*$/gm, '')),
);
const KEEPALIVE = message(4, Buffer.alloc(0));

const ORIGIN_IGP = '40 01 01 00'; // well-known transitive, ORIGIN, len 1, IGP
const AS_PATH = '40 02 06 02 01 0000fdea'; // AS_PATH, len 6: AS_SEQUENCE of 1, AS 65002 (4-octet)
const NEXT_HOP = '40 03 04 0a090909'; // NEXT_HOP, len 4, 10.9.9.9 (an attribute value only: nothing is sent there)
const GOOD = ORIGIN_IGP + AS_PATH + NEXT_HOP;
const NLRI = (n: number): string => `18 0a${n.toString(16).padStart(2, '0')}00`; // /24 10.<n>.0.0

describe('interop: RFC 7606 outcomes from a raw test peer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabby-7606-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  let daemon: BgpDaemon;
  const registry = new Registry();
  let sock: Socket;
  const received: Buffer[] = [];
  let closed = false;

  const routes = (): string[] => daemon.routes().map((r) => r.prefix).sort();
  const peer = () => daemon.statusReport().peers[0]!;

  beforeAll(async () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `routerId: 10.0.0.1\nasn: 65001\nlisten: { address: 127.0.0.1, port: ${port} }\npeers:\n  - { address: 127.0.0.1, asn: 65002, passive: true, families: [ipv4-unicast] }\n`);
    daemon = await BgpDaemon.start({ logger: silentLogger, registry }, { configFile: file });
    sock = createConnection({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 19 && buf.length >= buf.readUInt16BE(16)) {
        received.push(buf.subarray(0, buf.readUInt16BE(16)));
        buf = buf.subarray(buf.readUInt16BE(16));
      }
    });
    sock.on('close', () => (closed = true));
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(OPEN);
    await poll(() => received.some((m) => m[18] === 1), { what: "the speaker's OPEN" });
    sock.write(KEEPALIVE);
    await poll(() => peer().state === 'Established', { what: 'session Established' });
  });
  afterAll(async () => {
    sock?.destroy();
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts well-formed routes', async () => {
    sock.write(update(GOOD, NLRI(1) + NLRI(2) + NLRI(3) + NLRI(4)));
    await poll(() => routes().length === 4, { what: 'four routes' });
  });

  it('treats an invalid ORIGIN as withdraw of that UPDATE\'s NLRI only (RFC 7606 §7.1)', async () => {
    sock.write(update('40 01 01 07' /* ORIGIN 7: invalid */ + AS_PATH + NEXT_HOP, NLRI(1)));
    await poll(() => !routes().includes('10.1.0.0/24'), { what: '10.1.0.0/24 withdrawn' });
    expect(routes()).toEqual(['10.2.0.0/24', '10.3.0.0/24', '10.4.0.0/24']);
    expect(peer().state).toBe('Established');
  });

  it('treats a COMMUNITIES length that is not a multiple of 4 as withdraw (RFC 7606 §7.8)', async () => {
    sock.write(update(GOOD + 'c0 08 03 010203' /* COMMUNITIES, len 3 */, NLRI(2)));
    await poll(() => !routes().includes('10.2.0.0/24'), { what: '10.2.0.0/24 withdrawn' });
    expect(peer().state).toBe('Established');
  });

  it('discards a malformed AGGREGATOR and keeps the route (RFC 7606 §7.7)', async () => {
    sock.write(update(GOOD + 'c0 07 05 0000fdea01' /* AGGREGATOR, len 5 (8 expected) */, NLRI(5)));
    await poll(() => routes().includes('10.5.0.0/24'), { what: '10.5.0.0/24 accepted' });
    expect(daemon.routes('10.5.0.0/24')[0]).toMatchObject({ asPath: '65002', nextHop: '10.9.9.9' });
    expect(peer().state).toBe('Established');
  });

  it('exports metrics: sessions by state, UPDATEs received, prefixes per peer', async () => {
    const text = await registry.metrics();
    expect(text).toContain('tabby_bgp_sessions{state="Established"} 1');
    expect(text).toMatch(/tabby_bgp_updates_received_total\{peer="127\.0\.0\.1"\} [4-9]/);
    expect(text).toMatch(/tabby_bgp_prefixes\{peer="127\.0\.0\.1",kind="accepted"\} 3/);
  });

  it('resets the session on a malformed NLRI field (RFC 7606 §5.3, UPDATE Message Error)', async () => {
    sock.write(update(GOOD, '21 0a010101 01' /* prefix length 33 */));
    const n = await poll(() => received.find((m) => m[18] === 3), { what: 'a NOTIFICATION' });
    expect(n[19]).toBe(3); // UPDATE Message Error
    await poll(() => closed, { what: 'the connection closed' });
    await poll(() => routes().length === 0, { what: 'the peer\'s routes flushed' });
  });
});
