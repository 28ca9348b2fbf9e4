/**
 * Membership in the backend (etcd 3.5's membership/store.go): the `members` bucket (key = the
 * member id in hex, value = the member's JSON, see context.ts), the `members_removed` bucket (key =
 * a removed id in hex, value = "removed") and the cluster version in the `cluster` bucket, so a
 * restarted member knows its cluster without the initial-cluster flags.
 *
 * The `unsafe…` functions write into the caller's open batch (etcd's LockInsideApply): the server
 * applies a conf change and its consistent index in one batch.
 */
import { ClusterBucket, MembersBucket, MembersRemovedBucket, type Backend, type BatchTx } from "../../storage/backend.js";
import { decodeMemberJSON, memberJSON } from "./context.js";
import type { Member } from "./member.js";

const utf8 = new TextEncoder();
const clusterVersionKey = utf8.encode("clusterVersion");
const removedValue = utf8.encode("removed");

/** etcd's backendMemberKey: the id as lower-case hex. */
const memberKey = (id: bigint): Uint8Array => utf8.encode(id.toString(16));

/** etcd's mustParseMemberIDFromBytes. */
function parseMemberKey(k: Uint8Array): bigint {
  const s = new TextDecoder().decode(k);
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) throw new Error(`membership: failed to parse member id from key ${JSON.stringify(s)}`);
  return BigInt("0x" + s);
}

/** etcd's unsafeSaveMemberToBackend: puts the member's JSON under its id. */
export function unsafeSaveMember(tx: BatchTx, m: Member): void {
  tx.createBucket(MembersBucket);
  tx.put(MembersBucket, memberKey(m.id), utf8.encode(memberJSON(m)));
}

/**
 * etcd's unsafeDeleteMemberFromBackend: records `id` in `members_removed` and deletes its member
 * entry. Returns false when the member was not in the bucket (etcd's errMemberNotFound, which its
 * callers tolerate).
 */
export function unsafeDeleteMember(tx: BatchTx, id: bigint): boolean {
  tx.createBucket(MembersBucket);
  tx.createBucket(MembersRemovedBucket);
  const key = memberKey(id);
  tx.put(MembersRemovedBucket, key, removedValue);
  if (tx.unsafeRange(MembersBucket, key).keys.length === 0) return false;
  tx.delete(MembersBucket, key);
  return true;
}

export function unsafeSaveClusterVersion(tx: BatchTx, ver: string): void {
  tx.createBucket(ClusterBucket);
  tx.put(ClusterBucket, clusterVersionKey, utf8.encode(ver));
}

/** Saves `members` in one batch. */
export function saveMembers(b: Backend, members: readonly Member[]): Promise<void> {
  const tx = b.batchTx();
  for (const m of members) unsafeSaveMember(tx, m);
  return tx.commit();
}

/**
 * The members (by id), the removed ids (ascending) and the cluster version the backend holds (none
 * when it was never written). etcd's readMembersFromBackend and clusterVersionFromBackend.
 */
export function readMembership(b: Backend): { members: Member[]; removed: bigint[]; version: string | undefined } {
  const tx = b.readTx();
  try {
    const members: Member[] = [];
    if (tx.hasBucket(MembersBucket)) {
      tx.unsafeForEach(MembersBucket, (k, v) => {
        const id = parseMemberKey(k);
        members.push(readStoredMember(v, id));
      });
    }
    const removed: bigint[] = [];
    if (tx.hasBucket(MembersRemovedBucket)) tx.unsafeForEach(MembersRemovedBucket, (k) => void removed.push(parseMemberKey(k)));
    let version: string | undefined;
    if (tx.hasBucket(ClusterBucket)) {
      const { values } = tx.unsafeRange(ClusterBucket, clusterVersionKey);
      if (values.length > 0) version = new TextDecoder().decode(values[0]!);
    }
    const cmp = (a: bigint, c: bigint): number => (a < c ? -1 : a > c ? 1 : 0);
    members.sort((x, y) => cmp(x.id, y.id));
    removed.sort(cmp);
    return { members, removed, version };
  } finally {
    tx.end();
  }
}

/** A stored member; its key and its JSON agree on the id. */
function readStoredMember(v: Uint8Array, id: bigint): Member {
  const m = decodeMemberJSON(v, id);
  if (m.id !== id) throw new Error(`membership: member key ${id.toString(16)} holds member ${m.id.toString(16)}`);
  return m;
}
