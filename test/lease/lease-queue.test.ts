/** LeaseQueue (min-heap by time) and LeaseExpiredNotifier, against a sorted-array model. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LeaseExpiredNotifier, LeaseQueue, leaseWithTime } from "../../src/lease/lease-queue.js";

describe("LeaseQueue", () => {
  it("pops in time order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 })), (times) => {
        const q = new LeaseQueue();
        times.forEach((t, i) => q.push(leaseWithTime(BigInt(i + 1), t)));
        expect(q.length).toBe(times.length);
        const out: number[] = [];
        for (let it = q.pop(); it; it = q.pop()) {
          expect(it.index).toBe(-1);
          out.push(it.time);
        }
        expect(out).toEqual([...times].sort((a, b) => a - b));
        expect(q.peek()).toBeUndefined();
      }),
    );
  });

  it("keeps each entry's index and restores order after fix", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 1000 }))),
        (times, changes) => {
          const q = new LeaseQueue();
          const items = times.map((t, i) => leaseWithTime(BigInt(i + 1), t));
          items.forEach((it) => q.push(it));
          for (const [k, t] of changes) {
            const it = items[k % items.length]!;
            it.time = t;
            q.fix(it.index);
          }
          const out: number[] = [];
          for (let it = q.pop(); it; it = q.pop()) out.push(it.time);
          expect(out).toEqual(items.map((i) => i.time).sort((a, b) => a - b));
        },
      ),
    );
  });
});

describe("LeaseExpiredNotifier", () => {
  it("keeps one entry per lease: registering again moves it", () => {
    const n = new LeaseExpiredNotifier();
    for (let i = 50; i >= 1; i--) n.registerOrUpdate(leaseWithTime(BigInt(i), i === 1 ? 0 : 3_600_000));
    expect(n.length).toBe(50);
    expect(n.peek()!.id).toBe(1n);
    n.registerOrUpdate(leaseWithTime(1n, 7_200_000));
    expect(n.length).toBe(50);
    expect(n.peek()!.id).not.toBe(1n);
    n.registerOrUpdate(leaseWithTime(30n, -1));
    expect(n.peek()!.id).toBe(30n);
    expect(n.unregister()!.id).toBe(30n);
    expect(n.length).toBe(49);
    // 30 is gone: registering it adds a fresh entry
    n.registerOrUpdate(leaseWithTime(30n, 5));
    expect(n.length).toBe(50);
    const order: bigint[] = [];
    for (let it = n.unregister(); it; it = n.unregister()) order.push(it.id);
    expect(order[0]).toBe(30n);
    expect(order.at(-1)).toBe(1n);
    expect(n.length).toBe(0);
    expect(n.peek()).toBeUndefined();
  });
});
