/**
 * Quorum arithmetic (src/raft/quorum): committed index and vote result of majority and joint
 * configurations, as tables (from etcd's quorum/testdata) and as properties against a naive
 * counting model (etcd's quorum/quick_test.go), including the empty-configuration conventions.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type JointConfig, describeJoint, jointCommittedIndex, jointIds, jointVoteResult } from "../../src/raft/quorum/joint.js";
import { describeMajority, majorityCommittedIndex, majorityVoteResult } from "../../src/raft/quorum/majority.js";
import { type AckedIndexer, VoteResult, maxIndex } from "../../src/raft/quorum/quorum.js";

const { VotePending, VoteLost, VoteWon } = VoteResult;

function acked(m: Map<bigint, number>): AckedIndexer {
  return { ackedIndex: (id) => m.get(id) };
}

/** Pairs ids with acked indexes; "_" leaves a voter without one. */
function idxMap(ids: number[], idx: (number | "_")[]): Map<bigint, number> {
  const m = new Map<bigint, number>();
  ids.forEach((id, i) => {
    const v = idx[i];
    if (v !== undefined && v !== "_") m.set(BigInt(id), v);
  });
  return m;
}

/** Pairs ids with votes: "y" granted, "n" rejected, "_" not yet answered. */
function voteMap(ids: number[], votes: string): Map<bigint, boolean> {
  const m = new Map<bigint, boolean>();
  ids.forEach((id, i) => {
    if (votes[i] === "y") m.set(BigInt(id), true);
    if (votes[i] === "n") m.set(BigInt(id), false);
  });
  return m;
}

const cfg = (...ids: number[]): Set<bigint> => new Set(ids.map(BigInt));

describe("majority committed index", () => {
  test.each([
    { voters: [1], idx: ["_"], want: 0 },
    { voters: [1], idx: [12], want: 12 },
    { voters: [1, 2], idx: ["_", "_"], want: 0 },
    { voters: [1, 2], idx: [12, "_"], want: 0 },
    { voters: [1, 2], idx: [12, 5], want: 5 },
    { voters: [1, 2, 3], idx: ["_", "_", "_"], want: 0 },
    { voters: [1, 2, 3], idx: [12, "_", "_"], want: 0 },
    { voters: [1, 2, 3], idx: [12, 5, "_"], want: 5 },
    { voters: [1, 2, 3], idx: [12, 5, 6], want: 6 },
    { voters: [1, 2, 3], idx: [12, 5, 4], want: 5 },
    { voters: [1, 2, 3], idx: [5, 5, "_"], want: 5 },
    { voters: [1, 2, 3], idx: [5, 5, 12], want: 5 },
    { voters: [1, 2, 3], idx: [100, 101, 103], want: 101 },
    { voters: [1, 2, 3, 4, 5], idx: [101, 104, 103, 103, "_"], want: 103 },
    { voters: [1, 2, 3, 4, 5], idx: [101, 102, 103, 103, "_"], want: 102 },
    { voters: [1, 2, 3, 4], idx: [9, 7, 8, 1], want: 7 },
  ] as { voters: number[]; idx: (number | "_")[]; want: number }[])("voters $voters acked $idx → $want", ({ voters, idx, want }) => {
    expect(majorityCommittedIndex(cfg(...voters), acked(idxMap(voters, idx)))).toBe(want);
  });

  test("the empty configuration commits everything (maxIndex), so the other joint half decides", () => {
    expect(majorityCommittedIndex(new Set(), acked(new Map()))).toBe(maxIndex);
    expect(jointCommittedIndex([cfg(1, 2, 3), new Set()], acked(idxMap([1, 2, 3], [100, 101, 99])))).toBe(100);
  });

  test("acked indexes of non-voters are ignored", () => {
    expect(majorityCommittedIndex(cfg(1, 2, 3), acked(idxMap([1, 2, 3, 4, 5], [1, 2, 3, 50, 50])))).toBe(2);
  });
});

describe("joint committed index", () => {
  test.each([
    { c0: [1], c1: [2], acks: { 1: 100 }, want: 0 },
    { c0: [1], c1: [2], acks: { 1: 13, 2: 100 }, want: 13 },
    { c0: [1], c1: [1], acks: { 1: 100 }, want: 100 },
    { c0: [1, 3], c1: [2], acks: { 1: 100, 2: 50 }, want: 0 },
    { c0: [1, 3], c1: [2], acks: { 1: 100, 2: 50, 3: 45 }, want: 45 },
    { c0: [1, 2], c1: [2], acks: { 1: 50, 2: 100 }, want: 50 },
    { c0: [1, 2], c1: [2], acks: { 1: 100, 2: 50 }, want: 50 },
    { c0: [1, 2], c1: [3, 4], acks: { 1: 50, 2: 48, 3: 49 }, want: 0 },
    { c0: [1, 2], c1: [3, 4], acks: { 1: 50, 2: 48, 3: 49, 4: 47 }, want: 47 },
    { c0: [1, 2], c1: [2, 3], acks: { 2: 100, 3: 99 }, want: 0 },
    { c0: [1, 2], c1: [2, 3], acks: { 1: 101, 2: 100, 3: 99 }, want: 99 },
    { c0: [1, 2], c1: [1, 2], acks: { 1: 41, 2: 40 }, want: 40 },
    { c0: [1, 2, 3], c1: [4, 5, 6], acks: { 1: 100, 2: 100, 4: 99, 5: 98 }, want: 98 },
  ])("$c0 && $c1 acked $acks → $want", ({ c0, c1, acks, want }) => {
    const m = new Map(Object.entries(acks).map(([k, v]) => [BigInt(k), v as number]));
    expect(jointCommittedIndex([cfg(...c0), cfg(...c1)], acked(m))).toBe(want);
  });

  test("the empty joint configuration commits everything", () => {
    expect(jointCommittedIndex([new Set(), new Set()], acked(new Map()))).toBe(maxIndex);
  });
});

describe("majority vote result", () => {
  test.each([
    { voters: [1], votes: "_", want: VotePending },
    { voters: [1], votes: "n", want: VoteLost },
    { voters: [123], votes: "y", want: VoteWon },
    { voters: [4, 8], votes: "__", want: VotePending },
    { voters: [4, 8], votes: "n_", want: VoteLost },
    { voters: [4, 8], votes: "y_", want: VotePending },
    { voters: [4, 8], votes: "ny", want: VoteLost },
    { voters: [4, 8], votes: "yy", want: VoteWon },
    { voters: [2, 4, 7], votes: "___", want: VotePending },
    { voters: [2, 4, 7], votes: "n__", want: VotePending },
    { voters: [2, 4, 7], votes: "y__", want: VotePending },
    { voters: [2, 4, 7], votes: "nn_", want: VoteLost },
    { voters: [2, 4, 7], votes: "yn_", want: VotePending },
    { voters: [2, 4, 7], votes: "yy_", want: VoteWon },
    { voters: [2, 4, 7], votes: "yyn", want: VoteWon },
    { voters: [2, 4, 7], votes: "nyn", want: VoteLost },
    { voters: [1, 2, 3, 4, 5, 6, 7], votes: "yyny___", want: VotePending },
    { voters: [1, 2, 3, 4, 5, 6, 7], votes: "_yy_nyn", want: VotePending },
    { voters: [1, 2, 3, 4, 5, 6, 7], votes: "yyny_ny", want: VoteWon },
    { voters: [1, 2, 3, 4, 5, 6, 7], votes: "yy_nynn", want: VotePending },
    { voters: [1, 2, 3, 4, 5, 6, 7], votes: "yynynnn", want: VoteLost },
  ])("voters $voters votes $votes → $want", ({ voters, votes, want }) => {
    expect(majorityVoteResult(cfg(...voters), voteMap(voters, votes))).toBe(want);
  });

  test("the empty configuration wins every vote", () => {
    expect(majorityVoteResult(new Set(), new Map())).toBe(VoteWon);
    expect(majorityVoteResult(new Set(), voteMap([1], "n"))).toBe(VoteWon);
  });

  test("votes of non-voters are ignored", () => {
    expect(majorityVoteResult(cfg(1, 2, 3), voteMap([1, 4, 5], "yyy"))).toBe(VotePending);
  });
});

describe("joint vote result", () => {
  // Votes are given for the ids 1, 2, 3, 4 in order.
  test.each([
    { c0: [], c1: [], votes: "", want: VoteWon },
    { c0: [1], c1: [], votes: "_", want: VotePending },
    { c0: [1], c1: [], votes: "y", want: VoteWon },
    { c0: [1], c1: [], votes: "n", want: VoteLost },
    { c0: [1], c1: [1], votes: "y", want: VoteWon },
    { c0: [1], c1: [1], votes: "n", want: VoteLost },
    { c0: [1], c1: [2], votes: "__", want: VotePending },
    { c0: [1], c1: [2], votes: "y_", want: VotePending },
    { c0: [1], c1: [2], votes: "yy", want: VoteWon },
    { c0: [1], c1: [2], votes: "yn", want: VoteLost },
    { c0: [1], c1: [2], votes: "n_", want: VoteLost },
    { c0: [1], c1: [2], votes: "ny", want: VoteLost },
    { c0: [1, 2], c1: [3, 4], votes: "yy__", want: VotePending },
    { c0: [1, 2], c1: [3, 4], votes: "yyn_", want: VoteLost },
    { c0: [1, 2], c1: [3, 4], votes: "yyyn", want: VoteLost },
    { c0: [1, 2], c1: [3, 4], votes: "yyyy", want: VoteWon },
    { c0: [1, 2], c1: [2, 3], votes: "_n_", want: VoteLost },
    { c0: [1, 2], c1: [2, 3], votes: "yy_", want: VotePending },
    { c0: [1, 2], c1: [2, 3], votes: "yyn", want: VoteLost },
    { c0: [1, 2], c1: [2, 3], votes: "yyy", want: VoteWon },
  ])("$c0 && $c1 votes $votes → $want", ({ c0, c1, votes, want }) => {
    expect(jointVoteResult([cfg(...c0), cfg(...c1)], voteMap([1, 2, 3, 4], votes))).toBe(want);
  });
});

test("describe prints sorted ids", () => {
  expect(describeMajority(cfg(3, 1, 2))).toBe("(1 2 3)");
  expect(describeJoint([cfg(2, 1), new Set()])).toBe("(1 2)");
  expect(describeJoint([cfg(2, 1), cfg(4, 3)])).toBe("(1 2)&&(3 4)");
  expect([...jointIds([cfg(1, 2), cfg(2, 3)])].sort()).toEqual([1n, 2n, 3n]);
});

// ---------------------------------------------------------------------------------------------
// Properties against a naive model.

/** Naive committed index: the largest index acked (≥) by at least n/2+1 voters; no ack counts as 0. */
function naiveCommitted(voters: Set<bigint>, l: Map<bigint, number>): number {
  if (voters.size === 0) return maxIndex;
  const q = Math.floor(voters.size / 2) + 1;
  let best = 0;
  const candidates = new Set([0, ...[...voters].map((id) => l.get(id) ?? 0)]);
  for (const c of candidates) {
    let n = 0;
    for (const id of voters) if ((l.get(id) ?? 0) >= c) n++;
    if (n >= q && c > best) best = c;
  }
  return best;
}

function naiveVote(voters: Set<bigint>, votes: Map<bigint, boolean>): VoteResult {
  if (voters.size === 0) return VoteWon;
  const q = Math.floor(voters.size / 2) + 1;
  let yes = 0;
  let no = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) yes++;
    if (v === false) no++;
  }
  if (yes >= q) return VoteWon;
  if (voters.size - no < q) return VoteLost;
  return VotePending;
}

// Ids come from a small range so that the two halves of a joint config overlap often.
const idArb = fc.integer({ min: 1, max: 12 }).map(BigInt);
const votersArb = fc.uniqueArray(idArb, { maxLength: 9 }).map((a) => new Set(a));
const ackedArb = fc.array(fc.tuple(idArb, fc.integer({ min: 0, max: 20 })), { maxLength: 12 }).map((a) => new Map(a));
const votesArb = fc.array(fc.tuple(idArb, fc.boolean()), { maxLength: 12 }).map((a) => new Map(a));
const runs = { numRuns: 2000 };

describe("properties (fast-check)", () => {
  test("majority committed index equals the largest index acked by a quorum", () => {
    fc.assert(
      fc.property(votersArb, ackedArb, (voters, l) => {
        return majorityCommittedIndex(voters, acked(l)) === naiveCommitted(voters, l);
      }),
      runs,
    );
  });

  test("joint committed index is the minimum of the halves", () => {
    fc.assert(
      fc.property(votersArb, votersArb, ackedArb, (c0, c1, l) => {
        const j: JointConfig = [c0, c1];
        return jointCommittedIndex(j, acked(l)) === Math.min(naiveCommitted(c0, l), naiveCommitted(c1, l));
      }),
      runs,
    );
  });

  test("majority vote result matches counting", () => {
    fc.assert(
      fc.property(votersArb, votesArb, (voters, votes) => {
        return majorityVoteResult(voters, votes) === naiveVote(voters, votes);
      }),
      runs,
    );
  });

  test("joint vote: won iff both halves win, lost iff either loses", () => {
    fc.assert(
      fc.property(votersArb, votersArb, votesArb, (c0, c1, votes) => {
        const r0 = naiveVote(c0, votes);
        const r1 = naiveVote(c1, votes);
        const want = r0 === VoteWon && r1 === VoteWon ? VoteWon : r0 === VoteLost || r1 === VoteLost ? VoteLost : VotePending;
        return jointVoteResult([c0, c1], votes) === want;
      }),
      runs,
    );
  });

  test("acking a higher index never lowers the committed index", () => {
    fc.assert(
      fc.property(votersArb.filter((v) => v.size > 0), ackedArb, idArb, fc.integer({ min: 0, max: 20 }), (voters, l, id, bump) => {
        const before = majorityCommittedIndex(voters, acked(l));
        const more = new Map(l);
        more.set(id, Math.max(l.get(id) ?? 0, bump));
        return majorityCommittedIndex(voters, acked(more)) >= before;
      }),
      runs,
    );
  });
});
