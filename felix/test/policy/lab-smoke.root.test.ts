import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyLab } from './lab.js';
import { np } from './fixtures.js';

describe('policy lab smoke (real kernel, nft)', () => {
  let lab: PolicyLab;
  beforeAll(async () => {
    lab = await PolicyLab.create({
      backend: 'nft',
      pods: [
        { ns: 'x', pod: 'a', ip: '10.65.0.1', labels: { pod: 'a' } },
        { ns: 'x', pod: 'b', ip: '10.65.0.2', labels: { pod: 'b' } },
      ],
      namespaces: { x: { ns: 'x' } },
    });
  });
  afterAll(async () => lab?.cleanup());

  it('allows by profile, then denies by policy', async () => {
    expect(await lab.probe([{ from: 'x/a', to: 'x/b', port: 80, proto: 'tcp' }, { from: 'x/a', to: 'x/b', port: 81, proto: 'udp' }, { from: 'x/a', to: 'x/b', port: 0, proto: 'icmp' }])).toEqual([true, true, true]);
    await lab.apply({ type: 'policy-update', policy: np('x', 'only-81', { selector: "pod == 'b'", ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [81] } }] }) });
    expect(await lab.probe([{ from: 'x/a', to: 'x/b', port: 80, proto: 'tcp' }, { from: 'x/a', to: 'x/b', port: 81, proto: 'tcp' }, { from: 'x/a', to: 'x/b', port: 81, proto: 'udp' }])).toEqual([false, true, false]);
  });
});
