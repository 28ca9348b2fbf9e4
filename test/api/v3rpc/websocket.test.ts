// Watch and lease keepalive over a WebSocket through an injected upgradeWebSocket (a stand-in for
// the runtime's: it records the events), as grpc-websocket-proxy serves them: each
// client message is a request, each server message one `{"result":…}` text; several watches share
// one socket; a bad first message is answered with the gateway's error and the socket closed. The
// server is a real single member on a manual clock.
import { afterEach, describe, expect, it } from "vitest";
import type { UpgradeWebSocket, WSEvents } from "hono/ws";
import { WSContext, createWSMessageEvent } from "hono/ws";
import { newGateway } from "../../../src/api/v3rpc/gateway.js";
import type { EtcdServer } from "../../../src/etcdserver/server.js";
import { b64, hdr, post, settle, startMember } from "../helpers.js";

const servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function harness() {
  let events: WSEvents<unknown> | undefined;
  const upgradeWebSocket = ((create: (c: unknown) => WSEvents<unknown>) => async (c: unknown) => {
    events = create(c);
    // (A real adapter answers 101 its own way; undici's Response refuses status 101.)
    return new Response(null, { status: 200, headers: { "x-upgraded": "1" } });
  }) as unknown as UpgradeWebSocket<unknown>;
  const { s } = await startMember();
  servers.push(s);
  const app = newGateway(s, { upgradeWebSocket });
  const sent: string[] = [];
  let closed = false;
  const ws = new WSContext({ send: (d) => void sent.push(String(d)), close: () => void (closed = true), readyState: 1 });
  return {
    s,
    app,
    sent,
    isClosed: () => closed,
    async open(path: string) {
      const r = await app.request(path, { headers: { Upgrade: "websocket" } });
      expect(r.headers.get("x-upgraded")).toBe("1");
      events!.onOpen?.(new Event("open"), ws);
    },
    async msg(text: string) {
      events!.onMessage?.(createWSMessageEvent(text), ws);
      await settle();
    },
    close() {
      events!.onClose?.(new Event("close") as CloseEvent, ws);
    },
  };
}

describe("WebSocket transport", () => {
  it("watch: one request per message, several watches on one socket, events as text messages", async () => {
    const h = await harness();
    await h.open("/v3/watch");
    await h.msg(`{"create_request":{"key":"${b64("a")}"}}`);
    await h.msg(`{"create_request":{"key":"${b64("b")}"}}`);
    await post(h.app, "/v3/kv/put", `{"key":"${b64("b")}","value":"${b64("1")}"}`);
    await settle();
    expect(h.sent).toEqual([
      `{"result":{"header":${hdr(1)},"created":true}}`,
      `{"result":{"header":${hdr(1)},"watch_id":"1","created":true}}`,
      `{"result":{"header":${hdr(2)},"watch_id":"1","events":[{"kv":{"key":"Yg==","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}}]}}`,
    ]);
    expect(h.s.kv.synced.size()).toBe(2);
    h.close();
    expect(h.s.kv.synced.size()).toBe(0);
  });

  it("lease keepalive: each message answered", async () => {
    const h = await harness();
    await post(h.app, "/v3/lease/grant", `{"TTL":"30","ID":"7"}`);
    await h.open("/v3/lease/keepalive");
    await h.msg(`{"ID":"7"}`);
    await h.msg(`{"ID":"9"}`);
    expect(h.sent).toEqual([`{"result":{"header":${hdr(1)},"ID":"7","TTL":"30"}}`, `{"result":{"header":${hdr(1)},"ID":"9"}}`]);
    expect(h.isClosed()).toBe(false);
  });

  it("a bad first message: the gateway's error body, then the socket closes", async () => {
    const h = await harness();
    await h.open("/v3/watch");
    await h.msg(`{"create_request":{"key":5}}`);
    expect(h.sent).toEqual([
      `{"error":"json: cannot unmarshal number into Go value of type []uint8","code":2,"message":"json: cannot unmarshal number into Go value of type []uint8"}`,
    ]);
    expect(h.isClosed()).toBe(true);
  });

  it("without an injected upgradeWebSocket, an upgrade GET is 405", async () => {
    const { s } = await startMember();
    servers.push(s);
    const app = newGateway(s);
    expect((await app.request("/v3/watch", { headers: { Upgrade: "websocket" } })).status).toBe(405);
  });
});
