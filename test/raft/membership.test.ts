/**
 * Membership changes (etcd's raft_test.go conf-change tests, rawnode_test.go joint consensus, and the
 * confchange package's scripted and property tests): adding and removing voters, one pending change
 * at a time, removing the leader, joint consensus with ConfChangeV2, the Changer's refusals, and
 * restoring a configuration from a ConfState.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { encodeConfChange } from "../../src/raft/codec.js";
import { Changer, ConfChangeError, type ChangeResult } from "../../src/raft/confchange/confchange.js";
import { restoreConfState } from "../../src/raft/confchange/restore.js";
import { ErrProposalDropped } from "../../src/raft/errors.js";
import { StateType } from "../../src/raft/raft.js";
import {
  type ConfChangeSingle,
  type ConfState,
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  asV2,
  confStateEquivalent,
  newConfChange,
  newConfChangeV2,
  newConfState,
  newEntry,
  newMessage,
  sortIds,
} from "../../src/raft/raftpb.js";
import { ProgressStateType } from "../../src/raft/tracker/state.js";
import { ProgressTracker, describeTrackerConfig, newTrackerConfig } from "../../src/raft/tracker/tracker.js";
import { acceptAndReply, commitNoopEntry, mustAppendEntry, newTestMemoryStorage, newTestRaft, nextEnts, readMessages, withLearners, withPeers } from "./harness.js";
import { RawCluster, bytes, confChangeEntry, propMsg, text, thrown } from "./rawnode-helpers.js";

const addNode = (id: bigint) => asV2(newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: id }));
const removeNode = (id: bigint) => asV2(newConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id }));

/** A leader of term 1 over the given voters, its empty entry committed and applied. */
function newCommittedLeader(...voters: bigint[]) {
  const s = newTestMemoryStorage(withPeers(...voters));
  const r = newTestRaft(1n, 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader();
  commitNoopEntry(r, s);
  return { r, s };
}

describe("adding and removing nodes (raft.applyConfChange)", () => {
  test("TestAddNode: AddNode makes the node a voter", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)));
    r.applyConfChange(addNode(2n));
    expect(r.trk.voterNodes()).toEqual([1n, 2n]);
    expect(r.trk.progress.get(2n)?.isLearner).toBe(false);
  });

  test("TestAddNodeCheckQuorum: a node added just before a quorum check does not depose the leader at once", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)), { checkQuorum: true });
    r.becomeCandidate();
    r.becomeLeader();
    for (let i = 0; i < r.electionTimeout - 1; i++) r.tick();
    r.applyConfChange(addNode(2n));
    // This tick runs the quorum check: the new node counts as recently active.
    r.tick();
    expect(r.state).toBe(StateType.StateLeader);
    // A whole election timeout without hearing from node 2: the quorum is lost.
    for (let i = 0; i < r.electionTimeout; i++) r.tick();
    expect(r.state).toBe(StateType.StateFollower);
  });

  test("TestRemoveNode: RemoveNode drops the voter; removing the last voter is refused", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.applyConfChange(removeNode(2n));
    expect(r.trk.voterNodes()).toEqual([1n]);
    expect(r.trk.progress.has(2n)).toBe(false);
    const err = thrown(() => r.applyConfChange(removeNode(1n)));
    expect(err).toBeInstanceOf(ConfChangeError);
    expect((err as Error).message).toBe("removed all voters");
    // The refused change left the configuration as it was.
    expect(r.trk.voterNodes()).toEqual([1n]);
  });

  test("TestCommitAfterRemoveNode: removing a node lowers the quorum, so a pending entry commits", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n));
    const r = newTestRaft(1n, 5, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    const cc = newConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n });
    r.step(newMessage({ type: MessageType.MsgProp, entries: [newEntry({ type: EntryType.EntryConfChange, data: encodeConfChange(cc) })] }));
    // Nothing commits with only the leader's ack in a two-node configuration.
    expect(nextEnts(r, s)).toEqual([]);
    const ccIndex = r.raftLog.lastIndex();

    r.step(newMessage({ type: MessageType.MsgProp, entries: [newEntry({ data: bytes("hello") })] }));
    // Node 2 acknowledges up to the configuration change (not the proposal after it).
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: r.term, index: ccIndex }));
    let ents = nextEnts(r, s);
    expect(ents.map((e) => e.type)).toEqual([EntryType.EntryNormal, EntryType.EntryConfChange]);
    expect(ents[0]!.data.length).toBe(0);

    r.applyConfChange(asV2(cc));
    ents = nextEnts(r, s);
    expect(ents).toHaveLength(1);
    expect(ents[0]!.type).toBe(EntryType.EntryNormal);
    expect(text(ents[0]!.data)).toBe("hello");
  });

  test("AddNode on a learner promotes it: its acknowledgements then count toward the commit quorum", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n), withLearners(3n));
    const r = newTestRaft(1n, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    r.step(propMsg(1n));
    readMessages(r);
    const last = r.raftLog.lastIndex();
    // With voters {1, 2}, the learner's ack is not enough.
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 3n, to: 1n, term: r.term, index: last }));
    expect(r.raftLog.committed).toBe(0);

    r.applyConfChange(addNode(3n));
    expect(r.trk.voterNodes()).toEqual([1n, 2n, 3n]);
    expect(r.trk.learnerNodes()).toEqual([]);
    expect(r.trk.progress.get(3n)!.isLearner).toBe(false);
    // The promotion kept node 3's progress, so {1, 3} is now a quorum of three.
    expect(r.trk.progress.get(3n)!.match).toBe(last);
    expect(r.raftLog.committed).toBe(last);
  });
});

describe("one configuration change at a time", () => {
  test("TestStepConfig: a proposed configuration change is appended and becomes the pending one", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.becomeCandidate();
    r.becomeLeader();
    const index = r.raftLog.lastIndex();
    r.step(newMessage({ from: 1n, to: 1n, type: MessageType.MsgProp, entries: [newEntry({ type: EntryType.EntryConfChange })] }));
    expect(r.raftLog.lastIndex()).toBe(index + 1);
    expect(r.pendingConfIndex).toBe(index + 1);
  });

  test("TestStepIgnoreConfig: a second change while one is pending becomes an EntryNormal no-op", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.becomeCandidate();
    r.becomeLeader();
    const ccProp = () => newMessage({ from: 1n, to: 1n, type: MessageType.MsgProp, entries: [newEntry({ type: EntryType.EntryConfChange })] });
    r.step(ccProp());
    const index = r.raftLog.lastIndex();
    const pendingConfIndex = r.pendingConfIndex;
    r.step(ccProp());
    expect(r.raftLog.entries(index + 1, Number.MAX_SAFE_INTEGER)).toEqual([newEntry({ type: EntryType.EntryNormal, term: 1, index: 3 })]);
    expect(r.pendingConfIndex).toBe(pendingConfIndex);
  });

  test("a change proposed after the pending one is applied is accepted again", () => {
    const { r, s } = newCommittedLeader(1n, 2n);
    r.step(newMessage({ type: MessageType.MsgProp, entries: [confChangeEntry(newConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n }))] }));
    const first = r.raftLog.lastIndex();
    for (const m of readMessages(r)) r.step(acceptAndReply(m));
    readMessages(r);
    nextEnts(r, s); // applied through the first change
    r.step(newMessage({ type: MessageType.MsgProp, entries: [confChangeEntry(newConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n }))] }));
    expect(r.pendingConfIndex).toBe(first + 1);
    expect(r.raftLog.entries(first + 1, Number.MAX_SAFE_INTEGER)[0]!.type).toBe(EntryType.EntryConfChange);
  });

  test.each([
    { addEntry: false, wantPending: 0 },
    { addEntry: true, wantPending: 1 },
  ])("TestNewLeaderPendingConfig: a new leader treats its whole unapplied log as possibly pending (extra entry: $addEntry)", ({ addEntry, wantPending }) => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    if (addEntry) mustAppendEntry(r, newEntry({ type: EntryType.EntryNormal }));
    r.becomeCandidate();
    r.becomeLeader();
    expect(r.pendingConfIndex).toBe(wantPending);
  });
});

describe("removing the leader", () => {
  /** A three-node cluster led by 1, whose removal has been committed and applied everywhere. */
  function removeLeader(stepDownOnRemoval: boolean): RawCluster {
    const c = new RawCluster(3, { voters: [1n, 2n, 3n], configure: (cfg) => (cfg.stepDownOnRemoval = stepDownOnRemoval) });
    c.elect(1n);
    c.node(1n).proposeConfChange(newConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n }));
    c.stabilize();
    for (const id of [1n, 2n, 3n]) expect(c.node(id).raft.trk.voterNodes(), `node ${id}`).toEqual([2n, 3n]);
    return c;
  }

  test("without stepDownOnRemoval the removed leader keeps leading but drops every proposal", () => {
    const c = removeLeader(false);
    const n1 = c.node(1n);
    expect(n1.raft.state).toBe(StateType.StateLeader);
    expect(thrown(() => n1.propose(bytes("baz")))).toBe(ErrProposalDropped);
    // It still heartbeats, so the others never time out: the cluster is stuck (etcd's behaviour).
    for (let i = 0; i < 3 * n1.raft.electionTimeout; i++) c.tickAll();
    expect(c.leaders()).toEqual([1n]);
    expect(n1.raft.term).toBe(1);
  });

  test("with stepDownOnRemoval the removed leader becomes a follower, and the rest elect a leader", () => {
    const c = removeLeader(true);
    const n1 = c.node(1n);
    expect(n1.raft.state).toBe(StateType.StateFollower);
    expect(n1.raft.lead).toBe(0n);
    for (let i = 0; i < 4 * n1.raft.electionTimeout && c.leaders().length === 0; i++) c.tickAll();
    const [lead] = c.leaders();
    expect(c.leaders()).toHaveLength(1);
    expect([2n, 3n]).toContain(lead);
    // The removed node cannot campaign: it is not in the configuration.
    expect(n1.raft.promotable()).toBe(false);
    c.node(lead!).propose(bytes("after"));
    c.stabilize();
    for (const id of [2n, 3n]) expect(c.applied.get(id)!.map((e) => text(e.data))).toContain("after");
  });

  test("with stepDownOnRemoval the leader first sends the others the commit index covering its removal", () => {
    // Without this a voter that never learned the removal committed still counts the old leader's
    // vote, which the old leader (with a longer log) may refuse forever (found by the simulator).
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    const r = newTestRaft(1n, 10, 1, s, { stepDownOnRemoval: true });
    r.becomeCandidate();
    r.becomeLeader();
    commitNoopEntry(r, s);
    mustAppendEntry(r, newEntry({ data: bytes("cc") }));
    for (const m of readMessages(r)) r.step(acceptAndReply(m));
    const committed = r.raftLog.committed;
    readMessages(r);
    r.applyConfChange(newConfChangeV2({ changes: [{ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n }] }));
    expect(r.state).toBe(StateType.StateFollower);
    const apps = readMessages(r).filter((m) => m.type === MessageType.MsgApp);
    expect(apps.map((m) => [m.to, m.commit])).toEqual([
      [2n, committed],
      [3n, committed],
    ]);
  });

  test("a removed leader commits its remaining entries only with a quorum of the new configuration", () => {
    const { r, s } = newCommittedLeader(1n, 2n, 3n);
    const cc = removeNode(1n);
    r.step(newMessage({ type: MessageType.MsgProp, entries: [confChangeEntry(newConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n }))] }));
    const ccIndex = r.raftLog.lastIndex();
    r.step(propMsg(1n, bytes("bar")));
    const barIndex = r.raftLog.lastIndex();
    readMessages(r);
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: r.term, index: ccIndex }));
    expect(nextEnts(r, s).map((e) => e.index)).toEqual([ccIndex]);
    r.applyConfChange(cc);
    expect(r.state).toBe(StateType.StateLeader);
    // In the old configuration, 1 and 2 would commit "bar"; in the new one, 2 alone does not.
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: r.term, index: barIndex }));
    expect(r.raftLog.committed).toBe(ccIndex);
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 3n, to: 1n, term: r.term, index: barIndex }));
    expect(r.raftLog.committed).toBe(barIndex);
    expect(thrown(() => r.step(propMsg(1n)))).toBe(ErrProposalDropped);
  });
});

describe("joint consensus (ConfChangeV2)", () => {
  const replace3With4 = (transition: ConfChangeTransition) =>
    newConfChangeV2({
      transition,
      changes: [
        { type: ConfChangeType.ConfChangeAddNode, nodeId: 4n },
        { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3n },
      ],
    });
  const joint = newConfState({ voters: [1n, 2n, 4n], votersOutgoing: [1n, 2n, 3n] });
  const final = newConfState({ voters: [1n, 2n, 4n] });

  test("two changes enter a joint configuration, and the leader proposes leaving it once it is applied", () => {
    // Node 4 starts with the old configuration, as if it had received a snapshot of it.
    const c = new RawCluster(4, { voters: [1n, 2n, 3n] });
    c.elect(1n);
    c.node(1n).proposeConfChange(replace3With4(ConfChangeTransition.ConfChangeTransitionAuto));
    c.stabilize();
    for (const id of [1n, 2n, 4n]) {
      expect(c.confStates.get(id), `node ${id}`).toEqual([{ ...joint, autoLeave: true }, final]);
    }
    // The leave is an empty EntryConfChangeV2 the leader appended on its own, right after the change.
    const log = c.node(1n).raft.raftLog.allEntries();
    const [enter, leave] = log.slice(-2);
    expect(enter!.type).toBe(EntryType.EntryConfChangeV2);
    expect(leave!.type).toBe(EntryType.EntryConfChangeV2);
    expect(leave!.data.length).toBe(0);
    expect(c.node(1n).raft.trk.config.autoLeave).toBe(false);
    // The new configuration works: a proposal commits on 1, 2 and 4.
    c.node(1n).propose(bytes("x"));
    c.stabilize();
    for (const id of [1n, 2n, 4n]) expect(c.applied.get(id)!.some((e) => text(e.data) === "x"), `node ${id}`).toBe(true);
  });

  test("an explicit joint configuration stays joint until an empty ConfChangeV2 leaves it", () => {
    const c = new RawCluster(4, { voters: [1n, 2n, 3n] });
    c.elect(1n);
    const n1 = c.node(1n);
    n1.proposeConfChange(replace3With4(ConfChangeTransition.ConfChangeTransitionJointExplicit));
    c.stabilize();
    expect(c.confStates.get(1n)).toEqual([joint]);
    expect(n1.raft.trk.config.voters[1].size).toBe(3);

    // While joint, any change other than leaving is turned into a no-op.
    const before = n1.raft.raftLog.lastIndex();
    n1.proposeConfChange(asV2(newConfChange({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n })));
    expect(n1.raft.raftLog.entries(before + 1, Number.MAX_SAFE_INTEGER).map((e) => e.type)).toEqual([EntryType.EntryNormal]);
    c.stabilize();
    expect(c.confStates.get(1n)).toEqual([joint]);

    n1.proposeConfChange(newConfChangeV2());
    c.stabilize();
    for (const id of [1n, 2n, 4n]) expect(c.confStates.get(id), `node ${id}`).toEqual([joint, final]);
  });

  test("an empty ConfChangeV2 outside a joint configuration becomes a no-op", () => {
    const { r } = newCommittedLeader(1n, 2n);
    const before = r.raftLog.lastIndex();
    r.step(newMessage({ type: MessageType.MsgProp, entries: [confChangeEntry(newConfChangeV2())] }));
    expect(r.raftLog.entries(before + 1, Number.MAX_SAFE_INTEGER)).toEqual([newEntry({ type: EntryType.EntryNormal, term: 1, index: before + 1 })]);
    expect(r.pendingConfIndex).toBeLessThanOrEqual(before);
  });

  test("in a joint configuration a commit needs a majority of both halves", () => {
    const { r } = newCommittedLeader(1n, 2n, 3n);
    r.applyConfChange(replace3With4(ConfChangeTransition.ConfChangeTransitionJointExplicit));
    r.step(propMsg(1n));
    readMessages(r);
    const last = r.raftLog.lastIndex();
    // 1 and 4 are a majority of the incoming (1 2 4) but not of the outgoing (1 2 3).
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 4n, to: 1n, term: r.term, index: last }));
    expect(r.raftLog.committed).toBeLessThan(last);
    r.step(newMessage({ type: MessageType.MsgAppResp, from: 3n, to: 1n, term: r.term, index: last }));
    expect(r.raftLog.committed).toBe(last);
  });

  test("entering a joint configuration twice is refused and changes nothing", () => {
    const { r } = newCommittedLeader(1n, 2n, 3n);
    r.applyConfChange(replace3With4(ConfChangeTransition.ConfChangeTransitionJointExplicit));
    const before = r.trk.confState();
    const err = thrown(() => r.applyConfChange(replace3With4(ConfChangeTransition.ConfChangeTransitionJointExplicit)));
    expect(err).toBeInstanceOf(ConfChangeError);
    expect((err as Error).message).toBe("config is already joint");
    expect(r.trk.confState()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// The Changer on its own (etcd's confchange/testdata scripts, as tables).

/** Parses "v1 l2 r3 u4" into changes: v = AddNode, l = AddLearnerNode, r = RemoveNode, u = UpdateNode. */
function parseChanges(ops: string): ConfChangeSingle[] {
  const types: Record<string, ConfChangeType> = {
    v: ConfChangeType.ConfChangeAddNode,
    l: ConfChangeType.ConfChangeAddLearnerNode,
    r: ConfChangeType.ConfChangeRemoveNode,
    u: ConfChangeType.ConfChangeUpdateNode,
  };
  return ops
    .split(/\s+/)
    .filter((op) => op !== "")
    .map((op) => {
      const type = types[op[0]!];
      if (type === undefined) throw new Error(`unknown op ${op}`);
      return { type, nodeId: BigInt(op.slice(1)) };
    });
}

function describeResult(res: ChangeResult): string {
  const lines = [describeTrackerConfig(res.config)];
  for (const id of sortIds(res.progress.keys())) {
    const pr = res.progress.get(id)!;
    lines.push(`${id}: ${ProgressStateType[pr.state]} match=${pr.match} next=${pr.next}${pr.isLearner ? " learner" : ""}`);
  }
  return lines.join("\n");
}

/**
 * Runs a script of Changer commands; each block is `command [autoleave=true]`, the changes on the
 * next line (may be absent), `----`, then the expected configuration or error. Like etcd's
 * datadriven runner, the leader's last index starts at 0 and grows by one per command.
 */
function runChangerScript(script: string): void {
  let cur: ChangeResult = { config: newTrackerConfig(), progress: new Map() };
  let lastIndex = 0;
  const blocks = script.trim().split(/\n\s*\n/);
  for (const block of blocks) {
    const [input, want] = block.split(/\n----\n/) as [string, string];
    const [cmdLine, ops = ""] = input.trim().split("\n");
    const [cmd, ...args] = cmdLine!.trim().split(/\s+/);
    const changer = new Changer({ config: cur.config, progress: cur.progress, maxInflight: 10, lastIndex });
    const ccs = parseChanges(ops);
    let got: string;
    try {
      let res: ChangeResult;
      if (cmd === "simple") res = changer.simple(ccs);
      else if (cmd === "enter-joint") res = changer.enterJoint(args.includes("autoleave=true"), ccs);
      else if (cmd === "leave-joint") res = changer.leaveJoint();
      else throw new Error(`unknown command ${cmd}`);
      cur = res;
      got = describeResult(res);
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err;
      got = err.message;
    }
    expect(got, `${cmdLine} ${ops}`).toBe(want.trim());
    lastIndex++;
  }
}

describe("Changer: simple, enterJoint and leaveJoint keep the configuration's invariants", () => {
  test("simple changes change at most one voter and never remove every voter", () => {
    runChangerScript(`
simple
l1
----
removed all voters

simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2 l3
----
voters=(1 2) learners=(3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=2
3: StateProbe match=0 next=2 learner

simple
r1 v5
----
more than one voter changed without entering joint config

simple
r1 r2
----
removed all voters

simple
v3 v4
----
more than one voter changed without entering joint config

simple
l1 v5
----
more than one voter changed without entering joint config

simple
l1 l2
----
removed all voters

simple
l2 l3 l4 l5
----
voters=(1) learners=(2 3 4 5)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=2 learner
3: StateProbe match=0 next=2 learner
4: StateProbe match=0 next=8 learner
5: StateProbe match=0 next=8 learner

simple
r1
----
removed all voters

simple
r2 r3 r4 r5
----
voters=(1)
1: StateProbe match=0 next=1
`);
  });

  test("simple changes may promote and demote, keeping the progress", () => {
    runChangerScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

simple
v3
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2

simple
l1 v1
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2

simple
l2
----
voters=(1 3) learners=(2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=2

simple
v2 l2
----
voters=(1 3) learners=(2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=2

simple
v2
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2
`);
  });

  test("joint transitions: only from a non-empty simple config, only once, left only when joint", () => {
    runChangerScript(`
leave-joint
----
can't leave a non-joint config

enter-joint
----
can't make a zero-voter config joint

enter-joint
v1
----
can't make a zero-voter config joint

simple
v1
----
voters=(1)
1: StateProbe match=0 next=3

leave-joint
----
can't leave a non-joint config

enter-joint
----
voters=(1)&&(1)
1: StateProbe match=0 next=3

enter-joint
----
config is already joint

leave-joint
----
voters=(1)
1: StateProbe match=0 next=3

leave-joint
----
can't leave a non-joint config

enter-joint
r1 v2 v3 l4
----
voters=(2 3)&&(1) learners=(4)
1: StateProbe match=0 next=3
2: StateProbe match=0 next=9
3: StateProbe match=0 next=9
4: StateProbe match=0 next=9 learner

enter-joint
----
config is already joint

enter-joint
v12
----
config is already joint

simple
l15
----
can't apply simple config change in joint config

leave-joint
----
voters=(2 3) learners=(4)
2: StateProbe match=0 next=9
3: StateProbe match=0 next=9
4: StateProbe match=0 next=9 learner

simple
l9
----
voters=(2 3) learners=(4 9)
2: StateProbe match=0 next=9
3: StateProbe match=0 next=9
4: StateProbe match=0 next=9 learner
9: StateProbe match=0 next=14 learner
`);
  });

  test("a voter demoted while joint waits in learners_next, keeping its progress", () => {
    runChangerScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

enter-joint
v2 l1
----
voters=(2)&&(1) learners_next=(1)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

leave-joint
----
voters=(2) learners=(1)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=1
`);
  });

  test("changes inside enterJoint are idempotent; autoleave is carried through", () => {
    runChangerScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

enter-joint
r1 r2 r9 v2 v3 v4 v2 v3 v4 l2 l2 r4 r4 l1 l1
----
voters=(3)&&(1) learners=(2) learners_next=(1)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=1

leave-joint
----
voters=(3) learners=(1 2)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=1
`);
    runChangerScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

enter-joint autoleave=true
v2 v3
----
voters=(1 2 3)&&(1) autoleave
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=1

enter-joint autoleave=false
----
config is already joint

leave-joint
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=1
`);
  });

  test("node id 0 is ignored and UpdateNode changes nothing", () => {
    runChangerScript(`
simple
v1 r0 v0 l0
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2 u1
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

simple
u1 u2 u3 u1 u2 u3
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
`);
  });

  test("a refused change leaves the Changer's input untouched", () => {
    const start = new Changer({ config: newTrackerConfig(), progress: new Map(), maxInflight: 10, lastIndex: 1 }).simple(parseChanges("v1"));
    const snapshot = describeResult(start);
    const changer = new Changer({ config: start.config, progress: start.progress, maxInflight: 10, lastIndex: 2 });
    expect(() => changer.simple(parseChanges("v2 v3"))).toThrow(ConfChangeError);
    expect(() => changer.leaveJoint()).toThrow(ConfChangeError);
    expect(describeResult(start)).toBe(snapshot);
  });
});

// ---------------------------------------------------------------------------------------------
// restoreConfState

function restoreAndDescribe(cs: ConfState): ConfState {
  const res = restoreConfState({ config: newTrackerConfig(), progress: new Map(), maxInflight: 20, lastIndex: 10 }, cs);
  const trk = new ProgressTracker(20);
  trk.config = res.config;
  trk.progress = res.progress;
  // Every member has a progress, marked as a learner exactly when it is one.
  for (const id of [...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]) expect(res.progress.has(id)).toBe(true);
  for (const id of cs.learners) expect(res.progress.get(id)!.isLearner).toBe(true);
  return trk.confState();
}

const sorted = (cs: ConfState): ConfState =>
  newConfState({
    voters: sortIds(cs.voters),
    learners: sortIds(cs.learners),
    votersOutgoing: sortIds(cs.votersOutgoing),
    learnersNext: sortIds(cs.learnersNext),
    autoLeave: cs.autoLeave,
  });

/**
 * Valid ConfStates (etcd's rndConfChange): 1–5 voters, 0–4 learners, 0–2 voters only in the outgoing
 * half, some incoming voters retained in the outgoing half, some removed voters demoted to
 * learnersNext, autoLeave only when joint. Ids are distinct across roles.
 */
const arbConfState: fc.Arbitrary<ConfState> = fc
  .record({
    nVoters: fc.integer({ min: 1, max: 5 }),
    nLearners: fc.integer({ min: 0, max: 4 }),
    nRemoved: fc.integer({ min: 0, max: 2 }),
    retainedFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    learnersNextFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    autoLeave: fc.boolean(),
  })
  .chain((p) =>
    fc
      .uniqueArray(fc.bigInt({ min: 1n, max: 40n }), {
        minLength: p.nVoters + p.nLearners + p.nRemoved,
        maxLength: p.nVoters + p.nLearners + p.nRemoved,
      })
      .map((ids) => {
        const voters = ids.slice(0, p.nVoters);
        const learners = ids.slice(p.nVoters, p.nVoters + p.nLearners);
        const removed = ids.slice(p.nVoters + p.nLearners);
        const retained = voters.slice(0, Math.floor(p.retainedFrac * (p.nVoters + 1)) % (p.nVoters + 1));
        const votersOutgoing = [...retained, ...removed];
        const learnersNext = removed.slice(0, Math.floor(p.learnersNextFrac * (p.nRemoved + 1)) % (p.nRemoved + 1));
        return newConfState({ voters, learners, votersOutgoing, learnersNext, autoLeave: votersOutgoing.length > 0 && p.autoLeave });
      }),
  );

describe("restoreConfState", () => {
  test.each([
    newConfState(),
    newConfState({ voters: [1n, 2n, 3n] }),
    newConfState({ voters: [1n, 2n, 3n], learners: [4n, 5n, 6n] }),
    newConfState({ voters: [1n, 2n, 3n], learners: [5n], votersOutgoing: [1n, 2n, 4n, 6n], learnersNext: [4n] }),
    newConfState({ voters: [3n, 1n], votersOutgoing: [2n], autoLeave: true }),
  ])("round trip of %o", (cs) => {
    expect(restoreAndDescribe(cs)).toEqual(sorted(cs));
  });

  test("property: restoring a valid ConfState yields an equivalent ConfState", () => {
    fc.assert(
      fc.property(arbConfState, (cs) => {
        const got = restoreAndDescribe(cs);
        expect(got).toEqual(sorted(cs));
        expect(confStateEquivalent(got, cs)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test("a ConfState naming one node both voter and learner does not survive the round trip, so a raft refuses to start on it", () => {
    const cs = newConfState({ voters: [1n, 2n], learners: [2n] });
    // Replaying it demotes 2: the result is a different configuration.
    expect(confStateEquivalent(restoreAndDescribe(cs), cs)).toBe(false);
    const s = newTestMemoryStorage(withPeers(1n, 2n), withLearners(2n));
    expect(() => newTestRaft(1n, 10, 1, s)).toThrow();
  });

  // The message names both configurations (ConfStates hold bigints, so they are described, not JSON'd).
  test("the refusal reports that the ConfStates are not equivalent", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n), withLearners(2n));
    expect(() => newTestRaft(1n, 10, 1, s)).toThrow(/ConfStates not equivalent/);
  });
});
