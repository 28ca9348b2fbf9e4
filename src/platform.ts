/**
 * What a runtime adapter gives the core (DESIGN.md "The interfaces an adapter provides"). The core
 * never reads a clock or sets a timer of its own: the server's ticker, lease loops, compactor and
 * request timeouts all go through a `Clock`, so tests drive time by hand.
 */

export interface Clock {
  /** Milliseconds on a monotonic clock (its origin is arbitrary). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; the returned function cancels it (idempotent). */
  setTimer(ms: number, fn: () => void): () => void;
}

/** A Clock over the Web-standard `performance.now()` and `setTimeout`, available in every runtime we target. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const h = setTimeout(fn, ms);
    return () => clearTimeout(h);
  },
};

/**
 * A clock that moves only when told (tests): `advance(ms)` runs every timer that falls due, in time
 * order, including timers set by the timers it runs.
 */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers in (time, creation) order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: (typeof this.timers)[number] | undefined;
      for (const x of this.timers) {
        if (x.at <= end && (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      }
      if (next === undefined) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }

  pending(): number {
    return this.timers.length;
  }
}
