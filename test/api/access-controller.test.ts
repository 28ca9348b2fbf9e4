// etcd's accessController in front of the client app: --host-whitelist (421 with the
// CVE-2018-5702 text) and --cors (origin "*", the listed origin, or no CORS headers).
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { accessController, errCVE20185702 } from "../../src/api/v3rpc/gateway.js";

function app(opts: { cors?: string[]; hostWhitelist?: string[] }): Hono {
  const a = new Hono();
  a.use("*", accessController(opts));
  a.post("/v3/kv/range", (c) => c.json({}));
  return a;
}

describe("accessController", () => {
  it("allows every host and origin by default, answering origin *", async () => {
    const r = await app({}).request("http://anything:2379/v3/kv/range", { method: "POST", headers: { Origin: "http://o.example" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("refuses a Host not in --host-whitelist with 421 and etcd's text; the port is ignored", async () => {
    const a = app({ hostWhitelist: ["localhost", "127.0.0.1"] });
    expect((await a.request("http://localhost:2379/v3/kv/range", { method: "POST" })).status).toBe(200);
    expect((await a.request("http://127.0.0.1:1/v3/kv/range", { method: "POST" })).status).toBe(200);
    const r = await a.request("http://evil.example:2379/v3/kv/range", { method: "POST" });
    expect(r.status).toBe(421);
    expect(await r.text()).toBe(errCVE20185702("evil.example") + "\n");
    expect(errCVE20185702("evil.example")).toContain('etcd --host-whitelist "evil.example"');
  });

  it("with a --cors list echoes a listed origin and sends no CORS headers for others", async () => {
    const a = app({ cors: ["http://ok.example"] });
    const ok = await a.request("/v3/kv/range", { method: "POST", headers: { Origin: "http://ok.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://ok.example");
    const no = await a.request("/v3/kv/range", { method: "POST", headers: { Origin: "http://no.example" } });
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
    expect(no.headers.get("access-control-allow-methods")).toBeNull();
    const pre = await a.request("/v3/kv/range", { method: "OPTIONS", headers: { Origin: "http://ok.example" } });
    expect([pre.status, await pre.text(), pre.headers.get("access-control-allow-headers")]).toEqual([200, "", "accept, content-type, authorization"]);
  });
});
