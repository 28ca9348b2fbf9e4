/**
 * etcd's v3 JSON gateway as a Hono app (etcd server/embed/serve.go: grpc-gateway mux at `/v3/`,
 * wrapped in grpc-websocket-proxy, behind accessController): every route of kv.ts, watch.ts,
 * lease.ts, cluster.ts and maintenance.ts under `/v3`, and the same under `/v3beta` (which etcd 3.5
 * rewrites to `/v3`) and `/v3alpha` (3.2's prefix). POST only: another method on a known path is
 * 405 and an unknown path 404, as grpc-gateway's plain-text http.Error. `Upgrade: websocket` on
 * watch or lease keepalive goes to the runtime's injected `upgradeWebSocket`.
 *
 * In front of it, etcd's accessController ({@link accessController}): the --host-whitelist check
 * (421) and CORS (--cors); any OPTIONS request is 200 with an empty body.
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

/** etcd's errCVE20185702: the body of a 421 for a Host not in --host-whitelist. */
export function errCVE20185702(host: string): string {
  return `
etcd received your request, but the Host header was unrecognized.

To fix this, choose one of the following options:
- Enable TLS, then any HTTPS request will be allowed.
- Add the hostname you want to use to the whitelist in settings.
  - e.g. etcd --host-whitelist ${JSON.stringify(host)}

This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).
`;
}

/** etcd's httputil.GetHostname: the Host header without its port. */
function hostname(host: string): string {
  const m = /^\[([^\]]*)\]:\d*$/.exec(host) ?? /^([^:]*):\d*$/.exec(host);
  return m ? m[1]! : host;
}

const allows = (list: readonly string[] | undefined, v: string): boolean =>
  list === undefined || list.length === 0 || list.includes("*") || list.includes(v);

/**
 * etcd's accessController (server/embed/serve.go): a plain-HTTP request whose Host is not in
 * --host-whitelist gets 421 with the CVE-2018-5702 text; CORS headers go on every response — origin
 * "*" when --cors allows every origin, else the request's Origin when listed, else none; any OPTIONS
 * request is 200 with an empty body.
 */
export function accessController(opts: Pick<GatewayOptions, "cors" | "hostWhitelist"> = {}): MiddlewareHandler {
  return async (c, next) => {
    // The Host header (a Node request's URL is built from it; Request objects made by hand lack one).
    const host = hostname(c.req.header("host") ?? new URL(c.req.url).host);
    if (!allows(opts.hostWhitelist, host)) {
      return new Response(errCVE20185702(host) + "\n", {
        status: 421,
        headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" },
      });
    }
    const origin = c.req.header("origin") ?? "";
    const allowOrigin = allows(opts.cors, "*") ? "*" : allows(opts.cors, origin) ? origin : undefined;
    const set = (h: Headers): void => {
      if (allowOrigin === undefined) return;
      h.set("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
      h.set("Access-Control-Allow-Origin", allowOrigin);
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
}

/** The access controller with etcd's defaults (every host, every origin). */
export const corsMiddleware: MiddlewareHandler = accessController();

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
  app.use("*", accessController(opts));
  mountGateway(app, server, opts);
  app.notFound(() => httpError(404));
  app.onError((err) => errorResponse(toEtcdError(err)));
  return app;
}
