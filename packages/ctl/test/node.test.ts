// Unit tests: `tabbyctl node status` rendering of the node agent's status (BGP tables and fallback).
import { describe, expect, it } from 'vitest';
import { formatAgentStatus, type AgentStatus } from '../src/node.js';

const peer = { asn: 64512, prefixesReceived: 1, prefixesAccepted: 1, prefixesAdvertised: 1, address: '172.16.1.2', type: 'node-to-node mesh', state: 'Established', since: '13:00:01', info: 'Established' };

describe('node status from the node agent', () => {
  it('prints the BGP table, then the nodes reached over the tunnel', () => {
    const out = formatAgentStatus({
      node: 'n1',
      bgp: { peers: [peer, { ...peer, address: '172.16.2.3', state: 'Active', info: 'Connect: refused' }], locRib: { ipv4: 2, ipv6: 0 } },
      fallback: { enabled: true, timeoutSeconds: 10, nodes: [{ node: 'n3', since: '2026-12-03T13:00:11.000Z', families: [6] }, { node: 'n4', since: '2026-12-03T13:00:12.000Z', families: [4, 6] }] },
    });
    expect(out).toContain('| 172.16.1.2   | node-to-node mesh | up    | 13:00:01 | Established      |');
    expect(out).toContain('| 172.16.2.3   | node-to-node mesh | start | 13:00:01 | Connect: refused |');
    expect(out).toContain('Tunnel fallback (after 10 s without BGP)\n' +
      '+------+------------+-------------+--------------------------+\n' +
      '| NODE | FAMILIES   | ROUTED OVER | SINCE                    |\n' +
      '+------+------------+-------------+--------------------------+\n' +
      '| n3   | IPv6       | tunnel      | 2026-12-03T13:00:11.000Z |\n' +
      '| n4   | IPv4, IPv6 | tunnel      | 2026-12-03T13:00:12.000Z |\n');
  });

  it('says when no node takes the tunnel, when the fallback is off and when BGP is off', () => {
    const base: AgentStatus = { node: 'n1', bgp: { peers: [peer], locRib: { ipv4: 1, ipv6: 0 } } };
    expect(formatAgentStatus({ ...base, fallback: { enabled: true, timeoutSeconds: 10, nodes: [] } })).toContain('No node is reached over the tunnel.\n');
    expect(formatAgentStatus({ ...base, fallback: { enabled: false, timeoutSeconds: 10, nodes: [] } })).toContain('Tunnel fallback: disabled\n');
    expect(formatAgentStatus({ ...base, bgp: { disabled: true } })).toContain('BGP is disabled on this node.\n');
  });
});
