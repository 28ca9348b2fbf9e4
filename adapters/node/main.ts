/**
 * The `edgecd` command for Node: etcd's command line, environment and config file
 * (src/etcdmain), the zap-style logger on the chosen outputs, then the member: the server, its
 * client and peer listeners, and signal handling.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LogEvent, etcdMain, type VersionInfo } from "../../src/etcdmain/config.js";
import { type Logger, newZapLogger } from "../../src/logger/zap.js";
import { openLogOutputs } from "./log-output.js";
import { handleInterrupts } from "./signals.js";
import { startMember } from "./member.js";
import { snapshotCommand } from "./snapshot-command.js";
import { ServerVersion } from "../../src/etcdserver/version.js";

/** The etcd API version edgecd serves (its /version "etcdserver"). */
export const EtcdAPIVersion = ServerVersion;

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function readJSON(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The package root: this file runs from dist/adapters/node (built) or adapters/node (tests). */
function packageRoot(): string {
  for (const r of [root, join(root, "..")]) if (readJSON(join(r, "package.json"))?.["name"] === "edgecd") return r;
  return root;
}

/** The commit checked out, read from .git without running git; "" when unknown. */
function gitSHA(pkgRoot: string): string {
  if (process.env["EDGECD_GIT_SHA"]) return process.env["EDGECD_GIT_SHA"];
  try {
    const head = readFileSync(join(pkgRoot, ".git", "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 7);
    const ref = head.slice(5);
    try {
      return readFileSync(join(pkgRoot, ".git", ref), "utf8").trim().slice(0, 7);
    } catch {
      const packed = readFileSync(join(pkgRoot, ".git", "packed-refs"), "utf8");
      const line = packed.split("\n").find((l) => l.endsWith(` ${ref}`));
      return line ? line.slice(0, 7) : "";
    }
  } catch {
    return "";
  }
}

export function versionInfo(): VersionInfo {
  const pkgRoot = packageRoot();
  return {
    etcdVersion: EtcdAPIVersion,
    edgecdVersion: String(readJSON(join(pkgRoot, "package.json"))?.["version"] ?? "unknown"),
    gitSHA: gitSHA(pkgRoot),
    runtime: `node ${process.version}`,
    platform: `${process.platform}/${process.arch}`,
  };
}

function logEvents(lg: Logger, events: readonly LogEvent[]): void {
  for (const e of events) lg[e.level](e.msg, e.fields);
}

/** Go's os.Open error text for a config file that cannot be read. */
function readConfigFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
    throw new Error(`open ${path}: ${why}`);
  }
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === "snapshot") {
    return snapshotCommand(argv.slice(1), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
  }
  const outcome = etcdMain({ argv, env, readFile: readConfigFile, version: versionInfo() });
  if (outcome.kind === "exit") {
    if (outcome.stderr) process.stderr.write(outcome.stderr);
    if (outcome.stdout) process.stdout.write(outcome.stdout);
    // Until the configuration is known etcd logs at info level to stderr.
    logEvents(newZapLogger({ level: "info", write: (l) => process.stderr.write(l) }), outcome.events);
    return outcome.exitCode;
  }
  const sink = openLogOutputs(outcome.listen.logOutputs);
  const lg = newZapLogger({ level: outcome.listen.logLevel, write: (l) => sink.write(l) });
  logEvents(lg, outcome.events);
  let member;
  try {
    member = await startMember(outcome, lg);
  } catch (e) {
    lg.fatal("failed to start etcd", { error: e });
    sink.close();
    return 1;
  }
  let signalled = false;
  handleInterrupts(async (signal) => {
    signalled = true;
    lg.info("received signal; shutting down", { signal });
    await member.stop();
    lg.info("stopped serving", { name: outcome.server.name });
    sink.close();
  });
  // etcd exits once its server stops by itself (removed from the cluster): etcdmain's StopNotify.
  void member.server.done?.then(async () => {
    if (signalled) return;
    await member.stop();
    lg.info("stopped serving", { name: outcome.server.name });
    sink.close();
    process.exit(0);
  });
  return -1; // keep running
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`edgecd: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
