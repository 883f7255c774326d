/**
 * The daemon's event stream, which tabby-node follows instead of polling: with `bestChanges`, a
 * best-path change is reported as the speaker's flush applies it (add, then withdraw), and
 * session state changes are reported too. Two daemons talk iBGP over loopback addresses (no
 * packet leaves the host; no root needed).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BgpDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/session/index.js';
import type { SpeakerEvent } from '../../src/speaker/types.js';

const dir = mkdtempSync(join(tmpdir(), 'tabby-events-'));
const daemons: BgpDaemon[] = [];
afterAll(async () => {
  for (const d of daemons) await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('BgpDaemon events', () => {
  it('reports best-path adds and withdrawals and session states as they happen', async () => {
    const port = await freePort();
    const fileA = join(dir, 'a.yaml');
    const fileB = join(dir, 'b.yaml');
    writeFileSync(fileA, stringify({ routerId: '127.0.0.1', asn: 65000, listen: { address: '127.0.0.1', port }, peers: [{ address: '127.0.0.2', asn: 65000, passive: true }] }));
    const b = (prefixes: object[]): string => stringify({ routerId: '127.0.0.2', asn: 65000, listen: 'none', peers: [{ address: '127.0.0.1', port, asn: 65000, localAddress: '127.0.0.2', nextHop: 'keep' }], prefixes });
    writeFileSync(fileB, b([{ prefix: '10.1.0.0/26', nextHop: '192.0.2.7' }])); // a loopback next hop is refused (RFC 7606)
    const a = await BgpDaemon.start({ logger: silentLogger }, { configFile: fileA, bestChanges: true });
    daemons.push(a);
    const events: SpeakerEvent[] = [];
    a.on((e) => events.push(e));
    const d = await BgpDaemon.start({ logger: silentLogger }, { configFile: fileB });
    daemons.push(d);

    const best = (): Array<{ type: string; prefix: string; nextHop?: string; peer?: string }> =>
      events.flatMap((e) => (e.type === 'best' ? e.changes.map((c) => ({ type: c.type, prefix: `${c.prefix.addr}/${c.prefix.len}`, ...(c.type === 'withdraw' ? {} : { nextHop: c.attrs.nextHop, peer: c.peer }) })) : []));
    await until('the add', () => best().length > 0);
    expect(events.some((e) => e.type === 'peer-state' && e.peer === '127.0.0.2' && e.to === 'Established')).toBe(true);
    expect(best()).toEqual([{ type: 'add', prefix: '10.1.0.0/26', nextHop: '192.0.2.7', peer: '127.0.0.2' }]);

    writeFileSync(fileB, b([]));
    d.reload();
    await until('the withdrawal', () => best().length > 1);
    expect(best()[1]).toEqual({ type: 'withdraw', prefix: '10.1.0.0/26' });
  });

  it('reports no best-path changes unless asked', async () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, stringify({ routerId: '10.0.0.1', asn: 65000, listen: 'none', peers: [], prefixes: ['10.2.0.0/26'] }));
    const c = await BgpDaemon.start({ logger: silentLogger }, { configFile: file });
    daemons.push(c);
    const events: SpeakerEvent[] = [];
    c.on((e) => events.push(e));
    writeFileSync(file, stringify({ routerId: '10.0.0.1', asn: 65000, listen: 'none', peers: [], prefixes: [] }));
    c.reload();
    await new Promise((r) => setTimeout(r, 50));
    expect(events.filter((e) => e.type === 'best')).toEqual([]);
  });
});
