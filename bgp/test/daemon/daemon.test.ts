/**
 * Daemon unit tests: configuration validation (errors name the file and field), defaults,
 * the status socket protocol, the table formatters, and the `status` / `routes` CLI against a
 * status server started here (the binary runs from bgp/dist, built by `npx tsc -b bgp`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus, parseDaemonConfig, requestStatus, startStatusServer, type StatusReport } from '../../src/daemon/index.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../dist/bin/tabby-bgp.js');

describe('parseDaemonConfig', () => {
  it('fills defaults', () => {
    const c = parseDaemonConfig('routerId: 10.0.0.1\nasn: 65001\npeers:\n  - { address: 10.0.0.2, asn: 65001, routeReflectorClient: true }\nprefixes: [10.1.0.0/24, { prefix: "fd00::/64", med: 5, communities: ["65001:7"] }]\n', 'c.yaml');
    expect(c.listen).toEqual({ address: '0.0.0.0', port: 179 });
    expect(c.holdTime).toBe(90);
    expect(c.peers[0]).toMatchObject({ port: 179, passive: false, type: 'route reflector client', families: ['ipv4-unicast', 'ipv6-unicast'] });
    expect(c.prefixes[1]).toEqual({ prefix: 'fd00::/64', med: 5, communities: [65001 * 65536 + 7], nextHop: undefined });
    expect(parseDaemonConfig('routerId: 1.2.3.4\nasn: 1\nlisten: none\n', 'c.yaml').listen).toBeNull();
  });

  it('reads nextHop self | keep | auto per peer (default auto; nextHopSelf: true means self)', () => {
    const peers = (list: string): string[] => parseDaemonConfig(`routerId: 10.0.0.1\nasn: 1\npeers:\n${list}`, 'c.yaml').peers.map((p) => p.nextHop);
    expect(peers('  - { address: 10.0.0.2, asn: 2, nextHop: self }\n  - { address: 10.0.0.3, asn: 1, nextHop: keep }\n  - { address: 10.0.0.4, asn: 2, nextHop: auto }\n  - { address: 10.0.0.5, asn: 2 }\n')).toEqual(['self', 'keep', 'auto', 'auto']);
    expect(peers('  - { address: 10.0.0.2, asn: 2, nextHopSelf: true }\n  - { address: 10.0.0.3, asn: 2, nextHopSelf: false, nextHop: keep }\n')).toEqual(['self', 'keep']);
  });

  it.each([
    ['routerId: 10.0.0.1\nasn: 0\n', 'c.yaml: asn:'],
    ['routerId: fd00::1\nasn: 1\n', 'c.yaml: routerId:'],
    ['routerId: 10.0.0.1\nasn: 1\nholdTime: 2\n', 'c.yaml: holdTime: hold time must be 0 or 3..65535'],
    ['routerId: 10.0.0.1\nasn: 1\npeers:\n  - { address: 10.0.0.2, asn: 2, bogus: 1 }\n', 'c.yaml: peers[0]:'],
    ['routerId: 10.0.0.1\nasn: 1\npeers:\n  - { address: 10.0.0.2, asn: 2, ttlSecurity: 300 }\n', 'c.yaml: peers[0].ttlSecurity:'],
    ['routerId: 10.0.0.1\nasn: 1\npeers:\n  - { address: 10.0.0.2, asn: 2, routeReflectorClient: true }\n', 'c.yaml: peers[0].routeReflectorClient: route reflector clients must be iBGP'],
    ['routerId: 10.0.0.1\nasn: 1\npeers:\n  - { address: 10.0.0.2, asn: 2 }\n  - { address: 10.0.0.2, asn: 3 }\n', 'c.yaml: peers[1].address: duplicate peer'],
    ['routerId: 10.0.0.1\nasn: 1\nprefixes: [10.0.0.0/33]\n', 'c.yaml: prefixes[0]:'],
    ['routerId: [\n', 'c.yaml: (syntax)'],
    ['routerId: 10.0.0.1\nasn: 1\npeers:\n  - { address: 10.0.0.2, asn: 2, nextHop: elsewhere }\n', 'c.yaml: peers[0].nextHop:'],
    ['routerId: 10.0.0.1\nasn: 1\npeers:\n  - { address: 10.0.0.2, asn: 2, nextHop: keep, nextHopSelf: true }\n', 'c.yaml: peers[0].nextHop: nextHop: keep contradicts nextHopSelf: true'],
  ])('rejects %j naming the field', (text, msg) => {
    expect(() => parseDaemonConfig(text, 'c.yaml')).toThrow(msg);
  });
});

const REPORT: StatusReport = {
  peers: [{ address: '10.0.0.2', asn: 65002, state: 'Established', since: '2026-01-01T00:00:00.000Z', prefixesReceived: 3, prefixesAccepted: 2, prefixesAdvertised: 1, type: 'global', info: 'Established' }],
  locRib: { ipv4: 2, ipv6: 0 },
};

describe('status socket and CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabby-status-'));
  const socket = join(dir, 's.sock');
  let server: { close(): Promise<void> };
  beforeAll(async () => {
    server = await startStatusServer(socket, {
      status: () => REPORT,
      routes: (p) => [{ prefix: p ?? '10.1.0.0/24', nextHop: '10.0.0.2', from: '10.0.0.2', asPath: '65002', origin: 'IGP', med: 4 }],
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers requests and reports bad ones', async () => {
    expect(await requestStatus(socket, { cmd: 'status' })).toEqual(REPORT);
    await expect(requestStatus(socket, { cmd: 'nope' } as never)).rejects.toThrow(/unknown cmd/);
    await expect(requestStatus(join(dir, 'missing'), { cmd: 'status' })).rejects.toThrow(/cannot reach status socket/);
  });

  it('formats a calicoctl-style table', () => {
    const t = formatStatus(REPORT);
    expect(t).toContain('| PEER ADDRESS | PEER TYPE | STATE | SINCE               | INFO        |');
    expect(t).toContain('| 10.0.0.2     | global    | up    | 2026-01-01 00:00:00 | Established |');
    expect(t).toContain('Loc-RIB: 2 IPv4, 0 IPv6 prefixes');
  });

  it.skipIf(!existsSync(BIN))('tabby-bgp status / routes print JSON and tables', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'status', '--socket', socket, '-o', 'json']);
    expect(JSON.parse(stdout)).toEqual({
      peers: [{ address: '10.0.0.2', asn: 65002, state: 'Established', since: '2026-01-01T00:00:00.000Z', prefixesReceived: 3, prefixesAccepted: 2, prefixesAdvertised: 1 }],
      locRib: { ipv4: 2, ipv6: 0 },
    });
    const r = await run(process.execPath, [BIN, 'routes', '--socket', socket, '--prefix', '10.9.0.0/24']);
    expect(r.stdout).toMatch(/\| 10\.9\.0\.0\/24 \| 10\.0\.0\.2 \| 10\.0\.0\.2 \| 65002 +\| IGP +\| 4 /);
    await expect(run(process.execPath, [BIN, '--config', join(dir, 'nope.yaml')])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('nope.yaml: cannot read') });
  });
});
