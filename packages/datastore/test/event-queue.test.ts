import { describe, expect, it } from 'vitest';
import { EventQueue } from '../src/event-queue.js';

async function drain<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of q) out.push(x);
  return out;
}

describe('EventQueue', () => {
  it('delivers in push order and ends after draining', async () => {
    const q = new EventQueue<number>();
    q.push(1);
    q.push(2);
    setImmediate(() => {
      q.push(3);
      q.end();
      q.push(4);
    });
    expect(await drain(q)).toEqual([1, 2, 3]);
  });

  it('throws the failure after draining', async () => {
    const q = new EventQueue<number>();
    q.push(1);
    q.fail(new Error('boom'));
    const it = q[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    await expect(it.next()).rejects.toThrow('boom');
  });

  it('ends on abort, runs onClose once, and starts finished on an aborted signal', async () => {
    const ac = new AbortController();
    let closes = 0;
    const q = new EventQueue<number>({ signal: ac.signal, onClose: () => closes++ });
    const p = drain(q);
    ac.abort();
    expect(await p).toEqual([]);
    expect(closes).toBe(1);
    const q2 = new EventQueue<number>({ signal: ac.signal, onClose: () => closes++ });
    expect(q2.finished).toBe(true);
    expect(await drain(q2)).toEqual([]);
    expect(closes).toBe(1);
  });

  it('runs onClose when the consumer breaks out', async () => {
    let closed = false;
    const q = new EventQueue<number>({ onClose: () => (closed = true) });
    q.push(1);
    q.push(2);
    const it = q[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    await it.return?.();
    expect(closed).toBe(true);
  });
});
