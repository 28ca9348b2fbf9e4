// What the benchmarks share: flags from the command line, free loopback ports, and a keep-alive
// client for the v3 JSON gateway.
import http from "node:http";
import { createServer } from "node:net";

/** `--name value` from `args`, or `dflt`. */
export function flagOf(args, name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}

/** A TCP port free on 127.0.0.1 right now. */
/** Ports freePort has handed out in this process: the kernel may offer a just-closed port again. */
const handedOut = new Set();

/** A loopback port nothing listens on now, and one this process has not been given before. */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * A keep-alive HTTP client: `post(port, path, body)` sends `body` as JSON and resolves with the
 * response text (rejects on a non-200 status); `destroy()` closes its sockets.
 */
export function gatewayClient(maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const post = (port, path, body) =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request(
        { host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${res.statusCode} ${text}`));
            else resolve(text);
          });
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  return { post, destroy: () => agent.destroy() };
}

/** The `p`th percentile of an ascending array (0 when empty). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Runs `op(client, n)` from `clients` concurrent loops for `seconds`; resolves with one result line:
 * ops, elapsed seconds, ops/s and p50/p99 latency in ms (`fields` first).
 */
export async function drive(fields, seconds, clients, op) {
  const lat = [];
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < end) {
        const t = performance.now();
        await op(c, n++);
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return {
    ...fields,
    clients,
    ops: lat.length,
    seconds: Number(elapsed.toFixed(2)),
    opsPerSec: Math.round(lat.length / elapsed),
    p50Ms: Number(percentile(lat, 50).toFixed(3)),
    p99Ms: Number(percentile(lat, 99).toFixed(3)),
  };
}
