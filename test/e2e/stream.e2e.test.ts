/**
 * The gateway's streams on a real member: watch as an HTTP stream (create, events, several
 * requests in one body, requests written later on an open body, cancel, progress, prev_kv,
 * filters, a compacted start, a bad request) and over a WebSocket with several watches on one
 * socket; lease keepalive as an HTTP stream and over a WebSocket. Every line is checked byte for
 * byte (ids aside). Tests run in order on one store; revisions are relative to `currentRev()`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMember, type Member } from "./harness.js";
import { b64, call, currentRev, learnIds, Lines, openStream, WSClient, type Ids } from "./client.js";

let m: Member;
let B: string;
let WS: string;
let ids: Ids;
const hdr = (rev: number): string => ids.hdr(rev);
const res = (json: string): string => `{"result":${json}}`;
const kv = (k: string, v: string, create: number, mod: number, version: number): string =>
  `{"key":"${b64(k)}","create_revision":"${create}","mod_revision":"${mod}","version":"${version}","value":"${b64(v)}"}`;
const put = async (k: string, v: string): Promise<void> => {
  expect((await call(B, "/v3/kv/put", `{"key":"${b64(k)}","value":"${b64(v)}"}`))[0]).toBe(200);
};

beforeAll(async () => {
  m = await startMember();
  B = m.clientURL;
  WS = B.replace(/^http/, "ws");
  ids = await learnIds(B);
});

afterAll(async () => {
  expect(await m.stop()).toBe(0);
});

describe("watch over HTTP", () => {
  it("created first, then one line per event batch: PUT type omitted, DELETE named", async () => {
    const r = await currentRev(B);
    const w = await fetch(B + "/v3/watch", { method: "POST", body: `{"create_request":{"key":"${b64("w1")}"}}` });
    expect([w.status, w.headers.get("content-type")]).toEqual([200, "application/json"]);
    const lines = new Lines(w);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"created":true}`));
    await put("w1", "a");
    expect(await lines.next()).toBe(res(`{"header":${hdr(r + 1)},"events":[{"kv":${kv("w1", "a", r + 1, r + 1, 1)}}]}`));
    await call(B, "/v3/kv/deleterange", `{"key":"${b64("w1")}"}`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r + 2)},"events":[{"type":"DELETE","kv":{"key":"${b64("w1")}","mod_revision":"${r + 2}"}}]}`));
    // A txn touching two watched keys is one batch.
    await call(B, "/v3/kv/txn", `{"success":[{"request_put":{"key":"${b64("w1")}","value":"${b64("x")}"}},{"request_put":{"key":"${b64("w2")}"}}]}`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r + 3)},"events":[{"kv":${kv("w1", "x", r + 3, r + 3, 1)}}]}`));
    await lines.cancel();
  });

  it("several requests in one body: ids, a duplicate id, an empty range, prev_kv, filters, cancel, progress", async () => {
    await put("a", "1");
    const r = await currentRev(B);
    const w = await fetch(B + "/v3/watch", {
      method: "POST",
      body: `{"create_request":{"key":"${b64("a")}","prev_kv":true}}
        {"createRequest":{"key":"${b64("a")}","watchId":"7","filters":["NOPUT"]}}{"create_request":{"key":"${b64("a")}","watch_id":7}}
        {"create_request":{"key":"${b64("b")}","range_end":"${b64("a")}"}}
        {"create_request":{"key":"${b64("p/")}","range_end":"${b64("p0")}"}}
        {"cancel_request":{"watch_id":"99"}}{"progress_request":{}}`,
    });
    const lines = new Lines(w);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"created":true}`));
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"7","created":true}`));
    expect(await lines.next()).toBe(
      res(`{"header":${hdr(r)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: duplicate watch ID provided on the WatchStream"}`),
    );
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: watcher range is empty"}`));
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"1","created":true}`));
    // The unknown id's cancel has no answer; the progress request answers with watch_id -1.
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"-1"}`));
    await put("a", "2"); // watch 0 sees it with prev_kv; watch 7 filters puts out
    expect(await lines.next()).toBe(
      res(`{"header":${hdr(r + 1)},"events":[{"kv":${kv("a", "2", r, r + 1, 2)},"prev_kv":${kv("a", "1", r, r, 1)}}]}`),
    );
    await put("p/x", "3");
    expect(await lines.next()).toBe(res(`{"header":${hdr(r + 2)},"watch_id":"1","events":[{"kv":${kv("p/x", "3", r + 2, r + 2, 1)}}]}`));
    await call(B, "/v3/kv/deleterange", `{"key":"${b64("a")}"}`);
    const del = `{"type":"DELETE","kv":{"key":"${b64("a")}","mod_revision":"${r + 3}"}`;
    const got = [await lines.next(), await lines.next()].sort();
    expect(got).toEqual(
      [
        res(`{"header":${hdr(r + 3)},"events":[${del},"prev_kv":${kv("a", "2", r, r + 1, 2)}}]}`),
        res(`{"header":${hdr(r + 3)},"watch_id":"7","events":[${del}}]}`),
      ].sort(),
    );
    expect(await lines.quiet(150)).toBe(true);
    await lines.cancel();
  });

  it("requests written later on an open body: create, cancel (answered), progress; the stream outlives the body", async () => {
    const r = await currentRev(B);
    const s = openStream(B, "/v3/watch");
    s.write(`{"create_request":{"key":"${b64("o1")}"}}`);
    const lines = await s.lines;
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"created":true}`));
    s.write(`{"create_request":{"key":"${b64("o2")}"`);
    s.write(`}}\n`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"1","created":true}`));
    s.write(`{"cancel_request":{"watch_id":"0"}}`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"canceled":true}`));
    await put("o2", "v");
    expect(await lines.next()).toBe(res(`{"header":${hdr(r + 1)},"watch_id":"1","events":[{"kv":${kv("o2", "v", r + 1, r + 1, 1)}}]}`));
    s.write(`{"progress_request":{}}`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r + 1)},"watch_id":"-1"}`));
    s.close();
    await put("o1", "cancelled: no event");
    await put("o2", "w");
    expect(await lines.next()).toBe(res(`{"header":${hdr(r + 3)},"watch_id":"1","events":[{"kv":${kv("o2", "w", r + 1, r + 3, 2)}}]}`));
    await lines.cancel();
  });

  it("a start revision in the past replays history; a compacted one is cancelled with compact_revision", async () => {
    const r = await currentRev(B);
    await put("h", "1");
    await put("h", "2");
    const replay = new Lines(await fetch(B + "/v3/watch", { method: "POST", body: `{"create_request":{"key":"${b64("h")}","start_revision":"${r + 1}"}}` }));
    expect(await replay.next()).toBe(res(`{"header":${hdr(r + 2)},"created":true}`));
    expect(await replay.next()).toBe(
      res(`{"header":${hdr(r + 2)},"events":[{"kv":${kv("h", "1", r + 1, r + 1, 1)}},{"kv":${kv("h", "2", r + 1, r + 2, 2)}}]}`),
    );
    await replay.cancel();
    expect((await call(B, "/v3/kv/compaction", `{"revision":"${r + 2}","physical":true}`))[0]).toBe(200);
    const old = new Lines(await fetch(B + "/v3/watch", { method: "POST", body: `{"create_request":{"key":"${b64("h")}","start_revision":"${r + 1}"}}` }));
    expect(await old.next()).toBe(res(`{"header":${hdr(r + 2)},"created":true}`));
    expect(await old.next()).toBe(res(`{"header":{"cluster_id":"${ids.cluster}","member_id":"${ids.member}","raft_term":"${ids.term}"},"canceled":true,"compact_revision":"${r + 2}"}`));
    await old.cancel();
  });

  // etcd ≥ 3.5.8 answers a progress request only when every watcher of the stream is synced, on
  // the first of them (mvcc watchableStore.progressIfSync); with none there is no answer (3.4 did answer).
  it("a progress request on a stream without watchers gets no answer; with one it does", async () => {
    const r = await currentRev(B);
    const s = openStream(B, "/v3/watch");
    s.write(`{"progress_request":{}}`);
    // (As grpc-gateway, the response starts with its first message, so nothing can be read yet.)
    await new Promise((resolve) => setTimeout(resolve, 200));
    s.write(`{"create_request":{"key":"${b64("pr")}"}}{"progress_request":{}}`);
    const lines = await s.lines;
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"created":true}`));
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"-1"}`));
    expect(await lines.quiet(150)).toBe(true);
    s.close();
    await lines.cancel();
  });

  it("a bad first request: the gateway's error before streaming (500, code Unknown); nothing watched", async () => {
    const w = await fetch(B + "/v3/watch", { method: "POST", body: `{"create_request":{"key":5}}` });
    expect([w.status, await w.text()]).toEqual([
      500,
      `{"error":"json: cannot unmarshal number into Go value of type []uint8","code":2,"message":"json: cannot unmarshal number into Go value of type []uint8"}`,
    ]);
    expect(await metric("etcd_debugging_mvcc_watcher_total")).toBe(0);
  });

  it("closing the response removes the session's watchers", async () => {
    const lines = new Lines(await fetch(B + "/v3/watch", { method: "POST", body: `{"create_request":{"key":"eg=="}}{"create_request":{"key":"eQ=="}}` }));
    await lines.next();
    await lines.next();
    expect(await metric("etcd_debugging_mvcc_watcher_total")).toBe(2);
    await lines.cancel();
    for (let i = 0; i < 50 && (await metric("etcd_debugging_mvcc_watcher_total")) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await metric("etcd_debugging_mvcc_watcher_total")).toBe(0);
  });
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(B + "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

describe("watch over a WebSocket", () => {
  it("several watches on one socket; one text message per response; cancel and progress", async () => {
    const r = await currentRev(B);
    const ws = await WSClient.open(`${WS}/v3/watch`);
    ws.send(`{"create_request":{"key":"${b64("s1")}"}}`);
    expect(await ws.next()).toBe(res(`{"header":${hdr(r)},"created":true}`));
    ws.send(`{"create_request":{"key":"${b64("s2")}","prev_kv":true}}`);
    expect(await ws.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"1","created":true}`));
    ws.send(`{"create_request":{"key":"${b64("s")}","range_end":"${b64("t")}","watch_id":"10"}}`);
    expect(await ws.next()).toBe(res(`{"header":${hdr(r)},"watch_id":"10","created":true}`));
    await put("s2", "v");
    const ev = `{"kv":${kv("s2", "v", r + 1, r + 1, 1)}}`;
    expect([await ws.next(), await ws.next()].sort()).toEqual(
      [res(`{"header":${hdr(r + 1)},"watch_id":"1","events":[${ev}]}`), res(`{"header":${hdr(r + 1)},"watch_id":"10","events":[${ev}]}`)].sort(),
    );
    ws.send(`{"cancel_request":{"watch_id":"10"}}`);
    expect(await ws.next()).toBe(res(`{"header":${hdr(r + 1)},"watch_id":"10","canceled":true}`));
    ws.send(`{"progress_request":{}}`);
    expect(await ws.next()).toBe(res(`{"header":${hdr(r + 1)},"watch_id":"-1"}`));
    await put("s1", "w");
    expect(await ws.next()).toBe(res(`{"header":${hdr(r + 2)},"events":[{"kv":${kv("s1", "w", r + 2, r + 2, 1)}}]}`));
    expect(await ws.quiet()).toBe(true);
    expect(await metric("etcd_debugging_mvcc_watcher_total")).toBe(2);
    await ws.close();
    for (let i = 0; i < 50 && (await metric("etcd_debugging_mvcc_watcher_total")) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await metric("etcd_debugging_mvcc_watcher_total")).toBe(0);
  });

  it("two sockets are independent sessions (ids start at 0 on each)", async () => {
    const r = await currentRev(B);
    const [a, b] = await Promise.all([WSClient.open(`${WS}/v3/watch`), WSClient.open(`${WS}/v3beta/watch`)]);
    a.send(`{"create_request":{"key":"${b64("q")}"}}`);
    b.send(`{"create_request":{"key":"${b64("q")}"}}`);
    expect(await a.next()).toBe(res(`{"header":${hdr(r)},"created":true}`));
    expect(await b.next()).toBe(res(`{"header":${hdr(r)},"created":true}`));
    await Promise.all([a.close(), b.close()]);
  });

  it("a bad first message: the gateway's error, then the socket closes", async () => {
    const ws = await WSClient.open(`${WS}/v3/watch`);
    ws.send(`{"create_request":{"key":5}}`);
    expect(await ws.next()).toBe(
      `{"error":"json: cannot unmarshal number into Go value of type []uint8","code":2,"message":"json: cannot unmarshal number into Go value of type []uint8"}`,
    );
    expect(await ws.next()).toBeUndefined();
    expect(ws.closed).toBe(true);
  });
});

describe("lease keepalive", () => {
  it("HTTP: each request answered in order; a missing lease has TTL 0 (omitted); the body's end ends the stream", async () => {
    const r = await currentRev(B);
    expect((await call(B, "/v3/lease/grant", `{"TTL":"30","ID":"42"}`))[0]).toBe(200);
    const k = await fetch(B + "/v3/lease/keepalive", { method: "POST", body: `{"ID":"42"}{"ID":43}\n{"ID":"42"}` });
    expect([k.status, k.headers.get("content-type")]).toEqual([200, "application/json"]);
    expect(await k.text()).toBe(
      [res(`{"header":${hdr(r)},"ID":"42","TTL":"30"}`), res(`{"header":${hdr(r)},"ID":"43"}`), res(`{"header":${hdr(r)},"ID":"42","TTL":"30"}`), ""].join("\n"),
    );
  });

  it("HTTP: requests on an open body are answered as they come", async () => {
    const r = await currentRev(B);
    const s = openStream(B, "/v3/lease/keepalive");
    s.write(`{"ID":"42"}`);
    const lines = await s.lines;
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"ID":"42","TTL":"30"}`));
    expect(await lines.quiet(100)).toBe(true);
    s.write(`{"ID":"42"}`);
    expect(await lines.next()).toBe(res(`{"header":${hdr(r)},"ID":"42","TTL":"30"}`));
    s.close();
    expect(await lines.next()).toBeUndefined();
  });

  it("WebSocket: each message answered", async () => {
    const r = await currentRev(B);
    const ws = await WSClient.open(`${WS}/v3/lease/keepalive`);
    ws.send(`{"ID":"42"}`);
    expect(await ws.next()).toBe(res(`{"header":${hdr(r)},"ID":"42","TTL":"30"}`));
    ws.send(`{"ID":"44"}`);
    expect(await ws.next()).toBe(res(`{"header":${hdr(r)},"ID":"44"}`));
    await ws.close();
  });
});
