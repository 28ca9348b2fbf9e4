/**
 * etcd's `/health` (server/etcdserver/api/etcdhttp/health.go, 3.5 shape): GET only; 200
 * `{"health":"true","reason":""}` or 503 `{"health":"false","reason":"…"}`; `?serializable=true`
 * skips the leader check and reads locally (server.health decides both).
 */
import type { Context } from "hono";
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { goJSONString } from "../../pkg/go-json.js";

export const PathHealth = "/health";

export async function serveHealth(server: EtcdServerAPI, c: Context): Promise<Response> {
  if (c.req.method !== "GET") return methodNotAllowed("GET");
  const serializable = c.req.query("serializable") === "true";
  let h: { health: boolean; reason: string };
  try {
    h = await server.health(serializable);
  } catch (err) {
    h = { health: false, reason: `RANGE ERROR:${err instanceof Error ? err.message : String(err)}` };
  }
  const body = `{"health":"${h.health ? "true" : "false"}","reason":${goJSONString(h.reason)}}`;
  // 200: Go's sniffed type for the JSON text; 503: http.Error (text, nosniff, trailing newline).
  if (h.health) return new Response(body, { status: 200, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  return new Response(body + "\n", { status: 503, headers: plainText });
}

const plainText = { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" };

/** etcd's allowMethod: 405 with an Allow header, http.Error's "Method Not Allowed\n". */
export function methodNotAllowed(allow: string): Response {
  return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: allow, ...plainText } });
}
