/**
 * The `edgecd` command as a real process, run through bin/edgecd.js (dist/ is built by
 * test/global-setup.ts).
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { nodeClock } from "../../../adapters/node/clock.js";
import { serveURL } from "../../../adapters/node/serve.js";
import { startMember } from "../../../adapters/node/member.js";
import { etcdMain } from "../../../src/etcdmain/config.js";
import { newZapLogger } from "../../../src/logger/zap.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const bin = join(root, "bin", "edgecd.js");

function edgecd(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("edgecd binary", () => {

  it("--version prints etcd's lines and exits 0", () => {
    const r = edgecd(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^etcd Version: 3\.5\.0\nedgecd Version: 0\.1\.0\nGit SHA: \S+\nRuntime: node v20/);
  });

  it("--help prints the flags and exits 0", () => {
    const r = edgecd(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Usage:");
    expect(r.stdout).toContain("--listen-client-urls 'http://localhost:2379'");
  });

  it("an unknown flag exits 2 with Go's message and the usage", () => {
    const r = edgecd(["--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("flag provided but not defined: -bogus");
  });

  it("a validation error exits 1 with one JSON log line", () => {
    const r = edgecd(["--election-timeout=100"]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "failed to verify flags", error: "--election-timeout[100ms] should be at least as 5 times as --heartbeat-interval[100ms]" }),
    );
  });

  it("an env/flag conflict exits 1", () => {
    const r = edgecd(["--name=a"], { ETCD_NAME: "b" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"environment-variable":"ETCD_NAME"');
  });
});

describe("node adapter pieces", () => {
  it("serveURL serves a fetch app on an ephemeral port and closes", async () => {
    const l = await serveURL({ fetch: () => new Response("ok") }, "http://127.0.0.1:0");
    expect(l.port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${l.port}/`);
    expect(await res.text()).toBe("ok");
    await l.close();
    await expect(fetch(`http://127.0.0.1:${l.port}/`)).rejects.toThrow();
  });

  it("serveURL reports a port in use", async () => {
    const a = await serveURL({ fetch: () => new Response("a") }, "http://127.0.0.1:0");
    await expect(serveURL({ fetch: () => new Response("b") }, `http://127.0.0.1:${a.port}`)).rejects.toThrow(/EADDRINUSE/);
    await a.close();
  });

  it("startMember wires a server and a client app onto the listen URLs, and stops both", async () => {
    const o = etcdMain({
      argv: ["--listen-client-urls=http://127.0.0.1:0", "--advertise-client-urls=http://127.0.0.1:2379"],
      env: {},
      readFile: () => "",
      version: { etcdVersion: "", edgecdVersion: "", gitSHA: "", runtime: "", platform: "" },
    });
    if (o.kind !== "start") throw new Error("config");
    const events: string[] = [];
    let stopped = false;
    const m = await startMember(o, newZapLogger({ write: (l) => events.push(l) }), {
      startEtcdServer: () => ({ stop: async () => void (stopped = true) }),
      newClientApp: () => ({ fetch: () => new Response("v3") }),
    });
    const res = await fetch(`http://127.0.0.1:${m.clientListeners[0]!.port}/version`);
    expect(await res.text()).toBe("v3");
    await m.stop();
    expect(stopped).toBe(true);
    expect(events.some((e) => e.includes("peer listeners not started"))).toBe(true);
  });

  it("the real wiring: a single member elects itself and serves the v3 gateway", async () => {
    const o = etcdMain({
      argv: ["--listen-client-urls=http://127.0.0.1:0", "--advertise-client-urls=http://127.0.0.1:2379", "--heartbeat-interval=10", "--election-timeout=50"],
      env: {},
      readFile: () => "",
      version: { etcdVersion: "", edgecdVersion: "", gitSHA: "", runtime: "", platform: "" },
    });
    if (o.kind !== "start") throw new Error("config");
    const m = await startMember(o, newZapLogger({ level: "error", write: () => {} }));
    try {
      const base = `http://127.0.0.1:${m.clientListeners[0]!.port}`;
      let put: Response | undefined;
      for (let i = 0; i < 50; i++) {
        put = await fetch(`${base}/v3/kv/put`, { method: "POST", body: JSON.stringify({ key: "Zm9v", value: "YmFy" }) });
        if (put.status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(put!.status).toBe(200);
      const got = await (await fetch(`${base}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: "Zm9v" }) })).json();
      expect(got.kvs[0].value).toBe("YmFy");
    } finally {
      await m.stop();
    }
  });

  it("nodeClock fires and cancels timers", async () => {
    const t0 = nodeClock.now();
    let fired = 0;
    const cancel = nodeClock.setTimer(5, () => fired++);
    nodeClock.setTimer(1, () => fired += 10)();
    await new Promise((r) => setTimeout(r, 30));
    cancel();
    expect(fired).toBe(1);
    expect(nodeClock.now()).toBeGreaterThan(t0);
  });
});
