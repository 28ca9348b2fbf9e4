/**
 * etcd's etcdmain configuration: the command line, `ETCD_*` environment variables or a
 * `--config-file` YAML document become an {@link EtcdConfig} (etcd's embed.Config), which is
 * validated with etcd's messages and turned into the server's {@link ServerConfig} plus the
 * listener settings ({@link ListenConfig}). Pure: the adapter passes argv, the environment and a
 * file reader, and acts on the {@link MainOutcome} (print, exit code, start).
 *
 * Rules (etcd 3.5; 3.4 differs only where noted):
 * - a flag given on the command line and as `ETCD_<FLAG>` is fatal; unknown `ETCD_*` warn;
 *   empty env values are ignored; `ETCD_VERSION` is refused with a warning;
 * - with `--config-file` (or `ETCD_CONFIG_FILE`) every other flag and variable is ignored;
 * - a flag syntax error prints Go's message and the usage on stderr, exit 2; a validation error
 *   logs "failed to verify flags", exit 1; a bootstrap (initial cluster) error is fatal, exit 1.
 */
import { parse as parseYaml } from "yaml";
import {
  type AutoCompactionMode,
  type ClusterState,
  type ServerConfig,
  defaultServerConfig,
  DefaultSnapshotCatchUpEntries,
} from "../etcdserver/config.js";
import { GoParseError, parseGoDuration } from "./duration.js";
import {
  type FlagDef,
  type FlagValue,
  FlagSyntaxError,
  FlagValueError,
  deprecatedFlags,
  flagDefs,
  flagToEnv,
  flagsByName,
  ignoredFlags,
  parseArgs,
  parseFlagValue,
} from "./flags.js";
import { flagsline, usageline } from "./help.js";
import {
  URLError,
  checkBindURLs,
  checkHostURLs,
  newURLsMap,
  splitHostPort,
  uniqueURLs,
  urlsMapString,
} from "../pkg/urls.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

/** Something to log once the logger exists (etcd logs these through zap during parsing). */
export interface LogEvent {
  level: LogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

/**
 * A configuration etcd refuses. `message` is etcd's error text; `logMsg` and `level` say how etcd
 * logs it ("failed to verify flags" at warn, or a fatal line); the process exits with 1.
 */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly logMsg = "failed to verify flags",
    readonly level: "warn" | "fatal" = "warn",
    readonly fields: Record<string, unknown> = { error: message },
  ) {
    super(message);
  }
}

export const DefaultName = "default";
export const DefaultInitialAdvertisePeerURLs = "http://localhost:2380";
export const DefaultAdvertiseClientURLs = "http://localhost:2379";
const maxElectionMs = 50000;
const NS_PER_MS = 1e6;

/** etcd's embed.Config, the part edgecd reads; every flag's value is also in `values`. */
export interface EtcdConfig {
  /** Flag name → value (defaults filled in); durations in nanoseconds, URL lists sorted. */
  values: Map<string, FlagValue>;
  /** Flags given explicitly (command line or environment; keys present in a config file). */
  explicit: Set<string>;
  /** The config file read, or "". */
  configFile: string;
  name: string;
  /** "" until {@link finishConfig} fills `${name}.etcd`. */
  dataDir: string;
  listenPeerUrls: string[];
  listenClientUrls: string[];
  advertisePeerUrls: string[];
  /** null: unset (etcd's nil), which fails validation when the listen URLs were set explicitly. */
  advertiseClientUrls: string[] | null;
  initialCluster: string;
  initialClusterState: string;
  initialClusterToken: string;
  discovery: string;
  discoverySrv: string;
  tickMs: number;
  electionMs: number;
  autoCompactionMode: string;
  autoCompactionRetention: string;
  cors: string[];
  hostWhitelist: string[];
  logger: string;
  logLevel: string;
  logOutputs: string[];
}

/** Where and how the adapter serves (the listener half of etcd's embed.Config). */
export interface ListenConfig {
  listenClientUrls: string[];
  listenPeerUrls: string[];
  advertiseClientUrls: string[];
  advertisePeerUrls: string[];
  /** Allowed CORS origins; ["*"] allows all. */
  cors: string[];
  /** Allowed Host headers; ["*"] allows all. */
  hostWhitelist: string[];
  logLevel: LogLevel;
  /** "stderr", "stdout" or file paths ("default" resolved to "stderr", "systemd/journal" too). */
  logOutputs: string[];
  enableGrpcGateway: boolean;
}

/** What the adapter should do. */
export type MainOutcome =
  | { kind: "exit"; exitCode: number; stdout: string; stderr: string; events: LogEvent[] }
  | { kind: "start"; config: EtcdConfig; server: ServerConfig; listen: ListenConfig; events: LogEvent[] };

export interface MainInput {
  /** The arguments after the program name. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Reads the config file; throws an Error whose message is printed. */
  readFile(path: string): string;
  version: VersionInfo;
}

export interface VersionInfo {
  /** The etcd API version edgecd serves (its /version "etcdserver"). */
  etcdVersion: string;
  edgecdVersion: string;
  /** The git commit, or "" when unknown. */
  gitSHA: string;
  /** e.g. "node v20.11.0". */
  runtime: string;
  /** e.g. "linux/x64". */
  platform: string;
}

/** `--version`: etcd's lines, the etcd version first, then edgecd's own. */
export function versionText(v: VersionInfo): string {
  return (
    `etcd Version: ${v.etcdVersion}\n` +
    `edgecd Version: ${v.edgecdVersion}\n` +
    `Git SHA: ${v.gitSHA || "Not provided"}\n` +
    `Runtime: ${v.runtime}\n` +
    `OS/Arch: ${v.platform}\n`
  );
}

function defaults(): Map<string, FlagValue> {
  const m = new Map<string, FlagValue>();
  for (const f of flagDefs) m.set(f.name, Array.isArray(f.def) ? [...f.def] : f.def);
  return m;
}

/** etcd's InitialClusterFromName: `name=url` for each advertised peer URL. */
export function initialClusterFromName(name: string, advertisePeerUrls: readonly string[]): string {
  const n = name === "" ? DefaultName : name;
  return advertisePeerUrls.map((u) => `${n}=${u}`).join(",");
}

function view(values: Map<string, FlagValue>, explicit: Set<string>, configFile: string): EtcdConfig {
  const str = (k: string) => values.get(k) as string;
  const num = (k: string) => values.get(k) as number;
  const list = (k: string) => values.get(k) as string[];
  return {
    values,
    explicit,
    configFile,
    name: str("name"),
    dataDir: str("data-dir"),
    listenPeerUrls: list("listen-peer-urls"),
    listenClientUrls: list("listen-client-urls"),
    advertisePeerUrls: list("initial-advertise-peer-urls"),
    advertiseClientUrls: list("advertise-client-urls"),
    initialCluster: str("initial-cluster"),
    initialClusterState: str("initial-cluster-state"),
    initialClusterToken: str("initial-cluster-token"),
    discovery: str("discovery"),
    discoverySrv: str("discovery-srv"),
    tickMs: num("heartbeat-interval"),
    electionMs: num("election-timeout"),
    autoCompactionMode: str("auto-compaction-mode"),
    autoCompactionRetention: str("auto-compaction-retention"),
    cors: list("cors"),
    hostWhitelist: list("host-whitelist"),
    logger: str("logger"),
    logLevel: str("log-level"),
    logOutputs: list("log-outputs"),
  };
}

/** The result of reading the command line: an outcome to act on now, or a config to finish. */
type ParseResult =
  | { kind: "exit"; exitCode: number; stdout: string; stderr: string; events: LogEvent[] }
  | { kind: "config"; config: EtcdConfig; events: LogEvent[] };

/**
 * etcd's config.parse: flags, then `--help`/`--version`, then the config file or the environment,
 * then validation (embed.Config.Validate). Validation failures come back as an exit outcome.
 */
export function parseEtcdConfig(input: Omit<MainInput, "version"> & { version?: VersionInfo }): ParseResult {
  const events: LogEvent[] = [];
  let parsed;
  try {
    parsed = parseArgs(input.argv);
  } catch (e) {
    if (!(e instanceof FlagSyntaxError)) throw e;
    return { kind: "exit", exitCode: 2, stdout: "", stderr: `${e.message}\n${usageline}`, events };
  }
  if (parsed.help) return { kind: "exit", exitCode: 0, stdout: `${flagsline()}\n`, stderr: `${usageline}\n`, events };
  const fail = (err: ConfigError): ParseResult => ({
    kind: "exit",
    exitCode: 1,
    stdout: "",
    stderr: "",
    events: [...events, { level: err.level, msg: err.logMsg, fields: err.fields }],
  });
  if (parsed.rest.length > 0) return fail(new ConfigError(`'${parsed.rest[0]}' is not a valid flag`));
  if (parsed.values.get("version") === true && input.version) {
    return { kind: "exit", exitCode: 0, stdout: versionText(input.version), stderr: "", events };
  }

  for (const name of parsed.order) {
    if ((ignoredFlags as readonly string[]).includes(name)) {
      events.push({ level: "warn", msg: "flag is no longer supported - ignoring", fields: { "flag-name": name } });
    }
  }

  let configFile = (parsed.values.get("config-file") as string | undefined) ?? "";
  if (configFile === "") configFile = input.env["ETCD_CONFIG_FILE"] ?? "";

  let ec: EtcdConfig;
  try {
    if (configFile !== "") {
      let text: string;
      try {
        text = input.readFile(configFile);
      } catch (e) {
        throw new ConfigError((e as Error).message);
      }
      ec = configFromYaml(text, configFile);
      events.push({
        level: "info",
        msg: "loaded server configuration, other configuration command line flags and environment variables will be ignored if provided",
        fields: { path: configFile },
      });
    } else {
      ec = configFromCmdLine(parsed.values, parsed.order, input.env, events);
    }
  } catch (e) {
    if (e instanceof ConfigError) return fail(e);
    throw e;
  }

  for (const name of [...new Set(parsed.order)].sort()) {
    if (deprecatedFlags.has(name)) {
      events.push({ level: "warn", msg: `--${name} is deprecated in 3.5 and will be decommissioned in 3.6.` });
    }
  }

  try {
    validate(ec, events);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const out = fail(e);
    if (e.message === ErrUnsetAdvertiseClientURLsFlag) {
      out.events.push({ level: "warn", msg: "advertise client URLs are not set", fields: { error: e.message } });
    }
    return out;
  }
  return { kind: "config", config: ec, events };
}

/** etcd's configFromCmdLine: the parsed flags, then the environment for flags not given. */
function configFromCmdLine(
  given: Map<string, FlagValue>,
  order: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  events: LogEvent[],
): EtcdConfig {
  const values = defaults();
  const explicit = new Set(order);
  for (const [k, v] of given) values.set(k, v);

  const envUsed = new Set<string>();
  const verVal = env["ETCD_VERSION"];
  if (verVal) {
    events.push({ level: "warn", msg: "cannot set special environment variable", fields: { key: "ETCD_VERSION", value: verVal } });
    envUsed.add("ETCD_VERSION");
  }
  // flags.SetFlagsFromEnv: every flag in name order; the last failure is the one reported.
  let envErr: ConfigError | undefined;
  for (const def of [...flagDefs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const key = flagToEnv(def.name);
    if (explicit.has(def.name) || envUsed.has(key)) continue;
    const val = env[key];
    if (val === undefined || val === "") continue;
    envUsed.add(key);
    try {
      values.set(def.name, parseFlagValue(def, val));
      explicit.add(def.name);
      events.push({ level: "info", msg: "recognized and used environment variable", fields: { "variable-name": key, "variable-value": val } });
    } catch (e) {
      if (!(e instanceof FlagValueError)) throw e;
      envErr = new ConfigError(`invalid value ${JSON.stringify(val)} for ${key}: ${e.message}`);
    }
  }
  // flags.verifyEnv
  const shadowed = new Set(order.map(flagToEnv));
  for (const key of Object.keys(env)) {
    if (env[key] === undefined || envUsed.has(key)) continue;
    if (shadowed.has(key)) {
      throw new ConfigError(
        `conflicting environment variable ${JSON.stringify(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
        "conflicting environment variable is shadowed by corresponding command-line flag (either unset environment variable or disable flag))",
        "fatal",
        { "environment-variable": key },
      );
    }
    if (key.startsWith("ETCD_")) {
      events.push({ level: "warn", msg: "unrecognized environment variable", fields: { "environment-variable": `${key}=${env[key]}` } });
    }
  }
  if (envErr) throw envErr;

  const ec = view(values, explicit, "");
  // disable the default advertise-client-urls if listen-client-urls is set (proxy is never on here)
  if (explicit.has("listen-client-urls") && !explicit.has("advertise-client-urls")) ec.advertiseClientUrls = null;
  // disable the default initial-cluster if discovery is set
  if ((ec.discovery !== "" || ec.discoverySrv !== "" || values.get("discovery-srv-name") !== "") && !explicit.has("initial-cluster")) {
    ec.initialCluster = "";
  }
  return ec;
}

const securityKeys: Record<string, string> = {
  "cert-file": "cert-file",
  "key-file": "key-file",
  "client-cert-file": "client-cert-file",
  "client-key-file": "client-key-file",
  "client-cert-auth": "client-cert-auth",
  "trusted-ca-file": "trusted-ca-file",
  "auto-tls": "auto-tls",
};

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v === "boolean" ? "bool" : typeof v;
}

/** Go's encoding/json type error, as sigs.k8s.io/yaml wraps it. */
function jsonError(key: string, v: unknown, goType: string): ConfigError {
  const what = typeof v === "number" && (goType === "uint" || goType === "int") ? `number ${v}` : jsonType(v);
  return new ConfigError(
    `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${what} into Go struct field configYAML.${key} of type ${goType}`,
  );
}

/**
 * embed.ConfigFromFile + etcdmain.configFromFile: YAML keys are flag names; URL lists are
 * comma-separated strings; durations integer nanoseconds; TLS settings nested under
 * `client-transport-security` / `peer-transport-security`. Unknown keys are ignored (encoding/json).
 */
export function configFromYaml(text: string, path = "<config>"): EtcdConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`error converting YAML to JSON: yaml: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(`error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonType(doc)} into Go value of type embed.configYAML`);
  }
  const obj = doc as Record<string, unknown>;
  const values = defaults();
  const explicit = new Set<string>();
  const defaultInitialCluster = values.get("initial-cluster");

  for (const def of flagDefs) {
    if (!def.yaml || def.yaml === "none") continue;
    const key = def.yamlKey ?? def.name;
    if (!(key in obj)) continue;
    const v = obj[key];
    if (v === null) continue; // JSON null leaves a Go field unchanged
    values.set(def.name, yamlValue(def, key, v));
    explicit.add(def.name);
  }
  for (const [section, prefix] of [
    ["client-transport-security", ""],
    ["peer-transport-security", "peer-"],
  ] as const) {
    const sec = obj[section];
    if (sec === undefined || sec === null) continue;
    if (typeof sec !== "object" || Array.isArray(sec)) throw jsonError(section, sec, "embed.securityConfig");
    for (const [k, v] of Object.entries(sec as Record<string, unknown>)) {
      const flag = securityKeys[k];
      if (!flag || v === null) continue;
      const name = `${prefix}${flag}`;
      const def = flagsByName.get(name)!;
      values.set(name, yamlValue({ ...def, yaml: def.kind === "bool" ? "bool" : "string" }, `${section}.${k}`, v));
      explicit.add(name);
    }
  }

  const ec = view(values, explicit, path);
  // If a discovery flag is set, clear the default initial cluster.
  if ((ec.discovery !== "" || ec.discoverySrv !== "") && ec.initialCluster === defaultInitialCluster) ec.initialCluster = "";
  if (ec.initialClusterState === "") ec.initialClusterState = "new";
  return ec;
}

function yamlValue(def: FlagDef, key: string, v: unknown): FlagValue {
  switch (def.yaml) {
    case "string":
      if (typeof v !== "string") throw jsonError(key, v, "string");
      return v;
    case "bool":
      if (typeof v !== "boolean") throw jsonError(key, v, "bool");
      return v;
    case "uint":
    case "int": {
      const goType = def.kind === "uint32" ? "uint32" : def.yaml;
      if (typeof v !== "number") throw jsonError(key, v, goType);
      if (!Number.isInteger(v) || (def.yaml === "uint" && v < 0)) throw jsonError(key, v, goType);
      return v;
    }
    case "duration-ns":
      if (typeof v !== "number" || !Number.isInteger(v)) throw jsonError(key, v, "time.Duration");
      return v;
    case "comma-urls":
      if (typeof v !== "string") throw jsonError(key, v, "string");
      if (v === "") return def.def;
      try {
        return uniqueURLs(v);
      } catch (e) {
        if (!(e instanceof URLError)) throw e;
        // etcd prints this and exits 1 (embed/config.go configFromFile).
        const what = key === "advertise-client-urls" ? "advertise-peer-urls" : key;
        throw new ConfigError(`unexpected error setting up ${what}: ${e.message}`);
      }
    case "comma-strings":
      if (typeof v !== "string") throw jsonError(key, v, "string");
      if (v === "") return def.def;
      return def.name === "cors" ? uniqueURLs(v, ["*"]) : [...new Set(v.split(","))].sort();
    case "string-array":
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw jsonError(key, v, "[]string");
      return v as string[];
    default:
      return def.def;
  }
}

export const ErrUnsetAdvertiseClientURLsFlag = "--advertise-client-urls is required when --listen-client-urls is set explicitly";
export const ErrConflictBootstrapFlags =
  'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"';

const zapLevels: Record<string, LogLevel> = {
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  dpanic: "error",
  panic: "fatal",
  fatal: "fatal",
  "": "info",
};

/** zapcore.Level.Set: lower or upper case names; "" is info. */
export function parseLogLevel(s: string): LogLevel {
  const l = zapLevels[s.toLowerCase()];
  if (l === undefined) throw new ConfigError(`unrecognized level: ${JSON.stringify(s)}`);
  return l;
}

/** embed.Config.Validate (with setupLogging's checks), then edgecd's refusals. */
export function validate(ec: EtcdConfig, events: LogEvent[] = []): void {
  const err = (m: string) => new ConfigError(m);
  // setupLogging
  if (ec.logger === "capnslog") throw err("--logger=capnslog is removed in v3.5");
  if (ec.logger !== "zap") throw err(`unknown logger option ${JSON.stringify(ec.logger)}`);
  if (ec.logOutputs.length === 0) ec.logOutputs = ["default"];
  if (ec.logOutputs.length > 1 && ec.logOutputs.includes("default")) {
    throw err(`multi logoutput for "default" is not supported yet`);
  }
  parseLogLevel(ec.logLevel);

  const bind = (urls: readonly string[]) => {
    try {
      checkBindURLs(urls);
    } catch (e) {
      if (e instanceof URLError) throw err(e.message);
      throw e;
    }
  };
  bind(ec.listenPeerUrls);
  bind(ec.listenClientUrls);
  bind(ec.values.get("listen-client-http-urls") as string[]);
  bind(ec.values.get("listen-metrics-urls") as string[]);
  try {
    checkHostURLs(ec.advertisePeerUrls);
  } catch (e) {
    if (!(e instanceof URLError)) throw e;
    throw err(`--initial-advertise-peer-urls ${JSON.stringify(ec.advertisePeerUrls.join(","))} must be "host:port" (${e.message})`);
  }
  try {
    checkHostURLs(ec.advertiseClientUrls ?? []);
  } catch (e) {
    if (!(e instanceof URLError)) throw e;
    throw err(`--advertise-client-urls ${JSON.stringify((ec.advertiseClientUrls ?? []).join(","))} must be "host:port" (${e.message})`);
  }
  const nSet = [ec.discovery !== "", ec.initialCluster !== "", ec.discoverySrv !== ""].filter(Boolean).length;
  if (ec.initialClusterState !== "new" && ec.initialClusterState !== "existing") {
    throw err(`unexpected clusterState ${JSON.stringify(ec.initialClusterState)}`);
  }
  if (nSet > 1) throw err(ErrConflictBootstrapFlags);
  if (ec.tickMs === 0) throw err(`--heartbeat-interval must be >0 (set to ${ec.tickMs}ms)`);
  if (ec.electionMs === 0) throw err(`--election-timeout must be >0 (set to ${ec.electionMs}ms)`);
  if (5 * ec.tickMs > ec.electionMs) {
    throw err(`--election-timeout[${ec.electionMs}ms] should be at least as 5 times as --heartbeat-interval[${ec.tickMs}ms]`);
  }
  if (ec.electionMs > maxElectionMs) {
    throw err(`--election-timeout[${ec.electionMs}ms] is too long, and should be set less than ${maxElectionMs}ms`);
  }
  if (ec.advertiseClientUrls === null) throw err(ErrUnsetAdvertiseClientURLsFlag);
  if (!["", "periodic", "revision"].includes(ec.autoCompactionMode)) {
    throw err(`unknown auto-compaction-mode ${JSON.stringify(ec.autoCompactionMode)}`);
  }
  const lc = ec.values.get("experimental-enable-lease-checkpoint") === true;
  const lcp = ec.values.get("experimental-enable-lease-checkpoint-persist") === true;
  if (!lcp && lc) {
    events.push({
      level: "warn",
      msg: "Detected that checkpointing is enabled without persistence. Consider enabling experimental-enable-lease-checkpoint-persist",
    });
  }
  if (lcp && !lc) throw err("setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint");
  const hashCheck = ec.values.get("experimental-compact-hash-check-time") as number;
  if (hashCheck <= 0) throw err(`--experimental-compact-hash-check-time must be >0 (set to ${hashCheck / NS_PER_MS}ms)`);
  const tlsVersions = ["", "TLS1.2", "TLS1.3"];
  for (const k of ["tls-min-version", "tls-max-version"]) {
    const v = ec.values.get(k) as string;
    if (!tlsVersions.includes(v)) throw err(`unexpected TLS version "${v}" (must be one of: TLS1.2, TLS1.3)`);
  }

  // edgecd: refuse what it cannot honour rather than ignore it silently.
  for (const def of flagDefs) {
    if (def.support !== "unsupported") continue;
    const v = ec.values.get(def.name);
    if (JSON.stringify(v) === JSON.stringify(def.def)) continue;
    throw err(`--${def.name} is not supported by edgecd yet`);
  }
  for (const u of [...ec.listenPeerUrls, ...ec.listenClientUrls, ...ec.advertisePeerUrls, ...(ec.advertiseClientUrls ?? [])]) {
    if (!u.startsWith("http://")) throw err(`${u}: only http:// URLs are supported by edgecd yet (no TLS, no unix sockets)`);
  }
  for (const def of flagDefs) {
    if (def.support === "noop" && def.kind !== "ignored" && ec.explicit.has(def.name)) {
      events.push({ level: "warn", msg: "flag has no effect in edgecd yet - ignoring", fields: { "flag-name": def.name } });
    }
  }
}

/**
 * What etcdmain does between validation and embed.StartEtcd: the initial cluster rebuilt from
 * `--name` when only the name was given (UpdateDefaultClusterFromName; edgecd does not replace
 * 0.0.0.0 advertise hosts with the machine's default host), and `data-dir` defaulted.
 */
export function finishConfig(ec: EtcdConfig, events: LogEvent[] = []): void {
  const defaultInitialCluster = initialClusterFromName(DefaultName, [DefaultInitialAdvertisePeerURLs]);
  if (ec.name !== DefaultName && ec.initialCluster === defaultInitialCluster) {
    ec.initialCluster = initialClusterFromName(ec.name, ec.advertisePeerUrls);
  }
  if (ec.dataDir === "" && ec.explicit.has("data-dir")) {
    // edgecd: an explicitly empty --data-dir is an ephemeral member (memory WAL and backend).
    events.push({ level: "warn", msg: "'data-dir' is explicitly empty; storage is in memory and nothing survives a restart" });
  } else if (ec.dataDir === "") {
    ec.dataDir = `${ec.name}.etcd`;
    events.push({ level: "warn", msg: "'data-dir' was empty; using default", fields: { "data-dir": ec.dataDir } });
  }
}

/** etcd's parseCompactionRetention: integer hours (periodic) or revisions, else a Go duration. */
export function parseCompactionRetention(mode: string, retention: string): number {
  const h = /^[+-]?\d+$/.test(retention) ? Number(retention) : NaN;
  if (Number.isInteger(h) && h >= 0) return mode === "revision" ? h : h * 3600 * 1000;
  let ns: number;
  try {
    ns = parseGoDuration(retention);
  } catch (e) {
    if (e instanceof GoParseError) throw new ConfigError(`error parsing CompactionRetention: ${e.message}`);
    throw e;
  }
  // etcd keeps the time.Duration; in revision mode its nanoseconds count as revisions.
  return mode === "revision" ? ns : ns / NS_PER_MS;
}

/**
 * The bootstrap checks etcdserver runs for a member without a WAL (always, while storage is in
 * memory): etcd's VerifyBootstrap for a new cluster, VerifyJoinExisting to join one. URLs are
 * compared as strings (etcd resolves host names first; edgecd does no DNS here).
 */
export function verifyBootstrap(
  name: string,
  peerURLs: readonly string[],
  cluster: ReadonlyMap<string, readonly string[]>,
  state: ClusterState,
  discovery = "",
): void {
  const fatal = (m: string) => new ConfigError(m, "discovery failed", "fatal");
  const local = cluster.get(name);
  if (!local) throw fatal(`couldn't find local name ${JSON.stringify(name)} in the initial cluster configuration`);
  const all = [...cluster.values()].flat();
  const dup = new Set(all).size !== all.length;
  if (state === "existing") {
    if (dup) throw fatal(`initial cluster ${urlsMapString(cluster)} has duplicate url`);
    if (discovery !== "") throw fatal("discovery URL should not be set when joining existing initial cluster");
    return;
  }
  // advertiseMatchesCluster
  const urls = [...local].sort();
  const apurls = [...peerURLs].sort();
  const q = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(" ")}]`;
  let why: string | null = null;
  if (apurls.length !== urls.length) why = `len(${q(apurls)}) != len(${q(urls)})`;
  else {
    const i = apurls.findIndex((u, j) => u !== urls[j]);
    if (i >= 0) why = `resolved urls: ${JSON.stringify(apurls[i])} != ${JSON.stringify(urls[i])}`;
  }
  if (why !== null) {
    const self = urlsMapString(new Map([[name, [...peerURLs]]]));
    const missing = urls.filter((u) => !apurls.includes(u));
    if (missing.length > 0) {
      throw fatal(`--initial-cluster has ${missing.map((u) => `${name}=${u}`).join(",")} but missing from --initial-advertise-peer-urls=${apurls.join(",")} (${why})`);
    }
    const extra = apurls.filter((u) => !urls.includes(u));
    if (extra.length > 0) throw fatal(`--initial-advertise-peer-urls has ${extra.join(",")} but missing from --initial-cluster=${self}`);
    throw fatal(`failed to resolve ${apurls.join(",")} to match --initial-cluster=${self} (${why})`);
  }
  if (dup) throw fatal(`initial cluster ${urlsMapString(cluster)} has duplicate url`);
  if (all.length === 0 && discovery === "") throw fatal("initial cluster unset and no discovery URL found");
}

/**
 * embed.StartEtcd's part before NewServer: the initial cluster map, the compaction retention, the
 * bootstrap checks; then etcdserver.ServerConfig and the listener settings.
 */
export function buildServerConfig(ec: EtcdConfig): { server: ServerConfig; listen: ListenConfig } {
  let initialCluster: Map<string, string[]>;
  try {
    initialCluster = newURLsMap(ec.initialCluster);
  } catch (e) {
    if (e instanceof URLError) throw new ConfigError(e.message, "discovery failed", "fatal");
    throw e;
  }
  const mode = (ec.autoCompactionMode || "periodic") as AutoCompactionMode;
  const retention = parseCompactionRetention(mode, ec.autoCompactionRetention);
  const state = ec.initialClusterState as ClusterState;
  verifyBootstrap(ec.name, ec.advertisePeerUrls, initialCluster, state, ec.discovery);
  const v = ec.values;
  const num = (k: string) => v.get(k) as number;
  const server: ServerConfig = {
    ...defaultServerConfig(ec.name),
    name: ec.name,
    dataDir: ec.dataDir,
    peerURLs: [...ec.advertisePeerUrls],
    clientURLs: [...(ec.advertiseClientUrls ?? [])],
    initialCluster,
    initialClusterState: state,
    initialClusterToken: ec.initialClusterToken,
    tickMs: ec.tickMs,
    electionMs: ec.electionMs,
    initialElectionTickAdvance: v.get("initial-election-tick-advance") as boolean,
    // etcd: 0 means the default
    snapshotCount: num("snapshot-count") || 100000,
    maxTxnOps: num("max-txn-ops"),
    maxRequestBytes: num("max-request-bytes"),
    quotaBackendBytes: num("quota-backend-bytes"),
    autoCompactionMode: mode,
    autoCompactionRetention: retention,
    preVote: v.get("pre-vote") as boolean,
    strictReconfigCheck: v.get("strict-reconfig-check") as boolean,
    leaseCheckpoint: v.get("experimental-enable-lease-checkpoint") as boolean,
    leaseCheckpointPersist: v.get("experimental-enable-lease-checkpoint-persist") as boolean,
    compactionBatchLimit: num("experimental-compaction-batch-limit"),
    snapshotCatchUpEntries: num("experimental-snapshot-catchup-entries") || DefaultSnapshotCatchUpEntries,
    watchProgressNotifyInterval: num("experimental-watch-progress-notify-interval") / NS_PER_MS,
    warningApplyDuration: num("experimental-warning-apply-duration") / NS_PER_MS,
  };
  const outputs = ec.logOutputs.map((o) => (o === "default" || o === "systemd/journal" ? "stderr" : o));
  const listen: ListenConfig = {
    listenClientUrls: [...ec.listenClientUrls],
    listenPeerUrls: [...ec.listenPeerUrls],
    advertiseClientUrls: [...(ec.advertiseClientUrls ?? [])],
    advertisePeerUrls: [...ec.advertisePeerUrls],
    cors: [...ec.cors],
    hostWhitelist: [...ec.hostWhitelist],
    logLevel: parseLogLevel(ec.logLevel),
    logOutputs: [...new Set(outputs)].sort(),
    enableGrpcGateway: v.get("enable-grpc-gateway") as boolean,
  };
  return { server, listen };
}

/**
 * The whole of etcdmain's start-up decision, pure: what to print and the exit code, or the
 * configuration to start with and the log lines to write first.
 */
export function etcdMain(input: MainInput): MainOutcome {
  const r = parseEtcdConfig(input);
  if (r.kind === "exit") return r;
  const events = [...r.events];
  events.push({ level: "info", msg: "Running: ", fields: { args: ["edgecd", ...input.argv] } });
  finishConfig(r.config, events);
  try {
    const { server, listen } = buildServerConfig(r.config);
    return { kind: "start", config: r.config, server, listen, events };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    events.push({ level: e.level, msg: e.logMsg, fields: e.fields });
    return { kind: "exit", exitCode: 1, stdout: "", stderr: "", events };
  }
}

/** Whether `host:port` of a URL is well-formed (exported for the adapter's listener setup). */
export { splitHostPort };
