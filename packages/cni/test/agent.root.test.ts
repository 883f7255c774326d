/**
 * The thin-client path: `tabby-cni-agent` (the server the node agent will embed) runs in the
 * node namespace; the plugin binaries forward each call over its socket. Through cnitool:
 * ADD/CHECK/DEL, 100 pods ADDed at once (all distinct addresses, all plumbed), and an ADD/DEL
 * loop with no leaked link, route, allocation, handle or endpoint. The loop runs
 * TABBY_CNI_LOOP times (default 1,000, as the issue asks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '@tabby/testkit';
import { CniNode, podArgs, pool } from './cni-fixture.js';

const n = new CniNode();
const LOOP = Number(process.env.TABBY_CNI_LOOP ?? 1000);

beforeAll(async () => {
  await n.start();
  await n.ds.create(pool('v4', '10.246.0.0/16'));
  const socket = await n.startAgent();
  n.writeConflist('agent', [n.tabbyConf({}, { agent_socket: socket })]);
});

afterAll(async () => {
  await n.stop();
});

async function expectClean(): Promise<void> {
  expect(await n.caliLinks()).toEqual([]);
  expect(await n.tabbyRoutes()).toEqual([]);
  expect(await n.allocatedCount()).toBe(0);
  expect(await n.handles()).toEqual([]);
  expect(await n.endpoints()).toEqual([]);
}

describe('through the node agent socket', () => {
  it('100 concurrent ADDs on one node: distinct addresses, every pod plumbed; then 100 DELs', async () => {
    const pods: Netns[] = [];
    for (let i = 0; i < 100; i++) pods.push(await n.pod());
    const results = await Promise.all(pods.map((p, i) => n.cnitool('add', 'agent', p.path, { CNI_ARGS: podArgs('many', `p${i}`) })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const ips = results.map((r) => (JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]!.address);
    expect(new Set(ips).size).toBe(100);
    expect((await n.caliLinks()).length).toBe(100);
    const routes = await n.tabbyRoutes();
    for (const ip of ips) expect(routes.some((r) => r.startsWith(`${ip.split('/')[0]} dev cali`))).toBe(true);
    expect((await n.endpoints()).length).toBe(100);
    const dels = await Promise.all(pods.map((p, i) => n.cnitool('del', 'agent', p.path, { CNI_ARGS: podArgs('many', `p${i}`) })));
    for (const r of dels) expect(r.code, r.stderr).toBe(0);
    await expectClean();
  }, 900_000);

  it(`ADD/CHECK/DEL ${LOOP} times: nothing leaks; the agent runs each ADD once`, async () => {
    const pod = await n.pod();
    const addsBefore = n.agentOutput().split('\n').filter((l) => l.includes('"ADD done"')).length;
    for (let i = 0; i < LOOP; i++) {
      const args = podArgs('loop', `p${i % 7}`);
      const a = await n.cnitool('add', 'agent', pod.path, { CNI_ARGS: args });
      expect(a.code, a.stderr).toBe(0);
      if (i % 50 === 0) expect((await n.cnitool('check', 'agent', pod.path, { CNI_ARGS: args })).code).toBe(0);
      const d = await n.cnitool('del', 'agent', pod.path, { CNI_ARGS: args });
      expect(d.code, d.stderr).toBe(0);
    }
    await expectClean();
    expect(await pod.ip('-o', 'link', 'show')).not.toMatch(/eth0/);
    // The shell client's answer arrives (half-closed socket): no ADD is retried through Node.
    expect(n.agentOutput().split('\n').filter((l) => l.includes('"ADD done"')).length - addsBefore).toBe(LOOP);
  }, 1_200_000);
});
