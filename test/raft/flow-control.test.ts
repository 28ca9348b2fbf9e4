/**
 * Flow control (etcd's raft_flow_control_test.go and the progress, fast-rejection and
 * uncommitted-size tests of raft_test.go): the in-flight window per follower, maxSizePerMsg
 * batching, probe pausing, the follower's reject hint, and when proposals are dropped.
 */
import { describe, expect, test } from "vitest";
import { entrySize } from "../../src/raft/codec.js";
import { ErrProposalDropped } from "../../src/raft/errors.js";
import { type Raft, StateType } from "../../src/raft/raft.js";
import { type Entry, type Message, MessageType, None, newConfState, newEntry, newHardState, newMessage } from "../../src/raft/raftpb.js";
import { RawNode } from "../../src/raft/rawnode.js";
import { MemoryStorage } from "../../src/raft/storage.js";
import { ProgressStateType } from "../../src/raft/tracker/state.js";
import { newTestConfig, newTestMemoryStorage, newTestRaft, readMessages, withPeers } from "./harness.js";
import { bytes, entriesFrom, handleReady, propMsg, thrown } from "./rawnode-helpers.js";

/** A fresh leader of term 1 over voters 1..n (its empty entry at index 1, nothing sent yet). */
function newLeader(n: number, extra: Parameters<typeof newTestRaft>[4] = {}): Raft {
  const peers = Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const r = newTestRaft(1n, 5, 1, newTestMemoryStorage(withPeers(...peers)), extra);
  r.becomeCandidate();
  r.becomeLeader();
  return r;
}

const appResp = (from: bigint, index: number, term = 1): Message =>
  newMessage({ from, to: 1n, term, type: MessageType.MsgAppResp, index });

describe("the in-flight window (raft_flow_control_test.go)", () => {
  test("TestMsgAppFlowControlFull: appends fill the window, then nothing more is sent", () => {
    const r = newLeader(2);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.becomeReplicate();
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propMsg(1n));
      const ms = readMessages(r);
      expect(ms.map((m) => m.type), `proposal ${i}`).toEqual([MessageType.MsgApp]);
    }
    expect(pr2.inflights.full()).toBe(true);
    expect(pr2.isPaused()).toBe(true);
    for (let i = 0; i < 10; i++) {
      r.step(propMsg(1n));
      expect(readMessages(r)).toEqual([]);
    }
  });

  test("TestMsgAppFlowControlMoveForward: an ack frees the window up to its index; stale acks free nothing", () => {
    const r = newLeader(2);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.becomeReplicate();
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propMsg(1n));
      readMessages(r);
    }
    // Index 1 is the empty entry, sent with the first proposal (index 2).
    for (let tt = 2; tt < r.trk.maxInflight; tt++) {
      r.step(appResp(2n, tt));
      readMessages(r);
      r.step(propMsg(1n));
      const ms = readMessages(r);
      expect(ms.map((m) => m.type), `after ack ${tt}`).toEqual([MessageType.MsgApp]);
      expect(pr2.isPaused()).toBe(true);
      for (let i = 0; i < tt; i++) {
        r.step(appResp(2n, i));
        expect(pr2.isPaused(), `stale ack ${i} after ${tt}`).toBe(true);
      }
    }
  });

  test("TestMsgAppFlowControlRecvHeartbeat: each heartbeat response lets one empty append through a full window", () => {
    const r = newLeader(2);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.becomeReplicate();
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propMsg(1n));
      readMessages(r);
    }
    for (let tt = 1; tt < 5; tt++) {
      for (let i = 0; i < tt; i++) {
        expect(pr2.isPaused()).toBe(true);
        r.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgHeartbeatResp }));
        const ms = readMessages(r);
        expect(ms).toHaveLength(1);
        expect(ms[0]!.type).toBe(MessageType.MsgApp);
        expect(ms[0]!.entries).toEqual([]);
      }
      for (let i = 0; i < 10; i++) {
        expect(pr2.isPaused()).toBe(true);
        r.step(propMsg(1n));
        expect(readMessages(r)).toEqual([]);
      }
      r.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgHeartbeatResp }));
      readMessages(r);
    }
  });

  test("TestProgressPaused: a probing follower gets one append until it answers", () => {
    const r = newLeader(2);
    for (let i = 0; i < 3; i++) r.step(propMsg(1n));
    expect(readMessages(r)).toHaveLength(1);
  });

  test("TestProgressResumeByHeartbeatResp: a heartbeat response unpauses the follower; sending a heartbeat does not", () => {
    const r = newLeader(2);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.msgAppFlowPaused = true;
    r.step(newMessage({ from: 1n, to: 1n, type: MessageType.MsgBeat }));
    expect(pr2.msgAppFlowPaused).toBe(true);
    pr2.becomeReplicate();
    expect(pr2.msgAppFlowPaused).toBe(false);
    pr2.msgAppFlowPaused = true;
    r.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgHeartbeatResp }));
    expect(pr2.msgAppFlowPaused).toBe(false);
  });

  test("TestProgressLeader: the leader's own progress follows its appends", () => {
    const r = newLeader(2);
    r.trk.progress.get(2n)!.becomeReplicate();
    for (let i = 0; i < 5; i++) r.step(propMsg(1n, bytes("foo")));
    // Our core counts the leader's append as its ack at once (etcd counts it after persistence).
    expect(r.trk.progress.get(1n)!.match).toBe(6);
    expect(r.trk.progress.get(1n)!.next).toBe(7);
    const unstable = r.raftLog.unstableEntries();
    expect(unstable).toHaveLength(6);
    expect(unstable[0]!.data.length).toBe(0);
    expect(new TextDecoder().decode(unstable[5]!.data)).toBe("foo");
  });

  test("a rejection drops a replicating follower back to probing; an unreachable report does too", () => {
    const r = newLeader(2);
    const pr2 = r.trk.progress.get(2n)!;
    r.step(propMsg(1n));
    readMessages(r);
    r.step(appResp(2n, 2));
    expect(pr2.state).toBe(ProgressStateType.StateReplicate);
    r.step(propMsg(1n));
    readMessages(r);
    r.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgAppResp, index: 3, reject: true, rejectHint: 2, logTerm: 1 }));
    expect(pr2.state).toBe(ProgressStateType.StateProbe);
    expect(pr2.next).toBe(3);
    readMessages(r);
    r.step(appResp(2n, 3));
    expect(pr2.state).toBe(ProgressStateType.StateReplicate);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgUnreachable }));
    expect(pr2.state).toBe(ProgressStateType.StateProbe);
  });
});

describe("maxSizePerMsg batching", () => {
  test("with maxSizePerMsg 2048 and up to 3 appends in flight, each append carries what fits, and at least one entry", () => {
    const r = newLeader(2, { maxInflightMsgs: 3, maxSizePerMsg: 2048 });
    readMessages(r);
    r.trk.progress.get(2n)!.becomeProbe();
    const small = bytes("a".repeat(1000));
    const large = bytes("b".repeat(5000));
    // Entries 2..23: 1000-byte payloads, except 12..17 which are 5000 bytes (each alone exceeds the limit).
    for (let i = 0; i < 22; i++) r.step(propMsg(1n, i >= 10 && i < 16 ? large : small));
    expect(entrySize(r.raftLog.entries(2, Number.MAX_SAFE_INTEGER)[0]!) * 2).toBeLessThanOrEqual(2048);

    // Probing: one append, with the empty entry and the first proposal (all there was when it went out).
    const first = readMessages(r);
    expect(first).toHaveLength(1);
    expect(first[0]!.entries.map((e) => e.data.length)).toEqual([0, 1000]);

    const ackAndVerify = (index: number, ...want: number[]): number => {
      r.step(appResp(2n, index));
      const ms = readMessages(r);
      expect(
        ms.map((m) => m.entries.length),
        `after ack ${index}`,
      ).toEqual(want);
      for (const m of ms) {
        expect(m.type).toBe(MessageType.MsgApp);
        const size = m.entries.reduce((n, e) => n + entrySize(e), 0);
        if (m.entries.length > 1) expect(size).toBeLessThanOrEqual(2048);
      }
      const last = ms[ms.length - 1]!.entries;
      return last.length === 0 ? index : last[last.length - 1]!.index;
    };
    // The ack moves node 2 to StateReplicate: three appends of two small entries fill the window.
    let index = ackAndVerify(2, 2, 2, 2);
    // Entry 11 is small, but 11 + 12 do not fit; 12 is large and goes alone.
    index = ackAndVerify(index, 2, 1, 1);
    index = ackAndVerify(index, 1, 1, 1);
    index = ackAndVerify(index, 1, 1, 2);
    index = ackAndVerify(index, 2, 2);
    expect(index).toBe(23);
  });

  test("maxSizePerMsg 0 sends one entry per append", () => {
    const r = newLeader(2, { maxSizePerMsg: 0 });
    r.trk.progress.get(2n)!.becomeReplicate();
    for (let i = 0; i < 4; i++) r.raftLog.append([newEntry({ index: r.raftLog.lastIndex() + 1, term: 1, data: bytes("x") })]);
    r.sendAppend(2n);
    while (r.maybeSendAppend(2n, false)) {
      /* send everything the window allows */
    }
    const ms = readMessages(r);
    expect(ms.map((m) => m.entries.map((e) => e.index))).toEqual([[1], [2], [3], [4], [5]]);
  });

  test("the committed entries in one Ready are limited by maxCommittedSizePerReady, and none is skipped", () => {
    const s = newTestMemoryStorage(withPeers(1n));
    const ents = Array.from({ length: 10 }, (_, i) => newEntry({ index: i + 1, term: 1, data: bytes("a") }));
    s.append(ents);
    s.setHardState(newHardState({ term: 1, vote: 1n, commit: 10 }));
    const limit = entrySize(ents[0]!) * 3;
    const rn = new RawNode(newTestConfig(1n, 10, 1, s, { maxCommittedSizePerReady: limit }));
    const batches: number[][] = [];
    while (rn.hasReady()) batches.push(handleReady(rn, s).rd.committedEntries.map((e) => e.index));
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
  });
});

describe("fast log rejection", () => {
  /**
   * etcd's TestFastLogRejection table. The leader (term = its last term + 1) probes a follower
   * (which has voted for it) at its last index; the follower rejects with a hint (rejectHintIndex,
   * rejectHintTerm); the leader's next append starts at (nextAppendIndex, nextAppendTerm).
   */
  const cases: {
    name: string;
    leaderLog: Entry[];
    followerLog: Entry[];
    followerCompact?: number;
    rejectHintTerm: number;
    rejectHintIndex: number;
    nextAppendTerm: number;
    nextAppendIndex: number;
  }[] = [
    {
      name: "the leader skips the follower's whole term 3",
      leaderLog: entriesFrom(1, 1, 2, 2, 4, 4, 4, 4),
      followerLog: entriesFrom(1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
      rejectHintTerm: 3,
      rejectHintIndex: 7,
      nextAppendTerm: 2,
      nextAppendIndex: 3,
    },
    {
      name: "the leader finds its last entry of a term ≤ the hint's term",
      leaderLog: entriesFrom(1, 1, 2, 2, 3, 4, 4, 4, 5),
      followerLog: entriesFrom(1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
      rejectHintTerm: 3,
      rejectHintIndex: 8,
      nextAppendTerm: 3,
      nextAppendIndex: 4,
    },
    {
      name: "the follower skips its entries of terms above the leader's",
      leaderLog: entriesFrom(1, 1, 1, 1, 1),
      followerLog: entriesFrom(1, 1, 2, 2, 4),
      rejectHintTerm: 1,
      rejectHintIndex: 1,
      nextAppendTerm: 1,
      nextAppendIndex: 1,
    },
    {
      name: "the same, with a leader log longer than the follower's",
      leaderLog: entriesFrom(1, 1, 1, 1, 1, 1, 1),
      followerLog: entriesFrom(1, 1, 2, 2, 4),
      rejectHintTerm: 1,
      rejectHintIndex: 1,
      nextAppendTerm: 1,
      nextAppendIndex: 1,
    },
    {
      name: "the same, with a follower log longer than the leader's",
      leaderLog: entriesFrom(1, 1, 1, 1, 1),
      followerLog: entriesFrom(1, 1, 2, 2, 4, 4, 4),
      rejectHintTerm: 1,
      rejectHintIndex: 1,
      nextAppendTerm: 1,
      nextAppendIndex: 1,
    },
    {
      name: "no conflict: the follower just lacks the last entry",
      leaderLog: entriesFrom(1, 1, 1, 1, 4, 5),
      followerLog: entriesFrom(1, 1, 1, 1, 4),
      rejectHintTerm: 4,
      rejectHintIndex: 4,
      nextAppendTerm: 4,
      nextAppendIndex: 4,
    },
    {
      name: "one round trip skips a term on the leader's side",
      leaderLog: entriesFrom(1, 2, 5, 5, 5, 5, 5, 5, 5, 5),
      followerLog: entriesFrom(1, 2, 4, 4, 4, 4, 4),
      rejectHintTerm: 4,
      rejectHintIndex: 6,
      nextAppendTerm: 2,
      nextAppendIndex: 1,
    },
    {
      name: "one round trip skips a term on the follower's side",
      leaderLog: entriesFrom(1, 2, 2, 2, 2, 2),
      followerLog: entriesFrom(1, 2, 4, 4, 4, 4, 4, 4, 4),
      rejectHintTerm: 2,
      rejectHintIndex: 1,
      nextAppendTerm: 2,
      nextAppendIndex: 1,
    },
    {
      name: "a stale append for an index the follower compacted: hint with term 0, the leader backs up one",
      leaderLog: entriesFrom(1, 1, 1, 3),
      followerLog: entriesFrom(1, 1, 1, 3, 3, 3),
      followerCompact: 5,
      rejectHintTerm: 0,
      rejectHintIndex: 3,
      nextAppendTerm: 1,
      nextAppendIndex: 2,
    },
  ];

  const storageWith = (log: Entry[], hs: ReturnType<typeof newHardState>): MemoryStorage => {
    const s = new MemoryStorage();
    s.snap.metadata.confState = newConfState({ voters: [1n, 2n, 3n] });
    s.append(log);
    s.setHardState(hs);
    return s;
  };

  test.each(cases)("TestFastLogRejection: $name", (tc) => {
    const last = tc.leaderLog[tc.leaderLog.length - 1]!;
    const n1 = newTestRaft(1n, 10, 1, storageWith(tc.leaderLog, newHardState({ term: last.term - 1, commit: last.index })));
    n1.becomeCandidate();
    n1.becomeLeader();
    const s2 = storageWith(tc.followerLog, newHardState({ term: last.term, vote: 1n, commit: 0 }));
    const n2 = newTestRaft(2n, 10, 1, s2);
    if (tc.followerCompact !== undefined) s2.compact(tc.followerCompact);

    n2.step(newMessage({ from: 1n, to: 2n, type: MessageType.MsgHeartbeat }));
    let msgs = readMessages(n2);
    expect(msgs.map((m) => m.type)).toEqual([MessageType.MsgHeartbeatResp]);
    n1.step(msgs[0]!);
    msgs = readMessages(n1);
    expect(msgs.map((m) => m.type)).toEqual([MessageType.MsgApp]);

    n2.step(msgs[0]!);
    msgs = readMessages(n2);
    expect(msgs).toHaveLength(1);
    const rej = msgs[0]!;
    expect(rej.type).toBe(MessageType.MsgAppResp);
    expect(rej.reject).toBe(true);
    expect([rej.logTerm, rej.rejectHint]).toEqual([tc.rejectHintTerm, tc.rejectHintIndex]);

    n1.step(rej);
    msgs = readMessages(n1);
    expect([msgs[0]!.logTerm, msgs[0]!.index]).toEqual([tc.nextAppendTerm, tc.nextAppendIndex]);

    if (tc.followerCompact === undefined) {
      // One rejection was enough: the follower takes the next append, and the two logs then agree.
      n2.step(msgs[0]!);
      const [resp] = readMessages(n2);
      expect(resp!.reject).toBe(false);
      expect(resp!.index).toBe(n1.raftLog.lastIndex());
      expect(n2.raftLog.allEntries().map((e) => e.term)).toEqual(n1.raftLog.allEntries().map((e) => e.term));
    }
  });

  test("without hints, backing up one entry per rejection would need more round trips than with them", () => {
    // The first table case: the follower's hint skips four term-3 entries (7, 6, 5, 4) at once.
    const leaderLog = entriesFrom(1, 1, 2, 2, 4, 4, 4, 4);
    const followerLog = entriesFrom(1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const n1 = newTestRaft(1n, 10, 1, storageWith(leaderLog, newHardState({ term: 3, commit: 7 })));
    n1.becomeCandidate();
    n1.becomeLeader();
    const n2 = newTestRaft(2n, 10, 1, storageWith(followerLog, newHardState({ term: 4, vote: 1n })));
    n1.sendAppend(2n);
    let rejections = 0;
    for (let round = 0; round < 20; round++) {
      const [app] = readMessages(n1);
      n2.step(app!);
      const [resp] = readMessages(n2);
      n1.step(resp!);
      if (!resp!.reject) break;
      rejections++;
    }
    expect(rejections).toBe(1);
    expect(n1.trk.progress.get(2n)!.match).toBe(n1.raftLog.lastIndex());
  });
});

describe("dropped proposals", () => {
  test("TestUncommittedEntryLimit: proposals beyond maxUncommittedEntriesSize are dropped; empty entries never are", () => {
    const maxEntries = 1024;
    const data = bytes("testdata");
    const maxEntrySize = maxEntries * data.length;
    const r = newLeader(3, { maxUncommittedEntriesSize: maxEntrySize, maxInflightMsgs: 2 * 1024 });
    expect(r.uncommittedSize).toBe(0);
    r.trk.progress.get(2n)!.becomeReplicate();
    r.trk.progress.get(3n)!.becomeReplicate();
    r.uncommittedSize = 0;

    const propEnts: Entry[] = [];
    for (let i = 0; i < maxEntries; i++) {
      expect(thrown(() => r.step(propMsg(1n, data))), `proposal ${i}`).toBeUndefined();
      propEnts.push(newEntry({ data }));
    }
    expect(thrown(() => r.step(propMsg(1n, data)))).toBe(ErrProposalDropped);
    expect(readMessages(r)).toHaveLength(maxEntries * 2);
    r.reduceUncommittedSize(propEnts);
    expect(r.uncommittedSize).toBe(0);

    // A single large proposal is accepted when under the limit, even though it goes past it.
    const large = Array.from({ length: 2 * maxEntries }, () => newEntry({ data }));
    expect(thrown(() => r.step(newMessage({ from: 1n, to: 1n, type: MessageType.MsgProp, entries: large })))).toBeUndefined();
    expect(thrown(() => r.step(propMsg(1n, data)))).toBe(ErrProposalDropped);
    // An entry without data is always accepted (the leader's no-op, leaving a joint configuration).
    expect(thrown(() => r.step(propMsg(1n, new Uint8Array(0))))).toBeUndefined();
    expect(readMessages(r)).toHaveLength(2 * 2);
    r.reduceUncommittedSize(large);
    expect(r.uncommittedSize).toBe(0);
  });

  test("TestRawNodeBoundedLogGrowthWithPartition: a leader cut off from its quorum stops growing its log at the limit", () => {
    const maxEntries = 16;
    const data = bytes("testdata");
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    const rn = new RawNode(newTestConfig(1n, 10, 1, s, { maxUncommittedEntriesSize: maxEntries * data.length }));
    rn.campaign();
    rn.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgVoteResp }));
    expect(rn.raft.state).toBe(StateType.StateLeader);
    handleReady(rn, s);

    // Partitioned: nobody acknowledges anything.
    let dropped = 0;
    for (let i = 0; i < 1024; i++) if (thrown(() => rn.propose(data)) === ErrProposalDropped) dropped++;
    expect(dropped).toBe(1024 - maxEntries);
    expect(rn.raft.uncommittedSize).toBe(maxEntries * data.length);
    let rd = rn.ready();
    expect(rd.entries).toHaveLength(maxEntries);
    expect(rd.committedEntries).toEqual([]);
    s.append(rd.entries);
    rn.advance(rd);
    expect(rn.raft.uncommittedSize).toBe(maxEntries * data.length);

    // The partition heals: once the entries commit and are applied, the account is empty again.
    rn.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgAppResp, index: rn.raft.raftLog.lastIndex() }));
    rd = rn.ready();
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries).toHaveLength(maxEntries + 1);
    rn.advance(rd);
    expect(rn.raft.uncommittedSize).toBe(0);
    expect(thrown(() => rn.propose(data))).toBeUndefined();
  });

  test("a follower without a leader, and a candidate, drop proposals", () => {
    const f = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    expect(f.lead).toBe(None);
    expect(thrown(() => f.step(propMsg(1n)))).toBe(ErrProposalDropped);
    f.step(newMessage({ from: 1n, to: 1n, type: MessageType.MsgHup }));
    expect(f.state).toBe(StateType.StateCandidate);
    expect(thrown(() => f.step(propMsg(1n)))).toBe(ErrProposalDropped);
    expect(f.raftLog.lastIndex()).toBe(0);
  });

  test("a follower with a leader forwards proposals, unless forwarding is disabled", () => {
    const f = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    f.becomeFollower(1, 1n);
    f.step(propMsg(2n));
    expect(readMessages(f).map((m) => [m.to, m.type])).toEqual([[1n, MessageType.MsgProp]]);
    const g = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), { disableProposalForwarding: true });
    g.becomeFollower(1, 1n);
    expect(thrown(() => g.step(propMsg(2n)))).toBe(ErrProposalDropped);
    expect(readMessages(g)).toEqual([]);
  });

  test("RawNode.propose throws ErrProposalDropped when there is no leader", () => {
    const rn = new RawNode(newTestConfig(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n))));
    expect(thrown(() => rn.propose(bytes("x")))).toBe(ErrProposalDropped);
  });
});
