/**
 * The Cluster service through the gateway (etcd server/etcdserver/api/v3rpc/member.go). Only
 * MemberList is in the server API so far; add, remove, update and promote join when it has them.
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { MemberListRequestJSON, MemberListResponseJSON } from "./json.js";
import type { Route } from "./route.js";
import { serveUnary } from "./runtime.js";

export function clusterRoutes(server: EtcdServerAPI): Route[] {
  return [
    {
      path: "/cluster/member/list",
      serve: (c) =>
        serveUnary(server, c, { req: MemberListRequestJSON, resp: MemberListResponseJSON, call: (r) => server.memberList(r) }),
    },
  ];
}
