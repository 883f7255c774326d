import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestNet, poll, startEtcd, type EtcdServer } from '../src/index.js';

describe('testkit', () => {
  const net = new TestNet();
  afterAll(() => net.cleanup());

  it('creates namespaces joined by a veth that can ping each other', async () => {
    const a = await net.netns('a');
    const b = await net.netns('b');
    await net.veth(a, net.name('x'), b, net.name('y'), '10.99.0.1/30', '10.99.0.2/30');
    const out = await a.exec('ping', '-c1', '-W2', '10.99.0.2');
    expect(out).toContain('1 received');
  });

  it('starts a process in a namespace and stops it by pid', async () => {
    const a = await net.netns('p');
    const p = net.spawn(a, 'sleep', ['300']);
    expect(p.running).toBe(true);
    await p.stop();
    expect(p.running).toBe(false);
  });

  it('poll returns the first truthy value and times out with a message', async () => {
    let n = 0;
    await expect(poll(() => ++n >= 3 && n)).resolves.toBe(3);
    await expect(poll(() => false, { timeout: 100, what: 'nothing' })).rejects.toThrow(/waiting for nothing/);
  });
});

describe('etcd', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(() => etcd?.stop());
  it('answers on a unix socket', () => {
    expect(etcd.endpoint).toMatch(/^unix:\/\//);
  });
});
