/**
 * The README's "Running a 3-member cluster on one machine": its three member commands and its curl
 * line are taken from README.md as written, run through sh (each from a temp dir, so the members'
 * NAME.etcd data dirs land there) with the loopback ports replaced by free ones, and the member list
 * must name all three members with their client and peer URLs.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort, root } from "./harness.js";
import { binary, sleep } from "./cluster-harness.js";

const procs: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), "edgecd-readme-cluster-"));
let logs = "";

afterAll(async () => {
  await Promise.all(
    procs.map((p) => {
      if (p.exitCode !== null || p.signalCode !== null) return undefined;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGKILL");
      return exited;
    }),
  );
  rmSync(dir, { recursive: true, force: true });
});

/** The section's ```sh blocks, each as its non-empty lines. */
function section(): string[][] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("## Running a 3-member cluster on one machine");
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.split("\n").filter((l) => l.trim() !== ""));
}

it("the README's three member commands make a cluster whose member list names all three", async () => {
  const [members, curl] = section() as [string[], string[]];
  expect(members).toHaveLength(3);
  expect(curl).toHaveLength(1);

  // Every loopback port in the section gets a free one.
  const ports = new Map<string, number>();
  for (const c of [...members, ...curl]) for (const m of c.matchAll(/127\.0\.0\.1:(\d+)/g)) if (!ports.has(m[1]!)) ports.set(m[1]!, await freePort());
  expect(ports.size).toBe(6);
  const expand = (c: string): string => {
    const local = c.replace(/127\.0\.0\.1:(\d+)/g, (_, p: string) => `127.0.0.1:${ports.get(p)}`);
    const bin = binary !== "" ? binary : `${process.execPath} ${join(root, "bin", "edgecd.js")}`;
    return local.replace(/^node bin\/edgecd\.js /, `${bin} `);
  };

  for (const c of members) {
    expect(c).toMatch(/^node bin\/edgecd\.js --name infra[012] /);
    const p = spawn("/bin/sh", ["-c", `exec ${expand(c)}`], { cwd: dir, env: { PATH: process.env["PATH"] ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
    p.stdout!.on("data", (d: Buffer) => (logs += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (logs += d.toString()));
    procs.push(p);
  }

  let out = "";
  for (const deadline = Date.now() + 60_000; ; ) {
    const r = spawnSync("/bin/sh", ["-c", expand(curl[0]!)], { encoding: "utf8", timeout: 10_000 });
    out = r.stdout;
    try {
      const list = (JSON.parse(out) as { members?: { name?: string; clientURLs?: string[] }[] }).members ?? [];
      if (list.length === 3 && list.every((m) => (m.clientURLs ?? []).length === 1)) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`member list: ${out}\n${logs.slice(-20_000)}`);
    await sleep(250);
  }
  const list = (JSON.parse(out) as { members: { name: string; clientURLs: string[]; peerURLs: string[] }[] }).members;
  const byName = Object.fromEntries(list.map((m) => [m.name, m]));
  for (const [i, name] of ["infra0", "infra1", "infra2"].entries()) {
    const client = ports.get(["2379", "22379", "32379"][i]!);
    const peer = ports.get(["2380", "22380", "32380"][i]!);
    expect(byName[name]?.clientURLs).toEqual([`http://127.0.0.1:${client}`]);
    expect(byName[name]?.peerURLs).toEqual([`http://127.0.0.1:${peer}`]);
  }
});
