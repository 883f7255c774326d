import { describe, expect, it } from 'vitest';
import { parseSelector, selectorMatches, isTabbyError } from '@tabby/api';
import { selectPools } from '@tabby/ipam';
import { pool } from './helpers.js';

const matches = (s: string, l: Record<string, string>) => selectorMatches(parseSelector(s), l);
const pools = [
  pool('a', '10.0.0.0/16', { nodeSelector: "zone == 'a'" }),
  pool('b', '10.1.0.0/16', { nodeSelector: "zone == 'b'" }),
  pool('all', '10.2.0.0/16'),
  pool('off', '10.3.0.0/16', { disabled: true }),
  pool('tun', '10.4.0.0/16', { allowedUses: ['Tunnel'] }),
  pool('ns', '10.5.0.0/16', { namespaceSelector: "team == 'x'" }),
  pool('manual', '10.6.0.0/16', { assignmentMode: 'Manual' }),
  pool('v6', 'fd00::/64'),
];
const q = { family: 4 as const, use: 'Workload' as const, node: 'n1', nodeLabels: { zone: 'a' } };
const names = (ps: { metadata: { name: string } }[]) => ps.map((p) => p.metadata.name);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e: unknown) {
    return isTabbyError(e) ? e.code : 'untyped';
  }
  return undefined;
}

describe('selectPools', () => {
  it('selects enabled automatic pools of the family whose node selector matches', () => {
    expect(names(selectPools(pools, q, matches))).toEqual(['a', 'all']);
    expect(names(selectPools(pools, { ...q, nodeLabels: { zone: 'b' } }, matches))).toEqual(['all', 'b']);
    expect(names(selectPools(pools, { ...q, family: 6 }, matches))).toEqual(['v6']);
  });
  it('matches the namespace selector for workloads only', () => {
    expect(names(selectPools(pools, { ...q, namespaceLabels: { team: 'x' } }, matches))).toEqual(['a', 'all', 'ns']);
    expect(names(selectPools(pools, { ...q, use: 'Tunnel' }, matches))).toEqual(['a', 'all', 'ns', 'tun']);
  });
  it('lets explicit pools override selectors and manual mode, never disabled', () => {
    expect(names(selectPools(pools, { ...q, explicit: ['b', '10.6.0.0/16'] }, matches))).toEqual(['b', 'manual']);
    expect(code(() => selectPools(pools, { ...q, explicit: ['off'] }, matches))).toBe('PoolDisabled');
    expect(code(() => selectPools(pools, { ...q, explicit: ['nope'] }, matches))).toBe('PoolNotFound');
    expect(code(() => selectPools(pools, { ...q, explicit: ['v6'] }, matches))).toBe('InvalidRequest');
    expect(code(() => selectPools(pools, { ...q, explicit: ['tun'] }, matches))).toBe('InvalidRequest');
  });
  it('says NoPoolForNode when nothing serves the request', () => {
    expect(code(() => selectPools([pools[0]!], { ...q, nodeLabels: {} }, matches))).toBe('NoPoolForNode');
  });
});
