// The v3 gateway's unary routes through app.request() against a real single-member EtcdServer
// (manual clock, so lease TTLs do not run down): etcd's JSON shapes byte for byte (reference §1.4
// examples, and bodies observed from etcd), every class of bad input with its status and body,
// aliases, 404/405 and CORS.
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newGateway } from "../../../src/api/v3rpc/gateway.js";
import type { EtcdServer } from "../../../src/etcdserver/server.js";
import { b64, call, hdr, HDR, post, startMember } from "../helpers.js";

let s: EtcdServer;
let app: Hono;

beforeAll(async () => {
  ({ s } = await startMember({ maxRequestBytes: 4096, maxTxnOps: 4 }));
  app = newGateway(s);
});

afterAll(async () => {
  await s.stop();
});

const err = (code: number, m: string): string => `{"error":${JSON.stringify(m)},"code":${code},"message":${JSON.stringify(m)}}`;

describe("KV shapes (reference §1.4)", () => {
  it("put, range, txn and a missing key answer etcd's exact bodies", async () => {
    expect(await call(app, "/v3/kv/put", `{"key":"${b64("foo")}","value":"${b64("bar")}"}`)).toEqual([200, `{"header":${hdr(2)}}`]);
    expect(await call(app, "/v3/kv/range", `{"key":"Zm9v"}`)).toEqual([
      200,
      `{"header":${hdr(2)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`,
    ]);
    expect(
      await call(
        app,
        "/v3/kv/txn",
        `{"compare":[{"target":"CREATE","key":"Zm9v","createRevision":"2"}],"success":[{"requestPut":{"key":"Zm9v","value":"YmFy"}},{"request_range":{"key":"Zm9v"}}]}`,
      ),
    ).toEqual([
      200,
      `{"header":${hdr(3)},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}},{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmFy"}],"count":"1"}}]}`,
    ]);
    expect(await call(app, "/v3/kv/range", `{"key":"${b64("nope")}"}`)).toEqual([200, `{"header":${hdr(3)}}`]);
    // A failed compare: succeeded false is omitted, as are the responses of an empty failure branch.
    expect(await call(app, "/v3/kv/txn", `{"compare":[{"target":"VERSION","key":"Zm9v","version":0}]}`)).toEqual([200, `{"header":${hdr(3)}}`]);
  });

  it("put with prev_kv, deleterange with prev_kv, keys_only, count_only, limit and more", async () => {
    expect(await call(app, "/v3/kv/put", `{"key":"${b64("foo")}","value":"${b64("baz")}","prev_kv":true}`)).toEqual([
      200,
      `{"header":${hdr(4)},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmFy"}}`,
    ]);
    await call(app, "/v3/kv/put", `{"key":"${b64("fop")}","value":"${b64("1")}"}`);
    expect(await call(app, "/v3/kv/range", `{"key":"${b64("fo")}","range_end":"${b64("fp")}","limit":1,"keys_only":true}`)).toEqual([
      200,
      `{"header":${hdr(5)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3"}],"more":true,"count":"2"}`,
    ]);
    expect(await call(app, "/v3/kv/range", `{"key":"${b64("fo")}","rangeEnd":"${b64("fp")}","countOnly":true}`)).toEqual([
      200,
      `{"header":${hdr(5)},"count":"2"}`,
    ]);
    // A negative limit is no limit, as etcd answers it.
    expect((await call(app, "/v3/kv/range", `{"key":"${b64("fo")}","range_end":"${b64("fp")}","limit":"-1","count_only":true}`))[0]).toBe(200);
    expect(await call(app, "/v3/kv/deleterange", `{"key":"${b64("fop")}","prev_kv":true}`)).toEqual([
      200,
      `{"header":${hdr(6)},"deleted":"1","prev_kvs":[{"key":"Zm9w","create_revision":"5","mod_revision":"5","version":"1","value":"MQ=="}]}`,
    ]);
  });

  it("compaction, and ranges at compacted and future revisions", async () => {
    expect(await call(app, "/v3/kv/compaction", `{"revision":"3"}`)).toEqual([200, `{"header":${hdr(6)}}`]);
    expect(await call(app, "/v3/kv/range", `{"key":"Zm9v","revision":"2"}`)).toEqual([
      400,
      err(11, "etcdserver: mvcc: required revision has been compacted"),
    ]);
    expect(await call(app, "/v3/kv/range", `{"key":"Zm9v","revision":"100"}`)).toEqual([
      400,
      err(11, "etcdserver: mvcc: required revision is a future revision"),
    ]);
    expect(await call(app, "/v3/kv/compaction", `{"revision":"100"}`)).toEqual([
      400,
      err(11, "etcdserver: mvcc: required revision is a future revision"),
    ]);
  });
});

describe("response headers", () => {
  it("a success carries the gRPC response header as grpc-gateway forwards it; an error does not", async () => {
    const ok = await app.request("/v3/kv/range", { method: "POST", body: `{"key":"YQ=="}` });
    expect([ok.status, ok.headers.get("content-type"), ok.headers.get("grpc-metadata-content-type")]).toEqual([200, "application/json", "application/grpc"]);
    const bad = await app.request("/v3/kv/range", { method: "POST", body: "{}" });
    expect([bad.status, bad.headers.get("content-type"), bad.headers.get("grpc-metadata-content-type")]).toEqual([400, "application/json", null]);
  });
});

describe("bad input (status and body as etcd's gateway)", () => {
  const cases: [string, string, number, string][] = [
    ["empty body: the empty request", "", 400, err(3, "etcdserver: key is not provided")],
    ["null: the empty request", "null", 400, err(3, "etcdserver: key is not provided")],
    ["truncated JSON", "{", 400, err(3, "unexpected EOF")],
    ["a bad character", `{"key":x}`, 400, err(3, "invalid character 'x' looking for beginning of value")],
    ["a UTF-8 byte order mark before the JSON", "\uFEFF{}", 400, err(3, "invalid character 'ï' looking for beginning of value")],
    ["a number for bytes", `{"key":5}`, 400, err(3, "json: cannot unmarshal number into Go value of type []uint8")],
    ["bad base64", `{"key":"!!"}`, 400, err(3, "illegal base64 data at input byte 0")],
    ["truncated base64", `{"key":"Zm9"}`, 400, err(3, "illegal base64 data at input byte 0")],
    ["a string that is no int64", `{"key":"Zm9v","limit":"x"}`, 400, err(3, "invalid character 'x' looking for beginning of value")],
    ["a fraction for an int64", `{"key":"Zm9v","limit":1.5}`, 400, err(3, "json: cannot unmarshal number 1.5 into Go value of type int64")],
    [
      "an int64 overflow",
      `{"key":"Zm9v","limit":"12345678901234567890"}`,
      400,
      err(3, "json: cannot unmarshal number 12345678901234567890 into Go value of type int64"),
    ],
    ["a string for a bool", `{"key":"Zm9v","serializable":"true"}`, 400, err(3, "json: cannot unmarshal string into Go value of type bool")],
    [
      "an unknown enum name",
      `{"key":"Zm9v","sort_order":"BAD"}`,
      400,
      err(3, `unknown value "\\"BAD\\"" for enum etcdserverpb.RangeRequest.SortOrder`),
    ],
    ["an array for the message", "[]", 400, err(3, "json: cannot unmarshal array into Go value of type map[string]json.RawMessage")],
    ["an enum number out of range (3.6's check)", `{"key":"Zm9v","sort_target":9}`, 400, err(3, "etcdserver: invalid sort option")],
  ];
  for (const [name, body, status, want] of cases) {
    it(name, async () => {
      expect(await call(app, "/v3/kv/range", body)).toEqual([status, want]);
    });
  }

  it("ignores unknown fields and text after the first value", async () => {
    expect((await call(app, "/v3/kv/range", `{"key":"Zm9v","unknown":{"a":[1]}} trailing`))[0]).toBe(200);
  });

  it("put checks: empty key, ignore_value with a value, ignore_lease with a lease, unknown lease", async () => {
    expect(await call(app, "/v3/kv/put", `{"value":"YQ=="}`)).toEqual([400, err(3, "etcdserver: key is not provided")]);
    expect(await call(app, "/v3/kv/put", `{"key":"YQ==","value":"YQ==","ignore_value":true}`)).toEqual([400, err(3, "etcdserver: value is provided")]);
    expect(await call(app, "/v3/kv/put", `{"key":"YQ==","lease":"5","ignore_lease":true}`)).toEqual([400, err(3, "etcdserver: lease is provided")]);
    expect(await call(app, "/v3/kv/put", `{"key":"YQ==","lease":"5"}`)).toEqual([404, err(5, "etcdserver: requested lease not found")]);
    expect(await call(app, "/v3/kv/put", `{"key":"bm9uZQ==","ignore_value":true}`)).toEqual([400, err(3, "etcdserver: key not found")]);
    expect(await call(app, "/v3/kv/deleterange", `{}`)).toEqual([400, err(3, "etcdserver: key is not provided")]);
  });

  it("txn checks: too many ops, duplicate key, an empty op, an empty compare key", async () => {
    const put = (k: string): string => `{"request_put":{"key":"${b64(k)}"}}`;
    expect(await call(app, "/v3/kv/txn", `{"success":[${["a", "b", "c", "d", "e"].map(put).join(",")}]}`)).toEqual([
      400,
      err(3, "etcdserver: too many operations in txn request"),
    ]);
    expect(await call(app, "/v3/kv/txn", `{"success":[${put("a")},${put("a")}]}`)).toEqual([
      400,
      err(3, "etcdserver: duplicate key given in txn request"),
    ]);
    expect(await call(app, "/v3/kv/txn", `{"success":[{}]}`)).toEqual([400, err(3, "etcdserver: key not found")]);
    expect(await call(app, "/v3/kv/txn", `{"compare":[{"target":"VALUE"}]}`)).toEqual([400, err(3, "etcdserver: key is not provided")]);
  });

  it("a request larger than --max-request-bytes is refused before it is proposed", async () => {
    const big = b64("x".repeat(5000));
    expect(await call(app, "/v3/kv/put", `{"key":"YQ==","value":"${big}"}`)).toEqual([400, err(3, "etcdserver: request is too large")]);
    // A range is not proposed: only gRPC's own limit (max + 512 KiB) applies.
    expect((await call(app, "/v3/kv/range", `{"key":"${big}"}`))[0]).toBe(200);
  });

  it("a message beyond gRPC's limit gets ResourceExhausted with its size, as etcd's gRPC server answers", async () => {
    const huge = `{"key":"${"A".repeat(3 * 1024 * 1024)}"}`;
    const max = 4096 + 512 * 1024;
    const size = 1 + 4 + (3 * 1024 * 1024 * 3) / 4; // tag, a 4-byte length, the decoded key
    expect(await call(app, "/v3/kv/range", huge)).toEqual([429, err(8, `grpc: received message larger than max (${size} vs. ${max})`)]);
  });

  it("a large body holding a small message passes, as etcd's gateway limits only the message", async () => {
    const padded = `{"key":"YQ==","unknownField":"${"x".repeat(5 * 1024 * 1024)}"}`;
    expect((await call(app, "/v3/kv/range", padded))[0]).toBe(200);
  });

  it("a body beyond 64 MiB is refused without being read whole", async () => {
    const huge = `{"key":"${"A".repeat(65 * 1024 * 1024)}"}`;
    expect(await call(app, "/v3/kv/range", huge)).toEqual([400, err(3, "etcdserver: request is too large")]);
  });
});

describe("lease routes", () => {
  it("grant, timetolive (and its alias), leases, revoke, a missing lease", async () => {
    expect(await call(app, "/v3/lease/grant", `{"TTL":"30","ID":"7"}`)).toEqual([200, `{"header":${hdr(6)},"ID":"7","TTL":"30"}`]);
    expect(await call(app, "/v3/lease/timetolive", `{"ID":"7","keys":true}`)).toEqual([
      200,
      `{"header":${hdr(6)},"ID":"7","TTL":"30","grantedTTL":"30"}`,
    ]);
    expect(await call(app, "/v3/kv/lease/timetolive", `{"ID":8}`)).toEqual([200, `{"header":${hdr(6)},"ID":"8","TTL":"-1"}`]);
    expect(await call(app, "/v3/lease/leases", `{}`)).toEqual([200, `{"header":${hdr(6)},"leases":[{"ID":"7"}]}`]);
    expect(await call(app, "/v3/kv/lease/leases", ``)).toEqual([200, `{"header":${hdr(6)},"leases":[{"ID":"7"}]}`]);
    expect(await call(app, "/v3/lease/grant", `{"TTL":"30","ID":"7"}`)).toEqual([400, err(9, "etcdserver: lease already exists")]);
    expect(await call(app, "/v3/lease/revoke", `{"ID":"8"}`)).toEqual([404, err(5, "etcdserver: requested lease not found")]);
    expect(await call(app, "/v3/kv/lease/revoke", `{"ID":"7"}`)).toEqual([200, `{"header":${hdr(6)}}`]);
    expect(await call(app, "/v3/lease/grant", `{"TTL":"9000000001"}`)).toEqual([400, err(11, "etcdserver: too large lease TTL")]);
  });
});

describe("cluster and maintenance routes", () => {
  it("member list", async () => {
    const [st, body] = await call(app, "/v3/cluster/member/list", `{}`);
    expect(st).toBe(200);
    expect(body).toBe(
      `{"header":{${HDR},"raft_term":"2"},"members":[{"ID":"10276657743932975437","name":"default","peerURLs":["http://localhost:2380"],"clientURLs":["http://localhost:2379"]}]}`,
    );
  });

  it("status, hash, hashkv, alarm, defragment", async () => {
    const [st, status] = await call(app, "/v3/maintenance/status", ``);
    expect(st).toBe(200);
    expect(status).toMatch(new RegExp(`^\\{"header":\\{${HDR},"revision":"6","raft_term":"2"\\},"version":"3\\.5\\.\\d+","dbSize":"\\d+","leader":"10276657743932975437","raftIndex":"\\d+","raftTerm":"2","raftAppliedIndex":"\\d+","dbSizeInUse":"\\d+"\\}$`));
    expect((await call(app, "/v3/maintenance/hash", ``))[1]).toMatch(new RegExp(`^\\{"header":${hdr(6).replace(/[{}]/g, "\\$&")},"hash":\\d+\\}$`));
    expect((await call(app, "/v3/maintenance/hashkv", `{"revision":"6"}`))[1]).toMatch(/^\{"header":\{.*\},"hash":\d+,"compact_revision":"3"(,"hash_revision":"6")?\}$/);
    expect((await call(app, "/v3/maintenance/alarm", `{"action":"GET"}`))[0]).toBe(200);
    expect(await call(app, "/v3/maintenance/alarm", `{"action":"BOGUS"}`)).toEqual([
      400,
      err(3, `unknown value "\\"BOGUS\\"" for enum etcdserverpb.AlarmRequest.AlarmAction`),
    ]);
    // etcd's Defragment answers a bare response: no header.
    expect(await call(app, "/v3/maintenance/defragment", ``)).toEqual([200, `{}`]);
  });

  it("snapshot streams the backend and its checksum, remaining_bytes counting down to zero", async () => {
    const r = await post(app, "/v3/maintenance/snapshot", "");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    const lines = (await r.text()).split("\n");
    expect(lines.at(-1)).toBe("");
    const msgs = lines.slice(0, -1).map((l) => JSON.parse(l) as { result: { remaining_bytes?: string; blob: string; header?: unknown } });
    expect(msgs.length).toBeGreaterThanOrEqual(2);
    for (const m of msgs) expect(m.result.header).toBeUndefined();
    expect(msgs.at(-1)!.result.remaining_bytes).toBeUndefined();
    expect(atob(msgs.at(-1)!.result.blob).length).toBe(32);
  });
});

describe("paths, methods, CORS", () => {
  it("serves every route under /v3beta and /v3alpha too", async () => {
    for (const p of ["/v3beta", "/v3alpha"]) {
      expect(await call(app, `${p}/kv/range`, `{"key":"${b64("nope")}"}`)).toEqual([200, `{"header":${hdr(6)}}`]);
    }
  });

  it("unknown path: 404 Not Found; known path, wrong method: 405", async () => {
    const r = await post(app, "/v3/kv/nothing", "{}");
    expect([r.status, await r.text(), r.headers.get("content-type")]).toEqual([404, "Not Found\n", "text/plain; charset=utf-8"]);
    const g = await app.request("/v3/kv/range");
    expect([g.status, await g.text()]).toEqual([405, "Method Not Allowed\n"]);
    const w = await app.request("/v3/watch", { method: "PUT" });
    expect(w.status).toBe(405);
  });

  it("CORS headers on every response; OPTIONS is 200 with an empty body", async () => {
    const o = await app.request("/v3/anything", { method: "OPTIONS", headers: { Origin: "http://x.example" } });
    expect(o.status).toBe(200);
    expect(await o.text()).toBe("");
    // etcd: with --cors "*" (the default) the answer is "*", not the request's origin.
    expect(o.headers.get("access-control-allow-origin")).toBe("*");
    expect(o.headers.get("access-control-allow-methods")).toBe("POST, GET, OPTIONS, PUT, DELETE");
    expect(o.headers.get("access-control-allow-headers")).toBe("accept, content-type, authorization");
    const r = await post(app, "/v3/kv/range", `{"key":"Zm9v"}`);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("content-type")).toBe("application/json");
    const e = await post(app, "/v3/kv/range", `{`);
    expect(e.headers.get("access-control-allow-origin")).toBe("*");
    const n = await post(app, "/v3/none", `{`);
    expect(n.headers.get("access-control-allow-methods")).toBe("POST, GET, OPTIONS, PUT, DELETE");
  });
});
