/**
 * Membership changes as the server makes them (etcd server/etcdserver/server.go: AddMember,
 * RemoveMember, UpdateMember, PromoteMember with mayAddMember, mayRemoveMember, mayPromoteMember,
 * isLearnerReady; and applyConfChange), over an explicit {@link MembershipDeps}: the server owns
 * raft, the transport and the wait registry, this module owns the rules.
 *
 * The request side checks what only the proposing member can know (quorum health with
 * --strict-reconfig-check, learner progress on the leader), builds the ConfChange with etcd's
 * context JSON and proposes it. The apply side ({@link applyConfChange}) runs on every member for
 * every committed ConfChange: it validates the change against the membership at that point
 * (a refused change still goes to raft, as a no-op with node id None) and applies it.
 */
import {
  newMember as newPbMember,
  newMemberAddResponse,
  newMemberListResponse,
  type Member as PbMember,
  type MemberAddRequest,
  type MemberAddResponse,
  type MemberListResponse,
  type MemberPromoteRequest,
  type MemberRemoveRequest,
  type MemberUpdateRequest,
  type ResponseHeader,
} from "../../api/etcdserverpb/rpc.js";
import { ConfChangeType, None, type ConfChange } from "../../raft/raftpb.js";
import { discardLogger, type Logger } from "../../raft/logger.js";
import type { BatchTx } from "../../storage/backend.js";
import { ErrLearnerNotReady, ErrNotEnoughStartedMembers, ErrNotLeader, ErrUnhealthy } from "../errors.js";
import type { RaftCluster } from "./cluster.js";
import { decodeConfChangeContext, encodeConfigChangeContext, encodeMemberContext } from "./context.js";
import { ErrIDNotFound } from "./errors.js";
import { computeMemberID, idString, type Member } from "./member.js";

/** etcd's HealthInterval: a peer counts as connected once it has been active this long (ms). */
export const HealthInterval = 5_000;

/** etcd's readyPercent: a learner may be promoted once its match index is ≥ 90% of the leader's. */
export const readyPercent = 0.9;

/** What the membership logic asks of the server. */
export interface MembershipDeps {
  /** This member's id. */
  readonly id: bigint;
  readonly cluster: RaftCluster;
  /** etcd's --strict-reconfig-check (default true). */
  readonly strictReconfigCheck: boolean;
  /** The transport clock's now, in ms (the clock of `activeSince`). */
  now(): number;
  /** When the transport's peer `id` became active, in the clock of `now`; 0 while it is not. */
  activeSince(id: bigint): number;
  /**
   * Raft's progress per member (the match index) when this member is the leader (RawNode status);
   * undefined on a follower.
   */
  progress(): Map<bigint, { match: number }> | undefined;
  /** etcd's waitAppliedIndex: resolves once applied ≥ committed; rejects (ErrTimeoutWaitAppliedIndex) on timeout. */
  waitAppliedIndex(): Promise<void>;
  /**
   * etcd's configure: assigns `cc.id`, proposes `cc` through raft and resolves with the members once
   * it is applied (the {@link ConfChangeResult.members} of its apply), or rejects with the apply's
   * error ({@link ConfChangeResult.err}) or a proposal error (timeout, stopped, …).
   */
  proposeConfChange(cc: ConfChange): Promise<Member[]>;
  /**
   * Forwards a promote to the leader (etcd's promoteMemberHTTP to the leader's peer URLs, retried
   * until the request timeout); resolves with the members after it.
   */
  forwardPromote(id: bigint): Promise<Member[]>;
  /** etcd's ClusterServer.header(): cluster id, member id and raft term, no revision. */
  header(): ResponseHeader;
  /** The Unix time in seconds: a new member's id is computeMemberID(peerURLs, "", now) (etcd: time.Now() in v3rpc). */
  nowUnixSeconds(): number;
  logger?: Logger;
}

/** etcd's membersToProtoMembers. */
export function toProtoMembers(members: readonly Member[]): PbMember[] {
  return members.map((m) =>
    newPbMember({ ID: m.id, name: m.name, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs], isLearner: m.isLearner }),
  );
}

/** A copy of a member (etcd's Member.Clone): what a caller receives, never the cluster's own. */
export function cloneMember(m: Member): Member {
  return { id: m.id, name: m.name, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs], isLearner: m.isLearner };
}

/** etcd's isConnectedSince: the peer has been active since before `since`. */
function isConnectedSince(d: MembershipDeps, since: number, id: bigint): boolean {
  const t = d.activeSince(id);
  return t !== 0 && t < since;
}

/** etcd's numConnectedSince: this member plus the members connected since before `since`. */
export function numConnectedSince(d: MembershipDeps, since: number, members: readonly Member[]): number {
  return members.filter((m) => m.id === d.id || isConnectedSince(d, since, m.id)).length;
}

const quorum = (n: number): number => Math.floor(n / 2) + 1;

/**
 * The Cluster service of the server (etcd's AddMember, RemoveMember, UpdateMember, PromoteMember
 * and the v3rpc ClusterServer responses). Requests have passed the gateway's checks (MemberAdd's
 * peer URLs are valid and sorted).
 */
export class Membership {
  private readonly lg: Logger;

  constructor(private readonly d: MembershipDeps) {
    this.lg = d.logger ?? discardLogger;
  }

  /**
   * etcd's MemberAdd: a new member (id from its peer URLs and the time) added as a voting member or
   * a learner. Resolves with it (no name or client URLs yet) and the members after the change.
   */
  async memberAdd(r: MemberAddRequest): Promise<MemberAddResponse> {
    const peerURLs = [...r.peerURLs].sort();
    const id = await computeMemberID(peerURLs, "", this.d.nowUnixSeconds());
    const m: Member = { id, name: "", peerURLs, clientURLs: [], isLearner: r.isLearner };
    this.mayAddMember(m);
    const cc: ConfChange = {
      id: 0n,
      type: m.isLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode,
      nodeId: id,
      context: encodeMemberContext(m),
    };
    const members = await this.d.proposeConfChange(cc);
    return newMemberAddResponse({
      header: this.d.header(),
      member: newPbMember({ ID: id, peerURLs: [...peerURLs], isLearner: m.isLearner }),
      members: toProtoMembers(members),
    });
  }

  /** etcd's MemberRemove. */
  async memberRemove(r: MemberRemoveRequest): Promise<MemberListResponse> {
    this.mayRemoveMember(r.ID);
    const cc: ConfChange = { id: 0n, type: ConfChangeType.ConfChangeRemoveNode, nodeId: r.ID, context: new Uint8Array(0) };
    return this.membersResponse(await this.d.proposeConfChange(cc));
  }

  /**
   * etcd's MemberUpdate: the member's peer URLs replaced (the context is `{"id":…,"peerURLs":[…]}`,
   * as etcd builds it; name and client URLs stay as they are).
   */
  async memberUpdate(r: MemberUpdateRequest): Promise<MemberListResponse> {
    const m: Member = { id: r.ID, name: "", peerURLs: [...r.peerURLs], clientURLs: [], isLearner: false };
    const cc: ConfChange = { id: 0n, type: ConfChangeType.ConfChangeUpdateNode, nodeId: r.ID, context: encodeMemberContext(m) };
    return this.membersResponse(await this.d.proposeConfChange(cc));
  }

  /**
   * etcd's PromoteMember: on the leader, checks the learner and proposes; on a follower
   * (ErrNotLeader), forwards to the leader.
   */
  async memberPromote(r: MemberPromoteRequest): Promise<MemberListResponse> {
    let members: Member[];
    try {
      members = await this.promoteMemberLocal(r.ID);
    } catch (err) {
      if (err !== ErrNotLeader) throw err;
      members = await this.d.forwardPromote(r.ID);
    }
    return this.membersResponse(members);
  }

  /**
   * etcd's promoteMember: the promote on this member, which must be the leader (else
   * ErrNotLeader); the members after it. The peer handler's POST /members/promote/{id} calls this.
   */
  async promoteMemberLocal(id: bigint): Promise<Member[]> {
    await this.mayPromoteMember(id);
    const context = encodeConfigChangeContext({ id, name: "", peerURLs: [], clientURLs: [], isLearner: false }, true);
    return this.d.proposeConfChange({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: id, context });
  }

  private membersResponse(members: readonly Member[]): MemberListResponse {
    return newMemberListResponse({ header: this.d.header(), members: toProtoMembers(members) });
  }

  /** etcd's mayAddMember: with --strict-reconfig-check, an add must not put the active quorum at risk. */
  mayAddMember(m: Member): void {
    if (!this.d.strictReconfigCheck) return;
    const c = this.d.cluster;
    if (!m.isLearner && !c.isReadyToAddVotingMember()) {
      this.lg.warn(`rejecting member add request; not enough healthy members (member ${idString(m.id)})`);
      throw ErrNotEnoughStartedMembers;
    }
    // The new member counts as unavailable (etcd's isConnectedToQuorumAfterAddingNewMemberSince).
    const voting = c.votingMembers();
    if (voting.length !== 1 && numConnectedSince(this.d, this.d.now() - HealthInterval, voting) < quorum(voting.length + 1)) {
      this.lg.warn(
        `rejecting member add request; local member has not been connected to majority peers, reconfigure breaks active quorum (member ${idString(m.id)})`,
      );
      throw ErrUnhealthy;
    }
  }

  /**
   * etcd's mayRemoveMember: with --strict-reconfig-check, removing a voting member must leave a
   * quorum of started members and, unless the member is down already, of connected ones. A learner
   * may always go.
   */
  mayRemoveMember(id: bigint): void {
    if (!this.d.strictReconfigCheck) return;
    const c = this.d.cluster;
    if (c.member(id)?.isLearner === true) return;
    if (!c.isReadyToRemoveVotingMember(id)) {
      this.lg.warn(`rejecting member remove request; not enough healthy members (member ${idString(id)})`);
      throw ErrNotEnoughStartedMembers;
    }
    // A member that is down is not part of the active quorum: removing it is safe.
    if (id !== this.d.id && this.d.activeSince(id) === 0) return;
    const voting = c.votingMembers();
    const active = numConnectedSince(this.d, this.d.now() - HealthInterval, voting);
    if (active - 1 < 1 + Math.floor((voting.length - 1) / 2)) {
      this.lg.warn(
        `rejecting member remove request; local member has not been connected to all peers, reconfigure breaks active quorum (member ${idString(id)}, active peers ${active})`,
      );
      throw ErrUnhealthy;
    }
  }

  /** etcd's mayPromoteMember: the learner is caught up; with --strict-reconfig-check, the quorum holds. */
  async mayPromoteMember(id: bigint): Promise<void> {
    await this.isLearnerReady(id);
    if (!this.d.strictReconfigCheck) return;
    if (!this.d.cluster.isReadyToPromoteMember(id)) {
      this.lg.warn(`rejecting member promote request; not enough healthy members (member ${idString(id)})`);
      throw ErrNotEnoughStartedMembers;
    }
  }

  /**
   * etcd's isLearnerReady: on the leader, the member's match index is at least 90% of the
   * leader's. ErrNotLeader on a follower, ErrIDNotFound for an id raft does not track. (Whether it
   * is a learner at all is checked when the change is applied.)
   */
  async isLearnerReady(id: bigint): Promise<void> {
    await this.d.waitAppliedIndex();
    const progress = this.d.progress();
    if (progress === undefined) throw ErrNotLeader;
    const learner = progress.get(id);
    if (learner === undefined) throw ErrIDNotFound;
    const leaderMatch = progress.get(this.d.id)?.match ?? 0;
    if (learner.match < leaderMatch * readyPercent) throw ErrLearnerNotReady;
  }
}

/** What applying one committed ConfChange did, for the server to finish the job. */
export interface ConfChangeResult {
  /**
   * The change to hand raft (RawNode.applyConfChange): `cc` itself, or, when validation refused
   * it, a copy with node id None (raft applies a no-op), as etcd does.
   */
  raftConfChange: ConfChange;
  /** The membership error that refused the change (the proposer's waiter rejects with it). */
  err?: Error;
  /** This member was removed: the server must stop (etcd's errors.ErrStopped path after apply). */
  removedSelf: boolean;
  /** What the transport must do for a remote member (never set for this member or on error). */
  peer?: { op: "add" | "update"; id: bigint; urls: string[] } | { op: "remove"; id: bigint };
  /** The members after the change (copies, by id): the proposer's waiter resolves with them. */
  members: Member[];
}

/**
 * Whether `cc` is a change the membership already holds, which raft must still apply. etcd 3.5
 * validates against its v2 store, which is always at the log's position (empty at bootstrap,
 * rebuilt from the snapshot on restart). Ours validates against the membership in memory, which
 * is ahead of the log in two cases:
 * - seeded members ({@link RaftCluster.seeded}: the initial cluster, the members a joining member
 *   fetched): their add is accepted once (a learner add of a member held as a voter leaves its
 *   promote pending, accepted when it comes);
 * - replay (`tx` undefined: the backend has seen the entry, the membership is the backend's, from
 *   a later point of the log): an add of a member it holds, or a promote of a member it holds as a
 *   voter, was applied then. A replay has no proposer waiting, so only raft's configuration matters.
 * A replayed change of a member removed later is refused again (ErrIDRemoved): raft ends with the
 * same configuration, because the remove is replayed after it.
 */
function alreadyApplied(cluster: RaftCluster, cc: ConfChange, replay: boolean): boolean {
  if (cc.type !== ConfChangeType.ConfChangeAddNode && cc.type !== ConfChangeType.ConfChangeAddLearnerNode) return false;
  const held = cluster.member(cc.nodeId);
  if (held === undefined) return false;
  const { isPromote } = decodeConfChangeContext(cc.context);
  if (isPromote) {
    if (held.isLearner) return false;
    if (cluster.promotePending.delete(held.id)) return true;
    return replay;
  }
  if (cluster.seeded.delete(held.id)) {
    if (cc.type === ConfChangeType.ConfChangeAddLearnerNode && !held.isLearner) cluster.promotePending.add(held.id);
    return true;
  }
  return replay;
}

/**
 * etcd's applyConfChange for the membership: validates `cc` against `cluster` and applies it —
 * to memory always and, when `tx` is given (etcd's shouldApplyV3: the backend has not seen this
 * entry), to the backend in that batch. `self` is this member's id. Throws (etcd panics) when the
 * context's id differs from the change's node id or the context is not a member's JSON.
 *
 * A change the membership already holds (a seeded member's add, a replayed entry; see
 * {@link alreadyApplied}) goes to raft unchanged and changes nothing else.
 *
 * The caller then hands `raftConfChange` to raft, triggers the proposer's waiter with `err` or
 * `members`, updates the transport as `peer` says and stops when `removedSelf`.
 */
export function applyConfChange(cluster: RaftCluster, self: bigint, cc: ConfChange, tx: BatchTx | undefined): ConfChangeResult {
  if (alreadyApplied(cluster, cc, tx === undefined)) {
    return { raftConfChange: cc, removedSelf: false, members: cluster.memberList().map(cloneMember) };
  }
  const err = cluster.validateConfigurationChange(cc);
  if (err !== undefined) {
    cluster.lg.error(`validation on configuration change failed (shouldApplyV3 ${tx !== undefined}): ${err.message}`);
    return { raftConfChange: { ...cc, nodeId: None }, err, removedSelf: false, members: cluster.memberList().map(cloneMember) };
  }
  const done = (peer?: ConfChangeResult["peer"], removedSelf = false): ConfChangeResult => ({
    raftConfChange: cc,
    removedSelf,
    ...(peer !== undefined ? { peer } : {}),
    members: cluster.memberList().map(cloneMember),
  });
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
    case ConfChangeType.ConfChangeAddLearnerNode: {
      const { member, isPromote } = decodeConfChangeContext(cc.context);
      if (member.id !== cc.nodeId) {
        throw new Error(`membership: got different member ID (conf change ${idString(cc.nodeId)}, context ${idString(member.id)})`);
      }
      if (isPromote) {
        cluster.promoteMember(member.id, tx);
        return done();
      }
      cluster.addMember(member, tx);
      return done(member.id !== self ? { op: "add", id: member.id, urls: [...member.peerURLs] } : undefined);
    }
    case ConfChangeType.ConfChangeRemoveNode: {
      cluster.removeMember(cc.nodeId, tx);
      if (cc.nodeId === self) return done(undefined, true);
      return done({ op: "remove", id: cc.nodeId });
    }
    case ConfChangeType.ConfChangeUpdateNode: {
      const { member } = decodeConfChangeContext(cc.context);
      if (member.id !== cc.nodeId) {
        throw new Error(`membership: got different member ID (conf change ${idString(cc.nodeId)}, context ${idString(member.id)})`);
      }
      cluster.updateRaftAttributes(member.id, member.peerURLs, tx);
      return done(member.id !== self ? { op: "update", id: member.id, urls: [...member.peerURLs] } : undefined);
    }
    default:
      throw new Error(`membership: unknown ConfChange type ${String(cc.type)}`);
  }
}
