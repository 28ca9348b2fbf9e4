// RaftCluster: etcd's ValidateConfigurationChange and IsReadyTo… tables (cluster_test.go, 3.5),
// and membership changes persisted in a backend batch and read back.
import { describe, expect, it } from "vitest";
import { RaftCluster } from "../../../src/etcdserver/membership/cluster.js";
import { encodeConfigChangeContext, encodeMemberContext } from "../../../src/etcdserver/membership/context.js";
import {
  ErrIDExists,
  ErrIDNotFound,
  ErrIDRemoved,
  ErrMemberNotLearner,
  ErrPeerURLexists,
  ErrTooManyLearners,
} from "../../../src/etcdserver/membership/errors.js";
import type { Member } from "../../../src/etcdserver/membership/member.js";
import { readMembership, saveMembers, unsafeSaveMember } from "../../../src/etcdserver/membership/store.js";
import { ConfChangeType, type ConfChange } from "../../../src/raft/raftpb.js";
import { MembersBucket, MembersRemovedBucket } from "../../../src/storage/backend.js";
import { MemoryBackend } from "../../../src/storage/memory-backend.js";

const url = (i: number): string => `http://127.0.0.1:${i}`;
const member = (id: number | bigint, f: Partial<Member> = {}): Member => ({
  id: BigInt(id),
  name: "",
  peerURLs: [],
  clientURLs: [],
  isLearner: false,
  ...f,
});
const cc = (type: ConfChangeType, nodeId: number, context: Uint8Array = new Uint8Array(0)): ConfChange => ({ id: 0n, type, nodeId: BigInt(nodeId), context });
const { ConfChangeAddNode: Add, ConfChangeAddLearnerNode: AddLearner, ConfChangeRemoveNode: Remove, ConfChangeUpdateNode: Update } = ConfChangeType;

function clusterOf(members: Member[]): RaftCluster {
  const c = new RaftCluster();
  for (const m of members) c.addMember(m);
  return c;
}

describe("validateConfigurationChange (etcd TestClusterValidateConfigurationChange)", () => {
  const cl = clusterOf([1, 2, 3, 4].map((i) => member(i, { peerURLs: [url(i)] })));
  cl.removeMember(4n);

  const ctx = encodeMemberContext(member(5, { peerURLs: [url(1)] }));
  const ctx1 = encodeMemberContext(member(1, { peerURLs: [url(1)] }));
  const ctx5 = encodeMemberContext(member(5, { peerURLs: [url(5)] }));
  const ctx2to3 = encodeMemberContext(member(2, { peerURLs: [url(3)] }));
  const ctx2to5 = encodeMemberContext(member(2, { peerURLs: [url(5)] }));
  const ctx3 = encodeConfigChangeContext(member(3, { peerURLs: [url(5)] }), true);
  const ctx6 = encodeConfigChangeContext(member(6, { peerURLs: [url(5)] }), true);

  const table: [ConfChange, Error | undefined][] = [
    [cc(Remove, 3), undefined],
    [cc(Add, 4), ErrIDRemoved],
    [cc(Remove, 4), ErrIDRemoved],
    [cc(Add, 1, ctx1), ErrIDExists],
    [cc(Add, 5, ctx), ErrPeerURLexists],
    [cc(Remove, 5), ErrIDNotFound],
    [cc(Add, 5, ctx5), undefined],
    [cc(Update, 5, ctx), ErrIDNotFound],
    // change the peer URL of 2 to that of 3
    [cc(Update, 2, ctx2to3), ErrPeerURLexists],
    [cc(Update, 2, ctx2to5), undefined],
    [cc(Add, 3, ctx3), ErrMemberNotLearner],
    [cc(Add, 6, ctx6), ErrIDNotFound],
  ];
  table.forEach(([change, want], i) => {
    it(`#${i}: ${ConfChangeType[change.type]} ${change.nodeId} → ${want?.message ?? "ok"}`, () => {
      expect(cl.validateConfigurationChange(change)).toBe(want);
    });
  });

  it("allows one learner (maxLearners = 1) and promotes only a learner that exists", () => {
    const c = clusterOf([member(1, { peerURLs: [url(1)], name: "a" })]);
    const l2 = member(2, { peerURLs: [url(2)], isLearner: true });
    expect(c.validateConfigurationChange(cc(AddLearner, 2, encodeMemberContext(l2)))).toBeUndefined();
    c.addMember(l2);
    const l3 = member(3, { peerURLs: [url(3)], isLearner: true });
    expect(c.validateConfigurationChange(cc(AddLearner, 3, encodeMemberContext(l3)))).toBe(ErrTooManyLearners);
    // A voting member may still join, and the learner may be promoted.
    expect(c.validateConfigurationChange(cc(Add, 3, encodeMemberContext(member(3, { peerURLs: [url(3)] }))))).toBeUndefined();
    expect(c.validateConfigurationChange(cc(Add, 2, encodeConfigChangeContext(member(2), true)))).toBeUndefined();
  });

  it("lets an update keep the member's own peer URLs", () => {
    const c = clusterOf([member(1, { peerURLs: [url(1)] }), member(2, { peerURLs: [url(2)] })]);
    expect(c.validateConfigurationChange(cc(Update, 2, encodeMemberContext(member(2, { peerURLs: [url(2), url(7)] }))))).toBeUndefined();
  });
});

// newTestMember(id, nil, name, nil): started when it has a name.
const started = (id: number): Member => member(id, { name: String(id) });
const unstarted = (id: number): Member => member(id);
const learner = (m: Member): Member => ({ ...m, isLearner: true });

describe("isReadyToAddVotingMember (etcd TestIsReadyToAddVotingMember)", () => {
  const table: [string, Member[], boolean][] = [
    ["0/3 started", [unstarted(1), unstarted(2), unstarted(3)], false],
    ["1/2 started", [started(1), unstarted(2)], false],
    ["1/3 started", [started(1), unstarted(2), unstarted(3)], false],
    ["1/1 started (restore case)", [started(1)], true],
    ["2/3 started", [started(1), started(2), unstarted(3)], false],
    ["3/3 started", [started(1), started(2), started(3)], true],
    ["3/4 started", [started(1), started(2), started(3), unstarted(4)], true],
    ["empty cluster", [], false],
    ["2/2 voters, 2 unstarted learners", [started(1), started(2), learner(unstarted(3)), learner(unstarted(4))], true],
    ["1/2 voters, 2 started learners", [started(1), unstarted(2), learner(started(3)), learner(started(4))], false],
  ];
  for (const [name, members, want] of table) {
    it(name, () => expect(clusterOf(members).isReadyToAddVotingMember()).toBe(want));
  }
});

describe("isReadyToRemoveVotingMember (etcd TestIsReadyToRemoveVotingMember)", () => {
  const table: [string, Member[], number, boolean][] = [
    ["1/1 started", [started(1)], 1, false],
    ["0/3 started", [unstarted(1), unstarted(2), unstarted(3)], 1, false],
    ["1/2 started, remove the unstarted", [started(1), unstarted(2)], 2, true],
    ["2/3 started, remove a started", [started(1), started(2), unstarted(3)], 2, false],
    ["3/3 started", [started(1), started(2), started(3)], 3, true],
    ["3/4 started, remove a started", [started(1), started(2), started(3), unstarted(4)], 3, true],
    ["3/4 started, remove the unstarted", [started(1), started(2), started(3), unstarted(4)], 4, true],
    ["1 voter + started learner, remove the voter", [started(1), learner(started(2))], 1, false],
    ["1/2 voters + started learner, remove the started voter", [started(1), unstarted(2), learner(started(3))], 1, false],
    ["1/2 voters + started learner, remove the unstarted voter", [started(1), unstarted(2), learner(started(3))], 2, true],
    ["1/2 voters + unstarted learner, remove the unstarted voter", [started(1), unstarted(2), learner(unstarted(3))], 2, true],
  ];
  for (const [name, members, id, want] of table) {
    it(name, () => expect(clusterOf(members).isReadyToRemoveVotingMember(BigInt(id))).toBe(want));
  }
});

describe("isReadyToPromoteMember (etcd TestIsReadyToPromoteMember)", () => {
  const table: [string, Member[], number, boolean][] = [
    ["1/1 started", [started(1), learner(started(2))], 2, true],
    ["0/1 started", [unstarted(1), learner(started(2))], 2, false],
    ["2/2 started", [started(1), started(2), learner(started(3))], 3, true],
    ["1/2 started", [started(1), unstarted(2), learner(started(3))], 3, true],
    ["1/3 started", [started(1), unstarted(2), unstarted(3), learner(started(4))], 4, false],
    ["2/3 started", [started(1), started(2), unstarted(3), learner(started(4))], 4, true],
    ["2/4 started", [started(1), started(2), unstarted(3), unstarted(4), learner(started(5))], 5, true],
  ];
  for (const [name, members, id, want] of table) {
    it(name, () => expect(clusterOf(members).isReadyToPromoteMember(BigInt(id))).toBe(want));
  }
});

describe("membership in the backend", () => {
  it("applies add, update, promote and remove to memory, and to the backend in the caller's batch", async () => {
    const be = new MemoryBackend();
    const c = clusterOf([started(1)]);
    c.members.get(1n)!.peerURLs = [url(1)];
    await saveMembers(be, c.memberList());

    let tx = be.batchTx();
    c.addMember(member(2, { peerURLs: [url(2)], isLearner: true }), tx);
    c.addMember(member(3, { peerURLs: [url(3)] }), tx);
    await tx.commit();
    tx = be.batchTx();
    c.updateRaftAttributes(3n, [url(33)], tx);
    c.promoteMember(2n, tx);
    c.removeMember(1n, tx);
    await tx.commit();

    expect(c.memberList()).toEqual([member(2, { peerURLs: [url(2)] }), member(3, { peerURLs: [url(33)] })]);
    expect([...c.removed]).toEqual([1n]);
    const stored = readMembership(be);
    expect(stored.members).toEqual(c.memberList());
    expect(stored.removed).toEqual([1n]);

    const restarted = new RaftCluster();
    restarted.recover(be);
    expect(restarted.memberList()).toEqual(c.memberList());
    expect(restarted.validateConfigurationChange(cc(Add, 1, encodeMemberContext(member(1, { peerURLs: [url(9)] }))))).toBe(ErrIDRemoved);
  });

  it("writes etcd's keys and values: the id in hex, the member's JSON, removed ids as \"removed\"", async () => {
    const be = new MemoryBackend();
    const c = clusterOf([]);
    const tx = be.batchTx();
    c.addMember(member(0xabcdefn, { peerURLs: [url(1)], name: "n" }), tx);
    c.removeMember(0x1234n, tx);
    await tx.commit();
    const r = be.readTx();
    const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
    const all = (bucket: string): string[] => {
      const out: string[] = [];
      r.unsafeForEach(bucket, (k, v) => void out.push(`${dec(k)}=${dec(v)}`));
      return out;
    };
    expect(all(MembersBucket)).toEqual(['abcdef={"id":11259375,"peerURLs":["http://127.0.0.1:1"],"name":"n"}']);
    expect(all(MembersRemovedBucket)).toEqual(["1234=removed"]);
    r.end();
  });

  it("leaves the backend alone without a batch (an entry the backend has already seen)", async () => {
    const be = new MemoryBackend();
    const c = clusterOf([]);
    c.addMember(member(7, { peerURLs: [url(7)] }));
    c.removeMember(7n);
    expect(readMembership(be)).toEqual({ members: [], removed: [], version: undefined });
  });

  it("reads members stored with a decimal string id (written before the JSON followed etcd's)", async () => {
    const be = new MemoryBackend();
    const tx = be.batchTx();
    unsafeSaveMember(tx, member(1)); // creates the bucket
    tx.put(MembersBucket, new TextEncoder().encode("ff"), new TextEncoder().encode('{"id":"255","peerURLs":["http://a:1"],"name":"x","clientURLs":[],"isLearner":false}'));
    await tx.commit();
    expect(readMembership(be).members).toContainEqual(member(255, { name: "x", peerURLs: ["http://a:1"] }));
  });
});
