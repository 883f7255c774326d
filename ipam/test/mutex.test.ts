import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../src/mutex.js';
import { invariantProblems, setup } from './helpers.js';

describe('KeyedMutex', () => {
  it('runs calls with one key one at a time, in order, and other keys freely', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const task = (k: string, id: string) => m.run(k, async () => {
      log.push(`start ${id}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${id}`);
      if (id === 'a2') throw new Error('boom');
      return id;
    });
    const r = await Promise.allSettled([task('a', 'a1'), task('a', 'a2'), task('b', 'b1'), task('a', 'a3')]);
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const a = log.filter((l) => l.endsWith('a1') || l.endsWith('a2') || l.endsWith('a3'));
    expect(a).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });
});

describe('one Ipam, many concurrent requests for one node', () => {
  it('queues them: no conflicts, no duplicates', async () => {
    const { ipam, mem } = await setup();
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1 })));
    expect(new Set(got.map((g) => g.ipv4[0])).size).toBe(40);
    expect(ipam.stats.conflicts).toBe(0);
    expect(await invariantProblems(mem)).toEqual([]);
  });
});
