/**
 * The JSON of a member as etcd writes it into a ConfChange's context and into the backend's
 * `members` bucket (Go's encoding/json of membership.Member and ConfigChangeContext, 3.5):
 *
 *   {"id":10276657743932975437,"peerURLs":["http://127.0.0.1:2380"],"isLearner":true,"name":"n1","clientURLs":["http://127.0.0.1:2379"]}
 *
 * Field order is Go's (id, then the embedded RaftAttributes, then Attributes); `isLearner`, `name`
 * and `clientURLs` are omitted when empty (omitempty); `peerURLs` is `null` when empty (a nil
 * slice, as in a promote context). A promote context adds `"isPromote":true` (always written, no
 * omitempty). The id is a uint64 written and read as a JSON number, textually: ids above 2^53 stay
 * exact.
 */
import { goJSONString } from "../../pkg/go-json.js";
import type { Member } from "./member.js";

const utf8 = new TextEncoder();

const stringList = (l: readonly string[]): string => `[${l.map(goJSONString).join(",")}]`;

function memberFields(m: Member): string {
  let s = `"id":${m.id.toString()},"peerURLs":${m.peerURLs.length === 0 ? "null" : stringList(m.peerURLs)}`;
  if (m.isLearner) s += `,"isLearner":true`;
  if (m.name !== "") s += `,"name":${goJSONString(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":${stringList(m.clientURLs)}`;
  return s;
}

/** The member's JSON text (etcd's json.Marshal(member)). */
export function memberJSON(m: Member): string {
  return `{${memberFields(m)}}`;
}

/** The context of an add or update ConfChange: the member's JSON as UTF-8. */
export function encodeMemberContext(m: Member): Uint8Array {
  return utf8.encode(memberJSON(m));
}

/**
 * The context of a ConfChange as etcd's ConfigChangeContext: the member's fields and `isPromote`.
 * etcd's promote builds it from the id alone: `{"id":…,"peerURLs":null,"isPromote":true}`.
 */
export function encodeConfigChangeContext(m: Member, isPromote: boolean): Uint8Array {
  return utf8.encode(`{${memberFields(m)},"isPromote":${isPromote ? "true" : "false"}}`);
}

/** A context that is not a member's JSON (etcd panics on one; the caller decides). */
export class ContextDecodeError extends Error {}

const maxUint64 = (1n << 64n) - 1n;
/**
 * Marks a number token quoted by {@link quoteNumbers}: a NUL, written as the escape `\u0000` so
 * JSON.parse accepts it (a member's strings never hold one).
 */
const numberMark = "\u0000";

/**
 * Rewrites every number token outside strings as a marked string, so JSON.parse keeps its text
 * (a uint64 above 2^53 would otherwise be rounded).
 */
function quoteNumbers(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) throw new ContextDecodeError(`invalid character ${JSON.stringify(c)} in numeric literal`);
      out += `"\\u0000${m[0]}"`;
      i += m[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function stringsField(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s.startsWith(numberMark))) {
    throw new ContextDecodeError(`json: cannot unmarshal ${field} into []string`);
  }
  return v as string[];
}

/** Reads a member object already parsed by {@link parseMemberObject}; `id` overrides a missing one. */
function toMember(o: Record<string, unknown>, id?: bigint): Member {
  let memberID = id ?? 0n;
  const rawID = o["id"];
  if (rawID !== undefined && rawID !== null) {
    // A number; or a decimal string, as edgecd wrote contexts and members before following etcd's
    // JSON (WALs and backends of that time still hold them).
    const digits = typeof rawID === "string" ? /^\u0000?(\d+)$/.exec(rawID)?.[1] : undefined;
    if (digits === undefined) throw new ContextDecodeError("json: cannot unmarshal id into Go struct field Member.id of type types.ID");
    memberID = BigInt(digits);
    if (memberID > maxUint64) throw new ContextDecodeError(`json: cannot unmarshal number ${digits} into Go struct field Member.id of type types.ID`);
  }
  const name = o["name"];
  if (name !== undefined && name !== null && (typeof name !== "string" || name.startsWith(numberMark))) {
    throw new ContextDecodeError("json: cannot unmarshal name into Go struct field of type string");
  }
  const isLearner = o["isLearner"];
  if (isLearner !== undefined && isLearner !== null && typeof isLearner !== "boolean") {
    throw new ContextDecodeError("json: cannot unmarshal isLearner into Go struct field of type bool");
  }
  return {
    id: memberID,
    name: typeof name === "string" ? name : "",
    peerURLs: stringsField(o["peerURLs"], "peerURLs"),
    clientURLs: stringsField(o["clientURLs"], "clientURLs"),
    isLearner: isLearner === true,
  };
}

function parseMemberObject(text: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(quoteNumbers(text));
  } catch (err) {
    if (err instanceof ContextDecodeError) throw err;
    throw new ContextDecodeError((err as Error).message);
  }
  if (o === null) return {};
  if (typeof o !== "object" || Array.isArray(o)) throw new ContextDecodeError("json: cannot unmarshal into Go value of type membership.Member");
  return o as Record<string, unknown>;
}

/**
 * A member from its JSON (etcd's json.Unmarshal into a Member). `id`, when given, is the member's
 * id unless the JSON has one (etcd reads the backend's members so: the key's id, then the value).
 * Throws {@link ContextDecodeError}.
 */
export function decodeMemberJSON(b: Uint8Array | string, id?: bigint): Member {
  return toMember(parseMemberObject(typeof b === "string" ? b : new TextDecoder().decode(b)), id);
}

/**
 * A ConfChange's context as etcd's ConfigChangeContext: the member and whether the change promotes
 * it. An update's context (a plain member) decodes with `isPromote` false. Throws
 * {@link ContextDecodeError} where etcd would panic.
 */
export function decodeConfChangeContext(b: Uint8Array): { member: Member; isPromote: boolean } {
  const o = parseMemberObject(new TextDecoder().decode(b));
  const p = o["isPromote"];
  if (p !== undefined && p !== null && typeof p !== "boolean") {
    throw new ContextDecodeError("json: cannot unmarshal isPromote into Go struct field ConfigChangeContext.isPromote of type bool");
  }
  return { member: toMember(o), isPromote: p === true };
}
