/**
 * Randomness for Raft comes only from an injected source, so a run is reproducible from its seed.
 */
export interface RandomSource {
  /** A uniformly distributed integer in [0, n); n ≥ 1. */
  intn(n: number): number;
}

/**
 * A small seeded generator (mulberry32): deterministic for a given 32-bit seed. Good enough to spread
 * election timeouts; servers seed it from their member id and a clock reading taken outside the core.
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    intn(n: number): number {
      if (!(n >= 1)) throw new Error(`intn: n must be ≥ 1, got ${n}`);
      return Math.floor(next() * n);
    },
  };
}
