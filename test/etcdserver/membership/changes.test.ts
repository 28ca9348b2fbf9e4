// The server-side membership logic over fake deps: etcd's strict reconfig checks, learner
// readiness, promote forwarding, the ConfChanges proposed, and the apply side.
import { describe, expect, it } from "vitest";
import { ErrLearnerNotReady, ErrNotEnoughStartedMembers, ErrNotLeader, ErrTimeoutWaitAppliedIndex, ErrUnhealthy } from "../../../src/etcdserver/errors.js";
import { applyConfChange, HealthInterval, Membership, type MembershipDeps } from "../../../src/etcdserver/membership/changes.js";
import { newClusterFromURLsMap, RaftCluster } from "../../../src/etcdserver/membership/cluster.js";
import { encodeConfigChangeContext, encodeMemberContext } from "../../../src/etcdserver/membership/context.js";
import { ErrIDExists, ErrIDNotFound, ErrIDRemoved, ErrMemberNotLearner, ErrPeerURLexists } from "../../../src/etcdserver/membership/errors.js";
import { computeMemberID, type Member } from "../../../src/etcdserver/membership/member.js";
import { readMembership } from "../../../src/etcdserver/membership/store.js";
import { newResponseHeader } from "../../../src/api/etcdserverpb/rpc.js";
import { ConfChangeType, None, type ConfChange } from "../../../src/raft/raftpb.js";
import { MemoryBackend } from "../../../src/storage/memory-backend.js";

const url = (i: number): string => `http://127.0.0.1:${i}`;
const member = (id: number | bigint, f: Partial<Member> = {}): Member => ({
  id: BigInt(id),
  name: "",
  peerURLs: [url(Number(id))],
  clientURLs: [],
  isLearner: false,
  ...f,
});
const started = (id: number, f: Partial<Member> = {}): Member => member(id, { name: `m${id}`, ...f });
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const NOW = 1_000_000;

interface Fake {
  deps: MembershipDeps;
  proposed: ConfChange[];
  forwarded: bigint[];
  active: Map<bigint, number>;
  progress: Map<bigint, { match: number }> | undefined;
}

/** Member 1 is local; every peer has been active long enough unless the test says otherwise. */
function fake(members: Member[], over: Partial<MembershipDeps> = {}): Fake {
  const cluster = new RaftCluster();
  for (const m of members) cluster.addMember(m);
  const f: Fake = {
    proposed: [],
    forwarded: [],
    active: new Map(members.map((m) => [m.id, NOW - HealthInterval - 1])),
    progress: undefined,
    deps: undefined as unknown as MembershipDeps,
  };
  f.deps = {
    id: 1n,
    cluster,
    strictReconfigCheck: true,
    now: () => NOW,
    activeSince: (id) => f.active.get(id) ?? 0,
    progress: () => f.progress,
    waitAppliedIndex: async () => {},
    proposeConfChange: async (cc) => {
      f.proposed.push(cc);
      return cluster.memberList();
    },
    forwardPromote: async (id) => {
      f.forwarded.push(id);
      return cluster.memberList();
    },
    header: () => newResponseHeader({ clusterId: 7n, memberId: 1n, raftTerm: 3 }),
    nowUnixSeconds: () => 1_700_000_000,
    ...over,
  };
  return f;
}

describe("memberAdd", () => {
  it("proposes an AddNode with the member's JSON and answers the member and the members", async () => {
    const f = fake([started(1), started(2), started(3)]);
    const resp = await new Membership(f.deps).memberAdd({ peerURLs: [url(9), url(8)], isLearner: false });
    const id = await computeMemberID([url(8), url(9)], "", 1_700_000_000);
    expect(f.proposed).toHaveLength(1);
    const cc = f.proposed[0]!;
    expect([cc.type, cc.nodeId]).toEqual([ConfChangeType.ConfChangeAddNode, id]);
    expect(text(cc.context)).toBe(`{"id":${id},"peerURLs":["${url(8)}","${url(9)}"]}`);
    expect(resp.member).toEqual({ ID: id, name: "", peerURLs: [url(8), url(9)], clientURLs: [], isLearner: false });
    expect(resp.members.map((m) => m.ID)).toEqual([1n, 2n, 3n]);
    expect(resp.header.clusterId).toBe(7n);
  });

  it("gives the new member etcd's id for its URLs and the time (etcd TestMemberTime)", async () => {
    const f = fake([started(1)], { nowUnixSeconds: () => Date.parse("1984-12-23T15:04:05Z") / 1000 });
    const resp = await new Membership(f.deps).memberAdd({ peerURLs: ["http://10.0.0.8:2379"], isLearner: false });
    expect(resp.member?.ID).toBe(2448790162483548276n);
    const f1 = fake([started(1)], { nowUnixSeconds: () => Date.parse("1984-12-23T15:04:05Z") / 1000 });
    expect((await new Membership(f1.deps).memberAdd({ peerURLs: ["http://10.0.0.1:2379"], isLearner: true })).member?.ID).toBe(1466075294948436910n);
  });

  it("adds a learner with AddLearnerNode and isLearner in the context", async () => {
    const f = fake([started(1)]);
    const resp = await new Membership(f.deps).memberAdd({ peerURLs: [url(9)], isLearner: true });
    const cc = f.proposed[0]!;
    expect(cc.type).toBe(ConfChangeType.ConfChangeAddLearnerNode);
    expect(text(cc.context)).toBe(`{"id":${cc.nodeId},"peerURLs":["${url(9)}"],"isLearner":true}`);
    expect(resp.member?.isLearner).toBe(true);
  });

  it("strict: a voting add needs started members to keep quorum (ErrNotEnoughStartedMembers); a learner skips it", async () => {
    const f = fake([started(1), started(2), member(3)]);
    const m = new Membership(f.deps);
    await expect(m.memberAdd({ peerURLs: [url(9)], isLearner: false })).rejects.toBe(ErrNotEnoughStartedMembers);
    await m.memberAdd({ peerURLs: [url(9)], isLearner: true });
    expect(f.proposed).toHaveLength(1);
  });

  it("strict: refuses when this member has not been connected to a quorum for HealthInterval (ErrUnhealthy)", async () => {
    const f = fake([started(1), started(2), started(3)]);
    const m = new Membership(f.deps);
    // 2 of 3 connected (self + 2): after the add, quorum of 4 is 3 — refused once peer 3 is recent.
    f.active.set(3n, NOW - HealthInterval + 1);
    await expect(m.memberAdd({ peerURLs: [url(9)], isLearner: false })).rejects.toBe(ErrUnhealthy);
    await expect(m.memberAdd({ peerURLs: [url(9)], isLearner: true })).rejects.toBe(ErrUnhealthy);
    f.active.set(3n, NOW - HealthInterval - 1);
    await m.memberAdd({ peerURLs: [url(9)], isLearner: false });
    expect(f.proposed).toHaveLength(1);
  });

  it("a one-member cluster may always grow", async () => {
    const f = fake([started(1)]);
    f.active.clear();
    await new Membership(f.deps).memberAdd({ peerURLs: [url(9)], isLearner: false });
    expect(f.proposed).toHaveLength(1);
  });

  it("without --strict-reconfig-check, nothing is checked", async () => {
    const f = fake([started(1), member(2), member(3)], { strictReconfigCheck: false });
    f.active.clear();
    await new Membership(f.deps).memberAdd({ peerURLs: [url(9)], isLearner: false });
    expect(f.proposed).toHaveLength(1);
  });
});

describe("memberRemove", () => {
  it("proposes a RemoveNode without context", async () => {
    const f = fake([started(1), started(2), started(3)]);
    const resp = await new Membership(f.deps).memberRemove({ ID: 3n });
    expect(f.proposed.map((cc) => [cc.type, cc.nodeId, cc.context.length])).toEqual([[ConfChangeType.ConfChangeRemoveNode, 3n, 0]]);
    expect(resp.members).toHaveLength(3);
  });

  it("strict: removing a learner is always fine", async () => {
    const f = fake([started(1), member(2), member(3, { isLearner: true })]);
    f.active.clear();
    await new Membership(f.deps).memberRemove({ ID: 3n });
    expect(f.proposed).toHaveLength(1);
  });

  it("strict: removing a voter must leave a quorum of started members (ErrNotEnoughStartedMembers)", async () => {
    const f = fake([started(1), started(2), member(3)]);
    await expect(new Membership(f.deps).memberRemove({ ID: 2n })).rejects.toBe(ErrNotEnoughStartedMembers);
    expect(f.proposed).toHaveLength(0);
  });

  it("strict: a member that is down may go; a connected one only if the connected quorum holds (ErrUnhealthy)", async () => {
    const f = fake([started(1), started(2), started(3)]);
    const m = new Membership(f.deps);
    f.active.set(3n, 0); // 3 is down
    await m.memberRemove({ ID: 3n });
    expect(f.proposed).toHaveLength(1);
    // Removing 2 while 3 is down: active 2 (self, 2), 2 - 1 < 1 + 1.
    await expect(m.memberRemove({ ID: 2n })).rejects.toBe(ErrUnhealthy);
    // Removing self counts self as active even though activeSince(self) is 0.
    f.active.set(3n, NOW - HealthInterval - 1);
    f.active.delete(1n);
    await m.memberRemove({ ID: 1n });
    expect(f.proposed.map((cc) => cc.nodeId)).toEqual([3n, 1n]);
  });
});

describe("memberUpdate", () => {
  it("proposes an UpdateNode whose context is the id and the new peer URLs, as etcd builds it", async () => {
    const f = fake([started(1), started(2)]);
    await new Membership(f.deps).memberUpdate({ ID: 2n, peerURLs: [url(22)] });
    const cc = f.proposed[0]!;
    expect([cc.type, cc.nodeId, text(cc.context)]).toEqual([ConfChangeType.ConfChangeUpdateNode, 2n, `{"id":2,"peerURLs":["${url(22)}"]}`]);
  });
});

describe("memberPromote", () => {
  const cluster = (): Member[] => [started(1), started(2), member(3, { name: "l", isLearner: true })];

  it("on the leader: a learner whose match is ≥ 90% of the leader's is promoted with an isPromote context", async () => {
    const f = fake(cluster());
    f.progress = new Map([
      [1n, { match: 100 }],
      [2n, { match: 100 }],
      [3n, { match: 90 }],
    ]);
    await new Membership(f.deps).memberPromote({ ID: 3n });
    const cc = f.proposed[0]!;
    expect([cc.type, cc.nodeId, text(cc.context)]).toEqual([ConfChangeType.ConfChangeAddNode, 3n, '{"id":3,"peerURLs":null,"isPromote":true}']);
  });

  it("on the leader: a learner below 90% is not ready (ErrLearnerNotReady)", async () => {
    const f = fake(cluster());
    f.progress = new Map([
      [1n, { match: 100 }],
      [3n, { match: 89 }],
    ]);
    await expect(new Membership(f.deps).memberPromote({ ID: 3n })).rejects.toBe(ErrLearnerNotReady);
    expect(f.proposed).toHaveLength(0);
    expect(f.forwarded).toHaveLength(0);
  });

  it("on the leader: an id raft does not track is ErrIDNotFound", async () => {
    const f = fake(cluster());
    f.progress = new Map([[1n, { match: 5 }]]);
    await expect(new Membership(f.deps).memberPromote({ ID: 9n })).rejects.toBe(ErrIDNotFound);
  });

  it("on the leader, strict: the promoted learner must leave a started quorum (ErrNotEnoughStartedMembers)", async () => {
    const f = fake([started(1), member(2), member(3), member(4, { isLearner: true })]);
    f.progress = new Map([
      [1n, { match: 10 }],
      [4n, { match: 10 }],
    ]);
    await expect(new Membership(f.deps).memberPromote({ ID: 4n })).rejects.toBe(ErrNotEnoughStartedMembers);
    const relaxed = fake([started(1), member(2), member(3), member(4, { isLearner: true })], { strictReconfigCheck: false });
    relaxed.progress = f.progress;
    await new Membership(relaxed.deps).memberPromote({ ID: 4n });
    expect(relaxed.proposed).toHaveLength(1);
  });

  it("on a follower: forwarded to the leader, whose members are the answer", async () => {
    const f = fake(cluster());
    const resp = await new Membership(f.deps).memberPromote({ ID: 3n });
    expect(f.forwarded).toEqual([3n]);
    expect(f.proposed).toHaveLength(0);
    expect(resp.members.map((m) => m.ID)).toEqual([1n, 2n, 3n]);
    // The peer handler's local promote does not forward.
    await expect(new Membership(f.deps).promoteMemberLocal(3n)).rejects.toBe(ErrNotLeader);
  });

  it("waits for the applied index first; its timeout is the answer", async () => {
    const f = fake(cluster(), { waitAppliedIndex: () => Promise.reject(ErrTimeoutWaitAppliedIndex) });
    await expect(new Membership(f.deps).memberPromote({ ID: 3n })).rejects.toBe(ErrTimeoutWaitAppliedIndex);
  });
});

describe("applyConfChange", () => {
  const setup = (): RaftCluster => {
    const c = new RaftCluster();
    for (const m of [started(1), started(2), started(3)]) c.addMember(m);
    return c;
  };
  const add = (m: Member): ConfChange => ({
    id: 11n,
    type: m.isLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode,
    nodeId: m.id,
    context: encodeMemberContext(m),
  });

  it("adds a member; the transport adds the peer; persisted in the batch", async () => {
    const be = new MemoryBackend();
    const c = setup();
    const tx = be.batchTx();
    const r = applyConfChange(c, 1n, add(member(4, { isLearner: true })), tx);
    await tx.commit();
    expect(r.err).toBeUndefined();
    expect(r.raftConfChange.nodeId).toBe(4n);
    expect(r.peer).toEqual({ op: "add", id: 4n, urls: [url(4)] });
    expect(r.removedSelf).toBe(false);
    expect(r.members.map((m) => [m.id, m.isLearner])).toEqual([
      [1n, false],
      [2n, false],
      [3n, false],
      [4n, true],
    ]);
    expect(readMembership(be).members).toEqual([member(4, { isLearner: true })]);
  });

  it("adding this member itself leaves the transport alone", () => {
    const c = setup();
    const r = applyConfChange(c, 4n, add(member(4)), undefined);
    expect(r.peer).toBeUndefined();
    expect(c.member(4n)).toBeDefined();
  });

  it("a refused change goes to raft with node id None and its error; nothing changes", () => {
    const c = setup();
    const r = applyConfChange(c, 1n, add(member(4, { peerURLs: [url(2)] })), undefined);
    expect(r.err).toBe(ErrPeerURLexists);
    expect(r.raftConfChange).toEqual({ ...add(member(4, { peerURLs: [url(2)] })), nodeId: None });
    expect(r.peer).toBeUndefined();
    expect(c.member(4n)).toBeUndefined();
    const promote: ConfChange = { id: 1n, type: ConfChangeType.ConfChangeAddNode, nodeId: 2n, context: encodeConfigChangeContext(member(2), true) };
    expect(applyConfChange(c, 1n, promote, new MemoryBackend().batchTx()).err).toBe(ErrMemberNotLearner);
  });

  it("promotes a learner (no transport change)", () => {
    const c = setup();
    c.addMember(member(4, { isLearner: true }));
    const r = applyConfChange(c, 1n, { id: 1n, type: ConfChangeType.ConfChangeAddNode, nodeId: 4n, context: encodeConfigChangeContext(member(4), true) }, undefined);
    expect([r.err, r.peer, c.member(4n)?.isLearner]).toEqual([undefined, undefined, false]);
  });

  it("removes a peer, and reports when this member was removed; the id can never come back", async () => {
    const be = new MemoryBackend();
    const c = setup();
    const remove = (id: bigint): ConfChange => ({ id: 1n, type: ConfChangeType.ConfChangeRemoveNode, nodeId: id, context: new Uint8Array(0) });
    let tx = be.batchTx();
    expect(applyConfChange(c, 1n, remove(3n), tx)).toMatchObject({ removedSelf: false, peer: { op: "remove", id: 3n } });
    await tx.commit();
    tx = be.batchTx();
    const self = applyConfChange(c, 1n, remove(1n), tx);
    await tx.commit();
    expect(self.removedSelf).toBe(true);
    expect(self.peer).toBeUndefined();
    expect(self.members.map((m) => m.id)).toEqual([2n]);
    expect(readMembership(be).removed).toEqual([1n, 3n]);
    expect(applyConfChange(c, 2n, add(member(3, { peerURLs: [url(33)] })), undefined).err).toBe(ErrIDRemoved);
  });

  it("updates a peer's URLs and keeps its name and client URLs", () => {
    const c = setup();
    c.member(2n)!.clientURLs = ["http://c:2379"];
    const cc: ConfChange = { id: 1n, type: ConfChangeType.ConfChangeUpdateNode, nodeId: 2n, context: encodeMemberContext(member(2, { peerURLs: [url(22)] })) };
    const r = applyConfChange(c, 1n, cc, undefined);
    expect(r.peer).toEqual({ op: "update", id: 2n, urls: [url(22)] });
    expect(c.member(2n)).toEqual(started(2, { peerURLs: [url(22)], clientURLs: ["http://c:2379"] }));
  });

  it("bootstrap: the seeded initial members' adds go to raft unchanged, once", async () => {
    const be = new MemoryBackend();
    const c = await newClusterFromURLsMap("tok", new Map([["a", [url(1)]], ["b", [url(2)]]]));
    const initial = c.memberList().map((m) => ({ ...m }));
    let tx = be.batchTx();
    for (const m of initial) {
      const r = applyConfChange(c, initial[0]!.id, add(m), tx);
      expect([r.err, r.raftConfChange.nodeId, r.peer]).toEqual([undefined, m.id, undefined]);
    }
    await tx.commit();
    expect(c.memberList()).toEqual(initial);
    // Afterwards the log is authoritative: a second add of the same member is refused as in etcd.
    tx = be.batchTx();
    expect(applyConfChange(c, initial[0]!.id, add(initial[1]!), tx).err).toBe(ErrIDExists);
    tx.rollback();
  });

  it("a seeded voter the log added as a learner: its promote still reaches raft; an initial voter's promote is refused", () => {
    const c = setup();
    c.seeded.add(3n);
    const tx = new MemoryBackend().batchTx();
    expect(applyConfChange(c, 1n, add(member(3, { isLearner: true })), tx).raftConfChange.type).toBe(ConfChangeType.ConfChangeAddLearnerNode);
    const promote = (id: bigint): ConfChange => ({ id: 1n, type: ConfChangeType.ConfChangeAddNode, nodeId: id, context: encodeConfigChangeContext(member(id), true) });
    expect(applyConfChange(c, 1n, promote(3n), tx)).toMatchObject({ raftConfChange: { nodeId: 3n } });
    expect(applyConfChange(c, 1n, promote(3n), tx).err).toBe(ErrMemberNotLearner);
    expect(applyConfChange(c, 1n, promote(2n), tx).err).toBe(ErrMemberNotLearner);
    tx.rollback();
  });

  it("replay (no batch: the backend has seen the entry): adds and promotes the later membership holds reach raft", () => {
    const c = setup();
    c.member(3n)!.peerURLs = [url(33)]; // updated later in the log
    const r = applyConfChange(c, 1n, add(member(3, { isLearner: true })), undefined);
    expect([r.err, r.raftConfChange]).toEqual([undefined, add(member(3, { isLearner: true }))]);
    expect(c.member(3n)).toEqual(started(3, { peerURLs: [url(33)] }));
    const promote: ConfChange = { id: 1n, type: ConfChangeType.ConfChangeAddNode, nodeId: 3n, context: encodeConfigChangeContext(member(3), true) };
    expect(applyConfChange(c, 1n, promote, undefined).raftConfChange.nodeId).toBe(3n);
    // Live, promoting a voting member is refused as in etcd.
    expect(applyConfChange(c, 1n, promote, new MemoryBackend().batchTx()).err).toBe(ErrMemberNotLearner);
  });

  it("a context whose id differs from the change's node id is a broken invariant", () => {
    const c = setup();
    expect(() => applyConfChange(c, 1n, { ...add(member(4)), nodeId: 5n }, undefined)).toThrow(/different member ID/);
  });
});
