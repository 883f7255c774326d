// Unit test (no root, no network beyond loopback): the health server's endpoints and start-up
// error, the liveness / readiness verdicts, and a real NodeAgent on a memory datastore and the
// fake kernel answering /readiness and /metrics.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryDatastore } from '@tabby/datastore';
import { FakeNetlinkKernel, FakeSysctl } from '@tabby/felix';
import { poll } from '@tabby/testkit';
import { HealthPortError, HealthServer, healthAddress, healthSource, type HealthFacts } from '../src/health.js';
import { createNodeMetrics } from '../src/metrics.js';
import { NodeAgent } from '../src/agent.js';

const silent = pino({ level: 'silent' });
const get = async (h: HealthServer, path: string): Promise<{ status: number; body: string }> => {
  const r = await fetch(`http://127.0.0.1:${h.address.port}${path}`);
  return { status: r.status, body: await r.text() };
};
const facts = (over: Partial<HealthFacts> = {}): HealthFacts => ({
  datastoreSynced: true, bgpConfigured: true, dataplaneProgrammed: true, felixLive: true, stopped: false, lastPollAt: 1_000, pollMs: 250, ...over,
});

describe('health server', () => {
  const servers: HealthServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('is live but not ready while the agent starts, then follows the agent; /metrics and 404', async () => {
    const metrics = createNodeMetrics(new Registry());
    const h = await HealthServer.listen({ logger: silent, scrape: metrics.scrape }, { host: '127.0.0.1', port: 0 });
    servers.push(h);
    expect((await get(h, '/liveness')).status).toBe(200);
    expect(await get(h, '/readiness')).toEqual({ status: 503, body: '{"ok":false,"checks":{"started":false}}\n' });
    let f = facts({ dataplaneProgrammed: false });
    h.setSource(healthSource(() => f, () => 2_000));
    const notReady = await get(h, '/readiness');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body).checks).toMatchObject({ datastoreSynced: true, dataplaneProgrammed: false });
    f = facts();
    expect((await get(h, '/readiness')).status).toBe(200);
    metrics.datastore.listed('IPPool', 2, false);
    metrics.datastore.event('IPPool', 'added');
    metrics.bgpNodeState(false, 1);
    const m = await get(h, '/metrics');
    expect(m.body).toContain('tabby_datastore_watch_events_total{kind="IPPool",type="added"} 1');
    expect(m.body).toContain('tabby_node_fallback_nodes 1');
    expect(m.body).toContain('tabby_felix_apply_seconds');
    expect((await get(h, '/nope')).status).toBe(404);
  });

  it('merges the current BGP speaker registry into scrapes, replacing the previous one', async () => {
    const metrics = createNodeMetrics(new Registry());
    metrics.bgpRegistry().registerMetric(new (await import('prom-client')).Gauge({ name: 'tabby_bgp_sessions', help: 'x', registers: [] }));
    expect((await metrics.scrape()).body).toContain('tabby_bgp_sessions');
    metrics.bgpRegistry(); // a restarted speaker registers its metrics afresh, no duplicate error
    expect((await metrics.scrape()).body).not.toContain('tabby_bgp_sessions');
  });

  it('a port in use is an error naming the port', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    try {
      const e = await HealthServer.listen({ logger: silent }, { host: '127.0.0.1', port }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(HealthPortError);
      expect((e as Error).message).toContain(`127.0.0.1:${port} is already in use`);
    } finally {
      holder.close();
    }
  });

  it('liveness fails when the poll loop stalls or the agent stopped; readiness lists every check', () => {
    expect(healthSource(() => facts(), () => 61_001).liveness()).toEqual({ ok: false, checks: { running: true, felix: true, pollLoop: false } });
    expect(healthSource(() => facts({ stopped: true }), () => 1_000).liveness().ok).toBe(false);
    expect(Object.keys(healthSource(() => facts(), () => 1_000).readiness().checks)).toEqual(['running', 'felix', 'pollLoop', 'datastoreSynced', 'bgpConfigured', 'dataplaneProgrammed']);
  });

  it('takes host and port from flags, then TABBY_HEALTH_*, then 127.0.0.1:9099', () => {
    expect(healthAddress({}, {})).toEqual({ host: '127.0.0.1', port: 9099 });
    expect(healthAddress({}, { TABBY_HEALTH_PORT: '9100', TABBY_HEALTH_HOST: '0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(healthAddress({ port: '0' }, { TABBY_HEALTH_PORT: '9100' })).toEqual({ host: '127.0.0.1', port: 0 });
    expect(healthAddress({ port: 'x' }, {})).toEqual({ error: '--health-port x: expected a port 0-65535' });
  });
});

describe('tabby-node binary', () => {
  const bin = fileURLToPath(new URL('../dist/bin/tabby-node.js', import.meta.url));

  it('exits 2 naming the health port when it is in use, before touching the datastore', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    try {
      const r = spawnSync(process.execPath, [bin, '--etcd', 'http://127.0.0.1:1', '--health-port', String(port), '--node', 'n1'], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`health port 127.0.0.1:${port} is already in use`);
    } finally {
      holder.close();
    }
  });

  it('--help names the health flags', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--health-port');
  });
});

describe('a NodeAgent behind the health server (memory datastore, fake kernel)', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'tabby-health-'));
  afterAll(() => rmSync(runDir, { recursive: true, force: true }));

  it('becomes ready once synced and programmed, and counts datastore events', async () => {
    const kernel = new FakeNetlinkKernel();
    const eth = kernel.addDevice('eth0');
    kernel.addresses.push({ family: 4, index: eth.index, address: '172.16.1.1/24', prefixLen: 24, scope: 0, flags: 0 });
    const store = new MemoryDatastore();
    const metrics = createNodeMetrics(new Registry());
    const h = await HealthServer.listen({ logger: silent, scrape: metrics.scrape }, { host: '127.0.0.1', port: 0 });
    const agent = await NodeAgent.start(
      { store, kernel, sysctl: new FakeSysctl(), logger: silent, metrics },
      { nodeName: 'n1', runDir, bgp: false, fallback: false, dataplane: false, poolEnv: { CALICO_IPV4POOL_CIDR: '10.244.0.0/16' } },
    );
    try {
      h.setSource(healthSource(() => agent.healthFacts()));
      await poll(async () => (await get(h, '/readiness')).status === 200, { timeout: 10_000, what: 'readiness 200' });
      expect((await get(h, '/liveness')).status).toBe(200);
      const body = (await get(h, '/metrics')).body;
      expect(body).toMatch(/tabby_datastore_lists_total\{kind="IPPool"\} 1/);
      expect(body).toMatch(/tabby_datastore_resources\{kind="IPPool"\} 1/);
    } finally {
      await agent.stop();
      await h.close();
    }
    expect(agent.healthFacts().stopped).toBe(true);
  });
});
