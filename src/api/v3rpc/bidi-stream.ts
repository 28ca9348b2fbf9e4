/**
 * The two transports of a bidirectional gateway stream (watch, lease keepalive), over one session:
 *
 * - HTTP: the request body is a sequence of JSON requests (grpc-gateway's json.Decoder loop); the
 *   first is decoded before the response starts (a bad one is a unary error, code Unknown, 500, as
 *   the gateway returns it from request_X before streaming), later bad input stops reading the body
 *   (the gateway half-closes), responses are `{"result":…}\n` lines, an error ends the stream with
 *   `{"error":{…}}`.
 * - WebSocket (grpc-websocket-proxy): each client message is appended to that same request body
 *   (with a newline), and each response line goes out as one text message without its newline; the
 *   socket closes when the stream ends.
 */
import type { Context } from "hono";
import type { WSContext, WSEvents } from "hono/ws";
import type { EtcdServerAPI } from "../../etcdserver/api.js";
import { encodeErrorBody, encodeStreamError, encodeStreamResult, type Codec } from "./json.js";
import { Code, ErrGRPCNotSupportedForLearner, EtcdError, httpStatusFromCode } from "./rpctypes.js";
import {
  errorResponse,
  GatewayStream,
  grpcOverheadBytes,
  pumpBody,
  RequestSplitter,
  statusText,
  type GatewayOptions,
} from "./runtime.js";

/** Where a session's output goes: one response's JSON, a final error, or the end. */
export interface StreamOut {
  send(msgJSON: string): void;
  fail(err: EtcdError): void;
  end(): void;
}

export interface BidiSession<Req> {
  handle(req: Req): void;
  /** The client sent its last request (HTTP body EOF). */
  bodyEnded(): void;
  /** The client went away, or the stream ended: stop everything. */
  close(): void;
}

export interface BidiDef<Req> {
  codec: Codec<Req>;
  open(server: EtcdServerAPI, out: StreamOut, opts: GatewayOptions): BidiSession<Req>;
}

/** Decodes one request; an error is the gateway's raw decode error. */
function decodeOne<Req>(codec: Codec<Req>, text: string): Req | EtcdError {
  try {
    return codec.decode(text);
  } catch (err) {
    if (err instanceof EtcdError) return err;
    return new EtcdError("Unknown", Code.Unknown, String(err));
  }
}

/** A decode error as the gateway answers it before streaming: not a gRPC status, so code Unknown. */
const asUnknown = (e: EtcdError): EtcdError =>
  e.code === Code.InvalidArgument ? new EtcdError("Unknown", Code.Unknown, e.message) : e;

export function serveBidiHTTP<Req>(server: EtcdServerAPI, c: Context, def: BidiDef<Req>, opts: GatewayOptions): Promise<Response> {
  const req = c.req.raw;
  const gs = new GatewayStream(req.signal);
  const session = def.open(server, { send: (j) => gs.send(j), fail: (e) => gs.fail(e), end: () => gs.end() }, opts);
  let resolveEarly!: (r: Response) => void;
  const early = new Promise<Response>((r) => (resolveEarly = r));
  let first = true;
  let stopped = false;
  gs.onCancel = () => {
    stopped = true;
    session.close();
  };
  const splitter = new RequestSplitter(server.maxRequestBytes() + grpcOverheadBytes);
  const failFirst = (e: EtcdError): void => {
    stopped = true;
    session.close();
    resolveEarly(errorResponse(asUnknown(e)));
  };
  const onValues = (values: string[]): void => {
    for (const text of values) {
      if (stopped) return;
      const r = decodeOne(def.codec, text);
      if (r instanceof EtcdError) {
        if (first) return failFirst(r);
        stopped = true; // half-close: later requests are not read
        return;
      }
      first = false;
      session.handle(r);
    }
    if (splitter.error && !stopped) {
      if (first) return failFirst(splitter.error);
      stopped = true;
    }
  };
  void pumpBody(req, (t) => onValues(splitter.push(t)), () => stopped || gs.isClosed()).then(() => {
    splitter.end();
    if (splitter.error && first && !stopped) return failFirst(splitter.error);
    if (!gs.isClosed()) session.bodyEnded();
  });
  return Promise.race([gs.response, early]);
}

/** The WebSocket events of one socket (for the runtime's injected upgradeWebSocket). */
export function bidiWebSocketEvents<Req>(server: EtcdServerAPI, def: BidiDef<Req>, opts: GatewayOptions): WSEvents<unknown> {
  let session: BidiSession<Req> | undefined;
  let socket: WSContext<unknown> | undefined;
  let ended = false;
  let first = true;
  let stopped = false;
  let chain = Promise.resolve();
  const splitter = new RequestSplitter(server.maxRequestBytes() + grpcOverheadBytes);
  const send = (text: string): void => {
    if (ended || socket === undefined) return;
    try {
      socket.send(text);
    } catch {
      finish();
    }
  };
  const finish = (): void => {
    if (ended) return;
    ended = true;
    session?.close();
    try {
      socket?.close();
    } catch {
      // already closed
    }
  };
  const out: StreamOut = {
    send: (j) => send(encodeStreamResult(j)),
    fail: (e) => {
      const status = httpStatusFromCode(e.code);
      send(encodeStreamError(e, status, statusText[status] ?? ""));
      finish();
    },
    end: finish,
  };
  const sessionOf = (ws: WSContext<unknown>): BidiSession<Req> => {
    socket = ws;
    session ??= def.open(server, out, opts);
    return session;
  };
  const onText = (ws: WSContext<unknown>, text: string): void => {
    const s = sessionOf(ws);
    if (ended || stopped) return;
    for (const v of splitter.push(text + "\n")) {
      const r = decodeOne(def.codec, v);
      if (r instanceof EtcdError) {
        if (first) {
          send(encodeErrorBody(asUnknown(r)));
          return finish();
        }
        stopped = true;
        return;
      }
      first = false;
      s.handle(r);
      if (ended) return;
    }
    if (splitter.error) {
      if (first) {
        send(encodeErrorBody(asUnknown(splitter.error)));
        return finish();
      }
      stopped = true;
    }
  };
  return {
    onOpen: (_evt, ws) => {
      sessionOf(ws);
    },
    onMessage: (evt, ws) => {
      const data = evt.data;
      chain = chain.then(async () => {
        let text: string;
        if (typeof data === "string") text = data;
        else if (data instanceof ArrayBuffer) text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(data);
        else if (ArrayBuffer.isView(data)) text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(data as ArrayBufferView);
        else if (typeof (data as Blob).text === "function") text = await (data as Blob).text();
        else text = String(data);
        onText(ws, text);
      });
    },
    onClose: () => finish(),
    onError: () => finish(),
  };
}

/** Serves a bidi route: WebSocket when asked and the runtime can upgrade, else an HTTP stream. */
export function serveBidi<Req>(
  server: EtcdServerAPI,
  c: Context,
  def: BidiDef<Req>,
  opts: GatewayOptions,
  isUpgrade: boolean,
): Promise<Response> | Response {
  // etcd's stream interceptor: a learner serves no stream but Snapshot.
  if (server.isLearner?.() === true) return errorResponse(asUnknown(ErrGRPCNotSupportedForLearner));
  if (isUpgrade && opts.upgradeWebSocket) {
    const mw = opts.upgradeWebSocket(() => bidiWebSocketEvents(server, def, opts));
    return Promise.resolve(mw(c, async () => {})).then((r) => r ?? c.res);
  }
  return serveBidiHTTP(server, c, def, opts);
}
