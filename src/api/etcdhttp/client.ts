/**
 * The client port's HTTP app (etcd server/embed/serve.go: the client mux): the v3 gateway plus
 * `/health`, `/version` and `/metrics`, behind etcd's CORS handling; anything else is Go's 404
 * "404 page not found". The Node adapter serves it (passing its `upgradeWebSocket`).
 */
import { Hono } from "hono";
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { accessController, mountGateway, type GatewayOptions } from "../v3rpc/gateway.js";
import { errorResponse, httpError, toEtcdError } from "../v3rpc/runtime.js";
import { PathHealth, serveHealth } from "./health.js";
import { PathMetrics, serveMetrics } from "./metrics.js";
import { PathVersion, serveVersion } from "./version.js";

export type ClientAppOptions = GatewayOptions;

export function newClientApp(server: EtcdServerAPI, opts: ClientAppOptions = {}): Hono {
  const app = new Hono();
  app.use("*", accessController(opts));
  mountGateway(app, server, opts);
  app.all(PathHealth, (c) => serveHealth(server, c));
  app.all(PathVersion, (c) => serveVersion(server, c));
  app.all(PathMetrics, (c) => serveMetrics(server, c));
  app.notFound((c) =>
    c.req.path.startsWith("/v3")
      ? httpError(404)
      : new Response("404 page not found\n", {
          status: 404,
          headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" },
        }),
  );
  app.onError((err) => errorResponse(toEtcdError(err)));
  return app;
}
