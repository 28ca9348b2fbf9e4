/**
 * Seeded Raft cluster simulations (test/raft/sim/): thousands of fault schedules, each checked for
 * Raft's safety properties after every step and for liveness at the end.
 *
 *   npx vitest run sim                    seeds 1..2000 (SIM_SEEDS=n seeds from SIM_FROM=1; SIM_STEPS=300 each)
 *   SEED=1234 npx vitest run sim          just seed 1234, printing its full trace
 *   SIM_KNOWN_ISSUES=1 …                  without the workarounds for known core issues (cluster.ts)
 *
 * The first block proves the checker can fail: hand-made bad histories must be reported.
 */
import { afterAll, describe, expect, test } from "vitest";
import { EntryType, newEntry } from "../../src/raft/raftpb.js";
import { type NodeView, SafetyChecker } from "./sim/checker.js";
import { type SimStats, emptyStats, runSimulation } from "./sim/cluster.js";
import { initialHash } from "./sim/state-machine.js";

const env = process.env;
const onlySeed = env.SEED !== undefined && env.SEED !== "" ? Number(env.SEED) : undefined;
const seedCount = Number(env.SIM_SEEDS ?? 2000);
const firstSeed = Number(env.SIM_FROM ?? 1);
const steps = Number(env.SIM_STEPS ?? 300);
/** SIM_KNOWN_ISSUES=1: run without the workarounds for known core issues (see cluster.ts). */
const knownIssues = env.SIM_KNOWN_ISSUES === "1";
const batchSize = 50;

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const entry = (index: number, term: number, data = ""): ReturnType<typeof newEntry> =>
  newEntry({ index, term, type: EntryType.EntryNormal, data: bytes(data) });

describe("SafetyChecker reports bad histories", () => {
  const base = { index: 1, hash: initialHash };

  test("two leaders in one term", () => {
    const c = new SafetyChecker(base);
    c.observeLeader(3, 1n);
    c.observeLeader(3, 1n);
    c.observeLeader(4, 2n);
    expect(c.ok).toBe(true);
    c.observeLeader(3, 2n);
    expect(c.violations.map((v) => v.kind)).toEqual(["election-safety"]);
  });

  test("two different entries applied at one index", () => {
    const c = new SafetyChecker(base);
    c.observeRestore(1n, base);
    c.observeRestore(2n, base);
    c.observeApply(1n, entry(2, 1, "a"));
    c.observeApply(2n, entry(2, 1, "a"));
    expect(c.ok).toBe(true);
    c.observeApply(1n, entry(3, 2, "b"));
    c.observeApply(2n, entry(3, 2, "c"));
    expect(c.violations.map((v) => v.kind)).toEqual(["state-machine-safety"]);
  });

  test("an index applied out of order, and a payload nobody proposed", () => {
    const c = new SafetyChecker(base);
    c.trackProposals();
    c.observeProposal("x");
    c.observeRestore(1n, base);
    c.observeApply(1n, entry(2, 1, "x"));
    c.observeApply(1n, entry(4, 1, "y"));
    c.observeApply(1n, entry(3, 1, "z"));
    expect(c.violations.map((v) => v.kind)).toEqual(["apply-order", "integrity"]);
  });

  test("a restored state that differs from what was applied", () => {
    const c = new SafetyChecker(base);
    c.observeRestore(1n, base);
    c.observeApply(1n, entry(2, 1));
    c.observeRestore(2n, { index: 2, hash: 12345 });
    expect(c.violations.map((v) => v.kind)).toEqual(["state-machine-safety"]);
  });

  const view = (id: bigint, term: number, isLeader: boolean, committed: number, ...entries: ReturnType<typeof entry>[]): NodeView => ({
    id,
    term,
    isLeader,
    log: { prevIndex: 1, prevTerm: 1, entries, committed },
  });

  test("same (index, term) with different contents or history", () => {
    const c = new SafetyChecker(base);
    c.checkNode(view(1n, 2, false, 1, entry(2, 1, "a"), entry(3, 2, "b")));
    c.checkNode(view(2n, 2, false, 1, entry(2, 1, "a"), entry(3, 2, "b")));
    expect(c.ok).toBe(true);
    c.checkNode(view(3n, 2, false, 1, entry(2, 1, "a"), entry(3, 2, "other")));
    c.checkNode(view(4n, 2, false, 1, entry(2, 2, "q"), entry(3, 2, "b")));
    expect(c.violations.map((v) => v.kind)).toEqual(["log-matching", "log-matching"]);
  });

  test("a read answered below what was committed when it was issued", () => {
    const c = new SafetyChecker(base);
    c.observeCommitted(5);
    c.observeReadIssued(1n, "r1");
    c.observeReadState(1n, "r1", 5);
    expect(c.ok).toBe(true);
    c.observeReadState(1n, "r1", 4);
    c.observeReadState(2n, "r1", 6);
    expect(c.violations.map((v) => v.kind)).toEqual(["linearizable-read", "linearizable-read"]);
  });

  test("a committed entry truncated, and a leader missing a committed entry", () => {
    const c = new SafetyChecker(base);
    c.observeRestore(1n, base);
    c.observeTerm(1);
    c.observeApply(1n, entry(2, 1, "a"));
    c.checkNode(view(2n, 1, false, 2, entry(2, 1, "a")));
    expect(c.ok).toBe(true);
    c.checkNode(view(2n, 3, false, 2));
    c.checkNode(view(3n, 2, true, 1));
    expect(c.violations.map((v) => v.kind)).toEqual(["committed-lost", "leader-completeness"]);
  });
});

/** Totals over every seed run in this file, printed at the end. */
const totals: SimStats & { seeds: number } = { ...emptyStats(), seeds: 0 };
function add(s: SimStats): void {
  totals.seeds++;
  for (const k of Object.keys(s) as (keyof SimStats)[]) totals[k] += s[k];
}

if (onlySeed !== undefined) {
  test(`simulation seed ${onlySeed} (traced)`, () => {
    const lines: string[] = [];
    const r = runSimulation(onlySeed, { steps, knownIssues, trace: (l) => lines.push(l) });
    console.log(lines.join("\n"));
    expect(r.failure, r.failure).toBeUndefined();
  });
} else {
  const batches: { from: number; to: number }[] = [];
  const last = firstSeed + seedCount - 1;
  for (let from = firstSeed; from <= last; from += batchSize) batches.push({ from, to: Math.min(last, from + batchSize - 1) });

  describe(`Raft cluster simulation, ${seedCount} seeds × ${steps} steps`, () => {
    test.each(batches)("seeds $from to $to", ({ from, to }) => {
      const failures: string[] = [];
      for (let seed = from; seed <= to; seed++) {
        const r = runSimulation(seed, { steps, knownIssues });
        add(r.stats);
        if (r.failure !== undefined) failures.push(r.failure);
      }
      expect(failures, `${failures.length} failing seed(s):\n${failures.join("\n\n")}`).toEqual([]);
    });

    afterAll(() => {
      const t = totals;
      console.log(
        `simulated ${t.seeds} seeds, ${t.steps} steps: ${t.leaderTerms} leader terms, ${t.applied} max-applied summed, ` +
          `${t.proposals} proposals, ${t.readStates} read states, ${t.delivered} messages delivered / ${t.lost} lost, ${t.partitions} partitions, ` +
          `${t.crashes} crashes (${t.midReadyCrashes} mid-Ready), ${t.restarts} restarts (${t.durableRestarts} with durable state), ` +
          `${t.compactions} compactions, ${t.snapshotsInstalled} snapshots installed, ` +
          `${t.confChangesApplied} conf changes applied (${t.confChangesRejected} skipped as invalid), ${t.nodesAdded} nodes started to join, ` +
          `${t.nodesRemoved} removed, ${t.livenessSteps} liveness steps`,
      );
    });
  });
}
