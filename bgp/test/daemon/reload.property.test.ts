/**
 * Property: any sequence of reloads — valid files, files that fail the schema, files that parse
 * but fail session validation, files with duplicate peers — leaves the daemon running exactly
 * the last valid file: its peers (address, AS, settings), its originated prefixes, and its
 * reported configuration. A refused reload changes nothing; an accepted one reports exactly
 * the added / removed peers. Passive peers and no listener: no packet leaves the process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isTabbyError } from '@tabby/api';
import { BgpDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/session/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tabby-reload-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface GenPeer {
  address: string;
  asn: number;
  localAddress?: string;
  holdTime?: number;
  routeReflectorClient?: boolean;
}
interface GenFile {
  peers: GenPeer[];
  prefixes: string[];
  /** A schema error (not a session one): a negative hold time on the top level. */
  schemaError: boolean;
}

const ADDRS = ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', 'fd00::2', 'fd00::3'];
const peerArb: fc.Arbitrary<GenPeer> = fc.record(
  {
    address: fc.constantFrom(...ADDRS),
    asn: fc.constantFrom(65000, 65001),
    localAddress: fc.constantFrom('10.0.0.1', 'fd00::1'),
    holdTime: fc.constantFrom(3, 30, 90),
    routeReflectorClient: fc.boolean(),
  },
  { requiredKeys: ['address', 'asn'] },
);
const fileArb: fc.Arbitrary<GenFile> = fc.record({
  peers: fc.array(peerArb, { maxLength: 5 }),
  prefixes: fc.subarray(['10.244.0.0/26', '10.244.1.0/26', 'fd00:244::/64']),
  schemaError: fc.boolean().map((b) => b && Math.random() < 0.3),
});

const v6 = (a: string): boolean => a.includes(':');

/** What the daemon must make of a file: undefined when it must be refused. */
function expected(f: GenFile): GenPeer[] | undefined {
  if (f.schemaError) return undefined;
  const seen = new Set<string>();
  for (const p of f.peers) {
    if (seen.has(p.address)) return undefined; // duplicate peer
    seen.add(p.address);
    if (p.localAddress !== undefined && v6(p.localAddress) !== v6(p.address)) return undefined; // session validation
    if (p.routeReflectorClient && p.asn !== 65000) return undefined; // reflector clients are iBGP
  }
  return f.peers;
}

function render(f: GenFile): string {
  const peers = f.peers.map((p) => ({ ...p, passive: true }));
  return stringify({ routerId: '10.0.0.1', asn: 65000, clusterId: '10.0.0.1', listen: 'none', holdTime: f.schemaError ? -1 : 90, peers, prefixes: f.prefixes });
}

function check(d: BgpDaemon, peers: GenPeer[], prefixes: string[]): void {
  const st = d.speaker.status();
  expect(st.map((s) => `${s.address} ${s.asn}`).sort()).toEqual(peers.map((p) => `${p.address} ${p.asn}`).sort());
  expect(d.currentConfig.peers.map((p) => ({ address: p.address, asn: p.asn, localAddress: p.localAddress, holdTime: p.holdTime, rr: p.routeReflectorClient }))).toEqual(
    peers.map((p) => ({ address: p.address, asn: p.asn, localAddress: p.localAddress, holdTime: p.holdTime ?? 90, rr: p.routeReflectorClient ?? false })),
  );
  expect(d.rib.locRibSize('ipv4-unicast') + d.rib.locRibSize('ipv6-unicast')).toBe(prefixes.length);
}

describe('reload sequences (property)', () => {
  it('the running state is always the last valid file', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fileArb, fc.array(fileArb, { minLength: 1, maxLength: 8 }), async (first, steps) => {
        const file = join(dir, `c${run++}.yaml`);
        const initial = { ...first, schemaError: false, peers: expected({ ...first, schemaError: false }) ?? [] };
        writeFileSync(file, render(initial));
        const d = await BgpDaemon.start({ logger: silentLogger }, { configFile: file });
        try {
          let cur = initial;
          check(d, cur.peers, cur.prefixes);
          for (const step of steps) {
            writeFileSync(file, render(step));
            const want = expected(step);
            if (want === undefined) {
              let err: unknown;
              try {
                d.reload();
              } catch (e: unknown) {
                err = e;
              }
              expect(isTabbyError(err, 'InvalidConfig')).toBe(true);
              expect((err as Error).message).toContain(file);
            } else {
              const r = d.reload();
              const before = new Set(cur.peers.map((p) => p.address));
              const after = new Set(want.map((p) => p.address));
              expect(r.added.sort()).toEqual([...after].filter((a) => !before.has(a)).sort());
              expect(r.removed.sort()).toEqual([...before].filter((a) => !after.has(a)).sort());
              cur = { ...step, peers: want };
            }
            check(d, cur.peers, cur.prefixes);
          }
        } finally {
          await d.stop();
        }
      }),
      { numRuns: 60 },
    );
  });
});
