/**
 * The Clock for Node: performance.now() and setTimeout. Node's one quirk handled here: a delay
 * above 2^31−1 ms overflows and fires after 1 ms, so long timers are chained in steps.
 */
import type { Clock } from "../../src/platform.js";

const MAX_DELAY = 2 ** 31 - 1;

export const nodeClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    let handle: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const arm = (remaining: number) => {
      const step = Math.min(Math.max(0, remaining), MAX_DELAY); // Node: > 2^31−1 would fire at once
      handle = setTimeout(() => {
        if (cancelled) return;
        if (remaining > MAX_DELAY) arm(remaining - MAX_DELAY);
        else fn();
      }, step);
    };
    arm(ms);
    return () => {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    };
  },
};
