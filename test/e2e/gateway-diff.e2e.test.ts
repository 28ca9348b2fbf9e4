/**
 * Differential test of the v3 JSON gateway: one edgecd and one real etcd (/usr/bin/etcd, Debian's
 * etcd-server 3.4.23), single members on free loopback ports with fresh data dirs, get the same
 * requests in the same order; their HTTP status, content type and JSON body must agree after
 * normalising only what two independent clusters legitimately differ in (gateway-diff/compare.ts:
 * header ids and term, member ids/names/URLs, generated lease ids, remaining TTLs, unstable status
 * fields). Revisions are compared exactly: both stores start empty.
 *
 * A table of cases (gateway-diff/cases.ts), one test each, then a seeded random KV sequence
 * (gateway-diff/random.ts; GATEWAY_DIFF_SEED=<n> replays one, GATEWAY_DIFF_OPS=<n> sets its length).
 * Every mismatch prints the request, both answers and the normalised diff. Two checks at the end
 * gather what the per-request comparison leaves out: the gateway's response headers (those of the
 * HTTP layer aside) and the order of keys in JSON objects (error bodies apart from the others).
 * Other seeds can hit known diffs (seeds 6, 10 and 15 hit the txn check order one); the default passes.
 *
 * `knownDiffs` lists the cases where edgecd is known to answer differently from etcd (written up in
 * /tmp/tasks/h2.findings.md); they are skipped on both servers so the stores stay in step. Remove an
 * entry once edgecd is fixed.
 *
 * Skipped as a whole when /usr/bin/etcd is missing (scripts/install-test-deps.sh installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allCases } from "./gateway-diff/cases.js";
import { clip, report, run, type Case, type Outcome, type Side } from "./gateway-diff/compare.js";
import { etcdBinary, haveEtcd, startEtcd, type EtcdMember } from "./gateway-diff/etcd.js";
import { RandomOps } from "./gateway-diff/random.js";
import { startMember, type Member } from "./harness.js";

/** Case name → why edgecd's answer differs from etcd 3.4.23's (skipped until fixed). */
const knownDiffs: Record<string, string> = {
  "range: sort_order an unknown name": "etcd 3.4's jsonpb says `unknown value \"SIDEWAYS\" for enum etcdserverpb.RangeRequest_SortOrder`; edgecd gives 3.5's text",
  "txn: a bad compare target": "etcd 3.4's jsonpb says `unknown value \"SIZE\" for enum etcdserverpb.Compare_CompareTarget`; edgecd gives 3.5's text",
  "range: sort_order an out-of-range number": "etcd 3.4 has no sort option check (200, unsorted); edgecd answers 3.5's 400 `etcdserver: invalid sort option`",
  "lease: grant an existing id": "FailedPrecondition is HTTP 412 in etcd 3.4.23's gateway; edgecd answers 400",
  "route: POST /v3/maintenance/hashkv (not routed by 3.4's gateway)": "etcd 3.4's gateway answers 404 (HashKV shadowed by Hash); edgecd serves HashKV",
  "route: POST /v3/maintenance/alarm": "etcd 3.4 answers `{}` (no header) for an alarm GET; edgecd adds a header",
  "route: POST /v3alpha/kv/range": "etcd 3.4 does not serve /v3alpha (404 `404 page not found`); edgecd does",
  "route: POST /v3alpha/kv/put": "etcd 3.4 does not serve /v3alpha (404 `404 page not found`); edgecd does (and writes)",
  "bad: an enum name in lower case": "etcd 3.4's jsonpb enum message (`unknown value \"descend\" for enum etcdserverpb.RangeRequest_SortOrder`); edgecd gives 3.5's",
  "bad: an enum number as a string": "etcd 3.4's jsonpb enum message (`unknown value \"1\" for enum etcdserverpb.RangeRequest_SortOrder`); edgecd gives 3.5's",
  "maintenance: alarm list": "etcd 3.4 answers `{}` (no header); edgecd adds a header",
  "maintenance: alarm deactivate of nothing": "etcd 3.4 answers `{}` (no header); edgecd adds a header",
  "maintenance: transfer leadership to nobody": "FailedPrecondition is HTTP 412 in etcd 3.4.23's gateway; edgecd answers 400",
  "maintenance: transfer leadership to itself": "FailedPrecondition is HTTP 412 in etcd 3.4.23's gateway; edgecd answers 400",
  "auth: user list": "edgecd serves no /v3/auth/* route (404); etcd 3.4 answers a header",
  "auth: role list": "edgecd serves no /v3/auth/* route (404); etcd 3.4 answers a header",
  "auth: enable without a root user": "edgecd serves no /v3/auth/* route (404); etcd: 412 `etcdserver: root user does not exist`",
  "auth: authenticate while auth is disabled": "edgecd serves no /v3/auth/* route (404); etcd: 412 `etcdserver: authentication is not enabled`",
  "auth: disable while disabled": "edgecd serves no /v3/auth/* route (404); etcd 3.4 answers a header",
  "auth: GET /v3/auth/enable": "edgecd serves no /v3/auth/* route (404); etcd: 405 for a known path",
  "election: leader of an empty election": "edgecd serves no /v3/election/* route (404); etcd: 500 `election: no leader` (code 2)",
  "lock: unlock without a key": "edgecd serves no /v3/lock/* route (404); etcd: 500 `etcdserver: key is not provided` (code 2)",
  "response headers: the gateway's headers are etcd's": "etcd sends `Trailer: Grpc-Trailer-Content-Type` (chunked, with the trailer after the body) on every unary error; a web Response cannot send HTTP trailers, so edgecd sends none",
  "key order: error bodies list object keys in etcd's order": "etcd 3.4.23 writes {error, message, code}; edgecd writes etcd 3.5's {error, code, message}",
};

/** Answers that agree but list object keys in another order than etcd: error bodies, and the others. */
const keyOrderOnly: { errors: string[]; others: string[] } = { errors: [], others: [] };
/** Answers that differ in their response headers (but content-type and the HTTP layer's). */
const headerOnly: string[] = [];
const noteKeyOrder = (name: string, o: Outcome): void => {
  if (o.headerDiffs.length > 0) headerOnly.push(`${name}: ${o.headerDiffs.join("; ")}`);
  if (!o.keyOrderDiffers) return;
  const isError = typeof o.etcd.json === "object" && o.etcd.json !== null && "error" in o.etcd.json;
  keyOrderOnly[isError ? "errors" : "others"].push(`${name}\n    etcd:   ${clip(o.etcd.text)}\n    edgecd: ${clip(o.edgecd.text)}`);
};

if (!haveEtcd) console.warn(`gateway-diff: ${etcdBinary} does not exist; skipping the differential gateway test (scripts/install-test-deps.sh installs it)`);

describe.skipIf(!haveEtcd)("v3 gateway: edgecd answers as etcd 3.4.23 does", () => {
  let etcd: EtcdMember;
  let edgecd: Member;
  let sides: [Side, Side];

  beforeAll(async () => {
    [etcd, edgecd] = await Promise.all([startEtcd(), startMember({ name: "diff" })]);
    sides = [
      { target: "etcd", base: etcd.clientURL, leases: new Map() },
      { target: "edgecd", base: edgecd.clientURL, leases: new Map() },
    ];
  });

  afterAll(async () => {
    await Promise.all([etcd?.stop(), edgecd?.stop()]);
  });

  const check = async (c: Case): Promise<void> => {
    const o = await run(sides, c);
    noteKeyOrder(c.name, o);
    if (o.diffs.length > 0) expect.fail(`\n${report(c.name, c.req, o)}`);
  };

  describe("table", () => {
    const cases = allCases();
    const names = new Set<string>();
    for (const c of cases) {
      if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
      names.add(c.name);
      const reason = knownDiffs[c.name];
      if (reason !== undefined) it.skip(`${c.name} — known diff: ${reason}`, () => {});
      else it(c.name, () => check(c));
    }
  });

  it("a seeded random KV sequence", async () => {
    const seed = Number(process.env["GATEWAY_DIFF_SEED"] ?? 20261122);
    const ops = Number(process.env["GATEWAY_DIFF_OPS"] ?? 300);
    console.log(`gateway-diff: random sequence seed ${seed} (GATEWAY_DIFF_SEED=${seed} replays it), ${ops} requests`);
    const gen = new RandomOps(seed);
    const failures: string[] = [];
    for (let i = 0; i < ops && failures.length < 5; i++) {
      const c = gen.next();
      const o = await run(sides, c);
      gen.observe(c.req, o.etcd.status, o.etcd.json);
      noteKeyOrder(c.name, o);
      if (o.diffs.length > 0) failures.push(report(`${c.name} (seed ${seed})`, c.req, o));
    }
    if (failures.length > 0) expect.fail(`\n${failures.join("\n")}`);
  });

  const headersName = "response headers: the gateway's headers are etcd's";
  const headersReason = knownDiffs[headersName];
  if (headersReason !== undefined) it.skip(`${headersName} — known diff: ${headersReason}`, () => {});
  else {
    it(headersName, () => {
      if (headerOnly.length > 0) expect.fail(`${headerOnly.length} answers differ in their headers:\n${headerOnly.join("\n")}`);
    });
  }

  for (const kind of ["errors", "others"] as const) {
    const name = `key order: ${kind === "errors" ? "error bodies list" : "every other JSON answer lists"} object keys in etcd's order`;
    const reason = knownDiffs[name];
    if (reason !== undefined) it.skip(`${name} — known diff: ${reason}`, () => {});
    else {
      it(name, () => {
        const found = keyOrderOnly[kind];
        if (found.length > 0) expect.fail(`${found.length} answers agree but for the order of their keys:\n${found.join("\n")}`);
      });
    }
  }
});
