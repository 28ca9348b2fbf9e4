/**
 * The partitioning peer proxy on its own, in front of two plain HTTP servers standing in for members
 * "a" (id 0xaa) and "b" (id 0xbb): connections are attributed by their X-Server-From header (also
 * when it comes split across packets, or on a keep-alive connection first used without it), a
 * partition cuts live connections and refuses new ones in both directions, and heal allows them again.
 */
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PeerProxy } from "./peer-proxy.js";

const servers: Server[] = [];
const proxy = new PeerProxy();
let pa = 0;
let pb = 0;

function server(name: string): Promise<number> {
  const s = createServer((req, res) => res.end(`${name}:${req.headers["x-server-from"] ?? "-"}`));
  servers.push(s);
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as { port: number }).port)));
}

beforeAll(async () => {
  pa = await proxy.add("a", await server("a"));
  pb = await proxy.add("b", await server("b"));
  proxy.setId("a", "aa");
  proxy.setId("b", "187"); // decimal 187 = 0xbb, as member/list prints ids
});

afterAll(async () => {
  await proxy.close();
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** A raw keep-alive connection: `send` writes `chunks` (one write each) and resolves with the answer body, or "closed". */
function conn(port: number): { send(...chunks: string[]): Promise<string>; socket: Socket } {
  const socket = connect(port, "127.0.0.1");
  let buf = "";
  let waiter: (() => void) | undefined;
  let closed = false;
  socket.on("data", (d) => {
    buf += d.toString();
    waiter?.();
  });
  socket.on("close", () => {
    closed = true;
    waiter?.();
  });
  socket.on("error", () => undefined);
  return {
    socket,
    async send(...chunks) {
      buf = "";
      for (const c of chunks) {
        if (closed) break;
        socket.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
      for (;;) {
        const m = /\r\n\r\n([\s\S]*)$/.exec(buf);
        const len = /content-length: (\d+)/i.exec(buf);
        if (m && len && m[1]!.length >= Number(len[1])) return m[1]!;
        if (closed) return "closed";
        await new Promise<void>((r) => (waiter = r));
      }
    },
  };
}

const req = (from?: string): string => `GET /raft/stream HTTP/1.1\r\nHost: x\r\n${from ? `X-Server-From: ${from}\r\n` : ""}\r\n`;

it("attributes connections by X-Server-From, partitions both directions, and heals", async () => {
  const ab = conn(pb); // a → b
  expect(await ab.send(req("aa"))).toBe("b:aa");
  const ba = conn(pa); // b → a
  expect(await ba.send(req("bb"))).toBe("a:bb");
  const reused = conn(pb); // first an untagged request (a probe), later a's raft traffic
  expect(await reused.send(req())).toBe("b:-");
  const split = conn(pb);

  proxy.partition("a");
  // Live connections from and to a are cut.
  expect(await ab.send(req("aa"))).toBe("closed");
  expect(await ba.send(req("bb"))).toBe("closed");
  // An untagged connection to b stays until it shows it comes from a, even split across packets.
  expect(await reused.send(req())).toBe("b:-");
  expect(await reused.send(req("aa"))).toBe("closed");
  expect(await split.send("GET /raft HTTP/1.1\r\nHost: x\r\nX-Serv", "er-From: a", "a\r\n\r\n")).toBe("closed");
  // New connections to a are refused; others' connections to b are not.
  expect(await conn(pa).send(req("bb"))).toBe("closed");
  expect(await conn(pb).send(req("cc"))).toBe("b:cc");
  expect(proxy.refused).toBeGreaterThanOrEqual(5);

  proxy.heal();
  expect(await conn(pb).send(req("aa"))).toBe("b:aa");
  expect(await conn(pa).send(req("bb"))).toBe("a:bb");
  for (const c of [ab, ba, reused, split]) c.socket.destroy();
});

it("partition accepts a member's name or its id in hex or decimal", () => {
  expect(() => proxy.partition("nobody")).toThrow(/unknown member/);
  proxy.partition("bb");
  proxy.heal();
  proxy.partition("170"); // 0xaa
  proxy.heal();
});
