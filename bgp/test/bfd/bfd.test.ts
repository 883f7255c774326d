/** BFD (RFC 5880) packet codec and the asynchronous-mode reducer: two sessions wired back to back. */
import { describe, expect, it } from 'vitest';
import { BfdDiag, BfdState, bfdStep, decodeBfd, encodeBfd, initialBfd, type BfdAction, type BfdEvent, type BfdPacket, type BfdSession } from '../../src/bfd/index.js';
import { hex } from '../codec/hex.js';

const CFG = { minTxMs: 300, minRxMs: 300, multiplier: 3 };

describe('BFD Control packet (RFC 5880 §4.1)', () => {
  it('round-trips and matches the wire layout', () => {
    const p: BfdPacket = { diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscriminator: 7, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 300_000, requiredMinEchoRxUs: 0 };
    const b = encodeBfd(p);
    expect(b).toEqual(hex(`20 // version 1, diag 0
      40 // state Down, no flags
      03 18 // detect mult 3, length 24
      00000007 00000000 // discriminators
      000f4240 000493e0 00000000 // 1 s, 300 ms, no echo`));
    expect(decodeBfd(b)).toEqual(p);
  });

  it.each([
    ['version 0', (b: Uint8Array) => void (b[0] = 0x00), 'version'],
    ['detect mult 0', (b: Uint8Array) => void (b[2] = 0), 'Detect Mult'],
    ['M bit', (b: Uint8Array) => void (b[1]! |= 1), 'M bit'],
    ['A bit', (b: Uint8Array) => void (b[1]! |= 4), 'length field'],
    ['my discriminator 0', (b: Uint8Array) => void b.fill(0, 4, 8), 'My Discriminator'],
    ['your discriminator 0 in Up', (b: Uint8Array) => void (b[1] = 0xc0), 'Your Discriminator'],
    ['length beyond the datagram', (b: Uint8Array) => void (b[3] = 40), 'exceeds'],
  ])('discards a packet with %s (§6.8.6)', (_n, mutate, reason) => {
    const b = encodeBfd({ diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscriminator: 7, yourDiscriminator: 0, desiredMinTxUs: 1, requiredMinRxUs: 1, requiredMinEchoRxUs: 0 });
    mutate(b);
    expect(decodeBfd(b)).toMatchObject({ discard: expect.stringContaining(reason) });
  });
});

/** Two sessions that deliver each other's sends at once; returns upward events per side. */
function pair(): { a: BfdSession; b: BfdSession; ups: Record<'a' | 'b', string[]>; run(side: 'a' | 'b', e: BfdEvent): void; cut: { on: boolean } } {
  const w = { a: initialBfd(CFG, 11, 1), b: initialBfd(CFG, 22, 2), ups: { a: [] as string[], b: [] as string[] }, cut: { on: false } };
  const run = (side: 'a' | 'b', e: BfdEvent): void => {
    const r = bfdStep(w[side], e);
    w[side] = r.state;
    const other = side === 'a' ? 'b' : 'a';
    for (const act of r.actions as BfdAction[]) {
      if (act.type === 'up') w.ups[side].push('up');
      if (act.type === 'down') w.ups[side].push(`down ${act.diag}`);
      if (act.type === 'send' && !w.cut.on) {
        const d = decodeBfd(encodeBfd(act.packet));
        if ('discard' in d) throw new Error(d.discard);
        run(other, { type: 'packet', packet: d });
      }
    }
  };
  return Object.assign(w, { run }) as ReturnType<typeof pair>;
}

describe('BFD asynchronous mode (RFC 5880 §6.8.6)', () => {
  it('Down → Init → Up on both sides with the three-way handshake, then the poll sequence ends', () => {
    const w = pair();
    w.run('a', { type: 'start' });
    w.run('b', { type: 'start' });
    w.run('a', { type: 'timer', timer: 'tx' });
    expect(w.a.state).toBe(BfdState.Up);
    expect(w.b.state).toBe(BfdState.Up);
    expect(w.ups).toEqual({ a: ['up'], b: ['up'] });
    expect(w.a.polling || w.b.polling).toBe(false);
  });

  it('detection time expiry takes the session Down (diag 1); the other side follows (diag 3) when packets flow again, then both recover', () => {
    const w = pair();
    w.run('a', { type: 'start' });
    w.run('b', { type: 'start' });
    w.run('a', { type: 'timer', timer: 'tx' });
    w.cut.on = true;
    w.run('a', { type: 'timer', timer: 'detect' });
    expect(w.a.state).toBe(BfdState.Down);
    expect(w.ups.a).toEqual(['up', `down ${BfdDiag.ControlDetectionTimeExpired}`]);
    w.cut.on = false;
    w.run('a', { type: 'timer', timer: 'tx' }); // a says Down → b goes Down (neighbour signalled)
    expect(w.ups.b.slice(0, 2)).toEqual(['up', `down ${BfdDiag.NeighborSignaledSessionDown}`]);
    // and the two sessions come back Up through the handshake
    expect([w.a.state, w.b.state]).toEqual([BfdState.Up, BfdState.Up]);
  });

  it('arms the detection timer at remote multiplier × max(our minRx, their minTx) and tx with at most 25 % jitter', () => {
    const w = pair();
    w.run('a', { type: 'start' });
    w.run('b', { type: 'start' });
    w.run('a', { type: 'timer', timer: 'tx' });
    const r = bfdStep(w.a, { type: 'packet', packet: { diag: 0, state: BfdState.Up, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscriminator: 22, yourDiscriminator: 11, desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, requiredMinEchoRxUs: 0 } });
    expect(r.actions).toContainEqual({ type: 'arm', timer: 'detect', ms: 900 });
    const tx = bfdStep(w.a, { type: 'timer', timer: 'tx' }).actions.find((x) => x.type === 'arm');
    expect(tx && tx.type === 'arm' && tx.ms >= 225 && tx.ms <= 300).toBe(true);
  });
});
