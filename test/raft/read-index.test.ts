/**
 * Linearizable reads through ReadIndex (Raft thesis §6.4): the leader records its commit index for
 * each read, confirms it is still leader with a round of heartbeats acknowledged by a quorum
 * (ReadOnlySafe) or trusts its lease (ReadOnlyLeaseBased), then answers with a ReadState — locally,
 * or as a MsgReadIndexResp to the follower that forwarded the request. Ported from etcd's
 * raft_test.go (TestReadOnlyOptionSafe, TestReadOnlyWithLearner, TestReadOnlyOptionLease,
 * TestReadOnlyForNewLeader, TestRaftFreesReadOnlyMem, TestReadOnlyDuplicateRequest) and node_test.go
 * (TestNodeReadIndexToOldLeader).
 */
import { describe, expect, test } from "vitest";
import { type Config, Raft, ReadOnlyOption, StateType, newRaft } from "../../src/raft/raft.js";
import { ConfChangeType, type Message, MessageType, newConfChangeV2, newEntry, newHardState, newMessage } from "../../src/raft/raftpb.js";
import { RawNode } from "../../src/raft/rawnode.js";
import type { MemoryStorage } from "../../src/raft/storage.js";
import {
  commitNoopEntry,
  newNetwork,
  newTestConfig,
  newTestMemoryStorage,
  newTestRaft,
  nextEnts,
  readMessages,
  withLearners,
  withPeers,
} from "./harness.js";
import { beat, bytes, hup, peer, prop, readIndex, setRandomizedElectionTimeout, text, tickN } from "./election-helpers.js";

/** ReadStates as [index, ctx] pairs. */
function reads(r: Raft): [number, string][] {
  return r.readStates.map((rs) => [rs.index, text(rs.requestCtx)]);
}

/** Rafts 1, 2, 3 of a fresh 3-node cluster, each with `extra`. */
function threeRafts(extra: Partial<Config>): [Raft, Raft, Raft] {
  const rs = [1n, 2n, 3n].map((id) => newTestRaft(id, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), extra));
  return rs as [Raft, Raft, Raft];
}

/** A leader of `peers` at term 1 whose empty entry is committed and applied; nothing in flight. */
function committedLeader(peers: bigint[], extra: Partial<Config> = {}): { r: Raft; s: MemoryStorage } {
  const s = newTestMemoryStorage(withPeers(...peers));
  const r = newTestRaft(1n, 10, 1, s, extra);
  r.becomeCandidate();
  r.becomeLeader();
  commitNoopEntry(r, s);
  return { r, s };
}

function heartbeatResp(from: bigint, r: Raft, context: Uint8Array): Message {
  return newMessage({ from, to: r.id, term: r.term, type: MessageType.MsgHeartbeatResp, context });
}

/** The context of the heartbeats in msgs, which must all carry the same one. */
function heartbeatCtx(msgs: Message[]): Uint8Array {
  const hbs = msgs.filter((m) => m.type === MessageType.MsgHeartbeat);
  expect(hbs.length).toBeGreaterThan(0);
  for (const m of hbs) expect(m.context).toEqual(hbs[0]!.context);
  return hbs[0]!.context;
}

describe("reads through a cluster, from the leader and from followers", () => {
  const rows: [bigint, number, string][] = [
    [1n, 11, "ctx1"],
    [2n, 21, "ctx2"],
    [3n, 31, "ctx3"],
    [1n, 41, "ctx4"],
    [2n, 51, "ctx5"],
    [3n, 61, "ctx6"],
  ];

  test.each([
    { name: "ReadOnlySafe", extra: {} },
    { name: "ReadOnlyLeaseBased", extra: { readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased, checkQuorum: true } },
  ])("$name: each read gets the commit index at its arrival and its own context (TestReadOnlyOption*)", ({ extra }) => {
    const [a, b, c] = threeRafts(extra);
    const nt = newNetwork(a, b, c);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    tickN(b, b.electionTimeout);
    nt.send(hup(1n));
    expect(StateType[a.state]).toBe("StateLeader");

    for (const [id, wIndex, wCtx] of rows) {
      for (let j = 0; j < 10; j++) nt.send(prop(1n));
      nt.send(readIndex(id, wCtx));
      const r = peer(nt, id);
      expect(reads(r), `read ${wCtx} on node ${id}`).toEqual([[wIndex, wCtx]]);
      r.readStates = [];
    }
  });

  test("a single voter with a learner answers at once; the learner's reads are forwarded (TestReadOnlyWithLearner)", () => {
    const s = newTestMemoryStorage(withPeers(1n), withLearners(2n));
    const a = newTestRaft(1n, 10, 1, s);
    const b = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n), withLearners(2n)));
    const nt = newNetwork(a, b);
    setRandomizedElectionTimeout(b, b.electionTimeout + 1);
    tickN(b, b.electionTimeout);
    nt.send(hup(1n));
    expect(StateType[a.state]).toBe("StateLeader");

    for (const [r, wIndex, wCtx] of [
      [a, 11, "ctx1"],
      [b, 21, "ctx2"],
      [a, 31, "ctx3"],
      [b, 41, "ctx4"],
    ] as const) {
      for (let j = 0; j < 10; j++) {
        nt.send(prop(1n));
        nextEnts(a, s);
      }
      nt.send(readIndex(r.id, wCtx));
      expect(reads(r), `read ${wCtx}`).toEqual([[wIndex, wCtx]]);
      r.readStates = [];
    }
  });

  test("a follower forwards reads without a term, and forwards again to a newer leader (TestNodeReadIndexToOldLeader)", () => {
    const [r1, r2, r3] = threeRafts({});
    const nt = newNetwork(r1, r2, r3);
    nt.send(hup(1n));
    const ents = [newEntry({ data: bytes("testdata") })];
    const fields = (m: Message) => ({ type: m.type, from: m.from, to: m.to, term: m.term, ctx: text(m.entries[0]!.data) });

    r2.step(newMessage({ from: 2n, to: 2n, type: MessageType.MsgReadIndex, entries: ents }));
    const fwd2 = readMessages(r2);
    expect(fwd2.map(fields)).toEqual([{ type: MessageType.MsgReadIndex, from: 2n, to: 1n, term: 0, ctx: "testdata" }]);
    r3.step(newMessage({ from: 3n, to: 3n, type: MessageType.MsgReadIndex, entries: ents }));
    const fwd3 = readMessages(r3);
    expect(fwd3.map(fields)).toEqual([{ type: MessageType.MsgReadIndex, from: 3n, to: 1n, term: 0, ctx: "testdata" }]);

    nt.send(hup(3n));
    expect(r1.lead).toBe(3n);

    r1.step(fwd2[0]!);
    r1.step(fwd3[0]!);
    expect(readMessages(r1).map(fields)).toEqual([
      { type: MessageType.MsgReadIndex, from: 2n, to: 3n, term: 0, ctx: "testdata" },
      { type: MessageType.MsgReadIndex, from: 3n, to: 3n, term: 0, ctx: "testdata" },
    ]);
  });
});

describe("the leader's answer", () => {
  test("a single voter answers at once with its commit index", () => {
    const s = newTestMemoryStorage(withPeers(1n));
    const r = newTestRaft(1n, 10, 1, s);
    r.step(hup(1n));
    expect(StateType[r.state]).toBe("StateLeader");
    r.step(prop(1n, "a"));
    expect(r.raftLog.committed).toBe(2);
    r.step(readIndex(1n, "now"));
    expect(reads(r)).toEqual([[2, "now"]]);
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgHeartbeat)).toEqual([]);
  });

  test("a leader removed from a two-voter config still confirms reads with the remaining voter", () => {
    // etcd answers at once here (the config is a singleton, but the single voter is not the leader),
    // from a commit index that the remaining voter may already have passed under a new leader.
    const { r } = committedLeader([1n, 2n]);
    r.applyConfChange(newConfChangeV2({ changes: [{ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n }] }));
    expect(StateType[r.state]).toBe("StateLeader");
    expect(r.trk.isSingleton()).toBe(true);
    readMessages(r);
    r.step(readIndex(1n, "stale?"));
    expect(reads(r)).toEqual([]);
    const ctx = heartbeatCtx(readMessages(r));
    r.step(heartbeatResp(2n, r, ctx));
    expect(reads(r)).toEqual([[r.raftLog.committed, "stale?"]]);
  });

  test("through RawNode, a read comes back in the next Ready and is cleared by advance", () => {
    const s = newTestMemoryStorage(withPeers(1n));
    const rn = new RawNode(newTestConfig(1n, 10, 1, s));
    const handle = () => {
      const rd = rn.ready();
      s.append(rd.entries);
      if (rd.hardState.term !== 0) s.setHardState(rd.hardState);
      rn.advance(rd);
      return rd;
    };
    rn.campaign();
    while (rn.hasReady()) handle();
    expect(StateType[rn.raft.state]).toBe("StateLeader");

    rn.readIndex(bytes("somedata2"));
    expect(rn.hasReady()).toBe(true);
    const rd = handle();
    expect(rd.readStates.map((rs) => [rs.index, text(rs.requestCtx)])).toEqual([[1, "somedata2"]]);
    expect(rn.raft.readStates).toEqual([]);
    expect(rn.hasReady()).toBe(false);
  });

  test("a forwarded read is answered with MsgReadIndexResp carrying the index and the request", () => {
    const { r } = committedLeader([1n, 2n, 3n]);
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgReadIndex, entries: [newEntry({ data: bytes("q") })] }));
    const hb = readMessages(r);
    expect(hb.map((m) => [m.type, m.to])).toEqual([
      [MessageType.MsgHeartbeat, 2n],
      [MessageType.MsgHeartbeat, 3n],
    ]);
    r.step(heartbeatResp(3n, r, heartbeatCtx(hb)));
    const resp = readMessages(r).filter((m) => m.type === MessageType.MsgReadIndexResp);
    expect(resp.map((m) => ({ to: m.to, term: m.term, index: m.index, ctx: m.entries.map((e) => text(e.data)) }))).toEqual([
      { to: 2n, term: 1, index: 1, ctx: ["q"] },
    ]);
    expect(r.readStates).toEqual([]);
  });

  test("a follower turns MsgReadIndexResp into a ReadState, and ignores a malformed one", () => {
    const f = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    f.becomeFollower(1, 1n);
    const resp = (entries: string[]) =>
      newMessage({
        from: 1n,
        to: 2n,
        term: 1,
        type: MessageType.MsgReadIndexResp,
        index: 7,
        entries: entries.map((d) => newEntry({ data: bytes(d) })),
      });
    f.step(resp([]));
    f.step(resp(["x", "y"]));
    expect(f.readStates).toEqual([]);
    f.step(resp(["x"]));
    expect(reads(f)).toEqual([[7, "x"]]);
  });

  test("confirmed reads leave the pending queue (TestRaftFreesReadOnlyMem)", () => {
    const r = newTestRaft(1n, 5, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.becomeCandidate();
    r.becomeLeader();
    r.raftLog.commitTo(r.raftLog.lastIndex());
    readMessages(r);

    r.step(newMessage({ from: 2n, type: MessageType.MsgReadIndex, entries: [newEntry({ data: bytes("ctx") })] }));
    const msgs = readMessages(r);
    expect(msgs.map((m) => m.type)).toEqual([MessageType.MsgHeartbeat]);
    expect(r.readOnly.pendingCount()).toBe(1);

    r.step(heartbeatResp(2n, r, msgs[0]!.context));
    expect(r.readOnly.pendingCount()).toBe(0);
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgReadIndexResp).map((m) => m.to)).toEqual([2n]);
  });

  test("with the lease, the leader answers without a heartbeat round, at its commit index", () => {
    const { r } = committedLeader([1n, 2n, 3n], { readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased, checkQuorum: true });
    r.step(prop(1n, "uncommitted"));
    readMessages(r);
    expect(r.raftLog.lastIndex()).toBe(2);
    r.step(readIndex(1n, "lease"));
    expect(reads(r)).toEqual([[1, "lease"]]);
    expect(readMessages(r)).toEqual([]);
  });

  test("a read is recorded at the commit index, not past entries still uncommitted", () => {
    const { r } = committedLeader([1n, 2n, 3n]);
    r.step(prop(1n, "uncommitted"));
    readMessages(r);
    r.step(readIndex(1n, "safe"));
    r.step(heartbeatResp(2n, r, heartbeatCtx(readMessages(r))));
    expect(reads(r)).toEqual([[1, "safe"]]);
  });

  test("the lease option needs check-quorum", () => {
    const cfg = newTestConfig(1n, 10, 1, newTestMemoryStorage(withPeers(1n)), { readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased });
    expect(() => newRaft(cfg)).toThrow(/CheckQuorum/);
  });
});

describe("confirming reads with heartbeats", () => {
  /** A committed leader of `peers` with three reads pending: r1 at commit 1, r2 and r3 at commit 2. */
  function threePending(peers: bigint[]) {
    const { r } = committedLeader(peers);
    r.step(readIndex(1n, "r1"));
    const ctx1 = heartbeatCtx(readMessages(r));
    r.step(prop(1n, "x"));
    for (const m of readMessages(r)) {
      if (m.type === MessageType.MsgApp && m.to === 2n) r.step(newMessage({ from: 2n, to: 1n, term: r.term, type: MessageType.MsgAppResp, index: 2 }));
    }
    if (peers.length > 3) r.step(newMessage({ from: 3n, to: 1n, term: r.term, type: MessageType.MsgAppResp, index: 2 }));
    expect(r.raftLog.committed).toBe(2);
    readMessages(r);
    r.step(readIndex(1n, "r2"));
    const ctx2 = heartbeatCtx(readMessages(r));
    r.step(readIndex(1n, "r3"));
    const ctx3 = heartbeatCtx(readMessages(r));
    expect(r.readOnly.pendingCount()).toBe(3);
    expect(r.readStates).toEqual([]);
    return { r, ctx1, ctx2, ctx3 };
  }

  test("one quorum acknowledgement of the newest heartbeat confirms every read before it, in order", () => {
    const { r, ctx3 } = threePending([1n, 2n, 3n]);
    r.step(heartbeatResp(3n, r, ctx3));
    expect(reads(r)).toEqual([
      [1, "r1"],
      [2, "r2"],
      [2, "r3"],
    ]);
    expect(r.readOnly.pendingCount()).toBe(0);
  });

  test("acknowledging an older heartbeat confirms only the reads it covered", () => {
    const { r, ctx1, ctx2, ctx3 } = threePending([1n, 2n, 3n]);
    r.step(heartbeatResp(2n, r, ctx1));
    expect(reads(r)).toEqual([[1, "r1"]]);
    r.step(heartbeatResp(3n, r, ctx2));
    expect(reads(r)).toEqual([
      [1, "r1"],
      [2, "r2"],
    ]);
    // A repeated acknowledgement confirms nothing twice.
    r.step(heartbeatResp(3n, r, ctx2));
    expect(r.readStates).toHaveLength(2);
    r.step(heartbeatResp(2n, r, ctx3));
    expect(reads(r)).toEqual([
      [1, "r1"],
      [2, "r2"],
      [2, "r3"],
    ]);
  });

  test("in five voters one acknowledgement is not enough; a quorum confirms up to its lowest position", () => {
    const { r, ctx1, ctx3 } = threePending([1n, 2n, 3n, 4n, 5n]);
    r.step(heartbeatResp(2n, r, ctx3));
    expect(r.readStates).toEqual([]);
    r.step(heartbeatResp(4n, r, ctx1));
    expect(reads(r)).toEqual([[1, "r1"]]);
    r.step(heartbeatResp(5n, r, ctx3));
    expect(reads(r).map(([, c]) => c)).toEqual(["r1", "r2", "r3"]);
  });

  test("heartbeats carry no context when no read is pending, and an empty acknowledgement confirms nothing", () => {
    const { r, ctx3 } = threePending([1n, 2n, 3n]);
    r.step(heartbeatResp(2n, r, new Uint8Array(0)));
    expect(r.readStates).toEqual([]);
    r.step(heartbeatResp(2n, r, ctx3));
    expect(r.readStates).toHaveLength(3);
    r.step(beat(1n));
    const hbs = readMessages(r).filter((m) => m.type === MessageType.MsgHeartbeat);
    expect(hbs).toHaveLength(2);
    for (const m of hbs) expect(m.context.length).toBe(0);
  });

  test("a leader that steps down forgets its pending reads", () => {
    const { r, ctx3 } = threePending([1n, 2n, 3n]);
    const term = r.term;
    r.step(newMessage({ from: 2n, to: 1n, term: term + 1, type: MessageType.MsgHeartbeat }));
    expect(StateType[r.state]).toBe("StateFollower");
    expect(r.readOnly.pendingCount()).toBe(0);
    r.step(newMessage({ from: 3n, to: 1n, term: term + 1, type: MessageType.MsgHeartbeatResp, context: ctx3 }));
    expect(r.readStates).toEqual([]);
  });
});

describe("reads without a usable leader", () => {
  test("a follower that knows no leader drops the read", () => {
    const r = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    r.step(readIndex(2n, "lost"));
    expect(readMessages(r)).toEqual([]);
    expect(r.readStates).toEqual([]);
  });

  test.each(["StateCandidate", "StatePreCandidate"] as const)("a %s drops the read", (name) => {
    const r = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    if (name === "StateCandidate") r.becomeCandidate();
    else r.becomePreCandidate();
    readMessages(r);
    r.step(readIndex(2n, "lost"));
    expect(readMessages(r)).toEqual([]);
    expect(r.readStates).toEqual([]);
  });

  test("a new leader holds reads until it commits an entry of its term (TestReadOnlyForNewLeader)", () => {
    const nodes = [
      { id: 1n, committed: 1, applied: 1, compactIndex: 0 },
      { id: 2n, committed: 2, applied: 2, compactIndex: 2 },
      { id: 3n, committed: 2, applied: 2, compactIndex: 2 },
    ];
    const peers = nodes.map((c) => {
      const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
      s.append([newEntry({ index: 1, term: 1 }), newEntry({ index: 2, term: 1 })]);
      s.setHardState(newHardState({ term: 1, commit: c.committed }));
      if (c.compactIndex !== 0) s.compact(c.compactIndex);
      return newRaft(newTestConfig(c.id, 10, 1, s, { applied: c.applied }));
    });
    const nt = newNetwork(...peers);

    // Keep the new leader from committing anything of its term.
    nt.ignore(MessageType.MsgApp);
    nt.send(hup(1n));
    const sm = peer(nt, 1n);
    expect(StateType[sm.state]).toBe("StateLeader");

    nt.send(readIndex(1n, "ctx"));
    expect(sm.readStates).toEqual([]);
    // A follower's read is held too (a heartbeat tells node 2 who leads; appends are still lost).
    nt.send(beat(1n));
    expect(peer(nt, 2n).lead).toBe(1n);
    nt.send(readIndex(2n, "from2"));
    expect(peer(nt, 2n).readStates).toEqual([]);
    expect(sm.pendingReadIndexMessages).toHaveLength(2);

    nt.recover();
    tickN(sm, sm.heartbeatTimeout);
    nt.send(prop(1n));
    expect(sm.raftLog.committed).toBe(4);
    expect(sm.raftLog.zeroTermOnOutOfBounds(sm.raftLog.committed)).toBe(sm.term);

    expect(reads(sm)).toEqual([[4, "ctx"]]);
    expect(reads(peer(nt, 2n))).toEqual([[4, "from2"]]);
    expect(sm.pendingReadIndexMessages).toEqual([]);

    nt.send(readIndex(1n, "ctx"));
    expect(reads(sm)).toEqual([
      [4, "ctx"],
      [4, "ctx"],
    ]);
  });

  test("a retried read cannot be confirmed by heartbeats of an earlier round (TestReadOnlyDuplicateRequest)", () => {
    const [r1, r2, r3] = threeRafts({});
    const nt = newNetwork(r1, r2, r3);
    const delayed: Message[] = [];
    nt.send(hup(1n));

    const msgA = newMessage({ from: 2n, to: 1n, type: MessageType.MsgReadIndex, entries: [newEntry({ data: bytes("A") })] });
    const minA = r1.raftLog.committed;
    // The same request again later, as a network duplicate or a client retry would send it.
    delayed.push(msgA);

    nt.msgHook = (m) => {
      if (m.type !== MessageType.MsgHeartbeatResp) return true;
      delayed.push(m);
      return false;
    };
    nt.send(msgA);
    nt.msgHook = undefined;

    r1.tick();
    nt.send(...readMessages(r1));
    expect(reads(r2).map(([, c]) => c)).toEqual(["A"]);

    // r2 takes over while r1 is cut off and still believes it leads.
    nt.isolate(1n);
    nt.send(hup(2n));
    nt.send(prop(2n, "someOp"));
    expect(StateType[r1.state]).toBe("StateLeader");

    const minB = r2.raftLog.committed;
    nt.send(readIndex(1n, "B"));
    nt.recover();
    nt.send(...delayed);

    const all = [...r1.readStates, ...r2.readStates, ...r3.readStates];
    for (const rs of all) {
      const ctx = text(rs.requestCtx);
      if (ctx === "A") expect(rs.index, "read A").toBeGreaterThanOrEqual(minA);
      if (ctx === "B") expect(rs.index, "read B").toBeGreaterThanOrEqual(minB);
    }
    // The stale leader confirmed nothing: B and the retried A wait for a heartbeat round of their own.
    expect(reads(r1).map(([, c]) => c)).not.toContain("B");
    expect(r1.readOnly.pendingCount()).toBe(2);
  });
});
