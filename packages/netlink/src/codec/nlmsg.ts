/**
 * nlmsghdr-level codec: the NLMSG_ERROR ack (struct nlmsgerr + extended-ack TLVs) and the
 * generic message framing shared by every rtnetlink family.
 *
 * Layout of an ack (netlink.h): nlmsghdr | s32 error | the request's nlmsghdr (and its payload
 * unless NLM_F_CAPPED) | TLVs when NLM_F_ACK_TLVS (NLMSGERR_ATTR_MSG: NUL-terminated text).
 */
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_HDRLEN, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS } from './constants.js';
import { DecodeError, forEachAttr, s32, str, u32, type NlMsg } from './reader.js';

/** A decoded NLMSG_ERROR: `errno` 0 is a positive ack. */
export interface NlAck {
  /** Positive errno (the kernel sends it negated), 0 for success. */
  errno: number;
  /** Sequence number of the request this acknowledges. */
  seq: number;
  /** NLMSGERR_ATTR_MSG: the kernel's explanation, when extended acks are on. */
  extAck?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  badAttrOffset?: number;
}

/** Decodes the NLMSG_ERROR message `m` in `buf`. */
export function decodeAck(buf: Uint8Array, m: NlMsg): NlAck {
  const p = m.off + NLMSG_HDRLEN;
  const end = m.off + m.len;
  if (end - p < 4 + NLMSG_HDRLEN) throw new DecodeError(`NLMSG_ERROR of ${m.len} bytes is too short`);
  const error = s32(buf, p);
  const origSeq = u32(buf, p + 4 + 8);
  const ack: NlAck = { errno: error === 0 ? 0 : -error, seq: m.seq || origSeq };
  if (m.flags & NLM_F_ACK_TLVS) {
    // NLM_F_CAPPED: only the request's header was echoed; else its full (aligned) length.
    const origLen = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : (u32(buf, p + 4) + 3) & ~3;
    const tlv = p + 4 + origLen;
    if (tlv <= end) {
      forEachAttr(buf, tlv, end, (type, at, len) => {
        if (type === NLMSGERR_ATTR_MSG) ack.extAck = str(buf, at, len);
        else if (type === NLMSGERR_ATTR_OFFS && len >= 4) ack.badAttrOffset = u32(buf, at);
      });
    }
  }
  return ack;
}
