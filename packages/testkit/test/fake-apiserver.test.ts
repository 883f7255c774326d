// Unit tests (no root): the fake API server's merge patch (RFC 7386), as the CNI plugin sends it
// for a pod's annotations, and its refusal of other patch types.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergePatch, startFakeApiServer, type FakeApiServer } from '../src/index.js';

describe('fake API server: PATCH', () => {
  let api: FakeApiServer;
  beforeAll(async () => {
    api = await startFakeApiServer();
    await fetch(`${api.url}/api/v1/namespaces/ns/pods`, { method: 'POST', body: JSON.stringify({ metadata: { name: 'p', annotations: { keep: '1', drop: '2' } }, spec: { x: 1 } }) });
  });
  afterAll(() => api.close());

  const patch = (body: unknown, type = 'application/merge-patch+json'): Promise<Response> =>
    fetch(`${api.url}/api/v1/namespaces/ns/pods/p`, { method: 'PATCH', headers: { 'content-type': type }, body: JSON.stringify(body) });

  it('merges objects, removes keys set to null, bumps resourceVersion and emits MODIFIED', async () => {
    const before = (await (await fetch(`${api.url}/api/v1/namespaces/ns/pods/p`)).json()) as { metadata: { resourceVersion: string } };
    const res = await patch({ metadata: { annotations: { drop: null, added: '3' } } });
    expect(res.status).toBe(200);
    const obj = (await res.json()) as { metadata: { annotations: Record<string, string>; resourceVersion: string; name: string }; spec: unknown };
    expect(obj.metadata.annotations).toEqual({ keep: '1', added: '3' });
    expect(obj.metadata.name).toBe('p');
    expect(obj.spec).toEqual({ x: 1 });
    expect(Number(obj.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
  });

  it('refuses other patch types with 415, and a missing object with 404', async () => {
    expect((await patch([{ op: 'remove', path: '/spec' }], 'application/json-patch+json')).status).toBe(415);
    const res = await fetch(`${api.url}/api/v1/namespaces/ns/pods/none`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{}' });
    expect(res.status).toBe(404);
  });

  it('mergePatch follows RFC 7386 (arrays replace, null deletes, non-objects replace)', () => {
    expect(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } })).toEqual({ a: 'z', c: { d: 'e' } });
    expect(mergePatch({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    expect(mergePatch({ a: 'b' }, ['c'])).toEqual(['c']);
    expect(mergePatch('x', { a: { b: null } })).toEqual({ a: {} });
  });
});
