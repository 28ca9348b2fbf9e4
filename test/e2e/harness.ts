/**
 * Real `edgecd` processes for end-to-end tests: each member gets free loopback ports and a temp
 * data dir, is started through bin/edgecd.js (dist/ is built by test/global-setup.ts), waited for
 * until /health answers, and stopped (SIGTERM, then SIGKILL) with its directory removed. Every
 * process started is also killed when the test process exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "edgecd.js");
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/**
 * Registers a spawned server so it is killed if the test process exits first; resolves with its
 * exit code once it exits (then it is forgotten).
 */
export function tracked(proc: ChildProcess): Promise<number | null> {
  live.add(proc);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  void exited.then(() => live.delete(proc));
  return exited;
}

/** Ports freePort has handed out in this process: the kernel may offer a just-closed port again. */
const handedOut = new Set<number>();

/**
 * A loopback port nothing listens on now, and one this process has not been given before (two
 * calls in a row can otherwise get the same port, e.g. a member's client and peer port).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const a = s.address();
        const p = typeof a === "object" && a !== null ? a.port : 0;
        s.close(() => resolve(p));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

export interface Member {
  name: string;
  clientURL: string;
  clientPort: number;
  peerPort: number;
  /** The temp dir the member owns; its data dir (--data-dir) is `join(dataDir, "data")`. */
  dataDir: string;
  /** The extra flags it was started with. */
  flags: string[];
  proc: ChildProcess;
  /** Everything the process wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** SIGTERM and wait; resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals, opts?: StopOptions): Promise<number | null>;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
}

export interface StopOptions {
  /** Leave the data dir in place (for `restartMember`); the caller removes it (`removeDataDir`). */
  keepDataDir?: boolean;
}

export interface StartOptions {
  name?: string;
  clientPort?: number;
  flags?: string[];
  env?: Record<string, string>;
  /** Wait for /health to answer 200 (default true). */
  waitHealthy?: boolean;
  peerPort?: number;
  /** An existing temp dir (a `Member.dataDir`) whose `data/` the member reuses; default a new one. */
  dataDir?: string;
}

export async function startMember(opts: StartOptions = {}): Promise<Member> {
  const name = opts.name ?? "e2e";
  const clientPort = opts.clientPort ?? (await freePort());
  const peerPort = opts.peerPort ?? (await freePort());
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "edgecd-e2e-"));
  const clientURL = `http://127.0.0.1:${clientPort}`;
  const peerURL = `http://127.0.0.1:${peerPort}`;
  const args = [
    bin,
    ...["--name", name, "--data-dir", join(dir, "data")],
    ...["--listen-client-urls", clientURL, "--advertise-client-urls", clientURL],
    ...["--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL],
    ...["--initial-cluster", `${name}=${peerURL}`],
    ...(opts.flags ?? []),
  ];
  const proc = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", ...(opts.env ?? {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = tracked(proc);
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const m: Member = {
    name,
    clientURL,
    clientPort,
    peerPort,
    dataDir: dir,
    flags: opts.flags ?? [],
    proc,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM", stopOpts: StopOptions = {}) {
      const rm = () => {
        if (!stopOpts.keepDataDir) rmSync(dir, { recursive: true, force: true });
      };
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        const code = await exited;
        clearTimeout(t);
        rm();
        return code;
      }
      rm();
      return proc.exitCode;
    },
  };
  if (opts.waitHealthy !== false) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`edgecd exited with ${proc.exitCode}:\n${err}`);
      try {
        const r = await fetch(`${clientURL}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await m.stop("SIGKILL", { keepDataDir: opts.dataDir !== undefined });
        throw new Error(`edgecd did not become healthy:\n${err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return m;
}

/**
 * Starts `m` again (after `m.stop(signal, { keepDataDir: true })`) with its name, ports, data dir
 * and flags; `opts` overrides any of them.
 */
export function restartMember(m: Member, opts: StartOptions = {}): Promise<Member> {
  return startMember({
    name: m.name,
    clientPort: m.clientPort,
    peerPort: m.peerPort,
    dataDir: m.dataDir,
    flags: m.flags,
    ...opts,
  });
}

/** Removes a data dir kept by `stop(…, { keepDataDir: true })`. */
export function removeDataDir(m: Member): void {
  rmSync(m.dataDir, { recursive: true, force: true });
}

/** POSTs `body` as JSON; returns the status and the parsed body (or the text when not JSON). */
export async function post(base: string, path: string, body: unknown): Promise<{ status: number; body: any; text: string }> {
  const r = await fetch(base + path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: r.status, body: parsed, text };
}

export const b64 = (s: string): string => Buffer.from(s).toString("base64");
export const unb64 = (s: string): string => Buffer.from(s, "base64").toString();
