/**
 * Per-step wall-clock timing of one command, for its 'done' log line (`steps`: ms per step,
 * one decimal; steps that run concurrently each get their own figure, so they may add up to
 * more than the total). The bench (bench/src/cni-phases.ts) reads these lines to say where a
 * call's time goes. Pure apart from `performance.now()`.
 */

/** Times named steps of one command. */
export class StepTimer {
  private readonly t0 = performance.now();
  readonly steps: Record<string, number> = {};

  /** Runs `fn` as step `name`, recording how long it took (also when it fails). */
  async time<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.steps[name] = round(performance.now() - t);
    }
  }

  /** Milliseconds since the timer started. */
  total(): number {
    return round(performance.now() - this.t0);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
