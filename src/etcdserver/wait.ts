/**
 * etcd's pkg/wait: proposals register their request id and wait for the apply loop to trigger
 * it with the result; reads wait for the applied index to reach a value (wait_time.go).
 */

/** Waiters by request id. Each id is triggered at most once; a trigger for an unknown id is ignored. */
export class Wait<T> {
  private readonly waiters = new Map<bigint, (v: T | undefined) => void>();

  /** Resolves with the value given to {@link trigger}, or undefined when cancelled. Throws on a duplicate id. */
  register(id: bigint): Promise<T | undefined> {
    if (this.waiters.has(id)) throw new Error(`wait: duplicate id ${id.toString(16)}`);
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  trigger(id: bigint, v: T | undefined): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    w(v);
  }

  isRegistered(id: bigint): boolean {
    return this.waiters.has(id);
  }

  /** Resolves every waiter with undefined (shutdown). */
  cancelAll(): void {
    const ws = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of ws) w(undefined);
  }

  size(): number {
    return this.waiters.size;
  }
}

/** Waits for a monotonically increasing deadline value (etcd's WaitTime, over the applied index). */
export class WaitTime {
  private last = 0;
  /** Sorted by deadline. */
  private waiters: { deadline: number; resolve: () => void }[] = [];

  /** Resolves once {@link trigger} has been called with a value ≥ `deadline` (at once if already). */
  wait(deadline: number): Promise<void> {
    if (deadline <= this.last) return Promise.resolve();
    return new Promise((resolve) => {
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.deadline > deadline) i--;
      this.waiters.splice(i, 0, { deadline, resolve });
    });
  }

  trigger(value: number): void {
    if (value <= this.last) return;
    this.last = value;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.deadline <= value) n++;
    const due = this.waiters.splice(0, n);
    for (const w of due) w.resolve();
  }
}
