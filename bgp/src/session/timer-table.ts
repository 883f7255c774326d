/**
 * The shell's timers, keyed by name and connection. Re-arming is cheap: the FSM re-arms the
 * hold timer on every KEEPALIVE and UPDATE received, so an armed timer only moves its deadline
 * forward; when the underlying timeout fires early it re-schedules itself for the remainder.
 *
 * Invariant: a cancelled or superseded timer never fires its callback; at most one underlying
 * timeout exists per key.
 */
import type { Clock, TimerHandle } from './ports.js';
import type { ConnId, TimerName } from './types.js';

interface Entry {
  deadline: number;
  firesAt: number;
  handle: TimerHandle;
}

/** Timers keyed by (name, connection). */
export class TimerTable {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: TimerName, conn: ConnId | undefined) => void,
  ) {}

  private static key(timer: TimerName, conn: ConnId | undefined): string {
    return conn === undefined ? timer : `${timer}|${conn}`;
  }

  /** Arms (or re-arms) `timer` to fire `ms` from now. */
  arm(timer: TimerName, ms: number, conn: ConnId | undefined): void {
    const key = TimerTable.key(timer, conn);
    const deadline = this.clock.now() + ms;
    const e = this.entries.get(key);
    if (e && e.firesAt <= deadline) {
      e.deadline = deadline; // fires early, then re-schedules for the rest
      return;
    }
    if (e) this.clock.clearTimeout(e.handle);
    this.schedule(key, timer, conn, deadline);
  }

  private schedule(key: string, timer: TimerName, conn: ConnId | undefined, deadline: number): void {
    const entry: Entry = { deadline, firesAt: deadline, handle: undefined };
    entry.handle = this.clock.setTimeout(() => {
      if (this.entries.get(key) !== entry) return;
      const left = entry.deadline - this.clock.now();
      if (left > 0) {
        this.schedule(key, timer, conn, entry.deadline);
        return;
      }
      this.entries.delete(key);
      this.fire(timer, conn);
    }, Math.max(0, deadline - this.clock.now()));
    this.entries.set(key, entry);
  }

  /** Cancels `timer` (no-op when not armed). */
  cancel(timer: TimerName, conn: ConnId | undefined): void {
    const key = TimerTable.key(timer, conn);
    const e = this.entries.get(key);
    if (!e) return;
    this.clock.clearTimeout(e.handle);
    this.entries.delete(key);
  }

  /** Cancels every timer of `conn`. */
  cancelConn(conn: ConnId): void {
    for (const [key, e] of this.entries) {
      if (key.endsWith(`|${conn}`)) {
        this.clock.clearTimeout(e.handle);
        this.entries.delete(key);
      }
    }
  }

  /** Cancels everything. */
  clear(): void {
    for (const e of this.entries.values()) this.clock.clearTimeout(e.handle);
    this.entries.clear();
  }

  /** Armed timer keys (for tests and status). */
  armed(): string[] {
    return [...this.entries.keys()];
  }
}
