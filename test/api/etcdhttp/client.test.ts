// The client app over a real single-member EtcdServer (manual clock): /health (3.5 shape, 503
// with the reason under a NOSPACE alarm, serializable passed through), /version, /metrics, the
// gateway mounted, Go's 404 elsewhere, CORS.
import { afterEach, describe, expect, it } from "vitest";
import { newClientApp } from "../../../src/api/etcdhttp/client.js";
import { AlarmAction, AlarmType, newAlarmRequest } from "../../../src/api/etcdserverpb/rpc.js";
import type { EtcdServer } from "../../../src/etcdserver/server.js";
import { ClusterVersion, ServerVersion } from "../../../src/etcdserver/version.js";
import { startMember } from "../helpers.js";

const servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function member(): Promise<EtcdServer> {
  const { s } = await startMember();
  servers.push(s);
  return s;
}

describe("client app", () => {
  it("/health: 200 healthy, 503 with the reason otherwise, serializable passed through, GET only", async () => {
    const s = await member();
    // Records the serializable flag each /health asks with, then asks the real server.
    let asked: boolean | undefined;
    const spy = new Proxy(s, {
      get(target, prop) {
        if (prop === "health") {
          return (ser: boolean) => {
            asked = ser;
            return target.health(ser);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const app = newClientApp(spy);
    const ok = await app.request("/health");
    expect([ok.status, await ok.text(), asked]).toEqual([200, `{"health":"true","reason":""}`, false]);
    await s.alarm(newAlarmRequest({ action: AlarmAction.ACTIVATE, memberID: s.id, alarm: AlarmType.NOSPACE }));
    const bad = await app.request("/health?serializable=true");
    expect([bad.status, await bad.text(), asked]).toEqual([503, `{"health":"false","reason":"ALARM NOSPACE"}\n`, true]);
    const post = await app.request("/health", { method: "POST" });
    expect([post.status, post.headers.get("allow"), await post.text()]).toEqual([405, "GET", "Method Not Allowed\n"]);
  });

  it("/version and /metrics", async () => {
    const app = newClientApp(await member());
    const v = await app.request("/version");
    expect([v.status, v.headers.get("content-type"), await v.text()]).toEqual([
      200,
      "application/json",
      `{"etcdserver":"${ServerVersion}","etcdcluster":"${ClusterVersion}"}`,
    ]);
    const m = await app.request("/metrics");
    expect(m.status).toBe(200);
    expect(m.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await m.text()).toContain("etcd_server_has_leader 1\n");
  });

  it("mounts the gateway; other paths are Go's 404; CORS everywhere", async () => {
    const app = newClientApp(await member());
    const r = await app.request("/v3/kv/range", { method: "POST", body: `{"key":"Zm9v"}` });
    expect(r.status).toBe(200);
    const n = await app.request("/nothing");
    expect([n.status, await n.text()]).toEqual([404, "404 page not found\n"]);
    const g = await app.request("/v3/nothing", { method: "POST" });
    expect([g.status, await g.text()]).toEqual([404, "Not Found\n"]);
    expect((await app.request("/version")).headers.get("access-control-allow-origin")).toBe("*");
  });
});
