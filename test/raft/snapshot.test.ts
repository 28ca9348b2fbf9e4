/**
 * Snapshots (etcd's raft_snap_test.go, the restore/provide-snapshot tests of raft_test.go and
 * storage_test.go): a leader that lacks a follower's entries sends its snapshot and pauses
 * replication until the snapshot is reported; a follower installs a newer snapshot and ignores an
 * older one; MemoryStorage creates, compacts and applies snapshots.
 */
import { describe, expect, test } from "vitest";
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from "../../src/raft/errors.js";
import { type Raft, StateType } from "../../src/raft/raft.js";
import { type Snapshot, MessageType, newConfState, newEntry, newMessage, newSnapshot } from "../../src/raft/raftpb.js";
import { MemoryStorage, noLimit } from "../../src/raft/storage.js";
import { ProgressStateType } from "../../src/raft/tracker/state.js";
import { newNetwork, newTestMemoryStorage, newTestRaft, nextEnts, readMessages, withPeers } from "./harness.js";
import { bytes, entriesFrom, propMsg, thrown } from "./rawnode-helpers.js";

/** etcd's testingSnap: index 11, term 11, voters 1 and 2. */
const testingSnap = (): Snapshot =>
  newSnapshot({ metadata: { index: 11, term: 11, confState: newConfState({ voters: [1n, 2n] }) } });

/** A leader of term 12 whose log starts after testingSnap (so node 2 can only catch up by snapshot). */
function leaderAfterSnapshot(...storagePeers: bigint[]) {
  const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(...storagePeers)));
  r.restore(testingSnap());
  r.becomeCandidate();
  r.becomeLeader();
  return r;
}

describe("sending snapshots (raft_snap_test.go)", () => {
  test("TestSendingSnapshotSetPendingSnapshot: a rejection that needs compacted entries sends the snapshot and records it pending", () => {
    const r = leaderAfterSnapshot(1n);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.next = r.raftLog.firstIndex();
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, index: pr2.next - 1, reject: true }));
    expect(pr2.state).toBe(ProgressStateType.StateSnapshot);
    expect(pr2.pendingSnapshot).toBe(11);
  });

  test("TestPendingSnapshotPauseReplication: no appends go to a follower while its snapshot is pending", () => {
    const r = leaderAfterSnapshot(1n, 2n);
    r.trk.progress.get(2n)!.becomeSnapshot(11);
    r.step(propMsg(1n));
    expect(readMessages(r)).toEqual([]);
  });

  test("TestSnapshotFailure: a failed snapshot forgets the pending snapshot and probes from match", () => {
    const r = leaderAfterSnapshot(1n, 2n);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.next = 1;
    pr2.becomeSnapshot(11);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgSnapStatus, reject: true }));
    expect(pr2.pendingSnapshot).toBe(0);
    expect(pr2.state).toBe(ProgressStateType.StateProbe);
    expect(pr2.next).toBe(1);
    expect(pr2.msgAppFlowPaused).toBe(true);
  });

  test("TestSnapshotSucceed: a finished snapshot resumes probing after it", () => {
    const r = leaderAfterSnapshot(1n, 2n);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.next = 1;
    pr2.becomeSnapshot(11);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgSnapStatus, reject: false }));
    expect(pr2.pendingSnapshot).toBe(0);
    expect(pr2.state).toBe(ProgressStateType.StateProbe);
    expect(pr2.next).toBe(12);
    expect(pr2.msgAppFlowPaused).toBe(true);
  });

  test("TestSnapshotAbort: an acknowledgement at the snapshot index ends the snapshot and starts replicating", () => {
    const r = leaderAfterSnapshot(1n, 2n);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.next = 1;
    pr2.becomeSnapshot(11);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, index: 11 }));
    expect(pr2.pendingSnapshot).toBe(0);
    expect(pr2.state).toBe(ProgressStateType.StateReplicate);
    // The leader's empty entry (index 12) went out at once, optimistically.
    expect(pr2.next).toBe(13);
    expect(pr2.inflights.count()).toBe(1);
  });

  test("a snapshot status from a follower that is not in StateSnapshot is ignored", () => {
    const r = leaderAfterSnapshot(1n, 2n);
    const pr2 = r.trk.progress.get(2n)!;
    const before = pr2.toString();
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgSnapStatus, reject: true }));
    expect(pr2.toString()).toBe(before);
  });

  test("TestProvideSnap: a follower too far behind gets MsgSnap", () => {
    const r = leaderAfterSnapshot(1n);
    r.trk.progress.get(2n)!.next = r.raftLog.firstIndex();
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, index: r.raftLog.firstIndex() - 1, reject: true }));
    const msgs = readMessages(r);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.type).toBe(MessageType.MsgSnap);
    expect(msgs[0]!.to).toBe(2n);
    expect(msgs[0]!.snapshot?.metadata.index).toBe(11);
  });

  test("TestIgnoreProvidingSnap: no snapshot goes to a follower that was not recently active", () => {
    const r = leaderAfterSnapshot(1n);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.next = r.raftLog.firstIndex() - 1;
    pr2.recentActive = false;
    r.step(propMsg(1n));
    expect(readMessages(r)).toEqual([]);
    expect(pr2.state).toBe(ProgressStateType.StateProbe);
  });
});

describe("installing snapshots", () => {
  test("TestRestore: a newer snapshot replaces log and configuration; restoring it twice does nothing; no campaign before it is applied", () => {
    const snap = newSnapshot({ metadata: { index: 11, term: 11, confState: newConfState({ voters: [1n, 2n, 3n] }) } });
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    expect(r.restore(snap)).toBe(true);
    expect(r.raftLog.lastIndex()).toBe(11);
    expect(r.raftLog.term(11)).toBe(11);
    expect(r.raftLog.committed).toBe(11);
    expect(r.trk.voterNodes()).toEqual([1n, 2n, 3n]);
    expect(r.restore(snap)).toBe(false);
    for (let i = 0; i < r.randomizedElectionTimeout; i++) r.tick();
    expect(r.state).toBe(StateType.StateFollower);
  });

  test("TestRestoreWithVotersOutgoing: a joint snapshot restores both halves", () => {
    const snap = newSnapshot({
      metadata: { index: 11, term: 11, confState: newConfState({ voters: [2n, 3n, 4n], votersOutgoing: [1n, 2n, 3n] }) },
    });
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    expect(r.restore(snap)).toBe(true);
    expect(r.trk.voterNodes()).toEqual([1n, 2n, 3n, 4n]);
    expect(r.trk.confState()).toEqual(snap.metadata.confState);
    expect(r.restore(snap)).toBe(false);
    for (let i = 0; i < r.randomizedElectionTimeout; i++) r.tick();
    expect(r.state).toBe(StateType.StateFollower);
  });

  test("TestRestoreIgnoreSnapshot: a snapshot not beyond the commit index is ignored; one inside the log only moves the commit index", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.raftLog.append(entriesFrom(1, 1, 1, 1));
    r.raftLog.commitTo(1);
    const snap = (index: number) => newSnapshot({ metadata: { index, term: 1, confState: newConfState({ voters: [1n, 2n] }) } });
    expect(r.restore(snap(1))).toBe(false);
    expect(r.raftLog.committed).toBe(1);
    expect(r.restore(snap(2))).toBe(false);
    expect(r.raftLog.committed).toBe(2);
    // The log was kept.
    expect(r.raftLog.lastIndex()).toBe(3);
    expect(r.raftLog.hasPendingSnapshot()).toBe(false);
  });

  test("a snapshot that does not include this node is refused", () => {
    const snap = newSnapshot({ metadata: { index: 11, term: 11, confState: newConfState({ voters: [2n, 3n] }) } });
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    expect(r.restore(snap)).toBe(false);
    expect(r.raftLog.lastIndex()).toBe(0);
  });

  test("TestRestoreFromSnapMsg: a follower installs a leader's MsgSnap, takes it as leader and acknowledges it", () => {
    const r = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 2, snapshot: testingSnap() }));
    expect(r.lead).toBe(1n);
    expect(r.term).toBe(2);
    expect(r.raftLog.committed).toBe(11);
    expect(readMessages(r).map((m) => [m.to, m.type, m.index, m.reject])).toEqual([[1n, MessageType.MsgAppResp, 11, false]]);
  });

  test("an old MsgSnap is acknowledged with the commit index and otherwise ignored", () => {
    const r = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 2, snapshot: testingSnap() }));
    readMessages(r);
    const older = newSnapshot({ metadata: { index: 5, term: 5, confState: newConfState({ voters: [1n, 2n] }) } });
    r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 2, snapshot: older }));
    expect(r.raftLog.lastIndex()).toBe(11);
    expect(readMessages(r).map((m) => [m.type, m.index])).toEqual([[MessageType.MsgAppResp, 11]]);
  });

  test("TestSlowNodeRestore: a node cut off while the leader compacted catches up through a snapshot", () => {
    const nt = newNetwork(null, null, null);
    nt.send(newMessage({ from: 1n, to: 1n, type: MessageType.MsgHup }));
    nt.isolate(3n);
    for (let j = 0; j <= 100; j++) nt.send(newMessage({ from: 1n, to: 1n, type: MessageType.MsgProp, entries: [newEntry()] }));
    const lead = nt.peers.get(1n) as Raft;
    const s1 = nt.storage.get(1n)!;
    nextEnts(lead, s1);
    s1.createSnapshot(lead.raftLog.applied, newConfState({ voters: lead.trk.voterNodes() }), new Uint8Array(0));
    s1.compact(lead.raftLog.applied);
    expect(lead.raftLog.firstIndex()).toBe(lead.raftLog.applied + 1);

    nt.recover();
    const sent: MessageType[] = [];
    nt.msgHook = (m) => {
      if (m.to === 3n) sent.push(m.type);
      return true;
    };
    // Heartbeats until the leader has heard from 3 (it only sends snapshots to active followers).
    for (let i = 0; i < 10 && !lead.trk.progress.get(3n)!.recentActive; i++) {
      nt.send(newMessage({ from: 1n, to: 1n, type: MessageType.MsgBeat }));
    }
    expect(lead.trk.progress.get(3n)!.recentActive).toBe(true);
    nt.send(newMessage({ from: 1n, to: 1n, type: MessageType.MsgProp, entries: [newEntry()] }));
    nt.send(newMessage({ from: 1n, to: 1n, type: MessageType.MsgProp, entries: [newEntry()] }));
    const follower = nt.peers.get(3n) as Raft;
    expect(sent).toContain(MessageType.MsgSnap);
    expect(follower.raftLog.committed).toBe(lead.raftLog.committed);
    expect(lead.trk.progress.get(3n)!.state).toBe(ProgressStateType.StateReplicate);
  });
});

describe("MemoryStorage snapshots and compaction (storage_test.go)", () => {
  /** A storage whose log is entries 4 and 5 after a dummy at (index 3, term 3). */
  const storageOf345 = () => {
    const s = new MemoryStorage();
    s.ents = entriesFrom(3, 3, 4, 5);
    return s;
  };

  test.each([
    { i: 2, err: ErrCompacted, index: 3, term: 3, len: 3 },
    { i: 3, err: ErrCompacted, index: 3, term: 3, len: 3 },
    { i: 4, err: undefined, index: 4, term: 4, len: 2 },
    { i: 5, err: undefined, index: 5, term: 5, len: 1 },
  ])("TestStorageCompact: compact($i)", ({ i, err, index, term, len }) => {
    const s = storageOf345();
    expect(thrown(() => s.compact(i))).toBe(err);
    expect(s.ents[0]!.index).toBe(index);
    expect(s.ents[0]!.term).toBe(term);
    expect(s.ents).toHaveLength(len);
  });

  test("compacted entries are gone: entries() and term() throw ErrCompacted below the first index", () => {
    const s = storageOf345();
    s.compact(4);
    expect(s.firstIndex()).toBe(5);
    expect(s.term(4)).toBe(4);
    expect(thrown(() => s.term(3))).toBe(ErrCompacted);
    expect(thrown(() => s.entries(4, 6, noLimit))).toBe(ErrCompacted);
    expect(s.entries(5, 6, noLimit)).toEqual(entriesFrom(5, 5));
    expect(thrown(() => s.term(6))).toBe(ErrUnavailable);
  });

  test.each([4, 5])("TestStorageCreateSnapshot: createSnapshot(%i) records index, term, configuration and data", (i) => {
    const s = storageOf345();
    const cs = newConfState({ voters: [1n, 2n, 3n] });
    const snap = s.createSnapshot(i, cs, bytes("data"));
    expect(snap).toEqual(newSnapshot({ data: bytes("data"), metadata: { index: i, term: i, confState: cs } }));
    expect(s.snapshot()).toEqual(snap);
  });

  test("createSnapshot at or below the current snapshot throws ErrSnapOutOfDate", () => {
    const s = storageOf345();
    s.createSnapshot(4, undefined, new Uint8Array(0));
    expect(thrown(() => s.createSnapshot(4, undefined, new Uint8Array(0)))).toBe(ErrSnapOutOfDate);
    expect(thrown(() => s.createSnapshot(3, undefined, new Uint8Array(0)))).toBe(ErrSnapOutOfDate);
    // Without a configuration, the previous one is kept.
    const cs = newConfState({ voters: [7n] });
    s.createSnapshot(5, cs, new Uint8Array(0));
    s.ents.push(newEntry({ index: 6, term: 6 }));
    expect(s.createSnapshot(6, undefined, new Uint8Array(0)).metadata.confState).toEqual(cs);
  });

  test("TestStorageApplySnapshot: applying a snapshot replaces the log; an older one throws ErrSnapOutOfDate", () => {
    const cs = newConfState({ voters: [1n, 2n, 3n] });
    const s = new MemoryStorage();
    s.append(entriesFrom(1, 1, 1));
    s.applySnapshot(newSnapshot({ data: bytes("data"), metadata: { index: 4, term: 4, confState: cs } }));
    expect(s.firstIndex()).toBe(5);
    expect(s.lastIndex()).toBe(4);
    expect(s.term(4)).toBe(4);
    expect(s.initialState().confState).toEqual(cs);
    expect(thrown(() => s.applySnapshot(newSnapshot({ data: bytes("data"), metadata: { index: 3, term: 3, confState: cs } })))).toBe(
      ErrSnapOutOfDate,
    );
    expect(thrown(() => s.applySnapshot(newSnapshot({ data: bytes("data"), metadata: { index: 4, term: 4, confState: cs } })))).toBe(
      ErrSnapOutOfDate,
    );
    expect(s.snapshot().metadata.index).toBe(4);
  });
});
