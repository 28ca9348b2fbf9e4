/**
 * Stopping a real member: SIGTERM and SIGINT each stop it cleanly (exit code 0, the shutdown
 * logged, the client port closed), while requests were being served. (etcd itself re-raises the
 * signal after its shutdown and so dies by it; edgecd exits 0, see adapters/node/signals.ts.)
 */
import { expect, it } from "vitest";
import { startMember } from "./harness.js";
import { b64, call } from "./client.js";

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  it(`${signal}: exit 0, the shutdown logged, the port closed`, async () => {
    const m = await startMember({ name: `sig-${signal.toLowerCase()}` });
    expect((await call(m.clientURL, "/v3/kv/put", `{"key":"${b64("k")}","value":"${b64("v")}"}`))[0]).toBe(200);
    expect(await m.stop(signal)).toBe(0);
    expect(m.proc.signalCode).toBeNull();
    const log = m.stderr();
    expect(log).toContain(`"msg":"received signal; shutting down","signal":"${signal}"`);
    expect(log).toContain(`"msg":"stopped serving"`);
    await expect(fetch(m.clientURL + "/health")).rejects.toThrow();
  });
}

it("SIGTERM with a watch stream open still exits 0 promptly (the stream is cut after a short grace)", async () => {
  const m = await startMember({ name: "sig-watch" });
  const w = await fetch(m.clientURL + "/v3/watch", { method: "POST", body: `{"create_request":{"key":"${b64("a")}"}}` });
  const reader = w.body!.getReader();
  await reader.read(); // the created response
  // A member that did not exit by itself would be SIGKILLed by the harness after 10 s (code null).
  expect(await m.stop("SIGTERM")).toBe(0);
  await reader.cancel().catch(() => {});
});
