/**
 * The gateway runtime (grpc-gateway's `runtime` package as etcd 3.5 uses it, v1.16): reading a
 * request body, unary responses and errors, streamed responses (`{"result":…}\n` lines and a final
 * `{"error":{…}}` chunk), the request-splitting of streaming bodies, and the size limits etcd's
 * gRPC server and v3rpc apply. Web-standard Request/Response/ReadableStream only.
 */
import type { Context } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { readAllLimited } from "../../pkg/body.js";
import { GoJSONError, parseGoJSON } from "../../pkg/go-json.js";
import { encodeErrorBody, encodeStreamError, encodeStreamResult, invalidArgument, type Codec } from "./json.js";
import { Code, ErrGRPCNotSupportedForLearner, ErrGRPCRequestTooLarge, EtcdError, httpStatusFromCode, toGRPCError } from "./rpctypes.js";

/** etcd's grpcOverheadBytes: the gRPC server accepts messages up to --max-request-bytes plus this. */
export const grpcOverheadBytes = 512 * 1024;

export interface GatewayOptions {
  /**
   * The runtime's WebSocket upgrade (hono's `UpgradeWebSocket`: `upgradeWebSocket` of
   * `@hono/node-server`, `hono/deno`, `hono/cloudflare-workers`). Without it, `Upgrade: websocket`
   * requests are served as plain HTTP streams.
   */
  upgradeWebSocket?: UpgradeWebSocket<unknown>;
  /** Timer for watch progress notifications (default: the global setTimeout). */
  setTimer?: (ms: number, fn: () => void) => () => void;
  /** etcd's --cors: allowed origins; empty or containing "*" allows every origin (default). */
  cors?: readonly string[];
  /** etcd's --host-whitelist: allowed Host names; empty or containing "*" allows every host (default). */
  hostWhitelist?: readonly string[];
}

export const defaultSetTimer = (ms: number, fn: () => void): (() => void) => {
  const h = setTimeout(fn, ms);
  return () => clearTimeout(h);
};

/** Any thrown value as the client error etcd answers with (togRPCError; Unknown for the unmapped). */
export function toEtcdError(err: unknown): EtcdError {
  if (err instanceof Error) return toGRPCError(err);
  return new EtcdError("Unknown", Code.Unknown, String(err));
}

const jsonHeaders = { "Content-Type": "application/json" };
/**
 * A successful answer also carries the gRPC server's response header as grpc-gateway forwards
 * metadata (`Grpc-Metadata-` + key): its content type.
 */
const okHeaders = { ...jsonHeaders, "Grpc-Metadata-Content-Type": "application/grpc" };

/** grpc-gateway's DefaultHTTPError: the 3.5 body `{"error":m,"code":c,"message":m}` with the mapped status. */
export function errorResponse(err: EtcdError): Response {
  return new Response(encodeErrorBody(err), { status: httpStatusFromCode(err.code), headers: jsonHeaders });
}

export function jsonResponse(body: string): Response {
  return new Response(body, { status: 200, headers: okHeaders });
}

/** Go's http.StatusText for the statuses the gateway can answer. */
export const statusText: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  412: "Precondition Failed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Go's http.Error: plain text with a trailing newline (grpc-gateway's 404 and 405). */
export function httpError(status: number): Response {
  return new Response(`${statusText[status] ?? ""}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" },
  });
}

/**
 * The largest body read for one request. etcd's gateway reads any body and gRPC limits the decoded
 * message, so a large body with a small message (unknown fields, whitespace) passes and a large
 * message gets gRPC's ResourceExhausted with its size: edgecd reads bodies up to 64 MiB (or, with a
 * larger --max-request-bytes, one holding a message at the gRPC limit, base64'd and JSON-wrapped)
 * and decodes them to tell. Beyond that it refuses without reading (ErrGRPCRequestTooLarge).
 */
export function bodyLimit(server: EtcdServerAPI): number {
  return Math.max(64 * 1024 * 1024, 2 * (server.maxRequestBytes() + grpcOverheadBytes) + 64 * 1024);
}

/**
 * Request bodies as text: UTF-8, invalid bytes replaced, a byte order mark kept (Go's JSON decoder
 * sees it as the invalid character 'ï').
 */
const bodyText = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Reads the whole body as text (UTF-8, invalid bytes replaced). More than `limit` bytes is
 * ErrGRPCRequestTooLarge, answered without reading the rest.
 */
export async function readBody(req: Request, limit: number): Promise<string> {
  const length = req.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length)) {
    // A sized body: refuse it before reading when too large, else read it whole. (Touching
    // `req.body` here would make @hono/node-server build a web stream; arrayBuffer() reads the
    // socket directly.)
    if (Number(length) > limit) {
      await req.body?.cancel().catch(() => {});
      throw ErrGRPCRequestTooLarge;
    }
    const buf = new Uint8Array(await req.arrayBuffer());
    if (buf.length > limit) throw ErrGRPCRequestTooLarge;
    return bodyText.decode(buf);
  }
  const all = await readAllLimited(req.body, limit);
  if (all === undefined) throw ErrGRPCRequestTooLarge;
  return bodyText.decode(all);
}

/**
 * The size limits on a decoded request: beyond --max-request-bytes + 512 KiB gRPC refuses it
 * (ResourceExhausted, gRPC's text); a request that is proposed through raft (`proposal`) and is
 * larger than --max-request-bytes is ErrGRPCRequestTooLarge, as etcd's processInternalRaftRequest.
 */
export function checkSize<T>(server: EtcdServerAPI, codec: Codec<T>, req: T, proposal: boolean): EtcdError | undefined {
  const size = codec.size(req);
  const max = server.maxRequestBytes() + grpcOverheadBytes;
  if (size > max) {
    return new EtcdError(
      "ResourceExhausted",
      Code.ResourceExhausted,
      `grpc: received message larger than max (${size} vs. ${max})`,
    );
  }
  if (proposal && size > server.maxRequestBytes()) return ErrGRPCRequestTooLarge;
  return undefined;
}

/** A unary RPC as the gateway serves it. */
export interface UnaryDef<Req, Resp> {
  req: Codec<Req>;
  resp: Codec<Resp>;
  /** Proposed through raft: subject to the --max-request-bytes check. */
  proposal?: boolean;
  /** The v3rpc request checks. */
  check?: (r: Req) => EtcdError | undefined;
  /** Whether a learner serves it (etcd's isRPCSupportedForLearner: Status and serializable Range). */
  learner?: (r: Req) => boolean;
  call: (r: Req) => Promise<Resp>;
}

/** Reads, decodes, checks and calls; every failure is a complete error response, never a partial one. */
export async function serveUnary<Req, Resp>(server: EtcdServerAPI, c: Context, def: UnaryDef<Req, Resp>): Promise<Response> {
  let body: string;
  try {
    const text = await readBody(c.req.raw, bodyLimit(server));
    const req = def.req.decode(text);
    // etcd's unary interceptor refuses a learner's requests before the handler's checks.
    if (server.isLearner?.() === true && def.learner?.(req) !== true) return errorResponse(ErrGRPCNotSupportedForLearner);
    const err = checkSize(server, def.req, req, def.proposal ?? false) ?? def.check?.(req);
    if (err) return errorResponse(err);
    const resp = await def.call(req);
    body = def.resp.encode(resp);
  } catch (err) {
    return errorResponse(toEtcdError(err));
  }
  return jsonResponse(body);
}

// ---------------------------------------------------------------------------------------------
// Streams

/**
 * Splits a streaming body into its JSON values as the gateway's json.Decoder does (whitespace or
 * nothing between them). Feed text with {@link push}; each complete value comes back as its text.
 * After a syntax error (or a value larger than `maxBytes`) it stops: {@link error} says why and
 * later input is ignored, as the gateway stops reading (half-closes) the stream.
 */
export class RequestSplitter {
  private buf = "";
  error: EtcdError | undefined;

  constructor(private readonly maxBytes: number) {}

  push(text: string): string[] {
    if (this.error) return [];
    this.buf += text;
    const out: string[] = [];
    for (;;) {
      let parsed: { end: number } | undefined;
      try {
        parsed = parseGoJSON(this.buf, "decoder");
      } catch (err) {
        if (!(err instanceof GoJSONError)) throw err;
        if (err.message === "unexpected EOF" && this.buf.length <= this.maxBytes) return out;
        this.error = err.message === "unexpected EOF" ? ErrGRPCRequestTooLarge : invalidArgument(err.message);
        this.buf = "";
        return out;
      }
      if (parsed === undefined) {
        this.buf = "";
        return out;
      }
      out.push(this.buf.slice(0, parsed.end));
      this.buf = this.buf.slice(parsed.end);
    }
  }

  /** The body ended: a value left incomplete is "unexpected EOF". */
  end(): void {
    if (this.error) return;
    if (this.buf.trim() !== "") this.error = invalidArgument("unexpected EOF");
    this.buf = "";
  }
}

/**
 * A streamed gateway response. The Response exists once the first chunk does (a result, the final
 * error, or the end), as grpc-gateway writes its header with the first message: a stream that fails
 * before any result answers with the error's HTTP status.
 */
export class GatewayStream {
  private ctrl!: ReadableStreamDefaultController<Uint8Array>;
  private readonly stream: ReadableStream<Uint8Array>;
  private readonly enc = new TextEncoder();
  private started = false;
  private closed = false;
  private resolveResponse!: (r: Response) => void;
  readonly response: Promise<Response>;
  /** Called once when the client goes away (body cancelled or request aborted). */
  onCancel: () => void = () => {};

  constructor(signal?: AbortSignal) {
    this.response = new Promise((resolve) => (this.resolveResponse = resolve));
    this.stream = new ReadableStream<Uint8Array>({
      start: (ctrl) => {
        this.ctrl = ctrl;
      },
      cancel: () => this.cancel(),
    });
    signal?.addEventListener("abort", () => this.cancel());
  }

  private cancel(): void {
    if (this.closed) return;
    this.closed = true;
    this.onCancel();
    if (!this.started) {
      this.started = true;
      this.resolveResponse(new Response(null, { status: 499 }));
    }
  }

  isClosed(): boolean {
    return this.closed;
  }

  private start(status: number): void {
    if (this.started) return;
    this.started = true;
    this.resolveResponse(new Response(this.stream, { status, headers: status === 200 ? okHeaders : jsonHeaders }));
  }

  /** One message: `{"result":<msgJSON>}\n`. */
  send(msgJSON: string): void {
    if (this.closed) return;
    this.start(200);
    this.ctrl.enqueue(this.enc.encode(encodeStreamResult(msgJSON) + "\n"));
  }

  /** Ends the stream with grpc-gateway's error chunk (no newline after it). */
  fail(err: EtcdError): void {
    if (this.closed) return;
    const status = httpStatusFromCode(err.code);
    this.start(status);
    this.ctrl.enqueue(this.enc.encode(encodeStreamError(err, status, statusText[status] ?? "")));
    this.end();
  }

  end(): void {
    if (this.closed) return;
    this.start(200);
    this.closed = true;
    this.ctrl.close();
  }
}

/** Whether the request asks for a WebSocket (grpc-websocket-proxy's test). */
export function isWebSocketUpgrade(req: Request): boolean {
  return (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

/**
 * Feeds a streaming request body to `onText` chunk by chunk; resolves at the body's end (or when
 * `stop()` returns true). Read errors (the client went away) end it quietly.
 */
export async function pumpBody(req: Request, onText: (text: string) => void, stop: () => boolean): Promise<void> {
  if (req.body === null) return;
  const reader = req.body.getReader();
  const dec = new TextDecoder("utf-8", { ignoreBOM: true });
  try {
    for (;;) {
      if (stop()) {
        await reader.cancel().catch(() => {});
        return;
      }
      const { done, value } = await reader.read();
      if (done) break;
      onText(dec.decode(value, { stream: true }));
    }
    const rest = dec.decode();
    if (rest !== "") onText(rest);
  } catch {
    // The client closed its side.
  }
}
