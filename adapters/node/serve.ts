/**
 * Serves a Hono app (anything with `fetch`) on one listen URL with @hono/node-server, with
 * WebSocket upgrades through `ws`. @hono/node-server 2.x carries Hono's `upgradeWebSocket` for
 * Node itself (over a `ws` WebSocketServer in noServer mode), so routes built with the exported
 * {@link upgradeWebSocket} get real sockets here; @hono/node-ws is not needed.
 */
import { serve, upgradeWebSocket as nodeUpgradeWebSocket, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { bindAddress } from "../../src/pkg/urls.js";
import { CorkingWebSocket } from "./corking-websocket.js";

/** Hono's UpgradeWebSocket for Node: pass it to the app factories that take one. */
export const upgradeWebSocket = nodeUpgradeWebSocket;

export interface FetchApp {
  fetch(request: Request, env?: unknown): Response | Promise<Response> | unknown;
}

/** How long close() lets open requests finish before cutting their connections (ms). */
export const closeGraceMs = 500;

export interface Listener {
  /** The URL served, as given (port 0 replaced by the port bound). */
  url: string;
  port: number;
  /** Stops accepting connections, closes WebSockets and idle keep-alive sockets. */
  close(): Promise<void>;
}

/**
 * Listens on `url` (http://host:port; "localhost" binds the loopback as Node resolves it) and
 * resolves once the socket is bound, or rejects with the bind error (EADDRINUSE…).
 */
export function serveURL(app: FetchApp, url: string): Promise<Listener> {
  const { scheme, host, port } = bindAddress(url);
  if (scheme !== "http") return Promise.reject(new Error(`${url}: only http:// listeners are supported`));
  const wss = new WebSocketServer({ noServer: true, WebSocket: CorkingWebSocket });
  return new Promise<Listener>((resolve, reject) => {
    let server: ServerType;
    const onError = (err: Error) => reject(err);
    server = serve(
      {
        fetch: app.fetch as (r: Request, env: unknown) => unknown,
        hostname: host === "" ? undefined : host,
        port,
        websocket: { server: wss },
      },
      (info: AddressInfo) => {
        server.off("error", onError);
        const bound = info.port;
        resolve({
          url: port === 0 ? url.replace(/:0$/, `:${bound}`) : url,
          port: bound,
          close: () =>
            new Promise<void>((done) => {
              for (const ws of wss.clients) ws.terminate();
              wss.close();
              server.close(() => done());
              // Node keeps idle keep-alive sockets open otherwise, delaying close.
              const s = server as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
              s.closeIdleConnections?.();
              // Streams (watch, keepalive) never end by themselves: etcd exits at once on a
              // signal; we give unary requests in flight a moment, then cut what is left.
              setTimeout(() => s.closeAllConnections?.(), closeGraceMs).unref();
            }),
        });
      },
    );
    server.once("error", onError);
  });
}
