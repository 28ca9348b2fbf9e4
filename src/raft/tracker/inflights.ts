/**
 * The sliding window of MsgApp messages in flight to one follower (etcd's tracker.Inflights): the
 * last index of each message sent but not yet acknowledged. When the window is full the leader
 * stops sending entries to that follower until acknowledgements free space.
 *
 * A ring buffer: `buffer[(start + i) % size]` for i in [0, count) are the indexes, oldest first.
 */
import { panic } from "../logger.js";

export class Inflights {
  private start = 0;
  private count_ = 0;
  private readonly buffer: number[];

  constructor(readonly size: number) {
    if (!(size > 0)) panic(`inflights size must be positive, got ${size}`);
    this.buffer = new Array<number>(size).fill(0);
  }

  /** A copy with the same contents (used when the configuration is copied for a change). */
  clone(): Inflights {
    const c = new Inflights(this.size);
    for (let i = 0; i < this.count_; i++) c.add(this.buffer[(this.start + i) % this.size]!);
    return c;
  }

  /** Records a message whose last entry is `inflight`; indexes must be added in increasing order. */
  add(inflight: number): void {
    if (this.full()) panic("cannot add into a Full inflights");
    this.buffer[(this.start + this.count_) % this.size] = inflight;
    this.count_++;
  }

  /** Frees every message whose last index is ≤ to (they were acknowledged). */
  freeLE(to: number): void {
    if (this.count_ === 0 || to < this.buffer[this.start]!) return;
    let i = 0;
    let idx = this.start;
    for (; i < this.count_; i++) {
      if (to < this.buffer[idx]!) break;
      idx = (idx + 1) % this.size;
    }
    this.count_ -= i;
    this.start = this.count_ === 0 ? 0 : idx;
  }

  full(): boolean {
    return this.count_ === this.size;
  }

  count(): number {
    return this.count_;
  }

  reset(): void {
    this.count_ = 0;
    this.start = 0;
  }
}
