/**
 * The Node PeerDialer over `ws` (Node 20 has no global WebSocket): dials a peer's raft stream,
 * turning a refused handshake into a PeerDialError with the peer's status and body.
 */
import WebSocket from "ws";
import { PeerDialError, type PeerConn, type PeerDialer } from "../../src/rafthttp/types.js";
import { CorkingWebSocket } from "./corking-websocket.js";

/** A `ws` socket as a PeerConn. */
export function wsPeerConn(ws: WebSocket): PeerConn {
  let frameFn: (frame: Uint8Array) => void = () => {};
  let closeFn: (reason?: Error) => void = () => {};
  let closed = false;
  let error: Error | undefined;
  const fireClose = (reason?: Error): void => {
    if (closed) return;
    closed = true;
    closeFn(reason);
  };
  ws.binaryType = "nodebuffer";
  ws.on("message", (data, isBinary) => {
    if (!isBinary) return;
    // nodebuffer: one Buffer per frame (fragmented frames arrive as an array).
    const b = Array.isArray(data) ? Buffer.concat(data) : (data as Buffer);
    frameFn(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  });
  ws.on("error", (err) => {
    error = err;
  });
  ws.on("close", () => fireClose(error));
  return {
    send(frame) {
      if (closed || ws.readyState !== WebSocket.OPEN) throw new Error("use of closed network connection");
      ws.send(frame, { binary: true });
    },
    bufferedAmount: () => ws.bufferedAmount,
    close() {
      // terminate, not close: a dead peer would never answer the closing handshake.
      ws.terminate();
      fireClose();
    },
    onFrame(fn) {
      frameFn = fn;
    },
    onClose(fn) {
      closeFn = fn;
    },
  };
}

export const nodePeerDialer: PeerDialer = {
  dial(url, headers, timeoutMs) {
    return new Promise<PeerConn>((resolve, reject) => {
      const ws = new CorkingWebSocket(url.replace(/^http/, "ws"), { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
      let settled = false;
      ws.once("open", () => {
        settled = true;
        resolve(wsPeerConn(ws));
      });
      ws.once("unexpected-response", (_req, res) => {
        // The peer answered the handshake with an HTTP status (404, 410, 412…): read its body.
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          settled = true;
          reject(new PeerDialError(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")));
          ws.terminate();
        });
        res.on("error", (err) => {
          settled = true;
          reject(err);
          ws.terminate();
        });
      });
      ws.on("error", (err) => {
        if (settled) return;
        settled = true;
        reject(err);
      });
    });
  },
};
