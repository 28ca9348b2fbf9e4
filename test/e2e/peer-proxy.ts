/**
 * A TCP proxy in front of every member's peer port, so a test can partition members without
 * touching their code. Each member listens for peer traffic on its real port but advertises the
 * proxy's port (in --initial-advertise-peer-urls and --initial-cluster); members dial each other only
 * at advertised URLs, so every peer connection passes through here.
 *
 * Who is talking: every peer request (stream GETs or WebSocket upgrades, pipeline and snapshot POSTs)
 * carries `X-Server-From: <member id hex>`. The client→member bytes of a connection are scanned for
 * that header until it is found (a connection belongs to one process; a connection first used by a
 * request without it, e.g. a probe, may carry a tagged request later), and the connection is tagged
 * with its source. `partition(m)` destroys every connection from or to `m` and refuses new ones in
 * both directions; `heal()` allows them again. An untagged connection is allowed unless its
 * destination is partitioned.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

// Only a complete header line counts: a chunk may end in the middle of the id.
const HEADER = /x-server-from:[ \t]*([0-9a-f]+)[ \t]*\r?\n/i;

interface Conn {
  /** The route (member name) the connection was made to. */
  dest: string;
  /** The source member's id, once a request on the connection named it. */
  source?: bigint;
  client: Socket;
  upstream: Socket;
}

interface Route {
  name: string;
  server: Server;
  port: number;
  target: number;
}

export class PeerProxy {
  private readonly routes = new Map<string, Route>();
  private readonly conns = new Set<Conn>();
  private readonly ids = new Map<bigint, string>();
  private readonly cut = new Set<string>();
  /** Connections refused or destroyed because of a partition (for tests to see the proxy worked). */
  refused = 0;

  /** Listens on a free loopback port (or `port`) forwarding to 127.0.0.1:`target`; resolves with the port. */
  add(name: string, target: number, port = 0): Promise<number> {
    const server = createServer((client) => this.accept(name, client));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const a = server.address();
        const p = typeof a === "object" && a !== null ? a.port : 0;
        this.routes.set(name, { name, server, port: p, target });
        resolve(p);
      });
    });
  }

  /** The proxy port of a route. */
  port(name: string): number {
    const r = this.routes.get(name);
    if (r === undefined) throw new Error(`no proxy route ${name}`);
    return r.port;
  }

  /** Points a route at another member port (a member restarted on a new listen port). */
  retarget(name: string, target: number): void {
    const r = this.routes.get(name);
    if (r === undefined) throw new Error(`no proxy route ${name}`);
    r.target = target;
  }

  /** Tells the proxy a member's id (decimal or hex string, or bigint), so its connections can be attributed. */
  setId(name: string, id: bigint | string): void {
    this.ids.set(typeof id === "bigint" ? id : BigInt(/^[0-9]+$/.test(id) ? id : `0x${id}`), name);
  }

  /** Learns every member's id from a member's `/v3/cluster/member/list` (names as the members report them). */
  async learnIds(clientURL: string): Promise<void> {
    const r = await fetch(`${clientURL}/v3/cluster/member/list`, { method: "POST", body: "{}" });
    const body = (await r.json()) as { members?: { ID: string; name?: string }[] };
    for (const m of body.members ?? []) if (m.name) this.setId(m.name, m.ID);
  }

  /** Cuts a member (by name, or id as decimal or hex) off from every other member until `heal()`. */
  partition(member: string): void {
    const id = /^[0-9]+$/.test(member) ? BigInt(member) : /^[0-9a-f]+$/i.test(member) ? BigInt(`0x${member}`) : undefined;
    const name = this.routes.has(member) ? member : id === undefined ? undefined : this.nameOf(id);
    if (name === undefined) throw new Error(`partition: unknown member ${member}`);
    this.cut.add(name);
    for (const c of this.conns) if (this.blocked(c)) this.drop(c);
  }

  /** Allows every connection again. */
  heal(): void {
    this.cut.clear();
  }

  /** Live connections, by "source→dest" (source "?" while unknown); for debugging. */
  describe(): string[] {
    return [...this.conns].map((c) => `${c.source === undefined ? "?" : (this.nameOf(c.source) ?? c.source.toString(16))}→${c.dest}`).sort();
  }

  async close(): Promise<void> {
    for (const c of this.conns) this.drop(c, false);
    await Promise.all([...this.routes.values()].map((r) => new Promise<void>((res) => r.server.close(() => res()))));
    this.routes.clear();
  }

  private nameOf(id: bigint): string | undefined {
    return this.ids.get(id);
  }

  private blocked(c: Conn): boolean {
    if (this.cut.has(c.dest)) return true;
    if (c.source === undefined) return false;
    const src = this.nameOf(c.source);
    return src !== undefined && this.cut.has(src);
  }

  private drop(c: Conn, count = true): void {
    if (count) this.refused++;
    c.client.destroy();
    c.upstream.destroy();
    this.conns.delete(c);
  }

  private accept(dest: string, client: Socket): void {
    const route = this.routes.get(dest)!;
    if (this.cut.has(dest)) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(route.target, "127.0.0.1");
    const c: Conn = { dest, client, upstream };
    this.conns.add(c);
    let tail = "";
    client.on("data", (chunk: Buffer) => {
      if (c.source === undefined) {
        // Keep a little of the previous chunk so a header split across chunks is still seen.
        const text = tail + chunk.toString("latin1");
        const m = HEADER.exec(text);
        if (m) c.source = BigInt(`0x${m[1]}`);
        else tail = text.slice(-64);
      }
      if (this.blocked(c)) return this.drop(c);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (chunk: Buffer) => {
      if (this.blocked(c)) return this.drop(c);
      if (!client.write(chunk)) upstream.pause();
    });
    client.on("drain", () => upstream.resume());
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.conns.delete(c);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  }
}
