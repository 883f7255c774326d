/**
 * Calico BGPFilter: rule semantics (first match wins across a peer's filters, default accept),
 * the daemon file's `filters` resolved per peer, and a policy change taking effect without a
 * session reset — export re-evaluated by the RIB, import by a ROUTE-REFRESH to the peer.
 */
import { describe, expect, it } from 'vitest';
import { Rib, compileFilters, type BgpFilterSpec } from '../../src/rib/index.js';
import { parseDaemonConfig } from '../../src/daemon/config.js';
import { silentLogger, systemClock } from '../../src/session/index.js';
import { Speaker, type SpeakerPeerConfig } from '../../src/speaker/index.js';
import { FakeSession } from './fake-session.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const route = (cidr: string, from?: string) => {
  const [addr = '', len = '0'] = cidr.split('/');
  return { family: (addr.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast') as 'ipv4-unicast', prefix: { afi: 1 as const, addr, len: Number(len) }, attrs: {}, nextHops: [], peer: 'p', ...(from ? { from } : {}) };
};

describe('BGPFilter rules', () => {
  const f: BgpFilterSpec[] = [
    { name: 'a', exportV4: [{ action: 'Reject', cidr: '10.1.0.0/16', matchOperator: 'Equal' }, { action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { max: 24 } }, { action: 'Reject', source: 'RemotePeers' }] },
    { name: 'b', exportV4: [{ action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'In' }], importV6: [{ action: 'Reject', cidr: 'fd00::/8', matchOperator: 'NotIn' }] },
  ];
  const exp = compileFilters(f, 'export')!;
  const imp = compileFilters(f, 'import')!;
  it.each([
    ['10.1.0.0/16', undefined, 'reject'], // Equal
    ['10.1.2.0/24', undefined, 'accept'], // In, length ≤ 24
    ['10.1.2.0/26', undefined, 'reject'], // In but longer than 24 → next rules: not from a peer → filter b rejects 10/8
    ['192.168.0.0/24', 'peer1', 'reject'], // RemotePeers
    ['192.168.0.0/24', 'local', 'accept'], // no match → default accept
  ] as const)('export %s (from %s) → %s', (cidr, from, verdict) => {
    expect(exp(route(cidr, from)).action).toBe(verdict);
  });
  it('import rules per family; no rules → no filter', () => {
    expect(imp({ ...route('fd00::/64'), family: 'ipv6-unicast' }).action).toBe('accept');
    expect(imp({ ...route('2001:db8::/32'), family: 'ipv6-unicast' }).action).toBe('reject');
    expect(imp(route('10.0.0.0/8')).action).toBe('accept');
    expect(compileFilters([{ name: 'x' }], 'import')).toBeUndefined();
  });
});

describe('daemon file filters', () => {
  it('resolves filters per peer (plain or Calico resource form) and names bad fields', () => {
    const c = parseDaemonConfig(
      'routerId: 10.0.0.1\nasn: 1\nfilters:\n  - { name: f1, importV4: [{ action: Reject, cidr: 10.0.0.0/8, matchOperator: In }] }\n  - { apiVersion: projectcalico.org/v3, kind: BGPFilter, metadata: { name: f2 }, spec: { exportV4: [{ action: Accept, source: RemotePeers }] } }\npeers:\n  - { address: 10.0.0.2, asn: 2, filters: [f2, f1] }\n',
      'c.yaml',
    );
    expect(c.peers[0]!.filters.map((f) => f.name)).toEqual(['f2', 'f1']);
    expect(() => parseDaemonConfig('routerId: 10.0.0.1\nasn: 1\npeers:\n  - { address: 10.0.0.2, asn: 2, filters: [nope] }\n', 'c.yaml')).toThrow('c.yaml: peers[0].filters[0]: no filter named "nope"');
    expect(() => parseDaemonConfig('routerId: 10.0.0.1\nasn: 1\nfilters:\n  - { name: f, importV4: [{ action: Reject, cidr: "fd00::/8", matchOperator: In }] }\n', 'c.yaml')).toThrow('c.yaml: filters[0].importV4[0].cidr');
  });
});

describe('policy change without a reset', () => {
  it('export change re-evaluates the Adj-RIB-Out; import change sends ROUTE-REFRESH', async () => {
    const sessions = new Map<string, FakeSession>();
    const speaker = new Speaker(
      {
        rib: new Rib({ asn: 65001, routerId: '10.0.0.1' }, { now: systemClock.now() }),
        clock: systemClock,
        logger: silentLogger,
        localAddresses: async () => ({ v4: '10.0.0.1', v6: [] }),
        sessionFactory: ({ config, transport }) => {
          const s = new FakeSession(config, transport);
          sessions.set(transport.peerAddress, s);
          return s;
        },
      },
      { routerId: '10.0.0.1', asn: 65001, listen: null, peers: [], originate: [{ prefix: '10.244.0.0/26' }, { prefix: '10.245.0.0/26' }] },
    );
    const peer: SpeakerPeerConfig = { address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'] };
    await speaker.start();
    speaker.setPeers([peer]);
    const s = sessions.get('10.0.0.2')!;
    s.establish(65002, '10.0.0.2');
    await tick();
    await tick();
    const announced = (): string[] => s.updates().flatMap((u) => u.nlri.map((p) => `${p.addr}/${p.len}`));
    const withdrawn = (): string[] => s.updates().flatMap((u) => u.withdrawn.map((p) => `${p.addr}/${p.len}`));
    expect(announced().sort()).toEqual(['10.244.0.0/26', '10.245.0.0/26']);
    const r = speaker.setPeers([{ ...peer, filters: [{ name: 'f', exportV4: [{ action: 'Reject', cidr: '10.245.0.0/26', matchOperator: 'Equal' }] }] }]);
    expect(r).toMatchObject({ updated: ['10.0.0.2'], reset: [] });
    await tick();
    expect(withdrawn()).toEqual(['10.245.0.0/26']);
    expect(s.calls.filter((c) => c.startsWith('rr'))).toEqual([]); // export only: no refresh asked
    speaker.setPeers([{ ...peer, filters: [{ name: 'f', importV4: [{ action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'In' }] }] }]);
    await tick();
    expect(s.calls).toContain('rr ipv4-unicast 0');
    expect(s.calls.some((c) => c.startsWith('destroy') || c.startsWith('reset'))).toBe(false);
    await speaker.stop();
  });
});
