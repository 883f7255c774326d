import { describe, expect, it } from 'vitest';
import { cidrContains, isTabbyError, type BlockAffinity, type IPAMBlock, type IPAMHandle, type IPPool } from '@tabby/api';
import { poll } from '@tabby/testkit';
import { dump, invariantProblems, node, pool, setup, state } from './helpers.js';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e: unknown) {
    return isTabbyError(e) ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
}

describe('autoAssign', () => {
  it('claims a block with the two-step affinity and records handle and attributes', async () => {
    const { ipam, mem } = await setup();
    const r = await ipam.autoAssign({ handle: 'k8s-pod-network.c1', node: 'n1', num4: 1, attrs: { namespace: 'default', pod: 'p1' } });
    expect(r.ipv6).toEqual([]);
    expect(r.ipv4).toHaveLength(1);
    expect(cidrContains('10.0.0.0/24', r.ipv4[0]!)).toBe(true);
    const s = await state(mem);
    expect(s.blocks).toHaveLength(1);
    const b = s.blocks[0]!;
    expect(b.metadata.name).toBe(b.spec.cidr.replace(/[./]/g, '-'));
    expect(b.spec.affinity).toBe('host:n1');
    expect(b.spec.attributes[0]!.handle_id).toBe('k8s-pod-network.c1');
    expect(b.spec.attributes[0]!.secondary).toMatchObject({ namespace: 'default', pod: 'p1', node: 'n1' });
    expect(b.spec.attributes[0]!.secondary!.timestamp).toMatch(/^2026-/);
    expect(s.affinities.map((a) => [a.metadata.name, a.spec.state])).toEqual([[`n1-${b.metadata.name}`, 'confirmed']]);
    expect(s.handles.map((h) => [h.metadata.name, h.spec.block])).toEqual([['k8s-pod-network.c1', { [b.spec.cidr]: 1 }]]);
    expect(await ipam.blocksForNode('n1')).toEqual([b.spec.cidr]);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('carves pools into blocks of their blockSize', async () => {
    const { ipam, mem } = await setup({ pools: [pool('v4', '10.0.0.0/24', { blockSize: 29 }), pool('v6', 'fd00::/120', { blockSize: 124 })] });
    await ipam.autoAssign({ handle: 'h', node: 'n1', num4: 9, num6: 17 });
    const cidrs = (await state(mem)).blocks.map((b) => b.spec.cidr);
    expect(cidrs.filter((c) => c.endsWith('/29'))).toHaveLength(2);
    expect(cidrs.filter((c) => c.endsWith('/124'))).toHaveLength(2);
    expect(cidrs).toHaveLength(4);
    expect((await state(mem)).blocks.every((b) => b.spec.allocations.length === (b.spec.cidr.endsWith('/29') ? 8 : 16))).toBe(true);
  });

  it('fills its own block before claiming another, and different nodes get different blocks', async () => {
    const { ipam, mem } = await setup();
    for (let i = 0; i < 64; i++) await ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1 });
    expect((await state(mem)).blocks).toHaveLength(1);
    await ipam.autoAssign({ handle: 'h64', node: 'n1', num4: 1 });
    expect(await ipam.blocksForNode('n1')).toHaveLength(2);
    await ipam.autoAssign({ handle: 'x', node: 'n2', num4: 1 });
    const n2 = await ipam.blocksForNode('n2');
    expect(n2).toHaveLength(1);
    expect(await ipam.blocksForNode('n1')).not.toContain(n2[0]);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('claims the next block ahead, in the background, when the current one runs low', async () => {
    const { mk, mem } = await setup();
    const ipam = mk({ claimAhead: true });
    for (let i = 0; i < 40; i++) await ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1 });
    await ipam.idle();
    expect(await ipam.blocksForNode('n1')).toHaveLength(1);
    for (let i = 40; i < 57; i++) await ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1 });
    await ipam.idle();
    expect(await ipam.blocksForNode('n1')).toHaveLength(2);
    expect(ipam.stats.claims).toBe(2);
    for (let i = 57; i < 70; i++) await ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1 });
    await ipam.idle();
    expect(ipam.stats.claims).toBe(2);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('borrows from another node\'s block when maxBlocksPerHost is reached, and not under strictAffinity', async () => {
    const { ipam, mem } = await setup({ pools: [pool('p', '10.0.0.0/25')], config: { maxBlocksPerHost: 1 } });
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 64 });
    await ipam.autoAssign({ handle: 'b', node: 'n2', num4: 1 });
    const r = await ipam.autoAssign({ handle: 'c', node: 'n1', num4: 2 });
    const n2block = (await ipam.blocksForNode('n2'))[0]!;
    expect(r.ipv4.every((ip) => cidrContains(n2block, ip))).toBe(true);
    const owners = await ipam.allBlockOwners();
    expect(owners.find((o) => o.cidr === n2block)).toMatchObject({ node: 'n2', borrowed: r.ipv4.map((ip) => ({ ip, node: 'n1' })) });
    await mem.update({ ...(await mem.get({ kind: 'IPAMConfiguration', name: 'default' })), spec: { strictAffinity: true, maxBlocksPerHost: 1, autoAllocateBlocks: true } });
    const before = await dump(mem);
    expect(await codeOf(ipam.autoAssign({ handle: 'd', node: 'n1', num4: 1 }))).toBe('PoolExhausted');
    expect(await dump(mem)).toBe(before);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('assigns IPv4 and IPv6 together, and releases the IPv4 when IPv6 fails', async () => {
    const { ipam, mem } = await setup({ pools: [pool('v4', '10.0.0.0/24'), pool('v6', 'fd00::/121', { blockSize: 122 })] });
    const r = await ipam.autoAssign({ handle: 'ds', node: 'n1', num4: 1, num6: 1 });
    expect(r.ipv4).toHaveLength(1);
    expect(r.ipv6[0]).toMatch(/^fd00::/);
    // Fill the v6 pool (128 addresses in two /122 blocks), then ask for both again.
    await ipam.autoAssign({ handle: 'fill', node: 'n2', num6: 127 });
    const before = (await state(mem)).blocks.flatMap((b) => b.spec.unallocated.length);
    expect(await codeOf(ipam.autoAssign({ handle: 'ds2', node: 'n1', num4: 1, num6: 1 }))).toBe('PoolExhausted');
    expect((await state(mem)).blocks.flatMap((b) => b.spec.unallocated.length)).toEqual(before);
    expect(await ipam.ipsByHandle('ds2')).toEqual([]);
    expect((await state(mem)).handles.map((h) => h.metadata.name).sort()).toEqual(['ds', 'fill']);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('follows node labels at request time; existing allocations stay', async () => {
    const { ipam, mem } = await setup({
      pools: [pool('a', '10.0.0.0/24', { nodeSelector: "zone == 'a'" }), pool('b', '10.1.0.0/24', { nodeSelector: "zone == 'b'" })],
      nodes: [node('n1', { zone: 'a' })],
    });
    const first = await ipam.autoAssign({ handle: 'h1', node: 'n1', num4: 1 });
    expect(cidrContains('10.0.0.0/24', first.ipv4[0]!)).toBe(true);
    await mem.update({ ...(await mem.get({ kind: 'Node', name: 'n1' })), metadata: { name: 'n1', labels: { zone: 'b' } } });
    const second = await ipam.autoAssign({ handle: 'h2', node: 'n1', num4: 1 });
    expect(cidrContains('10.1.0.0/24', second.ipv4[0]!)).toBe(true);
    expect(await ipam.ipsByHandle('h1')).toEqual(first.ipv4);
  });

  it('with started caches, follows pool and node changes through the watch', async () => {
    const { mk, mem } = await setup({
      pools: [pool('a', '10.0.0.0/24', { nodeSelector: "zone == 'a'" }), pool('b', '10.1.0.0/24', { nodeSelector: "zone == 'b'" })],
      nodes: [node('n1', { zone: 'a' })],
    });
    const ipam = mk();
    await ipam.start();
    try {
      expect(cidrContains('10.0.0.0/24', (await ipam.autoAssign({ handle: 'h0', node: 'n1', num4: 1 })).ipv4[0]!)).toBe(true);
      await mem.update({ ...(await mem.get({ kind: 'Node', name: 'n1' })), metadata: { name: 'n1', labels: { zone: 'b' } } });
      let i = 1;
      await poll(async () => cidrContains('10.1.0.0/24', (await ipam.autoAssign({ handle: `h${i++}`, node: 'n1', num4: 1 })).ipv4[0]!), { what: 'the relabelled node to use pool b' });
      const b = await mem.get<IPPool>({ kind: 'IPPool', name: 'b' });
      await mem.update({ ...b, spec: { ...b.spec, disabled: true } });
      await poll(async () => (await codeOf(ipam.autoAssign({ handle: 'x', node: 'n1', num4: 1 }))) === 'NoPoolForNode', { what: 'the disabled pool to be seen' });
      await mem.create(node('n9'));
      await ipam.autoAssign({ handle: 'new-node', node: 'n9', num4: 1, pools4: ['a'] });
    } finally {
      await ipam.stop();
    }
  });

  it('honours the namespace selector', async () => {
    const { ipam } = await setup({ pools: [pool('gen', '10.0.0.0/24'), pool('team', '10.9.0.0/24', { namespaceSelector: "team == 'x'", nodeSelector: 'all()' })] });
    const explicit = await ipam.autoAssign({ handle: 'h1', node: 'n1', num4: 1, pools4: ['team'] });
    expect(cidrContains('10.9.0.0/24', explicit.ipv4[0]!)).toBe(true);
    const other = await ipam.autoAssign({ handle: 'h2', node: 'n1', num4: 1, namespaceLabels: { team: 'y' } });
    expect(cidrContains('10.0.0.0/24', other.ipv4[0]!)).toBe(true);
  });

  it('refuses an explicit claim beyond maxBlocksPerHost', async () => {
    const { ipam, mem } = await setup({ config: { maxBlocksPerHost: 1 } });
    await ipam.claimAffinity('n1', '10.0.0.0/26');
    await ipam.claimAffinity('n1', '10.0.0.0/26'); // idempotent
    const before = await dump(mem);
    expect(await codeOf(ipam.claimAffinity('n1', '10.0.0.64/26'))).toBe('MaxBlocksReached');
    expect(await dump(mem)).toBe(before);
    expect(await codeOf(ipam.claimAffinity('n2', '10.0.0.0/26'))).toBe('BlockOwnedByOtherNode');
  });

  it('assigns a specific address once', async () => {
    const { ipam, mem } = await setup();
    expect(await ipam.assignIp({ ip: '10.0.0.77', handle: 'fixed', node: 'n1' })).toBe('10.0.0.77');
    expect(await ipam.blocksForNode('n1')).toEqual(['10.0.0.64/26']);
    expect(await codeOf(ipam.assignIp({ ip: '10.0.0.77', handle: 'other', node: 'n2' }))).toBe('AddressInUse');
    expect(await codeOf(ipam.assignIp({ ip: '10.9.0.1', handle: 'other', node: 'n2' }))).toBe('PoolNotFound');
    expect(await invariantProblems(mem)).toEqual([]);
  });
});

describe('tunnel addresses', () => {
  it('allocates one per node per encapsulation from pools that allow Tunnel, idempotently', async () => {
    const { ipam, mem } = await setup({
      pools: [
        pool('work', '10.0.0.0/24', { allowedUses: ['Workload'], ipipMode: 'Always', vxlanMode: 'Always' }),
        pool('plain', '10.100.0.0/24', { allowedUses: ['Tunnel'] }),
        pool('tun', '10.200.0.0/24', { allowedUses: ['Tunnel'], ipipMode: 'CrossSubnet', vxlanMode: 'Always' }),
      ],
    });
    const ipip = await ipam.tunnelAddress('n1', 'ipip');
    expect(cidrContains('10.200.0.0/24', ipip)).toBe(true);
    expect(await ipam.tunnelAddress('n1', 'ipip')).toBe(ipip);
    const vx = await ipam.tunnelAddress('n1', 'vxlan');
    expect(vx).not.toBe(ipip);
    const handles = (await state(mem)).handles.map((h) => h.metadata.name).sort();
    expect(handles).toEqual(['ipip-tunnel-addr-n1', 'vxlan-tunnel-addr-n1']);
    const w = await ipam.autoAssign({ handle: 'pod', node: 'n1', num4: 1 });
    expect(cidrContains('10.0.0.0/24', w.ipv4[0]!)).toBe(true);
  });

  it('needs a pool with that encapsulation on', async () => {
    const { ipam, mem } = await setup({ pools: [pool('tun', '10.200.0.0/24', { allowedUses: ['Tunnel'], vxlanMode: 'Always' })] });
    expect(cidrContains('10.200.0.0/24', await ipam.tunnelAddress('n1', 'vxlan'))).toBe(true);
    const before = await dump(mem);
    expect(await codeOf(ipam.tunnelAddress('n1', 'ipip'))).toBe('NoPoolForNode');
    expect(await dump(mem)).toBe(before);
  });
});

describe('release', () => {
  it('releases by handle and by address, idempotently, and never another handle\'s address', async () => {
    const { ipam, mem } = await setup();
    const a = await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 2 });
    const b = await ipam.autoAssign({ handle: 'b', node: 'n1', num4: 1 });
    expect((await ipam.releaseIps(b.ipv4, { handle: 'a' })).released).toEqual([]);
    expect((await ipam.releaseByHandle('a')).sort()).toEqual([...a.ipv4].sort());
    expect(await ipam.releaseByHandle('a')).toEqual([]);
    expect((await state(mem)).handles.map((h) => h.metadata.name)).toEqual(['b']);
    const r = await ipam.releaseIps([b.ipv4[0]!, '10.0.0.200']);
    expect(r).toEqual({ released: b.ipv4, notAllocated: ['10.0.0.200'] });
    expect((await ipam.releaseIps(b.ipv4)).released).toEqual([]);
    expect((await state(mem)).handles).toEqual([]);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('finds a handle\'s addresses by scanning blocks when the handle resource is gone', async () => {
    const { ipam, mem } = await setup();
    const a = await ipam.autoAssign({ handle: 'lost', node: 'n1', num4: 1 });
    const h = await mem.get<IPAMHandle>({ kind: 'IPAMHandle', name: 'lost' });
    await mem.delete({ kind: 'IPAMHandle', name: h.metadata.name });
    expect(await ipam.releaseByHandle('lost')).toEqual(a.ipv4);
  });

  it('releases an empty block\'s affinity only after the grace period', async () => {
    const { ipam, mem, clock } = await setup({ init: { emptyBlockGraceMs: 60_000 } });
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 1 });
    await ipam.releaseByHandle('a');
    expect((await ipam.gc({ live: [] })).releasedBlocks).toEqual([]);
    expect(await ipam.blocksForNode('n1')).toHaveLength(1);
    clock.advance(61_000);
    const r = await ipam.gc({ live: [] });
    expect(r.releasedBlocks).toHaveLength(1);
    expect(await ipam.blocksForNode('n1')).toEqual([]);
    const s = await state(mem);
    expect([s.blocks.length, s.affinities.length]).toEqual([0, 0]);
  });

  it('does not release a block that was reused during the grace period', async () => {
    const { ipam, clock } = await setup({ init: { emptyBlockGraceMs: 60_000 } });
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 1 });
    await ipam.releaseByHandle('a');
    clock.advance(30_000);
    await ipam.autoAssign({ handle: 'b', node: 'n1', num4: 1 });
    clock.advance(60_000);
    expect((await ipam.gc({ live: [{ handle: 'b', ips: [] }] })).releasedBlocks).toEqual([]);
    expect(await ipam.blocksForNode('n1')).toHaveLength(1);
  });

  it('releaseAffinity keeps a block that has addresses', async () => {
    const { ipam, mem } = await setup();
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 1 });
    const [cidr] = await ipam.blocksForNode('n1');
    expect(await ipam.releaseAffinity('n1', cidr!)).toBe('notEmpty');
    expect((await mem.list<BlockAffinity>({ kind: 'BlockAffinity' })).items[0]!.spec.state).toBe('confirmed');
    expect(await ipam.releaseAffinity('n1', cidr!, { requireEmpty: false })).toBe('cleared');
    expect((await mem.list<IPAMBlock>({ kind: 'IPAMBlock' })).items[0]!.spec.affinity).toBeUndefined();
    expect(await ipam.blocksForNode('n1')).toEqual([]);
    expect(await invariantProblems(mem)).toEqual([]);
  });
});
