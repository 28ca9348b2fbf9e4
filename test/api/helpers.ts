// Shared by the gateway tests: a real single-member EtcdServer on a manual clock (etcd's default
// member and cluster ids, term 2; nothing runs on timers unless the test advances the clock), JSON
// requests through app.request(), faults injected in front of the real server, and a line reader
// for streamed responses.
import type { EtcdServerAPI } from "../../src/etcdserver/api.js";
import { startEtcdServer, type EtcdServer } from "../../src/etcdserver/server.js";
import { defaultServerConfig, type ServerConfig } from "../../src/etcdserver/config.js";
import { ManualClock } from "../../src/platform.js";
import type { Hono } from "hono";

export const b64 = (s: string): string => btoa(s);
/** etcd's default member: cluster cdf818194e3a8c32, member 8e9e05c52164694d, term 2. */
export const HDR = `"cluster_id":"14841639068965178418","member_id":"10276657743932975437"`;
export const hdr = (rev: number): string => `{${HDR},"revision":"${rev}","raft_term":"2"}`;

export const settle = async (turns = 3): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 0));
};

export async function startMember(over: Partial<ServerConfig> = {}): Promise<{ s: EtcdServer; clock: ManualClock }> {
  const clock = new ManualClock();
  const s = await startEtcdServer({ ...defaultServerConfig(), ...over }, { clock, seed: 1, wallClock: () => 1_700_000_000_000 });
  await settle();
  await s.ready;
  return { s, clock };
}

/** Faults to inject in front of a real server: set a field to make that call fail with it. */
export interface Faults {
  /** Every keepalive (leaseRenew) fails with this. */
  renew?: Error;
  /** The snapshot stream fails with this after its first chunk. */
  snapshot?: Error;
}

/**
 * The real server's API with `faults` injected (a Proxy: every other call goes to `s` itself), for
 * the error paths a healthy single member never takes, such as a renewal failing midway through a
 * keepalive stream or a snapshot failing after its first chunk.
 */
export function withFaults(s: EtcdServer, faults: Faults): EtcdServerAPI {
  return new Proxy(s, {
    get(target, prop) {
      if (prop === "leaseRenew" && faults.renew) {
        const err = faults.renew;
        return () => Promise.reject(err);
      }
      if (prop === "snapshot" && faults.snapshot) {
        const err = faults.snapshot;
        return async function* () {
          for await (const chunk of target.snapshot()) {
            yield chunk;
            throw err;
          }
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export async function post(app: Hono, path: string, body?: string, init: RequestInit = {}): Promise<Response> {
  return app.request(path, { method: "POST", body, ...init });
}

/** Status and body text of a POST. */
export async function call(app: Hono, path: string, body?: string): Promise<[number, string]> {
  const r = await post(app, path, body);
  return [r.status, await r.text()];
}

/** Reads a streamed response line by line. */
export class Lines {
  private buf = "";
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly dec = new TextDecoder();
  done = false;

  private pending: Promise<void> | undefined;

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** One read at a time, its data kept in `buf` even when a timeout stopped waiting for it. */
  private read(): Promise<void> {
    this.pending ??= this.reader.read().then((r) => {
      this.pending = undefined;
      if (r.done) this.done = true;
      else this.buf += this.dec.decode(r.value, { stream: true });
    });
    return this.pending;
  }

  /** The next newline-terminated line (without the newline), or the unterminated rest at the end. */
  async next(timeoutMs = 2000): Promise<string | undefined> {
    for (;;) {
      const i = this.buf.indexOf("\n");
      if (i >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        return line;
      }
      if (this.done) {
        const rest = this.buf;
        this.buf = "";
        return rest === "" ? undefined : rest;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
      const got = await Promise.race([this.read(), timeout]);
      clearTimeout(timer);
      if (got === "timeout") throw new Error(`no line within ${timeoutMs} ms (buffered: ${JSON.stringify(this.buf)})`);
    }
  }

  /** Nothing more arrives within `ms`. */
  async quiet(ms = 50): Promise<boolean> {
    if (this.buf.includes("\n")) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
    const got = await Promise.race([this.read(), timeout]);
    clearTimeout(timer);
    return got === "timeout" && !this.buf.includes("\n");
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}
