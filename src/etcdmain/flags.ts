/**
 * The etcd command's flag set (etcd's etcdmain/config.go newConfig, 3.5 defaults) and Go's flag
 * package rules for reading a command line: `-f`/`--f`, `--f=v` or `--f v`, booleans only as
 * `--f` or `--f=v`, parsing stops at the first non-flag argument or `--`.
 */
import { GoParseError, parseGoBool, parseGoDuration, parseGoInt } from "./duration.js";
import { URLError, uniqueURLs } from "../pkg/urls.js";

/** How a flag's text becomes its value (mirrors the Go flag.Value type etcd registers). */
export type FlagKind =
  | "string"
  | "bool"
  | "uint" // Go uint (64-bit)
  | "int" // Go int (64-bit)
  | "uint32"
  | "duration" // Go time.Duration; the value is nanoseconds
  | "urls" // flags.UniqueURLs: comma list, validated, sorted, deduplicated
  | "strings" // flags.StringsValue: comma list as given
  | "unique-strings" // flags.UniqueStringsValue: comma list, sorted, deduplicated
  | "select" // flags.SelectiveStringValue
  | "select-multi" // flags.SelectiveStringsValue
  | "ignored"; // flags.IgnoredFlag: accepted as a boolean, warned about, no effect

export type FlagValue = string | boolean | number | string[] | null;

/**
 * How edgecd treats a flag: "yes" — it works; "noop" — accepted for compatibility, has no effect
 * yet (a warning when set); "unsupported" — accepted by the parser but a non-default value stops
 * the start with an explanation (TLS, discovery, the v2 proxy: silently ignoring them would be
 * wrong).
 */
export type Support = "yes" | "noop" | "unsupported";

/** How the flag appears in a `--config-file` YAML document (decoded as etcd does, through JSON). */
export type YamlKind =
  | "string"
  | "bool"
  | "uint"
  | "int"
  | "duration-ns" // Go time.Duration through encoding/json: integer nanoseconds
  | "comma-urls" // a comma-separated string of URLs
  | "comma-strings"
  | "string-array"
  | "none"; // no YAML key

export interface FlagDef {
  name: string;
  kind: FlagKind;
  /** The default value, already in the value's form. */
  def: FlagValue;
  support: Support;
  /** For "select"/"select-multi": the accepted values. For "urls": values passed unparsed. */
  valids?: readonly string[];
  yaml?: YamlKind;
  /** The YAML key when it differs from the flag name. */
  yamlKey?: string;
}

const NS_PER_MS = 1e6;
const s = (name: string, def = "", support: Support = "yes", yaml: YamlKind = "string"): FlagDef => ({
  name,
  kind: "string",
  def,
  support,
  yaml,
});
const b = (name: string, def = false, support: Support = "yes", yaml: YamlKind = "bool"): FlagDef => ({
  name,
  kind: "bool",
  def,
  support,
  yaml,
});
const u = (name: string, def: number, support: Support = "yes", kind: FlagKind = "uint"): FlagDef => ({
  name,
  kind,
  def,
  support,
  yaml: kind === "int" ? "int" : "uint",
});
const d = (name: string, defMs: number, support: Support = "yes"): FlagDef => ({
  name,
  kind: "duration",
  def: defMs * NS_PER_MS,
  support,
  yaml: "duration-ns",
});
const urls = (name: string, def: string[], support: Support = "yes", valids?: string[]): FlagDef => ({
  name,
  kind: "urls",
  def,
  support,
  yaml: "comma-urls",
  ...(valids ? { valids } : {}),
});

/** Legacy flags etcd still accepts and ignores (etcdmain/config.go `ignored`). */
export const ignoredFlags = [
  "cluster-active-size",
  "cluster-remove-delay",
  "cluster-sync-interval",
  "config",
  "force",
  "max-result-buffer",
  "max-retry-attempts",
  "peer-heartbeat-interval",
  "peer-election-timeout",
  "retry-interval",
  "snapshot",
  "v",
  "vv",
] as const;

/** Flags etcd 3.5 warns about when set: "--%s is deprecated in 3.5 and will be decommissioned in 3.6." */
export const deprecatedFlags = new Set([
  "enable-v2",
  "experimental-enable-v2v3",
  "proxy",
  "proxy-failure-wait",
  "proxy-refresh-interval",
  "proxy-dial-timeout",
  "proxy-write-timeout",
  "proxy-read-timeout",
]);

/** Every flag of etcd 3.5's `etcd` command, with its 3.5 default. */
export const flagDefs: readonly FlagDef[] = [
  s("config-file", "", "yes", "none"),
  // member
  s("data-dir"),
  s("wal-dir", ""),
  urls("listen-peer-urls", ["http://localhost:2380"]),
  urls("listen-client-urls", ["http://localhost:2379"]),
  urls("listen-client-http-urls", [], "noop"),
  urls("listen-metrics-urls", [], "noop"),
  u("max-snapshots", 5),
  u("max-wals", 5),
  s("name", "default"),
  u("snapshot-count", 100000),
  u("heartbeat-interval", 100),
  u("election-timeout", 1000),
  b("initial-election-tick-advance", true),
  { name: "quota-backend-bytes", kind: "int", def: 0, support: "yes", yaml: "int" },
  s("backend-bbolt-freelist-type", "map", "noop"),
  d("backend-batch-interval", 0),
  u("backend-batch-limit", 0, "yes", "int"),
  u("max-txn-ops", 128),
  u("max-request-bytes", 1572864),
  d("grpc-keepalive-min-time", 5000, "noop"),
  d("grpc-keepalive-interval", 2 * 3600 * 1000, "noop"),
  d("grpc-keepalive-timeout", 20000, "noop"),
  { name: "socket-reuse-port", kind: "bool", def: false, support: "noop", yaml: "none" },
  { name: "socket-reuse-address", kind: "bool", def: false, support: "noop", yaml: "none" },
  u("max-concurrent-streams", 4294967295, "noop", "uint32"),
  { ...d("raft-read-timeout", 5000, "noop"), yaml: "none" },
  { ...d("raft-write-timeout", 5000, "noop"), yaml: "none" },
  // clustering
  { ...urls("initial-advertise-peer-urls", ["http://localhost:2380"]) },
  urls("advertise-client-urls", ["http://localhost:2379"]),
  s("discovery", "", "unsupported"),
  {
    name: "discovery-fallback",
    kind: "select",
    def: "proxy",
    valids: ["proxy", "exit"],
    support: "noop",
    yaml: "string",
  },
  s("discovery-proxy", "", "unsupported"),
  s("discovery-srv", "", "unsupported"),
  s("discovery-srv-name", "", "unsupported"),
  s("initial-cluster", "default=http://localhost:2380"),
  s("initial-cluster-token", "etcd-cluster"),
  {
    name: "initial-cluster-state",
    kind: "select",
    def: "new",
    valids: ["new", "existing"],
    support: "yes",
    yaml: "string",
  },
  b("strict-reconfig-check", true),
  b("pre-vote", true),
  b("enable-v2", false, "unsupported"),
  s("experimental-enable-v2v3", "", "unsupported"),
  {
    name: "v2-deprecation",
    kind: "select-multi",
    def: [],
    valids: ["not-yet", "write-only", "write-only-drop-data", "gone"],
    support: "noop",
    yaml: "string",
  },
  // proxy
  { name: "proxy", kind: "select", def: "off", valids: ["off", "readonly", "on"], support: "unsupported", yaml: "string" },
  u("proxy-failure-wait", 5000, "noop"),
  u("proxy-refresh-interval", 30000, "noop"),
  u("proxy-dial-timeout", 1000, "noop"),
  u("proxy-write-timeout", 5000, "noop"),
  u("proxy-read-timeout", 0, "noop"),
  // security (YAML: nested client-transport-security / peer-transport-security objects)
  s("cert-file", "", "unsupported", "none"),
  s("key-file", "", "unsupported", "none"),
  s("client-cert-file", "", "unsupported", "none"),
  s("client-key-file", "", "unsupported", "none"),
  b("client-cert-auth", false, "unsupported", "none"),
  s("client-crl-file", "", "unsupported", "none"),
  { name: "client-cert-allowed-hostname", kind: "strings", def: [], support: "unsupported", yaml: "none" },
  s("trusted-ca-file", "", "unsupported", "none"),
  b("auto-tls", false, "unsupported", "none"),
  s("peer-cert-file", "", "unsupported", "none"),
  s("peer-key-file", "", "unsupported", "none"),
  s("peer-client-cert-file", "", "unsupported", "none"),
  s("peer-client-key-file", "", "unsupported", "none"),
  b("peer-client-cert-auth", false, "unsupported", "none"),
  s("peer-trusted-ca-file", "", "unsupported", "none"),
  b("peer-auto-tls", false, "unsupported", "none"),
  u("self-signed-cert-validity", 1, "noop"),
  s("peer-crl-file", "", "unsupported", "none"),
  { name: "peer-cert-allowed-cn", kind: "strings", def: [], support: "unsupported", yaml: "none" },
  { name: "peer-cert-allowed-hostname", kind: "strings", def: [], support: "unsupported", yaml: "none" },
  { name: "cipher-suites", kind: "strings", def: [], support: "noop", yaml: "string-array" },
  b("experimental-peer-skip-client-san-verification", false, "noop", "none"),
  s("tls-min-version", "TLS1.2", "noop"),
  s("tls-max-version", "", "noop"),
  { name: "cors", kind: "urls", def: ["*"], valids: ["*"], support: "yes", yaml: "comma-strings" },
  { name: "host-whitelist", kind: "unique-strings", def: ["*"], support: "yes", yaml: "comma-strings" },
  // logging
  s("logger", "zap"),
  { name: "log-outputs", kind: "unique-strings", def: ["default"], support: "yes", yaml: "string-array" },
  s("log-level", "info"),
  b("enable-log-rotation", false, "noop"),
  s(
    "log-rotation-config-json",
    '{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}',
    "noop",
  ),
  // version
  b("version", false, "yes", "none"),
  s("auto-compaction-retention", "0"),
  s("auto-compaction-mode", "periodic"),
  b("enable-pprof", false, "noop"),
  s("metrics", "basic", "noop"),
  b("experimental-enable-distributed-tracing", false, "noop"),
  s("experimental-distributed-tracing-address", "localhost:4317", "noop"),
  s("experimental-distributed-tracing-service-name", "etcd", "noop"),
  s("experimental-distributed-tracing-instance-id", "", "noop"),
  u("experimental-distributed-tracing-sampling-rate", 0, "noop", "int"),
  // auth
  s("auth-token", "simple", "noop"),
  u("bcrypt-cost", 10, "noop"),
  u("auth-token-ttl", 300, "noop"),
  // gateway
  b("enable-grpc-gateway", true),
  // experimental
  b("experimental-initial-corrupt-check", false, "noop"),
  d("experimental-corrupt-check-time", 0, "noop"),
  b("experimental-compact-hash-check-enabled", false, "noop"),
  d("experimental-compact-hash-check-time", 60000, "noop"),
  b("experimental-enable-lease-checkpoint"),
  b("experimental-enable-lease-checkpoint-persist"),
  u("experimental-compaction-batch-limit", 1000, "yes", "int"),
  d("experimental-compaction-sleep-interval", 0, "noop"),
  d("experimental-watch-progress-notify-interval", 10 * 60 * 1000),
  d("experimental-downgrade-check-time", 5000, "noop"),
  d("experimental-warning-apply-duration", 100),
  b("experimental-memory-mlock", false, "noop"),
  b("experimental-txn-mode-write-with-shared-buffer", true, "noop"),
  b("experimental-stop-grpc-service-on-defrag", false, "noop"),
  u("experimental-bootstrap-defrag-threshold-megabytes", 0, "noop"),
  {
    ...u("experimental-snapshot-catchup-entries", 5000),
    // etcd's YAML key really differs from the flag name here.
    yamlKey: "experimental-snapshot-catch-up-entries",
  },
  // unsafe
  b("unsafe-no-fsync", false, "noop"),
  b("force-new-cluster", false, "unsupported"),
  ...ignoredFlags.map((name): FlagDef => ({ name, kind: "ignored", def: null, support: "noop", yaml: "none" })),
];

export const flagsByName: ReadonlyMap<string, FlagDef> = new Map(flagDefs.map((f) => [f.name, f]));

/** A flag value Go's flag package (or the flag.Value) refuses; `message` is the Value's error. */
export class FlagValueError extends Error {}

/** flag.Value.Set for one definition: the text → the value, or a {@link FlagValueError}. */
export function parseFlagValue(def: FlagDef, text: string): FlagValue {
  try {
    switch (def.kind) {
      case "string":
        return text;
      case "bool":
        return parseGoBool(text);
      case "uint":
        return parseGoInt(text, false, 64);
      case "int":
        return parseGoInt(text, true, 64);
      case "uint32":
        return parseGoInt(text, false, 32);
      case "duration":
        try {
          return parseGoDuration(text);
        } catch (e) {
          // Go's flag package reports every Duration failure as "parse error".
          if (e instanceof GoParseError) throw new GoParseError("parse error");
          throw e;
        }
      case "urls":
        return uniqueURLs(text, def.valids ?? []);
      case "strings":
        return text.split(",");
      case "unique-strings":
        return [...new Set(text.split(","))].sort();
      case "select":
        if (!def.valids!.includes(text)) throw new FlagValueError("invalid value");
        return text;
      case "select-multi": {
        const vs = text.split(",");
        for (const v of vs) if (!def.valids!.includes(v)) throw new FlagValueError(`invalid value ${JSON.stringify(v)}`);
        return vs.sort();
      }
      case "ignored":
        return null;
    }
  } catch (e) {
    if (e instanceof GoParseError || e instanceof URLError) throw new FlagValueError(e.message);
    throw e;
  }
}

/** One parse failure of Go's flag package: the line it prints before the usage text. */
export class FlagSyntaxError extends Error {}

export interface ParsedArgs {
  /** Flag name → value, for the flags given (the last occurrence wins). */
  values: Map<string, FlagValue>;
  /** Names in the order given (repeats kept). */
  order: string[];
  /** Arguments left after the flags (etcd refuses any). */
  rest: string[];
  /** `-h`/`-help`/`--help` was given (Go's flag.ErrHelp). */
  help: boolean;
}

/**
 * Go's FlagSet.Parse over `args` (without the program name). Throws {@link FlagSyntaxError} with
 * Go's message: `flag provided but not defined: -x`, `flag needs an argument: -x`,
 * `bad flag syntax: ---x`, `invalid value "v" for flag -x: <err>`,
 * `invalid boolean value "v" for -x: <err>`.
 */
export function parseArgs(args: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), order: [], rest: [], help: false };
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    if (arg.length < 2 || arg[0] !== "-") break;
    let numMinuses = 1;
    if (arg[1] === "-") {
      numMinuses = 2;
      if (arg.length === 2) {
        i++; // "--" ends the flags
        break;
      }
    }
    let name = arg.slice(numMinuses);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") throw new FlagSyntaxError(`bad flag syntax: ${arg}`);
    i++;
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const def = flagsByName.get(name);
    if (!def) {
      if (name === "help" || name === "h") {
        out.help = true;
        return out;
      }
      throw new FlagSyntaxError(`flag provided but not defined: -${name}`);
    }
    if (def.kind === "bool" || def.kind === "ignored") {
      if (value !== undefined) {
        try {
          out.values.set(name, parseFlagValue(def, value));
        } catch (e) {
          if (!(e instanceof FlagValueError)) throw e;
          const what = def.kind === "bool" ? "invalid boolean value" : "invalid value";
          throw new FlagSyntaxError(`${what} ${JSON.stringify(value)} for -${name}: ${e.message}`);
        }
      } else {
        out.values.set(name, def.kind === "bool" ? true : null);
      }
    } else {
      if (value === undefined) {
        if (i >= args.length) throw new FlagSyntaxError(`flag needs an argument: -${name}`);
        value = args[i++]!;
      }
      try {
        out.values.set(name, parseFlagValue(def, value));
      } catch (e) {
        if (!(e instanceof FlagValueError)) throw e;
        throw new FlagSyntaxError(`invalid value ${JSON.stringify(value)} for flag -${name}: ${e.message}`);
      }
    }
    out.order.push(name);
  }
  out.rest = args.slice(i);
  return out;
}

/** etcd's flags.FlagToEnv: "ETCD_" + upper case, "-" → "_". */
export function flagToEnv(name: string): string {
  return `ETCD_${name.toUpperCase().replaceAll("-", "_")}`;
}
