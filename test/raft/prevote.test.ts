/**
 * Pre-vote (Raft thesis §9.6): a node first asks whether it could win an election for term+1,
 * without changing any term, and only then campaigns for real. Ported from etcd's raft_test.go
 * (TestLeaderElectionPreVote, TestPreVoteWithSplitVote, TestPreVoteWithCheckQuorum,
 * TestPreVoteMigration*, TestNodeWithSmallerTermCanCompleteElection, TestDisruptiveFollower*,
 * TestRecvMsgPreVote, TestPreVoteFromAnyState, TestLearnerCampaign, …), adapted to a core that counts
 * its own vote synchronously.
 */
import { describe, expect, test } from "vitest";
import { type Config, Raft, StateType } from "../../src/raft/raft.js";
import {
  ConfChangeType,
  type Message,
  MessageType,
  None,
  asV2,
  newConfChange,
  newEntry,
  newMessage,
} from "../../src/raft/raftpb.js";
import { MemoryStorage } from "../../src/raft/storage.js";
import {
  entsWithConfig,
  newNetwork,
  newNetworkWithConfig,
  newTestMemoryStorage,
  newTestRaft,
  nopStepper,
  readMessages,
  votedWithConfig,
  withPeers,
} from "./harness.js";
import {
  beat,
  hup,
  peer,
  prop,
  setPreVote,
  setRandomizedElectionTimeout,
  states,
  terms,
  tickN,
  withConfig,
} from "./election-helpers.js";

const preVote: Partial<Config> = { preVote: true };

/** Three rafts of a 1,2,3 cluster, each a follower at term 1 with no leader (etcd's usual opening). */
function threeAtTermOne(extra: Partial<Config>): [Raft, Raft, Raft] {
  const rs = [1n, 2n, 3n].map((id) => newTestRaft(id, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), extra));
  for (const r of rs) r.becomeFollower(1, None);
  return rs as [Raft, Raft, Raft];
}

function stateOf(r: Raft): string {
  return StateType[r.state];
}

describe("pre-vote elections", () => {
  // testLeaderElection(preVote=true): a failed election leaves the campaigner a pre-candidate at
  // its old term, instead of a candidate at term 1.
  const cases: { name: string; peers: () => (Raft | typeof nopStepper | null)[]; state: StateType; term: number }[] = [
    { name: "3 of 3 up", peers: () => [null, null, null], state: StateType.StateLeader, term: 1 },
    { name: "2 of 3 up", peers: () => [null, null, nopStepper], state: StateType.StateLeader, term: 1 },
    { name: "1 of 3 up", peers: () => [null, nopStepper, nopStepper], state: StateType.StatePreCandidate, term: 0 },
    { name: "2 of 4 up", peers: () => [null, nopStepper, nopStepper, null], state: StateType.StatePreCandidate, term: 0 },
    { name: "3 of 5 up", peers: () => [null, nopStepper, nopStepper, null, null], state: StateType.StateLeader, term: 1 },
    {
      // Three logs ahead of node 1 at term 1: their rejections carry term 1, which node 1 adopts.
      name: "a majority with longer logs",
      peers: () => [null, entsWithConfig(preVote, 1), entsWithConfig(preVote, 1), entsWithConfig(preVote, 1, 1), null],
      state: StateType.StateFollower,
      term: 1,
    },
  ];
  test.each(cases.map((c) => ({ ...c, role: StateType[c.state] })))("MsgHup with $name: node 1 ends $role at term $term", ({ peers, state, term }) => {
    const nt = newNetworkWithConfig(withConfig(preVote), ...peers());
    nt.send(hup(1n));
    const sm = peer(nt, 1n);
    expect(stateOf(sm)).toBe(StateType[state]);
    expect(sm.term).toBe(term);
  });

  test("each node in turn campaigns through pre-vote and wins (testLeaderCycle)", () => {
    const nt = newNetworkWithConfig(withConfig(preVote), null, null, null);
    for (const campaigner of [1n, 2n, 3n]) {
      nt.send(hup(campaigner));
      for (const id of [1n, 2n, 3n]) {
        expect(stateOf(peer(nt, id)), `campaigner ${campaigner}, node ${id}`).toBe(
          id === campaigner ? "StateLeader" : "StateFollower",
        );
      }
    }
    expect(terms(peer(nt, 1n), peer(nt, 2n), peer(nt, 3n))).toEqual([3, 3, 3]);
  });

  test("a winner of a later term overwrites newer uncommitted entries (testLeaderElectionOverwriteNewerLogs)", () => {
    const nt = newNetworkWithConfig(
      withConfig(preVote),
      entsWithConfig(preVote, 1),
      entsWithConfig(preVote, 1),
      entsWithConfig(preVote, 2),
      votedWithConfig(preVote, 3n, 2),
      votedWithConfig(preVote, 3n, 2),
    );
    // A quorum knows of term 2: node 1's pre-vote is rejected at term 2, which it adopts.
    nt.send(hup(1n));
    const sm1 = peer(nt, 1n);
    expect(stateOf(sm1)).toBe("StateFollower");
    expect(sm1.term).toBe(2);

    nt.send(hup(1n));
    expect(stateOf(sm1)).toBe("StateLeader");
    expect(sm1.term).toBe(3);
    for (const id of [1n, 2n, 3n, 4n, 5n]) {
      expect(peer(nt, id).raftLog.allEntries().map((e) => e.term), `node ${id}`).toEqual([1, 3]);
    }
  });

  test("a single voter wins its pre-vote and its election at once", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)), preVote);
    r.step(hup(1n));
    expect(stateOf(r)).toBe("StateLeader");
    expect(r.term).toBe(1);
    expect(r.vote).toBe(1n);
  });

  test("MsgHup to a pre-vote leader changes nothing (TestPreCampaignWhileLeader)", () => {
    const r = newTestRaft(1n, 5, 1, newTestMemoryStorage(withPeers(1n)), preVote);
    r.step(hup(1n));
    expect(stateOf(r)).toBe("StateLeader");
    const term = r.term;
    r.step(hup(1n));
    expect(stateOf(r)).toBe("StateLeader");
    expect(r.term).toBe(term);
  });
});

describe("pre-candidate state", () => {
  test("an election timeout makes a pre-vote follower a pre-candidate: same term and vote, no leader", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
    r.becomeFollower(2, 2n);
    r.vote = 2n;
    tickN(r, r.randomizedElectionTimeout);
    expect(stateOf(r)).toBe("StatePreCandidate");
    expect(r.term).toBe(2);
    expect(r.vote).toBe(2n);
    expect(r.lead).toBe(None);
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.to, m.term])).toEqual([
      [MessageType.MsgPreVote, 2n, 3],
      [MessageType.MsgPreVote, 3n, 3],
    ]);
  });

  test("pre-vote requests carry term+1 and the last log position", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    s.append([newEntry({ index: 1, term: 1 }), newEntry({ index: 2, term: 2 })]);
    const r = newTestRaft(1n, 10, 1, s, preVote);
    r.becomeFollower(2, None);
    r.step(hup(1n));
    for (const m of readMessages(r)) {
      expect(m.type).toBe(MessageType.MsgPreVote);
      expect(m.term).toBe(3);
      expect(m.index).toBe(2);
      expect(m.logTerm).toBe(2);
    }
    expect(r.term).toBe(2);
  });

  test("a quorum of granted pre-votes starts a real election at term+1", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
    r.becomeFollower(1, None);
    r.step(hup(1n));
    readMessages(r);
    expect(stateOf(r)).toBe("StatePreCandidate");
    // Granted pre-votes carry the term asked for, above ours: that alone must not move our term.
    r.step(newMessage({ from: 2n, to: 1n, term: 2, type: MessageType.MsgPreVoteResp }));
    expect(stateOf(r)).toBe("StateCandidate");
    expect(r.term).toBe(2);
    expect(r.vote).toBe(1n);
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.to, m.term])).toEqual([
      [MessageType.MsgVote, 2n, 2],
      [MessageType.MsgVote, 3n, 2],
    ]);
    for (const m of msgs) expect(m.context.length).toBe(0);
  });

  test("a quorum of rejections at our term makes a pre-candidate a follower at the same term", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
    r.becomeFollower(1, None);
    r.step(hup(1n));
    r.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgPreVoteResp, reject: true }));
    expect(stateOf(r)).toBe("StatePreCandidate");
    r.step(newMessage({ from: 3n, to: 1n, term: 1, type: MessageType.MsgPreVoteResp, reject: true }));
    expect(stateOf(r)).toBe("StateFollower");
    expect(r.term).toBe(1);
  });

  test("a rejection at a higher term makes a pre-candidate a follower at that term", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
    r.becomeFollower(1, None);
    r.step(hup(1n));
    r.step(newMessage({ from: 2n, to: 1n, term: 5, type: MessageType.MsgPreVoteResp, reject: true }));
    expect(stateOf(r)).toBe("StateFollower");
    expect(r.term).toBe(5);
    expect(r.lead).toBe(None);
  });

  test("a pre-candidate counts only pre-vote answers, a candidate only vote answers", () => {
    const pre = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
    pre.becomeFollower(1, None);
    pre.step(hup(1n));
    pre.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgVoteResp }));
    pre.step(newMessage({ from: 3n, to: 1n, term: 1, type: MessageType.MsgVoteResp }));
    expect(stateOf(pre)).toBe("StatePreCandidate");
    expect(pre.term).toBe(1);

    const cand = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    cand.step(hup(1n));
    cand.step(newMessage({ from: 2n, to: 1n, term: cand.term, type: MessageType.MsgPreVoteResp }));
    cand.step(newMessage({ from: 3n, to: 1n, term: cand.term, type: MessageType.MsgPreVoteResp }));
    expect(stateOf(cand)).toBe("StateCandidate");
    cand.step(newMessage({ from: 2n, to: 1n, term: cand.term, type: MessageType.MsgVoteResp }));
    expect(stateOf(cand)).toBe("StateLeader");
  });

  test.each(["MsgHeartbeat", "MsgApp"] as const)(
    "a pre-candidate hearing %s from the leader of its term becomes its follower",
    (name) => {
      const type = MessageType[name];
      const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
      r.becomeFollower(2, None);
      r.step(hup(1n));
      expect(stateOf(r)).toBe("StatePreCandidate");
      r.step(newMessage({ from: 3n, to: 1n, term: 2, type }));
      expect(stateOf(r)).toBe("StateFollower");
      expect(r.lead).toBe(3n);
      expect(r.term).toBe(2);
    },
  );

  test.each(["MsgHeartbeat", "MsgApp"] as const)(
    "an isolated pre-candidate rejoins as a follower at the leader's term on %s (testCandidateResetTerm)",
    (name) => {
      const type = MessageType[name];
      const [a, b, c] = threeAtTermOne(preVote);
      const nt = newNetwork(a, b, c);
      nt.send(hup(1n));
      expect(states(a, b, c)).toEqual(["StateLeader", "StateFollower", "StateFollower"]);

      // Raise the term among 1 and 2 while 3 cannot hear.
      nt.isolate(3n);
      nt.send(hup(2n));
      nt.send(hup(1n));
      expect(states(a, b)).toEqual(["StateLeader", "StateFollower"]);
      expect(a.term).toBe(4);

      c.resetRandomizedElectionTimeout();
      tickN(c, c.randomizedElectionTimeout);
      expect(stateOf(c)).toBe("StatePreCandidate");
      expect(c.term).toBe(2);

      nt.recover();
      nt.send(newMessage({ from: 1n, to: 3n, term: a.term, type }));
      expect(stateOf(c)).toBe("StateFollower");
      expect(c.term).toBe(a.term);
      expect(c.lead).toBe(1n);
    },
  );

  test("state transitions into and out of pre-candidate (TestStateTransition)", () => {
    const fresh = (): Raft => newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)));

    const follower = fresh();
    follower.becomePreCandidate();
    expect(follower.term).toBe(0);
    expect(follower.lead).toBe(None);

    const pre = fresh();
    pre.state = StateType.StatePreCandidate;
    pre.becomeCandidate();
    expect(pre.term).toBe(1);
    pre.state = StateType.StatePreCandidate;
    pre.becomeLeader();
    expect(pre.lead).toBe(1n);

    const candidate = fresh();
    candidate.state = StateType.StateCandidate;
    candidate.becomePreCandidate();
    expect(stateOf(candidate)).toBe("StatePreCandidate");

    const leader = fresh();
    leader.state = StateType.StateLeader;
    expect(() => leader.becomePreCandidate()).toThrow();
    expect(() => leader.becomeCandidate()).toThrow();
  });

  test.each(["MsgVote", "MsgApp"] as const)(
    "a pre-candidate steps down on %s of a higher term (TestAllServerStepdown)",
    (name) => {
      const type = MessageType[name];
      const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
      r.becomePreCandidate();
      r.step(newMessage({ from: 2n, type, term: 3, logTerm: 3 }));
      expect(stateOf(r)).toBe("StateFollower");
      expect(r.term).toBe(3);
      expect(r.raftLog.lastIndex()).toBe(0);
      expect(r.lead).toBe(type === MessageType.MsgVote ? None : 2n);
    },
  );
});

describe("answering pre-votes", () => {
  test("a granted pre-vote answer carries the request's term and changes neither term nor vote", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
    r.becomeFollower(1, None);
    r.step(newMessage({ from: 2n, to: 1n, term: 3, type: MessageType.MsgPreVote, index: 5, logTerm: 1 }));
    expect(readMessages(r).map((m) => [m.type, m.to, m.term, m.reject])).toEqual([[MessageType.MsgPreVoteResp, 2n, 3, false]]);
    expect(r.term).toBe(1);
    expect(r.vote).toBe(None);
    expect(stateOf(r)).toBe("StateFollower");

    // Nothing was recorded: another node's pre-vote for the same term is granted too.
    r.step(newMessage({ from: 3n, to: 1n, term: 3, type: MessageType.MsgPreVote, index: 5, logTerm: 1 }));
    expect(readMessages(r).map((m) => [m.to, m.term, m.reject])).toEqual([[3n, 3, false]]);
  });

  test("a pre-vote from a shorter or older log is rejected at our own term", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    s.append([newEntry({ index: 1, term: 1 }), newEntry({ index: 2, term: 2 })]);
    const r = newTestRaft(1n, 10, 1, s, preVote);
    r.becomeFollower(2, None);
    for (const [index, logTerm] of [
      [1, 2],
      [5, 1],
    ] as const) {
      r.step(newMessage({ from: 2n, to: 1n, term: 3, type: MessageType.MsgPreVote, index, logTerm }));
      expect(readMessages(r).map((m) => [m.type, m.term, m.reject]), `index ${index} logTerm ${logTerm}`).toEqual([
        [MessageType.MsgPreVoteResp, 2, true],
      ]);
    }
    expect(r.term).toBe(2);
  });

  test("a pre-vote of a lower term is rejected at our term, a vote of a lower term is ignored", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), preVote);
    r.becomeFollower(5, None);
    r.step(newMessage({ from: 2n, to: 1n, term: 3, type: MessageType.MsgPreVote, index: 9, logTerm: 9 }));
    expect(readMessages(r).map((m) => [m.type, m.to, m.term, m.reject])).toEqual([[MessageType.MsgPreVoteResp, 2n, 5, true]]);
    r.step(newMessage({ from: 2n, to: 1n, term: 3, type: MessageType.MsgVote, index: 9, logTerm: 9 }));
    expect(readMessages(r)).toEqual([]);
    expect(r.term).toBe(5);
  });

  // testRecvMsgVote(MsgPreVote): our log is [1:2, 2:2]; terms are equal, so only the log and any
  // vote already cast decide.
  const recvCases: { state: StateType; index: number; logTerm: number; voteFor: bigint; reject: boolean }[] = [
    ...[0, 1, 2, 3].flatMap((index) =>
      [0, 1, 2, 3].map((logTerm) => ({
        state: StateType.StateFollower,
        index,
        logTerm,
        voteFor: None,
        reject: logTerm < 2 || (logTerm === 2 && index < 2),
      })),
    ),
    { state: StateType.StateFollower, index: 3, logTerm: 2, voteFor: 2n, reject: false },
    { state: StateType.StateFollower, index: 3, logTerm: 2, voteFor: 1n, reject: true },
    { state: StateType.StateLeader, index: 3, logTerm: 3, voteFor: 1n, reject: true },
    { state: StateType.StatePreCandidate, index: 3, logTerm: 3, voteFor: 1n, reject: true },
    { state: StateType.StateCandidate, index: 3, logTerm: 3, voteFor: 1n, reject: true },
  ];
  test.each(recvCases.map((c) => ({ ...c, role: StateType[c.state] })))(
    "MsgPreVote index $index logTerm $logTerm to $role having voted $voteFor: reject=$reject",
    ({ state, index, logTerm, voteFor, reject }) => {
      const s = newTestMemoryStorage(withPeers(1n));
      s.append([newEntry({ index: 1, term: 2 }), newEntry({ index: 2, term: 2 })]);
      const r = newTestRaft(1n, 10, 1, s);
      r.state = state;
      r.vote = voteFor;
      const term = Math.max(2, logTerm);
      r.term = term;
      r.step(newMessage({ type: MessageType.MsgPreVote, term, from: 2n, index, logTerm }));
      const msgs = readMessages(r);
      expect(msgs.map((m) => [m.type, m.reject])).toEqual([[MessageType.MsgPreVoteResp, reject]]);
    },
  );

  test.each(["StateFollower", "StatePreCandidate", "StateCandidate", "StateLeader"] as const)(
    "a pre-vote for a higher term from an up-to-date log is granted in %s, which changes nothing (TestPreVoteFromAnyState)",
    (name) => {
      const st = StateType[name];
      const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
      r.term = 1;
      if (st === StateType.StateFollower) r.becomeFollower(r.term, 3n);
      else if (st === StateType.StatePreCandidate) r.becomePreCandidate();
      else if (st === StateType.StateCandidate) r.becomeCandidate();
      else {
        r.becomeCandidate();
        r.becomeLeader();
      }
      readMessages(r);
      const origTerm = r.term;
      const origVote = r.vote;
      r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgPreVote, term: origTerm + 1, logTerm: origTerm + 1, index: 42 }));
      expect(readMessages(r).map((m) => [m.type, m.reject, m.term])).toEqual([[MessageType.MsgPreVoteResp, false, origTerm + 1]]);
      expect(r.state).toBe(st);
      expect(r.term).toBe(origTerm);
      expect(r.vote).toBe(origVote);
    },
  );

  test("the same request as a real vote resets the voter to a follower at the new term", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    r.term = 1;
    r.becomeCandidate();
    r.becomeLeader();
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgVote, term: 3, logTerm: 3, index: 42 }));
    expect(readMessages(r).map((m) => [m.type, m.reject])).toEqual([[MessageType.MsgVoteResp, false]]);
    expect(stateOf(r)).toBe("StateFollower");
    expect(r.term).toBe(3);
    expect(r.vote).toBe(2n);
  });
});

describe("pre-vote keeps partitioned nodes from disrupting the cluster", () => {
  test.each([true, false])("preVote=%s: a node partitioned through several timeouts rejoins", (pv) => {
    const nt = newNetworkWithConfig(withConfig({ preVote: pv }), null, null, null);
    const [n1, , n3] = [peer(nt, 1n), peer(nt, 2n), peer(nt, 3n)];
    nt.send(hup(1n));
    expect(stateOf(n1)).toBe("StateLeader");
    const leaderTerm = n1.term;

    nt.isolate(3n);
    nt.send(prop(1n, "while 3 is away"));
    tickN(n3, 3 * 2 * n3.electionTimeout);
    readMessages(n3); // lost in the partition
    nt.recover();

    // The rejoining node's election timer fires before it hears from the leader.
    n3.resetRandomizedElectionTimeout();
    tickN(n3, n3.randomizedElectionTimeout);
    nt.send(...readMessages(n3));
    nt.send(beat(1n));

    if (pv) {
      expect(stateOf(n1)).toBe("StateLeader");
      expect(n1.term).toBe(leaderTerm);
      expect(n3.term).toBe(leaderTerm);
      expect(stateOf(n3)).toBe("StateFollower");
      expect(n3.lead).toBe(1n);
      expect(n3.raftLog.lastIndex()).toBe(n1.raftLog.lastIndex());
    } else {
      // Without pre-vote the isolated node's inflated term forces the leader out.
      expect(n3.term).toBeGreaterThan(leaderTerm + 2);
      expect(n1.term).toBe(n3.term);
      expect(n1.state === StateType.StateLeader && n1.term === leaderTerm).toBe(false);
    }
  });

  test("a split vote is resolved in the next round (TestPreVoteWithSplitVote)", () => {
    const [n1, n2, n3] = threeAtTermOne(preVote);
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1n));

    // The leader goes down; 2 and 3 time out together and each votes for itself.
    nt.isolate(1n);
    nt.send(hup(2n), hup(3n));
    expect(terms(n2, n3)).toEqual([3, 3]);
    expect(states(n2, n3)).toEqual(["StateCandidate", "StateCandidate"]);

    nt.send(hup(2n));
    expect(terms(n2, n3)).toEqual([4, 4]);
    expect(states(n2, n3)).toEqual(["StateLeader", "StateFollower"]);
  });

  test("with check-quorum, a pre-candidate that lost the leader can still elect one (TestPreVoteWithCheckQuorum)", () => {
    const [n1, n2, n3] = threeAtTermOne({ preVote: true, checkQuorum: true });
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1n));
    nt.isolate(1n);
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StateFollower"]);

    // 2 still believes in its leader's lease and ignores 3's pre-vote; 3, having no leader, grants 2's.
    nt.send(hup(3n));
    expect(stateOf(n3)).toBe("StatePreCandidate");
    nt.send(hup(2n));
    expect(states(n2, n3)).toEqual(["StateLeader", "StateFollower"]);
  });

  test("a node with a smaller term can still complete an election (TestNodeWithSmallerTermCanCompleteElection)", () => {
    const [n1, n2, n3] = threeAtTermOne(preVote);
    const nt = newNetwork(n1, n2, n3);
    nt.cut(1n, 3n);
    nt.cut(2n, 3n);

    nt.send(hup(1n));
    expect(states(n1, n2)).toEqual(["StateLeader", "StateFollower"]);
    nt.send(hup(3n));
    expect(stateOf(n3)).toBe("StatePreCandidate");
    nt.send(hup(2n));
    expect(terms(n1, n2, n3)).toEqual([3, 3, 1]);
    expect(states(n1, n2, n3)).toEqual(["StateFollower", "StateLeader", "StatePreCandidate"]);

    // 3 comes back just as the leader (2) goes away.
    nt.recover();
    nt.cut(2n, 1n);
    nt.cut(2n, 3n);
    nt.send(hup(3n));
    // 1's rejection at term 3 tells 3 the current term.
    expect(stateOf(n3)).toBe("StateFollower");
    expect(n3.term).toBe(3);
    nt.send(hup(1n));
    expect(n1.state === StateType.StateLeader || n3.state === StateType.StateLeader).toBe(true);
    expect(stateOf(n1)).toBe("StateLeader");
    expect(n1.term).toBe(4);
  });

  test("delayed heartbeat to a candidate with a higher term makes the leader step down (TestDisruptiveFollower)", () => {
    const [n1, n2, n3] = threeAtTermOne({ checkQuorum: true });
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1n));
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StateFollower"]);

    // n3's last election tick elapses before the leader's heartbeat arrives.
    setRandomizedElectionTimeout(n3, n3.electionTimeout + 2);
    tickN(n3, n3.randomizedElectionTimeout - 1);
    expect(stateOf(n3)).toBe("StateFollower");
    n3.tick();
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StateCandidate"]);
    expect(terms(n1, n2, n3)).toEqual([2, 2, 3]);

    // The late heartbeat is answered at n3's higher term, which the leader adopts.
    nt.send(newMessage({ from: 1n, to: 3n, term: n1.term, type: MessageType.MsgHeartbeat }));
    expect(states(n1, n2, n3)).toEqual(["StateFollower", "StateFollower", "StateCandidate"]);
    expect(terms(n1, n2, n3)).toEqual([3, 2, 3]);
  });

  test("with pre-vote, the late heartbeat leaves the leader in place (TestDisruptiveFollowerPreVote)", () => {
    const [n1, n2, n3] = threeAtTermOne({ checkQuorum: true });
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1n));
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StateFollower"]);

    nt.isolate(3n);
    for (let i = 0; i < 3; i++) nt.send(prop(1n, "somedata"));
    for (const r of [n1, n2, n3]) setPreVote(r, true);
    nt.recover();
    nt.send(hup(3n));
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StatePreCandidate"]);
    expect(terms(n1, n2, n3)).toEqual([2, 2, 2]);

    nt.send(newMessage({ from: 1n, to: 3n, term: n1.term, type: MessageType.MsgHeartbeat }));
    expect(stateOf(n1)).toBe("StateLeader");
    expect(n1.term).toBe(2);
  });
});

describe("migrating a cluster to pre-vote", () => {
  /**
   * n1 leads at term 2 and n2 follows, both with pre-vote; n3 ran without pre-vote while partitioned,
   * reaching term 4 as a candidate with a shorter log, then restarts with pre-vote and rejoins.
   */
  function newPreVoteMigrationCluster() {
    const [n1, n2, n3] = threeAtTermOne({});
    setPreVote(n1, true);
    setPreVote(n2, true);
    const nt = newNetwork(n1, n2, n3);
    nt.send(hup(1n));

    nt.isolate(3n);
    nt.send(prop(1n, "some data"));
    nt.send(hup(3n));
    nt.send(hup(3n));
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StateCandidate"]);
    expect(terms(n1, n2, n3)).toEqual([2, 2, 4]);

    setPreVote(n3, true);
    nt.recover();
    return { nt, n1, n2, n3 };
  }

  test("the cluster completes an election when the leader goes away (TestPreVoteMigrationCanCompleteElection)", () => {
    const { nt, n2, n3 } = newPreVoteMigrationCluster();
    nt.isolate(1n);

    nt.send(hup(3n));
    nt.send(hup(2n));
    // n3's rejection of n2's pre-vote carries term 4, which n2 adopts.
    expect(states(n2, n3)).toEqual(["StateFollower", "StatePreCandidate"]);
    expect(n2.term).toBe(4);

    nt.send(hup(3n));
    nt.send(hup(2n));
    expect(n2.state === StateType.StateLeader || n3.state === StateType.StateFollower).toBe(true);
    expect(states(n2, n3)).toEqual(["StateLeader", "StateFollower"]);
    expect(n2.term).toBe(5);
  });

  test("a stuck pre-candidate with a higher term is freed by the leader's heartbeat (TestPreVoteMigrationWithFreeStuckPreCandidate)", () => {
    const { nt, n1, n2, n3 } = newPreVoteMigrationCluster();

    nt.send(hup(3n));
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StatePreCandidate"]);
    nt.send(hup(3n));
    expect(states(n1, n2, n3)).toEqual(["StateLeader", "StateFollower", "StatePreCandidate"]);

    nt.send(newMessage({ from: 1n, to: 3n, term: n1.term, type: MessageType.MsgHeartbeat }));
    expect(stateOf(n1)).toBe("StateFollower");
    expect(n1.term).toBe(n3.term);
    expect(n3.term).toBe(4);
  });
});

describe("learners do not campaign", () => {
  test("a learner ignores MsgHup and MsgTimeoutNow (TestLearnerCampaign)", () => {
    const addLearner2 = asV2(newConfChange({ nodeId: 2n, type: ConfChangeType.ConfChangeAddLearnerNode }));
    const n1 = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)), preVote);
    n1.applyConfChange(addLearner2);
    const n2 = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n)), preVote);
    n2.applyConfChange(addLearner2);
    const nt = newNetwork(n1, n2);

    nt.send(hup(2n));
    expect(n2.isLearner).toBe(true);
    expect(stateOf(n2)).toBe("StateFollower");
    expect(n2.term).toBe(0);

    nt.send(hup(1n));
    expect(stateOf(n1)).toBe("StateLeader");
    expect(n1.lead).toBe(1n);

    // The leader checks for learners before a transfer, but n2 may have been demoted since.
    nt.send(newMessage({ from: 1n, to: 2n, term: n1.term, type: MessageType.MsgTimeoutNow }));
    expect(stateOf(n2)).toBe("StateFollower");
    expect(n2.term).toBe(n1.term);
    expect(stateOf(n1)).toBe("StateLeader");
  });

  test("a learner's election timeout never fires a pre-vote", () => {
    const s = new MemoryStorage();
    const r = newTestRaft(2n, 10, 1, s, preVote);
    r.applyConfChange(asV2(newConfChange({ nodeId: 1n, type: ConfChangeType.ConfChangeAddNode })));
    r.applyConfChange(asV2(newConfChange({ nodeId: 2n, type: ConfChangeType.ConfChangeAddLearnerNode })));
    tickN(r, 4 * r.electionTimeout);
    expect(stateOf(r)).toBe("StateFollower");
    expect(readMessages(r)).toEqual([] as Message[]);
  });
});
