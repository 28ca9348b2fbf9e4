/** etcd's `/version` (server/etcdserver/api/etcdhttp/version.go): GET only, `{"etcdserver":…,"etcdcluster":…}`. */
import type { Context } from "hono";
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { goJSONString } from "../../pkg/go-json.js";
import { methodNotAllowed } from "./health.js";

export const PathVersion = "/version";

export function serveVersion(server: EtcdServerAPI, c: Context): Response {
  if (c.req.method !== "GET") return methodNotAllowed("GET");
  const v = server.version();
  const body = `{"etcdserver":${goJSONString(v.etcdserver)},"etcdcluster":${goJSONString(v.etcdcluster)}}`;
  return new Response(body, { status: 200, headers: { "Content-Type": "application/json" } });
}
