/**
 * IPv4 / IPv6 text ⇄ bytes, without node:net (pure). Parsing validates fully and returns
 * `undefined` on malformed text; formatting follows RFC 5952 (lower case, longest zero run
 * compressed, ties to the first). Addresses are network byte order.
 */

/** An address family as a number: 4 or 6. */
export type IpFamily = 4 | 6;

/** Parses dotted-quad IPv4 into `out[off..off+4)`; returns false when malformed. */
export function writeIpv4(text: string, out: Uint8Array, off: number): boolean {
  let part = 0;
  let digits = 0;
  let idx = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || idx === 3) return false;
      out[off + idx++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return false; // no leading zeros (ambiguous octal)
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return false;
    } else return false;
  }
  if (digits === 0 || idx !== 3) return false;
  out[off + 3] = part;
  return true;
}

/** Parses IPv6 text (RFC 4291 §2.2, including an embedded IPv4 tail) into 16 bytes at `off`. */
export function writeIpv6(text: string, out: Uint8Array, off: number): boolean {
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return false;
  const groups: number[] = [];
  const parseSide = (s: string, allowV4: boolean): number[] | undefined => {
    if (s === '') return [];
    const parts = s.split(':');
    const res: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (allowV4 && i === parts.length - 1 && p.includes('.')) {
        const b = new Uint8Array(4);
        if (!writeIpv4(p, b, 0)) return undefined;
        res.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        res.push(parseInt(p, 16));
      }
    }
    return res;
  };
  if (dbl >= 0) {
    const head = parseSide(text.slice(0, dbl), false);
    const tail = parseSide(text.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return false;
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseSide(text, true);
    if (!all || all.length !== 8) return false;
    groups.push(...all);
  }
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = groups[i]! >> 8;
    out[off + 2 * i + 1] = groups[i]! & 0xff;
  }
  return true;
}

/** Parses an address of either family; `undefined` when malformed. */
export function parseIp(text: string): { family: IpFamily; bytes: Uint8Array } | undefined {
  if (text.includes(':')) {
    const b = new Uint8Array(16);
    return writeIpv6(text, b, 0) ? { family: 6, bytes: b } : undefined;
  }
  const b = new Uint8Array(4);
  return writeIpv4(text, b, 0) ? { family: 4, bytes: b } : undefined;
}

/** The family of an address text (by the presence of ':'); validation happens when encoding. */
export function familyOf(text: string): IpFamily {
  return text.includes(':') ? 6 : 4;
}

/** Formats 4 or 16 bytes at `off` as text (RFC 5952 for IPv6). */
export function formatIp(buf: Uint8Array, off: number, len: number): string {
  if (len === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single 0 group is not compressed
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Splits `addr/len` (len defaults to the full length); `undefined` when malformed. */
export function parsePrefix(text: string): { family: IpFamily; bytes: Uint8Array; len: number } | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ...ip, len: max };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  return len <= max ? { ...ip, len } : undefined;
}

/** Parses a MAC address `aa:bb:cc:dd:ee:ff` into 6 bytes; `undefined` when malformed. */
export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Formats link-layer address bytes as lower-case colon-separated hex. */
export function formatMac(buf: Uint8Array, off: number, len: number): string {
  const out: string[] = [];
  for (let i = 0; i < len; i++) out.push(buf[off + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}
