#!/usr/bin/env node
// The 3-member benchmark: three members (edgecd, or with --etcd the etcd binary on PATH) on free
// loopback ports of this machine, 64 keep-alive clients spread over the three members' v3 JSON
// gateways: put (256-byte values) and linearizable range. One JSON line per scenario, as bench/kv.mjs
// prints them: ops/s and p50/p99 latency in ms. `npm run bench` runs it after the single-member
// scenarios; alone:
//
//   node bench/cluster.mjs                 # edgecd (after npm run build)
//   node bench/cluster.mjs --etcd          # the same against etcd
//   node bench/cluster.mjs --seconds 10 --clients 128
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { drive, flagOf, freePort, gatewayClient } from "./lib.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Starts `n` members of one cluster; resolves once a put through each member's gateway succeeds. */
export async function startCluster(n, { useEtcd, post }) {
  const members = [];
  for (let i = 0; i < n; i++) members.push({ name: `bench${i}`, client: await freePort(), peer: await freePort() });
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
  const dir = mkdtempSync(join(tmpdir(), "edgecd-bench-cluster-"));
  const children = members.map((m) => {
    const flags = [
      "--name", m.name, "--data-dir", join(dir, m.name),
      "--listen-client-urls", `http://127.0.0.1:${m.client}`, "--advertise-client-urls", `http://127.0.0.1:${m.client}`,
      "--listen-peer-urls", `http://127.0.0.1:${m.peer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${m.peer}`,
      "--initial-cluster", initialCluster, "--initial-cluster-token", "bench", "--initial-cluster-state", "new",
      "--log-level", "error", "--quota-backend-bytes", String(8 * 1024 * 1024 * 1024),
    ];
    return useEtcd
      ? spawn("etcd", ["--logger", "zap", ...flags], { stdio: ["ignore", "ignore", "inherit"] })
      : spawn(process.execPath, [join(root, "bin/edgecd.js"), ...flags], { stdio: ["ignore", "ignore", "inherit"] });
  });
  const stop = async () => {
    await Promise.all(
      children.map((c) => {
        if (c.exitCode !== null || c.signalCode !== null) return undefined;
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        // A member whose peers are already gone may wait out its election; the data is temporary.
        const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
        return exited.then(() => clearTimeout(t));
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  try {
    for (const m of members) {
      for (;;) {
        try {
          await post(m.client, "/v3/kv/put", { key: Buffer.from("warmup").toString("base64"), value: "" });
          break;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`member ${m.name} did not start: ${err.message}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports: members.map((m) => m.client), stop };
}

/** Runs the 3-member scenarios for one target and prints one JSON line each. */
export async function benchCluster({ useEtcd, seconds, clients = 64 }) {
  const { post, destroy } = gatewayClient(1024);
  const value = Buffer.alloc(256, "v").toString("base64");
  const keyOf = (i) => Buffer.from(`bench/key/${String(i % 100000).padStart(6, "0")}`).toString("base64");
  const cluster = await startCluster(3, { useEtcd, post });
  const target = useEtcd ? "etcd" : "edgecd";
  const port = (c) => cluster.ports[c % cluster.ports.length];
  try {
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => post(port(j), "/v3/kv/put", { key: keyOf(i + j), value })));
    }
    const scenarios = [
      ["cluster3-put", (c, i) => post(port(c), "/v3/kv/put", { key: keyOf(i), value })],
      ["cluster3-range-linearizable", (c, i) => post(port(c), "/v3/kv/range", { key: keyOf(i % 1000) })],
    ];
    for (const [scenario, op] of scenarios) console.log(JSON.stringify(await drive({ target, scenario, members: 3 }, seconds, clients, op)));
  } finally {
    await cluster.stop();
    destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  await benchCluster({
    useEtcd: args.includes("--etcd"),
    seconds: Number(flagOf(args, "seconds", "5")),
    clients: Number(flagOf(args, "clients", "64")),
  });
}
