/**
 * An outside client's own test suite: Debian's python3-etcd3gw ships its tests (etcd3gw/tests),
 * which talk to the gateway at 127.0.0.1:2379 and skip silently when nothing answers there. We
 * start edgecd on that port and run them with pytest; a failure or any skip fails this test.
 * The packages come from scripts/install-test-deps.sh (run by .ci/run).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startMember, type Member } from "./harness.js";

const testsDir = "/usr/lib/python3/dist-packages/etcd3gw/tests";
let m: Member | undefined;

beforeAll(async () => {
  if (!existsSync(testsDir)) {
    throw new Error(`${testsDir} is missing: install python3-etcd3gw (bash scripts/install-test-deps.sh)`);
  }
  m = await startMember({ name: "etcd3gw", clientPort: 2379 });
}, 60_000);

afterAll(async () => {
  await m?.stop();
});

it("python3-etcd3gw's test suite passes against edgecd with nothing skipped", () => {
  const r = spawnSync("/usr/bin/python3", ["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", testsDir], {
    cwd: "/tmp",
    encoding: "utf8",
    timeout: 300_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  const summary = out.trim().split("\n").at(-1) ?? "";
  expect(r.status, out).toBe(0);
  expect(summary, out).toMatch(/^\d+ passed/);
  expect(summary, out).not.toMatch(/skipped|error|failed/);
});
