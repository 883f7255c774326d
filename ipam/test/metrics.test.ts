import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createIpamMetrics, Ipam } from '@tabby/ipam';
import { setup } from './helpers.js';

describe('metrics', () => {
  it('counts allocations, releases, claims and conflicts in the injected registry', async () => {
    const { ds } = await setup();
    const registry = new Registry();
    const ipam = new Ipam({ datastore: ds, metrics: createIpamMetrics(registry) }, { claimAhead: false });
    let n = 0;
    ds.conflictIf = (op, kind) => op === 'update' && kind === 'IPAMBlock' && n++ < 1;
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 2 });
    await ipam.releaseByHandle('a');
    const text = await registry.metrics();
    expect(text).toMatch(/tabby_ipam_allocations_total 2/);
    expect(text).toMatch(/tabby_ipam_releases_total 2/);
    expect(text).toMatch(/tabby_ipam_block_claims_total 1/);
    expect(text).toMatch(/tabby_ipam_conflicts_total\{op="block"\} 1/);
  });
});
