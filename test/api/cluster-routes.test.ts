// The Cluster routes (/v3/cluster/member/add|remove|update|promote) and MoveLeader
// (/v3/maintenance/transfer-leadership) through app.request() over a fake server that implements
// only those calls: etcd's JSON in and out byte for byte, MemberAdd's URL check, and the gRPC
// errors the membership errors map to. Then the routes over the real membership module (fake
// raft underneath).
import { describe, expect, it } from "vitest";
import { newGateway } from "../../src/api/v3rpc/gateway.js";
import {
  newMember,
  newMemberAddResponse,
  newMemberListResponse,
  newMoveLeaderResponse,
  newResponseHeader,
  type MemberAddRequest,
  type MemberAddResponse,
  type MemberListResponse,
  type MoveLeaderRequest,
  type MoveLeaderResponse,
} from "../../src/api/etcdserverpb/rpc.js";
import type { EtcdServerAPI } from "../../src/etcdserver/api.js";
import * as server from "../../src/etcdserver/errors.js";
import { Membership, type MembershipDeps } from "../../src/etcdserver/membership/changes.js";
import { RaftCluster } from "../../src/etcdserver/membership/cluster.js";
import * as membership from "../../src/etcdserver/membership/errors.js";
import { computeMemberID } from "../../src/etcdserver/membership/member.js";
import type { ConfChange } from "../../src/raft/raftpb.js";
import type { Hono } from "hono";

/** Status and body of a POST (helpers.ts has the same, but imports the real server). */
async function call(app: Hono, path: string, body?: string): Promise<[number, string]> {
  const r = await app.request(path, { method: "POST", body });
  return [r.status, await r.text()];
}

const header = newResponseHeader({ clusterId: 14841639068965178418n, memberId: 10276657743932975437n, raftTerm: 2 });
const HDR = `"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","raft_term":"2"}`;
const err = (code: number, m: string): string => `{"error":${JSON.stringify(m)},"code":${code},"message":${JSON.stringify(m)}}`;

const big = 18446744073709551615n; // > 2^53: ids travel as decimal strings
const members = [
  newMember({ ID: 1n, name: "infra1", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"] }),
  newMember({ ID: big, peerURLs: ["http://127.0.0.1:12380"], isLearner: true }),
];
const MEMBERS =
  `"members":[{"ID":"1","name":"infra1","peerURLs":["http://127.0.0.1:2380"],"clientURLs":["http://127.0.0.1:2379"]},` +
  `{"ID":"18446744073709551615","peerURLs":["http://127.0.0.1:12380"],"isLearner":true}]`;

interface Calls {
  add: MemberAddRequest[];
  remove: bigint[];
  update: [bigint, string[]][];
  promote: bigint[];
  moveLeader: MoveLeaderRequest[];
}

/** A server with only the cluster and MoveLeader calls; `fail` makes every one of them reject with it. */
function fakeServer(fail?: Error): { api: EtcdServerAPI; calls: Calls } {
  const calls: Calls = { add: [], remove: [], update: [], promote: [], moveLeader: [] };
  const answer = async <T>(resp: T): Promise<T> => {
    if (fail) throw fail;
    return resp;
  };
  const list = (): MemberListResponse => newMemberListResponse({ header, members });
  const impl = {
    maxRequestBytes: () => 1.5 * 1024 * 1024,
    memberList: () => answer(list()),
    memberAdd: (r: MemberAddRequest): Promise<MemberAddResponse> => {
      calls.add.push(r);
      return answer(newMemberAddResponse({ header, member: newMember({ ID: big, peerURLs: r.peerURLs, isLearner: r.isLearner }), members }));
    },
    memberRemove: (r: { ID: bigint }) => {
      calls.remove.push(r.ID);
      return answer(list());
    },
    memberUpdate: (r: { ID: bigint; peerURLs: string[] }) => {
      calls.update.push([r.ID, r.peerURLs]);
      return answer(list());
    },
    memberPromote: (r: { ID: bigint }) => {
      calls.promote.push(r.ID);
      return answer(list());
    },
    moveLeader: (r: MoveLeaderRequest): Promise<MoveLeaderResponse> => {
      calls.moveLeader.push(r);
      return answer(newMoveLeaderResponse({ header }));
    },
  };
  return { api: impl as unknown as EtcdServerAPI, calls };
}

describe("MemberAdd", () => {
  it("answers the member added and the members; the server gets the URLs sorted", async () => {
    const { api, calls } = fakeServer();
    const app = newGateway(api);
    expect(await call(app, "/v3/cluster/member/add", `{"peerURLs":["http://127.0.0.1:22380","http://127.0.0.1:12380"],"isLearner":true}`)).toEqual([
      200,
      `{${HDR},"member":{"ID":"18446744073709551615","peerURLs":["http://127.0.0.1:12380","http://127.0.0.1:22380"],"isLearner":true},${MEMBERS}}`,
    ]);
    expect(calls.add).toEqual([{ peerURLs: ["http://127.0.0.1:12380", "http://127.0.0.1:22380"], isLearner: true }]);
    // Spaces trimmed and the scheme lower-cased, as NewURLs and Go print it.
    await call(app, "/v3/cluster/member/add", `{"peerURLs":[" HTTP://10.0.0.1:2380 "],"isLearner":false}`);
    expect(calls.add[1]).toEqual({ peerURLs: ["http://10.0.0.1:2380"], isLearner: false });
  });

  it("refuses URLs types.NewURLs refuses with ErrGRPCMemberBadURLs, before the server sees them", async () => {
    const { api, calls } = fakeServer();
    const app = newGateway(api);
    const bad = err(3, "etcdserver: given member URLs are invalid");
    for (const body of [
      `{}`,
      `{"peerURLs":[]}`,
      `{"peerURLs":["127.0.0.1:2380"]}`,
      `{"peerURLs":["http://127.0.0.1"]}`,
      `{"peerURLs":["http://127.0.0.1:2380/path"]}`,
      `{"peerURLs":["ftp://127.0.0.1:2380"]}`,
      `{"peerURLs":["http://127.0.0.1:2380","bad"]}`,
    ]) {
      expect(await call(app, "/v3/cluster/member/add", body), body).toEqual([400, bad]);
    }
    expect(calls.add).toEqual([]);
    // unix sockets pass, as in etcd
    expect((await call(app, "/v3/cluster/member/add", `{"peerURLs":["unix://localhost:2380"]}`))[0]).toBe(200);
  });

  it("answers an undecodable body with the gateway's InvalidArgument", async () => {
    const { api } = fakeServer();
    const [status, body] = await call(newGateway(api), "/v3/cluster/member/add", `{"peerURLs":"http://a:1"}`);
    expect(status).toBe(400);
    expect(JSON.parse(body).code).toBe(3);
  });
});

describe("MemberRemove, MemberUpdate, MemberPromote", () => {
  it("take the id as a decimal string (or a number) and answer the members", async () => {
    const { api, calls } = fakeServer();
    const app = newGateway(api);
    expect(await call(app, "/v3/cluster/member/remove", `{"ID":"18446744073709551615"}`)).toEqual([200, `{${HDR},${MEMBERS}}`]);
    expect(await call(app, "/v3/cluster/member/update", `{"ID":2,"peerURLs":["http://127.0.0.1:1","not a url"]}`)).toEqual([
      200,
      `{${HDR},${MEMBERS}}`,
    ]);
    expect(await call(app, "/v3/cluster/member/promote", `{"ID":"18446744073709551615"}`)).toEqual([200, `{${HDR},${MEMBERS}}`]);
    expect(calls.remove).toEqual([big]);
    // MemberUpdate's URLs are not checked by the gateway, as in etcd.
    expect(calls.update).toEqual([[2n, ["http://127.0.0.1:1", "not a url"]]]);
    expect(calls.promote).toEqual([big]);
  });

  it("are served under /v3, /v3beta and /v3alpha, POST only", async () => {
    const { api, calls } = fakeServer();
    const app = newGateway(api);
    for (const p of ["/v3", "/v3beta", "/v3alpha"]) {
      expect((await call(app, `${p}/cluster/member/remove`, `{"ID":"1"}`))[0]).toBe(200);
      expect((await call(app, `${p}/cluster/member/promote`, `{"ID":"1"}`))[0]).toBe(200);
      expect((await call(app, `${p}/cluster/member/update`, `{"ID":"1"}`))[0]).toBe(200);
      expect((await call(app, `${p}/cluster/member/add`, `{"peerURLs":["http://a:1"]}`))[0]).toBe(200);
      expect((await call(app, `${p}/maintenance/transfer-leadership`, `{"targetID":"1"}`))[0]).toBe(200);
    }
    expect([calls.remove.length, calls.promote.length, calls.update.length, calls.add.length, calls.moveLeader.length]).toEqual([3, 3, 3, 3, 3]);
    expect((await app.request("/v3/cluster/member/add", { method: "GET" })).status).toBe(405);
  });
});

describe("membership errors as etcd's gateway answers them", () => {
  const cases: [Error, number, number, string][] = [
    [membership.ErrIDRemoved, 404, 5, "etcdserver: member not found"],
    [membership.ErrIDNotFound, 404, 5, "etcdserver: member not found"],
    [membership.ErrIDExists, 400, 9, "etcdserver: member ID already exist"],
    [membership.ErrPeerURLexists, 400, 9, "etcdserver: Peer URLs already exists"],
    [membership.ErrMemberNotLearner, 400, 9, "etcdserver: can only promote a learner member"],
    [membership.ErrTooManyLearners, 400, 9, "etcdserver: too many learner members in cluster"],
    [server.ErrNotEnoughStartedMembers, 400, 9, "etcdserver: re-configuration failed due to not enough started members"],
    [server.ErrLearnerNotReady, 400, 9, "etcdserver: can only promote a learner member which is in sync with leader"],
    [server.ErrUnhealthy, 503, 14, "etcdserver: unhealthy cluster"],
    [server.ErrTimeout, 503, 14, "etcdserver: request timed out"],
  ];
  for (const [e, status, code, message] of cases) {
    it(`${e.name} → ${status} ${message}`, async () => {
      const { api } = fakeServer(e);
      const app = newGateway(api);
      for (const [path, body] of [
        ["/v3/cluster/member/add", `{"peerURLs":["http://a:1"]}`],
        ["/v3/cluster/member/remove", `{"ID":"1"}`],
        ["/v3/cluster/member/update", `{"ID":"1"}`],
        ["/v3/cluster/member/promote", `{"ID":"1"}`],
      ] as const) {
        expect(await call(app, path, body), path).toEqual([status, err(code, message)]);
      }
    });
  }
});

describe("MoveLeader (transfer-leadership)", () => {
  it("passes targetID and answers {} (etcd sends no header)", async () => {
    const { api, calls } = fakeServer();
    const app = newGateway(api);
    expect(await call(app, "/v3/maintenance/transfer-leadership", `{"targetID":"18446744073709551615"}`)).toEqual([200, `{}`]);
    expect(await call(app, "/v3/maintenance/transfer-leadership", `{"targetID":7}`)).toEqual([200, `{}`]);
    expect(calls.moveLeader).toEqual([{ targetID: big }, { targetID: 7n }]);
  });

  it("maps the server's refusals", async () => {
    expect(await call(newGateway(fakeServer(server.ErrBadLeaderTransferee).api), "/v3/maintenance/transfer-leadership", `{"targetID":"9"}`)).toEqual([
      400,
      err(9, "etcdserver: bad leader transferee"),
    ]);
    expect(await call(newGateway(fakeServer(server.ErrNotLeader).api), "/v3/maintenance/transfer-leadership", `{"targetID":"9"}`)).toEqual([
      400,
      err(9, "etcdserver: not leader"),
    ]);
    // etcd 3.5 does not map ErrTimeoutLeaderTransfer: Unknown with its message.
    expect(await call(newGateway(fakeServer(server.ErrTimeoutLeaderTransfer).api), "/v3/maintenance/transfer-leadership", `{"targetID":"9"}`)).toEqual([
      500,
      err(2, "etcdserver: request timed out, leader transfer took too long"),
    ]);
  });
});

describe("routes over the membership module", () => {
  /** A one-member cluster whose "raft" applies each proposed change at once. */
  function app(): { app: ReturnType<typeof newGateway>; proposed: ConfChange[] } {
    const cluster = new RaftCluster();
    cluster.addMember({ id: 1n, name: "infra1", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"], isLearner: false });
    const proposed: ConfChange[] = [];
    const deps: MembershipDeps = {
      id: 1n,
      cluster,
      strictReconfigCheck: true,
      now: () => 0,
      activeSince: () => 0,
      progress: () => new Map([[1n, { match: 10 }]]),
      waitAppliedIndex: async () => {},
      proposeConfChange: async (cc) => {
        proposed.push(cc);
        const err = cluster.validateConfigurationChange(cc);
        if (err) throw err;
        return cluster.memberList();
      },
      forwardPromote: () => Promise.reject(new Error("not used")),
      header: () => header,
      nowUnixSeconds: () => 1_700_000_000,
    };
    const m = new Membership(deps);
    const api = {
      maxRequestBytes: () => 1024 * 1024,
      memberAdd: (r: MemberAddRequest) => m.memberAdd(r),
      memberRemove: (r: { ID: bigint }) => m.memberRemove(r),
      memberUpdate: (r: { ID: bigint; peerURLs: string[] }) => m.memberUpdate(r),
      memberPromote: (r: { ID: bigint }) => m.memberPromote(r),
    };
    return { app: newGateway(api as unknown as EtcdServerAPI), proposed };
  }

  it("MemberAdd proposes the member's JSON; a URL in use is ErrGRPCPeerURLExist; promote of a non-member is not found", async () => {
    const { app: a, proposed } = app();
    const id = await computeMemberID(["http://127.0.0.1:12380"], "", 1_700_000_000);
    expect(await call(a, "/v3/cluster/member/add", `{"peerURLs":["http://127.0.0.1:12380"],"isLearner":true}`)).toEqual([
      200,
      `{${HDR},"member":{"ID":"${id}","peerURLs":["http://127.0.0.1:12380"],"isLearner":true},"members":[{"ID":"1","name":"infra1","peerURLs":["http://127.0.0.1:2380"],"clientURLs":["http://127.0.0.1:2379"]}]}`,
    ]);
    expect(new TextDecoder().decode(proposed[0]!.context)).toBe(`{"id":${id},"peerURLs":["http://127.0.0.1:12380"],"isLearner":true}`);
    expect(await call(a, "/v3/cluster/member/add", `{"peerURLs":["http://127.0.0.1:2380"]}`)).toEqual([400, err(9, "etcdserver: Peer URLs already exists")]);
    expect(await call(a, "/v3/cluster/member/promote", `{"ID":"5"}`)).toEqual([404, err(5, "etcdserver: member not found")]);
    // Removing the only voting member leaves no started quorum.
    expect(await call(a, "/v3/cluster/member/remove", `{"ID":"1"}`)).toEqual([
      400,
      err(9, "etcdserver: re-configuration failed due to not enough started members"),
    ]);
  });
});
