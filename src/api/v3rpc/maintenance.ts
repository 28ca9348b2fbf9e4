/**
 * The Maintenance service through the gateway (etcd server/etcdserver/api/v3rpc/maintenance.go):
 * status, hash, hashkv (3.5.10's path; 3.4 served Hash at both), alarm, defragment,
 * transfer-leadership (MoveLeader: `{"targetID":"…"}`, answered `{}`: etcd sends no header), and the snapshot
 * stream: `{"result":{"remaining_bytes":…,"blob":…}}` lines, then the end (an error midway is the
 * final `{"error":{…}}` chunk).
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { newSnapshotResponse, type MoveLeaderResponse, type SnapshotResponse } from "../etcdserverpb/rpc.js";
import {
  AlarmRequestJSON,
  AlarmResponseJSON,
  DefragmentRequestJSON,
  DefragmentResponseJSON,
  HashKVRequestJSON,
  HashKVResponseJSON,
  HashRequestJSON,
  HashResponseJSON,
  MoveLeaderRequestJSON,
  MoveLeaderResponseJSON,
  SnapshotRequestJSON,
  SnapshotResponseJSON,
  StatusRequestJSON,
  StatusResponseJSON,
} from "./json.js";
import type { Route } from "./route.js";
import { bodyLimit, errorResponse, GatewayStream, readBody, serveUnary, toEtcdError } from "./runtime.js";

export function maintenanceRoutes(server: EtcdServerAPI): Route[] {
  return [
    {
      path: "/maintenance/status",
      serve: (c) =>
        serveUnary(server, c, { req: StatusRequestJSON, resp: StatusResponseJSON, learner: () => true, call: () => server.status() }),
    },
    {
      path: "/maintenance/hash",
      serve: (c) => serveUnary(server, c, { req: HashRequestJSON, resp: HashResponseJSON, call: () => server.hash() }),
    },
    {
      path: "/maintenance/hashkv",
      serve: (c) => serveUnary(server, c, { req: HashKVRequestJSON, resp: HashKVResponseJSON, call: (r) => server.hashKV(r) }),
    },
    {
      path: "/maintenance/alarm",
      serve: (c) =>
        serveUnary(server, c, {
          req: AlarmRequestJSON,
          resp: AlarmResponseJSON,
          proposal: true,
          call: (r) => server.alarm(r),
        }),
    },
    {
      path: "/maintenance/defragment",
      serve: (c) =>
        serveUnary(server, c, { req: DefragmentRequestJSON, resp: DefragmentResponseJSON, call: () => server.defragment() }),
    },
    {
      path: "/maintenance/transfer-leadership",
      serve: (c) =>
        serveUnary(server, c, {
          req: MoveLeaderRequestJSON,
          resp: MoveLeaderResponseJSON,
          // etcd answers MoveLeaderResponse{} with no header (unlike Downgrade, which fills one).
          call: async (r) => ({ ...(await server.moveLeader(r)), header: undefined }) as unknown as MoveLeaderResponse,
        }),
    },
    {
      path: "/maintenance/snapshot",
      serve: async (c) => {
        try {
          SnapshotRequestJSON.decode(await readBody(c.req.raw, bodyLimit(server)));
        } catch (err) {
          return errorResponse(toEtcdError(err));
        }
        const gs = new GatewayStream(c.req.raw.signal);
        let stop = false;
        gs.onCancel = () => {
          stop = true;
        };
        void (async () => {
          try {
            for await (const chunk of server.snapshot()) {
              if (stop) return;
              const resp: SnapshotResponse = newSnapshotResponse({ remainingBytes: chunk.remainingBytes, blob: chunk.blob });
              // etcd sends snapshot chunks without a header.
              gs.send(SnapshotResponseJSON.encode({ ...resp, header: undefined } as unknown as SnapshotResponse));
            }
            gs.end();
          } catch (err) {
            gs.fail(toEtcdError(err));
          }
        })();
        return gs.response;
      },
    },
  ];
}
