import { describe, expect, it } from 'vitest';
import { isTabbyError, type TabbyError } from '@tabby/api';
import type { IpamErrorCode } from '@tabby/ipam';
import { dump, pool, setup } from './helpers.js';

async function rejected(p: Promise<unknown>): Promise<TabbyError<IpamErrorCode>> {
  try {
    await p;
  } catch (e: unknown) {
    if (isTabbyError<IpamErrorCode>(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('bad input: a typed error that says what to do, and nothing written', () => {
  const pools = [pool('small', '10.0.0.0/30', { blockSize: 30 }), pool('off', '10.1.0.0/24', { disabled: true }), pool('v6', 'fd00::/120')];
  const cases: [string, (ipam: Awaited<ReturnType<typeof setup>>['ipam']) => Promise<unknown>, IpamErrorCode, RegExp][] = [
    ['unknown pool', (i) => i.autoAssign({ handle: 'h', node: 'n1', num4: 1, pools4: ['nope'] }), 'PoolNotFound', /create it|fix the pool name/],
    ['disabled pool', (i) => i.autoAssign({ handle: 'h', node: 'n1', num4: 1, pools4: ['off'] }), 'PoolDisabled', /enable it/],
    ['full pool', (i) => i.autoAssign({ handle: 'h', node: 'n1', num4: 1, pools4: ['small'] }), 'PoolExhausted', /release unused|add a pool/],
    ['invalid handle', (i) => i.autoAssign({ handle: 'bad handle/!', node: 'n1', num4: 1 }), 'InvalidHandle', /letters, digits/],
    ['empty handle', (i) => i.releaseByHandle(''), 'InvalidHandle', /handle ID/],
    ['no addresses asked', (i) => i.autoAssign({ handle: 'h', node: 'n1' }), 'InvalidRequest', /at least one/],
    ['negative count', (i) => i.autoAssign({ handle: 'h', node: 'n1', num4: -1 }), 'InvalidRequest', /integer/],
    ['unknown node', (i) => i.autoAssign({ handle: 'h', node: 'ghost', num4: 1 }), 'NodeNotFound', /register the node/],
    ['no pool for family', (i) => i.autoAssign({ handle: 'h', node: 'n1', num4: 1, num6: 1, pools6: ['small'] }), 'InvalidRequest', /not an IPv6 pool/],
    ['address in a disabled pool', (i) => i.assignIp({ ip: '10.1.0.5', handle: 'h', node: 'n1' }), 'PoolDisabled', /enable the pool/],
    ['malformed address', (i) => i.releaseIps(['10.0.0.300']), 'InvalidRequest', /not an IP address/],
    ['malformed block', (i) => i.claimAffinity('n1', '10.0.0/26'), 'InvalidRequest', /not a CIDR/],
    ['not a block of the pool', (i) => i.claimAffinity('n1', '10.0.0.0/29'), 'InvalidRequest', /not a block of pool/],
  ];
  for (const [name, call, code, msg] of cases) {
    it(name, async () => {
      const { ipam, mem } = await setup({ pools });
      // Fill the small pool first where that case needs it.
      if (code === 'PoolExhausted') await ipam.autoAssign({ handle: 'filler', node: 'n2', num4: 4, pools4: ['small'] });
      const before = await dump(mem);
      const e = await rejected(call(ipam));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(msg);
      expect(await dump(mem)).toBe(before);
    });
  }
});
