/**
 * The Lease service through the gateway (etcd server/etcdserver/api/v3rpc/lease.go): grant, revoke,
 * timetolive (a lease that does not exist answers TTL -1, no error), leases, and the keepalive
 * stream (lease-keepalive-session.ts; HTTP stream or WebSocket). etcd's additional bindings
 * `/kv/lease/revoke`, `/kv/lease/timetolive` and `/kv/lease/leases` are aliases.
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { ErrLeaseNotFound } from "../../lease/errors.js";
import { newLeaseTimeToLiveResponse, newResponseHeader, type LeaseKeepAliveRequest } from "../etcdserverpb/rpc.js";
import { serveBidi, type BidiDef } from "./bidi-stream.js";
import {
  LeaseGrantRequestJSON,
  LeaseGrantResponseJSON,
  LeaseKeepAliveRequestJSON,
  LeaseKeepAliveResponseJSON,
  LeaseLeasesRequestJSON,
  LeaseLeasesResponseJSON,
  LeaseRevokeRequestJSON,
  LeaseRevokeResponseJSON,
  LeaseTimeToLiveRequestJSON,
  LeaseTimeToLiveResponseJSON,
} from "./json.js";
import { LeaseKeepAliveSession } from "./lease-keepalive-session.js";
import type { Route } from "./route.js";
import { ErrGRPCLeaseNotFound } from "./rpctypes.js";
import { serveUnary, toEtcdError, type GatewayOptions } from "./runtime.js";

/** The keepalive stream: answered in order; the body's end ends the stream once all are answered. */
export const leaseKeepAliveDef: BidiDef<LeaseKeepAliveRequest> = {
  codec: LeaseKeepAliveRequestJSON,
  open(server, out) {
    const s = new LeaseKeepAliveSession(
      server,
      (r) => out.send(LeaseKeepAliveResponseJSON.encode(r)),
      (e) => out.fail(e),
    );
    return {
      handle: (r) => void s.handle(r),
      bodyEnded: () => void s.drained().then(() => out.end()),
      close: () => s.close(),
    };
  },
};

export function leaseRoutes(server: EtcdServerAPI, opts: GatewayOptions): Route[] {
  const revoke: Route["serve"] = (c) =>
    serveUnary(server, c, {
      req: LeaseRevokeRequestJSON,
      resp: LeaseRevokeResponseJSON,
      proposal: true,
      call: (r) => server.leaseRevoke(r),
    });
  const timeToLive: Route["serve"] = (c) =>
    serveUnary(server, c, {
      req: LeaseTimeToLiveRequestJSON,
      resp: LeaseTimeToLiveResponseJSON,
      call: async (r) => {
        try {
          return await server.leaseTimeToLive(r);
        } catch (err) {
          if (err !== ErrLeaseNotFound && toEtcdError(err) !== ErrGRPCLeaseNotFound) throw err;
          return newLeaseTimeToLiveResponse({ header: newResponseHeader(server.header()), ID: r.ID, TTL: -1 });
        }
      },
    });
  const leases: Route["serve"] = (c) =>
    serveUnary(server, c, { req: LeaseLeasesRequestJSON, resp: LeaseLeasesResponseJSON, call: () => server.leaseLeases() });
  return [
    {
      path: "/lease/grant",
      serve: (c) =>
        serveUnary(server, c, {
          req: LeaseGrantRequestJSON,
          resp: LeaseGrantResponseJSON,
          proposal: true,
          call: (r) => server.leaseGrant(r),
        }),
    },
    { path: "/lease/revoke", serve: revoke },
    { path: "/kv/lease/revoke", serve: revoke },
    { path: "/lease/timetolive", serve: timeToLive },
    { path: "/kv/lease/timetolive", serve: timeToLive },
    { path: "/lease/leases", serve: leases },
    { path: "/kv/lease/leases", serve: leases },
    {
      path: "/lease/keepalive",
      websocket: true,
      serve: (c, upgrade) => serveBidi(server, c, leaseKeepAliveDef, opts, upgrade),
    },
  ];
}
