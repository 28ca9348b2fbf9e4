#!/usr/bin/env node
// npm run bench: starts a member (edgecd, or with --etcd the etcd binary on PATH, for comparison on
// the same machine) on free loopback ports and drives the v3 JSON gateway with N concurrent
// keep-alive clients. One JSON line per scenario: ops/s and p50/p99 latency in ms.
//
//   npm run bench                      # edgecd: put 1 and 64 clients, range linearizable and serializable,
//                                      # then a 3-member cluster (bench/cluster.mjs): put and linearizable range
//   npm run bench -- --etcd            # the same against /usr/bin/etcd
//   npm run bench -- --seconds 10 --scenario put --clients 64
//   npm run bench -- --scenario cluster  # only the 3-member scenarios
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { drive, flagOf, freePort, gatewayClient } from "./lib.mjs";
import { benchCluster } from "./cluster.mjs";

const args = process.argv.slice(2);
const flag = (name, dflt) => flagOf(args, name, dflt);
const useEtcd = args.includes("--etcd");
const seconds = Number(flag("seconds", "5"));
const only = flag("scenario", undefined);
const onlyClients = flag("clients", undefined);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const { post, destroy } = gatewayClient(1024);

async function startMember() {
  const [client, peer] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "edgecd-bench-"));
  const flags = [
    "--name", "bench", "--data-dir", join(dir, "data"),
    "--listen-client-urls", `http://127.0.0.1:${client}`, "--advertise-client-urls", `http://127.0.0.1:${client}`,
    "--listen-peer-urls", `http://127.0.0.1:${peer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peer}`,
    "--initial-cluster", `bench=http://127.0.0.1:${peer}`, "--log-level", "error",
    "--quota-backend-bytes", String(8 * 1024 * 1024 * 1024),
  ];
  const child = useEtcd
    ? spawn("etcd", flags, { stdio: ["ignore", "ignore", "inherit"] })
    : spawn(process.execPath, [join(root, "bin/edgecd.js"), ...flags], { stdio: ["ignore", "ignore", "inherit"] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await post(client, "/v3/kv/put", { key: Buffer.from("warmup").toString("base64"), value: "" });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`member did not start: ${err.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port: client,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one scenario against the member and prints its result line. */
async function run(name, clients, op) {
  const line = await drive({ target: useEtcd ? "etcd" : "edgecd", scenario: name }, seconds, clients, op);
  console.log(JSON.stringify(line));
}

const value = Buffer.alloc(256, "v").toString("base64");
const keyOf = (i) => Buffer.from(`bench/key/${String(i % 100000).padStart(6, "0")}`).toString("base64");

const scenarios = [
  ["put", 1, (m) => (c, i) => post(m.port, "/v3/kv/put", { key: keyOf(i), value })],
  ["put", 64, (m) => (c, i) => post(m.port, "/v3/kv/put", { key: keyOf(i), value })],
  ["range-linearizable", 64, (m) => (c, i) => post(m.port, "/v3/kv/range", { key: keyOf(i % 1000) })],
  ["range-serializable", 64, (m) => (c, i) => post(m.port, "/v3/kv/range", { key: keyOf(i % 1000), serializable: true })],
];

const clusterOnly = only?.startsWith("cluster") ?? false;
if (!clusterOnly) {
  const m = await startMember();
  try {
    // Keys for the range scenarios.
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => post(m.port, "/v3/kv/put", { key: keyOf(i + j), value })));
    }
    for (const [name, clients, mk] of scenarios) {
      if (only && !name.startsWith(only)) continue;
      if (onlyClients && Number(onlyClients) !== clients) continue;
      await run(name, clients, mk(m));
    }
  } finally {
    await m.stop();
    destroy();
  }
} else destroy();

// The 3-member scenarios, for the same target: put and linearizable range, 64 clients over the members.
if (!only || clusterOnly) await benchCluster({ useEtcd, seconds, clients: onlyClients ? Number(onlyClients) : 64 });
