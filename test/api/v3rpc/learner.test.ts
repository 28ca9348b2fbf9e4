// A learner serves only Status and serializable ranges through the gateway, and no streams (etcd's
// unary and stream interceptors: isRPCSupportedForLearner); every other call gets
// ErrGPRCNotSupportedForLearner before its own checks.
import { describe, expect, it } from "vitest";
import { newGateway } from "../../../src/api/v3rpc/gateway.js";
import type { EtcdServerAPI } from "../../../src/etcdserver/api.js";
import { b64, call, startMember } from "../helpers.js";

const learnerError = `{"error":"etcdserver: rpc not supported for learner","code":14,"message":"etcdserver: rpc not supported for learner"}`;

async function learnerApp() {
  const { s } = await startMember();
  const asLearner = new Proxy(s, {
    get(target, prop) {
      if (prop === "isLearner") return () => true;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as unknown as EtcdServerAPI;
  return { s, app: newGateway(asLearner) };
}

describe("a learner through the gateway", () => {
  it("answers Status and serializable ranges", async () => {
    const { s, app } = await learnerApp();
    const [st] = await call(app, "/v3/maintenance/status", "{}");
    expect(st).toBe(200);
    const [rs, body] = await call(app, "/v3/kv/range", JSON.stringify({ key: b64("k"), serializable: true }));
    expect([rs, JSON.parse(body).header.member_id]).toEqual([200, s.id.toString()]);
    await s.stop();
  });

  it("refuses linearizable ranges, writes, leases, member calls and streams", async () => {
    const { s, app } = await learnerApp();
    const cases: [string, string][] = [
      ["/v3/kv/range", JSON.stringify({ key: b64("k") })],
      ["/v3/kv/put", JSON.stringify({ key: b64("k"), value: b64("v") })],
      // refused before the request's own checks (an empty key would be ErrGRPCEmptyKey)
      ["/v3/kv/put", JSON.stringify({ value: b64("v") })],
      ["/v3/lease/grant", JSON.stringify({ TTL: "10" })],
      ["/v3/cluster/member/list", "{}"],
      ["/v3/maintenance/hash", "{}"],
      ["/v3/watch", JSON.stringify({ create_request: { key: b64("k") } })],
      ["/v3/lease/keepalive", JSON.stringify({ ID: "1" })],
    ];
    for (const [path, body] of cases) {
      const [status, text] = await call(app, path, body);
      expect([path, status, text]).toEqual([path, 503, learnerError]);
    }
    await s.stop();
  });
});
