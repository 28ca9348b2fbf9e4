import { describe, expect, it } from "vitest";
import {
  ConfigError,
  type MainInput,
  type MainOutcome,
  buildServerConfig,
  configFromYaml,
  etcdMain,
  parseCompactionRetention,
  parseEtcdConfig,
  verifyBootstrap,
} from "../../src/etcdmain/config.js";
import { formatGoDuration, parseGoDuration, parseGoInt } from "../../src/etcdmain/duration.js";
import { parseArgs } from "../../src/etcdmain/flags.js";
import { checkBindURLs, isIP, newURLs } from "../../src/pkg/urls.js";

const version = { etcdVersion: "3.5.0", edgecdVersion: "0.1.0", gitSHA: "abc1234", runtime: "node v20", platform: "linux/x64" };

function run(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): MainOutcome {
  const input: MainInput = {
    argv,
    env,
    version,
    readFile(path) {
      if (!(path in files)) throw new Error(`open ${path}: no such file or directory`);
      return files[path]!;
    },
  };
  return etcdMain(input);
}

function started(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const o = run(argv, env, files);
  if (o.kind !== "start") throw new Error(`expected start, got exit ${o.exitCode}: ${o.stderr} ${JSON.stringify(o.events)}`);
  return o;
}

/** The message of the failing event and the exit code. */
function failure(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const o = run(argv, env, files);
  if (o.kind !== "exit") throw new Error("expected an exit");
  const last = o.events.filter((e) => e.level === "warn" || e.level === "fatal").find((e) => e.fields?.["error"] !== undefined || e.level === "fatal");
  return { code: o.exitCode, stderr: o.stderr, error: last?.fields?.["error"] as string | undefined, event: last, events: o.events };
}

describe("defaults (etcd 3.5)", () => {
  it("builds etcd's default single member", () => {
    const o = started([]);
    expect(o.server.name).toBe("default");
    expect(o.server.dataDir).toBe("default.etcd");
    expect(o.server.peerURLs).toEqual(["http://localhost:2380"]);
    expect(o.server.clientURLs).toEqual(["http://localhost:2379"]);
    expect([...o.server.initialCluster]).toEqual([["default", ["http://localhost:2380"]]]);
    expect(o.server.initialClusterState).toBe("new");
    expect(o.server.initialClusterToken).toBe("etcd-cluster");
    expect(o.server.tickMs).toBe(100);
    expect(o.server.electionMs).toBe(1000);
    expect(o.server.preVote).toBe(true);
    expect(o.server.snapshotCount).toBe(100000);
    expect(o.server.maxTxnOps).toBe(128);
    expect(o.server.maxRequestBytes).toBe(1572864);
    expect(o.server.autoCompactionMode).toBe("periodic");
    expect(o.server.autoCompactionRetention).toBe(0);
    expect(o.server.watchProgressNotifyInterval).toBe(600000);
    expect(o.server.warningApplyDuration).toBe(100);
    expect(o.listen.listenClientUrls).toEqual(["http://localhost:2379"]);
    expect(o.listen.listenPeerUrls).toEqual(["http://localhost:2380"]);
    expect(o.listen.cors).toEqual(["*"]);
    expect(o.listen.hostWhitelist).toEqual(["*"]);
    expect(o.listen.logLevel).toBe("info");
    expect(o.listen.logOutputs).toEqual(["stderr"]);
    expect(o.config.logger).toBe("zap");
  });

  it("derives data-dir and initial-cluster from --name", () => {
    const o = started(["--name", "n1", "--initial-advertise-peer-urls", "http://127.0.0.1:2380"]);
    expect(o.server.dataDir).toBe("n1.etcd");
    expect([...o.server.initialCluster]).toEqual([["n1", ["http://127.0.0.1:2380"]]]);
    expect(o.events).toContainEqual({ level: "warn", msg: "'data-dir' was empty; using default", fields: { "data-dir": "n1.etcd" } });
  });

  it("an explicitly empty --data-dir is an ephemeral (in-memory) member, with a warning", () => {
    const o = started(["--data-dir="]);
    expect(o.server.dataDir).toBe("");
    expect(o.events).toContainEqual({ level: "warn", msg: "'data-dir' is explicitly empty; storage is in memory and nothing survives a restart" });
  });

  it("keeps an explicit --data-dir", () => {
    expect(started(["--data-dir=/tmp/x"]).server.dataDir).toBe("/tmp/x");
  });
});

describe("command-line syntax (Go's flag package)", () => {
  it.each([
    [["--name", "a"], "a"],
    [["--name=a"], "a"],
    [["-name", "a"], "a"],
    [["-name=a"], "a"],
    [["--name", "--x"], "--x"], // a value may start with "-"
  ])("%j sets the name", (argv, name) => {
    expect(parseArgs(argv).values.get("name")).toBe(name);
  });

  it.each([
    [["--pre-vote"], true],
    [["--pre-vote=false"], false],
    [["--pre-vote=0"], false],
    [["--pre-vote=T"], true],
  ])("boolean %j", (argv, v) => {
    expect(started(argv).server.preVote).toBe(v);
  });

  it("numbers accept Go's base prefixes and underscores", () => {
    expect(started(["--heartbeat-interval=0x64", "--election-timeout=1_000"]).server.tickMs).toBe(100);
    expect(parseGoInt("0o17", false, 64)).toBe(15);
    expect(parseGoInt("010", false, 64)).toBe(8);
    expect(() => parseGoInt("08", false, 64)).toThrow("parse error");
    expect(() => parseGoInt("-1", false, 64)).toThrow("parse error");
    expect(() => parseGoInt("4294967296", false, 32)).toThrow("value out of range");
  });

  // Exact strings compared with /usr/bin/etcd 3.4.23 (same Go flag package in 3.5).
  it.each([
    [["--bogus"], "flag provided but not defined: -bogus"],
    [["-x"], "flag provided but not defined: -x"],
    [["--heartbeat-interval=abc"], 'invalid value "abc" for flag -heartbeat-interval: parse error'],
    [["--initial-cluster-state=foo"], 'invalid value "foo" for flag -initial-cluster-state: invalid value'],
    [["--listen-peer-urls=localhost:2380"], 'invalid value "localhost:2380" for flag -listen-peer-urls: URL scheme must be http, https, unix, or unixs: localhost:2380'],
    [["--listen-peer-urls=http://127.0.0.1"], 'invalid value "http://127.0.0.1" for flag -listen-peer-urls: URL address does not have the form "host:port": http://127.0.0.1'],
    [["--listen-peer-urls=http://127.0.0.1:2380/x"], 'invalid value "http://127.0.0.1:2380/x" for flag -listen-peer-urls: URL must not contain a path: http://127.0.0.1:2380/x'],
    [["--grpc-keepalive-min-time=5q"], 'invalid value "5q" for flag -grpc-keepalive-min-time: parse error'],
    [["--pre-vote=maybe"], 'invalid boolean value "maybe" for -pre-vote: parse error'],
    [["--name"], "flag needs an argument: -name"],
    [["---x"], "bad flag syntax: ---x"],
    [["--max-concurrent-streams=4294967296"], 'invalid value "4294967296" for flag -max-concurrent-streams: value out of range'],
  ])("%j → exit 2 with Go's message and the usage", (argv, msg) => {
    const f = failure(argv);
    expect(f.code).toBe(2);
    expect(f.stderr.split("\n")[0]).toBe(msg);
    expect(f.stderr).toContain("Usage:");
  });

  it("positional arguments are refused (etcd: exit 1)", () => {
    const f = failure(["foo"]);
    expect(f.code).toBe(1);
    expect(f.error).toBe("'foo' is not a valid flag");
    // a boolean does not take the next argument
    expect(failure(["--pre-vote", "false"]).error).toBe("'false' is not a valid flag");
  });

  it("-- ends the flags", () => {
    expect(failure(["--", "--name=x"]).error).toBe("'--name=x' is not a valid flag");
  });

  it("legacy flags are accepted, ignored, and warned about", () => {
    const o = started(["--snapshot", "--v", "--max-result-buffer=3"]);
    expect(o.events.filter((e) => e.msg === "flag is no longer supported - ignoring").map((e) => e.fields?.["flag-name"])).toEqual([
      "snapshot",
      "v",
      "max-result-buffer",
    ]);
  });

  it("--help prints the usage on stderr, the flags on stdout, exit 0", () => {
    for (const h of ["--help", "-h", "-help"]) {
      const o = run([h]);
      expect(o.kind === "exit" && o.exitCode).toBe(0);
      if (o.kind !== "exit") return;
      expect(o.stderr).toContain("Usage:");
      expect(o.stdout).toContain("--election-timeout '1000'\n    Time (in milliseconds) for an election to timeout.");
      expect(o.stdout).toContain("--pre-vote 'true'");
      expect(o.stdout).toContain("{data-dir}/member/wal holds the write-ahead log");
      expect(o.stdout).toContain("--cert-file");
    }
  });

  it("--version prints etcd's lines and exits 0", () => {
    const o = run(["--version"]);
    expect(o).toMatchObject({ kind: "exit", exitCode: 0 });
    if (o.kind !== "exit") return;
    expect(o.stdout).toBe("etcd Version: 3.5.0\nedgecd Version: 0.1.0\nGit SHA: abc1234\nRuntime: node v20\nOS/Arch: linux/x64\n");
  });
});

describe("validation (embed.Config.Validate messages)", () => {
  it.each([
    [["--election-timeout=100"], "--election-timeout[100ms] should be at least as 5 times as --heartbeat-interval[100ms]"],
    [["--election-timeout=499"], "--election-timeout[499ms] should be at least as 5 times as --heartbeat-interval[100ms]"],
    [["--election-timeout=50001", "--heartbeat-interval=1000"], "--election-timeout[50001ms] is too long, and should be set less than 50000ms"],
    [["--election-timeout=60000", "--heartbeat-interval=1000"], "--election-timeout[60000ms] is too long, and should be set less than 50000ms"],
    [["--heartbeat-interval=0"], "--heartbeat-interval must be >0 (set to 0ms)"],
    [["--election-timeout=0"], "--election-timeout must be >0 (set to 0ms)"],
    [["--listen-client-urls=http://example.com:2379", "--advertise-client-urls=http://example.com:2379"], "expected IP in URL for binding (http://example.com:2379)"],
    [["--listen-peer-urls=http://example.com:2380"], "expected IP in URL for binding (http://example.com:2380)"],
    [["--listen-client-urls=http://127.0.0.1:2379"], "--advertise-client-urls is required when --listen-client-urls is set explicitly"],
    [["--auto-compaction-mode=foo"], 'unknown auto-compaction-mode "foo"'],
    [["--initial-advertise-peer-urls=http://:2380"], '--initial-advertise-peer-urls "http://:2380" must be "host:port" (unexpected empty host (http://:2380))'],
    [["--advertise-client-urls=http://:2379"], '--advertise-client-urls "http://:2379" must be "host:port" (unexpected empty host (http://:2379))'],
    [["--experimental-enable-lease-checkpoint-persist"], "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint"],
    [["--logger=capnslog"], "--logger=capnslog is removed in v3.5"],
    [["--logger=foo"], 'unknown logger option "foo"'],
    [["--log-level=loud"], 'unrecognized level: "loud"'],
    [["--log-outputs=default,stdout"], 'multi logoutput for "default" is not supported yet'],
    [["--auto-compaction-retention=abc"], 'error parsing CompactionRetention: time: invalid duration "abc"'],
    [["--auto-compaction-retention=-1"], 'error parsing CompactionRetention: time: missing unit in duration "-1"'],
    [["--cert-file=a.pem"], "--cert-file is not supported by edgecd yet"],
    [["--discovery=http://d:1"], "--discovery is not supported by edgecd yet"],
    [["--proxy=on"], "--proxy is not supported by edgecd yet"],
  ])("%j → exit 1: %s", (argv, msg) => {
    const f = failure(argv);
    expect(f.code).toBe(1);
    expect(f.error).toBe(msg);
  });

  it("validation failures are logged as etcd logs them", () => {
    const f = failure(["--election-timeout=100"]);
    expect(f.event).toMatchObject({ level: "warn", msg: "failed to verify flags" });
    const g = failure(["--listen-client-urls=http://127.0.0.1:2379"]);
    expect(g.events.map((e) => e.msg)).toContain("advertise client URLs are not set");
  });

  it("election timeout exactly 5x heartbeat and exactly 50000 are accepted", () => {
    expect(started(["--election-timeout=500"]).server.electionMs).toBe(500);
    expect(started(["--election-timeout=50000", "--heartbeat-interval=1000"]).server.electionMs).toBe(50000);
  });

  it("listen URLs: IPs, IPv6 and localhost bind; explicit advertise satisfies the rule", () => {
    const o = started([
      "--listen-client-urls=http://127.0.0.1:2379,http://[::1]:2379,http://localhost:2381,http://0.0.0.0:2382",
      "--advertise-client-urls=http://10.0.0.1:2379",
    ]);
    expect(o.listen.listenClientUrls).toEqual([
      "http://0.0.0.0:2382",
      "http://127.0.0.1:2379",
      "http://[::1]:2379",
      "http://localhost:2381",
    ]);
  });
});

describe("initial cluster (VerifyBootstrap)", () => {
  it.each([
    [["--name=a", "--initial-cluster=b=http://localhost:2380"], `couldn't find local name "a" in the initial cluster configuration`],
    [
      ["--name=a", "--initial-cluster=a=http://localhost:2381"],
      '--initial-cluster has a=http://localhost:2381 but missing from --initial-advertise-peer-urls=http://localhost:2380 (resolved urls: "http://localhost:2380" != "http://localhost:2381")',
    ],
    [
      ["--name=a", "--initial-cluster=a=http://localhost:2380,a=http://localhost:2381"],
      '--initial-cluster has a=http://localhost:2381 but missing from --initial-advertise-peer-urls=http://localhost:2380 (len(["http://localhost:2380"]) != len(["http://localhost:2380" "http://localhost:2381"]))',
    ],
    [
      ["--name=a", "--initial-cluster=a=http://localhost:2380", "--initial-advertise-peer-urls=http://localhost:2380,http://localhost:2381"],
      "--initial-advertise-peer-urls has http://localhost:2381 but missing from --initial-cluster=a=http://localhost:2380,a=http://localhost:2381",
    ],
    [
      ["--initial-cluster=default=http://localhost:2380,b=http://localhost:2380"],
      "initial cluster b=http://localhost:2380,default=http://localhost:2380 has duplicate url",
    ],
    [["--initial-cluster=default=localhost:2380"], "URL scheme must be http, https, unix, or unixs: localhost:2380"],
  ])("%j → fatal: %s", (argv, msg) => {
    const f = failure(argv);
    expect(f.code).toBe(1);
    expect(f.event).toMatchObject({ level: "fatal", msg: "discovery failed", fields: { error: msg } });
  });

  it("joins existing clusters with VerifyJoinExisting's checks only", () => {
    const o = started(["--name=c", "--initial-cluster=a=http://10.0.0.1:2380,c=http://localhost:2380", "--initial-cluster-state=existing"]);
    expect(o.server.initialClusterState).toBe("existing");
    expect([...o.server.initialCluster.keys()].sort()).toEqual(["a", "c"]);
    expect(() => verifyBootstrap("x", [], new Map([["a", ["http://a:1"]]]), "existing")).toThrow(
      `couldn't find local name "x" in the initial cluster configuration`,
    );
  });

  it("three members with several peer URLs", () => {
    const o = started([
      "--name=b",
      "--initial-advertise-peer-urls=http://10.0.0.2:2380,http://10.0.0.2:2390",
      "--initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2390,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380",
    ]);
    expect(o.server.initialCluster.get("b")).toEqual(["http://10.0.0.2:2380", "http://10.0.0.2:2390"]);
    expect(o.server.peerURLs).toEqual(["http://10.0.0.2:2380", "http://10.0.0.2:2390"]);
  });

  it("an empty initial cluster with no discovery is refused", () => {
    expect(() => verifyBootstrap("a", [], new Map([["a", []]]), "new")).toThrow("initial cluster unset and no discovery URL found");
  });

  it("more than one bootstrap method", () => {
    // --discovery is refused by edgecd, but etcd's conflict check comes first.
    expect(failure(["--discovery=http://d:1", "--initial-cluster=default=http://localhost:2380"]).error).toBe(
      'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
    );
  });
});

describe("mapping to ServerConfig", () => {
  it("maps every supported flag", () => {
    const o = started([
      "--name=m",
      "--data-dir=/d",
      "--heartbeat-interval=50",
      "--election-timeout=600",
      "--initial-election-tick-advance=false",
      "--snapshot-count=7",
      "--max-txn-ops=9",
      "--max-request-bytes=1024",
      "--quota-backend-bytes=4096",
      "--initial-cluster-token=tok",
      "--strict-reconfig-check=false",
      "--pre-vote=false",
      "--experimental-enable-lease-checkpoint",
      "--experimental-enable-lease-checkpoint-persist",
      "--experimental-compaction-batch-limit=11",
      "--experimental-watch-progress-notify-interval=1m30s",
      "--experimental-warning-apply-duration=250ms",
      "--cors=http://a.example:1,http://b.example:2",
      "--host-whitelist=b,a,a",
      "--log-level=debug",
      "--log-outputs=stdout,/tmp/l.log",
      "--initial-advertise-peer-urls=http://127.0.0.1:2380",
    ]);
    expect(o.server).toMatchObject({
      name: "m",
      dataDir: "/d",
      tickMs: 50,
      electionMs: 600,
      initialElectionTickAdvance: false,
      snapshotCount: 7,
      maxTxnOps: 9,
      maxRequestBytes: 1024,
      quotaBackendBytes: 4096,
      initialClusterToken: "tok",
      strictReconfigCheck: false,
      preVote: false,
      leaseCheckpoint: true,
      leaseCheckpointPersist: true,
      compactionBatchLimit: 11,
      watchProgressNotifyInterval: 90000,
      warningApplyDuration: 250,
    });
    expect(o.listen.cors).toEqual(["http://a.example:1", "http://b.example:2"]);
    expect(o.listen.hostWhitelist).toEqual(["a", "b"]);
    expect(o.listen.logLevel).toBe("debug");
    expect(o.listen.logOutputs).toEqual(["/tmp/l.log", "stdout"]);
  });

  it("--snapshot-count=0 means the default", () => {
    expect(started(["--snapshot-count=0"]).server.snapshotCount).toBe(100000);
  });

  it.each([
    ["periodic", "0", 0],
    ["periodic", "1", 3600000],
    ["periodic", "72", 72 * 3600000],
    ["periodic", "5m", 300000],
    ["periodic", "1.5h", 5400000],
    ["revision", "1000", 1000],
    ["revision", "0", 0],
  ])("auto-compaction-retention %s %s → %d", (mode, ret, want) => {
    expect(parseCompactionRetention(mode, ret)).toBe(want);
    expect(started([`--auto-compaction-mode=${mode}`, `--auto-compaction-retention=${ret}`]).server.autoCompactionRetention).toBe(want);
  });

  it("flags with no effect yet warn when set", () => {
    const o = started(["--max-wals=3", "--enable-pprof", "--grpc-keepalive-min-time=1s"]);
    const names = o.events.filter((e) => e.msg === "flag has no effect in edgecd yet - ignoring").map((e) => e.fields?.["flag-name"]);
    expect(names).toEqual(["grpc-keepalive-min-time", "enable-pprof"]);
  });

  it("deprecated flags warn (3.5)", () => {
    const o = started(["--proxy-dial-timeout=5"]);
    expect(o.events.map((e) => e.msg)).toContain("--proxy-dial-timeout is deprecated in 3.5 and will be decommissioned in 3.6.");
  });
});

describe("environment (ETCD_*)", () => {
  it("sets flags from ETCD_<FLAG>", () => {
    const o = started([], { ETCD_NAME: "envname", ETCD_INITIAL_ADVERTISE_PEER_URLS: "http://127.0.0.1:2380", ETCD_PRE_VOTE: "false", ETCD_HEARTBEAT_INTERVAL: "200", ETCD_ELECTION_TIMEOUT: "2000" });
    expect(o.server.name).toBe("envname");
    expect(o.server.preVote).toBe(false);
    expect(o.server.tickMs).toBe(200);
    expect([...o.server.initialCluster]).toEqual([["envname", ["http://127.0.0.1:2380"]]]);
    expect(o.events).toContainEqual({ level: "info", msg: "recognized and used environment variable", fields: { "variable-name": "ETCD_NAME", "variable-value": "envname" } });
  });

  it("ETCD_LISTEN_CLIENT_URLS counts as explicitly set", () => {
    expect(failure([], { ETCD_LISTEN_CLIENT_URLS: "http://127.0.0.1:2379" }).error).toBe(
      "--advertise-client-urls is required when --listen-client-urls is set explicitly",
    );
  });

  it("a flag on the command line and in the environment is fatal", () => {
    const f = failure(["--name=a"], { ETCD_NAME: "b" });
    expect(f.code).toBe(1);
    expect(f.event).toEqual({
      level: "fatal",
      msg: "conflicting environment variable is shadowed by corresponding command-line flag (either unset environment variable or disable flag))",
      fields: { "environment-variable": "ETCD_NAME" },
    });
    // even when the variable is empty (etcd checks the key)
    expect(failure(["--name=a"], { ETCD_NAME: "" }).code).toBe(1);
  });

  it("unknown ETCD_* variables warn; others are ignored; empty values are not used", () => {
    const o = started([], { ETCD_BOGUS: "1", HOME: "/root", ETCD_NAME: "" });
    expect(o.events).toContainEqual({ level: "warn", msg: "unrecognized environment variable", fields: { "environment-variable": "ETCD_BOGUS=1" } });
    expect(o.events.filter((e) => e.msg === "unrecognized environment variable")).toHaveLength(2); // ETCD_NAME= too, as etcd
    expect(o.server.name).toBe("default");
  });

  it("ETCD_VERSION is refused with a warning", () => {
    const o = started([], { ETCD_VERSION: "3" });
    expect(o.events).toContainEqual({ level: "warn", msg: "cannot set special environment variable", fields: { key: "ETCD_VERSION", value: "3" } });
  });

  it("a bad value names the variable", () => {
    expect(failure([], { ETCD_HEARTBEAT_INTERVAL: "abc" }).error).toBe('invalid value "abc" for ETCD_HEARTBEAT_INTERVAL: parse error');
  });
});

describe("--config-file", () => {
  const yaml = `
name: 'infra1'
data-dir: /var/lib/etcd
heartbeat-interval: 200
election-timeout: 2000
listen-peer-urls: http://10.0.0.1:2380
listen-client-urls: http://10.0.0.1:2379,http://127.0.0.1:2379
initial-advertise-peer-urls: http://10.0.0.1:2380
advertise-client-urls: http://10.0.0.1:2379
initial-cluster: infra1=http://10.0.0.1:2380,infra2=http://10.0.0.2:2380
initial-cluster-token: 'etcd-cluster-1'
initial-cluster-state: 'new'
pre-vote: false
cors: 'http://a.example:1'
log-level: warn
log-outputs: [stdout]
experimental-watch-progress-notify-interval: 5000000000
auto-compaction-mode: revision
auto-compaction-retention: "100"
unknown-key: ignored
`;

  it("reads etcd's YAML keys", () => {
    const o = started(["--config-file", "/etc/etcd.yml"], {}, { "/etc/etcd.yml": yaml });
    expect(o.server).toMatchObject({
      name: "infra1",
      dataDir: "/var/lib/etcd",
      tickMs: 200,
      electionMs: 2000,
      initialClusterToken: "etcd-cluster-1",
      preVote: false,
      watchProgressNotifyInterval: 5000,
      autoCompactionMode: "revision",
      autoCompactionRetention: 100,
    });
    expect([...o.server.initialCluster.keys()]).toEqual(["infra1", "infra2"]);
    expect(o.listen.listenClientUrls).toEqual(["http://10.0.0.1:2379", "http://127.0.0.1:2379"]);
    expect(o.listen.logLevel).toBe("warn");
    expect(o.listen.logOutputs).toEqual(["stdout"]);
    expect(o.listen.cors).toEqual(["http://a.example:1"]);
    expect(o.events.map((e) => e.msg)).toContain(
      "loaded server configuration, other configuration command line flags and environment variables will be ignored if provided",
    );
  });

  it("ignores other flags and the environment; ETCD_CONFIG_FILE works too", () => {
    const files = { "/c.yml": "name: fromfile\n" };
    const o = started(["--config-file=/c.yml", "--name=flag"], { ETCD_NAME: "env", ETCD_PRE_VOTE: "false" }, files);
    expect(o.server.name).toBe("fromfile");
    expect(o.server.preVote).toBe(true);
    expect(started([], { ETCD_CONFIG_FILE: "/c.yml" }, files).server.name).toBe("fromfile");
  });

  it("listen-client-urls without advertise is fine in a file (etcd keeps the default advertise URL)", () => {
    expect(started(["--config-file=/c.yml"], {}, { "/c.yml": "listen-client-urls: http://127.0.0.1:2379\n" }).server.clientURLs).toEqual([
      "http://localhost:2379",
    ]);
  });

  it("the experimental-snapshot-catch-up-entries key differs from its flag", () => {
    const ec = configFromYaml("experimental-snapshot-catch-up-entries: 7\n");
    expect(ec.values.get("experimental-snapshot-catchup-entries")).toBe(7);
  });

  it.each([
    ["heartbeat-interval: abc\n", "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.heartbeat-interval of type uint"],
    ["name: 1\n", "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field configYAML.name of type string"],
    ["heartbeat-interval: -1\n", "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct field configYAML.heartbeat-interval of type uint"],
    ["listen-peer-urls: localhost:2380\n", "unexpected error setting up listen-peer-urls: URL scheme must be http, https, unix, or unixs: localhost:2380"],
    ["election-timeout: 100\n", "--election-timeout[100ms] should be at least as 5 times as --heartbeat-interval[100ms]"],
    ["initial-cluster-state: maybe\n", 'unexpected clusterState "maybe"'],
    ["client-transport-security:\n  cert-file: /a.pem\n", "--cert-file is not supported by edgecd yet"],
  ])("%j → %s", (text, msg) => {
    const f = failure(["--config-file=/c.yml"], {}, { "/c.yml": text });
    expect(f.code).toBe(1);
    expect(f.error).toBe(msg);
  });

  it("a missing file", () => {
    expect(failure(["--config-file=/nope.yml"]).error).toBe("open /nope.yml: no such file or directory");
  });

  it("malformed YAML", () => {
    expect(failure(["--config-file=/c.yml"], {}, { "/c.yml": "a: [\n" }).error).toMatch(/^error converting YAML to JSON: yaml: /);
  });
});

describe("Go durations, integers and URLs", () => {
  it.each([
    ["0", 0],
    ["5m", 300e9],
    ["1h30m", 5400e9],
    ["1.5s", 1.5e9],
    ["-2ms", -2e6],
    ["300us", 300e3],
    ["300µs", 300e3],
    ["10ns", 10],
    [".5h", 1800e9],
  ])("ParseDuration(%s)", (s, ns) => {
    expect(parseGoDuration(s)).toBe(ns);
  });

  it.each([
    ["", 'time: invalid duration ""'],
    ["5", 'time: missing unit in duration "5"'],
    ["5q", 'time: unknown unit "q" in duration "5q"'],
    ["m", 'time: invalid duration "m"'],
    ["1h-2m", 'time: unknown unit "h-" in duration "1h-2m"'],
  ])("ParseDuration(%j) fails: %s", (s, msg) => {
    expect(() => parseGoDuration(s)).toThrow(msg);
  });

  it("formats like Go's Duration.String", () => {
    expect([0, 1e6, 1.5e9, 3600e9, 5400e9, 1500].map(formatGoDuration)).toEqual(["0s", "1ms", "1.5s", "1h0m0s", "1h30m0s", "1.5µs"]);
  });

  it("NewURLs sorts and lower-cases the scheme", () => {
    expect(newURLs(["HTTP://b:1", " http://a:1 "])).toEqual(["http://a:1", "http://b:1"]);
    expect(() => newURLs(["127.0.0.1:2380"])).toThrow('parse "127.0.0.1:2380": first path segment in URL cannot contain colon');
  });

  it("bind hosts: IP literals and localhost only", () => {
    expect(["127.0.0.1", "::1", "fe80::1", "::ffff:1.2.3.4", "0.0.0.0"].every(isIP)).toBe(true);
    expect(["localhost", "a.b", "256.0.0.1", "01.2.3.4", "1:2:3", ""].some(isIP)).toBe(false);
    expect(() => checkBindURLs(["unix://sock"])).not.toThrow();
  });

  it("ConfigError carries etcd's text", () => {
    expect(new ConfigError("x").fields).toEqual({ error: "x" });
  });

  it("parseEtcdConfig alone stops before bootstrap checks", () => {
    const r = parseEtcdConfig({ argv: ["--name=a", "--initial-cluster=b=http://localhost:2380"], env: {}, readFile: () => "" });
    expect(r.kind).toBe("config");
    if (r.kind === "config") expect(() => buildServerConfig(r.config)).toThrow(`couldn't find local name "a"`);
  });
});
