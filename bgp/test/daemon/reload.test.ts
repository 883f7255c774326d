/**
 * Atomic configuration: a file that parses but fails session validation (an IPv4 peer with an
 * IPv6 `localAddress`) is refused as a whole — at start with exit code 2 naming the file and the
 * field, on SIGHUP reload with the running configuration untouched (no peer removed, none added,
 * nothing left half-registered). Every peer here is passive and nothing listens, so no packet
 * leaves the process; no root needed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BgpDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/session/index.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../dist/bin/tabby-bgp.js');
const dir = mkdtempSync(join(tmpdir(), 'tabby-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Peer {
  address: string;
  asn: number;
  passive: true;
  localAddress?: string;
  port?: number;
}
const peer = (address: string, extra: Partial<Peer> = {}): Peer => ({ address, asn: 65001, passive: true, ...extra });
const config = (peers: Peer[], prefixes: string[] = []): Record<string, unknown> => ({ routerId: '10.0.0.1', asn: 65000, listen: 'none', peers, prefixes });

const daemons: BgpDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

async function start(file: string, c: Record<string, unknown>): Promise<BgpDaemon> {
  writeFileSync(file, stringify(c));
  const d = await BgpDaemon.start({ logger: silentLogger }, { configFile: file });
  daemons.push(d);
  return d;
}

const addresses = (d: BgpDaemon): string[] => d.speaker.status().map((s) => s.address).sort();

describe('atomic reload', () => {
  it('a file that fails session validation changes nothing and names the file and field; a fixed file then applies', async () => {
    const file = join(dir, 'a.yaml');
    const d = await start(file, config([peer('10.0.0.2'), peer('10.0.0.3'), peer('10.0.0.4')], ['10.244.0.0/26']));
    expect(addresses(d)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    // drops .2, adds a bad .5 (IPv4 peer, IPv6 source) and a good .6 after it
    writeFileSync(file, stringify(config([peer('10.0.0.3'), peer('10.0.0.4'), peer('10.0.0.5', { localAddress: 'fd00::1' }), peer('10.0.0.6')], [])));
    expect(() => d.reload()).toThrow(`${file}: peers[2].localAddress`);
    expect(addresses(d)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect(d.rib.locRibSize('ipv4-unicast')).toBe(1);
    expect(d.currentConfig.peers.map((p) => p.address)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    // the same list, fixed: applies in full (the bad peer was never half-registered)
    writeFileSync(file, stringify(config([peer('10.0.0.3'), peer('10.0.0.4'), peer('10.0.0.5', { localAddress: '10.0.0.1' }), peer('10.0.0.6')], [])));
    expect(d.reload()).toMatchObject({ added: ['10.0.0.5', '10.0.0.6'], removed: ['10.0.0.2'] });
    expect(addresses(d)).toEqual(['10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(d.rib.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('a bad file at start is refused before anything runs, naming the field', async () => {
    const file = join(dir, 'b.yaml');
    writeFileSync(file, stringify(config([peer('10.0.0.2'), peer('10.0.0.3', { localAddress: 'fd00::1' })])));
    await expect(BgpDaemon.start({ logger: silentLogger }, { configFile: file })).rejects.toMatchObject({ code: 'InvalidConfig', message: expect.stringContaining(`${file}: peers[1].localAddress`) });
  });

  it.skipIf(!existsSync(BIN))('tabby-bgp exits 2 on such a file at start, naming the file and field', async () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, stringify(config([peer('10.0.0.2', { localAddress: 'fd00::1' })])));
    await expect(run(process.execPath, [BIN, '--config', file])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining(`${file}: peers[0].localAddress`) });
  });
});

describe('start-up errors', () => {
  it.skipIf(!existsSync(BIN))('a metrics port already in use is a clear error at start (exit 2), not a crash later', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const file = join(dir, 'm.yaml');
      writeFileSync(file, stringify(config([peer('10.0.0.2')])));
      await expect(run(process.execPath, [BIN, '--config', file, '--metrics-port', `127.0.0.1:${port}`], { timeout: 20_000 })).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining(`--metrics-port: 127.0.0.1:${port} is already in use`),
      });
    } finally {
      busy.close();
    }
  });
});

describe('peers sharing an address', () => {
  it('two peers on one address with different ports are both configured; the same port twice is refused', async () => {
    const file = join(dir, 'p.yaml');
    const d = await start(file, config([peer('10.0.0.2', { port: 1790, asn: 65001 }), peer('10.0.0.2', { port: 1791, asn: 65002 }), peer('10.0.0.3')]));
    expect(addresses(d)).toEqual(['10.0.0.2:1790', '10.0.0.2:1791', '10.0.0.3']);
    writeFileSync(file, stringify(config([peer('10.0.0.2', { port: 1790 }), peer('10.0.0.2', { port: 1790, asn: 65002 })])));
    expect(() => d.reload()).toThrow(`${file}: peers[1].address: duplicate peer 10.0.0.2 port 1790`);
    writeFileSync(file, stringify(config([peer('10.0.0.2', { port: 1791, asn: 65002 })])));
    expect(d.reload()).toMatchObject({ removed: ['10.0.0.2:1790', '10.0.0.3'], added: [] });
    expect(addresses(d)).toEqual(['10.0.0.2:1791']);
  });
});
