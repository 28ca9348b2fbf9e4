/**
 * Membership in the backend (etcd 3.5's membership storage: the `members` bucket, key = the member
 * id in hex, value = the member as JSON; the cluster version in the `cluster` bucket), so a
 * restarted member knows its cluster without the initial-cluster flags.
 */
import { ClusterBucket, MembersBucket, type Backend, type BatchTx } from "../../storage/backend.js";
import type { Member } from "./member.js";

const utf8 = new TextEncoder();
const clusterVersionKey = utf8.encode("clusterVersion");

/** etcd's JSON of a member: {"id":…,"peerURLs":[…],"name":…,"clientURLs":[…],"isLearner":…}. */
function memberJSON(m: Member): string {
  return JSON.stringify({ id: m.id.toString(), peerURLs: m.peerURLs, name: m.name, clientURLs: m.clientURLs, isLearner: m.isLearner });
}

export function unsafeSaveMember(tx: BatchTx, m: Member): void {
  tx.createBucket(MembersBucket);
  tx.put(MembersBucket, utf8.encode(m.id.toString(16)), utf8.encode(memberJSON(m)));
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

/** The members and cluster version the backend holds (none when it was never written). */
export function readMembership(b: Backend): { members: Member[]; version: string | undefined } {
  const tx = b.readTx();
  try {
    const members: Member[] = [];
    if (tx.hasBucket(MembersBucket)) {
      tx.unsafeForEach(MembersBucket, (_k, v) => {
        const j = JSON.parse(new TextDecoder().decode(v)) as {
          id: string;
          peerURLs: string[];
          name: string;
          clientURLs: string[];
          isLearner: boolean;
        };
        members.push({ id: BigInt(j.id), name: j.name, peerURLs: j.peerURLs, clientURLs: j.clientURLs ?? [], isLearner: !!j.isLearner });
      });
    }
    let version: string | undefined;
    if (tx.hasBucket(ClusterBucket)) {
      const { values } = tx.unsafeRange(ClusterBucket, clusterVersionKey);
      if (values.length > 0) version = new TextDecoder().decode(values[0]!);
    }
    return { members, version };
  } finally {
    tx.end();
  }
}
