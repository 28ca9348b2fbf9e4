/**
 * A gateway route: a path under the version prefix (`/kv/range`), and how to serve it. Each service
 * file (kv.ts, watch.ts, lease.ts, cluster.ts, maintenance.ts) lists its routes; gateway.ts mounts
 * them under `/v3`, `/v3beta` and `/v3alpha`.
 */
import type { Context } from "hono";

export interface Route {
  /** Path after the version prefix, e.g. `/kv/range`. */
  path: string;
  /** Serves a POST (or, for a bidi stream, a WebSocket upgrade: `upgrade` true). */
  serve(c: Context, upgrade: boolean): Promise<Response> | Response;
  /** Also served as a WebSocket (grpc-websocket-proxy): watch and lease keepalive. */
  websocket?: boolean;
}
