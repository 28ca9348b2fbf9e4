/**
 * RawNode, the application's interface (etcd's rawnode_test.go): what step() refuses, the Ready
 * cycle (what a Ready holds, when it must be synced, when there is one at all), proposals and
 * configuration changes through a single node, read index, bootstrap, restart and status.
 */
import { describe, expect, test } from "vitest";
import { encodeConfChange, encodeConfChangeV2, entrySize } from "../../src/raft/codec.js";
import { ErrProposalDropped, ErrStepLocalMsg, ErrStepPeerNotFound, RaftError } from "../../src/raft/errors.js";
import { StateType } from "../../src/raft/raft.js";
import {
  type ConfChange,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  enterJoint,
  isLocalMsg,
  isResponseMsg,
  newConfChange,
  newConfChangeV2,
  newConfState,
  newEntry,
  newHardState,
  newMessage,
  newSnapshot,
} from "../../src/raft/raftpb.js";
import { RawNode, type Ready, mustSync } from "../../src/raft/rawnode.js";
import { MemoryStorage, noLimit } from "../../src/raft/storage.js";
import { newTestConfig, newTestMemoryStorage, withPeers } from "./harness.js";
import { applyConfChanges, bytes, confChangeOf, handleReady, persistReady, text, thrown } from "./rawnode-helpers.js";

const newTestRawNode = (s: MemoryStorage, extra = {}) => new RawNode(newTestConfig(1n, 10, 1, s, extra));

/** A single-voter RawNode that has campaigned and handled Readys until it leads with its entry applied. */
function newLeaderRawNode() {
  const s = newTestMemoryStorage(withPeers(1n));
  const rn = newTestRawNode(s);
  rn.campaign();
  while (rn.hasReady()) handleReady(rn, s);
  expect(rn.raft.state).toBe(StateType.StateLeader);
  return { rn, s };
}

describe("RawNode.step", () => {
  const types = Object.values(MessageType).filter((v): v is MessageType => typeof v === "number");

  test.each(types.map((t) => [MessageType[t], t] as const))("TestRawNodeStep: %s", (_name, t) => {
    const s = new MemoryStorage();
    s.setHardState(newHardState({ term: 1, commit: 1 }));
    s.append([newEntry({ term: 1, index: 1 })]);
    s.applySnapshot(newSnapshot({ metadata: { confState: newConfState({ voters: [1n] }), index: 1, term: 1 } }));
    const rn = newTestRawNode(s);
    // From a node that is not in the configuration.
    const err = thrown(() => rn.step(newMessage({ type: t, from: 9n })));
    if (isLocalMsg(t)) expect(err).toBe(ErrStepLocalMsg);
    else if (isResponseMsg(t)) expect(err).toBe(ErrStepPeerNotFound);
    else if (t === MessageType.MsgProp) expect(err).toBe(ErrProposalDropped);
    else expect(err).toBeUndefined();
  });

  test("a response from a member is stepped", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n));
    const rn = newTestRawNode(s);
    rn.campaign();
    expect(thrown(() => rn.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 })))).toBeUndefined();
    expect(rn.raft.state).toBe(StateType.StateLeader);
  });
});

describe("TestRawNodeProposeAndConfChange: a single node proposes, commits and applies a configuration change", () => {
  const cases: { name: string; cc: ConfChange | ConfChangeV2; exp: ConfState; exp2?: ConfState }[] = [
    {
      name: "V1 AddNode",
      cc: newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 2n }),
      exp: newConfState({ voters: [1n, 2n] }),
    },
    {
      name: "the same as a V2 change, without entering a joint config",
      cc: newConfChangeV2({ changes: [{ type: ConfChangeType.ConfChangeAddNode, nodeId: 2n }] }),
      exp: newConfState({ voters: [1n, 2n] }),
    },
    {
      name: "V2 AddLearnerNode",
      cc: newConfChangeV2({ changes: [{ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2n }] }),
      exp: newConfState({ voters: [1n], learners: [2n] }),
    },
    {
      name: "an explicit joint change",
      cc: newConfChangeV2({
        changes: [{ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2n }],
        transition: ConfChangeTransition.ConfChangeTransitionJointExplicit,
      }),
      exp: newConfState({ voters: [1n], votersOutgoing: [1n], learners: [2n] }),
      exp2: newConfState({ voters: [1n], learners: [2n] }),
    },
    {
      name: "an implicit joint change",
      cc: newConfChangeV2({
        changes: [{ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2n }],
        transition: ConfChangeTransition.ConfChangeTransitionJointImplicit,
      }),
      exp: newConfState({ voters: [1n], votersOutgoing: [1n], learners: [2n], autoLeave: true }),
      exp2: newConfState({ voters: [1n], learners: [2n] }),
    },
    ...(
      [
        [ConfChangeTransition.ConfChangeTransitionAuto, true],
        [ConfChangeTransition.ConfChangeTransitionJointExplicit, false],
        [ConfChangeTransition.ConfChangeTransitionJointImplicit, true],
      ] as const
    ).map(([transition, autoLeave]) => ({
      name: `add 2, demote 1, add learner 3 (${ConfChangeTransition[transition]})`,
      cc: newConfChangeV2({
        transition,
        changes: [
          { type: ConfChangeType.ConfChangeAddNode, nodeId: 2n },
          { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 1n },
          { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n },
        ],
      }),
      exp: newConfState({ voters: [2n], votersOutgoing: [1n], learners: [3n], learnersNext: [1n], autoLeave }),
      exp2: newConfState({ voters: [2n], learners: [1n, 3n] }),
    })),
  ];

  /** Runs the case up to the applied change; returns the node, its storage, and what the change produced. */
  function proposeAndApply(cc: ConfChange | ConfChangeV2) {
    const s = newTestMemoryStorage(withPeers(1n));
    const rn = newTestRawNode(s);
    rn.campaign();
    let proposed = false;
    let cs: ConfState | undefined;
    for (let i = 0; cs === undefined; i++) {
      if (i > 10) throw new Error("the configuration change was never applied");
      const rd = rn.ready();
      s.append(rd.entries);
      [cs] = applyConfChanges(rn, rd.committedEntries);
      rn.advance(rd);
      if (!proposed && rd.softState?.lead === rn.raft.id) {
        rn.propose(bytes("somedata"));
        rn.proposeConfChange(cc);
        proposed = true;
      }
    }
    return { rn, s, cs };
  }

  const explicitLeave = (c: (typeof cases)[number]) =>
    c.exp2 !== undefined && !c.exp.autoLeave ? "leaves with an empty ConfChangeV2 whose context is set" : "";

  test.each(cases)("$name", (c) => {
    const { rn, s, cs } = proposeAndApply(c.cc);
    // The stored log ends with the proposal and the change, byte for byte.
    const lastIndex = s.lastIndex();
    const ents = s.entries(lastIndex - 1, lastIndex + 1, noLimit);
    expect(ents).toHaveLength(2);
    expect(text(ents[0]!.data)).toBe("somedata");
    const isV2 = "changes" in c.cc;
    expect(ents[1]!.type).toBe(isV2 ? EntryType.EntryConfChangeV2 : EntryType.EntryConfChange);
    expect(ents[1]!.data).toEqual(isV2 ? encodeConfChangeV2(c.cc as ConfChangeV2) : encodeConfChange(c.cc as ConfChange));
    expect(cs).toEqual(c.exp);

    // An auto-leaving change had the leader append the leave entry when the change was applied.
    const j = enterJoint(isV2 ? (c.cc as ConfChangeV2) : newConfChangeV2());
    expect(rn.raft.pendingConfIndex).toBe(lastIndex + (j.ok && j.autoLeave ? 1 : 0));

    const rd = rn.ready();
    if (c.exp.autoLeave) {
      expect(rd.entries).toHaveLength(1);
      expect(rd.entries[0]!.type).toBe(EntryType.EntryConfChangeV2);
      expect(confChangeOf(rd.entries[0]!)).toEqual(newConfChangeV2());
      expect(rn.applyConfChange(confChangeOf(rd.entries[0]!)!)).toEqual(c.exp2);
    } else {
      expect(rd.entries).toEqual([]);
    }
    rn.advance(rd);
  });

  // etcd leaves an explicit joint configuration with a ConfChangeV2 that has no changes; its context
  // is ignored (ConfChangeV2.LeaveJoint), and TestRawNodeProposeAndConfChange uses context "manual".
  const explicitCases = cases.filter((c) => explicitLeave(c) !== "");

  test.each(explicitCases)("$name: an empty ConfChangeV2 (no context) leaves the joint config", (c) => {
    const { rn } = proposeAndApply(c.cc);
    rn.advance(rn.ready());
    rn.proposeConfChange(newConfChangeV2());
    const rd = rn.ready();
    expect(rd.entries).toHaveLength(1);
    expect(confChangeOf(rd.entries[0]!)).toEqual(newConfChangeV2());
    expect(rn.applyConfChange(confChangeOf(rd.entries[0]!)!)).toEqual(c.exp2);
  });

  // etcd's LeaveJoint ignores the context: an empty change with one still leaves the joint config.
  test.each(explicitCases)("$name: a ConfChangeV2 with no changes but a context also leaves it (as etcd)", (c) => {
    const { rn } = proposeAndApply(c.cc);
    rn.advance(rn.ready());
    const leave = newConfChangeV2({ context: bytes("manual") });
    rn.proposeConfChange(leave);
    const rd = rn.ready();
    expect(rd.entries).toHaveLength(1);
    expect(rd.entries[0]!.type).toBe(EntryType.EntryConfChangeV2);
    expect(confChangeOf(rd.entries[0]!)).toEqual(leave);
    expect(rn.applyConfChange(confChangeOf(rd.entries[0]!)!)).toEqual(c.exp2);
  });
});

describe("configuration changes through RawNode", () => {
  test("TestRawNodeJointAutoLeave: a leader that lost leadership while joint leaves the joint config once it leads again", () => {
    const cc = newConfChangeV2({
      changes: [{ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2n }],
      transition: ConfChangeTransition.ConfChangeTransitionJointImplicit,
    });
    const s = newTestMemoryStorage(withPeers(1n));
    const rn = newTestRawNode(s);
    rn.campaign();
    let proposed = false;
    let cs: ConfState | undefined;
    for (let i = 0; cs === undefined && i < 10; i++) {
      const rd = rn.ready();
      s.append(rd.entries);
      for (const e of rd.committedEntries) {
        const c = confChangeOf(e);
        if (c === undefined) continue;
        // Lose leadership (a higher term) just before applying the change.
        rn.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 1n, term: rn.raft.term + 1 }));
        cs = rn.applyConfChange(c);
      }
      rn.advance(rd);
      if (!proposed && rd.softState?.lead === rn.raft.id) {
        rn.propose(bytes("somedata"));
        rn.proposeConfChange(cc);
        proposed = true;
      }
    }
    expect(cs).toEqual(newConfState({ voters: [1n], votersOutgoing: [1n], learners: [2n], autoLeave: true }));
    expect(rn.raft.state).toBe(StateType.StateFollower);
    expect(rn.raft.pendingConfIndex).toBe(0);
    // A follower does not propose the leave.
    expect(rn.ready().entries).toEqual([]);

    rn.campaign();
    let leave: Entry | undefined;
    for (let i = 0; leave === undefined && i < 5; i++) {
      const rd = rn.ready();
      s.append(rd.entries);
      leave = rd.entries.find((e) => e.type === EntryType.EntryConfChangeV2);
      rn.advance(rd);
    }
    expect(leave).toBeDefined();
    expect(confChangeOf(leave!)).toEqual(newConfChangeV2());
    expect(rn.applyConfChange(confChangeOf(leave!)!)).toEqual(newConfState({ voters: [1n], learners: [2n] }));
  });

  test("TestRawNodeProposeAddDuplicateNode: adding a node twice does not block a later change", () => {
    const { rn, s } = newLeaderRawNode();
    const proposeAndApply = (cc: ConfChange) => {
      rn.proposeConfChange(cc);
      handleReady(rn, s);
    };
    const cc1 = newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 1n });
    const cc2 = newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 2n });
    proposeAndApply(cc1);
    proposeAndApply(cc1);
    proposeAndApply(cc2);
    const last = s.lastIndex();
    const ents = s.entries(last - 2, last + 1, noLimit);
    expect(ents.map((e) => e.data)).toEqual([encodeConfChange(cc1), encodeConfChange(cc1), encodeConfChange(cc2)]);
    expect(rn.raft.trk.voterNodes()).toEqual([1n, 2n]);
  });
});

describe("the Ready cycle", () => {
  test("TestRawNodeReadIndex: read states come out in a Ready and are cleared by it", () => {
    const s = newTestMemoryStorage(withPeers(1n));
    const rn = newTestRawNode(s);
    const wrs = [{ index: 1, requestCtx: bytes("somedata") }];
    rn.raft.readStates = wrs;
    expect(rn.hasReady()).toBe(true);
    const rd = rn.ready();
    expect(rd.readStates).toEqual(wrs);
    s.append(rd.entries);
    rn.advance(rd);
    expect(rn.raft.readStates).toEqual([]);

    rn.campaign();
    while (rn.hasReady()) handleReady(rn, s);
    // A single voter answers a read at once with its commit index.
    rn.readIndex(bytes("somedata2"));
    const rd2 = rn.ready();
    expect(rd2.readStates).toEqual([{ index: rn.raft.raftLog.committed, requestCtx: bytes("somedata2") }]);
    rn.advance(rd2);
    expect(rn.hasReady()).toBe(false);
  });

  test("a read index request on a follower goes to the leader", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n));
    const rn = newTestRawNode(s);
    rn.raft.becomeFollower(1, 2n);
    rn.readIndex(bytes("ctx"));
    const rd = rn.ready();
    expect(rd.messages.map((m) => [m.to, m.type, text(m.entries[0]!.data)])).toEqual([[2n, MessageType.MsgReadIndex, "ctx"]]);
  });

  test("softState is reported only when the leader or role changes", () => {
    const s = newTestMemoryStorage(withPeers(1n));
    const rn = newTestRawNode(s);
    expect(rn.hasReady()).toBe(false);
    rn.campaign();
    const rd1 = handleReady(rn, s).rd;
    expect(rd1.softState).toEqual({ lead: 1n, raftState: StateType.StateLeader });
    rn.propose(bytes("foo"));
    const rd2 = handleReady(rn, s).rd;
    expect(rd2.softState).toBeUndefined();
    // Stepping down to a higher term changes it again.
    rn.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 1n, term: rn.raft.term + 1 }));
    const rd3 = handleReady(rn, s).rd;
    expect(rd3.softState).toEqual({ lead: 0n, raftState: StateType.StateFollower });
  });

  test("hasReady is false after advance when nothing is pending, and true for each kind of pending output", () => {
    const { rn, s } = newLeaderRawNode();
    expect(rn.hasReady()).toBe(false);
    // A new entry.
    rn.propose(bytes("a"));
    expect(rn.hasReady()).toBe(true);
    handleReady(rn, s);
    expect(rn.hasReady()).toBe(false);
    // A message.
    rn.raft.msgs.push(newMessage({ type: MessageType.MsgHeartbeat, to: 2n }));
    expect(rn.hasReady()).toBe(true);
    handleReady(rn, s);
    expect(rn.hasReady()).toBe(false);
    // A HardState change (a vote for a higher-term candidate; the log is up to date).
    rn.step(
      newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: rn.raft.term + 1, logTerm: rn.raft.raftLog.lastTerm(), index: rn.raft.raftLog.lastIndex() }),
    );
    expect(rn.hasReady()).toBe(true);
    handleReady(rn, s);
    expect(rn.hasReady()).toBe(false);
  });

  test("a Ready's mustSync: entries, or a term or vote change; a commit index change alone needs no sync", () => {
    const hs = (term: number, vote: bigint, commit: number) => newHardState({ term, vote, commit });
    const table: [ReturnType<typeof newHardState>, ReturnType<typeof newHardState>, number, boolean][] = [
      [hs(1, 1n, 1), hs(1, 1n, 1), 0, false],
      [hs(1, 1n, 2), hs(1, 1n, 1), 0, false],
      [hs(1, 1n, 1), hs(1, 1n, 1), 1, true],
      [hs(2, 1n, 1), hs(1, 1n, 1), 0, true],
      [hs(1, 2n, 1), hs(1, 1n, 1), 0, true],
      [hs(1, 0n, 0), hs(0, 0n, 0), 0, true],
    ];
    for (const [st, prev, n, want] of table) expect(mustSync(st, prev, n), JSON.stringify([st, prev, n], (_k, v) => (typeof v === "bigint" ? `${v}n` : v))).toBe(want);

    // In Readys: a follower that only learns a new commit index need not sync.
    const s = newTestMemoryStorage(withPeers(1n, 2n));
    const rn = newTestRawNode(s);
    rn.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1, index: 0, logTerm: 0, entries: [newEntry({ index: 1, term: 1 })], commit: 0 }));
    let rd = handleReady(rn, s).rd;
    expect(rd.entries).toHaveLength(1);
    expect(rd.mustSync).toBe(true);
    rn.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1, commit: 1 }));
    rd = handleReady(rn, s).rd;
    expect(rd.hardState).toEqual(hs(1, 0n, 1));
    expect(rd.entries).toEqual([]);
    expect(rd.mustSync).toBe(false);
  });

  test("TestRawNodeConsumeReady: ready() hands out the messages; advance() keeps messages added since", () => {
    const s = newTestMemoryStorage(withPeers(1n));
    const rn = new RawNode(newTestConfig(1n, 3, 1, s));
    const m1 = newMessage({ type: MessageType.MsgApp, context: bytes("foo") });
    const m2 = newMessage({ type: MessageType.MsgApp, context: bytes("bar") });
    rn.raft.msgs.push(m1);
    const rd = rn.ready();
    expect(rd.messages).toEqual([m1]);
    expect(rn.raft.msgs).toEqual([]);
    rn.raft.msgs.push(m2);
    rn.advance(rd);
    expect(rn.raft.msgs).toEqual([m2]);
  });
});

describe("bootstrap, start and restart", () => {
  test("bootstrap writes the peers' AddNode entries, committed, into the first Ready", () => {
    const s = new MemoryStorage();
    const rn = newTestRawNode(s);
    rn.bootstrap([{ id: 1n }]);
    const cc = newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: 1n });
    const ccEntry = newEntry({ type: EntryType.EntryConfChange, term: 1, index: 1, data: encodeConfChange(cc) });

    const rd1 = rn.ready();
    expect(rd1.softState).toBeUndefined();
    expect(rd1.hardState).toEqual(newHardState({ term: 1, vote: 0n, commit: 1 }));
    expect(rd1.entries).toEqual([ccEntry]);
    expect(rd1.committedEntries).toEqual([ccEntry]);
    expect(rd1.mustSync).toBe(true);
    persistReady(s, rd1);
    expect(applyConfChanges(rn, rd1.committedEntries)).toEqual([newConfState({ voters: [1n] })]);
    rn.advance(rd1);
    expect(rn.hasReady()).toBe(false);

    rn.campaign();
    const rd2 = handleReady(rn, s).rd;
    expect(rd2.softState).toEqual({ lead: 1n, raftState: StateType.StateLeader });
    expect(rd2.hardState).toEqual(newHardState({ term: 2, vote: 1n, commit: 2 }));
    expect(rd2.entries).toEqual([newEntry({ term: 2, index: 2 })]);
    expect(rd2.committedEntries).toEqual([newEntry({ term: 2, index: 2 })]);

    rn.propose(bytes("foo"));
    const rd3 = handleReady(rn, s).rd;
    const foo = newEntry({ term: 2, index: 3, data: bytes("foo") });
    expect(rd3.hardState).toEqual(newHardState({ term: 2, vote: 1n, commit: 3 }));
    expect(rd3.entries).toEqual([foo]);
    expect(rd3.committedEntries).toEqual([foo]);
    expect(rd3.mustSync).toBe(true);
    expect(rn.hasReady()).toBe(false);
  });

  test("a node does not campaign before it applied the bootstrap configuration", () => {
    const rn = newTestRawNode(new MemoryStorage());
    rn.bootstrap([{ id: 1n }, { id: 2n }]);
    expect(rn.raft.trk.voterNodes()).toEqual([1n, 2n]);
    rn.campaign();
    expect(rn.raft.state).toBe(StateType.StateFollower);
  });

  test("bootstrap refuses no peers and a storage that already has entries", () => {
    expect(thrown(() => newTestRawNode(new MemoryStorage()).bootstrap([]))).toBeInstanceOf(RaftError);
    const s = new MemoryStorage();
    s.append([newEntry({ index: 1, term: 1 })]);
    expect(thrown(() => newTestRawNode(s).bootstrap([{ id: 1n }]))).toBeInstanceOf(RaftError);
  });

  test("TestRawNodeStart: a node bootstrapped from a snapshot at index 1 campaigns, proposes and commits", () => {
    const s = new MemoryStorage();
    s.ents[0] = newEntry({ index: 1 });
    s.applySnapshot(newSnapshot({ metadata: { index: 1, term: 0, confState: newConfState({ voters: [1n] }) } }));
    const rn = newTestRawNode(s);
    expect(rn.hasReady()).toBe(false);
    rn.campaign();
    const committed: Entry[] = [];
    let last: Ready | undefined;
    const drain = () => {
      while (rn.hasReady()) {
        last = handleReady(rn, s).rd;
        committed.push(...last.committedEntries);
      }
    };
    drain();
    rn.propose(bytes("foo"));
    expect(rn.hasReady()).toBe(true);
    drain();
    expect(committed).toEqual([newEntry({ term: 1, index: 2 }), newEntry({ term: 1, index: 3, data: bytes("foo") })]);
    expect(s.hardState).toEqual(newHardState({ term: 1, vote: 1n, commit: 3 }));
    expect(last!.mustSync).toBe(true);
    expect(rn.hasReady()).toBe(false);
  });

  test("TestRawNodeRestart: committed entries are handed out again from the start of the log", () => {
    const entries = [newEntry({ term: 1, index: 1 }), newEntry({ term: 1, index: 2, data: bytes("foo") })];
    const s = newTestMemoryStorage(withPeers(1n));
    s.setHardState(newHardState({ term: 1, commit: 1 }));
    s.append(entries);
    const rn = newTestRawNode(s);
    const rd = rn.ready();
    expect(rd).toEqual({
      hardState: newHardState(),
      readStates: [],
      entries: [],
      snapshot: newSnapshot(),
      committedEntries: entries.slice(0, 1),
      messages: [],
      mustSync: false,
    });
    rn.advance(rd);
    expect(rn.hasReady()).toBe(false);
  });

  test("restart with Config.applied: only committed entries after it are handed out", () => {
    const entries = [newEntry({ term: 1, index: 1 }), newEntry({ term: 1, index: 2, data: bytes("foo") }), newEntry({ term: 1, index: 3 })];
    const s = newTestMemoryStorage(withPeers(1n));
    s.setHardState(newHardState({ term: 1, commit: 2 }));
    s.append(entries);
    const rn = newTestRawNode(s, { applied: 1 });
    const rd = rn.ready();
    expect(rd.committedEntries).toEqual([entries[1]]);
    rn.advance(rd);
    expect(rn.hasReady()).toBe(false);
    expect(rn.raft.raftLog.applied).toBe(2);
  });

  test("TestRawNodeRestartFromSnapshot: committed entries after the snapshot are handed out", () => {
    const s = new MemoryStorage();
    s.setHardState(newHardState({ term: 1, commit: 3 }));
    s.applySnapshot(newSnapshot({ metadata: { confState: newConfState({ voters: [1n, 2n] }), index: 2, term: 1 } }));
    const entries = [newEntry({ term: 1, index: 3, data: bytes("foo") })];
    s.append(entries);
    const rn = newTestRawNode(s);
    const rd = rn.ready();
    expect(rd.hardState).toEqual(newHardState());
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries).toEqual(entries);
    expect(rd.mustSync).toBe(false);
    rn.advance(rd);
    expect(rn.hasReady()).toBe(false);
    expect(rn.raft.trk.voterNodes()).toEqual([1n, 2n]);
  });

  test("TestRawNodeCommitPaginationAfterRestart: paged committed entries leave no gap even if storage ignores the size hint", () => {
    class IgnoreSizeHintStorage extends MemoryStorage {
      override entries(lo: number, hi: number): Entry[] {
        return super.entries(lo, hi, noLimit);
      }
    }
    const s = new IgnoreSizeHintStorage();
    s.snap = newSnapshot({ metadata: { confState: newConfState({ voters: [1n] }) } });
    s.hardState = newHardState({ term: 1, vote: 1n, commit: 10 });
    const ents = Array.from({ length: 10 }, (_, i) => newEntry({ term: 1, index: i + 1, data: bytes("a") }));
    s.append(ents);
    const size = ents.reduce((n, e) => n + entrySize(e), 0);
    const cfg = newTestConfig(1n, 10, 1, s, { maxSizePerMsg: size - entrySize(ents[9]!) - 1 });
    s.append([newEntry({ term: 1, index: 11, data: bytes("boom") })]);
    const rn = new RawNode(cfg);
    let highestApplied = 0;
    for (let i = 0; highestApplied !== 11; i++) {
      expect(i).toBeLessThan(20);
      const rd = rn.ready();
      expect(rd.committedEntries.length, `stopped applying at ${highestApplied}`).toBeGreaterThan(0);
      const next = rd.committedEntries[0]!.index;
      expect(highestApplied === 0 || next === highestApplied + 1, `${next} after ${highestApplied}`).toBe(true);
      highestApplied = rd.committedEntries[rd.committedEntries.length - 1]!.index;
      rn.advance(rd);
      rn.step(newMessage({ type: MessageType.MsgHeartbeat, to: 1n, from: 2n, term: 1, commit: 11 }));
    }
  });
});

describe("RawNode.status", () => {
  test("TestRawNodeStatus: progress only on the leader; the configuration always", () => {
    const s = newTestMemoryStorage(withPeers(1n));
    const rn = newTestRawNode(s);
    expect(rn.status().progress.size).toBe(0);
    rn.campaign();
    handleReady(rn, s);
    const st = rn.status();
    expect(st.softState).toEqual({ lead: 1n, raftState: StateType.StateLeader });
    expect(st.id).toBe(1n);
    expect(st.hardState).toEqual(newHardState({ term: 1, vote: 1n, commit: 1 }));
    expect(st.applied).toBe(1);
    expect(st.progress.get(1n)).toEqual(rn.raft.trk.progress.get(1n));
    // A copy: changing it does not touch raft's.
    st.progress.get(1n)!.match = 99;
    expect(rn.raft.trk.progress.get(1n)!.match).toBe(1);
    expect(st.config.voters[0]).toEqual(new Set([1n]));
    expect(st.config.voters[1]).toEqual(new Set());
    expect(st.config.learners).toEqual(new Set());
  });

  test("basicStatus of a follower reports its leader and no transfer", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n));
    const rn = newTestRawNode(s);
    rn.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 3 }));
    const st = rn.basicStatus();
    expect(st.softState).toEqual({ lead: 2n, raftState: StateType.StateFollower });
    expect(st.hardState.term).toBe(3);
    expect(st.leadTransferee).toBe(0n);
    expect(rn.status().progress.size).toBe(0);
  });
});
