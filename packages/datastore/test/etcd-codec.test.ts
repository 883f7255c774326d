import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, etcdKey, etcdPrefix, parseEtcdKey, rangeEnd } from '../src/etcd-codec.js';

describe('etcd key layout', () => {
  it('builds and parses keys', () => {
    expect(etcdKey('/tabby/', { kind: 'IPPool', name: 'p' })).toBe('/tabby/IPPool/_/p');
    expect(etcdKey('/tabby/', { kind: 'WorkloadEndpoint', namespace: 'ns', name: 'w' })).toBe('/tabby/WorkloadEndpoint/ns/w');
    expect(parseEtcdKey('/tabby/', '/tabby/IPPool/_/p')).toEqual({ kind: 'IPPool', name: 'p' });
    expect(parseEtcdKey('/tabby/', '/tabby/WorkloadEndpoint/ns/w')).toEqual({ kind: 'WorkloadEndpoint', namespace: 'ns', name: 'w' });
    expect(etcdPrefix('/tabby/', { kind: 'IPPool' })).toBe('/tabby/IPPool/');
    expect(etcdPrefix('/tabby/', { kind: 'WorkloadEndpoint', namespace: 'ns' })).toBe('/tabby/WorkloadEndpoint/ns/');
  });

  it('refuses names with a slash', () => {
    expect(() => etcdKey('/tabby/', { kind: 'IPPool', name: 'a/b' })).toThrow(/must not contain/);
  });

  it('computes the range end of a prefix', () => {
    expect(rangeEnd('/tabby/IPPool/').toString()).toBe('/tabby/IPPool0');
    expect([...rangeEnd(Buffer.from([0x61, 0xff]).toString('latin1'))]).toEqual([0x61, 0xc3, 0xc0]);
  });

  it('stores values without the revision and restores it from the mod revision', () => {
    const v = encodeValue({ apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'p', resourceVersion: '3' }, spec: {} });
    expect(JSON.parse(v.toString()).metadata).toEqual({ name: 'p' });
    expect(decodeValue(v, '9', 'k').metadata.resourceVersion).toBe('9');
    expect(() => decodeValue(Buffer.from('{'), '9', 'k')).toThrow(/invalid JSON/);
  });
});
