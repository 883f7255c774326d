// Root test: namespace switching, only into namespaces created by TestNet.
import { closeSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestNet, type Netns } from '@tabby/testkit';
import { native, Netlink, openNetlinkSocket, NetlinkError, NetlinkSocket, openNetnsFd, runQuery, withNetns, encodeLinkDump, decodeLink, RTM_NEWLINK } from '../src/index.js';

const isRoot = process.getuid?.() === 0;
const here = (): string => readlinkSync('/proc/thread-self/ns/net');

describe.skipIf(!isRoot)('withNetns', () => {
  const net = new TestNet();
  let ns: Netns;

  beforeAll(async () => {
    ns = await net.netns('ns');
    await ns.ip('link', 'add', 'only0', 'type', 'veth', 'peer', 'name', 'only1');
  });

  afterAll(async () => {
    await net.cleanup();
  });

  it('runs a function inside the namespace (by name, path or fd) and switches back', () => {
    const before = here();
    const inside = withNetns(ns.name, here);
    expect(inside).not.toBe(before);
    expect(here()).toBe(before);
    expect(withNetns(ns.path, here)).toBe(inside);
    const fd = openNetnsFd(ns.name);
    try {
      expect(withNetns(fd, here)).toBe(inside);
    } finally {
      closeSync(fd);
    }
    expect(here()).toBe(before);
  });

  it('switches back when the function throws, and rethrows the same error', () => {
    const before = here();
    const boom = new Error('boom');
    expect(() => withNetns(ns.name, () => { throw boom; })).toThrow(boom);
    expect(here()).toBe(before);
  });

  it('keeps a socket created inside bound to that namespace', async () => {
    const raw = withNetns(ns.name, () => new (native().Socket)(0, 0));
    const sock = new NetlinkSocket(raw);
    try {
      const links = await runQuery(sock, { what: { op: 'link.list', summary: '' }, encode: encodeLinkDump, decode: (b, m) => (m.type === RTM_NEWLINK ? decodeLink(b, m).name : undefined) });
      expect(links).toEqual(expect.arrayContaining(['only0', 'only1']));
    } finally {
      sock.close();
    }
  });

  it('opens a netlink socket directly in a namespace', async () => {
    const sock = openNetlinkSocket({ netns: ns.name });
    try {
      const links = await runQuery(sock, { what: { op: 'link.list', summary: '' }, encode: encodeLinkDump, decode: (b, m) => (m.type === RTM_NEWLINK ? decodeLink(b, m).name : undefined) });
      expect(links).toEqual(expect.arrayContaining(['only0', 'only1']));
    } finally {
      sock.close();
    }
  });

  it('fails with a typed error for a namespace that does not exist', async () => {
    let err: unknown;
    try {
      withNetns(`${net.prefix}missing`, () => 1);
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('NETLINK_SYSCALL');
    expect((err as NetlinkError).errno).toBe(2);
    await expect(Netlink.open({ netns: `${net.prefix}missing` })).rejects.toMatchObject({ code: 'NETLINK_SYSCALL' });
  });
});
