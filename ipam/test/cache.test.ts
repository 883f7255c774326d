import { describe, expect, it } from 'vitest';
import type { IPPool, Resource } from '@tabby/api';
import type { WatchEvent, WatchOptions } from '@tabby/datastore';
import { poll } from '@tabby/testkit';
import { WatchCache } from '../src/cache.js';
import { MemoryDatastore } from './ds.js';
import { FaultyDatastore, fakeClock, pool } from './helpers.js';

/** A datastore whose first watch reports that history is gone. */
class GoneOnce extends FaultyDatastore {
  watches = 0;
  override watch<R extends Resource>(opts: WatchOptions): AsyncIterable<WatchEvent<R>> {
    if (this.watches++ === 0) {
      return (async function* () {
        yield { type: 'gone', revision: '0' } as WatchEvent<R>;
      })();
    }
    return this.inner.watch<R>(opts);
  }
}

const log = { debug: () => {}, info: () => {}, warn: () => {} };

describe('WatchCache', () => {
  it('loads, follows changes, and re-lists when history is gone', async () => {
    const mem = new MemoryDatastore();
    await mem.create(pool('a', '10.0.0.0/24'));
    const ds = new GoneOnce(mem);
    const cache = new WatchCache<IPPool>(ds, 'IPPool', fakeClock(), log);
    const ac = new AbortController();
    const run = cache.run(ac.signal);
    await cache.whenReady(ac.signal);
    expect(cache.list().map((p) => p.metadata.name)).toEqual(['a']);
    await poll(() => ds.watches >= 2, { what: 're-list after gone' });
    await mem.create(pool('b', '10.1.0.0/24'));
    await poll(() => cache.get('b') !== undefined, { what: 'pool b in the cache' });
    await mem.delete({ kind: 'IPPool', name: 'a' });
    await poll(() => cache.get('a') === undefined, { what: 'pool a gone from the cache' });
    ac.abort();
    await run;
  });
});
