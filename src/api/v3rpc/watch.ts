/**
 * The Watch service through the gateway (etcd server/etcdserver/api/v3rpc/watch.go): `/watch` as an
 * HTTP stream or a WebSocket, each over one {@link WatchSession}. The stream lasts until the client
 * goes away: the end of the request body only stops the requests (etcd's recvLoop returns on EOF
 * while sendLoop goes on).
 */
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import type { WatchRequest } from "../etcdserverpb/rpc.js";
import { serveBidi, type BidiDef } from "./bidi-stream.js";
import { WatchRequestJSON, WatchResponseJSON } from "./json.js";
import type { Route } from "./route.js";
import type { GatewayOptions } from "./runtime.js";
import { WatchSession } from "./watch-session.js";

export const watchDef: BidiDef<WatchRequest> = {
  codec: WatchRequestJSON,
  open(server, out, opts) {
    const s = new WatchSession(server, (r) => out.send(WatchResponseJSON.encode(r)), { setTimer: opts.setTimer });
    return {
      handle: (r) => s.handle(r),
      bodyEnded: () => {},
      close: () => s.close(),
    };
  },
};

export function watchRoutes(server: EtcdServerAPI, opts: GatewayOptions): Route[] {
  return [{ path: "/watch", websocket: true, serve: (c, upgrade) => serveBidi(server, c, watchDef, opts, upgrade) }];
}
