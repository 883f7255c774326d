/**
 * A keyed async mutex: calls with the same key run one at a time, in arrival order; different
 * keys do not wait for each other. IPAM uses it to queue one process's allocations per node, so
 * they do not race each other for the same block (Calico's CNI plugin takes a host-wide lock
 * for the same reason). Correctness never depends on it: the datastore's compare-and-swap does.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier call with `key` has settled. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
