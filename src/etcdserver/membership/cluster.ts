/**
 * The cluster's membership (etcd's RaftCluster, server/etcdserver/api/membership/cluster.go):
 * members by id, the ids removed (never reused), the cluster id and version; the checks a
 * configuration change must pass when it is applied (validateConfigurationChange) and the quorum
 * checks of --strict-reconfig-check (isReadyTo…).
 *
 * Changes are applied to memory always and, when the caller passes its apply batch `tx` (etcd's
 * shouldApplyV3: the backend has not seen this entry yet), to the backend in that batch too.
 */
import { ConfChangeType, type ConfChange } from "../../raft/raftpb.js";
import { discardLogger, type Logger } from "../../raft/logger.js";
import type { Backend, BatchTx } from "../../storage/backend.js";
import { decodeConfChangeContext } from "./context.js";
import { ErrIDExists, ErrIDNotFound, ErrIDRemoved, ErrMemberNotLearner, ErrPeerURLexists, ErrTooManyLearners } from "./errors.js";
import { idString, isStarted, type Member, newMember, sha1Id } from "./member.js";
import { readMembership, unsafeDeleteMember, unsafeSaveMember } from "./store.js";

/** etcd's maxLearners: at most one learner in the cluster. */
export const maxLearners = 1;

const byID = (a: Member, b: Member): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class RaftCluster {
  readonly members = new Map<bigint, Member>();
  clusterID = 0n;
  /** The cluster version ("3.5.0"), once the leader has set it through raft; undefined before. */
  version: string | undefined;
  /** Ids removed from the cluster; their messages are refused and the ids never reused. */
  readonly removed = new Set<bigint>();
  /** Where membership changes are logged (etcd's "added member", "removed member", …). */
  lg: Logger = discardLogger;
  /**
   * Members known from outside the log (the initial cluster, or the members a joining member
   * fetched from its peers) whose add the log has not applied yet: their ConfChanges still have to
   * reach raft, although the membership holds them (see applyConfChange in changes.ts). Whoever
   * seeds a cluster so adds the ids here; {@link newClusterFromURLsMap} does.
   */
  readonly seeded = new Set<bigint>();
  /**
   * Seeded members held as voters whose log added them as learners: their promote, when it comes,
   * still has to reach raft.
   */
  readonly promotePending = new Set<bigint>();

  /** Member ids, ascending. */
  memberIDs(): bigint[] {
    return [...this.members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Members sorted by id. */
  memberList(): Member[] {
    return this.memberIDs().map((id) => this.members.get(id)!);
  }

  /** etcd's VotingMembers: the members that are not learners, sorted by id. */
  votingMembers(): Member[] {
    return [...this.members.values()].filter((m) => !m.isLearner).sort(byID);
  }

  member(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  memberByName(name: string): Member | undefined {
    for (const m of this.members.values()) if (m.name === name) return m;
    return undefined;
  }

  /**
   * etcd's ValidateConfigurationChange: whether `cc` may still be applied to the current
   * membership. Returns the membership error, or undefined. Throws (etcd panics) on a context that
   * is not a member's JSON or an unknown change type.
   */
  validateConfigurationChange(cc: ConfChange): Error | undefined {
    const id = cc.nodeId;
    if (this.removed.has(id)) return ErrIDRemoved;
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
      case ConfChangeType.ConfChangeAddLearnerNode: {
        const ctx = decodeConfChangeContext(cc.context);
        if (ctx.isPromote) {
          const m = this.members.get(id);
          if (m === undefined) return ErrIDNotFound;
          if (!m.isLearner) return ErrMemberNotLearner;
          return undefined;
        }
        if (this.members.has(id)) return ErrIDExists;
        const used = this.peerURLsInUse();
        if (ctx.member.peerURLs.some((u) => used.has(u))) return ErrPeerURLexists;
        if (ctx.member.isLearner) {
          const learners = [...this.members.values()].filter((m) => m.isLearner).length;
          if (learners + 1 > maxLearners) return ErrTooManyLearners;
        }
        return undefined;
      }
      case ConfChangeType.ConfChangeRemoveNode:
        return this.members.has(id) ? undefined : ErrIDNotFound;
      case ConfChangeType.ConfChangeUpdateNode: {
        if (!this.members.has(id)) return ErrIDNotFound;
        const used = this.peerURLsInUse(id);
        const { member } = decodeConfChangeContext(cc.context);
        return member.peerURLs.some((u) => used.has(u)) ? ErrPeerURLexists : undefined;
      }
      default:
        throw new Error(`membership: unknown ConfChange type ${String(cc.type)}`);
    }
  }

  /** Every peer URL of the members, except those of `except`. */
  private peerURLsInUse(except?: bigint): Set<string> {
    const urls = new Set<string>();
    for (const m of this.members.values()) if (m.id !== except) for (const u of m.peerURLs) urls.add(u);
    return urls;
  }

  /**
   * etcd's AddMember: adds `m` (a member with that id must not exist), persisted in `tx` when
   * given. The caller hands over `m`.
   */
  addMember(m: Member, tx?: BatchTx): void {
    if (tx !== undefined) unsafeSaveMember(tx, m);
    this.members.set(m.id, m);
    this.lg.info(
      `added member ${idString(m.id)} ${JSON.stringify(m.peerURLs)} to cluster ${idString(this.clusterID)}${m.isLearner ? " as learner" : ""}`,
    );
  }

  /** etcd's RemoveMember: deletes the member and records its id as removed, in `tx` too when given. */
  removeMember(id: bigint, tx?: BatchTx): void {
    if (tx !== undefined) unsafeDeleteMember(tx, id);
    const m = this.members.get(id);
    this.members.delete(id);
    this.removed.add(id);
    if (m !== undefined) this.lg.info(`removed member ${idString(id)} ${JSON.stringify(m.peerURLs)} from cluster ${idString(this.clusterID)}`);
    else this.lg.warn(`skipped removing already removed member ${idString(id)} from cluster ${idString(this.clusterID)}`);
  }

  /** etcd's UpdateRaftAttributes (MemberUpdate changes only the peer URLs); an unknown id is skipped. */
  updateRaftAttributes(id: bigint, peerURLs: readonly string[], tx?: BatchTx): void {
    const m = this.members.get(id);
    if (m === undefined) {
      this.lg.info(`skipped updating non-existent member ${idString(id)} in cluster ${idString(this.clusterID)}`);
      return;
    }
    m.peerURLs = [...peerURLs];
    if (tx !== undefined) unsafeSaveMember(tx, m);
    this.lg.info(`updated member ${idString(id)} ${JSON.stringify(m.peerURLs)} in cluster ${idString(this.clusterID)}`);
  }

  /** etcd's PromoteMember: the learner becomes a voting member. The id must exist (a broken invariant otherwise). */
  promoteMember(id: bigint, tx?: BatchTx): void {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`membership: promote of unknown member ${idString(id)}`);
    m.isLearner = false;
    if (tx !== undefined) unsafeSaveMember(tx, m);
    this.lg.info(`promote member ${idString(id)} in cluster ${idString(this.clusterID)}`);
  }

  /** etcd's Recover from the backend: members, removed ids and the cluster version (if any). */
  recover(b: Backend): void {
    const { members, removed, version } = readMembership(b);
    this.members.clear();
    for (const m of members) this.members.set(m.id, m);
    this.removed.clear();
    for (const id of removed) this.removed.add(id);
    this.version = version;
  }

  /**
   * etcd's IsReadyToAddVotingMember: after adding one more (not yet started) voting member, the
   * started voting members would still be a quorum. A one-member cluster may always grow (the
   * restore case).
   */
  isReadyToAddVotingMember(): boolean {
    let nmembers = 1;
    let nstarted = 0;
    for (const m of this.votingMembers()) {
      if (isStarted(m)) nstarted++;
      nmembers++;
    }
    if (nstarted === 1 && nmembers === 2) return true;
    const nquorum = Math.floor(nmembers / 2) + 1;
    if (nstarted < nquorum) {
      this.lg.warn(`rejecting member add; started member will be less than quorum (started ${nstarted}, quorum ${nquorum})`);
      return false;
    }
    return true;
  }

  /** etcd's IsReadyToRemoveVotingMember: without `id`, the started voting members are still a quorum. */
  isReadyToRemoveVotingMember(id: bigint): boolean {
    let nmembers = 0;
    let nstarted = 0;
    for (const m of this.votingMembers()) {
      if (m.id === id) continue;
      if (isStarted(m)) nstarted++;
      nmembers++;
    }
    const nquorum = Math.floor(nmembers / 2) + 1;
    if (nstarted < nquorum) {
      this.lg.warn(`rejecting member remove; started member will be less than quorum (started ${nstarted}, quorum ${nquorum})`);
      return false;
    }
    return true;
  }

  /**
   * etcd's IsReadyToPromoteMember: with the learner counted as a started voting member, the
   * started voting members are a quorum. (etcd does not look at `id` beyond that.)
   */
  isReadyToPromoteMember(_id: bigint): boolean {
    let nmembers = 1;
    let nstarted = 1;
    for (const m of this.votingMembers()) {
      if (isStarted(m)) nstarted++;
      nmembers++;
    }
    const nquorum = Math.floor(nmembers / 2) + 1;
    if (nstarted < nquorum) {
      this.lg.warn(`rejecting member promote; started member will be less than quorum (started ${nstarted}, quorum ${nquorum})`);
      return false;
    }
    return true;
  }

  /** etcd's genID: SHA-1 of the sorted member ids as 8-byte big-endian values. */
  async genID(): Promise<void> {
    const ids = this.memberIDs();
    const b = new Uint8Array(8 * ids.length);
    const view = new DataView(b.buffer);
    ids.forEach((id, i) => view.setBigUint64(8 * i, id, false));
    this.clusterID = await sha1Id(b);
  }
}

/**
 * etcd's NewClusterFromURLsMap: one member per name of the initial cluster (ids from the peer URLs
 * and the token), then the cluster id. Throws etcd's errors for identical ids and id 0 (duplicate
 * URLs are refused earlier, by the configuration checks).
 */
export async function newClusterFromURLsMap(token: string, urls: ReadonlyMap<string, readonly string[]>): Promise<RaftCluster> {
  const c = new RaftCluster();
  for (const [name, peerURLs] of urls) {
    const m = await newMember(name, peerURLs, token);
    if (c.members.has(m.id)) throw new Error(`member exists with identical ID ${m.id.toString(16)}`);
    if (m.id === 0n) throw new Error("cannot use 0 as member id");
    c.members.set(m.id, m);
    c.seeded.add(m.id);
  }
  await c.genID();
  return c;
}
