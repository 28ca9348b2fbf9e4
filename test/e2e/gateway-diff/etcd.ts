/**
 * One real etcd member (/usr/bin/etcd, Debian's etcd-server 3.4.23) for the gateway differential
 * test: free loopback client and peer ports, a fresh temp data dir, default raft timings (so the
 * minimum lease TTL is the same 2 s edgecd uses), waited for until /health answers 200, stopped with
 * SIGTERM (SIGKILL after 10 s) and its directory removed. Killed when the test process exits.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, tracked } from "../harness.js";

/** The reference binary the gateway is compared with. */
export const etcdBinary = "/usr/bin/etcd";
export const haveEtcd = existsSync(etcdBinary);

export interface EtcdMember {
  clientURL: string;
  peerPort: number;
  log(): string;
  /** SIGTERM, wait for the exit, remove the temp dir. */
  stop(): Promise<void>;
}

export async function startEtcd(name = "diff"): Promise<EtcdMember> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "edgecd-gwdiff-etcd-"));
  const clientURL = `http://127.0.0.1:${clientPort}`;
  const peerURL = `http://127.0.0.1:${peerPort}`;
  const args = [
    ...["--name", name, "--data-dir", join(dir, "data")],
    ...["--listen-client-urls", clientURL, "--advertise-client-urls", clientURL],
    ...["--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL],
    ...["--initial-cluster", `${name}=${peerURL}`],
    ...["--logger", "zap"],
  ];
  const proc = spawn(etcdBinary, args, { cwd: dir, env: { PATH: process.env["PATH"] ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = tracked(proc);
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  const m: EtcdMember = {
    clientURL,
    peerPort,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await m.stop();
      throw new Error(`etcd exited with ${proc.exitCode}:\n${log}`);
    }
    try {
      const r = await fetch(`${clientURL}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await m.stop();
      throw new Error(`etcd did not become healthy:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return m;
}
