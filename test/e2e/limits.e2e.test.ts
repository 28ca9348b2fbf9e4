/**
 * Limits and access flags on a real member started with small values: --max-request-bytes
 * ("etcdserver: request is too large"), --max-txn-ops (too many operations), --quota-backend-bytes
 * (the NOSPACE alarm: writes refused with "etcdserver: mvcc: database space exceeded" (429),
 * /health 503; then compaction, defragment and disarming the alarm make writes work again), and
 * --cors / --host-whitelist (etcd's accessController). A refused request never moves the revision.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMember, type Member } from "./harness.js";
import { b64, call, currentRev, errBody, learnIds, type Ids } from "./client.js";

let m: Member;
let B: string;
let ids: Ids;
const hdr = (rev: number): string => ids.hdr(rev);
/** Above the size of an empty LMDB backend (about 50 KB), so a few hundred KB of writes fill it. */
const quota = 192 * 1024;
const tooLarge = errBody(3, "etcdserver: request is too large");
const noSpace = errBody(8, "etcdserver: mvcc: database space exceeded");

beforeAll(async () => {
  m = await startMember({
    flags: [
      ...["--max-request-bytes", "4096", "--max-txn-ops", "4", "--quota-backend-bytes", String(quota)],
      // etcd parses --cors as URLs with host:port (types.NewURLs), so an origin needs its port.
      ...["--cors", "http://app.example:8080", "--host-whitelist", "127.0.0.1,edgecd.example"],
    ],
  });
  B = m.clientURL;
  ids = await learnIds(B);
});

afterAll(async () => {
  expect(await m.stop()).toBe(0);
});

describe("--max-request-bytes 4096", () => {
  it("a write larger than the limit is refused before it is proposed; a read of the same size is served", async () => {
    const r = await currentRev(B);
    const big = b64("x".repeat(5000));
    expect(await call(B, "/v3/kv/put", `{"key":"YQ==","value":"${big}"}`)).toEqual([400, tooLarge]);
    expect(await call(B, "/v3/kv/txn", `{"success":[{"request_put":{"key":"YQ==","value":"${big}"}}]}`)).toEqual([400, tooLarge]);
    expect(await currentRev(B)).toBe(r);
    expect(await call(B, "/v3/kv/range", `{"key":"${big}"}`)).toEqual([200, `{"header":${hdr(r)}}`]);
    // Just under the limit is fine.
    expect(await call(B, "/v3/kv/put", `{"key":"YQ==","value":"${b64("x".repeat(3500))}"}`)).toEqual([200, `{"header":${hdr(r + 1)}}`]);
    expect(await call(B, "/v3/kv/deleterange", `{"key":"YQ=="}`)).toEqual([200, `{"header":${hdr(r + 2)},"deleted":"1"}`]);
  });

  it("a message beyond gRPC's limit (max + 512 KiB) is refused for reads too, with grpc-go's ResourceExhausted", async () => {
    const r = await currentRev(B);
    // The RangeRequest is 786432 key bytes plus a 4-byte tag and length; the limit 4096 + 524288.
    const m = "grpc: received message larger than max (786436 vs. 528384)";
    expect(await call(B, "/v3/kv/range", `{"key":"${"A".repeat(1024 * 1024)}"}`)).toEqual([429, errBody(8, m)]);
    expect(await currentRev(B)).toBe(r);
  });
});

describe("--max-txn-ops 4", () => {
  const op = (k: string): string => `{"request_put":{"key":"${b64(k)}"}}`;
  const cmp = (k: string): string => `{"key":"${b64(k)}","target":"VERSION","version":"0"}`;
  it("five ops in a branch or five compares are too many; four are fine", async () => {
    const r = await currentRev(B);
    const tooMany = errBody(3, "etcdserver: too many operations in txn request");
    expect(await call(B, "/v3/kv/txn", `{"success":[${["a", "b", "c", "d", "e"].map(op).join(",")}]}`)).toEqual([400, tooMany]);
    expect(await call(B, "/v3/kv/txn", `{"failure":[${["a", "b", "c", "d", "e"].map(op).join(",")}]}`)).toEqual([400, tooMany]);
    expect(await call(B, "/v3/kv/txn", `{"compare":[${["a", "b", "c", "d", "e"].map(cmp).join(",")}]}`)).toEqual([400, tooMany]);
    expect(await call(B, "/v3/kv/txn", `{"success":[{"request_txn":{"success":[${["a", "b", "c", "d", "e"].map(op).join(",")}]}}]}`)).toEqual([400, tooMany]);
    expect(await currentRev(B)).toBe(r);
    const [st, body] = await call(B, "/v3/kv/txn", `{"compare":[${["a", "b", "c", "d"].map(cmp).join(",")}],"success":[${["a", "b", "c", "d"].map(op).join(",")}]}`);
    expect([st, body.startsWith(`{"header":${hdr(r + 1)},"succeeded":true,"responses":[`)]).toEqual([200, true]);
    await call(B, "/v3/kv/deleterange", `{"key":"YQ==","range_end":"ZQ=="}`);
  });
});

describe("--quota-backend-bytes: NOSPACE", () => {
  it("writes fill the backend until the alarm; reads and deletes go on; compaction, defragment and disarm restore writes", async () => {
    const value = b64("v".repeat(3000));
    let r = await currentRev(B);
    let refused: [number, string] | undefined;
    for (let i = 0; i < 400 && refused === undefined; i++) {
      const got = await call(B, "/v3/kv/put", `{"key":"${b64("big")}","value":"${value}"}`);
      if (got[0] === 200) expect(got[1]).toBe(`{"header":${hdr(++r)}}`);
      else refused = got;
    }
    expect(refused).toEqual([429, noSpace]);
    expect(await currentRev(B)).toBe(r);

    // The alarm is raised for this member, and stays until disarmed.
    const alarm = `{"memberID":"${ids.member}","alarm":"NOSPACE"}`;
    expect(await call(B, "/v3/maintenance/alarm", `{"action":"GET"}`)).toEqual([200, `{"header":${hdr(r)},"alarms":[${alarm}]}`]);
    const h = await fetch(B + "/health");
    expect([h.status, await h.text()]).toEqual([503, `{"health":"false","reason":"ALARM NOSPACE"}\n`]);
    expect(JSON.parse((await call(B, "/v3/maintenance/status", ``))[1]).errors).toEqual([`memberID:${ids.member} alarm:NOSPACE `]);
    expect(await call(B, "/v3/kv/put", `{"key":"${b64("small")}","value":"YQ=="}`)).toEqual([429, noSpace]);
    expect(await call(B, "/v3/kv/txn", `{"success":[{"request_put":{"key":"${b64("small")}"}}]}`)).toEqual([429, noSpace]);
    expect(await call(B, "/v3/lease/grant", `{"TTL":60}`)).toEqual([429, noSpace]);
    expect(await currentRev(B)).toBe(r);
    // Reads, deletes and a txn that only reads are not refused.
    expect(await call(B, "/v3/kv/range", `{"key":"${b64("big")}","count_only":true}`)).toEqual([200, `{"header":${hdr(r)},"count":"1"}`]);
    expect((await call(B, "/v3/kv/txn", `{"success":[{"request_range":{"key":"${b64("big")}","count_only":true}}]}`))[0]).toBe(200);
    expect(await call(B, "/v3/kv/deleterange", `{"key":"${b64("big")}"}`)).toEqual([200, `{"header":${hdr(r + 1)},"deleted":"1"}`]);
    r += 1;

    // Free the space: compact away the history, defragment. The alarm is still up.
    expect(await call(B, "/v3/kv/compaction", `{"revision":"${r}","physical":true}`)).toEqual([200, `{"header":${hdr(r)}}`]);
    expect((await call(B, "/v3/maintenance/defragment", ``))[0]).toBe(200);
    const st = JSON.parse((await call(B, "/v3/maintenance/status", ``))[1]) as { dbSize: string };
    expect(Number(st.dbSize)).toBeLessThan(quota / 2);
    expect(await call(B, "/v3/kv/put", `{"key":"${b64("small")}","value":"YQ=="}`)).toEqual([429, noSpace]);

    // Disarm: the answer lists the alarm removed; writes and /health are back.
    expect(await call(B, "/v3/maintenance/alarm", `{"action":"DEACTIVATE","memberID":"${ids.member}","alarm":"NOSPACE"}`)).toEqual([
      200,
      `{"header":${hdr(r)},"alarms":[${alarm}]}`,
    ]);
    expect(await call(B, "/v3/maintenance/alarm", `{}`)).toEqual([200, `{"header":${hdr(r)}}`]);
    expect(await call(B, "/v3/kv/put", `{"key":"${b64("small")}","value":"YQ=="}`)).toEqual([200, `{"header":${hdr(r + 1)}}`]);
    const ok = await fetch(B + "/health");
    expect([ok.status, await ok.text()]).toEqual([200, `{"health":"true","reason":""}`]);
  });
});

/** A GET with a chosen Host header (fetch does not let one set it). */
function getWithHost(path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: m.clientPort, path, method: "GET", headers: { Host: host, ...headers } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("--cors and --host-whitelist", () => {
  it("a listed origin is echoed; another origin gets no CORS headers; OPTIONS is 200 either way", async () => {
    const ok = await fetch(B + "/v3/kv/range", { method: "POST", body: `{"key":"YQ=="}`, headers: { Origin: "http://app.example:8080" } });
    expect([ok.status, ok.headers.get("access-control-allow-origin"), ok.headers.get("access-control-allow-methods")]).toEqual([
      200,
      "http://app.example:8080",
      "POST, GET, OPTIONS, PUT, DELETE",
    ]);
    await ok.arrayBuffer();
    const other = await fetch(B + "/v3/kv/range", { method: "POST", body: `{"key":"YQ=="}`, headers: { Origin: "http://evil.example" } });
    expect([other.status, other.headers.get("access-control-allow-origin"), other.headers.get("access-control-allow-methods")]).toEqual([200, null, null]);
    await other.arrayBuffer();
    const o = await fetch(B + "/v3/kv/range", { method: "OPTIONS", headers: { Origin: "http://evil.example" } });
    expect([o.status, await o.text(), o.headers.get("access-control-allow-origin")]).toEqual([200, "", null]);
  });

  it("a Host not in the whitelist is 421 with etcd's CVE-2018-5702 text; a listed host (any port) is served", async () => {
    const bad = await getWithHost("/version", "rebind.example:2379");
    expect(bad.status).toBe(421);
    expect(bad.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(bad.body).toBe(
      `\netcd received your request, but the Host header was unrecognized.\n\nTo fix this, choose one of the following options:\n- Enable TLS, then any HTTPS request will be allowed.\n- Add the hostname you want to use to the whitelist in settings.\n  - e.g. etcd --host-whitelist "rebind.example"\n\nThis requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).\n\n`,
    );
    expect((await getWithHost("/version", "edgecd.example:1234")).status).toBe(200);
    expect((await getWithHost("/version", `127.0.0.1:${m.clientPort}`)).status).toBe(200);
  });
});
