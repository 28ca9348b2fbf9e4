/**
 * A seeded random sequence of KV requests over a small key space (put, deleterange, range, txn,
 * compaction) for the differential test. The same seed gives the same requests; revisions in
 * requests are drawn around the store's current revision (learnt from etcd's answers as the
 * sequence runs, `observe`), so compacted and future revisions come up too.
 */
import { mulberry32 } from "../../prng.js";
import type { Case, Req } from "./compare.js";

const b64 = (s: string): string => Buffer.from(s, "latin1").toString("base64");

export class RandomOps {
  private readonly rnd: () => number;
  /** The store's revision as last answered (by etcd). */
  rev = 1;
  /** Last compaction revision asked for (0: none). */
  compacted = 0;
  private n = 0;

  constructor(seed: number) {
    this.rnd = mulberry32(seed);
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
  private chance(p: number): boolean {
    return this.rnd() < p;
  }
  private key(): string {
    return `q/${this.int(0, 7)}`;
  }
  /** A key and optionally a range_end: none, a later key, the prefix end or "\0". */
  private span(): Record<string, string> {
    const k = this.key();
    const r = this.rnd();
    if (r < 0.5) return { key: b64(k) };
    if (r < 0.7) return { key: b64(k), range_end: b64(`q/${this.int(0, 8)}`) };
    if (r < 0.85) return { key: b64("q/"), range_end: b64("q0") };
    return { key: b64(k), range_end: "AA==" };
  }
  private revision(): number {
    const r = this.rnd();
    if (r < 0.4) return 0;
    if (r < 0.8) return this.int(Math.max(1, this.rev - 6), this.rev);
    if (r < 0.9) return this.int(1, Math.max(1, this.compacted));
    return this.rev + this.int(1, 3);
  }
  private rangeBody(): Record<string, unknown> {
    const o: Record<string, unknown> = { ...this.span() };
    if (this.chance(0.3)) o["limit"] = this.int(0, 4);
    if (this.chance(0.3)) o["revision"] = this.revision();
    if (this.chance(0.3)) {
      o["sort_order"] = this.pick(["NONE", "ASCEND", "DESCEND"]);
      o["sort_target"] = this.pick(["KEY", "VERSION", "CREATE", "MOD", "VALUE"]);
    }
    if (this.chance(0.15)) o["keys_only"] = true;
    if (this.chance(0.15)) o["count_only"] = true;
    if (this.chance(0.15)) o["serializable"] = true;
    if (this.chance(0.1)) o["min_mod_revision"] = this.int(1, this.rev);
    if (this.chance(0.1)) o["max_mod_revision"] = this.int(1, this.rev);
    if (this.chance(0.1)) o["min_create_revision"] = this.int(1, this.rev);
    if (this.chance(0.1)) o["max_create_revision"] = this.int(1, this.rev);
    return o;
  }
  private putBody(): Record<string, unknown> {
    const o: Record<string, unknown> = { key: b64(this.key()), value: b64(`v${this.int(0, 99)}`) };
    if (this.chance(0.4)) o["prev_kv"] = true;
    if (this.chance(0.1)) {
      delete o["value"];
      o["ignore_value"] = true;
    }
    return o;
  }
  private deleteBody(): Record<string, unknown> {
    return { ...this.span(), ...(this.chance(0.5) ? { prev_kv: true } : {}) };
  }
  private op(depth: number): Record<string, unknown> {
    const r = this.rnd();
    if (r < 0.35) return { request_put: this.putBody() };
    if (r < 0.6) return { request_range: this.rangeBody() };
    if (r < 0.85 || depth > 1) return { request_delete_range: this.deleteBody() };
    return { request_txn: this.txnBody(depth + 1) };
  }
  private compare(): Record<string, unknown> {
    const target = this.pick(["VERSION", "CREATE", "MOD", "VALUE", "LEASE"] as const);
    const field = { VERSION: "version", CREATE: "create_revision", MOD: "mod_revision", VALUE: "value", LEASE: "lease" }[target];
    const value = target === "VALUE" ? b64(`v${this.int(0, 99)}`) : target === "LEASE" ? 0 : target === "VERSION" ? this.int(0, 3) : this.int(0, this.rev + 1);
    const o: Record<string, unknown> = { key: b64(this.key()), target, result: this.pick(["EQUAL", "GREATER", "LESS", "NOT_EQUAL"]), [field]: value };
    if (this.chance(0.15)) o["range_end"] = b64("q0");
    return o;
  }
  private txnBody(depth = 0): Record<string, unknown> {
    const list = (n: number): unknown[] => Array.from({ length: n }, () => this.op(depth));
    return {
      compare: Array.from({ length: this.int(0, 2) }, () => this.compare()),
      success: list(this.int(0, 3)),
      failure: list(this.int(0, 2)),
    };
  }

  /** The next request. */
  next(): Case {
    const i = this.n++;
    const r = this.rnd();
    let req: Req;
    if (r < 0.3) req = { path: "/v3/kv/put", body: JSON.stringify(this.putBody()) };
    else if (r < 0.55) req = { path: "/v3/kv/range", body: JSON.stringify(this.rangeBody()) };
    else if (r < 0.7) req = { path: "/v3/kv/deleterange", body: JSON.stringify(this.deleteBody()) };
    else if (r < 0.95) req = { path: "/v3/kv/txn", body: JSON.stringify(this.txnBody()) };
    else req = { path: "/v3/kv/compaction", body: JSON.stringify({ revision: this.revision(), ...(this.chance(0.5) ? { physical: true } : {}) }) };
    return { name: `random #${i}`, req };
  }

  /** Learns the revision (and a compaction) from etcd's answer to `req`. */
  observe(req: Req, status: number, json: unknown): void {
    const h = (json as { header?: { revision?: string } } | undefined)?.header;
    if (h?.revision !== undefined) this.rev = Number(h.revision);
    if (req.path === "/v3/kv/compaction" && status === 200) this.compacted = Math.max(this.compacted, Number((JSON.parse(req.body!) as { revision: number }).revision));
  }
}
