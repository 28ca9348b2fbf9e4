/**
 * etcd's cluster_util.go (3.5): what a member asks other members over the peer port before and
 * while it runs — the membership of an existing cluster (GET /members) when joining or checking
 * whether it was bootstrapped already, their versions (GET /version), and learner promotion
 * forwarded to the leader (POST /members/promote/<id>) — plus membership's
 * ValidateClusterAndAssignIDs. Every call takes an injected Web-standard `fetch`, never follows
 * redirects (etcd's http.ErrUseLastResponse) and bounds each request with `timeoutMs`.
 */
import { goQuote, type JValue, parseGoInt, unmarshalGoJSON } from "../pkg/go-json.js";
import { ErrLearnerNotReady, ErrTimeout } from "./errors.js";
import type { RaftCluster } from "./membership/cluster.js";
import { ErrIDNotFound, ErrMemberNotLearner } from "./membership/errors.js";
import type { Member } from "./membership/member.js";

/** `fetch` as these calls use it (Web-standard signature). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/** Where these calls write what went wrong (etcd's zap logger; fields as zap's). */
export interface ClusterUtilLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

const discard: ClusterUtilLogger = { warn() {} };

/** A remote cluster as GET /members shows it: the X-Etcd-Cluster-ID header and the members. */
export interface RemoteCluster {
  clusterID: bigint;
  /** As the remote listed them (sorted by id). */
  members: Member[];
}

/** etcd's version.Versions, the body of GET /version. */
export interface Versions {
  etcdserver: string;
  etcdcluster: string;
}

/** etcd GetClusterFromRemotePeers' per-request timeout (10 s). */
export const remotePeersTimeoutMs = 10_000;

const hex = (id: bigint): string => id.toString(16);
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function get(fetch: FetchFn, url: string, timeoutMs: number | undefined): Promise<{ resp: Response; text: string }> {
  const init: RequestInit = { method: "GET", redirect: "manual" };
  if (timeoutMs !== undefined) init.signal = AbortSignal.timeout(timeoutMs);
  const resp = await fetch(url, init);
  return { resp, text: await resp.text() };
}

/**
 * etcd's getClusterFromRemotePeers: GET `${u}/members` on each URL in turn; the first that answers
 * with a JSON member list and a cluster id header decides. Statuses are not looked at (a body that
 * is not a member list is skipped). Rejects with `failed to get raft cluster member(s) from the
 * given URLs` when that answer lists no members, and `could not retrieve cluster information from
 * the given URLs` when no URL answered usably. `logerr` false keeps the per-URL warnings quiet
 * (etcd's isMemberBootstrapped).
 */
export async function getClusterFromRemotePeers(
  fetch: FetchFn,
  urls: readonly string[],
  timeoutMs: number = remotePeersTimeoutMs,
  logger: ClusterUtilLogger = discard,
  logerr = true,
): Promise<RemoteCluster> {
  const lg = logerr ? logger : discard;
  for (const u of urls) {
    const addr = u + "/members";
    let resp: Response;
    let text: string;
    try {
      ({ resp, text } = await get(fetch, addr, timeoutMs));
    } catch (err) {
      lg.warn("failed to get cluster response", { address: addr, error: errorText(err) });
      continue;
    }
    let members: Member[];
    try {
      members = parseMembers(text);
    } catch (err) {
      lg.warn("failed to unmarshal cluster response", { address: addr, error: errorText(err) });
      continue;
    }
    const header = resp.headers.get("X-Etcd-Cluster-ID") ?? "";
    const clusterID = parseIDHex(header);
    if (clusterID === undefined) {
      lg.warn("failed to parse cluster ID", { address: addr, header, error: `invalid ID ${goQuote(header)}` });
      continue;
    }
    if (members.length > 0) return { clusterID, members };
    throw new Error("failed to get raft cluster member(s) from the given URLs");
  }
  throw new Error("could not retrieve cluster information from the given URLs");
}

/** etcd's getRemotePeerURLs: the peer URLs of every member but `localName`, sorted. */
export function getRemotePeerURLs(cluster: RaftCluster, localName: string): string[] {
  const us: string[] = [];
  for (const m of cluster.memberList()) if (m.name !== localName) us.push(...m.peerURLs);
  return us.sort();
}

/**
 * etcd's isMemberBootstrapped: whether the other members of `cluster` already know member
 * `memberName` as started (it has client URLs there). A `--initial-cluster-state new` member for
 * which this is true must refuse to start: `member <id> has already been bootstrapped`. False when
 * no remote answered.
 */
export async function isMemberBootstrapped(
  fetch: FetchFn,
  cluster: RaftCluster,
  memberName: string,
  timeoutMs: number,
  logger: ClusterUtilLogger = discard,
): Promise<boolean> {
  let rcl: RemoteCluster;
  try {
    rcl = await getClusterFromRemotePeers(fetch, getRemotePeerURLs(cluster, memberName), timeoutMs, logger, false);
  } catch {
    return false;
  }
  const local = cluster.memberByName(memberName);
  if (local === undefined) return false;
  const m = rcl.members.find((x) => x.id === local.id);
  return m !== undefined && m.clientURLs.length > 0;
}

/**
 * etcd's membership.ValidateClusterAndAssignIDs: `local` (from --initial-cluster) must describe the
 * same members as `existing` (from a remote's GET /members): as many members, and each existing
 * member's peer URLs equal (as sorted sets) to a local member's. The local members then take the
 * existing ids and `local` the existing cluster id (etcd's caller does the latter with SetID).
 * Throws `member count is unequal` or `PeerURLs: no match found for existing member (<id>, [<urls>]),
 * last resolver error (<err>)`.
 *
 * URLs are compared as strings, without etcd's DNS resolution of differing host names.
 */
export function validateClusterAndAssignIDs(local: RaftCluster, existing: RemoteCluster): void {
  const ems = [...existing.members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const lms = local.memberList();
  if (ems.length !== lms.length) throw new Error("member count is unequal");
  for (const em of ems) {
    let err: string | undefined;
    let ok = false;
    for (const lm of lms) {
      err = urlStringsMismatch(em.peerURLs, lm.peerURLs);
      if (err === undefined) {
        lm.id = em.id;
        ok = true;
        break;
      }
    }
    if (!ok) {
      throw new Error(
        `PeerURLs: no match found for existing member (${hex(em.id)}, [${em.peerURLs.join(" ")}]), last resolver error (${err ?? "<nil>"})`,
      );
    }
  }
  local.members.clear();
  for (const m of lms) local.members.set(m.id, m);
  local.clusterID = existing.clusterID;
}

/** etcd's netutil.URLStringsEqual without resolution: undefined when equal, else its error text. */
function urlStringsMismatch(a: readonly string[], b: readonly string[]): string | undefined {
  if (a.length !== b.length) return `len(${quoteList(a)}) != len(${quoteList(b)})`;
  const sa = [...a].sort();
  const sb = [...b].sort();
  for (let i = 0; i < sa.length; i++) {
    if (sa[i] !== sb[i]) return `resolved urls: ${goQuote(sa[i]!)} != ${goQuote(sb[i]!)}`;
  }
  return undefined;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function quoteList(a: readonly string[]): string {
  return `[${a.map(goQuote).join(" ")}]`;
}

/**
 * etcd's getVersion: GET `${u}/version` on each of `peerURLs` until one answers with a JSON body;
 * rejects with the last error (or `no peer URLs` when there are none).
 */
export async function getVersion(
  fetch: FetchFn,
  peerURLs: readonly string[],
  timeoutMs?: number,
  logger: ClusterUtilLogger = discard,
): Promise<Versions> {
  let last: unknown = new Error("no peer URLs");
  for (const u of peerURLs) {
    const addr = u + "/version";
    try {
      const { text } = await get(fetch, addr, timeoutMs);
      return parseVersions(text);
    } catch (err) {
      logger.warn("failed to get version", { address: addr, error: errorText(err) });
      last = err;
    }
  }
  throw last;
}

/**
 * etcd's getVersions: the versions of every member of `cluster` by id (hex); the local member's
 * are `local`, an unreachable member's undefined.
 */
export async function getVersions(
  fetch: FetchFn,
  cluster: RaftCluster,
  localID: bigint,
  local: Versions,
  timeoutMs?: number,
  logger: ClusterUtilLogger = discard,
): Promise<Map<string, Versions | undefined>> {
  const vers = new Map<string, Versions | undefined>();
  for (const m of cluster.memberList()) {
    if (m.id === localID) {
      vers.set(hex(m.id), local);
      continue;
    }
    try {
      vers.set(hex(m.id), await getVersion(fetch, m.peerURLs, timeoutMs, logger));
    } catch (err) {
      logger.warn("failed to get version", { "remote-member-id": hex(m.id), error: errorText(err) });
      vers.set(hex(m.id), undefined);
    }
  }
  return vers;
}

/**
 * etcd's promoteMemberHTTP, over each of the leader's peer URLs in turn: POST
 * `${u}/members/promote/<id decimal>`; resolves with the members after the promotion. The answers
 * etcd gives up on at once reject at once: 412 → ErrLearnerNotReady / ErrMemberNotLearner, 404 →
 * ErrIDNotFound; 408 or running out of `timeoutMs` → ErrTimeout. Other failures move on to the next
 * URL; after the last, the last failure (`member promote: unknown error(<body>)` or the fetch's).
 * The caller retries (etcd waits for a leader again until its request timeout).
 */
export async function promoteMemberHTTP(
  fetch: FetchFn,
  leaderPeerURLs: readonly string[],
  id: bigint,
  timeoutMs: number,
): Promise<Member[]> {
  const signal = AbortSignal.timeout(timeoutMs);
  let last: unknown = new Error("member promote: no leader peer URLs");
  for (const u of leaderPeerURLs) {
    if (signal.aborted) throw ErrTimeout;
    try {
      return await promoteAt(fetch, u, id, signal);
    } catch (err) {
      if (err === ErrLearnerNotReady || err === ErrIDNotFound || err === ErrMemberNotLearner || err === ErrTimeout) throw err;
      if (signal.aborted) throw ErrTimeout;
      last = err;
    }
  }
  throw last;
}

async function promoteAt(fetch: FetchFn, url: string, id: bigint, signal: AbortSignal): Promise<Member[]> {
  const resp = await fetch(`${url}/members/promote/${id.toString(10)}`, { method: "POST", redirect: "manual", signal });
  const text = await resp.text();
  if (resp.status === 408) throw ErrTimeout;
  if (resp.status === 412) {
    // Both errors share the status; etcd tells them apart by the body.
    if (text.includes(ErrLearnerNotReady.message)) throw ErrLearnerNotReady;
    if (text.includes(ErrMemberNotLearner.message)) throw ErrMemberNotLearner;
    throw new Error(`member promote: unknown error(${text})`);
  }
  if (resp.status === 404) throw ErrIDNotFound;
  if (resp.status !== 200) throw new Error(`member promote: unknown error(${text})`);
  return parseMembers(text);
}

// --- JSON, as Go's encoding/json reads it ---------------------------------------------------------

/** types.IDFromString: hexadecimal uint64 (strconv.ParseUint(s, 16, 64)). */
function parseIDHex(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F]+$/.test(s)) return undefined;
  const v = BigInt(`0x${s}`);
  return v < 1n << 64n ? v : undefined;
}

function typeErr(v: JValue, goType: string): Error {
  return new Error(`json: cannot unmarshal ${v.t} into Go value of type ${goType}`);
}

/** The object's entries by lower-cased key (Go matches field names case-insensitively; the last wins). */
function fields(v: JValue, goType: string): Map<string, JValue> {
  if (v.t !== "object") throw typeErr(v, goType);
  const out = new Map<string, JValue>();
  for (const [k, val] of v.entries) out.set(k.toLowerCase(), val);
  return out;
}

function str(v: JValue | undefined): string {
  if (v === undefined || v.t === "null") return "";
  if (v.t !== "string") throw typeErr(v, "string");
  return v.v;
}

function strs(v: JValue | undefined): string[] {
  if (v === undefined || v.t === "null") return [];
  if (v.t !== "array") throw typeErr(v, "[]string");
  return v.items.map((x) => str(x));
}

/**
 * A JSON array of membership.Member (`null` is an empty list): `id` a JSON number read as an exact
 * uint64. Throws on malformed JSON, on a value of the wrong type and on a null member.
 */
export function parseMembers(text: string): Member[] {
  const v = unmarshalGoJSON(text);
  if (v.t === "null") return [];
  if (v.t !== "array") throw typeErr(v, "[]*membership.Member");
  return v.items.map((item) => {
    if (item.t === "null") throw new Error("null member");
    const f = fields(item, "membership.Member");
    const idv = f.get("id");
    let id = 0n;
    if (idv !== undefined && idv.t !== "null") {
      if (idv.t !== "number") throw typeErr(idv, "types.ID");
      id = parseGoInt(idv.raw, "uint64");
    }
    const learner = f.get("islearner");
    if (learner !== undefined && learner.t !== "null" && learner.t !== "bool") throw typeErr(learner, "bool");
    return {
      id,
      name: str(f.get("name")),
      peerURLs: strs(f.get("peerurls")),
      clientURLs: strs(f.get("clienturls")),
      isLearner: learner?.t === "bool" ? learner.v : false,
    };
  });
}

/** version.Versions from JSON (`etcdserver`, `etcdcluster`; missing fields are ""). */
export function parseVersions(text: string): Versions {
  const v = unmarshalGoJSON(text);
  if (v.t === "null") return { etcdserver: "", etcdcluster: "" };
  const f = fields(v, "version.Versions");
  return { etcdserver: str(f.get("etcdserver")), etcdcluster: str(f.get("etcdcluster")) };
}
