/**
 * The Raft state machine (src/raft/raft.ts) beyond the paper's §5 tests: etcd's raft_test.go
 * behaviours of progress and flow of appends, elections in a simulated network, log replication and
 * commitment, proposals, message handling tables, state transitions and heartbeats.
 *
 * Our core counts the leader's own append (and vote) at once, like etcd 3.5, where etcd's newest raft
 * waits for the local persistence acknowledgement; expectations that depend on it say so.
 */
import { describe, expect, test } from "vitest";
import { describeEntry } from "../../src/raft/describe.js";
import { ErrProposalDropped } from "../../src/raft/errors.js";
import { RaftLog } from "../../src/raft/log.js";
import { discardLogger } from "../../src/raft/logger.js";
import { type Raft, StateType, newRaft } from "../../src/raft/raft.js";
import {
  ConfChangeType,
  type Entry,
  type Message,
  MessageType,
  None,
  asV2,
  newConfChange,
  newConfState,
  newEntry,
  newHardState,
  newMessage,
  newSnapshot,
  voteRespMsgType,
} from "../../src/raft/raftpb.js";
import { MemoryStorage } from "../../src/raft/storage.js";
import { ProgressStateType } from "../../src/raft/tracker/progress.js";
import {
  type Network,
  acceptAndReply,
  entsWithConfig,
  index,
  ltoa,
  mustAppendEntry,
  newNetwork,
  newTestConfig,
  newTestMemoryStorage,
  newTestRaft,
  nextEnts,
  nopStepper,
  readMessages,
  votedWithConfig,
  withPeers,
  thrown,
} from "./harness.js";

const { StateFollower, StateCandidate, StateLeader, StatePreCandidate } = StateType;
const { StateProbe, StateReplicate } = ProgressStateType;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const hup = (id: bigint): Message => newMessage({ from: id, to: id, type: MessageType.MsgHup });
const beat = (id: bigint): Message => newMessage({ from: id, to: id, type: MessageType.MsgBeat });
function prop(from: bigint, to: bigint, data: string | Uint8Array = "somedata"): Message {
  return newMessage({ from, to, type: MessageType.MsgProp, entries: [newEntry({ data: typeof data === "string" ? enc(data) : data })] });
}


/** Adds the names of the row's raft states, for readable test titles. */
function named<T extends { state?: StateType; from?: StateType; to?: StateType }>(
  rows: T[],
): (T & { stateName: string; fromName: string; toName: string })[] {
  const n = (s: StateType | undefined): string => (s === undefined ? "" : StateType[s]);
  return rows.map((r) => ({ ...r, stateName: n(r.state), fromName: n(r.from), toName: n(r.to) }));
}

function peer(nw: Network, id: bigint): Raft {
  return nw.peers.get(id) as Raft;
}

/** The rafts of a network (not the black holes), with their ids. */
function rafts(nw: Network): [bigint, Raft][] {
  return [...nw.peers].filter(([, p]) => p !== nopStepper) as [bigint, Raft][];
}

/** A RaftLog over a storage holding exactly `ents` (dummy entry first), nothing unstable (etcd's newLog(&MemoryStorage{ents})). */
function logWith(ents: Entry[]): RaftLog {
  const s = new MemoryStorage();
  s.ents = ents;
  return new RaftLog(s, discardLogger);
}

/** The expected log text: entries given as (term, data) from index 1. */
function wantLog(applied: number, ...ents: [term: number, data?: string][]): string {
  let s = `lastIndex: ${ents.length}\napplied:  ${applied}\n`;
  ents.forEach(([term, data], i) => {
    s += `#${i}: ${describeEntry(newEntry({ index: i + 1, term, data: data === undefined ? undefined : enc(data) }))}\n`;
  });
  return s;
}

/** A fresh leader of `peers` at term 1 that has not yet sent anything. */
function newLeader(peers: bigint[], election = 5, storage = newTestMemoryStorage(withPeers(...peers))): Raft {
  const r = newTestRaft(1n, election, 1, storage);
  r.becomeCandidate();
  r.becomeLeader();
  return r;
}

// ---------------------------------------------------------------------------------------------
describe("progress and flow of appends", () => {
  test("the leader's own progress covers its appended entries at once", () => {
    const r = newLeader([1n, 2n]);
    r.trk.progress.get(2n)!.becomeReplicate();
    for (let i = 0; i < 5; i++) r.step(prop(1n, 1n, "foo"));
    const ents = r.raftLog.unstableEntries();
    expect(ents.length).toBe(6);
    expect(ents[0]!.data.length).toBe(0);
    expect(new TextDecoder().decode(ents[5]!.data)).toBe("foo");
    // etcd's newest raft acks its own entries after persisting them; ours counts them at once.
    expect(r.trk.progress.get(1n)!.match).toBe(6);
    expect(r.trk.progress.get(1n)!.next).toBe(7);
  });

  test("MsgBeat leaves a paused follower paused; a heartbeat response resumes it", () => {
    const r = newLeader([1n, 2n]);
    const pr2 = r.trk.progress.get(2n)!;
    pr2.msgAppFlowPaused = true;
    r.step(beat(1n));
    expect(pr2.msgAppFlowPaused).toBe(true);

    pr2.becomeReplicate();
    expect(pr2.msgAppFlowPaused).toBe(false);
    pr2.msgAppFlowPaused = true;
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgHeartbeatResp }));
    expect(pr2.msgAppFlowPaused).toBe(false);
  });

  test("a probing follower gets one append, then nothing until it answers", () => {
    const r = newLeader([1n, 2n]);
    for (let i = 0; i < 3; i++) r.step(prop(1n, 1n));
    const ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgApp);
  });

  test("flow control: one append while probing, then a window of maxInflightMsgs appends of maxSizePerMsg", () => {
    const cfg = newTestConfig(1n, 5, 1, newTestMemoryStorage(withPeers(1n, 2n)), { maxInflightMsgs: 3, maxSizePerMsg: 2048 });
    const r = newRaft(cfg);
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);

    r.trk.progress.get(2n)!.becomeProbe();
    const blob = new Uint8Array(1000).fill(0x61);
    for (let i = 0; i < 10; i++) r.step(prop(1n, 1n, blob));

    // Probing: the empty entry and the first proposal in one message.
    let ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgApp);
    expect(ms[0]!.entries.map((e) => e.data.length)).toEqual([0, 1000]);

    // Acked: replicate, three messages of two entries fill the window.
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, index: ms[0]!.entries[1]!.index }));
    ms = readMessages(r);
    expect(ms.map((m) => m.type)).toEqual([MessageType.MsgApp, MessageType.MsgApp, MessageType.MsgApp]);
    expect(ms.map((m) => m.entries.length)).toEqual([2, 2, 2]);
    expect(r.trk.progress.get(2n)!.isPaused()).toBe(true);

    // One ack for all three frees the window: the remaining three entries in two messages.
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, index: ms[2]!.entries[1]!.index }));
    ms = readMessages(r);
    expect(ms.map((m) => m.type)).toEqual([MessageType.MsgApp, MessageType.MsgApp]);
    expect(ms.map((m) => m.entries.length)).toEqual([2, 1]);
  });
});

// ---------------------------------------------------------------------------------------------
describe("elections", () => {
  test.each([
    { name: "3 nodes, all answer", peers: [null, null, null], state: StateLeader, term: 1 },
    { name: "3 nodes, one never answers", peers: [null, null, nopStepper], state: StateLeader, term: 1 },
    { name: "3 nodes, two never answer", peers: [null, nopStepper, nopStepper], state: StateCandidate, term: 1 },
    { name: "4 nodes, two never answer", peers: [null, nopStepper, nopStepper, null], state: StateCandidate, term: 1 },
    { name: "5 nodes, two never answer", peers: [null, nopStepper, nopStepper, null, null], state: StateLeader, term: 1 },
  ])("leader election: $name", ({ peers, state, term }) => {
    const nw = newNetwork(...peers);
    nw.send(hup(1n));
    expect(peer(nw, 1n).state).toBe(state);
    expect(peer(nw, 1n).term).toBe(term);
  });

  test("leader election: a candidate whose log is behind a majority at the same term loses and follows", () => {
    const nw = newNetwork(null, entsWithConfig({}, 1), entsWithConfig({}, 1), entsWithConfig({}, 1, 1), null);
    nw.send(hup(1n));
    expect(peer(nw, 1n).state).toBe(StateFollower);
    expect(peer(nw, 1n).term).toBe(1);
  });

  test("each node of a cluster can campaign and win in turn", () => {
    const nw = newNetwork(null, null, null);
    for (const campaigner of [1n, 2n, 3n]) {
      nw.send(hup(campaigner));
      for (const [id, r] of rafts(nw)) {
        expect(r.state, `node ${id} after node ${campaigner} campaigned`).toBe(id === campaigner ? StateLeader : StateFollower);
      }
    }
  });

  test("a new leader overwrites newer-term entries that were never committed", () => {
    // 1 won term 1 and replicated an entry to 2; 3 won term 2 (votes of 4, 5) and wrote an entry
    // nobody else received.
    const nw = newNetwork(
      entsWithConfig({}, 1),
      entsWithConfig({}, 1),
      entsWithConfig({}, 2),
      votedWithConfig({}, 3n, 2),
      votedWithConfig({}, 3n, 2),
    );
    // 1 campaigns at term 2 and fails (a quorum already voted in term 2), but learns term 2.
    nw.send(hup(1n));
    const r1 = peer(nw, 1n);
    expect(r1.state).toBe(StateFollower);
    expect(r1.term).toBe(2);
    // At term 3 it wins, and its log replaces 3's term-2 entry everywhere.
    nw.send(hup(1n));
    expect(r1.state).toBe(StateLeader);
    expect(r1.term).toBe(3);
    for (const [id, r] of rafts(nw)) {
      expect(
        r.raftLog.allEntries().map((e) => e.term),
        `node ${id}`,
      ).toEqual([1, 3]);
    }
  });

  test.each([StateFollower, StatePreCandidate, StateCandidate, StateLeader].map((st) => [StateType[st], st] as const))(
    "a MsgVote for a higher term is granted from any state (%s) and makes the node a follower",
    (_name, st) => {
      const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
      r.term = 1;
      if (st === StateFollower) r.becomeFollower(r.term, 3n);
      if (st === StatePreCandidate) r.becomePreCandidate();
      if (st === StateCandidate) r.becomeCandidate();
      if (st === StateLeader) {
        r.becomeCandidate();
        r.becomeLeader();
      }
      const newTerm = r.term + 1;
      r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgVote, term: newTerm, logTerm: newTerm, index: 42 }));
      expect(r.msgs.length).toBe(1);
      expect(r.msgs[0]!.type).toBe(MessageType.MsgVoteResp);
      expect(r.msgs[0]!.reject).toBe(false);
      expect(r.state).toBe(StateFollower);
      expect(r.term).toBe(newTerm);
      expect(r.vote).toBe(2n);
    },
  );

  test("dueling candidates: the one with a shorter log is rejected and follows at the new term", () => {
    const [a, b, c] = [1n, 2n, 3n].map((id) => newTestRaft(id, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)))) as [Raft, Raft, Raft];
    const nw = newNetwork(a, b, c);
    nw.cut(1n, 3n);
    nw.send(hup(1n));
    nw.send(hup(3n));
    // 1 won with the votes of 1 and 2; 3 got only its own vote and 2's rejection.
    expect(a.state).toBe(StateLeader);
    expect(c.state).toBe(StateCandidate);

    nw.recover();
    // 3 campaigns again at term 2: it disrupts the leader, but its log (empty) is behind, so it loses.
    nw.send(hup(3n));
    expect(c.state).toBe(StateFollower);
    for (const [r, lastIndex] of [
      [a, 1],
      [b, 1],
      [c, 0],
    ] as const) {
      expect(r.state).toBe(StateFollower);
      expect(r.term).toBe(2);
      expect(r.raftLog.lastIndex()).toBe(lastIndex);
    }
  });

  test("a candidate concedes to a leader of its term and takes its log", () => {
    const nw = newNetwork(null, null, null);
    nw.isolate(1n);
    nw.send(hup(1n));
    nw.send(hup(3n));
    nw.recover();
    nw.send(beat(3n));
    nw.send(prop(3n, 3n, "force follower"));
    nw.send(beat(3n));

    const a = peer(nw, 1n);
    expect(a.state).toBe(StateFollower);
    expect(a.term).toBe(1);
    const want = wantLog(0, [1], [1, "force follower"]);
    for (const [id, r] of rafts(nw)) {
      expect(ltoa(r.raftLog), `node ${id}`).toBe(want);
      expect(r.raftLog.committed, `node ${id}`).toBe(2);
    }
  });

  test("a single node wins its election at once", () => {
    const nw = newNetwork(null);
    nw.send(hup(1n));
    expect(peer(nw, 1n).state).toBe(StateLeader);
  });

  test("MsgHup to a leader changes nothing", () => {
    const r = newTestRaft(1n, 5, 1, newTestMemoryStorage(withPeers(1n)));
    expect(r.state).toBe(StateFollower);
    r.step(hup(1n));
    expect(r.state).toBe(StateLeader);
    const term = r.term;
    const last = r.raftLog.lastIndex();
    r.step(hup(1n));
    expect(r.state).toBe(StateLeader);
    expect(r.term).toBe(term);
    expect(r.raftLog.lastIndex()).toBe(last);
  });

  test("a candidate hearing from the leader of a newer term (MsgHeartbeat or MsgApp) follows at that term", () => {
    for (const mt of [MessageType.MsgHeartbeat, MessageType.MsgApp]) {
      const [a, b, c] = [1n, 2n, 3n].map((id) => newTestRaft(id, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)))) as [Raft, Raft, Raft];
      const nw = newNetwork(a, b, c);
      nw.send(hup(1n));
      expect([a.state, b.state, c.state]).toEqual([StateLeader, StateFollower, StateFollower]);

      // 3 is cut off while 1 and 2 move on to term 3.
      nw.isolate(3n);
      nw.send(hup(2n));
      nw.send(hup(1n));
      expect(a.state).toBe(StateLeader);
      expect(b.state).toBe(StateFollower);

      // 3 times out alone and becomes a candidate.
      c.resetRandomizedElectionTimeout();
      for (let i = 0; i < c.randomizedElectionTimeout; i++) c.tick();
      expect(c.state).toBe(StateCandidate);

      nw.recover();
      nw.send(newMessage({ from: 1n, to: 3n, term: a.term, type: mt }));
      expect(c.state, MessageType[mt]).toBe(StateFollower);
      expect(c.term, MessageType[mt]).toBe(a.term);
    }
  });

  test("the randomized election timeout is uniform over [electionTimeout, 2 × electionTimeout)", () => {
    for (const { elapse, wprobability, round } of [
      { elapse: 5, wprobability: 0, round: false },
      { elapse: 10, wprobability: 0.1, round: true },
      { elapse: 13, wprobability: 0.4, round: true },
      { elapse: 15, wprobability: 0.6, round: true },
      { elapse: 18, wprobability: 0.9, round: true },
      { elapse: 20, wprobability: 1, round: false },
    ]) {
      const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)));
      r.electionElapsed = elapse;
      let c = 0;
      for (let j = 0; j < 10000; j++) {
        r.resetRandomizedElectionTimeout();
        if (r.pastElectionTimeout()) c++;
      }
      let got = c / 10000;
      if (round) got = Math.floor(got * 10 + 0.5) / 10;
      expect(got, `elapsed ${elapse}`).toBe(wprobability);
    }
  });

  test("raft nodes are listed sorted whatever the configuration's order", () => {
    for (const peers of [
      [1n, 2n, 3n],
      [3n, 2n, 1n],
    ]) {
      const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(...peers)));
      expect(r.trk.voterNodes()).toEqual([1n, 2n, 3n]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe("replication and commitment", () => {
  test.each([
    { name: "one proposal to the leader", msgs: [prop(1n, 1n)], wcommitted: 2 },
    { name: "a proposal, a new leader, another proposal", msgs: [prop(1n, 1n), hup(2n), prop(1n, 2n)], wcommitted: 4 },
  ])("log replication: $name", ({ msgs, wcommitted }) => {
    const nw = newNetwork(null, null, null);
    nw.send(hup(1n));
    for (const m of msgs) nw.send(m);
    const props = msgs.filter((m) => m.type === MessageType.MsgProp).map((m) => m.entries[0]!.data);
    for (const [id, r] of rafts(nw)) {
      expect(r.raftLog.committed, `node ${id}`).toBe(wcommitted);
      const applied = nextEnts(r, nw.storage.get(id)!).filter((e) => e.data.length > 0);
      expect(
        applied.map((e) => e.data),
        `node ${id}`,
      ).toEqual(props);
    }
  });

  test("a single node commits its proposals at once", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)));
    const nw = newNetwork(r);
    nw.send(hup(1n));
    nw.send(prop(1n, 1n, "some data"));
    nw.send(prop(1n, 1n, "some data"));
    // etcd's newest raft commits only after the local append is acknowledged; ours at once.
    expect(r.raftLog.committed).toBe(3);
  });

  test("a new leader does not commit entries of an earlier term until an entry of its term is replicated", () => {
    const nw = newNetwork(null, null, null, null, null);
    nw.send(hup(1n));
    // 1 reaches only 2: its two proposals cannot commit.
    nw.cut(1n, 3n);
    nw.cut(1n, 4n);
    nw.cut(1n, 5n);
    nw.send(prop(1n, 1n, "some data"));
    nw.send(prop(1n, 1n, "some data"));
    expect(peer(nw, 1n).raftLog.committed).toBe(1);

    nw.recover();
    // 2 is elected at term 2, but its empty entry never goes out.
    nw.ignore(MessageType.MsgApp);
    nw.send(hup(2n));
    const r2 = peer(nw, 2n);
    expect(r2.state).toBe(StateLeader);
    expect(r2.raftLog.committed).toBe(1);

    nw.recover();
    nw.send(beat(2n));
    nw.send(prop(2n, 2n, "some data"));
    expect(r2.raftLog.committed).toBe(5);
  });

  test("a new leader commits earlier-term entries once its own empty entry is replicated", () => {
    const nw = newNetwork(null, null, null, null, null);
    nw.send(hup(1n));
    nw.cut(1n, 3n);
    nw.cut(1n, 4n);
    nw.cut(1n, 5n);
    nw.send(prop(1n, 1n, "some data"));
    nw.send(prop(1n, 1n, "some data"));
    const r1 = peer(nw, 1n);
    expect(r1.raftLog.committed).toBe(1);

    nw.recover();
    nw.send(hup(2n));
    expect(r1.raftLog.committed).toBe(4);
    expect(peer(nw, 2n).raftLog.committed).toBe(4);
  });

  test.each([
    // single voter
    { matches: [1], logs: [1], term: 1, w: 1 },
    { matches: [1], logs: [1], term: 2, w: 0 },
    { matches: [2], logs: [1, 2], term: 2, w: 2 },
    { matches: [1], logs: [2], term: 2, w: 1 },
    // odd
    { matches: [2, 1, 1], logs: [1, 2], term: 1, w: 1 },
    { matches: [2, 1, 1], logs: [1, 1], term: 2, w: 0 },
    { matches: [2, 1, 2], logs: [1, 2], term: 2, w: 2 },
    { matches: [2, 1, 2], logs: [1, 1], term: 2, w: 0 },
    // even
    { matches: [2, 1, 1, 1], logs: [1, 2], term: 1, w: 1 },
    { matches: [2, 1, 1, 1], logs: [1, 1], term: 2, w: 0 },
    { matches: [2, 1, 1, 2], logs: [1, 2], term: 1, w: 1 },
    { matches: [2, 1, 1, 2], logs: [1, 1], term: 2, w: 0 },
    { matches: [2, 1, 2, 2], logs: [1, 2], term: 2, w: 2 },
    { matches: [2, 1, 2, 2], logs: [1, 1], term: 2, w: 0 },
  ])("maybeCommit with matches $matches, log terms $logs, at term $term → $w", ({ matches, logs, term, w }) => {
    const storage = newTestMemoryStorage(withPeers(1n));
    storage.append(index(1).terms(...logs));
    storage.setHardState(newHardState({ term }));
    const r = newTestRaft(1n, 10, 2, storage);
    matches.forEach((match, j) => {
      const id = BigInt(j + 1);
      if (id > 1n) r.applyConfChange(asV2(newConfChange({ type: ConfChangeType.ConfChangeAddNode, nodeId: id })));
      const pr = r.trk.progress.get(id)!;
      pr.match = match;
      pr.next = match + 1;
    });
    r.maybeCommit();
    expect(r.raftLog.committed).toBe(w);
  });

  test("messages of old terms are ignored; the log is the current leader's", () => {
    const nw = newNetwork(null, null, null);
    // 1 leads at term 3 after elections at terms 1 (1), 2 (2) and 3 (1).
    nw.send(hup(1n));
    nw.send(hup(2n));
    nw.send(hup(1n));
    // An old leader's append at term 2 is ignored.
    nw.send(newMessage({ from: 2n, to: 1n, type: MessageType.MsgApp, term: 2, entries: [newEntry({ index: 3, term: 2 })] }));
    nw.send(prop(1n, 1n));
    const want = wantLog(0, [1], [2], [3], [3, "somedata"]);
    for (const [id, r] of rafts(nw)) {
      expect(ltoa(r.raftLog), `node ${id}`).toBe(want);
      expect(r.raftLog.committed, `node ${id}`).toBe(4);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe("proposals", () => {
  test.each([
    { name: "3 nodes", peers: [null, null, null], success: true },
    { name: "3 nodes, one silent", peers: [null, null, nopStepper], success: true },
    { name: "3 nodes, two silent", peers: [null, nopStepper, nopStepper], success: false },
    { name: "4 nodes, two silent", peers: [null, nopStepper, nopStepper, null], success: false },
    { name: "5 nodes, two silent", peers: [null, nopStepper, nopStepper, null, null], success: true },
  ])("a proposal commits only with a quorum: $name", ({ peers, success }) => {
    const nw = newNetwork(...peers);
    nw.send(hup(1n));
    const r1 = peer(nw, 1n);
    if (!success) {
      // No quorum, no leader: the candidate refuses the proposal.
      expect(r1.state).toBe(StateCandidate);
      expect(thrown(() => r1.step(prop(1n, 1n)))).toBe(ErrProposalDropped);
    }
    nw.send(prop(1n, 1n));
    const want = success ? wantLog(0, [1], [1, "somedata"]) : wantLog(0);
    for (const [id, r] of rafts(nw)) {
      expect(ltoa(r.raftLog), `node ${id}`).toBe(want);
      expect(r.raftLog.committed, `node ${id}`).toBe(success ? 2 : 0);
    }
    expect(r1.term).toBe(1);
  });

  test.each([
    { name: "3 nodes", peers: [null, null, null] },
    { name: "3 nodes, one silent", peers: [null, null, nopStepper] },
  ])("a follower forwards proposals to the leader: $name", ({ peers }) => {
    const nw = newNetwork(...peers);
    nw.send(hup(1n));
    nw.send(prop(2n, 2n));
    const want = wantLog(0, [1], [1, "somedata"]);
    for (const [id, r] of rafts(nw)) {
      expect(ltoa(r.raftLog), `node ${id}`).toBe(want);
      expect(r.raftLog.committed, `node ${id}`).toBe(2);
    }
    expect(peer(nw, 1n).term).toBe(1);
  });

  test("a follower that knows no leader drops proposals", () => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    expect(thrown(() => r.step(prop(1n, 1n)))).toBe(ErrProposalDropped);
    expect(r.raftLog.lastIndex()).toBe(0);
    expect(r.msgs).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
describe("message handling", () => {
  test("messages of a lower term do not reach the state's handler", () => {
    // Follower at term 2: an append of term 1 changes nothing and gets no answer.
    const storage = newTestMemoryStorage(withPeers(1n, 2n));
    const f = newTestRaft(1n, 10, 1, storage);
    f.becomeFollower(2, 2n);
    f.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgApp, term: 1, entries: [newEntry({ index: 1, term: 1 })], commit: 1 }));
    expect(f.raftLog.lastIndex()).toBe(0);
    expect(f.msgs).toEqual([]);
    expect(f.lead).toBe(2n);
    expect(f.term).toBe(2);

    // A leader at term 3: an ack from term 1 does not move the follower's progress.
    const l = newLeader([1n, 2n]);
    l.becomeFollower(2, None);
    l.becomeCandidate();
    l.becomeLeader();
    readMessages(l);
    expect(l.term).toBe(3);
    l.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: 1, index: 2 }));
    expect(l.trk.progress.get(2n)!.match).toBe(0);
    expect(l.msgs).toEqual([]);
  });

  test.each([
    // The previous entry does not match: reject.
    { name: "previous log term mismatch", m: { term: 2, logTerm: 3, index: 2, commit: 3 }, wIndex: 2, wCommit: 0, wReject: true },
    { name: "previous entry missing", m: { term: 2, logTerm: 3, index: 3, commit: 3 }, wIndex: 2, wCommit: 0, wReject: true },
    // Conflicting entries are replaced, new ones appended.
    { name: "match 1, nothing new", m: { term: 2, logTerm: 1, index: 1, commit: 1 }, wIndex: 2, wCommit: 1, wReject: false },
    { name: "replace everything from 1", m: { term: 2, logTerm: 0, index: 0, commit: 1, entries: index(1).terms(2) }, wIndex: 1, wCommit: 1, wReject: false },
    { name: "append two", m: { term: 2, logTerm: 2, index: 2, commit: 3, entries: index(3).terms(2, 2) }, wIndex: 4, wCommit: 3, wReject: false },
    { name: "append one, commit capped at it", m: { term: 2, logTerm: 2, index: 2, commit: 4, entries: index(3).terms(2) }, wIndex: 3, wCommit: 3, wReject: false },
    { name: "same entry at 2, commit capped", m: { term: 2, logTerm: 1, index: 1, commit: 4, entries: index(2).terms(2) }, wIndex: 2, wCommit: 2, wReject: false },
    // Commit = min(leader's commit, last new entry).
    { name: "commit up to the matched entry 1", m: { term: 1, logTerm: 1, index: 1, commit: 3 }, wIndex: 2, wCommit: 1, wReject: false },
    { name: "commit up to the new entry 2", m: { term: 1, logTerm: 1, index: 1, commit: 3, entries: index(2).terms(2) }, wIndex: 2, wCommit: 2, wReject: false },
    { name: "commit up to the matched entry 2", m: { term: 2, logTerm: 2, index: 2, commit: 3 }, wIndex: 2, wCommit: 2, wReject: false },
    { name: "commit up to the last index", m: { term: 2, logTerm: 2, index: 2, commit: 4 }, wIndex: 2, wCommit: 2, wReject: false },
  ])("handleAppendEntries: $name", ({ m, wIndex, wCommit, wReject }) => {
    const storage = newTestMemoryStorage(withPeers(1n));
    storage.append(index(1).terms(1, 2));
    const r = newTestRaft(1n, 10, 1, storage);
    r.becomeFollower(2, None);
    r.handleAppendEntries(newMessage({ type: MessageType.MsgApp, ...m }));
    expect(r.raftLog.lastIndex()).toBe(wIndex);
    expect(r.raftLog.committed).toBe(wCommit);
    const ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgAppResp);
    expect(ms[0]!.reject).toBe(wReject);
  });

  test("an append below the commit index is answered with the commit index", () => {
    const storage = newTestMemoryStorage(withPeers(1n, 2n));
    storage.append(index(1).terms(1, 2, 3));
    storage.compact(2);
    const r = newTestRaft(1n, 10, 1, storage);
    r.becomeFollower(3, 2n);
    r.raftLog.commitTo(3);
    // A delayed append whose previous entry (1) is compacted away: nothing to check, all of it is committed.
    r.handleAppendEntries(newMessage({ from: 2n, type: MessageType.MsgApp, term: 3, index: 1, logTerm: 1, entries: index(2).terms(2), commit: 2 }));
    const ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgAppResp);
    expect(ms[0]!.reject).toBe(false);
    expect(ms[0]!.index).toBe(3);
    expect(r.raftLog.lastIndex()).toBe(3);
  });

  test.each([
    { name: "commit forward", commit: 3, wCommit: 3 },
    { name: "never backwards", commit: 1, wCommit: 2 },
  ])("handleHeartbeat: $name, and answers MsgHeartbeatResp", ({ commit, wCommit }) => {
    const storage = newTestMemoryStorage(withPeers(1n, 2n));
    storage.append(index(1).terms(1, 2, 3));
    const r = newTestRaft(1n, 5, 1, storage);
    r.becomeFollower(2, 2n);
    r.raftLog.commitTo(2);
    r.handleHeartbeat(newMessage({ from: 2n, to: 1n, type: MessageType.MsgHeartbeat, term: 2, commit, context: enc("ctx") }));
    expect(r.raftLog.committed).toBe(wCommit);
    const ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgHeartbeatResp);
    expect(ms[0]!.to).toBe(2n);
    expect(ms[0]!.context).toEqual(enc("ctx"));
  });

  test("a heartbeat response from a lagging follower makes the leader resend; not once it caught up", () => {
    const storage = newTestMemoryStorage(withPeers(1n, 2n));
    storage.append(index(1).terms(1, 2, 3));
    const r = newLeader([1n, 2n], 5, storage);
    r.raftLog.commitTo(r.raftLog.lastIndex());

    r.step(newMessage({ from: 2n, type: MessageType.MsgHeartbeatResp }));
    let ms = readMessages(r);
    expect(ms.map((m) => m.type)).toEqual([MessageType.MsgApp]);

    // Still probing and not answered: each heartbeat response resends.
    r.step(newMessage({ from: 2n, type: MessageType.MsgHeartbeatResp }));
    ms = readMessages(r);
    expect(ms.map((m) => m.type)).toEqual([MessageType.MsgApp]);

    r.step(newMessage({ from: 2n, type: MessageType.MsgAppResp, index: ms[0]!.index + ms[0]!.entries.length }));
    readMessages(r);
    r.step(newMessage({ from: 2n, type: MessageType.MsgHeartbeatResp }));
    expect(readMessages(r)).toEqual([]);
  });

  test("a heartbeat response from a replicating follower with a full window gets an empty append", () => {
    const cfg = newTestConfig(1n, 5, 1, newTestMemoryStorage(withPeers(1n, 2n)), { maxInflightMsgs: 1 });
    const r = newRaft(cfg);
    r.becomeCandidate();
    r.becomeLeader();
    const pr = r.trk.progress.get(2n)!;
    pr.becomeReplicate();
    r.step(prop(1n, 1n));
    expect(readMessages(r).map((m) => m.entries.length)).toEqual([2]);
    expect(pr.isPaused()).toBe(true);
    r.step(prop(1n, 1n));
    expect(readMessages(r)).toEqual([]);

    // The appends may have been lost: the heartbeat response triggers an append without entries
    // (the window is still full) whose answer will free or reset the window.
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgHeartbeatResp }));
    const ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgApp);
    expect(ms[0]!.entries).toEqual([]);
    expect(ms[0]!.index).toBe(pr.next - 1);
  });

  test("a MsgAppResp takes its follower out of waiting; others keep waiting", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    const r = newLeader([1n, 2n, 3n], 5, s);
    nextEnts(r, s);

    // 2 acks the empty entry: it commits (with the leader's own ack).
    r.step(newMessage({ from: 2n, type: MessageType.MsgAppResp, index: 1 }));
    expect(r.raftLog.committed).toBe(1);
    readMessages(r);

    // A new entry goes only to 2, which left the wait; 3 still waits for its probe's answer.
    r.step(newMessage({ from: 1n, type: MessageType.MsgProp, entries: [newEntry()] }));
    let ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgApp);
    expect(ms[0]!.to).toBe(2n);
    expect(ms[0]!.entries.map((e) => e.index)).toEqual([2]);

    // 3 acks entry 1: released, it gets entry 2.
    r.step(newMessage({ from: 3n, type: MessageType.MsgAppResp, index: 1 }));
    ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgApp);
    expect(ms[0]!.to).toBe(3n);
    expect(ms[0]!.entries.map((e) => e.index)).toEqual([2]);
  });

  // Our log holds (1, term 2), (2, term 2).
  test.each(named([
    { state: StateFollower, index: 0, logTerm: 0, vote: None, wreject: true },
    { state: StateFollower, index: 0, logTerm: 1, vote: None, wreject: true },
    { state: StateFollower, index: 0, logTerm: 2, vote: None, wreject: true },
    { state: StateFollower, index: 0, logTerm: 3, vote: None, wreject: false },
    { state: StateFollower, index: 1, logTerm: 0, vote: None, wreject: true },
    { state: StateFollower, index: 1, logTerm: 1, vote: None, wreject: true },
    { state: StateFollower, index: 1, logTerm: 2, vote: None, wreject: true },
    { state: StateFollower, index: 1, logTerm: 3, vote: None, wreject: false },
    { state: StateFollower, index: 2, logTerm: 0, vote: None, wreject: true },
    { state: StateFollower, index: 2, logTerm: 1, vote: None, wreject: true },
    { state: StateFollower, index: 2, logTerm: 2, vote: None, wreject: false },
    { state: StateFollower, index: 2, logTerm: 3, vote: None, wreject: false },
    { state: StateFollower, index: 3, logTerm: 0, vote: None, wreject: true },
    { state: StateFollower, index: 3, logTerm: 1, vote: None, wreject: true },
    { state: StateFollower, index: 3, logTerm: 2, vote: None, wreject: false },
    { state: StateFollower, index: 3, logTerm: 3, vote: None, wreject: false },
    // Already voted: again for the same candidate, never for another.
    { state: StateFollower, index: 3, logTerm: 2, vote: 2n, wreject: false },
    { state: StateFollower, index: 3, logTerm: 2, vote: 1n, wreject: true },
    // Nodes that voted for themselves in this term.
    { state: StateLeader, index: 3, logTerm: 3, vote: 1n, wreject: true },
    { state: StatePreCandidate, index: 3, logTerm: 3, vote: 1n, wreject: true },
    { state: StateCandidate, index: 3, logTerm: 3, vote: 1n, wreject: true },
  ]))("MsgVote in $stateName voted $vote for a log at ($index, term $logTerm): reject=$wreject", ({ state, index: idx, logTerm, vote, wreject }) => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)));
    r.state = state;
    r.vote = vote;
    r.raftLog = logWith(index(0).terms(0, 2, 2));
    // Same term on both sides: only the log comparison and the earlier vote decide.
    const term = Math.max(r.raftLog.lastTerm(), logTerm);
    r.term = term;
    r.step(newMessage({ type: MessageType.MsgVote, term, from: 2n, index: idx, logTerm }));
    const ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(voteRespMsgType(MessageType.MsgVote));
    expect(ms[0]!.reject).toBe(wreject);
  });

  test.each(named([
    { state: StateFollower, wstate: StateFollower, wterm: 3, windex: 0 },
    { state: StatePreCandidate, wstate: StateFollower, wterm: 3, windex: 0 },
    { state: StateCandidate, wstate: StateFollower, wterm: 3, windex: 0 },
    { state: StateLeader, wstate: StateFollower, wterm: 3, windex: 1 },
  ]))("every state steps down on a higher-term MsgVote or MsgApp ($stateName)", ({ state, wstate, wterm, windex }) => {
    for (const mt of [MessageType.MsgVote, MessageType.MsgApp]) {
      const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
      if (state === StateFollower) r.becomeFollower(1, None);
      if (state === StatePreCandidate) r.becomePreCandidate();
      if (state === StateCandidate) r.becomeCandidate();
      if (state === StateLeader) {
        r.becomeCandidate();
        r.becomeLeader();
      }
      r.step(newMessage({ from: 2n, type: mt, term: 3, logTerm: 3 }));
      const what = MessageType[mt];
      expect(r.state, what).toBe(wstate);
      expect(r.term, what).toBe(wterm);
      expect(r.raftLog.lastIndex(), what).toBe(windex);
      expect(r.raftLog.allEntries().length, what).toBe(windex);
      // An append names the leader; a vote request does not.
      expect(r.lead, what).toBe(mt === MessageType.MsgVote ? None : 2n);
    }
  });

  test.each([
    { name: "stale rejection: no change, no reply", index: 3, reject: true, wmatch: 0, wnext: 3, wmsgs: 0, windex: 0, wcommit: 0 },
    { name: "rejection: back off next and probe again", index: 2, reject: true, wmatch: 0, wnext: 2, wmsgs: 1, windex: 1, wcommit: 0 },
    { name: "ack: commit and broadcast the commit index", index: 2, reject: false, wmatch: 2, wnext: 4, wmsgs: 2, windex: 2, wcommit: 2 },
    // An ack of index 0 matches a probing follower's match (0): it moves to replicate and gets everything.
    { name: "ack at match while probing: replicate and send all", index: 0, reject: false, wmatch: 0, wnext: 4, wmsgs: 1, windex: 0, wcommit: 0 },
  ])("leader handling MsgAppResp: $name", ({ index: idx, reject, wmatch, wnext, wmsgs, windex, wcommit }) => {
    // The leader's term is 1 after becoming leader, so entry 2 (term 1) can commit.
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    r.raftLog = logWith(index(0).terms(0, 1, 1));
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    r.step(newMessage({ from: 2n, type: MessageType.MsgAppResp, index: idx, term: r.term, reject, rejectHint: idx }));
    const pr = r.trk.progress.get(2n)!;
    expect(pr.match).toBe(wmatch);
    expect(pr.next).toBe(wnext);
    const ms = readMessages(r);
    expect(ms.length).toBe(wmsgs);
    for (const m of ms) {
      expect(m.index).toBe(windex);
      expect(m.commit).toBe(wcommit);
    }
  });

  test("the unreachable report moves a replicating follower back to probe at match + 1", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n));
    s.append(index(1).terms(1, 2, 3));
    const r = newLeader([1n, 2n], 10, s);
    readMessages(r);
    const pr = r.trk.progress.get(2n)!;
    pr.match = 3;
    pr.becomeReplicate();
    pr.next = 6;
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgUnreachable }));
    expect(pr.state).toBe(StateProbe);
    expect(pr.next).toBe(pr.match + 1);
  });
});

// ---------------------------------------------------------------------------------------------
describe("state transitions", () => {
  test.each(named([
    { from: StateFollower, to: StateFollower, wallow: true, wterm: 1, wlead: None },
    { from: StateFollower, to: StatePreCandidate, wallow: true, wterm: 0, wlead: None },
    { from: StateFollower, to: StateCandidate, wallow: true, wterm: 1, wlead: None },
    { from: StateFollower, to: StateLeader, wallow: false, wterm: 0, wlead: None },
    { from: StatePreCandidate, to: StateFollower, wallow: true, wterm: 0, wlead: None },
    { from: StatePreCandidate, to: StatePreCandidate, wallow: true, wterm: 0, wlead: None },
    { from: StatePreCandidate, to: StateCandidate, wallow: true, wterm: 1, wlead: None },
    { from: StatePreCandidate, to: StateLeader, wallow: true, wterm: 0, wlead: 1n },
    { from: StateCandidate, to: StateFollower, wallow: true, wterm: 0, wlead: None },
    { from: StateCandidate, to: StatePreCandidate, wallow: true, wterm: 0, wlead: None },
    { from: StateCandidate, to: StateCandidate, wallow: true, wterm: 1, wlead: None },
    { from: StateCandidate, to: StateLeader, wallow: true, wterm: 0, wlead: 1n },
    { from: StateLeader, to: StateFollower, wallow: true, wterm: 1, wlead: None },
    { from: StateLeader, to: StatePreCandidate, wallow: false, wterm: 0, wlead: None },
    { from: StateLeader, to: StateCandidate, wallow: false, wterm: 1, wlead: None },
    { from: StateLeader, to: StateLeader, wallow: true, wterm: 0, wlead: 1n },
  ]))("$fromName → $toName allowed=$wallow", ({ from, to, wallow, wterm, wlead }) => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n)));
    r.state = from;
    const transition = (): void => {
      if (to === StateFollower) r.becomeFollower(wterm, wlead);
      if (to === StatePreCandidate) r.becomePreCandidate();
      if (to === StateCandidate) r.becomeCandidate();
      if (to === StateLeader) r.becomeLeader();
    };
    if (!wallow) {
      expect(transition).toThrow(/invalid transition/);
      return;
    }
    transition();
    expect(r.state).toBe(to);
    expect(r.term).toBe(wterm);
    expect(r.lead).toBe(wlead);
  });
});

// ---------------------------------------------------------------------------------------------
describe("heartbeats and appends by progress state", () => {
  test("MsgBeat sends heartbeats without entries, with commit capped at each follower's match", () => {
    const storage = new MemoryStorage();
    storage.applySnapshot(newSnapshot({ metadata: { index: 1000, term: 1, confState: newConfState({ voters: [1n, 2n, 3n] }) } }));
    const r = newTestRaft(1n, 10, 1, storage);
    r.term = 1;
    r.becomeCandidate();
    r.becomeLeader();
    for (let i = 0; i < 10; i++) mustAppendEntry(r, newEntry({ index: i + 1 }));
    // A slow follower and an up-to-date one.
    r.trk.progress.get(2n)!.match = 5;
    r.trk.progress.get(2n)!.next = 6;
    r.trk.progress.get(3n)!.match = r.raftLog.lastIndex();
    r.trk.progress.get(3n)!.next = r.raftLog.lastIndex() + 1;

    r.step(newMessage({ type: MessageType.MsgBeat }));
    const ms = readMessages(r);
    expect(ms.length).toBe(2);
    const wantCommit = new Map([
      [2n, Math.min(r.raftLog.committed, 5)],
      [3n, Math.min(r.raftLog.committed, r.raftLog.lastIndex())],
    ]);
    expect([...wantCommit.values()]).toEqual([5, 1000]);
    for (const m of ms) {
      expect(m.type).toBe(MessageType.MsgHeartbeat);
      expect(m.index).toBe(0);
      expect(m.logTerm).toBe(0);
      expect(m.entries).toEqual([]);
      expect(m.commit).toBe(wantCommit.get(m.to));
      wantCommit.delete(m.to);
    }
    expect(wantCommit.size).toBe(0);
  });

  test.each(named([
    { state: StateLeader, wmsgs: 2 },
    { state: StateCandidate, wmsgs: 0 },
    { state: StateFollower, wmsgs: 0 },
  ]))("MsgBeat in $stateName sends $wmsgs heartbeats", ({ state, wmsgs }) => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    r.raftLog = logWith(index(0).terms(0, 1, 1));
    r.term = 1;
    r.state = state;
    r.step(beat(1n));
    const ms = readMessages(r);
    expect(ms.length).toBe(wmsgs);
    for (const m of ms) expect(m.type).toBe(MessageType.MsgHeartbeat);
  });

  test.each([
    // Replicate: next moves past everything sent (3 old entries + empty entry + proposal).
    { state: StateReplicate, next: 2, wnext: 6 },
    // Probe: next stays until the follower answers.
    { state: StateProbe, next: 2, wnext: 2 },
  ].map((r) => ({ ...r, name: ProgressStateType[r.state] })))("a proposal advances next optimistically only in $name", ({ state, next, wnext }) => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n)));
    r.raftLog.append(index(1).terms(1, 1, 1));
    r.becomeCandidate();
    r.becomeLeader();
    const pr = r.trk.progress.get(2n)!;
    pr.state = state;
    pr.next = next;
    r.step(prop(1n, 1n));
    expect(pr.next).toBe(wnext);
  });

  test("sendAppend in probe: one message, then paused across heartbeats until a heartbeat response", () => {
    const r = newLeader([1n, 2n], 10);
    readMessages(r);
    const pr = r.trk.progress.get(2n)!;
    pr.becomeProbe();

    for (let round = 0; round < 3; round++) {
      if (round === 0) {
        // Only the first append goes out; the follower is then paused.
        mustAppendEntry(r, newEntry({ data: enc("somedata") }));
        r.sendAppend(2n);
        const ms = readMessages(r);
        expect(ms.length).toBe(1);
        expect(ms[0]!.index).toBe(0);
      }
      expect(pr.msgAppFlowPaused).toBe(true);
      for (let j = 0; j < 10; j++) {
        mustAppendEntry(r, newEntry({ data: enc("somedata") }));
        r.sendAppend(2n);
        expect(readMessages(r)).toEqual([]);
      }
      // A heartbeat does not unpause.
      for (let j = 0; j < r.heartbeatTimeout; j++) r.step(beat(1n));
      expect(pr.msgAppFlowPaused).toBe(true);
      const ms = readMessages(r);
      expect(ms.map((m) => m.type)).toEqual([MessageType.MsgHeartbeat]);
    }

    // Its response does: the probe is sent again (still from index 0), and pauses again.
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgHeartbeatResp }));
    const ms = readMessages(r);
    expect(ms.length).toBe(1);
    expect(ms[0]!.type).toBe(MessageType.MsgApp);
    expect(ms[0]!.index).toBe(0);
    expect(pr.msgAppFlowPaused).toBe(true);
  });

  test("sendAppend in replicate: every new entry goes out at once", () => {
    const r = newLeader([1n, 2n], 10);
    readMessages(r);
    r.trk.progress.get(2n)!.becomeReplicate();
    for (let i = 0; i < 10; i++) {
      mustAppendEntry(r, newEntry({ data: enc("somedata") }));
      r.sendAppend(2n);
      expect(readMessages(r).length).toBe(1);
    }
  });

  test("sendAppend in snapshot state sends nothing", () => {
    const r = newLeader([1n, 2n], 10);
    readMessages(r);
    r.trk.progress.get(2n)!.becomeSnapshot(10);
    for (let i = 0; i < 10; i++) {
      mustAppendEntry(r, newEntry({ data: enc("somedata") }));
      r.sendAppend(2n);
      expect(readMessages(r)).toEqual([]);
    }
  });

  test("an accepted append moves a probing follower to replicate (acceptAndReply round trip)", () => {
    const r = newLeader([1n, 2n]);
    r.bcastAppend();
    const [m] = readMessages(r);
    r.step(acceptAndReply(m!));
    const pr = r.trk.progress.get(2n)!;
    expect(pr.state).toBe(StateReplicate);
    expect(pr.match).toBe(1);
    expect(r.raftLog.committed).toBe(1);
  });
});
