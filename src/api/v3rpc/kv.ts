/**
 * The KV service through the gateway (etcd server/etcdserver/api/v3rpc/key.go): range, put,
 * deleterange, txn, compaction, each checked as kvServer does (key.ts) before the server is called.
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import {
  CompactionRequestJSON,
  CompactionResponseJSON,
  DeleteRangeRequestJSON,
  DeleteRangeResponseJSON,
  PutRequestJSON,
  PutResponseJSON,
  RangeRequestJSON,
  RangeResponseJSON,
  TxnRequestJSON,
  TxnResponseJSON,
} from "./json.js";
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxn } from "./key.js";
import type { Route } from "./route.js";
import { serveUnary } from "./runtime.js";

export function kvRoutes(server: EtcdServerAPI): Route[] {
  return [
    {
      path: "/kv/range",
      serve: (c) =>
        serveUnary(server, c, {
          req: RangeRequestJSON,
          resp: RangeResponseJSON,
          check: checkRangeRequest,
          learner: (r) => r.serializable,
          call: (r) => server.range(r),
        }),
    },
    {
      path: "/kv/put",
      serve: (c) =>
        serveUnary(server, c, {
          req: PutRequestJSON,
          resp: PutResponseJSON,
          proposal: true,
          check: checkPutRequest,
          call: (r) => server.put(r),
        }),
    },
    {
      path: "/kv/deleterange",
      serve: (c) =>
        serveUnary(server, c, {
          req: DeleteRangeRequestJSON,
          resp: DeleteRangeResponseJSON,
          proposal: true,
          check: checkDeleteRequest,
          call: (r) => server.deleteRange(r),
        }),
    },
    {
      path: "/kv/txn",
      serve: (c) =>
        serveUnary(server, c, {
          req: TxnRequestJSON,
          resp: TxnResponseJSON,
          proposal: true,
          check: (r) => checkTxn(r, server.maxTxnOps()),
          call: (r) => server.txn(r),
        }),
    },
    {
      path: "/kv/compaction",
      serve: (c) =>
        serveUnary(server, c, {
          req: CompactionRequestJSON,
          resp: CompactionResponseJSON,
          proposal: true,
          call: (r) => server.compact(r),
        }),
    },
  ];
}
