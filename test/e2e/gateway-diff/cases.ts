/**
 * The table of gateway requests both servers get, in order, against one store each (both start
 * empty, so every revision must agree). Each group uses its own keys; later groups see earlier
 * groups' writes, and a case skipped on both sides (knownDiffs) writes on neither.
 */
import type { Case, Req } from "./compare.js";

export const b64 = (s: string): string => Buffer.from(s, "latin1").toString("base64");
const J = (o: unknown): string => JSON.stringify(o);
const post = (path: string, body: unknown = {}): Req => ({ path, body: typeof body === "string" ? body : J(body) });
const c = (name: string, req: Req, extra: Partial<Case> = {}): Case => ({ name, req, ...extra });

const K = (s: string): string => b64(s);
const put = (k: string, v: string, more: Record<string, unknown> = {}): Req => post("/v3/kv/put", { key: K(k), value: K(v), ...more });
const range = (more: Record<string, unknown>): Req => post("/v3/kv/range", more);
const rangeKeys = (k: string, end: string, more: Record<string, unknown> = {}): Req => range({ key: K(k), range_end: K(end), ...more });

function rangeCases(): Case[] {
  const out: Case[] = [
    c("range: a missing key on the empty store", range({ key: K("r/a") })),
    c("put r/a=1", put("r/a", "1")),
    c("put r/b=2", put("r/b", "2")),
    c("put r/c=3", put("r/c", "3")),
    c("put r/a=4 (second version)", put("r/a", "4")),
    c("put r/d=0", put("r/d", "0")),
    c("put s/x (outside the prefix)", put("s/x", "x")),
    c("range: one key", range({ key: K("r/a") })),
    c("range: the prefix [r/, r0)", rangeKeys("r/", "r0")),
    c("range: range_end \\0 from r/b (every key ≥ r/b)", range({ key: K("r/b"), range_end: "AA==" })),
    c("range: key \\0 and range_end \\0 (everything)", range({ key: "AA==", range_end: "AA==" })),
    c("range: range_end before key (empty)", rangeKeys("r/c", "r/a")),
    c("range: range_end equal to key (empty)", rangeKeys("r/a", "r/a")),
    c("range: camelCase rangeEnd", range({ key: K("r/"), rangeEnd: K("r0") })),
  ];
  for (const limit of [0, 1, 2, 4, 5, -1, "3", "9223372036854775807"]) out.push(c(`range: limit ${J(limit)}`, rangeKeys("r/", "r0", { limit })));
  for (const revision of [1, 2, 3, 5, 7, 8, 9, 100, 0, -1, "4"]) out.push(c(`range: revision ${J(revision)}`, rangeKeys("r/", "r0", { revision })));
  for (const order of ["NONE", "ASCEND", "DESCEND", 2, undefined]) {
    for (const target of ["KEY", "VERSION", "CREATE", "MOD", "VALUE", 3, undefined]) {
      if (order === undefined && target === undefined) continue;
      out.push(c(`range: sort_order ${J(order)} sort_target ${J(target)}`, rangeKeys("r/", "r0", { sort_order: order, sort_target: target })));
    }
  }
  out.push(
    c("range: camelCase sortOrder/sortTarget with limit", rangeKeys("r/", "r0", { sortOrder: "DESCEND", sortTarget: "MOD", limit: 2 })),
    c("range: sort_order an unknown name", rangeKeys("r/", "r0", { sort_order: "SIDEWAYS" })),
    // Not sort_target 9: etcd 3.4 sorts with a nil sorter and the whole process panics.
    c("range: sort_order an out-of-range number", rangeKeys("r/", "r0", { sort_order: 9 })),
    c("range: serializable", rangeKeys("r/", "r0", { serializable: true })),
    c("range: keys_only", rangeKeys("r/", "r0", { keys_only: true })),
    c("range: count_only", rangeKeys("r/", "r0", { count_only: true })),
    c("range: keys_only and count_only", rangeKeys("r/", "r0", { keys_only: true, count_only: true })),
    c("range: count_only with limit 1", rangeKeys("r/", "r0", { count_only: true, limit: 1 })),
    c("range: keys_only with limit 1 and an old revision", rangeKeys("r/", "r0", { keys_only: true, limit: 1, revision: 4 })),
    c("range: count_only on a missing key", range({ key: K("nope"), count_only: true })),
  );
  for (const [f, v] of [
    ["min_mod_revision", 4],
    ["max_mod_revision", 4],
    ["min_create_revision", 3],
    ["max_create_revision", 3],
    ["min_mod_revision", 100],
    ["max_mod_revision", 1],
    ["minModRevision", 5],
  ] as const) {
    out.push(c(`range: ${f} ${v}`, rangeKeys("r/", "r0", { [f]: v })));
    out.push(c(`range: ${f} ${v} with limit 1`, rangeKeys("r/", "r0", { [f]: v, limit: 1 })));
  }
  out.push(
    c("range: min and max mod revision together, sorted by value", rangeKeys("r/", "r0", { min_mod_revision: 3, max_mod_revision: 5, sort_target: "VALUE", sort_order: "DESCEND" })),
    c("range: filters with count_only", rangeKeys("r/", "r0", { min_create_revision: 3, count_only: true })),
    c("range: filters with keys_only and a revision", rangeKeys("r/", "r0", { max_mod_revision: 3, keys_only: true, revision: 4 })),
  );
  return out;
}

function putCases(): Case[] {
  return [
    c("put: prev_kv on a new key (no prev_kv)", put("p/a", "1", { prev_kv: true })),
    c("put: prev_kv on an existing key", put("p/a", "2", { prev_kv: true })),
    c("put: camelCase prevKv", put("p/a", "3", { prevKv: true })),
    c("put: ignore_value on an existing key", post("/v3/kv/put", { key: K("p/a"), ignore_value: true, prev_kv: true })),
    c("put: ignore_value with a value", put("p/a", "x", { ignore_value: true })),
    c("put: ignore_value on a missing key", post("/v3/kv/put", { key: K("p/none"), ignore_value: true })),
    c("put: an empty value", post("/v3/kv/put", { key: K("p/empty") })),
    c("put: an explicit empty value, prev_kv", post("/v3/kv/put", { key: K("p/empty"), value: "", prev_kv: true })),
    c("put: binary key and value", post("/v3/kv/put", { key: K("p/\u00ff\u0000\u0001"), value: K("\u0000\u00fe") })),
    c("range: the binary key", range({ key: K("p/\u00ff\u0000\u0001") })),
    c("lease: grant an explicit id for puts (600 s)", post("/v3/lease/grant", { TTL: 600, ID: 7001 })),
    c("put: with a lease", put("p/l", "1", { lease: "7001" })),
    c("put: with a lease as a number", put("p/l2", "1", { lease: 7001 })),
    c("put: ignore_lease keeps the lease", put("p/l", "2", { ignore_lease: true, prev_kv: true })),
    c("range: the key keeps its lease", range({ key: K("p/l") })),
    c("put: ignore_lease with a lease", put("p/l", "3", { ignore_lease: true, lease: "7001" })),
    c("put: ignore_lease on a key without a lease", put("p/a", "4", { ignore_lease: true })),
    c("put: ignore_lease on a missing key", put("p/none", "4", { ignore_lease: true })),
    c("put: ignore_lease and ignore_value together", post("/v3/kv/put", { key: K("p/l"), ignore_lease: true, ignore_value: true, prev_kv: true })),
    c("put: without a lease drops the lease", put("p/l", "5", { prev_kv: true })),
    c("put: an unknown lease", put("p/a", "5", { lease: "424242" })),
    c("put: lease -1", put("p/a", "5", { lease: -1 })),
    c("put: an empty key", post("/v3/kv/put", { key: "", value: K("v") })),
    c("put: no key", post("/v3/kv/put", { value: K("v") })),
  ];
}

function deleteCases(): Case[] {
  return [
    c("put d/a", put("d/a", "1")),
    c("put d/b", put("d/b", "2")),
    c("put d/c", put("d/c", "3")),
    c("put d/d", put("d/d", "4")),
    c("deleterange: a missing key", post("/v3/kv/deleterange", { key: K("d/none") })),
    c("deleterange: a missing key with prev_kv", post("/v3/kv/deleterange", { key: K("d/none"), prev_kv: true })),
    c("deleterange: one key with prev_kv", post("/v3/kv/deleterange", { key: K("d/a"), prev_kv: true })),
    c("deleterange: a range [d/b, d/d) without prev_kv", post("/v3/kv/deleterange", { key: K("d/b"), range_end: K("d/d") })),
    c("deleterange: range_end before key", post("/v3/kv/deleterange", { key: K("d/d"), range_end: K("d/a") })),
    c("deleterange: range_end \\0 from d/ with prev_kv", post("/v3/kv/deleterange", { key: K("d/"), range_end: "AA==", prev_kv: true })),
    c("deleterange: no key", post("/v3/kv/deleterange", { prev_kv: true })),
    c("deleterange: only a range_end", post("/v3/kv/deleterange", { range_end: K("z") })),
    c("range: after the deletes", range({ key: "AA==", range_end: "AA==", keys_only: true })),
  ];
}

function txnCases(): Case[] {
  const out: Case[] = [
    c("lease: grant 7002 for txn compares", post("/v3/lease/grant", { TTL: 600, ID: 7002 })),
    c("put t/k=v with lease 7002", put("t/k", "v", { lease: "7002" })),
    c("put t/k=w (version 2)", put("t/k", "w", { lease: "7002" })),
  ];
  const values: Record<string, [string, unknown][]> = {
    VERSION: [["version", "2"], ["version", 1], ["version", "0"]],
    CREATE: [["create_revision", "3"], ["create_revision", "100000"]],
    MOD: [["mod_revision", "3"], ["modRevision", "100000"]],
    VALUE: [["value", K("w")], ["value", K("a")], ["value", K("z")]],
    LEASE: [["lease", "7002"], ["lease", "0"]],
  };
  for (const target of Object.keys(values)) {
    for (const result of ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"]) {
      for (const [f, v] of values[target]!) {
        out.push(
          c(`txn: ${target} ${result} ${f}=${J(v)} on t/k`, post("/v3/kv/txn", {
            compare: [{ key: K("t/k"), target, result, [f]: v }],
            success: [{ request_put: { key: K("t/out"), value: K(`${target}-${result}`) } }],
            failure: [{ request_range: { key: K("t/k") } }],
          })),
        );
      }
    }
  }
  for (const [target, f, v] of [["VERSION", "version", "0"], ["CREATE", "create_revision", "0"], ["MOD", "mod_revision", "0"], ["VALUE", "value", ""], ["LEASE", "lease", "0"]] as const) {
    out.push(
      c(`txn: ${target} EQUAL ${J(v)} on a missing key`, post("/v3/kv/txn", {
        compare: [{ key: K("t/missing"), target, result: "EQUAL", [f]: v }],
        success: [{ request_range: { key: K("t/k"), keys_only: true } }],
      })),
    );
  }
  out.push(
    c("txn: enums as numbers (target 0 = VERSION, result 2 = LESS)", post("/v3/kv/txn", { compare: [{ key: K("t/k"), target: 0, result: 2, version: "5" }], success: [{ request_range: { key: K("t/k") } }] })),
    c("txn: a compare over a range (range_end)", post("/v3/kv/txn", { compare: [{ key: K("t/"), range_end: K("t0"), target: "VERSION", result: "GREATER", version: "0" }], success: [{ request_range: { key: K("t/"), range_end: K("t0") } }], failure: [] })),
    c("txn: a compare over range_end \\0", post("/v3/kv/txn", { compare: [{ key: K("t/"), range_end: "AA==", target: "MOD", result: "LESS", mod_revision: "1000" }], success: [{ request_range: { key: K("t/k") } }] })),
    c("txn: a compare without a target value (VERSION EQUAL unset)", post("/v3/kv/txn", { compare: [{ key: K("t/k") }], success: [{ request_range: { key: K("t/k") } }], failure: [{ request_range: { key: K("t/out") } }] })),
    c("txn: several compares, one false", post("/v3/kv/txn", { compare: [{ key: K("t/k"), target: "VALUE", value: K("w") }, { key: K("t/k"), target: "VERSION", result: "GREATER", version: "5" }], success: [{ request_put: { key: K("t/x"), value: K("s") } }], failure: [{ request_put: { key: K("t/x"), value: K("f") } }] })),
    c("txn: an empty txn", post("/v3/kv/txn", {})),
    c("txn: only compares", post("/v3/kv/txn", { compare: [{ key: K("t/k"), target: "VALUE", value: K("w") }] })),
    c("txn: put, range, delete of different keys with prev_kv", post("/v3/kv/txn", { success: [
      { request_put: { key: K("t/a"), value: K("1"), prev_kv: true } },
      { request_range: { key: K("t/"), range_end: K("t0"), count_only: true } },
      { request_delete_range: { key: K("t/x"), prev_kv: true } },
    ] })),
    c("txn: camelCase requestPut/requestRange/requestDeleteRange", post("/v3/kv/txn", { success: [
      { requestPut: { key: K("t/b"), value: K("2"), prevKv: true } },
      { requestRange: { key: K("t/a") } },
      { requestDeleteRange: { key: K("t/zz") } },
    ] })),
    c("txn: range then put of the same key", post("/v3/kv/txn", { success: [{ request_range: { key: K("t/a") } }, { request_put: { key: K("t/a"), value: K("9") } }, { request_range: { key: K("t/a") } }] })),
    c("txn: the same key in success and failure", post("/v3/kv/txn", { compare: [{ key: K("t/a"), target: "VALUE", value: K("9") }], success: [{ request_put: { key: K("t/a"), value: K("s") } }], failure: [{ request_put: { key: K("t/a"), value: K("f") } }] })),
    c("txn: nested txn (request_txn) with its own compare", post("/v3/kv/txn", { success: [
      { request_put: { key: K("t/n1"), value: K("1") } },
      { request_txn: {
        compare: [{ key: K("t/n1"), target: "VERSION", result: "EQUAL", version: "1" }],
        success: [{ request_range: { key: K("t/n1") } }, { request_put: { key: K("t/n2"), value: K("2"), prev_kv: true } }],
        failure: [{ request_delete_range: { key: K("t/n1") } }],
      } },
    ] })),
    c("txn: nested two levels with delete and prev_kv", post("/v3/kv/txn", { compare: [{ key: K("t/n2"), target: "VALUE", value: K("2") }], success: [
      { request_txn: { success: [{ request_txn: { success: [{ request_delete_range: { key: K("t/n"), range_end: K("t/o"), prev_kv: true } }] } }] } },
    ], failure: [{ request_range: { key: K("t/n2") } }] })),
    c("txn: camelCase requestTxn in the failure branch", post("/v3/kv/txn", { compare: [{ key: K("t/none"), target: "CREATE", result: "GREATER", createRevision: "0" }], failure: [{ requestTxn: { success: [{ requestPut: { key: K("t/c"), value: K("c") } }] } }] })),
    c("txn: duplicate put/put", post("/v3/kv/txn", { success: [{ request_put: { key: K("t/d") } }, { request_put: { key: K("t/d"), value: K("2") } }] })),
    c("txn: duplicate put/delete", post("/v3/kv/txn", { success: [{ request_put: { key: K("t/d") } }, { request_delete_range: { key: K("t/d") } }] })),
    c("txn: a put inside a deleted range", post("/v3/kv/txn", { success: [{ request_delete_range: { key: K("t/"), range_end: K("t0") } }, { request_put: { key: K("t/q") } }] })),
    c("txn: two overlapping deletes", post("/v3/kv/txn", { success: [{ request_delete_range: { key: K("t/a"), range_end: K("t/c") } }, { request_delete_range: { key: K("t/b") } }] })),
    c("txn: a duplicate put across nesting levels", post("/v3/kv/txn", { success: [{ request_put: { key: K("t/d") } }, { request_txn: { success: [{ request_put: { key: K("t/d") } }] } }] })),
    c("txn: duplicate puts in different branches of a nested txn", post("/v3/kv/txn", { success: [{ request_txn: { success: [{ request_put: { key: K("t/e") } }], failure: [{ request_put: { key: K("t/e") } }] } }] })),
    c("txn: an empty key in a put", post("/v3/kv/txn", { success: [{ request_put: { value: K("v") } }] })),
    c("txn: an empty key in a range", post("/v3/kv/txn", { success: [{ request_range: {} }] })),
    c("txn: an empty key in a compare", post("/v3/kv/txn", { compare: [{ target: "VALUE", value: K("v") }], success: [{ request_range: { key: K("t/a") } }] })),
    c("txn: an empty request op", post("/v3/kv/txn", { success: [{}] })),
    c("txn: an unknown lease in a put", post("/v3/kv/txn", { success: [{ request_put: { key: K("t/l"), lease: "999999" } }] })),
    c("txn: ignore_value on a missing key", post("/v3/kv/txn", { success: [{ request_put: { key: K("t/none"), ignore_value: true } }] })),
    c("txn: a range at a future revision", post("/v3/kv/txn", { success: [{ request_range: { key: K("t/a"), revision: 100000 } }] })),
    c("txn: a bad compare target", post("/v3/kv/txn", { compare: [{ key: K("t/a"), target: "SIZE" }] })),
    c("txn: a bad compare result number", post("/v3/kv/txn", { compare: [{ key: K("t/a"), result: 7 }], success: [{ request_range: { key: K("t/a") } }] })),
    c("txn: 128 puts (the default limit)", post("/v3/kv/txn", { success: Array.from({ length: 128 }, (_, i) => ({ request_put: { key: K(`t/m/${i}`) } })) })),
    c("txn: 129 puts (over the limit)", post("/v3/kv/txn", { success: Array.from({ length: 129 }, (_, i) => ({ request_put: { key: K(`t/m/${i}`) } })) })),
    c("txn: 129 compares", post("/v3/kv/txn", { compare: Array.from({ length: 129 }, () => ({ key: K("t/a") })) })),
    c("range: the txn keys", range({ key: K("t/"), range_end: K("t0"), keys_only: true, limit: 10 })),
  );
  return out;
}

function compactionCases(): Case[] {
  return [
    c("put k/c=1", put("k/c", "1")),
    c("put k/c=2", put("k/c", "2")),
    c("put k/c=3", put("k/c", "3")),
    c("compaction: revision 0", post("/v3/kv/compaction", { revision: 0 })),
    c("compaction: a future revision", post("/v3/kv/compaction", { revision: 100000 })),
    c("compaction: revision 10, physical", post("/v3/kv/compaction", { revision: "10", physical: true })),
    c("compaction: revision 10 again", post("/v3/kv/compaction", { revision: 10 })),
    c("compaction: revision 9 (before the last)", post("/v3/kv/compaction", { revision: 9, physical: true })),
    c("range: at the compacted revision 9", range({ key: K("r/a"), revision: 9 })),
    c("range: at the compact revision 10", range({ key: "AA==", range_end: "AA==", revision: 10, keys_only: true })),
    c("range: at revision 11", rangeKeys("r/", "r0", { revision: 11 })),
    c("compaction: revision 20, not physical", post("/v3/kv/compaction", { revision: 20 })),
    c("range: at revision 19 after compaction 20", range({ key: K("r/a"), revision: 19 })),
    c("txn: a range at a compacted revision", post("/v3/kv/txn", { success: [{ request_range: { key: K("r/a"), revision: 5 } }] })),
    c("range: the latest after compaction", range({ key: K("k/c") })),
    c("compaction: negative revision", post("/v3/kv/compaction", { revision: -3 })),
    c("compaction: an empty body (revision 0)", post("/v3/kv/compaction", "")),
    c("txn: a compacted range before an ignore_value put of a missing key", post("/v3/kv/txn", { success: [{ request_range: { key: K("r/a"), revision: 5 } }, { request_put: { key: K("k/none"), ignore_value: true } }] })),
    c("txn: a future range before an unknown-lease put", post("/v3/kv/txn", { success: [{ request_range: { key: K("r/a"), revision: 100000 } }, { request_put: { key: K("k/l"), lease: "4242" } }] })),
    c("txn: an ignore_value put of a missing key before a compacted range", post("/v3/kv/txn", { success: [{ request_put: { key: K("k/none"), ignore_value: true } }, { request_range: { key: K("r/a"), revision: 5 } }] })),
    c("txn: a compacted range and a bad put in the branch not taken", post("/v3/kv/txn", { compare: [{ key: K("k/c"), target: "VERSION", result: "GREATER", version: "0" }], success: [{ request_range: { key: K("r/a"), revision: 5 } }], failure: [{ request_put: { key: K("k/none"), ignore_value: true } }] })),
  ];
}

function leaseCases(): Case[] {
  return [
    c("lease: grant a generated id, 600 s", post("/v3/lease/grant", { TTL: 600 }), { bindLease: "g1" }),
    c("lease: grant a generated id as ID 0", post("/v3/lease/grant", { TTL: "900", ID: 0 }), { bindLease: "g2" }),
    c("lease: grant an explicit id", post("/v3/lease/grant", { TTL: 60, ID: "8001" })),
    c("lease: grant an existing id", post("/v3/lease/grant", { TTL: 60, ID: "8001" })),
    c("lease: grant TTL 1 is raised to the minimum", post("/v3/lease/grant", { TTL: 1, ID: 8002 })),
    c("lease: revoke the TTL-1 lease at once", post("/v3/lease/revoke", { ID: 8002 })),
    c("lease: grant TTL 0", post("/v3/lease/grant", { ID: 8003 })),
    c("lease: revoke the TTL-0 lease at once", post("/v3/lease/revoke", { ID: 8003 })),
    c("lease: grant a negative TTL", post("/v3/lease/grant", { TTL: -5, ID: 8004 })),
    c("lease: revoke the negative-TTL lease at once", post("/v3/lease/revoke", { ID: 8004 })),
    c("lease: grant a TTL too large", post("/v3/lease/grant", { TTL: "9000000001" })),
    c("lease: grant a negative id", post("/v3/lease/grant", { TTL: 60, ID: "-5" })),
    c("lease: grant TTL as a fraction", post("/v3/lease/grant", { TTL: 1.5 })),
    c("put: a key on the generated lease", post("/v3/kv/put", `{"key":"${K("l/1")}","lease":"{{lease:g1}}"}`)),
    c("put: a second key on the generated lease", post("/v3/kv/put", `{"key":"${K("l/0")}","lease":"{{lease:g1}}","prev_kv":true}`)),
    c("range: keys carry the generated lease", range({ key: K("l/"), range_end: K("l0") })),
    c("lease: timetolive with keys", post("/v3/lease/timetolive", `{"ID":"{{lease:g1}}","keys":true}`)),
    c("lease: timetolive without keys", post("/v3/lease/timetolive", `{"ID":"{{lease:g2}}"}`)),
    c("lease: timetolive of an explicit id", post("/v3/lease/timetolive", { ID: 8001, keys: true })),
    c("lease: timetolive of a missing lease", post("/v3/lease/timetolive", { ID: 31337, keys: true })),
    c("lease: timetolive with no ID", post("/v3/lease/timetolive", {})),
    c("lease: /v3/kv/lease/timetolive alias", post("/v3/kv/lease/timetolive", `{"ID":"{{lease:g1}}"}`)),
    c("lease: leases", post("/v3/lease/leases", {})),
    c("lease: /v3/kv/lease/leases alias with an empty body", post("/v3/kv/lease/leases", "")),
    c("lease: revoke the generated lease (deletes its keys)", post("/v3/lease/revoke", `{"ID":"{{lease:g1}}"}`)),
    c("range: the lease's keys are gone", range({ key: K("l/"), range_end: K("l0") })),
    c("lease: revoke it again", post("/v3/lease/revoke", `{"ID":"{{lease:g1}}"}`)),
    c("lease: revoke with no ID", post("/v3/lease/revoke", {})),
    c("lease: /v3/kv/lease/revoke alias", post("/v3/kv/lease/revoke", { ID: "8001" })),
    c("lease: timetolive of a revoked lease", post("/v3/lease/timetolive", { ID: "8001" })),
    c("lease: leases after the revokes", post("/v3/lease/leases", {})),
    c("lease: keepalive (one request, the body closed)", post("/v3/lease/keepalive", `{"ID":"{{lease:g2}}"}`)),
    c("lease: keepalive of an explicit id", post("/v3/lease/keepalive", { ID: 7001 })),
    c("lease: keepalive of a missing lease", post("/v3/lease/keepalive", { ID: 5 })),
    c("lease: keepalive with an empty body", post("/v3/lease/keepalive", "")),
    c("lease: keepalive of two leases in one body", post("/v3/lease/keepalive", `{"ID":"7001"}{"ID":"{{lease:g2}}"}`)),
    c("lease: keepalive with invalid JSON", post("/v3/lease/keepalive", `{"ID":`)),
    c("watch: invalid JSON", post("/v3/watch", `{"create_request":`)),
    c("watch: a number for the message", post("/v3/watch", `5`)),
    c("lease: /v3/kv/lease/keepalive is not a route", post("/v3/kv/lease/keepalive", { ID: 5 })),
    c("lease: grant the largest id", post("/v3/lease/grant", { TTL: 100, ID: "9223372036854775807" })),
    c("lease: grant an id over int64", post("/v3/lease/grant", { TTL: 100, ID: "9223372036854775808" })),
    c("lease: revoke the largest id", post("/v3/lease/revoke", { ID: "9223372036854775807" })),
    c("lease: revoke the remaining ones", post("/v3/lease/revoke", `{"ID":"{{lease:g2}}"}`)),
    c("lease: revoke 7001", post("/v3/lease/revoke", { ID: 7001 })),
    c("lease: revoke 7002", post("/v3/lease/revoke", { ID: 7002 })),
  ];
}

function clusterCases(): Case[] {
  return [
    c("maintenance: status", post("/v3/maintenance/status", {})),
    c("maintenance: status, empty body", post("/v3/maintenance/status", "")),
    c("cluster: member list", post("/v3/cluster/member/list", {})),
    c("cluster: member add without URLs", post("/v3/cluster/member/add", {})),
    c("cluster: member add with a bad URL", post("/v3/cluster/member/add", { peerURLs: ["not a url"] })),
    c("cluster: member remove of a missing member", post("/v3/cluster/member/remove", { ID: "1" })),
    c("cluster: member remove without an ID", post("/v3/cluster/member/remove", {})),
    c("cluster: member update of a missing member", post("/v3/cluster/member/update", { ID: "1", peerURLs: ["http://127.0.0.1:1"] })),
    c("cluster: member promote of a missing member", post("/v3/cluster/member/promote", { ID: "1" })),
    c("maintenance: defragment", post("/v3/maintenance/defragment", {})),
    c("maintenance: hash (3.4's route; the hash itself is of the backend file)", post("/v3/maintenance/hash", {})),
    c("maintenance: alarm list", post("/v3/maintenance/alarm", { action: "GET" })),
    c("maintenance: alarm deactivate of nothing", post("/v3/maintenance/alarm", { action: "DEACTIVATE", alarm: "NOSPACE" })),
    c("maintenance: transfer leadership to nobody", post("/v3/maintenance/transfer-leadership", {})),
    c("maintenance: transfer leadership to itself", post("/v3/maintenance/transfer-leadership", { targetID: "1" })),
  ];
}

const big = (n: number): string => "A".repeat(n);

function badInputCases(): Case[] {
  const kv = "/v3/kv/put";
  return [
    c("bad: invalid JSON (cut short)", post(kv, `{"key":"YQ==","value":`)),
    c("bad: invalid JSON (a bare word)", post(kv, `{"key":x}`)),
    c("bad: invalid JSON (a trailing comma)", post(kv, `{"key":"YQ==",}`)),
    c("bad: invalid JSON (single quotes)", post(kv, `{'key':'YQ=='}`)),
    c("bad: a JSON array", post("/v3/kv/range", `[]`)),
    c("bad: a JSON string", post("/v3/kv/range", `"x"`)),
    c("bad: a JSON number", post("/v3/kv/range", `5`)),
    c("bad: JSON null", post("/v3/kv/range", `null`)),
    c("bad: an empty body on put", post(kv, ``)),
    c("bad: whitespace body on range", post("/v3/kv/range", ` \n `)),
    c("bad: text after the object", post("/v3/kv/range", `{"key":"YQ=="} trailing`)),
    c("bad: two objects", post("/v3/kv/range", `{"key":"YQ=="}{"key":"Yg=="}`)),
    c("bad: a number for bytes", post(kv, `{"key":5,"value":"YQ=="}`)),
    c("bad: an object for bytes", post(kv, `{"key":{},"value":"YQ=="}`)),
    c("bad: null for the key", post(kv, `{"key":null,"value":"YQ=="}`)),
    c("bad: a string for a bool", post(kv, `{"key":"YQ==","prev_kv":"yes"}`)),
    c("bad: a number for a bool", post(kv, `{"key":"YQ==","prev_kv":1}`)),
    c("bad: a bool for an int64", post("/v3/kv/range", `{"key":"YQ==","limit":true}`)),
    c("bad: a fraction for an int64", post(kv, `{"key":"YQ==","lease":1.5}`)),
    c("bad: an exponent for an int64", post("/v3/kv/range", `{"key":"YQ==","limit":1e2}`)),
    c("bad: a non-numeric string for an int64", post("/v3/kv/range", `{"key":"YQ==","revision":"abc"}`)),
    c("bad: an int64 overflow", post("/v3/kv/range", `{"key":"YQ==","limit":"99999999999999999999"}`)),
    c("bad: an array for an int64", post("/v3/kv/range", `{"key":"YQ==","limit":[1]}`)),
    c("bad: an object for a repeated field", post("/v3/kv/txn", `{"success":{"request_put":{"key":"YQ=="}}}`)),
    c("bad: a string for a message", post("/v3/kv/txn", `{"success":["x"]}`)),
    c("bad: base64 with !", post(kv, `{"key":"YQ==","value":"!!"}`)),
    c("bad: base64 without padding", post(kv, `{"key":"YQ","value":"YQ=="}`)),
    c("bad: URL-safe base64", post(kv, `{"key":"-_-_","value":"YQ=="}`)),
    c("bad: base64 with a newline escape", post(kv, `{"key":"YW\\nJj","value":"YQ=="}`)),
    c("bad: base64 with a space", post(kv, `{"key":"YW Jj","value":"YQ=="}`)),
    c("bad: unknown fields are ignored", post(kv, `{"key":"${K("u/1")}","nonsense":true,"nested":{"a":[1,2]}}`)),
    c("bad: a capitalised field name (Key) is unknown", post(kv, `{"Key":"YQ==","value":"YQ=="}`)),
    c("bad: an empty key on range", post("/v3/kv/range", `{}`)),
    c("bad: a UTF-8 byte order mark before the JSON", post("/v3/kv/range", `\uFEFF{"key":"YQ=="}`)),
    c("bad: an int64 string with a space", post("/v3/kv/range", `{"key":"${K("r/a")}","limit":" 1"}`)),
    c("bad: an int64 string with a fraction", post("/v3/kv/range", `{"key":"${K("r/a")}","limit":"1.0"}`)),
    c("bad: an int64 string in hex", post("/v3/kv/range", `{"key":"${K("r/a")}","limit":"0x10"}`)),
    c("bad: an int64 string with a plus sign", post("/v3/kv/range", `{"key":"${K("r/a")}","revision":"+3"}`)),
    c("bad: an int64 string with a leading zero", post("/v3/kv/range", `{"key":"${K("r/a")}","revision":"03"}`)),
    c("bad: -0 for an int64", post("/v3/kv/range", `{"key":"${K("r/a")}","limit":-0}`)),
    c("bad: null for a bool, an int64 and an enum", post("/v3/kv/range", `{"key":"${K("r/a")}","keys_only":null,"limit":null,"sort_order":null}`)),
    c("bad: an enum name in lower case", post("/v3/kv/range", `{"key":"${K("r/a")}","sort_order":"descend"}`)),
    c("bad: an enum number as a string", post("/v3/kv/range", `{"key":"${K("r/a")}","sort_order":"1"}`)),
    c("bad: a field name in upper case (KEYS_ONLY) is unknown", post("/v3/kv/range", `{"key":"${K("r/a")}","KEYS_ONLY":true}`)),
    c("bad: camelCase keysOnly is known", post("/v3/kv/range", `{"key":"${K("r/a")}","keysOnly":true}`)),
    c("bad: null for a repeated field", post("/v3/kv/txn", `{"success":null,"compare":null}`)),
    c("bad: unknown fields inside a txn op", post("/v3/kv/txn", `{"success":[{"request_range":{"key":"${K("r/a")}","bogus":1},"bogus_op":{}}]}`)),
    c("bad: two oneof members in one request op", post("/v3/kv/txn", `{"success":[{"request_range":{"key":"${K("r/a")}"},"request_put":{"key":"${K("u/two")}"}}]}`)),
    // Not `{"success":[null]}` nor `{"request_put":null}`: etcd 3.4 dereferences the nil op and the process panics.
    c("bad: an empty key on deleterange", post("/v3/kv/deleterange", ``)),
    c("bad: a duplicate field (last wins)", post("/v3/kv/put", `{"key":"YQ==","key":"${K("u/2")}","value":"${K("dup")}"}`)),
    c("range: u/ after the bad inputs", range({ key: K("u/"), range_end: K("u0") })),
    c("huge: a 1.5 MiB value (request too large)", post(kv, `{"key":"${K("h/1")}","value":"${big(2_100_000)}"}`)),
    c("huge: a 2.25 MiB value (over gRPC's limit)", post(kv, `{"key":"${K("h/1")}","value":"${big(3_000_000)}"}`)),
    c("huge: a 4.5 MiB value", post(kv, `{"key":"${K("h/1")}","value":"${big(6_000_000)}"}`)),
    c("huge: a 1 MiB value fits", post(kv, `{"key":"${K("h/1")}","value":"${big(1_400_000)}"}`)),
    c("huge: range the big key (count only)", range({ key: K("h/1"), count_only: true })),
    c("huge: a 1.5 MiB unknown field", post("/v3/kv/range", `{"key":"${K("h/1")}","keys_only":true,"pad":"${big(2_000_000)}"}`)),
    c("huge: an 8 MB unknown field (the message stays small)", post("/v3/kv/range", `{"key":"${K("h/1")}","keys_only":true,"pad":"${big(8_000_000)}"}`)),
  ];
}

function routeCases(): Case[] {
  const out: Case[] = [];
  for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
    out.push(c(`route: ${method} /v3/kv/range`, { method, path: "/v3/kv/range", body: `{"key":"YQ=="}` }));
  }
  out.push(
    c("route: GET /v3/lease/leases", { method: "GET", path: "/v3/lease/leases" }),
    c("route: GET /v3/maintenance/status", { method: "GET", path: "/v3/maintenance/status" }),
    c("route: GET /v3/kv/unknown", { method: "GET", path: "/v3/kv/unknown" }),
    c("route: HEAD /v3/kv/range", { method: "HEAD", path: "/v3/kv/range" }),
    c("route: OPTIONS /v3/kv/range", { method: "OPTIONS", path: "/v3/kv/range", body: "" }),
    c("route: POST /v3/kv/unknown", post("/v3/kv/unknown")),
    c("route: POST /v3/kv", post("/v3/kv")),
    c("route: POST /v3/", post("/v3/")),
    c("route: POST /v3/kv/range/extra", post("/v3/kv/range/extra", { key: "YQ==" })),
    c("route: POST /v3/kv/range/ (trailing slash)", post("/v3/kv/range/", { key: "YQ==" })),
    c("route: POST /v3/kv/range?x=1 (a query)", post("/v3/kv/range?x=1", { key: K("r/a") })),
    c("route: POST /V3/kv/range (upper case)", post("/V3/kv/range", { key: "YQ==" })),
    c("route: POST /v3/KV/range (upper case)", post("/v3/KV/range", { key: "YQ==" })),
    c("route: POST /v3/maintenance/hashkv (not routed by 3.4's gateway)", post("/v3/maintenance/hashkv")),
    c("route: POST /v3/maintenance/alarm", post("/v3/maintenance/alarm")),
    c("route: POST /v4/kv/range", post("/v4/kv/range", { key: "YQ==" })),
    c("route: POST /v3beta/kv/range", post("/v3beta/kv/range", { key: K("r/a") })),
    c("route: POST /v3beta/kv/put", post("/v3beta/kv/put", { key: K("beta/1"), value: K("b"), prev_kv: true })),
    c("route: POST /v3beta/kv/txn", post("/v3beta/kv/txn", { success: [{ request_range: { key: K("beta/1") } }] })),
    c("route: POST /v3beta/lease/timetolive", post("/v3beta/lease/timetolive", { ID: 1 })),
    c("route: POST /v3beta/kv/unknown", post("/v3beta/kv/unknown")),
    c("route: GET /v3beta/kv/range", { method: "GET", path: "/v3beta/kv/range" }),
    c("route: POST /v3alpha/kv/range", post("/v3alpha/kv/range", { key: K("r/a") })),
    c("route: POST /v3alpha/kv/put", post("/v3alpha/kv/put", { key: K("alpha/1") })),
    c("route: content-type text/plain", { path: "/v3/kv/range", body: J({ key: K("r/a") }), headers: { "content-type": "text/plain" } }),
    c("route: content-type application/x-www-form-urlencoded", { path: "/v3/kv/range", body: J({ key: K("r/a") }), headers: { "content-type": "application/x-www-form-urlencoded" } }),
  );
  return out;
}

/** etcd 3.4's auth, v3election and v3lock gateway routes (none of them writes). */
function authElectionLockCases(): Case[] {
  return [
    c("auth: status (3.5 only)", post("/v3/auth/status")),
    c("auth: user list", post("/v3/auth/user/list")),
    c("auth: role list", post("/v3/auth/role/list")),
    c("auth: enable without a root user", post("/v3/auth/enable")),
    c("auth: authenticate while auth is disabled", post("/v3/auth/authenticate", { name: "root", password: "x" })),
    c("auth: disable while disabled", post("/v3/auth/disable")),
    c("auth: GET /v3/auth/enable", { method: "GET", path: "/v3/auth/enable" }),
    c("election: leader of an empty election", post("/v3/election/leader", { name: K("e") })),
    c("lock: unlock without a key", post("/v3/lock/unlock", {})),
    // Not campaign or lock: on etcd they create a session lease and keys (lock with an empty body waits).
  ];
}

/** Every case, in the order both servers get them. */
export function allCases(): Case[] {
  return [...rangeCases(), ...putCases(), ...deleteCases(), ...txnCases(), ...compactionCases(), ...leaseCases(), ...clusterCases(), ...badInputCases(), ...routeCases(), ...authElectionLockCases()];
}
