// cluster-util against fake peers: a fetch that answers from a table by URL (or hands the request
// to a real peer app), exact uint64 ids, the cluster id from the header, etcd's error texts.
import { describe, expect, it } from "vitest";
import type { UpgradeWebSocket } from "hono/ws";
import { newPeerApp } from "../../src/api/etcdhttp/peer.js";
import type { PeerServerAPI } from "../../src/etcdserver/api.js";
import {
  type FetchFn,
  getClusterFromRemotePeers,
  getRemotePeerURLs,
  getVersion,
  getVersions,
  isMemberBootstrapped,
  parseMembers,
  promoteMemberHTTP,
  validateClusterAndAssignIDs,
} from "../../src/etcdserver/cluster-util.js";
import { ErrLearnerNotReady, ErrStopped, ErrTimeout } from "../../src/etcdserver/errors.js";
import { RaftCluster } from "../../src/etcdserver/membership/cluster.js";
import { ErrIDNotFound, ErrMemberNotLearner } from "../../src/etcdserver/membership/errors.js";
import type { Member } from "../../src/etcdserver/membership/member.js";
import type { Transport } from "../../src/rafthttp/transport.js";

const bigID = 0xfedcba9876543210n; // 18364758544493064720, > 2^53

type Answer = { status?: number; body: string; headers?: Record<string, string> } | Error;

/** A fetch answering from `table` by URL; unknown URLs fail as a refused connection. */
function tableFetch(table: Record<string, Answer>, asked: string[] = []): FetchFn {
  return async (url, init) => {
    asked.push(`${init.method ?? "GET"} ${url}`);
    const a = table[url];
    if (a === undefined) throw new TypeError("fetch failed: connection refused");
    if (a instanceof Error) throw a;
    return new Response(a.body, { status: a.status ?? 200, headers: a.headers });
  };
}

const member = (id: bigint, name: string, peerURLs: string[], clientURLs: string[] = [], isLearner = false): Member => ({
  id,
  name,
  peerURLs,
  clientURLs,
  isLearner,
});

function cluster(...ms: Member[]): RaftCluster {
  const c = new RaftCluster();
  for (const m of ms) c.addMember(m);
  return c;
}

const remoteMembers =
  `[{"id":26,"peerURLs":["http://127.0.0.1:2380"],"name":"a","clientURLs":["http://127.0.0.1:2379"]},` +
  `{"id":18364758544493064720,"peerURLs":["http://127.0.0.1:2381"],"isLearner":true}]\n`;

describe("getClusterFromRemotePeers", () => {
  it("takes the first usable answer: members with exact ids, cluster id from the header", async () => {
    const asked: string[] = [];
    const f = tableFetch(
      {
        "http://a/members": { status: 404, body: "404 page not found\n" },
        "http://b/members": { body: remoteMembers, headers: { "X-Etcd-Cluster-ID": "ABCDEF0123456789" } },
      },
      asked,
    );
    const rc = await getClusterFromRemotePeers(f, ["http://down", "http://a", "http://b", "http://c"], 1000);
    expect(rc.clusterID).toBe(0xabcdef0123456789n);
    expect(rc.members).toEqual([
      member(26n, "a", ["http://127.0.0.1:2380"], ["http://127.0.0.1:2379"]),
      member(bigID, "", ["http://127.0.0.1:2381"], [], true),
    ]);
    expect(asked).toEqual(["GET http://down/members", "GET http://a/members", "GET http://b/members"]);
  });

  it("skips an answer without a parsable cluster id header", async () => {
    const f = tableFetch({
      "http://a/members": { body: remoteMembers },
      "http://b/members": { body: remoteMembers, headers: { "X-Etcd-Cluster-ID": "0x12" } },
    });
    await expect(getClusterFromRemotePeers(f, ["http://a", "http://b"], 1000)).rejects.toThrow(
      "could not retrieve cluster information from the given URLs",
    );
  });

  it("an empty member list ends the search with etcd's error", async () => {
    const f = tableFetch({
      "http://a/members": { body: "null\n", headers: { "X-Etcd-Cluster-ID": "1" } },
      "http://b/members": { body: remoteMembers, headers: { "X-Etcd-Cluster-ID": "1" } },
    });
    await expect(getClusterFromRemotePeers(f, ["http://a", "http://b"], 1000)).rejects.toThrow(
      "failed to get raft cluster member(s) from the given URLs",
    );
  });

  it("a peer that never answers is given up after timeoutMs", async () => {
    const hang: FetchFn = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
    await expect(getClusterFromRemotePeers(hang, ["http://a"], 10)).rejects.toThrow(
      "could not retrieve cluster information from the given URLs",
    );
  });

  it("reads what the peer app serves", async () => {
    const ms = [member(bigID, "n1", ["http://127.0.0.1:2380"], ["http://127.0.0.1:2379"]), member(5n, "", ["http://127.0.0.1:2381"], [], true)];
    const app = newPeerApp(fakePeer({ peerMembers: () => ms }), { upgradeWebSocket: noUpgrade });
    const f: FetchFn = async (url, init) => app.request(url, init);
    const rc = await getClusterFromRemotePeers(f, ["http://127.0.0.1:2380"], 1000);
    expect(rc).toEqual({ clusterID: 0xfedn, members: ms });
  });
});

describe("parseMembers", () => {
  it("reads Go's JSON: keys case-insensitively, null lists, unknown keys ignored", () => {
    expect(parseMembers(`[{"ID":1,"PEERURLS":null,"isLearner":false,"x":{}}]`)).toEqual([member(1n, "", [])]);
    expect(parseMembers("null")).toEqual([]);
  });

  it("refuses what Go's json.Unmarshal refuses", () => {
    for (const s of [`[{"id":"1"}]`, `[{"id":-1}]`, `[{"id":18446744073709551616}]`, `[{"id":1.5}]`, `{}`, `[null]`, `[{"peerURLs":[1]}]`, `404 page not found`]) {
      expect(() => parseMembers(s), s).toThrow();
    }
  });
});

describe("validateClusterAndAssignIDs", () => {
  it("assigns the remote ids (and cluster id) to the local members with the same peer URLs", () => {
    const local = cluster(
      member(1n, "a", ["http://127.0.0.1:2380", "http://10.0.0.1:2380"]),
      member(2n, "b", ["http://127.0.0.1:2381"]),
    );
    validateClusterAndAssignIDs(local, {
      clusterID: 0xc1n,
      members: [member(bigID, "", ["http://127.0.0.1:2381"]), member(7n, "a", ["http://10.0.0.1:2380", "http://127.0.0.1:2380"])],
    });
    expect(local.clusterID).toBe(0xc1n);
    expect(local.memberIDs()).toEqual([7n, bigID]);
    expect(local.member(bigID)!.name).toBe("b");
    expect(local.member(7n)!.name).toBe("a");
  });

  it("refuses an unequal count and an unmatched member with etcd's texts", () => {
    const local = () => cluster(member(1n, "a", ["http://127.0.0.1:2380"]), member(2n, "b", ["http://127.0.0.1:2381"]));
    expect(() => validateClusterAndAssignIDs(local(), { clusterID: 1n, members: [member(3n, "", ["http://127.0.0.1:2380"])] })).toThrow(
      "member count is unequal",
    );
    expect(() =>
      validateClusterAndAssignIDs(local(), {
        clusterID: 1n,
        members: [member(3n, "", ["http://127.0.0.1:2380"]), member(bigID, "", ["http://127.0.0.1:2999"])],
      }),
    ).toThrow(
      'PeerURLs: no match found for existing member (fedcba9876543210, [http://127.0.0.1:2999]), last resolver error (resolved urls: "http://127.0.0.1:2999" != "http://127.0.0.1:2381")',
    );
    expect(() =>
      validateClusterAndAssignIDs(local(), {
        clusterID: 1n,
        members: [member(3n, "", ["http://127.0.0.1:2380"]), member(4n, "", ["http://127.0.0.1:2381", "http://127.0.0.1:2382"])],
      }),
    ).toThrow(
      'PeerURLs: no match found for existing member (4, [http://127.0.0.1:2381 http://127.0.0.1:2382]), last resolver error (len(["http://127.0.0.1:2381" "http://127.0.0.1:2382"]) != len(["http://127.0.0.1:2381"]))',
    );
  });
});

describe("isMemberBootstrapped", () => {
  const local = () =>
    cluster(
      member(bigID, "me", ["http://127.0.0.1:2380"]),
      member(2n, "other", ["http://127.0.0.1:2382", "http://127.0.0.1:2381"]),
    );
  const remote = (clientURLs: string) => ({
    body: `[{"id":2,"peerURLs":["http://127.0.0.1:2381"]},{"id":18364758544493064720,"peerURLs":["http://127.0.0.1:2380"],"name":"me"${clientURLs}}]`,
    headers: { "X-Etcd-Cluster-ID": "1" },
  });

  it("asks the other members (sorted URLs) and is true once they know us with client URLs", async () => {
    const asked: string[] = [];
    const f = tableFetch({ "http://127.0.0.1:2381/members": remote(`,"clientURLs":["http://127.0.0.1:2379"]`) }, asked);
    expect(await isMemberBootstrapped(f, local(), "me", 1000)).toBe(true);
    expect(asked).toEqual(["GET http://127.0.0.1:2381/members"]);
    expect(getRemotePeerURLs(local(), "me")).toEqual(["http://127.0.0.1:2381", "http://127.0.0.1:2382"]);
  });

  it("false without client URLs, when the remote does not know us, or when nobody answers", async () => {
    expect(await isMemberBootstrapped(tableFetch({ "http://127.0.0.1:2381/members": remote("") }), local(), "me", 1000)).toBe(false);
    const unknown = { body: `[{"id":2,"peerURLs":["x"],"clientURLs":["y"]}]`, headers: { "X-Etcd-Cluster-ID": "1" } };
    expect(await isMemberBootstrapped(tableFetch({ "http://127.0.0.1:2381/members": unknown }), local(), "me", 1000)).toBe(false);
    expect(await isMemberBootstrapped(tableFetch({}), local(), "me", 1000)).toBe(false);
  });
});

describe("promoteMemberHTTP", () => {
  it("POSTs the decimal id and resolves with the members", async () => {
    const asked: string[] = [];
    const f = tableFetch({ [`http://b/members/promote/${bigID}`]: { body: remoteMembers } }, asked);
    const ms = await promoteMemberHTTP(f, ["http://a", "http://b"], bigID, 1000);
    expect(ms.map((m) => m.id)).toEqual([26n, bigID]);
    expect(asked).toEqual([`POST http://a/members/promote/${bigID}`, `POST http://b/members/promote/${bigID}`]);
  });

  it("maps the leader's answers back to the errors, through the real peer app", async () => {
    const cases: [Error, unknown][] = [
      [ErrLearnerNotReady, ErrLearnerNotReady],
      [ErrMemberNotLearner, ErrMemberNotLearner],
      [ErrIDNotFound, ErrIDNotFound],
    ];
    for (const [thrown, want] of cases) {
      const app = newPeerApp(fakePeer({ promoteMemberLocal: () => Promise.reject(thrown) }), { upgradeWebSocket: noUpgrade });
      const asked: string[] = [];
      const f: FetchFn = async (url, init) => (asked.push(url), app.request(url, init));
      await expect(promoteMemberHTTP(f, ["http://a", "http://b"], 3n, 1000)).rejects.toBe(want);
      expect(asked).toEqual(["http://a/members/promote/3"]); // given up at once
    }
    const app = newPeerApp(fakePeer({ promoteMemberLocal: () => Promise.reject(ErrStopped) }), { upgradeWebSocket: noUpgrade });
    await expect(promoteMemberHTTP(async (url, init) => app.request(url, init), ["http://a"], 3n, 1000)).rejects.toThrow(
      `member promote: unknown error({"message":"Internal Server Error"})`,
    );
  });

  it("408 is ErrTimeout; an unknown 412 text is an unknown error", async () => {
    await expect(promoteMemberHTTP(tableFetch({ "http://a/members/promote/3": { status: 408, body: "" } }), ["http://a"], 3n, 1000)).rejects.toBe(
      ErrTimeout,
    );
    await expect(
      promoteMemberHTTP(tableFetch({ "http://a/members/promote/3": { status: 412, body: "other\n" } }), ["http://a"], 3n, 1000),
    ).rejects.toThrow("member promote: unknown error(other\n)");
  });

  it("running out of time is ErrTimeout", async () => {
    const hang: FetchFn = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
    await expect(promoteMemberHTTP(hang, ["http://a", "http://b"], 3n, 10)).rejects.toBe(ErrTimeout);
  });
});

describe("getVersion / getVersions", () => {
  it("reads /version from the first peer URL that answers; the local member's are given", async () => {
    const f = tableFetch({ "http://b/version": { body: `{"etcdserver":"3.5.0","etcdcluster":"not_decided"}` } });
    expect(await getVersion(f, ["http://a", "http://b"])).toEqual({ etcdserver: "3.5.0", etcdcluster: "not_decided" });
    await expect(getVersion(f, ["http://a"])).rejects.toThrow("connection refused");
    const c = cluster(member(1n, "a", ["http://a"]), member(2n, "b", ["http://b"]), member(3n, "me", ["http://me"]));
    const local = { etcdserver: "3.5.0", etcdcluster: "3.5.0" };
    const vers = await getVersions(f, c, 3n, local);
    expect([...vers]).toEqual([
      ["1", undefined],
      ["2", { etcdserver: "3.5.0", etcdcluster: "not_decided" }],
      ["3", local],
    ]);
  });
});

const noUpgrade = (() => {
  throw new Error("no upgrades here");
}) as unknown as UpgradeWebSocket<any>;

function fakePeer(over: Partial<PeerServerAPI>): PeerServerAPI {
  return {
    id: 1n,
    clusterID: () => 0xfedn,
    rafthttp: () => ({}) as Transport,
    peerMembers: () => [],
    version: () => ({ etcdserver: "3.5.0", etcdcluster: "3.5.0" }),
    waitAppliedCaughtUp: async () => true,
    leaseRenewLocal: async () => 1,
    leaseTimeToLiveLocal: async () => Promise.reject(new Error("unused")),
    promoteMemberLocal: async () => [],
    hashKV: async () => Promise.reject(new Error("unused")),
    ...over,
  };
}
