/**
 * The README's "Using it with curl" walkthrough, command for command: each command below must
 * appear verbatim in README.md, and is run with the real curl (through sh, so the README's
 * `$(printf … | base64)` works) against a fresh member, with `http://localhost:2379` replaced by
 * the member's URL and `<id>` by the granted lease id. The answers are checked byte for byte (ids
 * aside), so the walkthrough stays true.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { root, startMember, type Member } from "./harness.js";
import { b64, learnIds, type Ids } from "./client.js";

const cmd = {
  put: `curl -s http://localhost:2379/v3/kv/put   -X POST -d '{"key": "Zm9v", "value": "YmFy"}'`,
  get: `curl -s http://localhost:2379/v3/kv/range -X POST -d '{"key": "Zm9v"}'`,
  putPrefixed: `curl -s http://localhost:2379/v3/kv/put   -X POST -d "{\\"key\\": \\"$(printf config/a | base64)\\", \\"value\\": \\"$(printf 1 | base64)\\"}"`,
  getPrefix: `curl -s http://localhost:2379/v3/kv/range -X POST -d "{\\"key\\": \\"$(printf config/ | base64)\\", \\"range_end\\": \\"$(printf config0 | base64)\\"}"`,
  watch: `curl -s -N http://localhost:2379/v3/watch -X POST -d '{"create_request": {"key": "Zm9v"}}'`,
  grant: `curl -s http://localhost:2379/v3/lease/grant -X POST -d '{"TTL": 30}'`,
  putLeased: `curl -s http://localhost:2379/v3/kv/put -X POST -d '{"key": "c2Vzc2lvbg==", "value": "MQ==", "lease": "<id>"}'`,
  keepalive: `curl -s http://localhost:2379/v3/lease/keepalive -X POST -d '{"ID": "<id>"}'`,
  timetolive: `curl -s http://localhost:2379/v3/lease/timetolive -X POST -d '{"ID": "<id>", "keys": true}'`,
};

let m: Member;
let ids: Ids;
let leaseID = "";

beforeAll(async () => {
  if (!existsSync("/usr/bin/curl")) throw new Error("/usr/bin/curl is missing: the README walkthrough runs the real curl (apt-get install curl)");
  m = await startMember();
  ids = await learnIds(m.clientURL);
});

afterAll(async () => {
  await m?.stop();
});

const expand = (c: string): string => c.replaceAll("http://localhost:2379", m.clientURL).replaceAll("<id>", leaseID);

function run(c: string): string {
  const r = spawnSync("/bin/sh", ["-c", expand(c)], { encoding: "utf8", timeout: 10_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const kv = (k: string, v: string, create: number, mod: number, version: number): string =>
  `{"key":"${b64(k)}","create_revision":"${create}","mod_revision":"${mod}","version":"${version}","value":"${b64(v)}"}`;

it("every command is in the README as written", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  for (const [name, c] of Object.entries(cmd)) expect(readme.includes(c), `${name}: ${c}`).toBe(true);
});

it("put, get, a prefix, a watch, a lease: the answers, byte for byte", async () => {
  const h = (rev: number): string => ids.hdr(rev);
  expect(run(cmd.put)).toBe(`{"header":${h(2)}}`);
  expect(run(cmd.get)).toBe(`{"header":${h(2)},"kvs":[${kv("foo", "bar", 2, 2, 1)}],"count":"1"}`);
  expect(run(cmd.putPrefixed)).toBe(`{"header":${h(3)}}`);
  expect(run(cmd.getPrefix)).toBe(`{"header":${h(3)},"kvs":[${kv("config/a", "1", 3, 3, 1)}],"count":"1"}`);

  // The watch runs until it is stopped; "put foo again from another shell".
  const w = spawn("/bin/sh", ["-c", `exec ${expand(cmd.watch)}`], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  w.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const lines = async (n: number): Promise<string[]> => {
    for (let i = 0; i < 100 && out.split("\n").length <= n; i++) await new Promise((r) => setTimeout(r, 30));
    return out.split("\n").slice(0, n);
  };
  expect(await lines(1)).toEqual([`{"result":{"header":${h(3)},"created":true}}`]);
  expect(run(cmd.put)).toBe(`{"header":${h(4)}}`);
  expect(await lines(2)).toEqual([`{"result":{"header":${h(3)},"created":true}}`, `{"result":{"header":${h(4)},"events":[{"kv":${kv("foo", "bar", 2, 4, 2)}}]}}`]);
  const exited = new Promise((r) => w.once("exit", r));
  w.kill("SIGTERM");
  await exited;

  const grant = run(cmd.grant);
  leaseID = (JSON.parse(grant) as { ID: string }).ID;
  expect(grant).toBe(`{"header":${h(4)},"ID":"${leaseID}","TTL":"30"}`);
  expect(run(cmd.putLeased)).toBe(`{"header":${h(5)}}`);
  expect(run(cmd.keepalive)).toBe(`{"result":{"header":${h(5)},"ID":"${leaseID}","TTL":"30"}}\n`);
  // etcd truncates the remaining seconds: 29 once any time has passed since the keepalive.
  expect(run(cmd.timetolive)).toMatch(
    new RegExp(`^\\{"header":${h(5).replace(/[{}]/g, "\\$&")},"ID":"${leaseID}","TTL":"(29|30)","grantedTTL":"30","keys":\\["c2Vzc2lvbg=="\\]\\}$`),
  );
});
