/**
 * Go's time.ParseDuration and strconv's integer parsing as Go's flag package uses them, so that
 * duration and number flags accept exactly what etcd accepts and fail with Go's messages.
 */

/** Nanoseconds per unit, as Go's time package names them. */
const unitNs: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3, // U+00B5 micro sign
  "μs": 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A value Go would refuse; `message` is Go's error text. */
export class GoParseError extends Error {}

const quote = (s: string) => JSON.stringify(s);

/**
 * Go's time.ParseDuration: "300ms", "-1.5h", "2h45m", "0". Returns nanoseconds (a float: Go's
 * int64 nanoseconds are exact below 2^53 ns, about 104 days). Throws {@link GoParseError} with
 * `time: invalid duration "…"`, `time: missing unit in duration "…"` or
 * `time: unknown unit "…" in duration "…"`.
 */
export function parseGoDuration(s: string): number {
  const orig = s;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new GoParseError(`time: invalid duration ${quote(orig)}`);
  let total = 0;
  while (s !== "") {
    const m = /^([0-9]*)(\.([0-9]*))?/.exec(s)!;
    const intPart = m[1]!;
    const fracPart = m[3] ?? "";
    if (intPart === "" && fracPart === "") throw new GoParseError(`time: invalid duration ${quote(orig)}`);
    s = s.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(s)![0];
    if (u === "") throw new GoParseError(`time: missing unit in duration ${quote(orig)}`);
    const mult = unitNs[u];
    if (mult === undefined) throw new GoParseError(`time: unknown unit ${quote(u)} in duration ${quote(orig)}`);
    s = s.slice(u.length);
    total += Number(intPart || "0") * mult + (fracPart ? Number(`0.${fracPart}`) * mult : 0);
    if (total > 9223372036854775807) throw new GoParseError(`time: invalid duration ${quote(orig)}`);
  }
  return neg ? -total : total;
}

/** Go's Duration.String(): "1h0m0s", "100ms", "1.5s", "0s". `ns` in nanoseconds. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  const sign = neg ? "-" : "";
  const frac = (v: number, digits: number) => {
    const whole = Math.floor(v / 10 ** digits);
    let f = String(v % 10 ** digits).padStart(digits, "0").replace(/0+$/, "");
    return f ? `${whole}.${f}` : `${whole}`;
  };
  if (u < 1e9) {
    if (u < 1e3) return `${sign}${u}ns`;
    if (u < 1e6) return `${sign}${frac(u, 3)}µs`;
    return `${sign}${frac(u, 6)}ms`;
  }
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  const secs = `${frac(u, 9)}s`;
  if (h > 0) return `${sign}${h}h${m}m${secs}`;
  if (m > 0) return `${sign}${m}m${secs}`;
  return `${sign}${secs}`;
}

/**
 * strconv.ParseInt/ParseUint with base 0 (as Go's flag package calls them): optional sign (signed
 * only), prefixes 0x/0o/0b and a leading 0 for octal, underscores between digits. Throws
 * {@link GoParseError} "parse error" or "value out of range" — the texts Go's flag package prints.
 */
export function parseGoInt(s: string, signed: boolean, bits: number): number {
  let t = s;
  let neg = false;
  if (t[0] === "+" || t[0] === "-") {
    if (!signed) throw new GoParseError("parse error");
    neg = t[0] === "-";
    t = t.slice(1);
  }
  let base = 10;
  let digits = t;
  let prefixed = false;
  if (/^0[xX]/.test(t)) [base, digits, prefixed] = [16, t.slice(2), true];
  else if (/^0[oO]/.test(t)) [base, digits, prefixed] = [8, t.slice(2), true];
  else if (/^0[bB]/.test(t)) [base, digits, prefixed] = [2, t.slice(2), true];
  else if (t.length > 1 && t[0] === "0") [base, digits, prefixed] = [8, t.slice(1), true];
  if (digits.includes("_")) {
    // Go: underscores only with base 0, each between digits (or after the prefix).
    const ok = (prefixed ? "_" + digits : digits).split("_").every((p, i) => p !== "" || (i === 0 && prefixed));
    if (!ok || digits.endsWith("_")) throw new GoParseError("parse error");
    digits = digits.replaceAll("_", "");
  }
  const alphabet = "0123456789abcdef".slice(0, base);
  if (digits === "" || ![...digits.toLowerCase()].every((c) => alphabet.includes(c))) {
    throw new GoParseError("parse error");
  }
  let v = 0n;
  for (const c of digits.toLowerCase()) v = v * BigInt(base) + BigInt(alphabet.indexOf(c));
  if (neg) v = -v;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (v > max || v < min) throw new GoParseError("value out of range");
  return Number(v);
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  throw new GoParseError("parse error");
}
