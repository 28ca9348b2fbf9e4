/**
 * Learners (etcd's raft_test.go learner tests): a learner receives the log and snapshots but never
 * campaigns and never counts toward a quorum; it may still grant a vote; AddNode promotes it and
 * AddLearnerNode demotes a voter.
 */
import { describe, expect, test } from "vitest";
import { ConfChangeError } from "../../src/raft/confchange/confchange.js";
import { StateType } from "../../src/raft/raft.js";
import { ConfChangeType, MessageType, None, asV2, newConfChange, newConfState, newMessage, newSnapshot } from "../../src/raft/raftpb.js";
import { newNetwork, newTestMemoryStorage, newTestRaft, readMessages, withLearners, withPeers } from "./harness.js";
import { propMsg, thrown } from "./rawnode-helpers.js";

const addNode = (id: bigint) => asV2(newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: id }));
const removeNode = (id: bigint) => asV2(newConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id }));
const addLearner = (id: bigint) => asV2(newConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id }));

/** Node `id` of a cluster with voter 1 and learner 2. */
const learnerClusterNode = (id: bigint) => newTestRaft(id, 10, 1, newTestMemoryStorage(withPeers(1n), withLearners(2n)));

const beat = (id: bigint) => newMessage({ from: id, to: id, type: MessageType.MsgBeat });

describe("a learner never campaigns", () => {
  test("TestLearnerElectionTimeout: a learner stays a follower past its election timeout", () => {
    const n2 = learnerClusterNode(2n);
    n2.becomeFollower(1, None);
    expect(n2.isLearner).toBe(true);
    n2.randomizedElectionTimeout = n2.electionTimeout;
    for (let i = 0; i < 5 * n2.electionTimeout; i++) n2.tick();
    expect(n2.state).toBe(StateType.StateFollower);
    expect(n2.term).toBe(1);
    expect(readMessages(n2)).toEqual([]);
  });

  test("a learner ignores MsgHup", () => {
    const n2 = learnerClusterNode(2n);
    n2.step(newMessage({ from: 2n, to: 2n, type: MessageType.MsgHup }));
    expect(n2.state).toBe(StateType.StateFollower);
    expect(readMessages(n2)).toEqual([]);
  });

  test("a candidate asks only voters for votes", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n), withLearners(4n)));
    r.step(newMessage({ from: 1n, to: 1n, type: MessageType.MsgHup }));
    expect(readMessages(r).map((m) => [m.to, m.type])).toEqual([
      [2n, MessageType.MsgVote],
      [3n, MessageType.MsgVote],
    ]);
  });

  test("TestLearnerPromotion: a learner campaigns and wins only after it is promoted", () => {
    const n1 = learnerClusterNode(1n);
    const n2 = learnerClusterNode(2n);
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    const nt = newNetwork(n1, n2);
    expect(n1.state).not.toBe(StateType.StateLeader);

    n1.randomizedElectionTimeout = n1.electionTimeout;
    for (let i = 0; i < n1.electionTimeout; i++) n1.tick();
    expect(n1.state).toBe(StateType.StateLeader);
    expect(n2.state).toBe(StateType.StateFollower);
    nt.send(beat(1n));

    n1.applyConfChange(addNode(2n));
    n2.applyConfChange(addNode(2n));
    expect(n2.isLearner).toBe(false);

    n2.randomizedElectionTimeout = n2.electionTimeout;
    for (let i = 0; i < n2.electionTimeout; i++) n2.tick();
    // Delivers n2's vote requests (a MsgBeat to a non-leader does nothing itself).
    nt.send(beat(2n));
    expect(n1.state).toBe(StateType.StateFollower);
    expect(n2.state).toBe(StateType.StateLeader);
  });
});

describe("a learner votes but does not count", () => {
  test("TestLearnerCanVote: a learner grants a vote to an up-to-date candidate", () => {
    const n2 = learnerClusterNode(2n);
    n2.becomeFollower(1, None);
    n2.step(newMessage({ from: 1n, to: 2n, term: 2, type: MessageType.MsgVote, logTerm: 11, index: 11 }));
    const msgs = readMessages(n2);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.type).toBe(MessageType.MsgVoteResp);
    expect(msgs[0]!.reject).toBe(false);
  });

  test("TestLearnerLogReplication: a learner receives the log and the commit index", () => {
    const n1 = learnerClusterNode(1n);
    const n2 = learnerClusterNode(2n);
    const nt = newNetwork(n1, n2);
    n1.becomeFollower(1, None);
    n2.becomeFollower(1, None);
    n1.randomizedElectionTimeout = n1.electionTimeout;
    for (let i = 0; i < n1.electionTimeout; i++) n1.tick();
    nt.send(beat(1n));
    expect(n1.state).toBe(StateType.StateLeader);
    expect(n2.isLearner).toBe(true);

    nt.send(propMsg(1n));
    expect(n1.raftLog.committed).toBe(2);
    expect(n2.raftLog.committed).toBe(n1.raftLog.committed);
    expect(n1.trk.progress.get(2n)!.match).toBe(n2.raftLog.committed);
  });

  test("a learner's acknowledgement does not count toward the commit quorum", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n), withLearners(3n)));
    r.becomeCandidate();
    r.becomeLeader();
    r.step(propMsg(1n));
    const last = r.raftLog.lastIndex();
    // The proposal goes to the learner too.
    expect(readMessages(r).map((m) => m.to)).toContain(3n);
    r.step(newMessage({ from: 3n, to: 1n, term: r.term, type: MessageType.MsgAppResp, index: last }));
    expect(r.trk.progress.get(3n)!.match).toBe(last);
    expect(r.raftLog.committed).toBe(0);
    r.step(newMessage({ from: 2n, to: 1n, term: r.term, type: MessageType.MsgAppResp, index: last }));
    expect(r.raftLog.committed).toBe(last);
  });

  test("a learner's vote does not count toward winning an election", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n), withLearners(4n)));
    r.step(newMessage({ from: 1n, to: 1n, type: MessageType.MsgHup }));
    expect(r.state).toBe(StateType.StateCandidate);
    r.step(newMessage({ from: 4n, to: 1n, term: r.term, type: MessageType.MsgVoteResp }));
    expect(r.state).toBe(StateType.StateCandidate);
    r.step(newMessage({ from: 2n, to: 1n, term: r.term, type: MessageType.MsgVoteResp }));
    expect(r.state).toBe(StateType.StateLeader);
  });
});

describe("learners and snapshots", () => {
  test("TestRestoreWithLearner: a learner restores a snapshot that keeps it a learner", () => {
    const snap = newSnapshot({ metadata: { index: 11, term: 11, confState: newConfState({ voters: [1n, 2n], learners: [3n] }) } });
    const r = newTestRaft(3n, 8, 2, newTestMemoryStorage(withPeers(1n, 2n), withLearners(3n)));
    expect(r.restore(snap)).toBe(true);
    expect(r.raftLog.lastIndex()).toBe(11);
    expect(r.raftLog.term(11)).toBe(11);
    expect(r.trk.voterNodes()).toEqual([1n, 2n]);
    expect(r.trk.learnerNodes()).toEqual([3n]);
    for (const id of [1n, 2n]) expect(r.trk.progress.get(id)!.isLearner).toBe(false);
    expect(r.trk.progress.get(3n)!.isLearner).toBe(true);
    expect(r.isLearner).toBe(true);
    expect(r.restore(snap)).toBe(false);
  });

  test("TestRestoreLearnerPromotion: a snapshot that lists the learner as a voter promotes it", () => {
    const snap = newSnapshot({ metadata: { index: 11, term: 11, confState: newConfState({ voters: [1n, 2n, 3n] }) } });
    const r = newTestRaft(3n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n), withLearners(3n)));
    expect(r.isLearner).toBe(true);
    expect(r.restore(snap)).toBe(true);
    expect(r.isLearner).toBe(false);
  });

  test("TestRestoreVoterToLearner: a snapshot may turn a voter into a learner", () => {
    const snap = newSnapshot({ metadata: { index: 11, term: 11, confState: newConfState({ voters: [1n, 2n], learners: [3n] }) } });
    const r = newTestRaft(3n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    expect(r.isLearner).toBe(false);
    expect(r.restore(snap)).toBe(true);
    expect(r.isLearner).toBe(true);
  });

  test("TestLearnerReceiveSnapshot: a leader whose log is compacted brings a learner up with a snapshot", () => {
    const snap = newSnapshot({ metadata: { index: 11, term: 11, confState: newConfState({ voters: [1n], learners: [2n] }) } });
    const store = newTestMemoryStorage(withPeers(1n), withLearners(2n));
    const n1 = newTestRaft(1n, 10, 1, store);
    const n2 = learnerClusterNode(2n);
    expect(n1.restore(snap)).toBe(true);
    const pending = n1.raftLog.unstable.snapshot!;
    store.applySnapshot(pending);
    n1.appliedSnap(pending);

    const nt = newNetwork(n1, n2);
    const sent: MessageType[] = [];
    nt.msgHook = (m) => {
      sent.push(m.type);
      return true;
    };
    n1.randomizedElectionTimeout = n1.electionTimeout;
    for (let i = 0; i < n1.electionTimeout; i++) n1.tick();
    nt.send(beat(1n));
    expect(sent).toContain(MessageType.MsgSnap);
    expect(n2.raftLog.committed).toBe(n1.raftLog.committed);
    expect(n2.raftLog.committed).toBe(12);
  });
});

describe("adding and removing learners", () => {
  test("TestAddLearner: AddLearnerNode adds a learner; AddNode promotes it; a voter can be demoted and promoted back", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)));
    r.applyConfChange(addLearner(2n));
    expect(r.isLearner).toBe(false);
    expect(r.trk.learnerNodes()).toEqual([2n]);
    expect(r.trk.progress.get(2n)!.isLearner).toBe(true);

    r.applyConfChange(addNode(2n));
    expect(r.trk.progress.get(2n)!.isLearner).toBe(false);
    expect(r.trk.learnerNodes()).toEqual([]);

    r.applyConfChange(addLearner(1n));
    expect(r.trk.progress.get(1n)!.isLearner).toBe(true);
    expect(r.isLearner).toBe(true);
    expect(r.promotable()).toBe(false);

    r.applyConfChange(addNode(1n));
    expect(r.trk.progress.get(1n)!.isLearner).toBe(false);
    expect(r.isLearner).toBe(false);
  });

  test("TestRemoveLearner: RemoveNode removes a learner; removing the last voter is refused", () => {
    const r = learnerClusterNode(1n);
    r.applyConfChange(removeNode(2n));
    expect(r.trk.voterNodes()).toEqual([1n]);
    expect(r.trk.learnerNodes()).toEqual([]);
    expect(r.trk.progress.has(2n)).toBe(false);
    expect(thrown(() => r.applyConfChange(removeNode(1n)))).toBeInstanceOf(ConfChangeError);
  });

  test("a leader demoted to learner keeps leading (proposals are dropped only once it is removed)", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    r.becomeCandidate();
    r.becomeLeader();
    r.applyConfChange(addLearner(1n));
    expect(r.isLearner).toBe(true);
    expect(r.state).toBe(StateType.StateLeader);
    expect(thrown(() => r.step(propMsg(1n)))).toBeUndefined();
  });

  test("with stepDownOnRemoval a leader demoted to learner steps down", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), { stepDownOnRemoval: true });
    r.becomeCandidate();
    r.becomeLeader();
    r.applyConfChange(addLearner(1n));
    expect(r.state).toBe(StateType.StateFollower);
    expect(r.lead).toBe(None);
  });
});
