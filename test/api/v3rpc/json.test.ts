// The gateway JSON codec and Go's JSON/base64 rules it mirrors, against fixed strings from etcd
// (reference §1.4, and bodies and messages observed from etcd's gateway).
import { describe, expect, it } from "vitest";
import {
  newCompare,
  newPutResponse,
  newRangeResponse,
  newResponseHeader,
  newStatusResponse,
  newTxnResponse,
  newWatchResponse,
  CompareTarget,
  SortOrder,
} from "../../../src/api/etcdserverpb/rpc.js";
import { decodeGoBase64, encodeBase64, goJSONString, parseGoJSON, quoteChar } from "../../../src/pkg/go-json.js";
import {
  AlarmResponseJSON,
  CompareSpec,
  encodeErrorBody,
  encodeMessage,
  encodeStreamError,
  jsonName,
  LeaseGrantRequestJSON,
  PutRequestJSON,
  PutResponseJSON,
  RangeRequestJSON,
  RangeResponseJSON,
  StatusResponseJSON,
  TxnRequestJSON,
  TxnResponseJSON,
  WatchRequestJSON,
  WatchResponseJSON,
} from "../../../src/api/v3rpc/json.js";
import { Code, ErrGRPCNoLeader, EtcdError } from "../../../src/api/v3rpc/rpctypes.js";
import { EventType, newKeyValue } from "../../../src/mvcc/mvccpb.js";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const H = newResponseHeader({ clusterId: 12585971608760269493n, memberId: 13847567121247652255n, revision: 2, raftTerm: 3 });
const HJ = `{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"2","raft_term":"3"}`;

function decodeError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(EtcdError);
    expect((err as EtcdError).code).toBe(Code.InvalidArgument);
    return (err as EtcdError).message;
  }
  throw new Error("no error");
}

describe("encoding (reference §1.4)", () => {
  it("put and range responses", () => {
    expect(PutResponseJSON.encode(newPutResponse({ header: H }))).toBe(`{"header":${HJ}}`);
    const kv = newKeyValue({ key: b("foo"), value: b("bar"), createRevision: 2, modRevision: 2, version: 1 });
    expect(RangeResponseJSON.encode(newRangeResponse({ header: H, kvs: [kv], count: 1 }))).toBe(
      `{"header":${HJ},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`,
    );
    expect(RangeResponseJSON.encode(newRangeResponse({ header: H }))).toBe(`{"header":${HJ}}`);
  });

  it("a txn: the set oneof member by name, a sub-response's header with the revision only", () => {
    const t = newTxnResponse({
      header: H,
      succeeded: true,
      responses: [{ responsePut: newPutResponse({ header: newResponseHeader({ revision: 3 }) }) }],
    });
    expect(TxnResponseJSON.encode(t)).toBe(`{"header":${HJ},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]}`);
    // An empty header is still emitted: a set sub-message.
    expect(TxnResponseJSON.encode(newTxnResponse({ responses: [{ responsePut: newPutResponse() }] }))).toBe(
      `{"header":{},"responses":[{"response_put":{"header":{}}}]}`,
    );
  });

  it("a set oneof member is emitted even when zero; enums by name, 0 omitted", () => {
    expect(encodeMessage(CompareSpec, newCompare({ key: b("a"), version: 0 }) as never)).toBe(`{"key":"YQ==","version":"0"}`);
    expect(encodeMessage(CompareSpec, newCompare({ key: b("a"), target: CompareTarget.LEASE, lease: 5n }) as never)).toBe(
      `{"target":"LEASE","key":"YQ==","lease":"5"}`,
    );
  });

  it("watch responses: watch_id 0 and PUT omitted, DELETE and -1 shown, events last", () => {
    const ev = { type: EventType.DELETE, kv: newKeyValue({ key: b("foo"), modRevision: 3 }) };
    expect(WatchResponseJSON.encode(newWatchResponse({ header: H, watchId: -1, events: [ev], fragment: true }))).toBe(
      `{"header":${HJ},"watch_id":"-1","fragment":true,"events":[{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"3"}}]}`,
    );
  });

  it("status: uint64 as strings, repeated strings, Go's HTML-safe string escaping", () => {
    const s = newStatusResponse({ header: H, version: "3.5.0", dbSize: 20480, leader: 1n, raftIndex: 8, errors: ["a<b>&\"c\"\n"] });
    expect(StatusResponseJSON.encode(s)).toBe(
      `{"header":${HJ},"version":"3.5.0","dbSize":"20480","leader":"1","raftIndex":"8","errors":["a\\u003cb\\u003e\\u0026\\"c\\"\\n"]}`,
    );
    expect(AlarmResponseJSON.encode({ header: H, alarms: [{ memberID: 18446744073709551615n, alarm: 1 }] })).toBe(
      `{"header":${HJ},"alarms":[{"memberID":"18446744073709551615","alarm":"NOSPACE"}]}`,
    );
  });

  it("error bodies: 3.5's unary shape and the stream's final chunk", () => {
    expect(encodeErrorBody(ErrGRPCNoLeader)).toBe(`{"error":"etcdserver: no leader","code":14,"message":"etcdserver: no leader"}`);
    expect(encodeStreamError(ErrGRPCNoLeader, 503, "Service Unavailable")).toBe(
      `{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}`,
    );
  });
});

describe("decoding", () => {
  it("proto names and JSON names (the JSON name wins), int64 as string or number, enums by name or number", () => {
    const r = RangeRequestJSON.decode(`{"key":"Zm9v","range_end":"Zm9w","rangeEnd":"Zm9x","limit":"5","revision":7,"sort_order":"DESCEND","sortTarget":2}`);
    expect(r).toMatchObject({ key: b("foo"), rangeEnd: b("foq"), limit: 5, revision: 7, sortOrder: SortOrder.DESCEND, sortTarget: 2 });
    expect(RangeRequestJSON.decode("  ")).toMatchObject({ key: new Uint8Array(0), limit: 0, serializable: false });
    expect(LeaseGrantRequestJSON.decode(`{"ID":"9223372036854775807","TTL":5}`)).toEqual({ ID: 9223372036854775807n, TTL: 5 });
    expect(PutRequestJSON.decode(`{"key":[102,111,111],"lease":null,"prevKv":true}`)).toMatchObject({ key: b("foo"), lease: 0n, prevKv: true });
  });

  it("oneofs and nested messages", () => {
    const t = TxnRequestJSON.decode(`{"compare":[{"target":"CREATE","key":"Zm9v","createRevision":"2"}],"success":[{"requestPut":{"key":"Zm9v"}},{"request_txn":{}}]}`);
    expect(t.compare[0]).toEqual({ result: 0, target: 1, key: b("foo"), createRevision: 2, rangeEnd: new Uint8Array(0) });
    expect(t.success[0]!.requestPut!.key).toEqual(b("foo"));
    expect(t.success[1]!.requestTxn).toEqual({ compare: [], success: [], failure: [] });
    expect(WatchRequestJSON.decode(`{"progress_request":{}}`)).toEqual({ progressRequest: {} });
    expect(WatchRequestJSON.decode(`{"create_request":{"filters":["NODELETE",0]}}`).createRequest!.filters).toEqual([1, 0]);
    // Two members of one oneof: the last in field order wins, whatever the JSON order (jsonpb's m.Set).
    for (const text of [`{"request_range":{"key":"YQ=="},"request_put":{"key":"Yg=="}}`, `{"request_put":{"key":"Yg=="},"request_range":{"key":"YQ=="}}`]) {
      const op = TxnRequestJSON.decode(`{"success":[${text}]}`).success[0]!;
      expect([op.requestRange, op.requestPut?.key]).toEqual([undefined, b("b")]);
    }
    expect(TxnRequestJSON.decode(`{"compare":[{"value":"YQ==","version":"3"}]}`).compare[0]).toMatchObject({ value: b("a") });
    expect(TxnRequestJSON.decode(`{"compare":[{"value":"YQ==","version":"3"}]}`).compare[0]!.version).toBeUndefined();
  });

  it("Go's messages for bad input", () => {
    expect(decodeError(() => RangeRequestJSON.decode(`{`))).toBe("unexpected EOF");
    expect(decodeError(() => RangeRequestJSON.decode(`{"key" 1}`))).toBe("invalid character '1' after object key");
    expect(decodeError(() => RangeRequestJSON.decode(`{"key":"a" "b"}`))).toBe("invalid character '\"' after object key:value pair");
    expect(decodeError(() => RangeRequestJSON.decode(`{'key':1}`))).toBe("invalid character '\\'' looking for beginning of object key string");
    expect(decodeError(() => RangeRequestJSON.decode(`{"key":tru}`))).toBe("invalid character '}' in literal true (expecting 'e')");
    expect(decodeError(() => RangeRequestJSON.decode(`{"limit":-x}`))).toBe("invalid character 'x' in numeric literal");
    expect(decodeError(() => RangeRequestJSON.decode(`{"limit":""}`))).toBe("unexpected end of JSON input");
    expect(decodeError(() => RangeRequestJSON.decode(`{"limit":"5x"}`))).toBe("invalid character 'x' after top-level value");
    expect(decodeError(() => RangeRequestJSON.decode(`{"limit":true}`))).toBe("json: cannot unmarshal bool into Go value of type int64");
    expect(decodeError(() => RangeRequestJSON.decode(`{"limit":1e3}`))).toBe("json: cannot unmarshal number 1e3 into Go value of type int64");
    expect(decodeError(() => TxnRequestJSON.decode(`{"success":{}}`))).toBe("json: cannot unmarshal object into Go value of type []json.RawMessage");
    expect(decodeError(() => TxnRequestJSON.decode(`{"success":[5]}`))).toBe("json: cannot unmarshal number into Go value of type map[string]json.RawMessage");
    expect(decodeError(() => PutRequestJSON.decode(`{"key":[300]}`))).toBe("json: cannot unmarshal number 300 into Go value of type uint8");
    expect(decodeError(() => RangeRequestJSON.decode(`{"sort_order":true}`))).toBe("json: cannot unmarshal bool into Go value of type protoreflect.EnumNumber");
  });
});

describe("Go's JSON and base64 primitives", () => {
  it("parseGoJSON: decoder mode reads one value and leaves the rest; whitespace only is EOF", () => {
    expect(parseGoJSON(`{"a":1} {"b":2}`, "decoder")!.end).toBe(7);
    expect(parseGoJSON(" \n\t", "decoder")).toBeUndefined();
  });

  it("quoteChar as Go's scanner prints a byte", () => {
    expect([quoteChar(0x78), quoteChar(0x27), quoteChar(0x22), quoteChar(0x0a), quoteChar(0x01), quoteChar(0xc3)]).toEqual([
      "'x'",
      "'\\''",
      "'\"'",
      "'\\n'",
      "'\\x01'",
      "'Ã'",
    ]);
  });

  it("base64: padding required, newlines skipped, Go's offsets", () => {
    expect(decodeGoBase64("Zm9v")).toEqual(b("foo"));
    expect(decodeGoBase64("Zm8=")).toEqual(b("fo"));
    expect(decodeGoBase64("Zg==")).toEqual(b("f"));
    expect(decodeGoBase64("Zm\n9v\r\n")).toEqual(b("foo"));
    const msg = (s: string): string => {
      try {
        decodeGoBase64(s);
        return "ok";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect([msg("Zm9"), msg("Zg"), msg("Zg="), msg("Z==="), msg("Zm9v!"), msg("Zg==x"), msg("Zm9vZ")]).toEqual([
      "illegal base64 data at input byte 0",
      "illegal base64 data at input byte 0",
      "illegal base64 data at input byte 3",
      "illegal base64 data at input byte 1",
      "illegal base64 data at input byte 4",
      "illegal base64 data at input byte 4",
      "illegal base64 data at input byte 4",
    ]);
    for (const s of ["", "f", "fo", "foo", "foob", "fooba", "foobar"]) expect(decodeGoBase64(encodeBase64(b(s)))).toEqual(b(s));
    expect(encodeBase64(b("foobar"))).toBe(btoa("foobar"));
  });

  it("goJSONString escapes as Go's json.Marshal", () => {
    expect(goJSONString("a\u2028<\u0000")).toBe('"a\\u2028\\u003c\\u0000"');
  });

  it("jsonName as protoc", () => {
    expect([jsonName("range_end"), jsonName("ID"), jsonName("remaining_TTL"), jsonName("peerURLs")]).toEqual([
      "rangeEnd",
      "ID",
      "remainingTTL",
      "peerURLs",
    ]);
  });
});
