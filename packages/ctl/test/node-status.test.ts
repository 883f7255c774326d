/**
 * `tabbyctl node status` against a real status socket (tabby-bgp's server, as tabby-node runs it
 * at <run dir>/bgp.sock) answering with a fixed report: calicoctl's tables for IPv4 and IPv6.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStatusServer, type PeerStatus, type StatusReport } from '@tabby/bgp';
import { birdSince } from '../src/node.js';
import { runWith } from './harness.js';

const recent = new Date(Date.now() - 60_000).toISOString();
const peer = (address: string, type: string, state: string, info: string, since = recent): PeerStatus =>
  ({ address, asn: 64512, state, since, prefixesReceived: 0, prefixesAccepted: 0, prefixesAdvertised: 0, type, info });
const report: StatusReport = {
  peers: [
    peer('10.0.0.2', 'node-to-node mesh', 'Established', 'Established'),
    peer('10.0.0.3', 'node-to-node mesh', 'Active', 'Connect: connection refused'),
    peer('fd00::2', 'global', 'Established', 'Established', '2020-01-02T03:04:05.000Z'),
  ],
  locRib: { ipv4: 2, ipv6: 1 },
};

let dir: string;
let server: { close(): Promise<void> };
let socket: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tabbyctl-node-'));
  socket = join(dir, 'bgp.sock');
  server = await startStatusServer(socket, { status: () => report, routes: () => [] });
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tabbyctl node status', () => {
  it("prints calicoctl's IPv4 and IPv6 peer tables", async () => {
    const t = birdSince(recent, new Date());
    const r = await runWith({}, ['node', 'status', '--socket', socket]);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      'Tabby process is running.\n\nIPv4 BGP status\n' +
      '+--------------+-------------------+-------+----------+-----------------------------+\n' +
      '| PEER ADDRESS | PEER TYPE         | STATE | SINCE    | INFO                        |\n' +
      '+--------------+-------------------+-------+----------+-----------------------------+\n' +
      `| 10.0.0.2     | node-to-node mesh | up    | ${t} | Established                 |\n` +
      `| 10.0.0.3     | node-to-node mesh | start | ${t} | Connect: connection refused |\n` +
      '+--------------+-------------------+-------+----------+-----------------------------+\n' +
      '\nIPv6 BGP status\n' +
      '+--------------+-----------+-------+------------+-------------+\n' +
      '| PEER ADDRESS | PEER TYPE | STATE | SINCE      | INFO        |\n' +
      '+--------------+-----------+-------+------------+-------------+\n' +
      '| fd00::2      | global    | up    | 2020-01-02 | Established |\n' +
      '+--------------+-----------+-------+------------+-------------+\n');
    const j = JSON.parse((await runWith({}, ['node', 'status', '--socket', socket, '-o', 'json'])).out) as StatusReport;
    expect(j.peers).toHaveLength(3);
  });

  it('says when no peers of a family exist, and exits 4 when nothing answers', async () => {
    expect(birdSince('2020-01-02T03:04:05Z', new Date('2020-01-02T10:00:00Z'))).toBe('03:04:05');
    const none = await runWith({}, ['node', 'status', '--socket', join(dir, 'none.sock')]);
    expect(none.code).toBe(4);
    expect(none.err).toMatch(/^Tabby is not running on this node or its status socket does not answer \(.*none\.sock: /);
  });
});
