/**
 * Leadership transfer (Raft thesis §3.10): the leader brings the transferee's log up to date, then
 * sends it MsgTimeoutNow; the transferee campaigns at once, and its vote requests carry the
 * CampaignTransfer context so that voters grant them even within a leader lease. The leader drops
 * proposals meanwhile and gives up after an election timeout. Ported from etcd's raft_test.go
 * (TestLeaderTransfer*, TestTransferNonMember, TestConfChange*CheckBeforeCampaign).
 */
import { describe, expect, test } from "vitest";
import { encodeConfChange, encodeConfChangeV2 } from "../../src/raft/codec.js";
import { ErrProposalDropped } from "../../src/raft/errors.js";
import { type Config, Raft, StateType, campaignTransfer } from "../../src/raft/raft.js";
import {
  ConfChangeType,
  EntryType,
  type Message,
  MessageType,
  None,
  asV2,
  newConfChange,
  newConfChangeV2,
  newConfState,
  newEntry,
  newMessage,
} from "../../src/raft/raftpb.js";
import { RawNode } from "../../src/raft/rawnode.js";
import {
  commitNoopEntry,
  newNetwork,
  newNetworkWithConfig,
  newTestConfig,
  newTestMemoryStorage,
  newTestRaft,
  nextEnts,
  readMessages,
  withLearners,
  withPeers,
} from "./harness.js";
import {
  bytes,
  expectLeaderTransferState,
  hup,
  peer,
  prop,
  setRandomizedElectionTimeout,
  text,
  tickN,
  transferLeader,
  withConfig,
} from "./election-helpers.js";

const stateOf = (r: Raft): string => StateType[r.state];

/** A 3-node network in which node 1 has been elected. */
function electedNetwork(configure?: (c: Config) => void) {
  const nt = newNetworkWithConfig(configure, null, null, null);
  nt.send(hup(1n));
  const lead = peer(nt, 1n);
  expect(stateOf(lead)).toBe("StateLeader");
  return { nt, lead };
}

describe("successful transfers", () => {
  test("to an up-to-date node, and back after more replication (TestLeaderTransferToUpToDateNode)", () => {
    const { nt, lead } = electedNetwork();
    expect(lead.lead).toBe(1n);

    nt.send(transferLeader(2n, 1n));
    expectLeaderTransferState(lead, StateType.StateFollower, 2n);
    expect(stateOf(peer(nt, 2n))).toBe("StateLeader");
    expect(peer(nt, 2n).term).toBe(2);

    nt.send(prop(1n));
    nt.send(transferLeader(1n, 2n));
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
    expect(lead.term).toBe(3);
  });

  test("requests given to a follower are forwarded to the leader (TestLeaderTransferToUpToDateNodeFromFollower)", () => {
    const { nt, lead } = electedNetwork();
    nt.send(transferLeader(2n, 2n));
    expectLeaderTransferState(lead, StateType.StateFollower, 2n);

    nt.send(prop(1n));
    nt.send(transferLeader(1n, 1n));
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });

  test("the transferee's campaign passes the voters' leader lease (TestLeaderTransferWithCheckQuorum)", () => {
    const nt = newNetworkWithConfig(withConfig({ checkQuorum: true }), null, null, null);
    for (const id of [1n, 2n, 3n]) {
      const r = peer(nt, id);
      setRandomizedElectionTimeout(r, r.electionTimeout + Number(id));
    }
    // Let node 2's lease run out so that it votes for node 1.
    const f = peer(nt, 2n);
    tickN(f, f.electionTimeout);
    nt.send(hup(1n));
    const lead = peer(nt, 1n);
    expect(stateOf(lead)).toBe("StateLeader");

    nt.send(transferLeader(2n, 1n));
    expectLeaderTransferState(lead, StateType.StateFollower, 2n);

    nt.send(prop(1n));
    nt.send(transferLeader(1n, 2n));
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });

  test("a lagging transferee is caught up first, then told to campaign (TestLeaderTransferToSlowFollower)", () => {
    const { nt, lead } = electedNetwork();
    nt.isolate(3n);
    nt.send(prop(1n));
    nt.recover();
    expect(lead.trk.progress.get(3n)!.match).toBe(1);

    // Step by hand: no MsgTimeoutNow before node 3 has the last entry.
    lead.step(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);
    const first = readMessages(lead);
    expect(first.map((m) => m.type)).toEqual([MessageType.MsgApp]);
    nt.send(...first);

    expectLeaderTransferState(lead, StateType.StateFollower, 3n);
    expect(peer(nt, 3n).raftLog.lastIndex()).toBe(3);
  });

  test("MsgTimeoutNow waits until the transferee has acknowledged the leader's last entry", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    const r = newTestRaft(1n, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    commitNoopEntry(r, s);
    r.step(prop(1n, "a"));
    r.step(prop(1n, "b"));
    readMessages(r);
    expect(r.raftLog.lastIndex()).toBe(3);

    r.step(transferLeader(3n, 1n));
    expect(readMessages(r).map((m) => m.type)).not.toContain(MessageType.MsgTimeoutNow);
    r.step(newMessage({ from: 3n, to: 1n, term: r.term, type: MessageType.MsgAppResp, index: 2 }));
    expect(readMessages(r).map((m) => m.type)).not.toContain(MessageType.MsgTimeoutNow);
    r.step(newMessage({ from: 3n, to: 1n, term: r.term, type: MessageType.MsgAppResp, index: 3 }));
    expect(readMessages(r).filter((m) => m.type === MessageType.MsgTimeoutNow).map((m) => m.to)).toEqual([3n]);
    expect(r.leadTransferee).toBe(3n);
  });

  test("an up-to-date transferee gets MsgTimeoutNow at once", () => {
    const { lead } = electedNetwork();
    lead.step(transferLeader(2n, 1n));
    expect(readMessages(lead).map((m) => [m.type, m.to])).toEqual([[MessageType.MsgTimeoutNow, 2n]]);
    expect(lead.leadTransferee).toBe(2n);
    expect(stateOf(lead)).toBe("StateLeader");
  });

  test("a transferee that needs a snapshot campaigns once it has applied it (TestLeaderTransferAfterSnapshot)", () => {
    const { nt, lead } = electedNetwork();
    nt.isolate(3n);
    nt.send(prop(1n));
    const s1 = nt.storage.get(1n)!;
    nextEnts(lead, s1);
    s1.createSnapshot(lead.raftLog.applied, newConfState({ voters: lead.trk.voterNodes() }), new Uint8Array(0));
    s1.compact(lead.raftLog.applied);
    nt.recover();
    expect(lead.trk.progress.get(3n)!.match).toBe(1);

    // Hold back node 3's acknowledgement of the snapshot until it has applied it.
    let held: Message | undefined;
    nt.msgHook = (m) => {
      if (m.type !== MessageType.MsgAppResp || m.from !== 3n || m.reject) return true;
      held = m;
      return false;
    };
    nt.send(transferLeader(3n, 1n));
    expect(stateOf(lead)).toBe("StateLeader");
    expect(lead.leadTransferee).toBe(3n);
    expect(held).toBeDefined();

    const follower = peer(nt, 3n);
    const snap = follower.raftLog.unstable.snapshot!;
    expect(snap.metadata.index).toBe(2);
    nt.storage.get(3n)!.applySnapshot(snap);
    follower.appliedSnap(snap);
    nt.msgHook = undefined;
    nt.send(held!);

    expectLeaderTransferState(lead, StateType.StateFollower, 3n);
  });

  test("a second request for another node replaces a pending transfer (TestLeaderTransferSecondTransferToAnotherNode)", () => {
    const { nt, lead } = electedNetwork();
    nt.isolate(3n);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    nt.send(transferLeader(2n, 1n));
    expectLeaderTransferState(lead, StateType.StateFollower, 2n);
  });

  test("through RawNode: transferLeader starts a transfer that status reports", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    const rn = new RawNode(newTestConfig(1n, 10, 1, s));
    rn.campaign();
    rn.step(newMessage({ from: 2n, to: 1n, term: 1, type: MessageType.MsgVoteResp }));
    expect(stateOf(rn.raft)).toBe("StateLeader");
    rn.ready();
    rn.transferLeader(3n);
    expect(rn.basicStatus().leadTransferee).toBe(3n);
    // Node 3 lacks the leader's empty entry: no MsgTimeoutNow until it acknowledges it.
    expect(rn.ready().messages.filter((m) => m.type === MessageType.MsgTimeoutNow)).toEqual([]);
    rn.step(newMessage({ from: 3n, to: 1n, term: 1, type: MessageType.MsgAppResp, index: rn.raft.raftLog.lastIndex() }));
    expect(rn.ready().messages.filter((m) => m.to === 3n).map((m) => m.type)).toContain(MessageType.MsgTimeoutNow);
    expect(rn.basicStatus().leadTransferee).toBe(3n);
  });
});

describe("requests that change nothing", () => {
  test("transfer to self (TestLeaderTransferToSelf)", () => {
    const { nt, lead } = electedNetwork();
    nt.send(transferLeader(1n, 1n));
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
    expect(lead.term).toBe(1);
  });

  test("transfer to a node not in the configuration (TestLeaderTransferToNonExistingNode)", () => {
    const { nt, lead } = electedNetwork();
    lead.step(transferLeader(4n, 1n));
    expect(readMessages(lead)).toEqual([]);
    nt.send(transferLeader(4n, 1n));
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });

  test("transfer to a learner", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n), withLearners(3n));
    const r = newTestRaft(1n, 10, 1, s);
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    r.step(transferLeader(3n, 1n));
    expect(r.leadTransferee).toBe(None);
    expect(readMessages(r)).toEqual([]);
  });

  test("a follower that knows no leader drops the request", () => {
    const r = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    r.step(transferLeader(2n, 2n));
    expect(readMessages(r)).toEqual([]);
  });

  test("a second request for the same node does not extend the timeout (TestLeaderTransferSecondTransferToSameNode)", () => {
    const { nt, lead } = electedNetwork();
    nt.isolate(3n);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    tickN(lead, lead.heartbeatTimeout);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);
    tickN(lead, lead.electionTimeout - lead.heartbeatTimeout);
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });
});

describe("abandoned transfers", () => {
  test("a transfer not done within an election timeout is abandoned (TestLeaderTransferTimeout)", () => {
    const { nt, lead } = electedNetwork();
    nt.isolate(3n);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    tickN(lead, lead.heartbeatTimeout);
    expect(lead.leadTransferee).toBe(3n);
    tickN(lead, lead.electionTimeout - lead.heartbeatTimeout - 1);
    expect(lead.leadTransferee).toBe(3n);
    lead.tick();
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });

  test("proposals are dropped while a transfer is pending (TestLeaderTransferIgnoreProposal)", () => {
    const s = newTestMemoryStorage(withPeers(1n, 2n, 3n));
    const r = newTestRaft(1n, 10, 1, s);
    const nt = newNetwork(r, null, null);
    nt.send(hup(1n));
    nt.isolate(3n);
    const lead = peer(nt, 1n);
    nextEnts(r, s);

    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    nt.send(prop(1n));
    expect(() => lead.step(prop(1n))).toThrow(ErrProposalDropped);
    let thrown: unknown;
    try {
      lead.step(prop(1n));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(ErrProposalDropped);
    expect(lead.trk.progress.get(1n)!.match).toBe(1);

    // Once the transfer is abandoned, proposals are accepted again.
    tickN(lead, lead.electionTimeout);
    expect(lead.leadTransferee).toBe(None);
    lead.step(prop(1n));
    expect(lead.trk.progress.get(1n)!.match).toBe(2);
  });

  test("a vote request of a higher term ends the transfer (TestLeaderTransferReceiveHigherTermVote)", () => {
    const { nt, lead } = electedNetwork();
    nt.isolate(3n);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    nt.send(hup(2n));
    expectLeaderTransferState(lead, StateType.StateFollower, 2n);
    expect(lead.term).toBe(2);
  });

  test("removing the transferee ends the transfer (TestLeaderTransferRemoveNode)", () => {
    const { nt, lead } = electedNetwork();
    nt.ignore(MessageType.MsgTimeoutNow);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    lead.applyConfChange(asV2(newConfChange({ nodeId: 3n, type: ConfChangeType.ConfChangeRemoveNode })));
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });

  test("demoting the transferee ends the transfer once the joint configuration is left (TestLeaderTransferDemoteNode)", () => {
    const { nt, lead } = electedNetwork();
    nt.ignore(MessageType.MsgTimeoutNow);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    lead.applyConfChange(
      newConfChangeV2({
        changes: [
          { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3n },
          { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n },
        ],
      }),
    );
    // Still a voter of the outgoing half of the joint configuration.
    expect(lead.leadTransferee).toBe(3n);
    lead.applyConfChange(newConfChangeV2());
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });

  test("a request to transfer to the leader itself cancels a pending transfer (TestLeaderTransferBack)", () => {
    const { nt, lead } = electedNetwork();
    nt.isolate(3n);
    nt.send(transferLeader(3n, 1n));
    expect(lead.leadTransferee).toBe(3n);

    nt.send(transferLeader(1n, 1n));
    expectLeaderTransferState(lead, StateType.StateLeader, 1n);
  });
});

describe("MsgTimeoutNow", () => {
  test("starts a real election at once, skipping pre-vote, with the CampaignTransfer context", () => {
    const r = newTestRaft(2n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), { preVote: true, checkQuorum: true });
    r.becomeFollower(1, 1n);
    r.step(newMessage({ from: 1n, to: 2n, term: 1, type: MessageType.MsgTimeoutNow }));
    expect(stateOf(r)).toBe("StateCandidate");
    expect(r.term).toBe(2);
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.to, m.term])).toEqual([
      [MessageType.MsgVote, 1n, 2],
      [MessageType.MsgVote, 3n, 2],
    ]);
    for (const m of msgs) expect(text(m.context)).toBe(campaignTransfer);
  });

  test("voters within a leader lease grant a transfer vote but ignore an ordinary one", () => {
    const voter = (): Raft => {
      const r = newTestRaft(3n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)), { checkQuorum: true });
      r.becomeFollower(1, 1n);
      return r;
    };
    const vote = (context: Uint8Array) =>
      newMessage({ from: 2n, to: 3n, term: 2, type: MessageType.MsgVote, index: 0, logTerm: 0, context });

    const plain = voter();
    plain.step(vote(new Uint8Array(0)));
    expect(readMessages(plain)).toEqual([]);
    expect(plain.term).toBe(1);

    const forced = voter();
    forced.step(vote(bytes(campaignTransfer)));
    expect(readMessages(forced).map((m) => [m.type, m.term, m.reject])).toEqual([[MessageType.MsgVoteResp, 2, false]]);
    expect(forced.term).toBe(2);
    expect(forced.vote).toBe(2n);
  });

  test.each(["StateCandidate", "StatePreCandidate", "StateLeader"] as const)("is ignored by a node in %s", (name) => {
    const r = newTestRaft(1n, 10, 1, newTestMemoryStorage(withPeers(1n, 2n, 3n)));
    r.becomeFollower(1, None);
    if (name === "StatePreCandidate") r.becomePreCandidate();
    else r.becomeCandidate();
    if (name === "StateLeader") r.becomeLeader();
    readMessages(r);
    const term = r.term;
    r.step(newMessage({ from: 2n, to: 1n, term, type: MessageType.MsgTimeoutNow }));
    expect(stateOf(r)).toBe(name);
    expect(r.term).toBe(term);
    expect(readMessages(r)).toEqual([]);
  });

  test("is ignored by a node removed from the configuration (TestTransferNonMember)", () => {
    const r = newTestRaft(1n, 5, 1, newTestMemoryStorage(withPeers(2n, 3n, 4n)));
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgTimeoutNow }));
    r.step(newMessage({ from: 2n, to: 1n, type: MessageType.MsgVoteResp }));
    r.step(newMessage({ from: 3n, to: 1n, type: MessageType.MsgVoteResp }));
    expect(stateOf(r)).toBe("StateFollower");
    expect(r.term).toBe(0);
  });
});

describe("unapplied configuration changes block the transferee's campaign", () => {
  test.each([false, true])("ConfChange V2=%s (TestConfChangeCheckBeforeCampaign)", (v2) => {
    const nt = newNetwork(null, null, null);
    const n1 = peer(nt, 1n);
    const n2 = peer(nt, 2n);
    nt.send(hup(1n));
    expect(stateOf(n1)).toBe("StateLeader");

    const cc = newConfChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n });
    const entry = v2
      ? newEntry({ type: EntryType.EntryConfChangeV2, data: encodeConfChangeV2(asV2(cc)) })
      : newEntry({ type: EntryType.EntryConfChange, data: encodeConfChange(cc) });
    nt.send(newMessage({ from: 1n, to: 1n, type: MessageType.MsgProp, entries: [entry] }));
    expect(n2.raftLog.committed).toBe(2);

    // n2 has the change committed but not applied: neither its timer nor a transfer makes it campaign.
    tickN(n2, n2.randomizedElectionTimeout);
    expect(stateOf(n2)).toBe("StateFollower");
    nt.send(transferLeader(2n, 1n));
    expect(stateOf(n1)).toBe("StateLeader");
    expect(stateOf(n2)).toBe("StateFollower");

    tickN(n1, n1.electionTimeout);
    expect(n1.leadTransferee).toBe(None);

    nextEnts(n2, nt.storage.get(2n)!);
    nt.send(transferLeader(2n, 1n));
    expect(stateOf(n1)).toBe("StateFollower");
    expect(stateOf(n2)).toBe("StateLeader");

    nextEnts(n1, nt.storage.get(1n)!);
    tickN(n1, n1.randomizedElectionTimeout);
    expect(stateOf(n1)).toBe("StateCandidate");
  });
});
