// leasehttp: the clients (renewHTTP, timeToLiveHTTP) against the handler through a fetch that
// calls it in-process, and the codecs against fixed bytes from rpc.proto / lease.proto.
import { describe, expect, it } from "vitest";
import { ErrLeaseNotFound, ErrNotPrimary } from "../../src/lease/errors.js";
import {
  ErrLeaseHTTPTimeout,
  type FetchFn,
  type LeaseHTTPServer,
  newLeaseHandler,
  renewHTTP,
  timeToLiveHTTP,
} from "../../src/lease/leasehttp.js";
import {
  decodeLeaseInternalRequest,
  decodeLeaseInternalResponse,
  decodeLeaseKeepAliveRequest,
  decodeLeaseKeepAliveResponse,
  encodeLeaseInternalRequest,
  encodeLeaseInternalResponse,
  encodeLeaseKeepAliveRequest,
  encodeLeaseKeepAliveResponse,
  type LeaseTimeToLiveRequest,
} from "../../src/lease/leasehttp-pb.js";

const enc = new TextEncoder();
const bytes = (...b: number[]) => new Uint8Array(b);
/** protobufjs hands out a Buffer under Node: compare as a plain Uint8Array. */
const plain = (b: Uint8Array) => new Uint8Array(b);
const zeroHeader = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
const bigID = 0x7edcba9876543210n; // > 2^53

function leader(over: Partial<LeaseHTTPServer> = {}): LeaseHTTPServer & { urls: string[] } {
  return {
    urls: [],
    waitAppliedCaughtUp: async () => true,
    leaseRenewLocal: async () => 30,
    leaseTimeToLiveLocal: async (r: LeaseTimeToLiveRequest) => ({
      header: { clusterId: 1n, memberId: 2n, revision: 3, raftTerm: 4 },
      ID: r.ID,
      TTL: 12,
      grantedTTL: 30,
      keys: [enc.encode("k1"), enc.encode("k2")],
    }),
    ...over,
  };
}

/** A fetch that hands the request to the handler, recording the URLs asked for. */
function fetchTo(s: LeaseHTTPServer & { urls: string[] }): FetchFn {
  const h = newLeaseHandler(s);
  return async (url, init) => {
    s.urls.push(url);
    return h(new Request(url, init));
  };
}

describe("renewHTTP", () => {
  it("POSTs to <peer URL>/leases and resolves with the TTL (ids above 2^53 and negative ones exact)", async () => {
    const seen: bigint[] = [];
    const s = leader({ leaseRenewLocal: async (id) => (seen.push(id), 30) });
    expect(await renewHTTP(fetchTo(s), bigID, "http://127.0.0.1:2380")).toBe(30);
    expect(await renewHTTP(fetchTo(s), -5n, "http://127.0.0.1:2380")).toBe(30);
    expect(seen).toEqual([bigID, -5n]);
    expect(s.urls).toEqual(["http://127.0.0.1:2380/leases", "http://127.0.0.1:2380/leases"]);
  });

  it("404 is ErrLeaseNotFound, 408 ErrLeaseHTTPTimeout, not primary an unknown error with etcd's text", async () => {
    await expect(renewHTTP(fetchTo(leader({ leaseRenewLocal: () => Promise.reject(ErrLeaseNotFound) })), 1n, "http://x")).rejects.toBe(
      ErrLeaseNotFound,
    );
    await expect(renewHTTP(fetchTo(leader({ waitAppliedCaughtUp: async () => false })), 1n, "http://x")).rejects.toBe(ErrLeaseHTTPTimeout);
    const err = await renewHTTP(fetchTo(leader({ leaseRenewLocal: () => Promise.reject(ErrNotPrimary) })), 1n, "http://x").catch((e) => e);
    expect((err as Error).message).toBe("lease: unknown error(not a primary lessor\n)");
  });

  it("an id mismatch and undecodable bytes are errors", async () => {
    const reply = (b: Uint8Array): FetchFn => async () => new Response(b as BodyInit, { status: 200 });
    await expect(renewHTTP(reply(bytes(0x10, 0x02, 0x18, 0x05)), 1n, "http://x")).rejects.toThrow("lease: renew id mismatch");
    await expect(renewHTTP(reply(bytes(0x10)), 1n, "http://x")).rejects.toThrow(/^lease: .*truncated.*\. data = /);
  });

  it("an aborted signal ends a request the leader never answers", async () => {
    const hang: FetchFn = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
    const ac = new AbortController();
    const p = renewHTTP(hang, 1n, "http://x", ac.signal);
    ac.abort(new Error("timed out"));
    await expect(p).rejects.toThrow("timed out");
  });
});

describe("timeToLiveHTTP", () => {
  it("POSTs to <peer URL>/leases/internal; the answer has a zero header, the keys when asked", async () => {
    const s = leader();
    const r = await timeToLiveHTTP(fetchTo(s), { ID: bigID, keys: true }, "http://127.0.0.1:2380");
    expect(r).toEqual({ header: zeroHeader, ID: bigID, TTL: 12, grantedTTL: 30, keys: [enc.encode("k1"), enc.encode("k2")] });
    expect(s.urls).toEqual(["http://127.0.0.1:2380/leases/internal"]);
    const noKeys = await timeToLiveHTTP(fetchTo(s), { ID: 1n, keys: false }, "http://x");
    expect(noKeys.keys).toEqual([]);
  });

  it("404 is ErrLeaseNotFound, 408 ErrLeaseHTTPTimeout, 500 (demoted) an unknown error", async () => {
    const req = { ID: 1n, keys: false };
    await expect(timeToLiveHTTP(fetchTo(leader({ leaseTimeToLiveLocal: () => Promise.reject(ErrLeaseNotFound) })), req, "http://x")).rejects.toBe(
      ErrLeaseNotFound,
    );
    await expect(timeToLiveHTTP(fetchTo(leader({ waitAppliedCaughtUp: async () => false })), req, "http://x")).rejects.toBe(
      ErrLeaseHTTPTimeout,
    );
    await expect(timeToLiveHTTP(fetchTo(leader({ leaseTimeToLiveLocal: () => Promise.reject(ErrNotPrimary) })), req, "http://x")).rejects.toThrow(
      "lease: unknown error(not a primary lessor\n)",
    );
  });
});

describe("codecs", () => {
  it("LeaseKeepAliveRequest / Response: fixed bytes", () => {
    expect(plain(encodeLeaseKeepAliveRequest({ ID: 0n }))).toEqual(bytes());
    expect(plain(encodeLeaseKeepAliveRequest({ ID: 300n }))).toEqual(bytes(0x08, 0xac, 0x02));
    expect(plain(encodeLeaseKeepAliveResponse({ header: zeroHeader, ID: 300n, TTL: 5 }))).toEqual(bytes(0x10, 0xac, 0x02, 0x18, 0x05));
    // A filled header (field 1) and an unknown field (9) are skipped.
    expect(decodeLeaseKeepAliveResponse(bytes(0x0a, 0x02, 0x08, 0x01, 0x48, 0x01, 0x10, 0x07, 0x18, 0x05))).toEqual({
      header: zeroHeader,
      ID: 7n,
      TTL: 5,
    });
    expect(decodeLeaseKeepAliveRequest(bytes(0x08, 0xac, 0x02))).toEqual({ ID: 300n });
    expect(() => decodeLeaseKeepAliveRequest(bytes(0x0a, 0x00))).toThrow(RangeError);
  });

  it("LeaseInternalRequest / Response: fixed bytes, round trips", () => {
    expect(plain(encodeLeaseInternalRequest({ ID: 7n, keys: true }))).toEqual(bytes(0x0a, 0x04, 0x08, 0x07, 0x10, 0x01));
    expect(plain(encodeLeaseInternalRequest({ ID: 0n, keys: false }))).toEqual(bytes(0x0a, 0x00));
    expect(decodeLeaseInternalRequest(bytes(0x0a, 0x00))).toEqual({ ID: 0n, keys: false });
    expect(decodeLeaseInternalRequest(bytes())).toBeUndefined();
    const resp = { header: zeroHeader, ID: -2n, TTL: 3, grantedTTL: 4, keys: [bytes(), enc.encode("a")] };
    const b = encodeLeaseInternalResponse(resp);
    // An empty key is written too (every element of a repeated bytes field).
    expect(plain(b.subarray(b.length - 5))).toEqual(bytes(0x2a, 0x00, 0x2a, 0x01, 0x61));
    expect(decodeLeaseInternalResponse(b)).toEqual(resp);
    expect(() => decodeLeaseInternalResponse(bytes(0x0a, 0x05, 0x10))).toThrow(RangeError);
  });
});
