/**
 * One real edgecd member (default flags) driven over HTTP with fetch, as curl and etcd's clients
 * drive etcd: every unary gateway route with etcd 3.5's exact JSON
 * (ids aside: they follow from the member's random peer URL, so they are learnt once and spliced
 * in), bad input classes with etcd's status and body and no write, the /v3beta and /v3alpha
 * aliases, 404/405, CORS, /health, /version and /metrics. Streams (watch, keepalive, snapshot,
 * WebSocket) are in stream.e2e.test.ts, the README's curl walkthrough in readme.e2e.test.ts; limits and signals in their own files, each with its own
 * member so the files run in parallel.
 *
 * The tests of this file run in order against one store, so revisions are written relative to
 * `currentRev()` where earlier tests could move them.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMember, type Member } from "./harness.js";
import { b64, call, currentRev, errBody, learnIds, Lines, type Ids } from "./client.js";

let m: Member;
let B: string;
let ids: Ids;
const hdr = (rev: number): string => ids.hdr(rev);
const kv = (k: string, v: string, create: number, mod: number, version: number, lease?: string): string =>
  `{"key":"${b64(k)}","create_revision":"${create}","mod_revision":"${mod}","version":"${version}","value":"${b64(v)}"${lease ? `,"lease":"${lease}"` : ""}}`;

beforeAll(async () => {
  m = await startMember();
  B = m.clientURL;
  ids = await learnIds(B);
});

afterAll(async () => {
  expect(await m.stop()).toBe(0);
});

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("KV routes: etcd's exact bodies", () => {
  it("the reference §1.4 examples: put, range, txn with camelCase input; a missing key is a bare header", async () => {
    const r = await currentRev(B);
    expect(await call(B, "/v3/kv/put", `{"key":"${b64("ex")}","value":"YmFy"}`)).toEqual([200, `{"header":${hdr(r + 1)}}`]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("ex")}"}`)).toEqual([200, `{"header":${hdr(r + 1)},"kvs":[${kv("ex", "bar", r + 1, r + 1, 1)}],"count":"1"}`]);
    expect(
      await call(B, "/v3/kv/txn", `{"compare":[{"target":"CREATE","key":"${b64("ex")}","createRevision":"${r + 1}"}],"success":[{"requestPut":{"key":"${b64("ex")}","value":"YmFy"}}]}`),
    ).toEqual([200, `{"header":${hdr(r + 2)},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"${r + 2}"}}}]}`]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("missing")}"}`)).toEqual([200, `{"header":${hdr(r + 2)}}`]);
  });

  it("range options: limit/more/count, sort, keys_only, count_only, an old revision, mod-revision filters, serializable", async () => {
    const r = await currentRev(B);
    for (const [k, v] of [["r/a", "1"], ["r/b", "2"], ["r/c", "3"]]) await call(B, "/v3/kv/put", `{"key":"${b64(k!)}","value":"${b64(v!)}"}`);
    await call(B, "/v3/kv/put", `{"key":"${b64("r/a")}","value":"${b64("4")}"}`);
    const [a, bb, c] = [kv("r/a", "4", r + 1, r + 4, 2), kv("r/b", "2", r + 2, r + 2, 1), kv("r/c", "3", r + 3, r + 3, 1)];
    const pre = `"key":"${b64("r/")}","range_end":"${b64("r0")}"`;
    expect(await call(B, "/v3/kv/range", `{${pre},"limit":"2"}`)).toEqual([200, `{"header":${hdr(r + 4)},"kvs":[${a},${bb}],"more":true,"count":"3"}`]);
    expect(await call(B, "/v3/kv/range", `{${pre},"sort_order":"DESCEND","sort_target":"KEY"}`)).toEqual([200, `{"header":${hdr(r + 4)},"kvs":[${c},${bb},${a}],"count":"3"}`]);
    // A target other than KEY with order NONE sorts ascending; MOD puts r/a (modified last) last.
    expect(await call(B, "/v3/kv/range", `{${pre},"sortTarget":"MOD"}`)).toEqual([200, `{"header":${hdr(r + 4)},"kvs":[${bb},${c},${a}],"count":"3"}`]);
    expect(await call(B, "/v3/kv/range", `{${pre},"keys_only":true,"limit":1}`)).toEqual([
      200,
      `{"header":${hdr(r + 4)},"kvs":[{"key":"${b64("r/a")}","create_revision":"${r + 1}","mod_revision":"${r + 4}","version":"2"}],"more":true,"count":"3"}`,
    ]);
    expect(await call(B, "/v3/kv/range", `{${pre},"count_only":true}`)).toEqual([200, `{"header":${hdr(r + 4)},"count":"3"}`]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("r/a")}","revision":"${r + 1}"}`)).toEqual([
      200,
      `{"header":${hdr(r + 4)},"kvs":[${kv("r/a", "1", r + 1, r + 1, 1)}],"count":"1"}`,
    ]);
    expect(await call(B, "/v3/kv/range", `{${pre},"min_mod_revision":"${r + 3}"}`)).toEqual([200, `{"header":${hdr(r + 4)},"kvs":[${a},${c}],"count":"3"}`]);
    expect(await call(B, "/v3/kv/range", `{${pre},"serializable":true,"max_mod_revision":"${r + 2}"}`)).toEqual([200, `{"header":${hdr(r + 4)},"kvs":[${bb}],"count":"3"}`]);
    // range_end "\0": every key >= key.
    const [, all] = await call(B, "/v3/kv/range", `{"key":"${b64("r/b")}","range_end":"AA==","keys_only":true}`);
    expect((JSON.parse(all) as { kvs: { key: string }[] }).kvs.map((x) => atob(x.key)).slice(0, 2)).toEqual(["r/b", "r/c"]);
  });

  it("put prev_kv, ignore_value; deleterange of a prefix with prev_kvs", async () => {
    const r = await currentRev(B);
    await call(B, "/v3/kv/put", `{"key":"${b64("d/1")}","value":"${b64("a")}"}`);
    expect(await call(B, "/v3/kv/put", `{"key":"${b64("d/1")}","value":"${b64("b")}","prev_kv":true}`)).toEqual([
      200,
      `{"header":${hdr(r + 2)},"prev_kv":${kv("d/1", "a", r + 1, r + 1, 1)}}`,
    ]);
    expect(await call(B, "/v3/kv/put", `{"key":"${b64("d/1")}","ignore_value":true}`)).toEqual([200, `{"header":${hdr(r + 3)}}`]);
    await call(B, "/v3/kv/put", `{"key":"${b64("d/2")}","value":"${b64("c")}"}`);
    expect(await call(B, "/v3/kv/deleterange", `{"key":"${b64("d/")}","range_end":"${b64("d0")}","prev_kv":true}`)).toEqual([
      200,
      `{"header":${hdr(r + 5)},"deleted":"2","prev_kvs":[${kv("d/1", "b", r + 1, r + 3, 3)},${kv("d/2", "c", r + 4, r + 4, 1)}]}`,
    ]);
    // Deleting nothing does not move the revision.
    expect(await call(B, "/v3/kv/deleterange", `{"key":"${b64("d/")}","range_end":"${b64("d0")}"}`)).toEqual([200, `{"header":${hdr(r + 5)}}`]);
  });

  // A nested txn's header stays empty: etcd's applyTxn sets only the outer header's revision
  // (newTxnResp gives every TxnResponse `&pb.ResponseHeader{}`).
  it("txn: the failure branch, a zero oneof compare, nested txn and delete responses", async () => {
    const r = await currentRev(B);
    const t = b64("t");
    // version == 0 (a missing key): the oneof member is set though zero.
    expect(
      await call(B, "/v3/kv/txn", `{"compare":[{"key":"${t}","target":"VERSION","result":"NOT_EQUAL","version":"0"}],"success":[{"request_put":{"key":"${t}"}}],"failure":[{"request_put":{"key":"${t}","value":"${b64("v")}"}},{"request_range":{"key":"${t}"}}]}`),
    ).toEqual([
      200,
      `{"header":${hdr(r + 1)},"responses":[{"response_put":{"header":{"revision":"${r + 1}"}}},{"response_range":{"header":{"revision":"${r + 1}"},"kvs":[${kv("t", "v", r + 1, r + 1, 1)}],"count":"1"}}]}`,
    ]);
    expect(
      await call(B, "/v3/kv/txn", `{"compare":[{"key":"${t}","target":"VALUE","value":"${b64("v")}"}],"success":[{"request_txn":{"success":[{"request_delete_range":{"key":"${t}","prev_kv":true}}]}}]}`),
    ).toEqual([
      200,
      `{"header":${hdr(r + 2)},"succeeded":true,"responses":[{"response_txn":{"header":{},"succeeded":true,"responses":[{"response_delete_range":{"header":{"revision":"${r + 2}"},"deleted":"1","prev_kvs":[${kv("t", "v", r + 1, r + 1, 1)}]}}]}}]}`,
    ]);
  });

  it("compaction: old revisions are gone (OutOfRange 400), future revisions refused", async () => {
    const r = await currentRev(B);
    await call(B, "/v3/kv/put", `{"key":"${b64("c")}","value":"${b64("1")}"}`);
    await call(B, "/v3/kv/put", `{"key":"${b64("c")}","value":"${b64("2")}"}`);
    expect(await call(B, "/v3/kv/compaction", `{"revision":"${r + 2}","physical":true}`)).toEqual([200, `{"header":${hdr(r + 2)}}`]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("c")}","revision":"${r + 1}"}`)).toEqual([400, errBody(11, "etcdserver: mvcc: required revision has been compacted")]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("c")}","revision":"${r + 2}"}`)).toEqual([200, `{"header":${hdr(r + 2)},"kvs":[${kv("c", "2", r + 1, r + 2, 2)}],"count":"1"}`]);
    expect(await call(B, "/v3/kv/compaction", `{"revision":"${r + 1}"}`)).toEqual([400, errBody(11, "etcdserver: mvcc: required revision has been compacted")]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("c")}","revision":"${r + 100}"}`)).toEqual([400, errBody(11, "etcdserver: mvcc: required revision is a future revision")]);
    expect(await call(B, "/v3/kv/compaction", `{"revision":"${r + 100}"}`)).toEqual([400, errBody(11, "etcdserver: mvcc: required revision is a future revision")]);
  });
});

describe("bad input: etcd's status and body, and nothing written", () => {
  const cases: [string, string, string, number, string][] = [
    ["malformed JSON", "/v3/kv/put", `{"key":"YQ==","value":`, 400, errBody(3, "unexpected EOF")],
    ["a bad character", "/v3/kv/put", `{"key":x}`, 400, errBody(3, "invalid character 'x' looking for beginning of value")],
    ["a number for bytes", "/v3/kv/put", `{"key":5,"value":"YQ=="}`, 400, errBody(3, "json: cannot unmarshal number into Go value of type []uint8")],
    ["bad base64", "/v3/kv/put", `{"key":"YQ==","value":"!!"}`, 400, errBody(3, "illegal base64 data at input byte 0")],
    ["a string for a bool", "/v3/kv/put", `{"key":"YQ==","prev_kv":"yes"}`, 400, errBody(3, "json: cannot unmarshal string into Go value of type bool")],
    ["a fraction for an int64", "/v3/kv/put", `{"key":"YQ==","lease":1.5}`, 400, errBody(3, "json: cannot unmarshal number 1.5 into Go value of type int64")],
    ["an array for the message", "/v3/kv/txn", `[]`, 400, errBody(3, "json: cannot unmarshal array into Go value of type map[string]json.RawMessage")],
    ["an empty key", "/v3/kv/put", `{"value":"YQ=="}`, 400, errBody(3, "etcdserver: key is not provided")],
    ["an empty body", "/v3/kv/put", ``, 400, errBody(3, "etcdserver: key is not provided")],
    ["an unknown lease", "/v3/kv/put", `{"key":"YQ==","lease":"12345"}`, 404, errBody(5, "etcdserver: requested lease not found")],
    ["ignore_value with a value", "/v3/kv/put", `{"key":"YQ==","value":"YQ==","ignore_value":true}`, 400, errBody(3, "etcdserver: value is provided")],
    ["ignore_value on a missing key", "/v3/kv/put", `{"key":"${b64("nokey")}","ignore_value":true}`, 400, errBody(3, "etcdserver: key not found")],
    ["an empty key in a txn's second op", "/v3/kv/txn", `{"success":[{"request_put":{"key":"YQ=="}},{"request_put":{}}]}`, 400, errBody(3, "etcdserver: key is not provided")],
    ["a duplicate key in a txn", "/v3/kv/txn", `{"success":[{"request_put":{"key":"YQ=="}},{"request_delete_range":{"key":"YQ=="}}]}`, 400, errBody(3, "etcdserver: duplicate key given in txn request")],
    ["an empty txn op", "/v3/kv/txn", `{"success":[{"request_put":{"key":"YQ=="}},{}]}`, 400, errBody(3, "etcdserver: key not found")],
    ["a bad enum in a txn compare", "/v3/kv/txn", `{"compare":[{"key":"YQ==","target":"NOPE"}],"success":[{"request_put":{"key":"YQ=="}}]}`, 400, errBody(3, `unknown value "\\"NOPE\\"" for enum etcdserverpb.Compare.CompareTarget`)],
    ["an empty key to delete", "/v3/kv/deleterange", `{"prev_kv":true}`, 400, errBody(3, "etcdserver: key is not provided")],
    ["a lease TTL too large", "/v3/lease/grant", `{"TTL":"9000000001"}`, 400, errBody(11, "etcdserver: too large lease TTL")],
  ];
  for (const [name, path, body, status, want] of cases) {
    it(`${name} (${path})`, async () => {
      const r = await currentRev(B);
      expect(await call(B, path, body)).toEqual([status, want]);
      expect(await currentRev(B)).toBe(r);
      expect(await call(B, "/v3/kv/range", `{"key":"YQ=="}`)).toEqual([200, `{"header":${hdr(r)}}`]);
    });
  }

  it("range: negative limit is no limit; unknown fields and text after the value are ignored", async () => {
    await call(B, "/v3/kv/put", `{"key":"${b64("n/1")}"}`);
    await call(B, "/v3/kv/put", `{"key":"${b64("n/2")}"}`);
    const r = await currentRev(B);
    const body = `{"header":${hdr(r)},"count":"2"}`;
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("n/")}","range_end":"${b64("n0")}","limit":"-1","count_only":true}`)).toEqual([200, body]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("n/")}","range_end":"${b64("n0")}","count_only":true,"bogus":{"x":[1,2]},"ttl":"x"} trailing`)).toEqual([200, body]);
    // An unknown field on a write: the put is done.
    expect(await call(B, "/v3/kv/put", `{"key":"${b64("n/3")}","nonsense":true}`)).toEqual([200, `{"header":${hdr(r + 1)}}`]);
  });
});

describe("lease routes and their /v3/kv/lease aliases", () => {
  it("grant with an id, timetolive with keys, leases, revoke; a missing lease; an existing id", async () => {
    const r = await currentRev(B);
    expect(await call(B, "/v3/lease/grant", `{"TTL":"30","ID":"1234"}`)).toEqual([200, `{"header":${hdr(r)},"ID":"1234","TTL":"30"}`]);
    expect(await call(B, "/v3/lease/grant", `{"TTL":"30","ID":"1234"}`)).toEqual([400, errBody(9, "etcdserver: lease already exists")]);
    await call(B, "/v3/kv/put", `{"key":"${b64("l/2")}","lease":"1234"}`);
    await call(B, "/v3/kv/put", `{"key":"${b64("l/1")}","lease":"1234"}`);
    const [, t] = await call(B, "/v3/kv/lease/timetolive", `{"ID":"1234","keys":true}`);
    expect(t).toMatch(new RegExp(`^\\{"header":${esc(hdr(r + 2))},"ID":"1234","TTL":"(29|30)","grantedTTL":"30","keys":\\["${esc(b64("l/1"))}","${esc(b64("l/2"))}"\\]\\}$`));
    expect(await call(B, "/v3/lease/timetolive", `{"ID":"999"}`)).toEqual([200, `{"header":${hdr(r + 2)},"ID":"999","TTL":"-1"}`]);
    const [ls, leases] = await call(B, "/v3/lease/leases", ``);
    expect(ls).toBe(200);
    expect(leases).toMatch(new RegExp(`^\\{"header":${esc(hdr(r + 2))},"leases":\\[.*\\{"ID":"1234"\\}.*\\]\\}$`));
    expect(await call(B, "/v3/kv/lease/leases", `{}`)).toEqual([200, leases]);
    expect(await call(B, "/v3/kv/lease/revoke", `{"ID":"1234"}`)).toEqual([200, `{"header":${hdr(r + 3)}}`]);
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("l/")}","range_end":"${b64("l0")}"}`)).toEqual([200, `{"header":${hdr(r + 3)}}`]);
    expect(await call(B, "/v3/lease/revoke", `{"ID":"1234"}`)).toEqual([404, errBody(5, "etcdserver: requested lease not found")]);
  });

  it("a TTL below the minimum is raised to it (2 s with the default election timeout)", async () => {
    const [, g] = await call(B, "/v3/lease/grant", `{"TTL":1,"ID":"77"}`);
    expect(g).toBe(`{"header":${hdr(await currentRev(B))},"ID":"77","TTL":"2"}`);
    await call(B, "/v3/lease/revoke", `{"ID":"77"}`);
  });
});

describe("cluster and maintenance routes", () => {
  // etcd's ClusterServer.header() has ids and term but no revision (observed on etcd 3.4.23 too).
  it("member list: this member with its URLs; the header without a revision", async () => {
    expect(await call(B, "/v3/cluster/member/list", `{}`)).toEqual([
      200,
      `{"header":{"cluster_id":"${ids.cluster}","member_id":"${ids.member}","raft_term":"2"},"members":[{"ID":"${ids.member}","name":"e2e","peerURLs":["http://127.0.0.1:${m.peerPort}"],"clientURLs":["${B}"]}]}`,
    ]);
  });

  it("status: version, sizes, leader, indexes, term; no errors while healthy", async () => {
    const [st, body] = await call(B, "/v3/maintenance/status", ``);
    expect(st).toBe(200);
    const r = await currentRev(B);
    expect(body).toMatch(
      new RegExp(
        `^\\{"header":${esc(hdr(r))},"version":"3\\.5\\.\\d+","dbSize":"\\d+","leader":"${ids.member}","raftIndex":"(\\d+)","raftTerm":"2","raftAppliedIndex":"(\\d+)","dbSizeInUse":"\\d+"\\}$`,
      ),
    );
    const s = JSON.parse(body) as { raftIndex: string; raftAppliedIndex: string };
    expect(s.raftAppliedIndex).toBe(s.raftIndex);
  });

  it("hash and hashkv: equal for equal stores, changed by a write; hashkv at a revision", async () => {
    const r = await currentRev(B);
    const h1 = await call(B, "/v3/maintenance/hash", ``);
    expect(h1[1]).toMatch(new RegExp(`^\\{"header":${esc(hdr(r))},"hash":\\d+\\}$`));
    expect(await call(B, "/v3/maintenance/hash", ``)).toEqual(h1);
    const k1 = await call(B, "/v3/maintenance/hashkv", `{"revision":"${r}"}`);
    expect(k1[1]).toMatch(new RegExp(`^\\{"header":${esc(hdr(r))},"hash":\\d+,"compact_revision":"\\d+","hash_revision":"${r}"\\}$`));
    await call(B, "/v3/kv/put", `{"key":"${b64("h")}","value":"${b64(String(r))}"}`);
    expect((await call(B, "/v3/maintenance/hash", ``))[1]).not.toBe(h1[1]);
    // The hash of the store up to r is unchanged by the later write (header aside).
    const k2 = await call(B, "/v3/maintenance/hashkv", `{"revision":"${r}"}`);
    expect(k2[1].replace(/^\{"header":\{[^}]*\},/, "")).toBe(k1[1].replace(/^\{"header":\{[^}]*\},/, ""));
    expect(await call(B, "/v3/maintenance/hashkv", `{"revision":"${r + 100}"}`)).toEqual([400, errBody(11, "etcdserver: mvcc: required revision is a future revision")]);
  });

  it("alarm: none raised (GET), a bad action; defragment answers", async () => {
    const r = await currentRev(B);
    expect(await call(B, "/v3/maintenance/alarm", `{}`)).toEqual([200, `{"header":${hdr(r)}}`]);
    expect(await call(B, "/v3/maintenance/alarm", `{"action":"BOGUS"}`)).toEqual([
      400,
      errBody(3, `unknown value "\\"BOGUS\\"" for enum etcdserverpb.AlarmRequest.AlarmAction`),
    ]);
    expect((await call(B, "/v3/maintenance/defragment", `{}`))[0]).toBe(200);
    expect(await currentRev(B)).toBe(r);
  });

  it("defragment answers {} without a header, as etcd's maintenanceServer.Defragment", async () => {
    expect(await call(B, "/v3/maintenance/defragment", `{}`)).toEqual([200, `{}`]);
  });

  it("snapshot: a stream of blobs without headers, the last one the SHA-256 of the others", async () => {
    const r = await fetch(B + "/v3/maintenance/snapshot", { method: "POST", body: "{}" });
    expect([r.status, r.headers.get("content-type")]).toEqual([200, "application/json"]);
    const text = await r.text();
    expect(text.endsWith("\n")).toBe(true);
    const msgs = text
      .slice(0, -1)
      .split("\n")
      .map((l) => JSON.parse(l) as { result: { header?: unknown; remaining_bytes?: string; blob: string } });
    expect(msgs.length).toBeGreaterThanOrEqual(2);
    for (const x of msgs) expect(Object.keys(x.result).filter((k) => k !== "remaining_bytes")).toEqual(["blob"]);
    const blobs = msgs.map((x) => Buffer.from(x.result.blob, "base64"));
    const data = Buffer.concat(blobs.slice(0, -1));
    expect(blobs.at(-1)!.equals(createHash("sha256").update(data).digest())).toBe(true);
    expect(msgs.at(-1)!.result.remaining_bytes).toBeUndefined();
    // remaining_bytes falls with every chunk.
    const rem = msgs.map((x) => Number(x.result.remaining_bytes ?? 0));
    for (let i = 1; i < rem.length; i++) expect(rem[i]!).toBeLessThan(rem[i - 1]! === 0 ? 1 : rem[i - 1]!);
  });

  it("snapshot remaining_bytes counts the db only: the last db chunk and the checksum chunk say nothing (0)", async () => {
    const r = await fetch(B + "/v3/maintenance/snapshot", { method: "POST", body: "{}" });
    const msgs = (await r.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { result: { remaining_bytes?: string; blob: string } });
    const blobs = msgs.map((x) => Buffer.from(x.result.blob, "base64"));
    const total = blobs.slice(0, -1).reduce((n, x) => n + x.length, 0);
    let sent = 0;
    for (let i = 0; i < msgs.length - 1; i++) {
      sent += blobs[i]!.length;
      expect(Number(msgs[i]!.result.remaining_bytes ?? 0)).toBe(total - sent);
    }
    expect(msgs.at(-2)!.result.remaining_bytes).toBeUndefined();
    expect(msgs.at(-1)!.result.remaining_bytes).toBeUndefined();
  });
});

describe("paths, methods, CORS", () => {
  it("every route answers under /v3beta and /v3alpha too", async () => {
    const r = await currentRev(B);
    for (const p of ["/v3beta", "/v3alpha"]) {
      expect(await call(B, `${p}/kv/range`, `{"key":"${b64("missing")}"}`)).toEqual([200, `{"header":${hdr(r)}}`]);
      expect((await call(B, `${p}/maintenance/status`, ``))[0]).toBe(200);
      expect((await call(B, `${p}/cluster/member/list`, ``))[0]).toBe(200);
      expect(await call(B, `${p}/lease/timetolive`, `{"ID":"5"}`)).toEqual([200, `{"header":${hdr(r)},"ID":"5","TTL":"-1"}`]);
      const w = new Lines(await fetch(B + `${p}/watch`, { method: "POST", body: `{"create_request":{"key":"eA=="}}` }));
      expect(await w.next()).toBe(`{"result":{"header":${hdr(r)},"created":true}}`);
      await w.cancel();
    }
    expect(await call(B, "/v3beta/kv/put", `{"key":"${b64("beta")}"}`)).toEqual([200, `{"header":${hdr(r + 1)}}`]);
    expect(await call(B, "/v3alpha/kv/deleterange", `{"key":"${b64("beta")}"}`)).toEqual([200, `{"header":${hdr(r + 2)},"deleted":"1"}`]);
  });

  it("unknown gateway path: 404 Not Found; known path with GET: 405; elsewhere Go's 404", async () => {
    const n = await fetch(B + "/v3/kv/nothing", { method: "POST", body: "{}" });
    expect([n.status, n.headers.get("content-type"), await n.text()]).toEqual([404, "text/plain; charset=utf-8", "Not Found\n"]);
    const g = await fetch(B + "/v3/kv/range");
    expect([g.status, await g.text()]).toEqual([405, "Method Not Allowed\n"]);
    const d = await fetch(B + "/v3/kv/put", { method: "DELETE" });
    expect(d.status).toBe(405);
    const o = await fetch(B + "/nothing");
    expect([o.status, await o.text()]).toEqual([404, "404 page not found\n"]);
  });

  it("CORS: OPTIONS anywhere is 200 and empty; every response carries the Allow headers", async () => {
    const o = await fetch(B + "/v3/kv/put", { method: "OPTIONS", headers: { Origin: "http://app.example" } });
    expect([o.status, await o.text()]).toEqual([200, ""]);
    // With the default --cors '*' etcd answers "*" whatever the Origin (reflecting it only for a listed origin).
    expect([o.headers.get("access-control-allow-origin"), o.headers.get("access-control-allow-methods"), o.headers.get("access-control-allow-headers")]).toEqual([
      "*",
      "POST, GET, OPTIONS, PUT, DELETE",
      "accept, content-type, authorization",
    ]);
    const r = await currentRev(B);
    expect(await currentRev(B)).toBe(r); // the OPTIONS put wrote nothing
    for (const res of [
      await fetch(B + "/v3/kv/range", { method: "POST", body: `{"key":"YQ=="}` }),
      await fetch(B + "/v3/kv/range", { method: "POST", body: `{` }),
      await fetch(B + "/health"),
      await fetch(B + "/v3/none", { method: "POST" }),
    ]) {
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-methods")).toBe("POST, GET, OPTIONS, PUT, DELETE");
      await res.arrayBuffer();
    }
  });
});

describe("/health, /version, /metrics", () => {
  it("/health: 200 with etcd 3.5's body; ?serializable=true too; POST is 405", async () => {
    const h = await fetch(B + "/health");
    expect([h.status, await h.text()]).toEqual([200, `{"health":"true","reason":""}`]);
    const s = await fetch(B + "/health?serializable=true");
    expect([s.status, await s.text()]).toEqual([200, `{"health":"true","reason":""}`]);
    const p = await fetch(B + "/health", { method: "POST" });
    expect([p.status, p.headers.get("allow"), await p.text()]).toEqual([405, "GET", "Method Not Allowed\n"]);
  });

  it("/version", async () => {
    const v = await fetch(B + "/version");
    expect([v.status, v.headers.get("content-type")]).toEqual([200, "application/json"]);
    expect(await v.text()).toMatch(/^\{"etcdserver":"3\.5\.\d+","etcdcluster":"3\.5\.0"\}$/);
  });

  it("/metrics: Prometheus text with the leader, the revision and the member id", async () => {
    const r = await currentRev(B);
    const x = await fetch(B + "/metrics");
    expect([x.status, x.headers.get("content-type")]).toEqual([200, "text/plain; version=0.0.4; charset=utf-8"]);
    const text = await x.text();
    expect(text).toContain("# TYPE etcd_server_has_leader gauge\netcd_server_has_leader 1\n");
    expect(text).toContain("etcd_server_is_leader 1\n");
    expect(text).toContain(`etcd_debugging_mvcc_current_revision ${r}\n`);
    expect(text).toContain(`etcd_server_id{server_id="${BigInt(ids.member).toString(16)}"} 1\n`);
    // Values as client_golang prints them, and its process collector's metrics.
    expect(text).toContain("etcd_server_quota_backend_bytes 2.147483648e+09\n");
    expect(text).toMatch(/^process_resident_memory_bytes \d\.\d+e\+0\d$/m);
    expect(text).toMatch(/^process_open_fds \d+$/m);
  });
});
