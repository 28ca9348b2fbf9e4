/**
 * The leader's per-follower bookkeeping (src/raft/tracker): the Inflights ring buffer (etcd's
 * tracker/inflights_test.go, including wraparound) and Progress state transitions, updates and
 * rejections (tracker/progress_test.go), plus the small ProgressTracker queries raft relies on.
 */
import { describe, expect, test } from "vitest";
import { VoteResult } from "../../src/raft/quorum/quorum.js";
import { Inflights } from "../../src/raft/tracker/inflights.js";
import { Progress, ProgressStateType } from "../../src/raft/tracker/progress.js";
import { ProgressTracker } from "../../src/raft/tracker/tracker.js";

const { StateProbe, StateReplicate, StateSnapshot } = ProgressStateType;

/** The ring's private layout, for checking wraparound the way etcd compares the struct. */
interface Ring {
  start: number;
  count_: number;
  buffer: number[];
}
const ring = (inf: Inflights): Ring => inf as unknown as Ring;

/** The in-flight indexes, oldest first. */
function inflight(inf: Inflights): number[] {
  const r = ring(inf);
  return Array.from({ length: r.count_ }, (_, i) => r.buffer[(r.start + i) % inf.size]!);
}

describe("Inflights", () => {
  test("add fills the ring from start without rotation", () => {
    const inf = new Inflights(10);
    for (let i = 0; i < 5; i++) inf.add(i);
    expect(ring(inf).start).toBe(0);
    expect(inf.count()).toBe(5);
    expect(ring(inf).buffer).toEqual([0, 1, 2, 3, 4, 0, 0, 0, 0, 0]);
    expect(inf.full()).toBe(false);

    for (let i = 5; i < 10; i++) inf.add(i);
    expect(inf.count()).toBe(10);
    expect(ring(inf).buffer).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(inf.full()).toBe(true);
  });

  test("add wraps around the end of the buffer", () => {
    const inf = new Inflights(10);
    ring(inf).start = 5;
    for (let i = 0; i < 5; i++) inf.add(i);
    expect(ring(inf).buffer).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    for (let i = 5; i < 10; i++) inf.add(i);
    expect(ring(inf).start).toBe(5);
    expect(ring(inf).buffer).toEqual([5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
    expect(inflight(inf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(inf.full()).toBe(true);
  });

  test("freeLE frees acknowledged messages, also across the wrap", () => {
    const inf = new Inflights(10);
    for (let i = 0; i < 10; i++) inf.add(i);

    inf.freeLE(0); // frees just the first one
    expect(ring(inf).start).toBe(1);
    expect(inf.count()).toBe(9);

    inf.freeLE(4);
    expect(ring(inf).start).toBe(5);
    expect(inflight(inf)).toEqual([5, 6, 7, 8, 9]);

    inf.freeLE(8);
    expect(ring(inf).start).toBe(9);
    expect(inflight(inf)).toEqual([9]);

    // Rotating: 10..14 land at the front of the buffer.
    for (let i = 10; i < 15; i++) inf.add(i);
    expect(ring(inf).buffer).toEqual([10, 11, 12, 13, 14, 5, 6, 7, 8, 9]);
    inf.freeLE(12);
    expect(ring(inf).start).toBe(3);
    expect(inflight(inf)).toEqual([13, 14]);

    // Emptying the window resets start.
    inf.freeLE(14);
    expect(ring(inf).start).toBe(0);
    expect(inf.count()).toBe(0);
  });

  test("freeLE below the oldest, or on an empty window, changes nothing", () => {
    const inf = new Inflights(4);
    inf.freeLE(100);
    expect(inf.count()).toBe(0);
    inf.add(5);
    inf.add(7);
    inf.freeLE(4);
    expect(inflight(inf)).toEqual([5, 7]);
    inf.freeLE(6); // between the two: only the first is freed
    expect(inflight(inf)).toEqual([7]);
  });

  test.each([
    { name: "single entry", size: 1, fullAt: 1, freeLE: 1, againAt: 2 },
    { name: "multiple entries", size: 15, fullAt: 15, freeLE: 6, againAt: 22 },
  ])("full at capacity, and add then throws ($name)", ({ size, fullAt, freeLE, againAt }) => {
    const inf = new Inflights(size);
    const addUntilFull = (begin: number, end: number): void => {
      for (let i = begin; i < end; i++) {
        expect(inf.full()).toBe(false);
        inf.add(i);
      }
      expect(inf.full()).toBe(true);
    };
    addUntilFull(0, fullAt);
    inf.freeLE(freeLE);
    addUntilFull(fullAt, againAt);
    expect(() => inf.add(100)).toThrow(/Full inflights/);
  });

  test("reset empties the window and nothing leaks across resets", () => {
    const inf = new Inflights(10);
    let index = 0;
    for (let epoch = 0; epoch < 100; epoch++) {
      inf.reset();
      for (let i = 0; i < 5; i++) {
        expect(inf.full()).toBe(false);
        inf.add(++index);
      }
      inf.freeLE(index - 2);
      expect(inf.full()).toBe(false);
      expect(inf.count()).toBe(2);
    }
    inf.freeLE(index);
    expect(inf.count()).toBe(0);
  });

  test("a window of size 0 is refused", () => {
    expect(() => new Inflights(0)).toThrow(/positive/);
  });

  test("clone copies the contents, not the storage", () => {
    const inf = new Inflights(3);
    ring(inf).start = 2;
    inf.add(1);
    inf.add(2);
    const c = inf.clone();
    expect(inflight(c)).toEqual([1, 2]);
    c.add(3);
    expect(inf.count()).toBe(2);
    expect(c.full()).toBe(true);
  });
});

function progress(init: { state?: ProgressStateType; match?: number; next: number; paused?: boolean; pendingSnapshot?: number }): Progress {
  const p = new Progress({ match: init.match ?? 0, next: init.next, maxInflight: 256 });
  p.state = init.state ?? StateProbe;
  p.msgAppFlowPaused = init.paused ?? false;
  p.pendingSnapshot = init.pendingSnapshot ?? 0;
  return p;
}

describe("Progress", () => {
  test("toString is one stable line", () => {
    const p = new Progress({ match: 1, next: 2, maxInflight: 1, isLearner: true });
    p.inflights.add(123);
    p.state = StateSnapshot;
    p.pendingSnapshot = 123;
    p.msgAppFlowPaused = true;
    expect(p.toString()).toBe("StateSnapshot match=1 next=2 learner paused pendingSnap=123 inactive inflight=1[full]");
  });

  test.each([
    { state: StateProbe, paused: false, w: false },
    { state: StateProbe, paused: true, w: true },
    { state: StateReplicate, paused: false, w: false },
    { state: StateReplicate, paused: true, w: true },
    { state: StateSnapshot, paused: false, w: true },
    { state: StateSnapshot, paused: true, w: true },
  ].map((r) => ({ ...r, name: ProgressStateType[r.state] })))("isPaused in $name with msgAppFlowPaused=$paused → $w", ({ state, paused, w }) => {
    expect(progress({ state, next: 1, paused }).isPaused()).toBe(w);
  });

  test("maybeDecrTo and maybeUpdate resume a paused progress", () => {
    const p = progress({ next: 2, paused: true });
    p.maybeDecrTo(1, 1);
    expect(p.msgAppFlowPaused).toBe(false);
    p.msgAppFlowPaused = true;
    p.maybeUpdate(2);
    expect(p.msgAppFlowPaused).toBe(false);
  });

  test.each([
    { name: "from replicate", p: { state: StateReplicate, match: 1, next: 5 }, wnext: 2 },
    { name: "after a snapshot finished", p: { state: StateSnapshot, match: 1, next: 5, pendingSnapshot: 10 }, wnext: 11 },
    { name: "after a snapshot failed", p: { state: StateSnapshot, match: 1, next: 5, pendingSnapshot: 0 }, wnext: 2 },
  ])("becomeProbe $name", ({ p: init, wnext }) => {
    const p = progress(init);
    p.inflights.add(3);
    p.msgAppFlowPaused = true;
    p.becomeProbe();
    expect(p.state).toBe(StateProbe);
    expect(p.match).toBe(1);
    expect(p.next).toBe(wnext);
    expect(p.pendingSnapshot).toBe(0);
    expect(p.msgAppFlowPaused).toBe(false);
    expect(p.inflights.count()).toBe(0);
  });

  test("becomeReplicate restarts from match + 1", () => {
    const p = progress({ state: StateProbe, match: 1, next: 5, paused: true });
    p.becomeReplicate();
    expect(p.state).toBe(StateReplicate);
    expect(p.match).toBe(1);
    expect(p.next).toBe(2);
    expect(p.msgAppFlowPaused).toBe(false);
  });

  test("becomeSnapshot records the pending snapshot and pauses", () => {
    const p = progress({ state: StateProbe, match: 1, next: 5 });
    p.becomeSnapshot(10);
    expect(p.state).toBe(StateSnapshot);
    expect(p.match).toBe(1);
    expect(p.pendingSnapshot).toBe(10);
    expect(p.next).toBe(11);
    expect(p.isPaused()).toBe(true);
  });

  test.each([
    { name: "do not decrease match or next", update: 2, wm: 3, wn: 5, wok: false },
    { name: "same match is not news", update: 3, wm: 3, wn: 5, wok: false },
    { name: "increase match, keep next", update: 4, wm: 4, wn: 5, wok: true },
    { name: "increase match and next", update: 5, wm: 5, wn: 6, wok: true },
  ])("maybeUpdate: $name", ({ update, wm, wn, wok }) => {
    const p = progress({ match: 3, next: 5 });
    expect(p.maybeUpdate(update)).toBe(wok);
    expect(p.match).toBe(wm);
    expect(p.next).toBe(wn);
  });

  test.each([
    { name: "replicate: rejection at match is stale", state: StateReplicate, m: 5, n: 10, rejected: 5, last: 5, w: false, wn: 10 },
    { name: "replicate: rejection below match is stale", state: StateReplicate, m: 5, n: 10, rejected: 4, last: 4, w: false, wn: 10 },
    { name: "replicate: rejection above match goes back to match + 1", state: StateReplicate, m: 5, n: 10, rejected: 9, last: 9, w: true, wn: 6 },
    { name: "probe: not the last probe (next 0)", state: StateProbe, m: 0, n: 0, rejected: 0, last: 0, w: false, wn: 0 },
    { name: "probe: not the last probe", state: StateProbe, m: 0, n: 10, rejected: 5, last: 5, w: false, wn: 10 },
    { name: "probe: decrement by one", state: StateProbe, m: 0, n: 10, rejected: 9, last: 9, w: true, wn: 9 },
    { name: "probe: decrement to 1", state: StateProbe, m: 0, n: 2, rejected: 1, last: 1, w: true, wn: 1 },
    { name: "probe: never below 1", state: StateProbe, m: 0, n: 1, rejected: 0, last: 0, w: true, wn: 1 },
    { name: "probe: jump to the hint + 1", state: StateProbe, m: 0, n: 10, rejected: 9, last: 2, w: true, wn: 3 },
    { name: "probe: hint 0 goes to 1", state: StateProbe, m: 0, n: 10, rejected: 9, last: 0, w: true, wn: 1 },
    { name: "probe: never below match + 1", state: StateProbe, m: 3, n: 10, rejected: 9, last: 1, w: true, wn: 4 },
  ])("maybeDecrTo: $name", ({ state, m, n, rejected, last, w, wn }) => {
    const p = progress({ state, match: m, next: n });
    expect(p.maybeDecrTo(rejected, last)).toBe(w);
    expect(p.match).toBe(m);
    expect(p.next).toBe(wn);
  });

  test("sentEntries: replicate pipelines until the window is full", () => {
    const p = new Progress({ match: 0, next: 1, maxInflight: 2 });
    p.becomeReplicate();
    p.sentEntries(3);
    expect(p.next).toBe(4);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1);
    expect(p.next).toBe(5);
    expect(p.isPaused()).toBe(true);
    // An ack of the first message frees one slot.
    p.maybeUpdate(3);
    p.inflights.freeLE(3);
    expect(p.inflights.count()).toBe(1);
  });

  test("sentEntries: probe pauses after one append with entries, not after an empty one", () => {
    const p = new Progress({ match: 0, next: 1, maxInflight: 2 });
    p.sentEntries(0);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(2);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(1); // probing does not advance next optimistically
  });

  test("sentEntries in snapshot state throws", () => {
    const p = new Progress({ match: 0, next: 1, maxInflight: 2 });
    p.becomeSnapshot(5);
    expect(() => p.sentEntries(1)).toThrow(/unhandled state/);
  });

  test("clone is a deep copy", () => {
    const p = progress({ state: StateReplicate, match: 2, next: 4 });
    p.inflights.add(3);
    const c = p.clone();
    expect(c.toString()).toBe(p.toString());
    c.inflights.add(4);
    c.match = 9;
    expect(p.inflights.count()).toBe(1);
    expect(p.match).toBe(2);
  });
});

describe("ProgressTracker", () => {
  function tracker(voters: bigint[], matches: number[], learners: bigint[] = []): ProgressTracker {
    const t = new ProgressTracker(256);
    voters.forEach((id, i) => {
      t.config.voters[0].add(id);
      t.progress.set(id, new Progress({ match: matches[i] ?? 0, next: (matches[i] ?? 0) + 1, maxInflight: 256 }));
    });
    for (const id of learners) {
      t.config.learners.add(id);
      t.progress.set(id, new Progress({ match: 100, next: 101, maxInflight: 256, isLearner: true }));
    }
    return t;
  }

  test("committed is the majority's match; learners do not count", () => {
    expect(tracker([1n, 2n, 3n], [5, 7, 2]).committed()).toBe(5);
    expect(tracker([1n, 2n, 3n], [5, 1, 2], [4n, 5n]).committed()).toBe(2);
  });

  test("voterNodes and learnerNodes are sorted", () => {
    const t = tracker([3n, 1n, 2n], [], [9n, 4n]);
    expect(t.voterNodes()).toEqual([1n, 2n, 3n]);
    expect(t.learnerNodes()).toEqual([4n, 9n]);
  });

  test("recordVote keeps the first answer; tallyVotes ignores learners", () => {
    const t = tracker([1n, 2n, 3n], [], [4n]);
    t.recordVote(1n, true);
    t.recordVote(1n, false);
    t.recordVote(4n, true);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 0, result: VoteResult.VotePending });
    t.recordVote(2n, false);
    t.recordVote(3n, false);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 2, result: VoteResult.VoteLost });
    t.resetVotes();
    expect(t.tallyVotes()).toEqual({ granted: 0, rejected: 0, result: VoteResult.VotePending });
  });

  test("quorumActive counts recently active voters only", () => {
    const t = tracker([1n, 2n, 3n], [], [4n]);
    t.progress.get(1n)!.recentActive = true;
    t.progress.get(4n)!.recentActive = true;
    expect(t.quorumActive()).toBe(false);
    t.progress.get(3n)!.recentActive = true;
    expect(t.quorumActive()).toBe(true);
  });

  test("isSingleton: exactly one voter and not joint", () => {
    expect(tracker([1n], []).isSingleton()).toBe(true);
    expect(tracker([1n], [], [2n]).isSingleton()).toBe(true);
    expect(tracker([1n, 2n], []).isSingleton()).toBe(false);
    const joint = tracker([1n], []);
    joint.config.voters[1].add(2n);
    expect(joint.isSingleton()).toBe(false);
  });
});
