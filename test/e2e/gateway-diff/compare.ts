/**
 * The differential core: send one request to etcd and to edgecd, normalise what legitimately differs
 * between two independent single-member clusters, and describe any difference.
 *
 * Normalised (and only this): header `cluster_id`, `member_id`, `raft_term`; a member list's ids,
 * names and URLs; lease ids the servers generated (learnt from a grant's answer, `bindLease`, and
 * replaced by `<lease:alias>` wherever an `ID` or `lease` field holds them); the remaining TTL of a
 * timetolive (a timing: `<ttl>` when 0 < TTL ≤ grantedTTL); the order of /leases and of a
 * timetolive's keys (etcd walks Go maps); the hash of maintenance/hash (of the whole backend file); in maintenance/status everything but the header, `leader` (must be the member itself),
 * `errors` and `isLearner`. Revisions, counts, keys, values, versions, statuses, content types and
 * error messages are compared exactly.
 *
 * Requests name a generated lease by `{{lease:alias}}` in the body; each side substitutes its own id.
 */

export type Target = "etcd" | "edgecd";

export interface Side {
  target: Target;
  base: string;
  /** alias → the lease id this server generated for it (decimal string). */
  leases: Map<string, string>;
}

export interface Req {
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface Case {
  name: string;
  req: Req;
  /** Learn the `ID` of this (grant) response as lease `alias` on each side. */
  bindLease?: string;
}

export interface Resp {
  status: number;
  contentType: string;
  /** Response headers but those of the HTTP layer (`ignoredHeaders`), as `name: value`, sorted. */
  headers: string[];
  text: string;
  /** The parsed body when it is JSON. */
  json?: unknown;
}

export interface Outcome {
  etcd: Resp;
  edgecd: Resp;
  /** Normalised differences (status, content type, body); empty when they agree. */
  diffs: string[];
  /** Both bodies agree but list their object keys in another order. */
  keyOrderDiffers: boolean;
  /** Response headers (but content-type and `ignoredHeaders`) only etcd or only edgecd sent. */
  headerDiffs: string[];
}

export const subst = (s: Side, body: string): string =>
  body.replace(/\{\{lease:([\w-]+)\}\}/g, (_, a: string) => {
    const id = s.leases.get(a);
    if (id === undefined) throw new Error(`lease ${a} not bound on ${s.target}`);
    return id;
  });

/** Headers set by the HTTP server rather than the gateway (Go's net/http vs Node's). */
export const ignoredHeaders = ["date", "content-length", "connection", "keep-alive", "transfer-encoding"];

export async function send(s: Side, req: Req): Promise<Resp> {
  const method = req.method ?? "POST";
  const body = method === "GET" || method === "HEAD" ? undefined : subst(s, req.body ?? "");
  const r = await fetch(s.base + req.path, { method, body, headers: req.headers, signal: AbortSignal.timeout(20_000) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A stream (keepalive): one JSON object a line; compared as an array of them.
    try {
      const lines = text.split("\n").filter((l) => l !== "");
      json = lines.length > 1 ? lines.map((l) => JSON.parse(l) as unknown) : undefined;
    } catch {
      json = undefined;
    }
  }
  const headers: string[] = [];
  r.headers.forEach((v, k) => {
    if (!ignoredHeaders.includes(k)) headers.push(`${k}: ${v}`);
  });
  headers.sort();
  return { status: r.status, contentType: r.headers.get("content-type") ?? "", headers, text, json };
}

type J = unknown;
const isObj = (v: J): v is Record<string, J> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A copy of `body` (the answer of `s` to `path`) with the legitimately differing values replaced. */
export function normalise(s: Side, path: string, body: J): J {
  const generated = new Map([...s.leases].map(([alias, id]) => [id, `<lease:${alias}>`]));
  const walk = (v: J, key: string): J => {
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (isObj(v)) {
      const out: Record<string, J> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
      if (key === "header") {
        for (const k of ["cluster_id", "member_id", "raft_term"]) if (k in out) out[k] = `<${k}>`;
      }
      return out;
    }
    if ((key === "ID" || key === "lease") && typeof v === "string" && generated.has(v)) return generated.get(v);
    return v;
  };
  const n = walk(body, "");
  if (!isObj(n) || !isObj(body)) return n;
  const memberId = isObj(body["header"]) ? body["header"]["member_id"] : undefined;
  if (path.endsWith("/lease/timetolive")) {
    const ttl = Number(n["TTL"]);
    if (ttl > 0 && ttl <= Number(n["grantedTTL"])) n["TTL"] = "<ttl>";
    // etcd lists a lease's keys from a Go map: any order.
    if (Array.isArray(n["keys"])) n["keys"] = [...n["keys"]].sort();
  }
  if (path.endsWith("/maintenance/hash") && "hash" in n) n["hash"] = "<hash>";
  if (path.endsWith("/lease/leases") && Array.isArray(n["leases"])) {
    n["leases"] = [...n["leases"]].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  if (path.endsWith("/cluster/member/list") && Array.isArray(n["members"])) {
    n["members"] = n["members"].map((m) => {
      if (!isObj(m)) return m;
      const o = { ...m };
      if ("ID" in o) o["ID"] = o["ID"] === memberId ? "<self>" : "<member>";
      if ("name" in o) o["name"] = "<name>";
      for (const k of ["peerURLs", "clientURLs"]) if (Array.isArray(o[k])) o[k] = (o[k] as J[]).map(() => "<url>");
      return o;
    });
  }
  if (path.endsWith("/maintenance/status")) {
    for (const k of Object.keys(n)) {
      if (k === "header" || k === "errors" || k === "isLearner") continue;
      n[k] = k === "leader" && n[k] === memberId ? "<self>" : "<present>";
    }
  }
  return n;
}

/** JSON with object keys sorted: equal for equal values whatever the key order. */
export function canonical(v: J): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Paths where `a` (etcd) and `b` (edgecd) differ, one line each. */
export function jsonDiff(a: J, b: J, at = "$"): string[] {
  if (canonical(a) === canonical(b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    if (a.length !== b.length) out.push(`${at}.length: etcd ${a.length} ≠ edgecd ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) out.push(...jsonDiff(a[i], b[i], `${at}[${i}]`));
    return out;
  }
  if (isObj(a) && isObj(b)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(k in b)) out.push(`${at}.${k}: etcd ${JSON.stringify(a[k])}, edgecd has none`);
      else if (!(k in a)) out.push(`${at}.${k}: edgecd ${JSON.stringify(b[k])}, etcd has none`);
      else out.push(...jsonDiff(a[k], b[k], `${at}.${k}`));
    }
    return out;
  }
  return [`${at}: etcd ${JSON.stringify(a)} ≠ edgecd ${JSON.stringify(b)}`];
}

/** Key sequence of every object, depth first: differs when only the order of keys differs. */
const keyOrder = (v: J): string =>
  Array.isArray(v) ? v.map(keyOrder).join("|") : isObj(v) ? `{${Object.keys(v).map((k) => `${k}:${keyOrder(v[k])}`).join(",")}}` : "";

export function compare(path: string, sides: [Side, Side], etcd: Resp, edgecd: Resp): Outcome {
  const diffs: string[] = [];
  if (etcd.status !== edgecd.status) diffs.push(`status: etcd ${etcd.status} ≠ edgecd ${edgecd.status}`);
  if (etcd.contentType !== edgecd.contentType) diffs.push(`content-type: etcd ${JSON.stringify(etcd.contentType)} ≠ edgecd ${JSON.stringify(edgecd.contentType)}`);
  let keyOrderDiffers = false;
  if (etcd.json !== undefined && edgecd.json !== undefined) {
    const [a, b] = [normalise(sides[0], path, etcd.json), normalise(sides[1], path, edgecd.json)];
    diffs.push(...jsonDiff(a, b));
    keyOrderDiffers = diffs.length === 0 && keyOrder(a) !== keyOrder(b);
  } else if (etcd.text !== edgecd.text) {
    diffs.push(`body: etcd ${clip(JSON.stringify(etcd.text))} ≠ edgecd ${clip(JSON.stringify(edgecd.text))}`);
  }
  const [he, hg] = [new Set(etcd.headers.filter((h) => !h.startsWith("content-type:"))), new Set(edgecd.headers.filter((h) => !h.startsWith("content-type:")))];
  const headerDiffs = [...[...he].filter((h) => !hg.has(h)).map((h) => `only etcd: ${h}`), ...[...hg].filter((h) => !he.has(h)).map((h) => `only edgecd: ${h}`)];
  return { etcd, edgecd, diffs, keyOrderDiffers, headerDiffs };
}

export const clip = (s: string, n = 400): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** The full report of one mismatch: the request, both answers and the normalised diff. */
export function report(name: string, req: Req, o: Outcome): string {
  const ans = (r: Resp): string => `${r.status} ${r.contentType} ${clip(r.text, 800)}`;
  return [
    `✗ ${name}`,
    `  request: ${req.method ?? "POST"} ${req.path} ${clip(req.body ?? "", 2000)}`,
    `  etcd:    ${ans(o.etcd)}`,
    `  edgecd:  ${ans(o.edgecd)}`,
    ...o.diffs.map((d) => `  diff:    ${d}`),
  ].join("\n");
}

/** Sends `c` to both sides (etcd first, then edgecd, as a client would one after the other) and compares. */
export async function run(sides: [Side, Side], c: Case): Promise<Outcome> {
  const etcd = await send(sides[0], c.req);
  const edgecd = await send(sides[1], c.req);
  if (c.bindLease !== undefined) {
    for (const [s, r] of [[sides[0], etcd], [sides[1], edgecd]] as const) {
      const id = isObj(r.json) ? r.json["ID"] : undefined;
      if (typeof id === "string") s.leases.set(c.bindLease, id);
    }
  }
  return compare(c.req.path, sides, etcd, edgecd);
}
