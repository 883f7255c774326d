import { describe, expect, it } from 'vitest';
import { decodeAck, DecodeError, forEachAttr, forEachMsg, NLMSG_ERROR } from '../../src/index.js';
import { hex, oneMsg } from '../fixture.js';

describe('nlmsgerr (ack) codec', () => {
  it('decodes an error ack with an extended-ack message (NETLINK_CAP_ACK + NETLINK_EXT_ACK)', () => {
    const b = hex(`
      44000000 # nlmsg_len 68
      0200     # NLMSG_ERROR
      0003     # NLM_F_CAPPED|NLM_F_ACK_TLVS
      07000000 # seq 7 (the request's)
      d2040000 # pid
      9bffffff # error -101 (ENETUNREACH)
      2c000000 1800 0506 07000000 00000000 # the request's nlmsghdr (capped: no payload)
      2000 0100 4e657874686f702068617320696e76616c69642067617465776179 00 # NLMSGERR_ATTR_MSG "Nexthop has invalid gateway"
    `);
    const m = oneMsg(b);
    expect(m.type).toBe(NLMSG_ERROR);
    expect(decodeAck(b, m)).toEqual({ errno: 101, seq: 7, extAck: 'Nexthop has invalid gateway' });
  });

  it('decodes a positive ack', () => {
    const b = hex(`
      24000000 0200 0001 03000000 d2040000 # len 36, NLMSG_ERROR, NLM_F_CAPPED, seq 3
      00000000                             # error 0: success
      2c000000 1800 0506 03000000 00000000 # request header
    `);
    expect(decodeAck(b, oneMsg(b))).toEqual({ errno: 0, seq: 3 });
  });

  it('walks several messages in one datagram and rejects bad lengths', () => {
    const two = hex(`
      14000000 0300 0200 01000000 00000000 00000000 # NLMSG_DONE, 20 bytes
      14000000 0300 0200 02000000 00000000 00000000 # NLMSG_DONE, seq 2
    `);
    const seqs: number[] = [];
    forEachMsg(two, 0, two.length, (m) => seqs.push(m.seq));
    expect(seqs).toEqual([1, 2]);
    const bad = hex('ff000000 0300 0200 01000000 00000000');
    expect(() => forEachMsg(bad, 0, bad.length, () => undefined)).toThrow(DecodeError);
    const badAttr = hex('0900 0100 0000');
    expect(() => forEachAttr(badAttr, 0, badAttr.length, () => undefined)).toThrow(DecodeError);
  });
});
