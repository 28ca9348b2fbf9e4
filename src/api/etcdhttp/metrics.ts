/** etcd's `/metrics`: the Prometheus text exposition of the server's metrics. */
import type { Context } from "hono";
import type { EtcdServerAPI } from "../../etcdserver/api.js";

export const PathMetrics = "/metrics";

/** promhttp's content type for the text format. */
export const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

export function serveMetrics(server: EtcdServerAPI, _c: Context): Response {
  let body: string;
  try {
    body = server.metrics();
  } catch (err) {
    return new Response(`An error has occurred while serving metrics:\n\n${String(err)}\n`, {
      status: 500,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
  return new Response(body, { status: 200, headers: { "Content-Type": MetricsContentType } });
}
