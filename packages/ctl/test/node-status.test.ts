import { describe, expect, it } from 'vitest';
import { formatNodeStatus } from '../src/node.js';

const report = {
  peers: [
    { address: '10.0.0.2', asn: 64512, state: 'Established', since: '2026-01-01T00:00:00.000Z', prefixesReceived: 1, prefixesAccepted: 1, prefixesAdvertised: 1, type: 'node-to-node mesh', info: 'Established' },
    { address: '10.0.1.3', asn: 64512, state: 'Active', since: '2026-01-01T00:00:00.000Z', prefixesReceived: 0, prefixesAccepted: 0, prefixesAdvertised: 0, type: 'node-to-node mesh', info: 'Active' },
  ],
  locRib: { ipv4: 2, ipv6: 0 },
};

describe('tabbyctl node status', () => {
  it('renders calicoctl’s table; the tabby-bgp answer has no fallback section', () => {
    const out = formatNodeStatus(report);
    expect(out).toMatch(/\| 10\.0\.0\.2 +\| node-to-node mesh \| up +\|/);
    expect(out).toMatch(/\| 10\.0\.1\.3 +\| node-to-node mesh \| start +\|/);
    expect(out).not.toMatch(/fallback/);
  });

  it('lists the nodes tabby-node routes over the fallback tunnel, or says there are none', () => {
    expect(formatNodeStatus(report, ['node3'])).toMatch(/BGP fallback \(routed over the tunnel from the datastore\)\n {2}node3\n$/);
    expect(formatNodeStatus(report, [])).toMatch(/No node: BGP carries every route\.\n$/);
  });
});
