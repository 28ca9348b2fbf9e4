/**
 * A `ws` WebSocket that gathers the frames sent in one tick into one socket write. `ws` writes
 * each frame on its own (header and payload corked together, then uncorked): one writev syscall
 * per raft message. Here the first send of a tick corks the TCP socket and a process.nextTick
 * uncorks it, so a Ready's messages to one peer (and everything else sent on that socket until
 * the promise jobs of the tick have run) leave in one writev. Frames, their order and their bytes
 * are unchanged; only the write boundaries move. Used for dialed peer streams (peer-dialer.ts) and
 * for every socket the Node listeners accept (serve.ts).
 */
import type { Socket } from "node:net";
import WebSocket from "ws";

const uncork = (ws: CorkingWebSocket, socket: Socket): void => {
  ws.corked = false;
  socket.uncork();
};

export class CorkingWebSocket extends WebSocket {
  /** @internal A nextTick is pending to uncork the socket. */
  corked = false;

  // any: ws declares send with two overloads, passed on as they came.
  override send(data: any, options?: any, cb?: any): void {
    // ws keeps its net.Socket in `_socket` (set once the handshake is done); cork nests, so ws's
    // own cork/uncork around each frame no longer reaches the socket before ours is lifted.
    const socket = (this as unknown as { _socket?: Socket })._socket;
    if (!this.corked && socket !== undefined && this.readyState === WebSocket.OPEN) {
      this.corked = true;
      socket.cork();
      process.nextTick(uncork, this, socket);
    }
    super.send(data, options, cb);
  }
}
