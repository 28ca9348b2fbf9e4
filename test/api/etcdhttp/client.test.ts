// The client app: /health (3.5 shape, 503, serializable), /version, /metrics, the gateway mounted,
// Go's 404 elsewhere, CORS.
import { describe, expect, it } from "vitest";
import { newClientApp } from "../../../src/api/etcdhttp/client.js";
import { FakeServer } from "../fake-server.js";

describe("client app", () => {
  it("/health: 200 healthy, 503 with the reason otherwise, serializable passed through, GET only", async () => {
    const s = new FakeServer();
    let asked: boolean | undefined;
    s.health = async (ser: boolean) => {
      asked = ser;
      return s.healthy;
    };
    const app = newClientApp(s);
    const ok = await app.request("/health");
    expect([ok.status, await ok.text(), asked]).toEqual([200, `{"health":"true","reason":""}`, false]);
    s.healthy = { health: false, reason: "RAFT NO LEADER" };
    const bad = await app.request("/health?serializable=true");
    expect([bad.status, await bad.text(), asked]).toEqual([503, `{"health":"false","reason":"RAFT NO LEADER"}\n`, true]);
    const post = await app.request("/health", { method: "POST" });
    expect([post.status, post.headers.get("allow"), await post.text()]).toEqual([405, "GET", "Method Not Allowed\n"]);
  });

  it("/version and /metrics", async () => {
    const app = newClientApp(new FakeServer());
    const v = await app.request("/version");
    expect([v.status, v.headers.get("content-type"), await v.text()]).toEqual([200, "application/json", `{"etcdserver":"3.5.0","etcdcluster":"3.5.0"}`]);
    const m = await app.request("/metrics");
    expect(m.status).toBe(200);
    expect(m.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await m.text()).toContain("etcd_server_has_leader 1\n");
  });

  it("mounts the gateway; other paths are Go's 404; CORS everywhere", async () => {
    const app = newClientApp(new FakeServer());
    const r = await app.request("/v3/kv/range", { method: "POST", body: `{"key":"Zm9v"}` });
    expect(r.status).toBe(200);
    const n = await app.request("/nothing");
    expect([n.status, await n.text()]).toEqual([404, "404 page not found\n"]);
    const g = await app.request("/v3/nothing", { method: "POST" });
    expect([g.status, await g.text()]).toEqual([404, "Not Found\n"]);
    expect((await app.request("/version")).headers.get("access-control-allow-origin")).toBe("*");
  });
});
