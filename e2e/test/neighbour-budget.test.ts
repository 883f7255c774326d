/** The neighbour-table budget of a node cluster's layout (pure: the limit is passed in). */
import { describe, expect, it } from 'vitest';
import { checkNeighbourBudget, neighbourEntries, segmentLayout } from '../src/neighbour-budget.js';

describe('neighbour budget of a cluster layout', () => {
  it('counts each node resolving its segment and the gateway, and the fabric resolving every node', () => {
    expect(neighbourEntries([3])).toBe(12);
    expect(neighbourEntries([10, 10, 10, 10, 10])).toBe(550);
  });

  it('refuses 50 nodes on one segment, naming the layout, the limit and what to do', () => {
    expect(() => checkNeighbourBudget([50], 1024)).toThrow(/layout \[50\].*2550 IPv4 neighbour entries.*gc_thresh3 = 1024.*at most 14 per segment/);
  });

  it('accepts 50 nodes over five segments, and 20 on one', () => {
    expect(() => checkNeighbourBudget(segmentLayout(50, 10), 1024)).not.toThrow();
    expect(() => checkNeighbourBudget([20], 1024)).not.toThrow();
  });

  it('splits nodes into segments as evenly as possible', () => {
    expect(segmentLayout(50, 10)).toEqual([10, 10, 10, 10, 10]);
    expect(segmentLayout(23, 10)).toEqual([8, 8, 7]);
    expect(segmentLayout(10, 10)).toEqual([10]);
  });
});
