/**
 * The simulator's own seeded generator (splitmix32). Every choice the simulator makes — which fault,
 * which node, which message order — comes from one Prng built from the schedule's seed, so one integer
 * reproduces one whole run. Nodes get their own `seededRandom(derive())` from src/raft/rand.ts, so the
 * core's election timeouts are reproducible too but do not share this stream.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // Mix the seed once so nearby seeds (1, 2, 3…) start far apart.
    this.state = (Math.imul(seed >>> 0, 0x9e3779b9) ^ 0x5bd1e995) >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A uniform integer in [0, n); n ≥ 1. */
  intn(n: number): number {
    if (!(n >= 1)) throw new Error(`intn: n must be ≥ 1, got ${n}`);
    return Math.floor((this.next32() / 4294967296) * n);
  }

  /** A uniform integer in [lo, hi] (both inclusive). */
  between(lo: number, hi: number): number {
    return lo + this.intn(hi - lo + 1);
  }

  /** True with probability p (p in [0, 1]). */
  chance(p: number): boolean {
    return this.next32() / 4294967296 < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty array");
    return xs[this.intn(xs.length)]!;
  }

  /** Shuffles xs in place (Fisher–Yates) and returns it. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.intn(i + 1);
      const t = xs[i]!;
      xs[i] = xs[j]!;
      xs[j] = t;
    }
    return xs;
  }

  /** A fresh seed for a derived generator (a node's RandomSource), taken from this stream. */
  derive(): number {
    return this.next32();
  }
}
