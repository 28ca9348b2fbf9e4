/**
 * The peer port's HTTP app (etcd's newPeerHandler, server/etcdserver/api/etcdhttp/peer.go): the
 * transport's raft routes (src/rafthttp/handler.ts) and
 *
 *   GET  /members               the members as JSON, X-Etcd-Cluster-ID (joining, bootstrap checks)
 *   POST /members/promote/<id>  promote a learner here, on the leader (<id> decimal)
 *   GET  /members/hashkv        HashKV for corruption checks (etcd's corrupt.go; JSON request body,
 *                               or `?revision=N` where the runtime cannot carry a GET body)
 *   GET  /version               {"etcdserver":…,"etcdcluster":…}
 *   POST /leases, /leases/internal   lease forwarding (src/lease/leasehttp.ts)
 *
 * Paths match as Go's ServeMux registrations do: exact, except the `/members/promote/` subtree;
 * anything else is Go's 404 `404 page not found`. Error bodies are http.Error's: text and "\n".
 */
import { Hono } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import type { EtcdServerAPI, PeerServerAPI } from "../../etcdserver/api.js";
import { ErrLearnerNotReady } from "../../etcdserver/errors.js";
import { ErrIDNotFound, ErrMemberNotLearner } from "../../etcdserver/membership/errors.js";
import type { Member } from "../../etcdserver/membership/member.js";
import { LeaseInternalPrefix, LeasePrefix, newLeaseHandler } from "../../lease/leasehttp.js";
import type { Logger } from "../../logger/zap.js";
import { raftHandler } from "../../rafthttp/handler.js";
import { goJSONString, type JValue, parseGoInt, unmarshalGoJSON } from "../../pkg/go-json.js";
import { methodNotAllowed } from "./health.js";
import { PathVersion, serveVersion } from "./version.js";

export const PeerMembersPath = "/members";
export const PeerMemberPromotePrefix = "/members/promote/";
export const PeerHashKVPath = "/members/hashkv";

export interface PeerAppOptions {
  /** The runtime's WebSocket upgrade, for the raft streams. */
  upgradeWebSocket: UpgradeWebSocket<any>;
  logger?: Pick<Logger, "warn">;
}

const textHeaders = { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" };

/** Go's http.Error: `text` and a newline, as text/plain, with `headers` already set. */
function httpError(text: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, { status, headers: { ...headers, ...textHeaders } });
}

/** Go's http.NotFound. */
function notFound(): Response {
  return httpError("404 page not found", 404);
}

const hex = (id: bigint): string => id.toString(16);

/**
 * Go's encoding/json of a membership.Member: `id` as a JSON number (the exact uint64), then the
 * raft attributes (`peerURLs`, `isLearner` omitted when false), then the attributes (`name`,
 * `clientURLs`, each omitted when empty).
 */
export function memberJSON(m: Member): string {
  let s = `{"id":${m.id.toString(10)},"peerURLs":${stringsJSON(m.peerURLs)}`;
  if (m.isLearner) s += `,"isLearner":true`;
  if (m.name !== "") s += `,"name":${goJSONString(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":${stringsJSON(m.clientURLs)}`;
  return s + "}";
}

/** json.Encoder.Encode of a []*Member: `null` when empty (a nil slice), then a newline. */
export function membersJSON(ms: readonly Member[]): string {
  return (ms.length === 0 ? "null" : `[${ms.map(memberJSON).join(",")}]`) + "\n";
}

function stringsJSON(a: readonly string[]): string {
  return `[${a.map(goJSONString).join(",")}]`;
}

export function newPeerApp(server: PeerServerAPI, opts: PeerAppOptions): Hono {
  const warn = (msg: string, fields: Record<string, unknown>): void => opts.logger?.warn(msg, fields);
  const cidHeader = (): Record<string, string> => ({ "X-Etcd-Cluster-ID": hex(server.clusterID()) });
  const app = new Hono();

  app.route("/", raftHandler(server.rafthttp(), { upgradeWebSocket: opts.upgradeWebSocket }));

  app.all(PeerMembersPath, (c) => {
    if (c.req.method !== "GET") return methodNotAllowed("GET");
    return new Response(membersJSON(server.peerMembers()), {
      status: 200,
      headers: { ...cidHeader(), "Content-Type": "application/json" },
    });
  });

  app.all(`${PeerMemberPromotePrefix}*`, async (c) => {
    if (c.req.method !== "POST") return methodNotAllowed("POST");
    const h = cidHeader();
    const idStr = c.req.path.slice(PeerMemberPromotePrefix.length);
    const id = parseUint64Dec(idStr);
    if (id === undefined) return httpError(`member ${idStr} not found in cluster`, 404, h);
    let members: Member[];
    try {
      members = await server.promoteMemberLocal(id);
    } catch (err) {
      warn("failed to promote a member", { "member-id": hex(id), error: errorText(err) });
      if (err === ErrIDNotFound) return httpError(ErrIDNotFound.message, 404, h);
      if (err === ErrMemberNotLearner || err === ErrLearnerNotReady) return httpError((err as Error).message, 412, h);
      // etcd's WriteError: anything else is an httptypes.HTTPError 500 (JSON, no newline).
      return new Response(`{"message":"Internal Server Error"}`, {
        status: 500,
        headers: { ...h, "Content-Type": "application/json" },
      });
    }
    return new Response(membersJSON(members), { status: 200, headers: { ...h, "Content-Type": "application/json" } });
  });

  app.all(PeerHashKVPath, async (c) => {
    if (c.req.method !== "GET") return methodNotAllowed("GET");
    const gcid = c.req.header("X-Etcd-Cluster-ID") ?? "";
    if (gcid !== "" && gcid !== hex(server.clusterID())) return httpError("cluster ID mismatch", 412);
    let text: string;
    try {
      text = await c.req.text();
    } catch {
      return httpError("error reading body", 400);
    }
    // Web-standard Requests cannot carry a GET body (fetch refuses to send one, @hono/node-server
    // drops it), so an empty body may name the revision as `?revision=N` instead (edgecd only).
    const q = c.req.query("revision");
    if (text === "" && q !== undefined) text = `{"revision":${q}}`;
    let revision: number;
    try {
      revision = parseHashKVRequest(text);
    } catch (err) {
      warn("failed to unmarshal request", { error: errorText(err) });
      return httpError("error unmarshalling request", 400);
    }
    let resp;
    try {
      resp = await server.hashKV({ revision });
    } catch (err) {
      warn("failed to get hashKV", { "requested-revision": revision, error: errorText(err) });
      return httpError(errorText(err), 400);
    }
    // Go's json.Marshal of pb.HashKVResponse{Header: {Revision}, Hash, CompactRevision}: every
    // field omitempty, the header always present.
    const rev = resp.header.revision;
    let body = `{"header":{${rev !== 0 ? `"revision":${rev}` : ""}}`;
    if (resp.hash !== 0) body += `,"hash":${resp.hash}`;
    if (resp.compactRevision !== 0) body += `,"compact_revision":${resp.compactRevision}`;
    body += "}";
    return new Response(body, { status: 200, headers: { ...cidHeader(), "Content-Type": "application/json" } });
  });

  // serveVersion reads only `version()`, which PeerServerAPI has too.
  app.all(PathVersion, (c) => serveVersion(server as unknown as EtcdServerAPI, c));

  const leaseHandler = newLeaseHandler(server);
  app.all(LeasePrefix, (c) => leaseHandler(c.req.raw));
  app.all(LeaseInternalPrefix, (c) => leaseHandler(c.req.raw));

  app.notFound(() => notFound());
  app.onError((err) => {
    warn("peer handler failed", { error: errorText(err) });
    return httpError("Internal Server Error", 500);
  });
  return app;
}

/** strconv.ParseUint(s, 10, 64). */
function parseUint64Dec(s: string): bigint | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < 1n << 64n ? v : undefined;
}

/**
 * json.Unmarshal of a pb.HashKVRequest (`{"revision":N}`): keys match case-insensitively (the
 * last one wins), null leaves the zero value, unknown keys ignored; throws GoJSONError.
 */
function parseHashKVRequest(text: string): number {
  const v = unmarshalGoJSON(text);
  if (v.t === "null") return 0;
  if (v.t !== "object") throw new Error(`json: cannot unmarshal ${v.t} into Go value of type etcdserverpb.HashKVRequest`);
  let found: JValue | undefined;
  for (const [k, val] of v.entries) {
    if (k.toLowerCase() === "revision") found = val;
  }
  if (found === undefined || found.t === "null") return 0;
  if (found.t !== "number") throw new Error(`json: cannot unmarshal ${found.t} into Go struct field HashKVRequest.revision of type int64`);
  const rev = parseGoInt(found.raw, "int64");
  // Beyond the safe range a revision can only be in the future (or invalid): saturate.
  if (rev > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (rev < -BigInt(Number.MAX_SAFE_INTEGER)) return -Number.MAX_SAFE_INTEGER;
  return Number(rev);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
