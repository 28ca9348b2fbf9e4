/**
 * etcd's v3 JSON gateway as a Hono app (etcd server/embed/serve.go: grpc-gateway mux at `/v3/`,
 * wrapped in grpc-websocket-proxy, behind accessController): every route of kv.ts, watch.ts,
 * lease.ts, cluster.ts and maintenance.ts under `/v3`, and the same under `/v3beta` (which etcd 3.5
 * rewrites to `/v3`) and `/v3alpha` (3.2's prefix). POST only: another method on a known path is
 * 405 and an unknown path 404, as grpc-gateway's plain-text http.Error. `Upgrade: websocket` on
 * watch or lease keepalive goes to the runtime's injected `upgradeWebSocket`.
 *
 * CORS is etcd's accessController: every response carries the Allow-* headers and any OPTIONS
 * request is 200 with an empty body. {@link corsMiddleware} is exported for the client app.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { clusterRoutes } from "./cluster.js";
import { kvRoutes } from "./kv.js";
import { leaseRoutes } from "./lease.js";
import { maintenanceRoutes } from "./maintenance.js";
import type { Route } from "./route.js";
import { errorResponse, httpError, isWebSocketUpgrade, toEtcdError, type GatewayOptions } from "./runtime.js";
import { watchRoutes } from "./watch.js";

export type { GatewayOptions } from "./runtime.js";

/** The path prefixes the gateway answers on. */
export const GatewayPrefixes = ["/v3", "/v3beta", "/v3alpha"] as const;

/** etcd's accessController CORS headers: on every response, OPTIONS answered at once. */
export const corsMiddleware: MiddlewareHandler = async (c, next) => {
  const origin = c.req.header("origin");
  const set = (h: Headers): void => {
    h.set("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
    h.set("Access-Control-Allow-Origin", origin !== undefined && origin !== "" ? origin : "*");
    h.set("Access-Control-Allow-Headers", "accept, content-type, authorization");
  };
  if (c.req.method === "OPTIONS") {
    const r = new Response(null, { status: 200 });
    set(r.headers);
    return r;
  }
  await next();
  try {
    set(c.res.headers);
  } catch {
    // Immutable headers (a WebSocket upgrade response on some runtimes): leave them.
  }
};

/** Every gateway route of the server. */
export function gatewayRoutes(server: EtcdServerAPI, opts: GatewayOptions = {}): Route[] {
  return [
    ...kvRoutes(server),
    ...watchRoutes(server, opts),
    ...leaseRoutes(server, opts),
    ...clusterRoutes(server),
    ...maintenanceRoutes(server),
  ];
}

/** Mounts the gateway's routes on `app` (no CORS; see {@link newGateway}). */
export function mountGateway(app: Hono, server: EtcdServerAPI, opts: GatewayOptions = {}): void {
  for (const route of gatewayRoutes(server, opts)) {
    for (const prefix of GatewayPrefixes) {
      app.all(prefix + route.path, async (c) => {
        const upgrade = route.websocket === true && isWebSocketUpgrade(c.req.raw);
        if (c.req.method !== "POST" && !(upgrade && opts.upgradeWebSocket)) return httpError(405);
        try {
          return await route.serve(c, upgrade);
        } catch (err) {
          // Never a crash: anything a route did not turn into a response becomes the gateway's error.
          return errorResponse(toEtcdError(err));
        }
      });
    }
  }
}

/** The gateway alone: `/v3…` routes, CORS, 404 for anything else. */
export function newGateway(server: EtcdServerAPI, opts: GatewayOptions = {}): Hono {
  const app = new Hono();
  app.use("*", corsMiddleware);
  mountGateway(app, server, opts);
  app.notFound(() => httpError(404));
  app.onError((err) => errorResponse(toEtcdError(err)));
  return app;
}
