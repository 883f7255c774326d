/**
 * Robustness: arbitrary input never crashes validation with anything but the
 * documented errors, and mutations of valid documents either validate or name a field.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KINDS, validateResource, ValidationError } from '../../src/index.js';

const SAMPLES: Record<string, unknown> = {
  IPPool: { cidr: '10.0.0.0/16', blockSize: 26, ipipMode: 'Always', natOutgoing: true, nodeSelector: 'all()' },
  BGPPeer: { peerIP: '10.0.0.1', asNumber: 65001, nodeSelector: 'has(tor)' },
  NetworkPolicy: { selector: 'a == "b"', ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }] },
  IPAMBlock: { cidr: '10.0.0.0/30', allocations: [0, null, null, null], unallocated: [1, 2, 3], attributes: [{ handle_id: 'h' }] },
  Node: { bgp: { ipv4Address: '10.0.0.1/24' } },
};

function expectOnlyValidationErrors(f: () => unknown): void {
  try {
    f();
  } catch (e: unknown) {
    if (!(e instanceof ValidationError)) throw e;
    for (const i of e.issues) {
      expect(typeof i.path).toBe('string');
      expect(i.message.length).toBeGreaterThan(0);
    }
  }
}

describe('validation robustness', () => {
  it('arbitrary JSON values give a ValidationError or a resource', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.jsonValue(), fc.jsonValue(), (kind, metadata, spec) => {
        expectOnlyValidationErrors(() => validateResource({ apiVersion: 'projectcalico.org/v3', kind, metadata, spec }));
        expectOnlyValidationErrors(() => validateResource({ apiVersion: 'tabby.dev/v1', kind, metadata: { name: 'x' }, spec }));
      }),
      { numRuns: 200 },
    );
  });

  it('replacing one spec field with junk is either accepted or reported', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(SAMPLES)), fc.jsonValue(), fc.nat(), (kind, junk, pick) => {
        const spec = { ...(SAMPLES[kind] as Record<string, unknown>) };
        const keys = Object.keys(spec);
        spec[keys[pick % keys.length] as string] = junk;
        expectOnlyValidationErrors(() => validateResource({ apiVersion: 'tabby.dev/v1', kind, metadata: { name: 'x' }, spec }));
      }),
      { numRuns: 500 },
    );
  });

  it('samples are valid', () => {
    for (const [kind, spec] of Object.entries(SAMPLES)) {
      expect(() => validateResource({ apiVersion: 'tabby.dev/v1', kind, metadata: { name: 'x' }, spec })).not.toThrow();
    }
  });

});
