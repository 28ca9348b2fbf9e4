/**
 * etcd's lease/leasehttp: a follower forwards LeaseKeepAlive and LeaseTimeToLive to the leader over
 * the peer port, as protobuf POSTs (`application/protobuf`):
 *
 *   POST /leases           LeaseKeepAliveRequest → LeaseKeepAliveResponse{ID, TTL}
 *   POST /leases/internal  leasepb.LeaseInternalRequest → leasepb.LeaseInternalResponse
 *
 * Statuses (both paths): 200 the response; 404 `lease not found`; 408 `waiting for node to catch up
 * its applied index has timed out` (the leader's applied index did not reach its commit index within
 * {@link applyTimeoutMs}); 400 `error unmarshalling request`, or a renew error's text (`not a primary
 * lessor`); 500 `not a primary lessor` for a TimeToLive on a demoted lessor; 413 `request body too
 * large` beyond 64 KiB; 405 for another method. Error bodies are Go's http.Error: text and "\n".
 *
 * The handler ({@link newLeaseHandler}) and the clients ({@link renewHTTP}, {@link timeToLiveHTTP})
 * use only Web-standard Request/Response/fetch.
 */
import { readAllLimited } from "../pkg/body.js";
import { ErrLeaseNotFound, ErrNotPrimary, LeaseError } from "./errors.js";
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
  type LeaseTimeToLiveResponse,
} from "./leasehttp-pb.js";

export const LeasePrefix = "/leases";
export const LeaseInternalPrefix = "/leases/internal";

/** How long the handler waits for the applied index to catch up (etcd's applyTimeout, 1 s). */
export const applyTimeoutMs = 1000;

/** The bound on a request body the handler reads (etcd's maxLeaseHTTPRequestSize, 64 KiB). */
export const maxLeaseHTTPRequestSize = 64 * 1024;

/** The bound on a response body the clients read (etcd's maxLeaseHTTPResponseSize, 100 MiB). */
export const maxLeaseHTTPResponseSize = 100 * 1024 * 1024;

/** The leader did not catch up its applied index in time (a 408 from the handler). */
export const ErrLeaseHTTPTimeout = new LeaseError(
  "ErrLeaseHTTPTimeout",
  "waiting for node to catch up its applied index has timed out",
);

/** `fetch` as the clients use it (the same shape as src/rafthttp's FetchFn). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/** What the lease handler asks of the server (etcd: the Lessor and the applied-index wait). */
export interface LeaseHTTPServer {
  /** Resolves true once applied ≥ committed, false after `timeoutMs`. */
  waitAppliedCaughtUp(timeoutMs: number): Promise<boolean>;
  /** Renews on the local lessor: the TTL in seconds; ErrLeaseNotFound / ErrNotPrimary. */
  leaseRenewLocal(id: bigint): Promise<number>;
  /** TimeToLive on the local lessor; ErrLeaseNotFound / ErrNotPrimary (demoted meanwhile). */
  leaseTimeToLiveLocal(r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
}

const textHeaders = { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" };

/** Go's http.Error: `text` and a newline, as text/plain. */
function httpError(text: string, status: number): Response {
  return new Response(`${text}\n`, { status, headers: textHeaders });
}

function protobufResponse(b: Uint8Array): Response {
  return new Response(b as BodyInit, { status: 200, headers: { "Content-Type": "application/protobuf" } });
}


/**
 * etcd's leasehttp.NewHandler: serves a request to {@link LeasePrefix} or {@link LeaseInternalPrefix}
 * (the caller routes only those two paths here).
 */
export function newLeaseHandler(s: LeaseHTTPServer): (req: Request) => Promise<Response> {
  return async (req) => {
    // etcd's lease handler answers 405 without an Allow header.
    if (req.method !== "POST") return httpError("Method Not Allowed", 405);
    let b: Uint8Array | undefined;
    try {
      b = await readAllLimited(req.body, maxLeaseHTTPRequestSize);
    } catch {
      return httpError("error reading body", 400);
    }
    if (b === undefined) return httpError("request body too large", 413);
    const path = new URL(req.url).pathname;
    if (path === LeasePrefix) return renew(s, b);
    if (path === LeaseInternalPrefix) return timeToLive(s, b);
    return httpError(`unknown request path ${JSON.stringify(path)}`, 400);
  };
}

async function waitApplied(s: LeaseHTTPServer): Promise<Response | undefined> {
  let caughtUp: boolean;
  try {
    caughtUp = await s.waitAppliedCaughtUp(applyTimeoutMs);
  } catch (err) {
    return httpError(errorText(err), 500);
  }
  return caughtUp ? undefined : httpError(ErrLeaseHTTPTimeout.message, 408);
}

async function renew(s: LeaseHTTPServer, b: Uint8Array): Promise<Response> {
  let id: bigint;
  try {
    id = decodeLeaseKeepAliveRequest(b).ID;
  } catch {
    return httpError("error unmarshalling request", 400);
  }
  const timedOut = await waitApplied(s);
  if (timedOut !== undefined) return timedOut;
  let ttl: number;
  try {
    ttl = await s.leaseRenewLocal(id);
  } catch (err) {
    if (err === ErrLeaseNotFound) return httpError(ErrLeaseNotFound.message, 404);
    return httpError(errorText(err), 400);
  }
  return protobufResponse(encodeLeaseKeepAliveResponse({ header: zeroHeader(), ID: id, TTL: ttl }));
}

async function timeToLive(s: LeaseHTTPServer, b: Uint8Array): Promise<Response> {
  let req: LeaseTimeToLiveRequest | undefined;
  try {
    req = decodeLeaseInternalRequest(b);
  } catch {
    return httpError("error unmarshalling request", 400);
  }
  if (req === undefined) return httpError("error unmarshalling request", 400);
  const timedOut = await waitApplied(s);
  if (timedOut !== undefined) return timedOut;
  let resp: LeaseTimeToLiveResponse;
  try {
    resp = await s.leaseTimeToLiveLocal(req);
  } catch (err) {
    if (err === ErrLeaseNotFound) return httpError(ErrLeaseNotFound.message, 404);
    if (err === ErrNotPrimary) return httpError(ErrNotPrimary.message, 500);
    return httpError(errorText(err), 500);
  }
  return protobufResponse(encodeLeaseInternalResponse({ ...resp, ID: req.ID, keys: req.keys ? resp.keys : [] }));
}

const zeroHeader = () => ({ clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 });

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// --- clients -------------------------------------------------------------------------------------

const utf8 = new TextDecoder();

/** POSTs `body` and reads the answer within etcd's response bound. */
async function post(fetch: FetchFn, url: string, body: Uint8Array, signal?: AbortSignal): Promise<{ status: number; b: Uint8Array }> {
  const resp = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/protobuf" },
    body: body as BodyInit,
    // etcd's client does not follow redirects (http.ErrUseLastResponse).
    redirect: "manual",
    signal,
  });
  const b = await readAllLimited(resp.body, maxLeaseHTTPResponseSize);
  if (b === undefined) throw new Error(`lease: response body exceeds ${maxLeaseHTTPResponseSize} bytes limit`);
  return { status: resp.status, b };
}

/** etcd's mapping of a non-200 answer: 408, 404, else "lease: unknown error(…)". */
function statusError(status: number, b: Uint8Array): Error {
  if (status === 408) return ErrLeaseHTTPTimeout;
  if (status === 404) return ErrLeaseNotFound;
  return new Error(`lease: unknown error(${utf8.decode(b)})`);
}

/**
 * etcd's RenewHTTP: renews lease `id` at the leader whose peer URL is `peerURL` (POST
 * `${peerURL}/leases`); resolves with the TTL in seconds. Rejects with ErrLeaseNotFound (404),
 * {@link ErrLeaseHTTPTimeout} (408), `lease: unknown error(<body>)` for another status,
 * `lease: renew id mismatch`, or the fetch's error (`signal` aborts it).
 */
export async function renewHTTP(fetch: FetchFn, id: bigint, peerURL: string, signal?: AbortSignal): Promise<number> {
  const { status, b } = await post(fetch, peerURL + LeasePrefix, encodeLeaseKeepAliveRequest({ ID: id }), signal);
  if (status !== 200) throw statusError(status, b);
  let resp;
  try {
    resp = decodeLeaseKeepAliveResponse(b);
  } catch (err) {
    throw new Error(`lease: ${errorText(err)}. data = "${utf8.decode(b)}"`);
  }
  if (resp.ID !== id) throw new Error("lease: renew id mismatch");
  return resp.TTL;
}

/**
 * etcd's TimeToLiveHTTP: asks the leader at `peerURL` (POST `${peerURL}/leases/internal`) for
 * lease `r.ID`. The response's header is zero: the caller fills its own. Errors as
 * {@link renewHTTP}.
 */
export async function timeToLiveHTTP(
  fetch: FetchFn,
  r: LeaseTimeToLiveRequest,
  peerURL: string,
  signal?: AbortSignal,
): Promise<LeaseTimeToLiveResponse> {
  const { status, b } = await post(fetch, peerURL + LeaseInternalPrefix, encodeLeaseInternalRequest(r), signal);
  if (status !== 200) throw statusError(status, b);
  let resp: LeaseTimeToLiveResponse | undefined;
  try {
    resp = decodeLeaseInternalResponse(b);
  } catch (err) {
    throw new Error(`lease: ${errorText(err)}. data = "${utf8.decode(b)}"`);
  }
  // etcd dereferences the nested message; an absent one is a mismatch here.
  if (resp === undefined || resp.ID !== r.ID) throw new Error("lease: renew id mismatch");
  return resp;
}
