/**
 * bgp-codec: throughput of the BGP codec on the route-ingestion hot path. Builds the UPDATEs a
 * BIRD source sends for N /32 routes (≈800 NLRI per 4 KiB UPDATE sharing one attribute set),
 * then measures: framing (MessageReader over 64 KiB chunks), full decoding (`decodeMessage`,
 * Prefix objects with text), the allocation-light `forEachNlri` walk, and encoding
 * (`encodeUpdates`). Prints prefixes/s (median of the runs). Pure CPU; creates nothing to clean.
 *
 * Args: [routes=1000000] [runs=5]
 */
import {
  decodeMessage,
  encodeUpdates,
  forEachIpv4Nlri,
  forEachNlri,
  locateUpdateFields,
  MessageReader,
  readMessageHeader,
  type CodecContext,
  type PathAttributes,
  type Prefix,
} from '@tabby/bgp';
import { emit, median, type Bench } from '../emit.js';

const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' };

function routes(n: number): Prefix[] {
  const out = new Array<Prefix>(n);
  for (let i = 0; i < n; i++) {
    const v = (0x0a000000 + i) >>> 0;
    out[i] = { afi: 1, addr: `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`, len: 32 };
  }
  return out;
}

interface Timing {
  /** Median wall-clock ms. */
  ms: number;
  /** Fastest run, wall-clock ms (least disturbed by other load on a shared machine). */
  minMs: number;
  /** Median CPU ms (user + system) of this process: excludes time spent descheduled. */
  cpuMs: number;
  count: number;
}

function time(fn: () => number, runs: number): Timing {
  const ts: number[] = [];
  const cpu: number[] = [];
  let count = 0;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    count = fn();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(ts), minMs: Math.min(...ts), cpuMs: median(cpu), count };
}

function report(metric: string, n: number, t: Timing, extra: Record<string, unknown> = {}): void {
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  emit({
    bench: 'bgp-codec', metric, value: Math.round((n / t.ms) * 1000), unit: 'prefixes/s',
    bestPerSec: Math.round((n / t.minMs) * 1000), ms: r1(t.ms), minMs: r1(t.minMs), cpuMs: r1(t.cpuMs), prefixes: n, ...extra,
  });
}

const bench: Bench = {
  description: 'BGP codec throughput: decode/encode of BIRD-like UPDATEs of /32 routes (prefixes/s)',
  async run(args: string[]): Promise<void> {
    const n = Number(args[0] ?? 1_000_000);
    const runs = Number(args[1] ?? 5);
    const prefixes = routes(n);

    const enc = time(() => encodeUpdates(attrs, prefixes, [], 'ipv4-unicast', ctx).length, runs);
    report('encode', n, enc, { messages: enc.count });
    const msgs = encodeUpdates(attrs, prefixes, [], 'ipv4-unicast', ctx);
    const bytes = msgs.reduce((s, m) => s + m.length, 0);
    emit({ bench: 'bgp-codec', metric: 'prefixes_per_update', value: Math.round(n / msgs.length), unit: 'prefixes', messages: msgs.length, bytes });

    const stream = new Uint8Array(bytes);
    let off = 0;
    for (const m of msgs) {
      stream.set(m, off);
      off += m.length;
    }
    const frame = time(() => {
      const r = new MessageReader();
      let k = 0;
      for (let p = 0; p < stream.length; p += 65536) k += r.push(stream.subarray(p, Math.min(stream.length, p + 65536))).length;
      return k;
    }, runs);
    report('frame', n, frame, { messages: frame.count });

    const dec = time(() => {
      let k = 0;
      for (const m of msgs) {
        const d = decodeMessage(m, ctx);
        if (d.type === 'update') k += d.update.nlri.length;
      }
      return k;
    }, runs);
    if (dec.count !== n) throw new Error(`decoded ${dec.count} of ${n} prefixes`);
    report('decode', n, dec);

    const walk = time(() => {
      let k = 0;
      const cb = (): void => {
        k++;
      };
      for (const m of msgs) {
        readMessageHeader(m, 0, false);
        const wl = (m[19]! << 8) | m[20]!;
        const al = (m[21 + wl]! << 8) | m[22 + wl]!;
        forEachNlri(m, 23 + wl + al, m.length, 1, false, cb);
      }
      return k;
    }, runs);
    if (walk.count !== n) throw new Error(`walked ${walk.count} of ${n} prefixes`);
    report('forEachNlri', n, walk);

    // The lean ingestion path: attributes decoded, IPv4 NLRI only syntax-checked, then walked as numbers.
    const lazy = time(() => {
      let k = 0;
      const cb = (addr: number): void => {
        k += addr > 0 ? 1 : 1;
      };
      for (const m of msgs) {
        const d = decodeMessage(m, ctx, { lazyIpv4Nlri: true });
        if (d.type !== 'update' || d.action !== 'accept') continue;
        const f = locateUpdateFields(m);
        forEachIpv4Nlri(m, f.nlri[0], f.nlri[1], false, cb);
      }
      return k;
    }, runs);
    if (lazy.count !== n) throw new Error(`lazily decoded ${lazy.count} of ${n} prefixes`);
    report('decode-lazy+forEachIpv4Nlri', n, lazy);
  },
};

export default bench;
