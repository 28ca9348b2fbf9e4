// The gateway's streams through app.request() over a real single-member EtcdServer on a manual
// clock (its watch sync loop runs only when a test calls syncWatchers): watch (create, events, prev_kv,
// cancel, progress request, progress_notify ticks, fragment, compacted start, errors in the request
// stream) and lease keepalive (in order, TTL 0 for a missing lease, a failing renewal as the final
// error chunk, injected in front of the real server), each line checked byte for byte.
import { afterEach, describe, expect, it } from "vitest";
import { newGateway } from "../../../src/api/v3rpc/gateway.js";
import type { ServerConfig } from "../../../src/etcdserver/config.js";
import { ErrNoLeader } from "../../../src/etcdserver/errors.js";
import type { EtcdServer } from "../../../src/etcdserver/server.js";
import { b64, hdr, HDR, Lines, post, settle, startMember, withFaults, type Faults } from "../helpers.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const res = (json: string): string => `{"result":${json}}`;

/** A request whose body stays open: `write` sends more, `close` ends it. */
function openBody(): { body: ReadableStream<Uint8Array>; write: (s: string) => void; close: () => void } {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
  return { body, write: (s) => ctrl.enqueue(enc(s)), close: () => ctrl.close() };
}

const servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** A fresh member and its gateway, with the watch progress timers in `timers` and faults to inject. */
async function setup(over: Partial<ServerConfig> = {}) {
  const timers: { ms: number; fn: () => void }[] = [];
  const { s } = await startMember(over);
  servers.push(s);
  const faults: Faults = {};
  const app = newGateway(withFaults(s, faults), {
    setTimer: (ms, fn) => {
      const t = { ms, fn };
      timers.push(t);
      return () => void timers.splice(timers.indexOf(t), 1);
    },
  });
  const tick = (): void => {
    for (const t of timers.splice(0)) t.fn();
  };
  const putKV = async (k: string, v: string): Promise<void> => void (await post(app, "/v3/kv/put", `{"key":"${b64(k)}","value":"${b64(v)}"}`));
  return { s, app, tick, timers, putKV, faults };
}

describe("watch", () => {
  it("created first, then events (PUT type omitted, DELETE named), one line each", async () => {
    const { app, putKV } = await setup();
    const r = await post(app, "/v3/watch", `{"create_request":{"key":"${b64("foo")}"}}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    const lines = new Lines(r);
    expect(await lines.next()).toBe(res(`{"header":${hdr(1)},"created":true}`));
    await putKV("foo", "bar");
    expect(await lines.next()).toBe(
      res(`{"header":${hdr(2)},"events":[{"kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}]}`),
    );
    await post(app, "/v3/kv/deleterange", `{"key":"Zm9v"}`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(3)},"events":[{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"3"}}]}`));
    await lines.cancel();
  });

  it("several requests in one body: ids, prev_kv, filters, progress request, cancel (unknown id: no answer)", async () => {
    const { app, putKV } = await setup();
    await putKV("a", "1");
    const r = await post(
      app,
      "/v3/watch",
      `{"create_request":{"key":"${b64("a")}","prev_kv":true}}
       {"createRequest":{"key":"${b64("a")}","watchId":"7","filters":["NOPUT"]}}{"create_request":{"key":"${b64("a")}","watch_id":7}}
       {"create_request":{"key":"${b64("b")}","range_end":"${b64("a")}"}}
       {"cancel_request":{"watch_id":"0"}}{"cancel_request":{"watch_id":"5"}}{"progress_request":{}}`,
    );
    const lines = new Lines(r);
    expect(await lines.next()).toBe(res(`{"header":${hdr(2)},"created":true}`));
    expect(await lines.next()).toBe(res(`{"header":${hdr(2)},"watch_id":"7","created":true}`));
    expect(await lines.next()).toBe(
      res(`{"header":${hdr(2)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: duplicate watch ID provided on the WatchStream"}`),
    );
    expect(await lines.next()).toBe(
      res(`{"header":${hdr(2)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: watcher range is empty"}`),
    );
    expect(await lines.next()).toBe(res(`{"header":${hdr(2)},"canceled":true}`));
    expect(await lines.next()).toBe(res(`{"header":${hdr(2)},"watch_id":"-1"}`));
    await putKV("a", "2"); // watcher 7 filters puts; watcher 0 is cancelled
    await post(app, "/v3/kv/deleterange", `{"key":"${b64("a")}","prev_kv":true}`);
    expect(await lines.next()).toBe(
      res(`{"header":${hdr(4)},"watch_id":"7","events":[{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"4"}}]}`),
    );
    expect(await lines.quiet()).toBe(true);
    await lines.cancel();
  });

  it("prev_kv fills the previous value of an update", async () => {
    const { app, putKV } = await setup();
    await putKV("a", "1");
    const lines = new Lines(await post(app, "/v3/watch", `{"create_request":{"key":"${b64("a")}","prev_kv":true}}`));
    await lines.next();
    await putKV("a", "2");
    expect(await lines.next()).toBe(
      res(
        `{"header":${hdr(3)},"events":[{"kv":{"key":"YQ==","create_revision":"2","mod_revision":"3","version":"2","value":"Mg=="},"prev_kv":{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}}]}`,
      ),
    );
    await lines.cancel();
  });

  it("requests written later on an open body are served; the stream outlives the body", async () => {
    const { app, putKV } = await setup();
    const b = openBody();
    const p = app.request("/v3/watch", { method: "POST", body: b.body, duplex: "half" } as RequestInit);
    b.write(`{"create_request":{"key":"${b64("x")}"}}`);
    const lines = new Lines(await p);
    expect(await lines.next()).toBe(res(`{"header":${hdr(1)},"created":true}`));
    b.write(`{"create_request":{"key":"${b64("y")}"`);
    b.write(`}}\n`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(1)},"watch_id":"1","created":true}`));
    b.close();
    await putKV("y", "v");
    expect(await lines.next()).toBe(
      res(`{"header":${hdr(2)},"watch_id":"1","events":[{"kv":{"key":"eQ==","create_revision":"2","mod_revision":"2","version":"1","value":"dg=="}}]}`),
    );
    await lines.cancel();
  });

  it("a compacted start: created, then canceled with compact_revision (header without revision)", async () => {
    const { s, app, putKV } = await setup();
    await putKV("a", "1");
    await putKV("a", "2");
    await post(app, "/v3/kv/compaction", `{"revision":"3"}`);
    const lines = new Lines(await post(app, "/v3/watch", `{"create_request":{"key":"${b64("a")}","start_revision":"1"}}`));
    expect(await lines.next()).toBe(res(`{"header":${hdr(3)},"created":true}`));
    s.kv.syncWatchers();
    expect(await lines.next()).toBe(res(`{"header":{${HDR},"raft_term":"2"},"canceled":true,"compact_revision":"3"}`));
    await lines.cancel();
  });

  it("progress_notify: a quiet synced watcher gets a progress response per tick; one with events skips a tick", async () => {
    const { app, tick, putKV, timers } = await setup({ watchProgressNotifyInterval: 1000 });
    const lines = new Lines(await post(app, "/v3/watch", `{"create_request":{"key":"${b64("p")}","progress_notify":true}}`));
    await lines.next();
    expect(timers.map((t) => t.ms)).toEqual([1000]);
    tick();
    expect(await lines.next()).toBe(res(`{"header":${hdr(1)}}`));
    await putKV("p", "1");
    await lines.next();
    tick(); // events went out since the last tick: no progress
    expect(await lines.quiet()).toBe(true);
    tick();
    expect(await lines.next()).toBe(res(`{"header":${hdr(2)}}`));
    await lines.cancel();
  });

  /** Ten 60 KiB puts, then a watcher from revision 1: its catch-up response holds all ten events. */
  async function catchUp(fragment: boolean): Promise<{ fragment?: boolean; events: unknown[] }[]> {
    const { s, app } = await setup({ maxRequestBytes: 64 * 1024 });
    const v = b64("x".repeat(60 * 1024));
    for (let i = 0; i < 10; i++) expect((await post(app, "/v3/kv/put", `{"key":"${b64(`f${i}`)}","value":"${v}"}`)).status).toBe(200);
    const lines = new Lines(await post(app, "/v3/watch", `{"create_request":{"key":"${b64("f")}","range_end":"${b64("g")}","start_revision":"1","fragment":${fragment}}}`));
    await lines.next();
    s.kv.syncWatchers();
    const parts: { fragment?: boolean; events: unknown[] }[] = [];
    for (;;) {
      const m = JSON.parse((await lines.next())!) as { result: { fragment?: boolean; events: unknown[] } };
      parts.push(m.result);
      if (!m.result.fragment) break;
    }
    await lines.cancel();
    return parts;
  }

  it("fragment: a response larger than --max-request-bytes + 512 KiB comes in fragments, fragment:true on all but the last", async () => {
    // 576 KiB holds nine 60 KiB events.
    expect((await catchUp(true)).map((p) => [p.events.length, p.fragment ?? false])).toEqual([
      [9, true],
      [1, false],
    ]);
  });

  it("without fragment the same response is one", async () => {
    expect((await catchUp(false)).map((p) => [p.events.length, p.fragment ?? false])).toEqual([[10, false]]);
  });

  it("a bad first request is the gateway's error before streaming: 500, code Unknown", async () => {
    const { app } = await setup();
    const r = await post(app, "/v3/watch", `{"bad`);
    expect([r.status, await r.text()]).toEqual([500, `{"error":"unexpected EOF","code":2,"message":"unexpected EOF"}`]);
    const t = await post(app, "/v3/watch", `{"create_request":{"key":5}}`);
    expect([t.status, await t.text()]).toEqual([
      500,
      `{"error":"json: cannot unmarshal number into Go value of type []uint8","code":2,"message":"json: cannot unmarshal number into Go value of type []uint8"}`,
    ]);
  });

  it("a bad later request stops reading the body; the stream goes on", async () => {
    const { app, putKV } = await setup();
    const lines = new Lines(await post(app, "/v3/watch", `{"create_request":{"key":"${b64("k")}"}}{"bad{"create_request":{"key":"${b64("j")}"}}`));
    expect(await lines.next()).toBe(res(`{"header":${hdr(1)},"created":true}`));
    expect(await lines.quiet()).toBe(true);
    await putKV("k", "v");
    expect(await lines.next()).toMatch(/^\{"result":\{"header":.*"events":\[/);
    await lines.cancel();
  });

  it("closing the response cancels the session's watchers", async () => {
    const { s, app } = await setup();
    const lines = new Lines(await post(app, "/v3/watch", `{"create_request":{"key":"${b64("k")}"}}`));
    await lines.next();
    expect(s.kv.synced.size()).toBe(1);
    await lines.cancel();
    await settle();
    expect(s.kv.synced.size()).toBe(0);
  });
});

describe("lease keepalive", () => {
  it("answers each request in order; a missing lease has TTL 0 (omitted); the body's end ends the stream", async () => {
    const { app } = await setup();
    await post(app, "/v3/lease/grant", `{"TTL":"30","ID":"7"}`);
    const r = await post(app, "/v3/lease/keepalive", `{"ID":"7"}{"ID":8}`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(`${res(`{"header":${hdr(1)},"ID":"7","TTL":"30"}`)}\n${res(`{"header":${hdr(1)},"ID":"8"}`)}\n`);
  });

  it("an empty body: 200 and nothing", async () => {
    const { app } = await setup();
    const r = await post(app, "/v3/lease/keepalive", ``);
    expect([r.status, await r.text()]).toEqual([200, ""]);
  });

  it("a renewal error ends the stream with the final error chunk (status from it when nothing was sent)", async () => {
    const { app, faults } = await setup();
    faults.renew = ErrNoLeader;
    const r = await post(app, "/v3/lease/keepalive", `{"ID":"7"}`);
    expect([r.status, await r.text()]).toEqual([
      503,
      `{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}`,
    ]);
  });

  it("an error after a result: 200, the result line, then the error chunk", async () => {
    const { app, faults } = await setup();
    await post(app, "/v3/lease/grant", `{"TTL":"30","ID":"7"}`);
    const b = openBody();
    const p = app.request("/v3/lease/keepalive", { method: "POST", body: b.body, duplex: "half" } as RequestInit);
    b.write(`{"ID":"7"}`);
    const lines = new Lines(await p);
    expect(await lines.next()).toBe(res(`{"header":${hdr(1)},"ID":"7","TTL":"30"}`));
    faults.renew = ErrNoLeader;
    b.write(`{"ID":"7"}`);
    expect(await lines.next()).toBe(`{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}`);
    expect(await lines.next()).toBeUndefined();
  });

  it("snapshot: a failure midway is the final error chunk after the lines sent", async () => {
    const { app, faults } = await setup();
    faults.snapshot = ErrNoLeader;
    const r = await post(app, "/v3/maintenance/snapshot", ``);
    expect(r.status).toBe(200);
    const [first, last, ...rest] = (await r.text()).split("\n");
    expect(first).toMatch(/^\{"result":\{("remaining_bytes":"\d+",)?"blob":"[A-Za-z0-9+/]+=*"\}\}$/);
    expect([last, rest]).toEqual([`{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}`, []]);
  });
});
