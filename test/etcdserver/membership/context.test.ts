// The member JSON of ConfChange contexts and the members bucket, byte for byte as Go's
// encoding/json writes etcd's membership.Member and ConfigChangeContext.
import { describe, expect, it } from "vitest";
import {
  ContextDecodeError,
  decodeConfChangeContext,
  decodeMemberJSON,
  encodeConfigChangeContext,
  encodeMemberContext,
  memberJSON,
} from "../../../src/etcdserver/membership/context.js";
import type { Member } from "../../../src/etcdserver/membership/member.js";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const maxID = (1n << 64n) - 1n; // 18446744073709551615: far above 2^53

const member = (f: Partial<Member>): Member => ({ id: 1n, name: "", peerURLs: [], clientURLs: [], isLearner: false, ...f });

describe("member context JSON", () => {
  it("writes Go's field order with omitempty, the uint64 id exact", () => {
    const m = member({
      id: maxID,
      name: "infra1",
      peerURLs: ["http://127.0.0.1:12380", "http://127.0.0.1:22380"],
      clientURLs: ["http://127.0.0.1:2379"],
      isLearner: true,
    });
    expect(text(encodeMemberContext(m))).toBe(
      '{"id":18446744073709551615,"peerURLs":["http://127.0.0.1:12380","http://127.0.0.1:22380"],"isLearner":true,"name":"infra1","clientURLs":["http://127.0.0.1:2379"]}',
    );
  });

  it("omits isLearner false, an empty name and empty client URLs", () => {
    const m = member({ id: 10276657743932975437n, peerURLs: ["http://localhost:2380"] });
    expect(memberJSON(m)).toBe('{"id":10276657743932975437,"peerURLs":["http://localhost:2380"]}');
  });

  it("writes a promote context as etcd builds it: the id alone, peerURLs null, isPromote true", () => {
    expect(text(encodeConfigChangeContext(member({ id: maxID }), true))).toBe('{"id":18446744073709551615,"peerURLs":null,"isPromote":true}');
    expect(text(encodeConfigChangeContext(member({ id: 5n, peerURLs: ["http://a:1"] }), false))).toBe(
      '{"id":5,"peerURLs":["http://a:1"],"isPromote":false}',
    );
  });

  it("escapes strings as Go does (HTML-safe)", () => {
    expect(memberJSON(member({ name: '<a&b> "q" \\ \n\u2028', peerURLs: ["http://x:1"] }))).toBe(
      '{"id":1,"peerURLs":["http://x:1"],"name":"\\u003ca\\u0026b\\u003e \\"q\\" \\\\ \\n\\u2028"}',
    );
  });

  it("reads back what it writes, ids above 2^53 exact", () => {
    const m = member({ id: maxID - 1n, name: 'n"1', peerURLs: ["http://127.0.0.1:1"], clientURLs: ["http://c:2"], isLearner: true });
    expect(decodeConfChangeContext(encodeMemberContext(m))).toEqual({ member: m, isPromote: false });
    expect(decodeConfChangeContext(encodeConfigChangeContext(member({ id: 9007199254740993n }), true))).toEqual({
      member: member({ id: 9007199254740993n }),
      isPromote: true,
    });
    expect(decodeMemberJSON(memberJSON(m))).toEqual(m);
  });

  it("reads etcd's JSON with whitespace, nulls and unknown fields", () => {
    const got = decodeConfChangeContext(bytes(' { "id" : 12345678901234567890 , "peerURLs": null, "name": null, "extra": [1, {"x": 2.5e3}], "isPromote": true } '));
    expect(got).toEqual({ member: member({ id: 12345678901234567890n }), isPromote: true });
  });

  it("reads the decimal-string id of contexts edgecd wrote before following etcd's JSON", () => {
    const legacy = bytes('{"id":"18446744073709551615","peerURLs":["http://a:1"],"name":"n","isLearner":false}');
    expect(decodeConfChangeContext(legacy)).toEqual({ member: member({ id: maxID, name: "n", peerURLs: ["http://a:1"] }), isPromote: false });
  });

  it("takes the key's id when the JSON has none (the members bucket)", () => {
    expect(decodeMemberJSON('{"peerURLs":["http://a:1"]}', 42n).id).toBe(42n);
  });

  it("refuses what etcd cannot unmarshal", () => {
    for (const bad of ["{", '{"id":"x12"}', '{"id":true}', '{"id":-1}', '{"id":1.5}', '{"id":18446744073709551616}', '{"peerURLs":"x"}', "[1]", '{"isPromote":1}']) {
      expect(() => decodeConfChangeContext(bytes(bad)), bad).toThrow(ContextDecodeError);
    }
  });
});
