/**
 * Per-step wall-clock timing of one command, for its 'done' log line (`steps`: ms per step,
 * one decimal). The bench (bench/src/cni-phases.ts) reads these lines to say where a call's
 * time goes. Pure apart from `performance.now()`.
 */

/** Times consecutive named steps: `next(name)` closes the running step and opens `name`. */
export class StepTimer {
  private readonly t0 = performance.now();
  private last = this.t0;
  private current = 'start';
  readonly steps: Record<string, number> = {};

  /** Ends the running step and starts `name`. */
  next(name: string): void {
    const now = performance.now();
    this.steps[this.current] = round(now - this.last);
    this.last = now;
    this.current = name;
  }

  /** Ends the running step; returns the total in ms. */
  end(): number {
    const now = performance.now();
    this.steps[this.current] = round(now - this.last);
    return round(now - this.t0);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
