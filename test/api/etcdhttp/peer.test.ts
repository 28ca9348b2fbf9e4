// The peer app over a fake PeerServerAPI, through app.request(): etcd's newPeerHandler routes with
// their exact statuses, headers and bodies; the lease routes with fixed protobuf bytes derived from
// rpc.proto / lease.proto field numbers.
import { describe, expect, it } from "vitest";
import type { UpgradeWebSocket } from "hono/ws";
import { newPeerApp } from "../../../src/api/etcdhttp/peer.js";
import {
  newHashKVResponse,
  newResponseHeader,
  type HashKVRequest,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
} from "../../../src/api/etcdserverpb/rpc.js";
import type { PeerServerAPI } from "../../../src/etcdserver/api.js";
import { ErrLearnerNotReady, ErrStopped } from "../../../src/etcdserver/errors.js";
import { ErrIDNotFound, ErrMemberNotLearner } from "../../../src/etcdserver/membership/errors.js";
import type { Member } from "../../../src/etcdserver/membership/member.js";
import { ErrLeaseNotFound, ErrNotPrimary } from "../../../src/lease/errors.js";
import { ErrCompacted } from "../../../src/mvcc/errors.js";
import type { Transport } from "../../../src/rafthttp/transport.js";

const bigID = 0xfedcba9876543210n; // > 2^53: must come out exact
const members: Member[] = [
  { id: 0x1an, name: "a<b>&", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"], isLearner: false },
  { id: bigID, name: "", peerURLs: ["http://127.0.0.1:2381", "http://127.0.0.1:2382"], clientURLs: [], isLearner: true },
];
const membersBody =
  `[{"id":26,"peerURLs":["http://127.0.0.1:2380"],"name":"a\\u003cb\\u003e\\u0026","clientURLs":["http://127.0.0.1:2379"]},` +
  `{"id":18364758544493064720,"peerURLs":["http://127.0.0.1:2381","http://127.0.0.1:2382"],"isLearner":true}]\n`;

type Fake = PeerServerAPI & { calls: unknown[] };

function fakeServer(over: Partial<PeerServerAPI> = {}): Fake {
  const calls: unknown[] = [];
  return {
    calls,
    id: 0x1an,
    clusterID: () => 0xabcdef0123456789n,
    rafthttp: () => ({}) as Transport,
    peerMembers: () => members,
    version: () => ({ etcdserver: "3.5.0", etcdcluster: "3.5.0" }),
    waitAppliedCaughtUp: async () => true,
    leaseRenewLocal: async (id: bigint) => {
      calls.push(["renew", id]);
      return 10;
    },
    leaseTimeToLiveLocal: async (r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> => {
      calls.push(["ttl", r]);
      return {
        header: newResponseHeader({ clusterId: 1n, memberId: 2n, revision: 3, raftTerm: 4 }),
        ID: r.ID,
        TTL: 5,
        grantedTTL: 10,
        keys: [new TextEncoder().encode("a")],
      };
    },
    promoteMemberLocal: async (id: bigint) => {
      calls.push(["promote", id]);
      return members;
    },
    hashKV: async (r: HashKVRequest) => {
      calls.push(["hashKV", r]);
      return newHashKVResponse({ header: newResponseHeader({ clusterId: 9n, revision: 42 }), hash: 3735928559, compactRevision: 7 });
    },
    ...over,
  };
}

const upgradeWebSocket = (() => {
  throw new Error("no upgrades in these tests");
}) as unknown as UpgradeWebSocket<any>;

const app = (s: PeerServerAPI) => newPeerApp(s, { upgradeWebSocket });
const text = "text/plain; charset=utf-8";
const bytes = (...b: number[]) => new Uint8Array(b);
const body = async (r: Response) => new Uint8Array(await r.arrayBuffer());

describe("GET /members", () => {
  it("lists the members as Go's encoding/json, with the cluster id header", async () => {
    const r = await app(fakeServer()).request("/members");
    expect(r.status).toBe(200);
    expect(r.headers.get("Content-Type")).toBe("application/json");
    expect(r.headers.get("X-Etcd-Cluster-ID")).toBe("abcdef0123456789");
    expect(await r.text()).toBe(membersBody);
  });

  it("an empty member list is null (a nil slice)", async () => {
    const r = await app(fakeServer({ peerMembers: () => [] })).request("/members");
    expect(await r.text()).toBe("null\n");
  });

  it("405 with Allow: GET for other methods; /members/ is not /members", async () => {
    const r = await app(fakeServer()).request("/members", { method: "POST" });
    expect(r.status).toBe(405);
    expect(r.headers.get("Allow")).toBe("GET");
    expect(r.headers.get("X-Etcd-Cluster-ID")).toBeNull();
    expect(await r.text()).toBe("Method Not Allowed\n");
    const slash = await app(fakeServer()).request("/members/");
    expect(slash.status).toBe(404);
    expect(await slash.text()).toBe("404 page not found\n");
  });
});

describe("POST /members/promote/<id>", () => {
  it("promotes by decimal id (exact above 2^53) and answers the members", async () => {
    const s = fakeServer();
    const r = await app(s).request(`/members/promote/${bigID}`, { method: "POST" });
    expect(r.status).toBe(200);
    expect(r.headers.get("Content-Type")).toBe("application/json");
    expect(r.headers.get("X-Etcd-Cluster-ID")).toBe("abcdef0123456789");
    expect(await r.text()).toBe(membersBody);
    expect(s.calls).toEqual([["promote", bigID]]);
  });

  it("an unparsable id is 404 'member <id> not found in cluster'", async () => {
    for (const id of ["abc", "", "18446744073709551616", "1/2"]) {
      const r = await app(fakeServer()).request(`/members/promote/${id}`, { method: "POST" });
      expect(r.status).toBe(404);
      expect(r.headers.get("Content-Type")).toBe(text);
      expect(await r.text()).toBe(`member ${id} not found in cluster\n`);
    }
  });

  it("maps the server's errors as etcd: 404, 412, 412, else a 500 JSON error", async () => {
    const cases: [Error, number, string, string][] = [
      [ErrIDNotFound, 404, "membership: ID not found\n", text],
      [ErrMemberNotLearner, 412, "membership: can only promote a learner member\n", text],
      [ErrLearnerNotReady, 412, "etcdserver: can only promote a learner member which is in sync with leader\n", text],
      [ErrStopped, 500, `{"message":"Internal Server Error"}`, "application/json"],
    ];
    for (const [err, status, want, ctype] of cases) {
      const s = fakeServer({ promoteMemberLocal: async () => Promise.reject(err) });
      const r = await app(s).request("/members/promote/26", { method: "POST" });
      expect(r.status).toBe(status);
      expect(r.headers.get("Content-Type")).toBe(ctype);
      expect(r.headers.get("X-Etcd-Cluster-ID")).toBe("abcdef0123456789");
      expect(await r.text()).toBe(want);
    }
  });

  it("405 with Allow: POST for GET", async () => {
    const r = await app(fakeServer()).request("/members/promote/26");
    expect(r.status).toBe(405);
    expect(r.headers.get("Allow")).toBe("POST");
  });
});

describe("GET /members/hashkv", () => {
  // etcd sends the JSON as the body of a GET, which a Web Request cannot hold: a POST request
  // seen through a proxy that says GET stands for what a runtime passing GET bodies delivers.
  const get = (s: PeerServerAPI, b: string, headers: Record<string, string> = {}) => {
    const req = new Request("http://peer/members/hashkv", { method: "POST", body: b, headers });
    const asGet = new Proxy(req, {
      get: (t, p) => {
        if (p === "method") return "GET";
        const v = Reflect.get(t, p, t) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    return app(s).fetch(asGet);
  };

  it("takes the revision from ?revision=N when the body is empty (Web requests cannot carry a GET body)", async () => {
    const s = fakeServer();
    const r = await app(s).request("/members/hashkv?revision=9");
    expect(r.status).toBe(200);
    expect(s.calls).toEqual([["hashKV", { revision: 9 }]]);
    const bad = await app(fakeServer()).request("/members/hashkv?revision=x");
    expect([bad.status, await bad.text()]).toEqual([400, "error unmarshalling request\n"]);
    const none = await app(fakeServer()).request("/members/hashkv");
    expect([none.status, await none.text()]).toEqual([400, "error unmarshalling request\n"]);
  });

  it("answers Go's JSON of the HashKVResponse with only the header revision", async () => {
    const s = fakeServer();
    const r = await get(s, `{"revision":5}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("Content-Type")).toBe("application/json");
    expect(r.headers.get("X-Etcd-Cluster-ID")).toBe("abcdef0123456789");
    expect(await r.text()).toBe(`{"header":{"revision":42},"hash":3735928559,"compact_revision":7}`);
    expect(s.calls).toEqual([["hashKV", { revision: 5 }]]);
  });

  it("omits zero fields; keys match case-insensitively; null is the zero request", async () => {
    const s = fakeServer({ hashKV: async () => newHashKVResponse() });
    expect(await (await get(s, `{"Revision":3,"other":true}`)).text()).toBe(`{"header":{}}`);
    const seen: number[] = [];
    const spy = fakeServer({ hashKV: async (r) => (seen.push(r.revision), newHashKVResponse()) });
    await get(spy, `{"REVISION":3}`);
    await get(spy, `null`);
    expect(seen).toEqual([3, 0]);
  });

  it("400 on a body Go cannot unmarshal, or with the mvcc error's text", async () => {
    for (const b of ["", "{", `{"revision":"5"}`, `{"revision":1.5}`, "[]"]) {
      const r = await get(fakeServer(), b);
      expect(r.status).toBe(400);
      expect(await r.text()).toBe("error unmarshalling request\n");
    }
    const r = await get(fakeServer({ hashKV: async () => Promise.reject(ErrCompacted) }), `{"revision":1}`);
    expect(r.status).toBe(400);
    expect(await r.text()).toBe("mvcc: required revision has been compacted\n");
  });

  it("412 'cluster ID mismatch' for another cluster's request; a matching or absent id passes", async () => {
    const bad = await get(fakeServer(), `{"revision":1}`, { "X-Etcd-Cluster-ID": "1" });
    expect(bad.status).toBe(412);
    expect(await bad.text()).toBe("cluster ID mismatch\n");
    const ok = await get(fakeServer(), `{"revision":1}`, { "X-Etcd-Cluster-ID": "abcdef0123456789" });
    expect(ok.status).toBe(200);
  });

  it("405 with Allow: GET for POST", async () => {
    const r = await app(fakeServer()).request("/members/hashkv", { method: "POST", body: "{}" });
    expect(r.status).toBe(405);
    expect(r.headers.get("Allow")).toBe("GET");
  });
});

describe("GET /version", () => {
  it("answers etcd's version JSON", async () => {
    const r = await app(fakeServer({ version: () => ({ etcdserver: "3.5.0", etcdcluster: "not_decided" }) })).request("/version");
    expect(r.status).toBe(200);
    expect(r.headers.get("Content-Type")).toBe("application/json");
    expect(await r.text()).toBe(`{"etcdserver":"3.5.0","etcdcluster":"not_decided"}`);
    expect((await app(fakeServer()).request("/version", { method: "PUT" })).status).toBe(405);
  });
});

describe("POST /leases", () => {
  const post = (s: PeerServerAPI, b: Uint8Array, path = "/leases") =>
    app(s).request(path, { method: "POST", body: b as BodyInit, headers: { "Content-Type": "application/protobuf" } });

  it("renews: LeaseKeepAliveRequest{ID=1} → LeaseKeepAliveResponse{ID=2, TTL=3} without a header", async () => {
    const s = fakeServer();
    const r = await post(s, bytes(0x08, 0x07));
    expect(r.status).toBe(200);
    expect(r.headers.get("Content-Type")).toBe("application/protobuf");
    expect(await body(r)).toEqual(bytes(0x10, 0x07, 0x18, 0x0a));
    expect(s.calls).toEqual([["renew", 7n]]);
  });

  it("a negative id is a 10-byte varint both ways", async () => {
    const s = fakeServer();
    const neg = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    const r = await post(s, bytes(0x08, ...neg));
    expect(await body(r)).toEqual(bytes(0x10, ...neg, 0x18, 0x0a));
    expect(s.calls).toEqual([["renew", -1n]]);
  });

  it("404 'lease not found', 400 'not a primary lessor', 408 when applied does not catch up", async () => {
    const nf = await post(fakeServer({ leaseRenewLocal: async () => Promise.reject(ErrLeaseNotFound) }), bytes(0x08, 1));
    expect([nf.status, await nf.text()]).toEqual([404, "lease not found\n"]);
    const np = await post(fakeServer({ leaseRenewLocal: async () => Promise.reject(ErrNotPrimary) }), bytes(0x08, 1));
    expect([np.status, await np.text()]).toEqual([400, "not a primary lessor\n"]);
    const s = fakeServer({ waitAppliedCaughtUp: async () => false });
    const to = await post(s, bytes(0x08, 1));
    expect([to.status, await to.text()]).toEqual([408, "waiting for node to catch up its applied index has timed out\n"]);
    expect(s.calls).toEqual([]);
  });

  it("400 on bytes that are not a LeaseKeepAliveRequest; 405 (no Allow) for GET; 413 beyond 64 KiB", async () => {
    const bad = await post(fakeServer(), bytes(0x08));
    expect([bad.status, await bad.text()]).toEqual([400, "error unmarshalling request\n"]);
    const wrongType = await post(fakeServer(), bytes(0x0a, 0x00));
    expect(wrongType.status).toBe(400);
    const get = await app(fakeServer()).request("/leases");
    expect([get.status, get.headers.get("Allow"), await get.text()]).toEqual([405, null, "Method Not Allowed\n"]);
    const big = await post(fakeServer(), new Uint8Array(64 * 1024 + 1));
    expect([big.status, await big.text()]).toEqual([413, "request body too large\n"]);
  });
});

describe("POST /leases/internal", () => {
  const post = (s: PeerServerAPI, b: Uint8Array) =>
    app(s).request("/leases/internal", { method: "POST", body: b as BodyInit });

  it("LeaseInternalRequest{LeaseTimeToLiveRequest{ID, keys}} → LeaseInternalResponse with an empty header", async () => {
    const s = fakeServer();
    const r = await post(s, bytes(0x0a, 0x04, 0x08, 0x07, 0x10, 0x01));
    expect(r.status).toBe(200);
    expect(r.headers.get("Content-Type")).toBe("application/protobuf");
    // 0a 0b { 0a 00 header | 10 07 ID | 18 05 TTL | 20 0a grantedTTL | 2a 01 61 keys }
    expect(await body(r)).toEqual(bytes(0x0a, 0x0b, 0x0a, 0x00, 0x10, 0x07, 0x18, 0x05, 0x20, 0x0a, 0x2a, 0x01, 0x61));
    expect(s.calls).toEqual([["ttl", { ID: 7n, keys: true }]]);
  });

  it("keys are left out unless asked for", async () => {
    const r = await post(fakeServer(), bytes(0x0a, 0x02, 0x08, 0x07));
    expect(await body(r)).toEqual(bytes(0x0a, 0x08, 0x0a, 0x00, 0x10, 0x07, 0x18, 0x05, 0x20, 0x0a));
  });

  it("404 lease not found, 500 not a primary lessor, 400 without the inner request", async () => {
    const nf = await post(fakeServer({ leaseTimeToLiveLocal: async () => Promise.reject(ErrLeaseNotFound) }), bytes(0x0a, 0x02, 0x08, 0x07));
    expect([nf.status, await nf.text()]).toEqual([404, "lease not found\n"]);
    const np = await post(fakeServer({ leaseTimeToLiveLocal: async () => Promise.reject(ErrNotPrimary) }), bytes(0x0a, 0x02, 0x08, 0x07));
    expect([np.status, await np.text()]).toEqual([500, "not a primary lessor\n"]);
    const empty = await post(fakeServer(), bytes());
    expect([empty.status, await empty.text()]).toEqual([400, "error unmarshalling request\n"]);
  });
});

describe("other paths", () => {
  it("Go's 404 page not found", async () => {
    for (const p of ["/", "/foo", "/leases/", "/members/hashkv/x", "/raft/unknown"]) {
      const r = await app(fakeServer()).request(p);
      expect(r.status).toBe(404);
      expect(r.headers.get("Content-Type")).toBe(text);
      expect(await r.text()).toBe("404 page not found\n");
    }
  });

  it("the transport's raft routes are mounted", async () => {
    const probe = await app(fakeServer()).request("/raft/probing");
    expect(probe.status).toBe(200);
    expect(await probe.json()).toMatchObject({ OK: true });
    const pipeline = await app(fakeServer()).request("/raft");
    expect([pipeline.status, pipeline.headers.get("Allow")]).toEqual([405, "POST"]);
  });
});
