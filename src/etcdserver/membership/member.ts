/**
 * A cluster member (etcd server/etcdserver/api/membership/member.go): its id, raft attributes (peer
 * URLs, learner) and attributes (name, client URLs, set once the member has started).
 */

export interface Member {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

const utf8 = new TextEncoder();

/** The first 8 bytes of SHA-1 of `b`, big-endian, as etcd's ids. Web Crypto, so async. */
export async function sha1Id(b: Uint8Array): Promise<bigint> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", b as BufferSource));
  return new DataView(digest.buffer).getBigUint64(0, false);
}

/**
 * etcd's computeMemberID: SHA-1 of the sorted peer URLs joined, then the cluster token, then (for a
 * member added at runtime) the Unix time in seconds.
 */
export function computeMemberID(peerURLs: readonly string[], token: string, nowUnixSeconds?: number): Promise<bigint> {
  let s = [...peerURLs].sort().join("") + token;
  if (nowUnixSeconds !== undefined) s += String(Math.floor(nowUnixSeconds));
  return sha1Id(utf8.encode(s));
}

export async function newMember(
  name: string,
  peerURLs: readonly string[],
  token: string,
  nowUnixSeconds?: number,
  isLearner = false,
): Promise<Member> {
  const sorted = [...peerURLs].sort();
  return { id: await computeMemberID(sorted, token, nowUnixSeconds), name, peerURLs: sorted, clientURLs: [], isLearner };
}

/** etcd's Member.IsStarted: the member has published its name through raft. */
export function isStarted(m: Member): boolean {
  return m.name.length !== 0;
}

export { idString } from "../../pkg/types-id.js";
