/** Test helpers: commented hex fixtures and UPDATE builders. */

/** Parses hex text; `//` comments run to the end of the line; whitespace is ignored. */
export function hex(text: string): Uint8Array {
  const clean = text
    .split('\n')
    .map((l) => l.replace(/\/\/.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex fixture: ${clean}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** A whole message of `type` around `body` (marker and length computed). */
export function message(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(19 + body.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >> 8;
  out[17] = out.length & 255;
  out[18] = type;
  out.set(body, 19);
  return out;
}

/** An UPDATE from hex parts: withdrawn field, attributes (concatenated), NLRI field. */
export function update(parts: { withdrawn?: string; attrs?: string[]; nlri?: string }): Uint8Array {
  const w = hex(parts.withdrawn ?? '');
  const a = hex((parts.attrs ?? []).join('\n'));
  const n = hex(parts.nlri ?? '');
  const body = new Uint8Array(4 + w.length + a.length + n.length);
  body[0] = w.length >> 8;
  body[1] = w.length & 255;
  body.set(w, 2);
  body[2 + w.length] = a.length >> 8;
  body[3 + w.length] = a.length & 255;
  body.set(a, 4 + w.length);
  body.set(n, 4 + w.length + a.length);
  return message(2, body);
}
