/**
 * Where a CNI call's time goes, for the cni-add benchmark: the node agent logs every ADD and DEL
 * it serves (pino JSON lines, `ms` and per-step `steps`, see packages/cni/src/add.ts), and this
 * module turns those lines into p50 figures per step, so the bench can set them beside the
 * end-to-end latency cnitool sees (the difference is cnitool, the plugin binary and the socket).
 */
import { median } from './emit.js';

/** One served call as the agent logged it. */
export interface ServedCall {
  op: 'ADD' | 'DEL';
  ms: number;
  steps: Record<string, number>;
  /** When the call was done (epoch ms, pino's `time`). */
  time: number;
}

/** Parses the agent's log output; lines that are not 'ADD done' / 'DEL done' records are skipped. */
export function servedCalls(output: string): ServedCall[] {
  const out: ServedCall[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes(' done"')) continue;
    try {
      const r = JSON.parse(line) as { msg?: unknown; ms?: unknown; steps?: unknown; time?: unknown };
      const op = r.msg === 'ADD done' ? 'ADD' : r.msg === 'DEL done' ? 'DEL' : undefined;
      if (!op || typeof r.ms !== 'number') continue;
      const steps = typeof r.steps === 'object' && r.steps !== null ? (r.steps as Record<string, number>) : {};
      out.push({ op, ms: r.ms, steps, time: typeof r.time === 'number' ? r.time : 0 });
    } catch {
      /* a partial line at the output's cut */
    }
  }
  return out;
}

/** p50 of the total and of every step, per operation: `{ ADD: { total, ipam, veth, ... } }`. */
export function phaseMedians(calls: ServedCall[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const op of ['ADD', 'DEL'] as const) {
    const mine = calls.filter((c) => c.op === op);
    if (mine.length === 0) continue;
    const names = new Set(mine.flatMap((c) => Object.keys(c.steps)));
    const row: Record<string, number> = { total: median(mine.map((c) => c.ms)) };
    for (const n of names) row[n] = Number(median(mine.map((c) => c.steps[n] ?? 0)).toFixed(1));
    out[op] = row;
  }
  return out;
}

/** When the agent started its first call and finished its last, in ms after `t0` (epoch ms). */
export function servedSpan(calls: ServedCall[], t0: number): { firstStartMs: number; lastDoneMs: number } {
  return {
    firstStartMs: Math.round(Math.min(...calls.map((c) => c.time - c.ms)) - t0),
    lastDoneMs: Math.round(Math.max(...calls.map((c) => c.time)) - t0),
  };
}
