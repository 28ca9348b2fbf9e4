#!/usr/bin/env node
// npm run bench:restart: how long a durable member takes to restart, and its memory. Starts a
// member on free loopback ports and a temp data dir, loads N keys of 256-byte values through the
// v3 JSON gateway (concurrent txns of 128 puts), records its RSS (VmRSS) and hashkv, stops it
// (SIGTERM), starts it again on the same data dir, and measures the time from spawn to the first
// successful linearizable range, the RSS then, and whether hashkv is unchanged. One JSON line:
// {keys, loadSeconds, restartSeconds, rssBeforeMB, rssAfterRestartMB, hashEqual}.
//
//   npm run bench:restart                      # 1,000,000 keys
//   npm run bench:restart -- --keys 100000
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { flagOf, freePort, gatewayClient } from "./lib.mjs";

const args = process.argv.slice(2);
const flag = (name, dflt) => flagOf(args, name, dflt);
const keys = Number(flag("keys", "1000000"));
const clients = Number(flag("clients", "8"));
const perTxn = 128;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const client = gatewayClient(64);
/** POSTs `body` and resolves with the parsed JSON answer. */
const post = async (port, path, body) => JSON.parse(await client.post(port, path, body));

const [clientPort, peerPort] = [await freePort(), await freePort()];
const dir = mkdtempSync(join(tmpdir(), "edgecd-bench-restart-"));
const flags = [
  "--name", "bench", "--data-dir", join(dir, "data"),
  "--listen-client-urls", `http://127.0.0.1:${clientPort}`, "--advertise-client-urls", `http://127.0.0.1:${clientPort}`,
  "--listen-peer-urls", `http://127.0.0.1:${peerPort}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
  "--initial-cluster", `bench=http://127.0.0.1:${peerPort}`, "--log-level", "error",
  "--quota-backend-bytes", String(8 * 1024 * 1024 * 1024),
];

/** Spawns the member and resolves once a linearizable range answers; `seconds` is spawn → answer. */
async function start() {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, "bin/edgecd.js"), ...flags], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise((r) => child.once("exit", (code, signal) => r(code ?? signal)));
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`member exited with ${child.exitCode}`);
    try {
      await post(clientPort, "/v3/kv/range", { key: Buffer.from("probe").toString("base64") });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`member did not start: ${err.message}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { child, exited, seconds: (performance.now() - t0) / 1000 };
}

/** VmRSS of `pid` in MB. */
function rssMB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function hashKV() {
  const r = await post(clientPort, "/v3/maintenance/hashkv", { revision: 0 });
  return { hash: String(r.hash), revision: String(r.header.revision) };
}

const value = Buffer.alloc(256, "v").toString("base64");
const keyOf = (i) => Buffer.from(`bench/restart/${String(i).padStart(8, "0")}`).toString("base64");

let member = await start();
try {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < keys) {
        const lo = next;
        const hi = Math.min(keys, lo + perTxn);
        next = hi;
        const success = [];
        for (let i = lo; i < hi; i++) success.push({ request_put: { key: keyOf(i), value } });
        await post(clientPort, "/v3/kv/txn", { success });
      }
    }),
  );
  const loadSeconds = (performance.now() - t0) / 1000;
  const rssBeforeMB = rssMB(member.child.pid);
  const before = await hashKV();
  member.child.kill("SIGTERM");
  await member.exited;
  client.destroy(); // the old keep-alive sockets are dead
  member = await start();
  const rssAfterRestartMB = rssMB(member.child.pid);
  const after = await hashKV();
  console.log(
    JSON.stringify({
      keys,
      loadSeconds: Number(loadSeconds.toFixed(2)),
      restartSeconds: Number(member.seconds.toFixed(3)),
      rssBeforeMB,
      rssAfterRestartMB,
      hashEqual: before.hash === after.hash && before.revision === after.revision,
    }),
  );
} finally {
  member.child.kill("SIGTERM");
  await member.exited;
  client.destroy();
  rmSync(dir, { recursive: true, force: true });
}
