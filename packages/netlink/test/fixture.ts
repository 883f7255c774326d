/** Test helpers: commented hex fixtures ("# comment" to end of line) and message framing. */
import { forEachMsg, NlWriter, type NlMsg } from '../src/index.js';

/** Bytes of a commented hex fixture. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (clean.length % 2) throw new Error('odd hex length');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Encodes with a fresh writer and returns the bytes. */
export function encode(fn: (w: NlWriter) => void): Uint8Array {
  const w = new NlWriter(64);
  fn(w);
  return w.bytes();
}

/** The single message in `b`. */
export function oneMsg(b: Uint8Array): NlMsg {
  const msgs: NlMsg[] = [];
  forEachMsg(b, 0, b.length, (m) => msgs.push(m));
  if (msgs.length !== 1) throw new Error(`expected 1 message, got ${msgs.length}`);
  return msgs[0]!;
}
