import { describe, expect, it } from "vitest";
import { encodeEntry, newZapLogger } from "../../src/logger/zap.js";
import type { Logger as RaftLogger } from "../../src/raft/logger.js";

const T = Date.UTC(2026, 10, 22, 4, 35, 0, 123);

function capture(level?: "debug" | "info" | "warn" | "error" | "fatal") {
  const lines: string[] = [];
  const lg = newZapLogger({ ...(level ? { level } : {}), write: (l) => lines.push(l), now: () => T });
  return { lg, lines };
}

describe("zap-style JSON logger", () => {
  it("writes one JSON line with etcd's keys in order", () => {
    const { lg, lines } = capture();
    lg.info("starting an etcd server", { name: "default", "max-txn-ops": 128, urls: ["http://a:1"] });
    expect(lines).toEqual([
      '{"level":"info","ts":"2026-11-22T04:35:00.123Z","msg":"starting an etcd server","name":"default","max-txn-ops":128,"urls":["http://a:1"]}\n',
    ]);
  });

  it("includes the caller when given, between ts and msg", () => {
    const lines: string[] = [];
    newZapLogger({ write: (l) => lines.push(l), now: () => T, caller: "etcdmain/etcd.go:66" }).warn("x");
    expect(lines[0]).toBe('{"level":"warn","ts":"2026-11-22T04:35:00.123Z","caller":"etcdmain/etcd.go:66","msg":"x"}\n');
  });

  it.each([
    ["debug", ["debug", "info", "warn", "error", "fatal"]],
    ["info", ["info", "warn", "error", "fatal"]],
    ["warn", ["warn", "error", "fatal"]],
    ["error", ["error", "fatal"]],
    ["fatal", ["fatal"]],
  ] as const)("level %s keeps %j", (level, kept) => {
    const { lg, lines } = capture(level);
    lg.debug("d");
    lg.info("i");
    lg.warn("w");
    lg.error("e");
    lg.fatal("f");
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(kept);
    expect(lg.enabled("info")).toBe((kept as readonly string[]).includes("info"));
  });

  it("encodes bigint, Error, Map and Set values; field keys never overwrite the header", () => {
    const line = encodeEntry("error", T, "m", {
      id: 0x8e9e05c52164694dn,
      error: new Error("boom"),
      m: new Map([["a", 1]]),
      s: new Set([2]),
      msg: "shadow",
      undef: undefined,
    });
    const o = JSON.parse(line);
    expect(o).toEqual({ level: "error", ts: "2026-11-22T04:35:00.123Z", msg: "m", id: "10276657743932975437", error: "boom", m: { a: 1 }, s: [2], undef: null });
  });

  it("with() adds fields to every event", () => {
    const { lg, lines } = capture();
    lg.with({ "local-member-id": "8e9e05c52164694d" }).info("ready", { x: 1 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ "local-member-id": "8e9e05c52164694d", x: 1, msg: "ready" });
  });

  it("is a raft Logger", () => {
    const { lg, lines } = capture();
    const r: RaftLogger = lg;
    r.info("became leader");
    expect(JSON.parse(lines[0]!).msg).toBe("became leader");
  });
});
