/**
 * Check-quorum and the leader lease (Raft thesis §6.2 and §4.2.3): a leader that has not heard from
 * a quorum within an election timeout steps down, and a node that heard from a leader within the
 * minimum election timeout neither grants votes nor bumps its term for them. Ported from etcd's
 * raft_test.go (TestLeaderStepdownWhenQuorum*, TestLeader*WithCheckQuorum, TestFreeStuckCandidate*,
 * TestNonPromotableVoterWithCheckQuorum, TestAddNodeCheckQuorum, TestStepIgnoreOldTermMsg).
 */
import { describe, expect, test } from "vitest";
import { type Config, Raft, StateType } from "../../src/raft/raft.js";
import { ConfChangeType, MessageType, None, asV2, newConfChange, newEntry, newMessage } from "../../src/raft/raftpb.js";
import { newNetwork, newTestMemoryStorage, newTestRaft, readMessages, withLearners, withPeers } from "./harness.js";
import { hup, setRandomizedElectionTimeout, states, tickN } from "./election-helpers.js";

const checkQuorum: Partial<Config> = { checkQuorum: true };

function newCluster(n: number, extra: Partial<Config>, election = 10): Raft[] {
  const peers = Array.from({ length: n }, (_, i) => BigInt(i + 1));
  return peers.map((id) => newTestRaft(id, election, 1, newTestMemoryStorage(withPeers(...peers)), extra));
}

function newLeader(peers: bigint[], extra: Partial<Config>, election = 5): Raft {
  const r = newTestRaft(1n, election, 1, newTestMemoryStorage(withPeers(...peers)), extra);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  return r;
}

function heartbeatResp(from: bigint, r: Raft) {
  return newMessage({ from, to: r.id, type: MessageType.MsgHeartbeatResp, term: r.term });
}

const stateOf = (r: Raft): string => StateType[r.state];

describe("the leader steps down without a quorum of recent contact", () => {
  test("a leader that keeps hearing from a follower stays leader (TestLeaderStepdownWhenQuorumActive)", () => {
    const r = newLeader([1n, 2n, 3n], checkQuorum);
    for (let i = 0; i < 3 * r.electionTimeout + 1; i++) {
      r.step(heartbeatResp(2n, r));
      r.tick();
    }
    expect(stateOf(r)).toBe("StateLeader");
  });

  test("a leader that hears from nobody steps down at its first check (TestLeaderStepdownWhenQuorumLost)", () => {
    const r = newLeader([1n, 2n, 3n], checkQuorum);
    const term = r.term;
    tickN(r, r.electionTimeout - 1);
    expect(stateOf(r)).toBe("StateLeader");
    r.tick();
    expect(stateOf(r)).toBe("StateFollower");
    expect(r.term).toBe(term);
    expect(r.lead).toBe(None);
  });

  test("without check-quorum the same leader never steps down", () => {
    const r = newLeader([1n, 2n, 3n], {});
    tickN(r, 10 * r.electionTimeout);
    expect(stateOf(r)).toBe("StateLeader");
  });

  test("each check needs contact since the previous one", () => {
    const r = newLeader([1n, 2n, 3n], checkQuorum);
    r.step(heartbeatResp(3n, r));
    tickN(r, r.electionTimeout);
    expect(stateOf(r)).toBe("StateLeader");
    // The check cleared every follower's activity; silence for one more round ends the term.
    expect(r.trk.progress.get(3n)!.recentActive).toBe(false);
    expect(r.trk.progress.get(1n)!.recentActive).toBe(true);
    tickN(r, r.electionTimeout);
    expect(stateOf(r)).toBe("StateFollower");
  });

  test("any message from a follower counts as contact: a MsgAppResp keeps the lease", () => {
    const r = newLeader([1n, 2n, 3n], checkQuorum);
    tickN(r, r.electionTimeout - 1);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: r.raftLog.lastIndex() }));
    r.tick();
    expect(stateOf(r)).toBe("StateLeader");
  });

  test("in five voters, contact with one follower is not a quorum, with two it is", () => {
    const lonely = newLeader([1n, 2n, 3n, 4n, 5n], checkQuorum);
    lonely.step(heartbeatResp(2n, lonely));
    tickN(lonely, lonely.electionTimeout);
    expect(stateOf(lonely)).toBe("StateFollower");

    const ok = newLeader([1n, 2n, 3n, 4n, 5n], checkQuorum);
    ok.step(heartbeatResp(2n, ok));
    ok.step(heartbeatResp(5n, ok));
    tickN(ok, ok.electionTimeout);
    expect(stateOf(ok)).toBe("StateLeader");
  });

  test("learners do not count toward the quorum", () => {
    const r = newTestRaft(1n, 5, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n), withLearners(4n, 5n)), checkQuorum);
    r.becomeCandidate();
    r.becomeLeader();
    r.step(heartbeatResp(4n, r));
    r.step(heartbeatResp(5n, r));
    tickN(r, r.electionTimeout);
    expect(stateOf(r)).toBe("StateFollower");
  });

  test("a node added near the end of a round counts as active for that round (TestAddNodeCheckQuorum)", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)), checkQuorum);
    r.becomeCandidate();
    r.becomeLeader();
    tickN(r, r.electionTimeout - 1);
    r.applyConfChange(asV2(newConfChange({ nodeId: 2n, type: ConfChangeType.ConfChangeAddNode })));
    r.tick();
    expect(stateOf(r)).toBe("StateLeader");
    tickN(r, r.electionTimeout);
    expect(stateOf(r)).toBe("StateFollower");
  });
});

describe("the lease: no votes for others while a leader is heard from", () => {
  function followerOf2(extra: Partial<Config>): Raft {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), extra);
    r.becomeFollower(2, 2n);
    return r;
  }

  test.each(["MsgVote", "MsgPreVote"] as const)("a follower in its lease ignores %s of a higher term", (name) => {
    const r = followerOf2(checkQuorum);
    r.electionElapsed = r.electionTimeout - 1;
    r.step(newMessage({ from: 3n, to: 1n, type: MessageType[name], term: 3, index: 10, logTerm: 3 }));
    expect(readMessages(r)).toEqual([]);
    expect(r.term).toBe(2);
    expect(r.vote).toBe(None);
    expect(r.lead).toBe(2n);
  });

  test.each(["MsgVote", "MsgPreVote"] as const)("once the lease has run out, %s is granted", (name) => {
    const r = followerOf2(checkQuorum);
    r.electionElapsed = r.electionTimeout;
    r.step(newMessage({ from: 3n, to: 1n, type: MessageType[name], term: 3, index: 10, logTerm: 3 }));
    expect(readMessages(r).map((m) => [m.type, m.term, m.reject])).toEqual([
      [name === "MsgVote" ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp, 3, false],
    ]);
  });

  test("with no known leader, or without check-quorum, there is no lease", () => {
    const leaderless = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), checkQuorum);
    leaderless.becomeFollower(2, None);
    leaderless.step(newMessage({ from: 3n, to: 1n, type: MessageType.MsgVote, term: 3, index: 10, logTerm: 3 }));
    expect(readMessages(leaderless).map((m) => m.reject)).toEqual([false]);
    expect(leaderless.vote).toBe(3n);

    const noCheck = followerOf2({});
    noCheck.step(newMessage({ from: 3n, to: 1n, type: MessageType.MsgVote, term: 3, index: 10, logTerm: 3 }));
    expect(readMessages(noCheck).map((m) => m.reject)).toEqual([false]);
    expect(noCheck.term).toBe(3);
  });

  test("a leader within its lease ignores a vote request of a higher term", () => {
    const r = newLeader([1n, 2n, 3n], checkQuorum, 10);
    const term = r.term;
    r.step(newMessage({ from: 3n, to: 1n, type: MessageType.MsgVote, term: term + 5, index: 10, logTerm: term + 5 }));
    expect(stateOf(r)).toBe("StateLeader");
    expect(r.term).toBe(term);
    expect(readMessages(r)).toEqual([]);
  });

  test("a leader's vote ends when others grant it after the lease runs out (TestLeaderSupersedingWithCheckQuorum)", () => {
    const [a, b, c] = newCluster(3, checkQuorum) as [Raft, Raft, Raft];
    const nt = newNetwork(a, b, c);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    tickN(b, b.electionTimeout);
    nt.send(hup(1n));
    expect(stateOf(a)).toBe("StateLeader");
    expect(stateOf(c)).toBe("StateFollower");

    // b heard from the leader just now: it ignores c.
    nt.send(hup(3n));
    expect(stateOf(c)).toBe("StateCandidate");

    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    tickN(b, b.electionTimeout);
    nt.send(hup(3n));
    expect(stateOf(c)).toBe("StateLeader");
  });

  test("an election succeeds once a quorum's lease has run out (TestLeaderElectionWithCheckQuorum)", () => {
    const [a, b, c] = newCluster(3, checkQuorum) as [Raft, Raft, Raft];
    const nt = newNetwork(a, b, c);
    setRandomizedElectionTimeout(a, a.electionTimeout + 1);
    setRandomizedElectionTimeout(b, b.electionTimeout + 2);

    // Fresh nodes know no leader, so they vote at once.
    nt.send(hup(1n));
    expect(stateOf(a)).toBe("StateLeader");
    expect(stateOf(c)).toBe("StateFollower");

    setRandomizedElectionTimeout(a, a.electionTimeout + 1);
    setRandomizedElectionTimeout(b, b.electionTimeout + 2);
    tickN(a, a.electionTimeout);
    tickN(b, b.electionTimeout);
    nt.send(hup(3n));
    expect(stateOf(a)).toBe("StateFollower");
    expect(stateOf(c)).toBe("StateLeader");
  });

  test("a stuck candidate with a higher term frees itself through the leader (TestFreeStuckCandidateWithCheckQuorum)", () => {
    const [a, b, c] = newCluster(3, checkQuorum) as [Raft, Raft, Raft];
    const nt = newNetwork(a, b, c);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    tickN(b, b.electionTimeout);
    nt.send(hup(1n));

    nt.isolate(1n);
    nt.send(hup(3n));
    expect(states(b, c)).toEqual(["StateFollower", "StateCandidate"]);
    expect(c.term).toBe(b.term + 1);

    nt.send(hup(3n));
    expect(states(b, c)).toEqual(["StateFollower", "StateCandidate"]);
    expect(c.term).toBe(b.term + 2);

    // The leader's heartbeat is answered at c's term: the leader steps down and adopts it.
    nt.recover();
    nt.send(newMessage({ from: 1n, to: 3n, type: MessageType.MsgHeartbeat, term: a.term }));
    expect(stateOf(a)).toBe("StateFollower");
    expect(a.term).toBe(c.term);

    nt.send(hup(3n));
    expect(stateOf(c)).toBe("StateLeader");
  });

  test("a voter that cannot campaign still follows and votes (TestNonPromotableVoterWithCheckQuorum)", () => {
    const a = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)), checkQuorum);
    const b = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n)), checkQuorum);
    const nt = newNetwork(a, b);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    // The network put 2 in b's configuration: remove it again.
    b.applyConfChange(asV2(newConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n })));
    expect(b.promotable()).toBe(false);

    tickN(b, b.electionTimeout);
    nt.send(hup(1n));
    expect(stateOf(a)).toBe("StateLeader");
    expect(stateOf(b)).toBe("StateFollower");
    expect(b.lead).toBe(1n);
  });
});

describe("messages of an older term", () => {
  function follower(extra: Partial<Config>): Raft {
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    s.append([newEntry({ index: 1, term: 1 }), newEntry({ index: 2, term: 2 })]);
    const r = newTestRaft(1n, 10, 1, s, extra);
    r.becomeFollower(3, 3n);
    return r;
  }

  const cases = (["MsgApp", "MsgHeartbeat"] as const).flatMap((type) => [
    { type, cfg: "checkQuorum", extra: { checkQuorum: true }, answered: true },
    { type, cfg: "preVote", extra: { preVote: true }, answered: true },
    { type, cfg: "neither", extra: {}, answered: false },
  ]);
  test.each(cases)("a stale $type with $cfg is answered by an empty MsgAppResp at our term: $answered", ({ type, extra, answered }) => {
    const r = follower(extra);
    r.step(
      newMessage({
        from: 2n,
        to: 1n,
        type: MessageType[type],
        term: 2,
        index: 2,
        logTerm: 2,
        commit: 2,
        entries: type === "MsgApp" ? [newEntry({ index: 3, term: 2 })] : [],
      }),
    );
    const msgs = readMessages(r);
    if (answered) {
      expect(msgs.map((m) => [m.type, m.to, m.term, m.reject, m.index, m.entries.length])).toEqual([
        [MessageType.MsgAppResp, 2n, 3, false, 0, 0],
      ]);
    } else {
      expect(msgs).toEqual([]);
    }
    // The stale message itself is not acted on (TestStepIgnoreOldTermMsg).
    expect(r.raftLog.lastIndex()).toBe(2);
    expect(r.raftLog.committed).toBe(0);
    expect(r.lead).toBe(3n);
    expect(r.term).toBe(3);
    expect(r.electionElapsed).toBe(0);
  });

  test("a stale heartbeat does not reset the election timer", () => {
    const r = follower({ checkQuorum: true });
    tickN(r, 3);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgHeartbeat, term: 2 }));
    expect(r.electionElapsed).toBe(3);
  });

  test.each(["MsgVote", "MsgVoteResp", "MsgAppResp", "MsgHeartbeatResp", "MsgSnap", "MsgTimeoutNow"] as const)(
    "a stale %s is ignored without an answer",
    (name) => {
      const r = follower({ checkQuorum: true, preVote: true });
      r.step(newMessage({ from: 2n, to: 1n, type: MessageType[name], term: 2, index: 9, logTerm: 9 }));
      expect(readMessages(r)).toEqual([]);
      expect(stateOf(r)).toBe("StateFollower");
      expect(r.term).toBe(3);
      expect(r.vote).toBe(None);
    },
  );

  test("a stale MsgAppResp does not move a leader's progress", () => {
    const r = newTestRaft(1n, 5, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), checkQuorum);
    r.becomeFollower(1, None);
    r.becomeCandidate();
    r.becomeLeader();
    expect(r.term).toBe(2);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term - 1, index: 1 }));
    expect(r.trk.progress.get(2n)!.match).toBe(0);
    expect(r.trk.progress.get(2n)!.recentActive).toBe(false);
    expect(r.raftLog.committed).toBe(0);
  });

  test("the answer at a higher term makes a stale leader step down with no known leader", () => {
    const r = newLeader([1n, 2n, 3n], checkQuorum);
    r.step(newMessage({ from: 3n, to: 1n, type: MessageType.MsgAppResp, term: r.term + 2 }));
    expect(stateOf(r)).toBe("StateFollower");
    expect(r.term).toBe(3);
    expect(r.lead).toBe(None);
  });
});
