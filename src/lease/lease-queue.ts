/**
 * The lessor's two time queues (etcd server/lease/lease_queue.go): a binary min-heap of
 * {@link LeaseWithTime} ordered by `time`, and the {@link LeaseExpiredNotifier} over it that keeps at
 * most one entry per lease.
 */
import type { LeaseID } from "./lease-item.js";

/**
 * A lease id with a time in clock milliseconds: its expiry in the expiry queue, its next checkpoint
 * in the checkpoint queue. `index` is the entry's heap position, kept by the queue (-1 once popped).
 */
export interface LeaseWithTime {
  id: LeaseID;
  time: number;
  index: number;
}

export function leaseWithTime(id: LeaseID, time: number): LeaseWithTime {
  return { id, time, index: -1 };
}

/**
 * Min-heap by `time` (earliest first). Entries are owned by the queue while inside it: change an
 * entry's `time` only through {@link LeaseQueue.fix}. Ties come out in no promised order.
 */
export class LeaseQueue {
  private items: LeaseWithTime[] = [];

  get length(): number {
    return this.items.length;
  }

  /** The earliest entry, left in place; undefined when empty. */
  peek(): LeaseWithTime | undefined {
    return this.items[0];
  }

  push(item: LeaseWithTime): void {
    item.index = this.items.length;
    this.items.push(item);
    this.up(item.index);
  }

  /** Removes and returns the earliest entry; undefined when empty. */
  pop(): LeaseWithTime | undefined {
    const n = this.items.length - 1;
    if (n < 0) return undefined;
    this.swap(0, n);
    const item = this.items.pop()!;
    item.index = -1;
    if (n > 0) this.down(0);
    return item;
  }

  /** Restores heap order after the entry at `index` changed its time (Go's heap.Fix). */
  fix(index: number): void {
    if (!this.down(index)) this.up(index);
  }

  private less(i: number, j: number): boolean {
    return this.items[i]!.time < this.items[j]!.time;
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    b.index = i;
    a.index = j;
  }

  private up(j: number): void {
    while (j > 0) {
      const i = (j - 1) >> 1;
      if (i === j || !this.less(j, i)) break;
      this.swap(i, j);
      j = i;
    }
  }

  /** Sifts down; true if the entry moved. */
  private down(i0: number): boolean {
    const n = this.items.length;
    let i = i0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let j = l;
      if (l + 1 < n && this.less(l + 1, l)) j = l + 1;
      if (!this.less(j, i)) break;
      this.swap(i, j);
      i = j;
    }
    return i > i0;
  }
}

/**
 * The queue of lease expiries the primary lessor checks for leases to revoke: one entry per lease,
 * so registering a lease again moves its entry instead of adding one.
 */
export class LeaseExpiredNotifier {
  private readonly m = new Map<LeaseID, LeaseWithTime>();
  private readonly queue = new LeaseQueue();

  /** Sets the lease's time to `item.time`, adding `item` if the lease has no entry yet. */
  registerOrUpdate(item: LeaseWithTime): void {
    const old = this.m.get(item.id);
    if (old) {
      old.time = item.time;
      this.queue.fix(old.index);
    } else {
      this.queue.push(item);
      this.m.set(item.id, item);
    }
  }

  /** Removes and returns the earliest entry; undefined when empty. */
  unregister(): LeaseWithTime | undefined {
    const item = this.queue.pop();
    if (item) this.m.delete(item.id);
    return item;
  }

  /** The earliest entry, left in place; undefined when empty. */
  peek(): LeaseWithTime | undefined {
    return this.queue.peek();
  }

  get length(): number {
    return this.m.size;
  }
}
