/** The JSON-lines output every benchmark prints: one object per measured figure. */
export interface BenchRecord {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  [extra: string]: unknown;
}

/** Prints one record as a JSON line on stdout. */
export function emit(rec: BenchRecord): void {
  process.stdout.write(JSON.stringify(rec) + '\n');
}

/** A benchmark module in `benches/`: its default export runs it with the CLI arguments after the name. */
export interface Bench {
  description: string;
  run(args: string[]): Promise<void>;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile (0-100) of a list of numbers, nearest-rank. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** The value after `--name` in a benchmark's arguments, or `dflt` when absent. */
export function option(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
}
