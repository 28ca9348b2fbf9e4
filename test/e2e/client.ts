/**
 * HTTP and WebSocket client helpers for the end-to-end tests: raw POSTs (status and body text),
 * the member's header ids learnt once so expected bodies can be written byte for byte, a line
 * reader for streamed responses (HTTP watch/keepalive) and a message queue over a `ws` socket.
 */
import WebSocket from "ws";
import { Lines } from "../api/helpers.js";

export { Lines };

/** Status and body text of a POST with a raw body (as curl -d sends it). */
export async function call(base: string, path: string, body = ""): Promise<[number, string]> {
  const r = await fetch(base + path, { method: "POST", body });
  return [r.status, await r.text()];
}

/** etcd 3.5's unary error body. */
export const errBody = (code: number, m: string): string => `{"error":${JSON.stringify(m)},"code":${code},"message":${JSON.stringify(m)}}`;

/** The member's ids and term as its headers print them, and a header builder at a revision. */
export interface Ids {
  cluster: string;
  member: string;
  term: string;
  /** `{"cluster_id":…,"member_id":…,"revision":"<rev>","raft_term":…}` */
  hdr(rev: number): string;
}

export async function learnIds(base: string): Promise<Ids> {
  const [, text] = await call(base, "/v3/kv/range", `{"key":"AA=="}`);
  const h = (JSON.parse(text) as { header: { cluster_id: string; member_id: string; raft_term: string } }).header;
  return {
    cluster: h.cluster_id,
    member: h.member_id,
    term: h.raft_term,
    hdr: (rev) => `{"cluster_id":"${h.cluster_id}","member_id":"${h.member_id}","revision":"${rev}","raft_term":"${h.raft_term}"}`,
  };
}

/** The store's current revision (the header of a range on a key nobody writes). */
export async function currentRev(base: string): Promise<number> {
  const [, text] = await call(base, "/v3/kv/range", `{"key":"AA=="}`);
  return Number((JSON.parse(text) as { header: { revision: string } }).header.revision);
}

/** A streamed POST whose body stays open: `write` sends more requests, `close` ends the body. */
export function openStream(base: string, path: string): { lines: Promise<Lines>; write: (s: string) => void; close: () => void; abort: () => void } {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
  const ac = new AbortController();
  const lines = fetch(base + path, { method: "POST", body, duplex: "half", signal: ac.signal } as RequestInit).then((r) => new Lines(r));
  return {
    lines,
    write: (s) => ctrl.enqueue(new TextEncoder().encode(s)),
    close: () => ctrl.close(),
    abort: () => ac.abort(),
  };
}

/** A WebSocket to the gateway with its text messages queued in arrival order. */
export class WSClient {
  private readonly queue: string[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (d, isBinary) => {
      this.queue.push(isBinary ? `<binary>${d.toString()}` : d.toString());
      this.waiter?.();
    });
    ws.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(url: string): Promise<WSClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new WSClient(ws);
      ws.once("open", () => resolve(c));
      ws.once("error", reject);
    });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** The next message, or undefined once the socket closed with nothing queued. */
  async next(timeoutMs = 3000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m !== undefined) return m;
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no WebSocket message within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = undefined;
          r();
        };
      });
    }
  }

  /** Nothing arrives within `ms`. */
  async quiet(ms = 150): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.length === 0;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      if (this.ws.readyState === WebSocket.CLOSED) return r();
      this.ws.once("close", () => r());
      this.ws.close();
    });
  }
}

export const b64 = (s: string): string => Buffer.from(s).toString("base64");
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
