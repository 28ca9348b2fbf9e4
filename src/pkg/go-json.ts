/**
 * The parts of Go's encoding/json and encoding/base64 that the etcd gateway's request decoding
 * (grpc-gateway + golang/protobuf jsonpb) exposes to a client through its error messages: a JSON
 * parser that keeps each value's raw text (jsonpb re-parses int64 strings and numbers from it) and
 * reports syntax errors with Go's scanner messages, Go's `[]byte` base64 rules, and Go's string
 * quoting (`strconv.Quote`, and `json.Marshal`'s HTML-safe escaping for output).
 *
 * Pure functions over strings; nothing here knows about etcd messages (see json.ts).
 */

/** A parsed JSON value; `raw` is its exact source text (jsonpb's json.RawMessage). */
export type JValue =
  | { t: "object"; raw: string; entries: Map<string, JValue> }
  | { t: "array"; raw: string; items: JValue[] }
  | { t: "string"; raw: string; v: string }
  | { t: "number"; raw: string }
  | { t: "bool"; raw: string; v: boolean }
  | { t: "null"; raw: string };

/** A Go-compatible JSON error; `message` is the text Go's encoding/json gives. */
export class GoJSONError extends Error {
  override name = "GoJSONError";
}

/**
 * How the input ends: `decoder` is json.Decoder (a truncated value is "unexpected EOF", and text
 * after the first value is left unread); `unmarshal` is json.Unmarshal (a truncated value is
 * "unexpected end of JSON input", and text after the value is an error).
 */
export type ParseMode = "decoder" | "unmarshal";

const isWS = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** The first UTF-8 byte of the code unit at `s[i]`: Go's scanner sees bytes. */
function byteAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x80) return c;
  if (c < 0x800) return 0xc0 | (c >> 6);
  if (c >= 0xd800 && c <= 0xdbff) return 0xf0;
  return 0xe0 | (c >> 12);
}

/** Go's strconv.IsPrint for a rune ≤ 0xff (enough for quoting a single byte). */
function isPrintLatin1(r: number): boolean {
  if (r >= 0x20 && r <= 0x7e) return true;
  if (r >= 0xa1 && r <= 0xff) return r !== 0xad;
  return false;
}

/** Go's strconv.Quote of one rune (used for bytes, whose rune value is the byte). */
function quoteRuneBody(r: number, quote: string): string {
  switch (r) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
    case 0x5c:
      return "\\\\";
  }
  if (String.fromCharCode(r) === quote) return "\\" + quote;
  if (r < 0x80 ? isPrintLatin1(r) : r <= 0xff ? isPrintLatin1(r) : true) return String.fromCodePoint(r);
  if (r < 0x80) return "\\x" + r.toString(16).padStart(2, "0");
  return "\\u" + r.toString(16).padStart(4, "0");
}

/** Go's encoding/json quoteChar: how a syntax error names the offending byte. */
export function quoteChar(b: number): string {
  if (b === 0x27) return "'\\''";
  if (b === 0x22) return "'\"'";
  return "'" + quoteRuneBody(b, '"') + "'";
}

/** Go's strconv.Quote (`%q`) of a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (r >= 0x100) out += r >= 0xd800 && r <= 0xdfff ? "\\ufffd" : ch;
    else out += quoteRuneBody(r, '"');
  }
  return out + '"';
}

/**
 * Go's json.Marshal of a string: `"`, `\` and control characters escaped, and (HTML-safe) `<`, `>`,
 * `&`, U+2028 and U+2029 as \u escapes; a lone surrogate becomes U+FFFD.
 */
export function goJSONString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029)
      out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += "\ufffd";
    } else if (c >= 0xdc00 && c <= 0xdfff) out += "\ufffd";
    else out += s[i]!;
  }
  return out + '"';
}

class Parser {
  pos = 0;
  constructor(
    readonly s: string,
    readonly mode: ParseMode,
  ) {}

  eof(): never {
    throw new GoJSONError(this.mode === "decoder" ? "unexpected EOF" : "unexpected end of JSON input");
  }

  bad(context: string): never {
    throw new GoJSONError(`invalid character ${quoteChar(byteAt(this.s, this.pos))} ${context}`);
  }

  skipWS(): void {
    while (this.pos < this.s.length && isWS(this.s.charCodeAt(this.pos))) this.pos++;
  }

  /** The code unit at `pos`, or -1 at the end. */
  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }

  value(depth: number): JValue {
    if (depth > 10000) throw new GoJSONError("exceeded max depth");
    this.skipWS();
    const start = this.pos;
    const c = this.peek();
    if (c === -1) this.eof();
    if (c === 0x7b) return this.object(start, depth);
    if (c === 0x5b) return this.array(start, depth);
    if (c === 0x22) {
      const v = this.string();
      return { t: "string", raw: this.s.slice(start, this.pos), v };
    }
    if (c === 0x2d || isDigit(c)) {
      this.number();
      return { t: "number", raw: this.s.slice(start, this.pos) };
    }
    if (c === 0x74) return this.literal("true", { t: "bool", raw: "true", v: true });
    if (c === 0x66) return this.literal("false", { t: "bool", raw: "false", v: false });
    if (c === 0x6e) return this.literal("null", { t: "null", raw: "null" });
    this.bad("looking for beginning of value");
  }

  literal<V extends JValue>(word: string, v: V): V {
    for (let i = 0; i < word.length; i++) {
      if (this.pos >= this.s.length) this.eof();
      if (this.s[this.pos] !== word[i]) this.bad(`in literal ${word} (expecting ${quoteChar(word.charCodeAt(i))})`);
      this.pos++;
    }
    return v;
  }

  object(start: number, depth: number): JValue {
    this.pos++; // {
    const entries = new Map<string, JValue>();
    this.skipWS();
    if (this.peek() === 0x7d) {
      this.pos++;
      return { t: "object", raw: this.s.slice(start, this.pos), entries };
    }
    for (;;) {
      this.skipWS();
      const c = this.peek();
      if (c === -1) this.eof();
      if (c !== 0x22) this.bad("looking for beginning of object key string");
      const key = this.string();
      this.skipWS();
      if (this.peek() === -1) this.eof();
      if (this.peek() !== 0x3a) this.bad("after object key");
      this.pos++;
      entries.set(key, this.value(depth + 1));
      this.skipWS();
      const d = this.peek();
      if (d === -1) this.eof();
      this.pos++;
      if (d === 0x2c) continue;
      if (d === 0x7d) return { t: "object", raw: this.s.slice(start, this.pos), entries };
      this.pos--;
      this.bad("after object key:value pair");
    }
  }

  array(start: number, depth: number): JValue {
    this.pos++; // [
    const items: JValue[] = [];
    this.skipWS();
    if (this.peek() === 0x5d) {
      this.pos++;
      return { t: "array", raw: this.s.slice(start, this.pos), items };
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skipWS();
      const d = this.peek();
      if (d === -1) this.eof();
      this.pos++;
      if (d === 0x2c) continue;
      if (d === 0x5d) return { t: "array", raw: this.s.slice(start, this.pos), items };
      this.pos--;
      this.bad("after array element");
    }
  }

  string(): string {
    this.pos++; // "
    let out = "";
    let run = this.pos;
    for (;;) {
      if (this.pos >= this.s.length) this.eof();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += this.s.slice(run, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.bad("in string literal");
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += this.s.slice(run, this.pos);
      this.pos++;
      if (this.pos >= this.s.length) this.eof();
      const e = this.s[this.pos]!;
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e in simple) {
        out += simple[e];
        this.pos++;
      } else if (e === "u") {
        this.pos++;
        for (let i = 0; i < 4; i++) {
          if (this.pos + i >= this.s.length) {
            this.pos += i;
            this.eof();
          }
          if (!isHex(this.s.charCodeAt(this.pos + i))) {
            this.pos += i;
            this.bad("in \\u hexadecimal character escape");
          }
        }
        out += String.fromCharCode(parseInt(this.s.slice(this.pos, this.pos + 4), 16));
        this.pos += 4;
      } else this.bad("in string escape code");
      run = this.pos;
    }
  }

  /** Scans a number as Go's scanner does; the value ends at the first byte that cannot continue it. */
  number(): void {
    if (this.peek() === 0x2d) {
      this.pos++;
      if (this.peek() === -1) this.eof();
      if (!isDigit(this.peek())) this.bad("in numeric literal");
    }
    if (this.peek() === 0x30) this.pos++;
    else while (isDigit(this.peek())) this.pos++;
    if (this.peek() === 0x2e) {
      this.pos++;
      if (this.peek() === -1) this.eof();
      if (!isDigit(this.peek())) this.bad("after decimal point in numeric literal");
      while (isDigit(this.peek())) this.pos++;
    }
    if (this.peek() === 0x65 || this.peek() === 0x45) {
      this.pos++;
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.pos++;
      if (this.peek() === -1) this.eof();
      if (!isDigit(this.peek())) this.bad("in exponent of numeric literal");
      while (isDigit(this.peek())) this.pos++;
    }
    // A number at the very end of a decoder's input is complete only at EOF, which is fine here:
    // the whole body is read before parsing.
  }
}

/**
 * Parses one JSON value from `s` as Go's json.Decoder (`decoder`) or json.Unmarshal (`unmarshal`)
 * does. Decoder mode returns undefined when the input holds only whitespace (io.EOF), and `end` is
 * the offset just after the value (the rest is left for the next call). Throws {@link GoJSONError}.
 */
export function parseGoJSON(s: string, mode: ParseMode): { value: JValue; end: number } | undefined {
  const p = new Parser(s, mode);
  p.skipWS();
  if (p.pos >= s.length) {
    if (mode === "decoder") return undefined;
    p.eof();
  }
  const value = p.value(0);
  if (mode === "unmarshal") {
    p.skipWS();
    if (p.pos < s.length) p.bad("after top-level value");
  }
  return { value, end: p.pos };
}

/** json.Unmarshal of `s`: the value, or a GoJSONError. */
export function unmarshalGoJSON(s: string): JValue {
  return parseGoJSON(s, "unmarshal")!.value;
}

/** Go's name of a JSON value's kind in an UnmarshalTypeError. */
export function kindName(v: JValue): string {
  switch (v.t) {
    case "object":
      return "object";
    case "array":
      return "array";
    case "string":
      return "string";
    case "number":
      return "number";
    case "bool":
      return "bool";
    case "null":
      return "null";
  }
}

export function typeError(what: string, goType: string): GoJSONError {
  return new GoJSONError(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
}

const INT_LIMITS: Record<string, [bigint, bigint]> = {
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  int32: [-(1n << 31n), (1n << 31n) - 1n],
  "protoreflect.EnumNumber": [-(1n << 31n), (1n << 31n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  uint32: [0n, (1n << 32n) - 1n],
  uint8: [0n, 255n],
};

/**
 * Go's json.Unmarshal of a number token into an integer type (strconv.ParseInt/ParseUint, base 10):
 * fractions, exponents and out-of-range values are type errors naming the number.
 */
export function parseGoInt(num: string, goType: string): bigint {
  const [lo, hi] = INT_LIMITS[goType]!;
  if (/^-?[0-9]+$/.test(num)) {
    const v = BigInt(num);
    if (v >= lo && v <= hi) return v;
  }
  throw typeError(`number ${num}`, goType);
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_DECODE = (() => {
  const m = new Int16Array(256).fill(-1);
  for (let i = 0; i < B64.length; i++) m[B64.charCodeAt(i)] = i;
  return m;
})();

/**
 * Go's base64.StdEncoding.Decode as encoding/json applies it to a `[]byte` field: padding required,
 * `\r` and `\n` skipped, anything else outside the alphabet an error "illegal base64 data at input
 * byte N" (N a byte offset into the UTF-8 string).
 */
export function decodeGoBase64(str: string): Uint8Array {
  const src = new TextEncoder().encode(str);
  const out = new Uint8Array(Math.floor((src.length * 3) / 4) + 3);
  let n = 0;
  let si = 0;
  const corrupt = (at: number): GoJSONError => new GoJSONError(`illegal base64 data at input byte ${at}`);
  for (;;) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let j = 0;
    let ended = false;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return out.slice(0, n);
        throw corrupt(si - j);
      }
      const inb = src[si]!;
      si++;
      const o = B64_DECODE[inb]!;
      if (o !== -1) {
        dbuf[j] = o;
        continue;
      }
      if (inb === 0x0a || inb === 0x0d) {
        j--;
        continue;
      }
      if (inb !== 0x3d) throw corrupt(si - 1);
      // Padding.
      if (j === 0 || j === 1) throw corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== 0x3d) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      if (si < src.length) throw corrupt(si);
      dlen = j;
      ended = true;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    for (let k = 0; k < dlen - 1; k++) out[n++] = bytes[k]!;
    if (ended) return out.slice(0, n);
  }
}

/** Standard base64 with padding (Go's json.Marshal of `[]byte`). */
export function encodeBase64(b: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
  }
  if (i + 1 === b.length) {
    const v = b[i]! << 16;
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + "==";
  } else if (i + 2 === b.length) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8);
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + "=";
  }
  return out;
}
