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

it.todo(
  "SIGTERM with a watch stream open still exits 0 promptly: today the process never exits (the harness SIGKILLs it after 10 s) — " +
    "adapters/node/serve.ts Listener.close() waits in server.close() for the streaming response, which never ends " +
    "(closeIdleConnections() skips busy sockets); etcd exits at once (osutil.HandleInterrupts re-raises the signal after its handlers). " +
    "Repro: open `curl -N …/v3/watch -d '{\"create_request\":{\"key\":\"YQ==\"}}'`, then kill -TERM the member.",
);
