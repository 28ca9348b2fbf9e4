/**
 * The Cluster service through the gateway (etcd server/etcdserver/api/v3rpc/member.go):
 * `/cluster/member/list|add|remove|update|promote`. MemberAdd's peer URLs must pass etcd's
 * types.NewURLs (http/https with host:port and no path, or unix/unixs), else
 * ErrGRPCMemberBadURLs; the server receives them as NewURLs returns them (sorted, as Go prints
 * them). MemberUpdate's URLs are not checked, as in etcd.
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import type { MemberAddRequest } from "../etcdserverpb/rpc.js";
// etcd's types.NewURLs (client/pkg/types); pure string code that lives with the flag parsing.
import { newURLs } from "../../pkg/urls.js";
import {
  MemberAddRequestJSON,
  MemberAddResponseJSON,
  MemberListRequestJSON,
  MemberListResponseJSON,
  MemberPromoteRequestJSON,
  MemberPromoteResponseJSON,
  MemberRemoveRequestJSON,
  MemberRemoveResponseJSON,
  MemberUpdateRequestJSON,
  MemberUpdateResponseJSON,
} from "./json.js";
import type { Route } from "./route.js";
import { ErrGRPCMemberBadURLs, type EtcdError } from "./rpctypes.js";
import { serveUnary } from "./runtime.js";

/** The peer URLs as types.NewURLs returns them, or undefined when NewURLs refuses them. */
function memberURLs(r: MemberAddRequest): string[] | undefined {
  try {
    return newURLs(r.peerURLs);
  } catch {
    return undefined;
  }
}

const checkMemberAdd = (r: MemberAddRequest): EtcdError | undefined => (memberURLs(r) === undefined ? ErrGRPCMemberBadURLs : undefined);

export function clusterRoutes(server: EtcdServerAPI): Route[] {
  return [
    {
      path: "/cluster/member/add",
      serve: (c) =>
        serveUnary(server, c, {
          req: MemberAddRequestJSON,
          resp: MemberAddResponseJSON,
          check: checkMemberAdd,
          call: (r) => server.memberAdd({ ...r, peerURLs: memberURLs(r)! }),
        }),
    },
    {
      path: "/cluster/member/remove",
      serve: (c) =>
        serveUnary(server, c, { req: MemberRemoveRequestJSON, resp: MemberRemoveResponseJSON, call: (r) => server.memberRemove(r) }),
    },
    {
      path: "/cluster/member/update",
      serve: (c) =>
        serveUnary(server, c, { req: MemberUpdateRequestJSON, resp: MemberUpdateResponseJSON, call: (r) => server.memberUpdate(r) }),
    },
    {
      path: "/cluster/member/list",
      serve: (c) =>
        serveUnary(server, c, { req: MemberListRequestJSON, resp: MemberListResponseJSON, call: (r) => server.memberList(r) }),
    },
    {
      path: "/cluster/member/promote",
      serve: (c) =>
        serveUnary(server, c, { req: MemberPromoteRequestJSON, resp: MemberPromoteResponseJSON, call: (r) => server.memberPromote(r) }),
    },
  ];
}
