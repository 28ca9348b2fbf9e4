/**
 * The cluster's membership (etcd's RaftCluster, cluster.go): members by id and the cluster id,
 * derived at bootstrap from the sorted member ids.
 */
import { type Member, newMember, sha1Id } from "./member.js";

export class RaftCluster {
  readonly members = new Map<bigint, Member>();
  clusterID = 0n;
  /** The cluster version ("3.5.0"), once the leader has set it through raft; undefined before. */
  version: string | undefined;
  /** Ids removed from the cluster; their messages are refused. */
  readonly removed = new Set<bigint>();

  /** Member ids, ascending. */
  memberIDs(): bigint[] {
    return [...this.members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Members sorted by id. */
  memberList(): Member[] {
    return this.memberIDs().map((id) => this.members.get(id)!);
  }

  member(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  memberByName(name: string): Member | undefined {
    for (const m of this.members.values()) if (m.name === name) return m;
    return undefined;
  }

  addMember(m: Member): void {
    this.members.set(m.id, m);
  }

  removeMember(id: bigint): void {
    this.members.delete(id);
    this.removed.add(id);
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
    c.addMember(m);
  }
  await c.genID();
  return c;
}
