/**
 * Capabilities (RFC 5492 §4): code, length, value. Known codes are decoded by meaning, unknown
 * ones are kept raw (and ignored by the session, RFC 5492 §5).
 *
 * Invariant: a known capability whose value has the wrong length is a malformed optional
 * parameter, RFC 4271 §6.2 → OPEN Message Error, subcode 0 (unspecific).
 */
import { checkUint, encodeError, openError } from './errors.js';
import { ByteWriter, copyBytes, rd16, rd32 } from './writer.js';
import type { Capability } from './types.js';

/** IANA capability codes. */
export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  ExtendedMessage: 6,
  GracefulRestart: 64,
  FourOctetAs: 65,
  AddPath: 69,
  EnhancedRouteRefresh: 70,
} as const;

function malformed(what: string): Error {
  // RFC 4271 §6.2: a recognised optional parameter that is malformed → subcode 0.
  return openError(0, `malformed capability: ${what}`);
}

function expectLen(code: number, len: number, want: number): void {
  if (len !== want) throw malformed(`code ${code} has length ${len}, expected ${want}`);
}

/** Decodes one capability value `b[p..p+len)` of `code`. */
export function decodeCapability(code: number, b: Uint8Array, p: number, len: number): Capability {
  switch (code) {
    case CapabilityCode.Multiprotocol:
      expectLen(code, len, 4); // RFC 4760 §8: AFI(2) reserved(1) SAFI(1)
      return { type: 'multiprotocol', afi: rd16(b, p), safi: b[p + 3]! };
    case CapabilityCode.RouteRefresh:
      expectLen(code, len, 0); // RFC 2918 §2
      return { type: 'route-refresh' };
    case CapabilityCode.ExtendedMessage:
      expectLen(code, len, 0); // RFC 8654 §3
      return { type: 'extended-message' };
    case CapabilityCode.EnhancedRouteRefresh:
      expectLen(code, len, 0); // RFC 7313 §3.1
      return { type: 'enhanced-route-refresh' };
    case CapabilityCode.FourOctetAs:
      expectLen(code, len, 4); // RFC 6793 §3
      return { type: 'four-octet-as', asn: rd32(b, p) };
    case CapabilityCode.GracefulRestart: {
      // RFC 4724 §3: flags(4 bits) + restart time(12 bits), then (AFI, SAFI, flags) tuples.
      if (len < 2 || (len - 2) % 4 !== 0) throw malformed(`graceful restart length ${len}`);
      const head = rd16(b, p);
      const families: Array<{ afi: number; safi: number; forwardingState: boolean }> = [];
      for (let q = p + 2; q < p + len; q += 4) {
        families.push({ afi: rd16(b, q), safi: b[q + 2]!, forwardingState: (b[q + 3]! & 0x80) !== 0 });
      }
      return {
        type: 'graceful-restart',
        restarting: (head & 0x8000) !== 0,
        notification: (head & 0x4000) !== 0, // RFC 8538 §2
        restartTime: head & 0x0fff,
        families,
      };
    }
    case CapabilityCode.AddPath: {
      // RFC 7911 §4: (AFI(2), SAFI(1), Send/Receive(1)) tuples.
      if (len % 4 !== 0) throw malformed(`ADD-PATH length ${len}`);
      const families: Array<{ afi: number; safi: number; mode: 1 | 2 | 3 }> = [];
      for (let q = p; q < p + len; q += 4) {
        const mode = b[q + 3]!;
        // RFC 7911 §4: only 1 (receive), 2 (send), 3 (both) are defined; others are skipped.
        if (mode >= 1 && mode <= 3) families.push({ afi: rd16(b, q), safi: b[q + 2]!, mode: mode as 1 | 2 | 3 });
      }
      return { type: 'add-path', families };
    }
    default:
      return { type: 'unknown', code, value: copyBytes(b, p, p + len) };
  }
}

/** Decodes the capabilities packed in one Capabilities optional parameter value. */
export function decodeCapabilities(b: Uint8Array, p: number, end: number, out: Capability[]): void {
  while (p < end) {
    if (p + 2 > end) throw malformed('truncated capability header');
    const code = b[p]!;
    const len = b[p + 1]!;
    p += 2;
    if (p + len > end) throw malformed(`capability ${code} overruns its parameter`);
    out.push(decodeCapability(code, b, p, len));
    p += len;
  }
}

/** Appends one capability (code, length, value) to `w`; EncodeError when its value exceeds 255 octets. */
export function encodeCapability(c: Capability, w: ByteWriter): void {
  const n = c.type === 'unknown' ? c.value.length : c.type === 'graceful-restart' || c.type === 'add-path' ? 4 * c.families.length : 0;
  if (n > 253) throw encodeError(`capability ${c.type} is too long (${n} octets)`);
  checkCapability(c);
  switch (c.type) {
    case 'multiprotocol':
      w.u8(CapabilityCode.Multiprotocol); w.u8(4); w.u16(c.afi); w.u8(0); w.u8(c.safi);
      return;
    case 'route-refresh':
      w.u8(CapabilityCode.RouteRefresh); w.u8(0);
      return;
    case 'extended-message':
      w.u8(CapabilityCode.ExtendedMessage); w.u8(0);
      return;
    case 'enhanced-route-refresh':
      w.u8(CapabilityCode.EnhancedRouteRefresh); w.u8(0);
      return;
    case 'four-octet-as':
      w.u8(CapabilityCode.FourOctetAs); w.u8(4); w.u32(c.asn);
      return;
    case 'graceful-restart':
      w.u8(CapabilityCode.GracefulRestart); w.u8(2 + 4 * c.families.length);
      w.u16((c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | (c.restartTime & 0x0fff));
      for (const f of c.families) {
        w.u16(f.afi);
        w.u8(f.safi);
        w.u8(f.forwardingState ? 0x80 : 0);
      }
      return;
    case 'add-path':
      w.u8(CapabilityCode.AddPath); w.u8(4 * c.families.length);
      for (const f of c.families) {
        w.u16(f.afi);
        w.u8(f.safi);
        w.u8(f.mode);
      }
      return;
    case 'unknown':
      w.u8(c.code); w.u8(c.value.length); w.bytes(c.value);
      return;
  }
}

function checkFamily(f: { afi: number; safi: number }, what: string): void {
  checkUint(f.afi, 0xffff, `${what} AFI`);
  checkUint(f.safi, 255, `${what} SAFI`);
}

/** Range checks before encoding (EncodeError on values that do not fit their fields). */
function checkCapability(c: Capability): void {
  switch (c.type) {
    case 'multiprotocol':
      return checkFamily(c, 'multiprotocol');
    case 'four-octet-as':
      checkUint(c.asn, 0xffffffff, 'four-octet AS');
      return;
    case 'graceful-restart':
      checkUint(c.restartTime, 0x0fff, 'graceful restart time');
      for (const f of c.families) checkFamily(f, 'graceful restart');
      return;
    case 'add-path':
      for (const f of c.families) {
        checkFamily(f, 'ADD-PATH');
        checkUint(f.mode, 3, 'ADD-PATH send/receive', 1);
      }
      return;
    case 'unknown':
      checkUint(c.code, 255, 'capability code');
      return;
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return;
  }
}
