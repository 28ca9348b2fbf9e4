/**
 * `edgecd snapshot save|restore` (etcdctl's save and etcdutl's restore) on Node:
 *
 *   edgecd snapshot save FILE [--endpoints http://127.0.0.1:2379]
 *   edgecd snapshot restore FILE [--name default] [--data-dir NAME.etcd] [--wal-dir DIR]
 *       [--initial-cluster NAME=URL,...] [--initial-cluster-token etcd-cluster]
 *       [--initial-advertise-peer-urls URL,...] [--skip-hash-check]
 *
 * save streams /v3/maintenance/snapshot into FILE (the backend snapshot and its SHA-256); restore
 * makes a new member's data dir from it (src/etcdutl/snapshot-restore.ts), refusing a non-empty dir.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { restoreSnapshot } from "../../src/etcdutl/snapshot-restore.js";
import { openLmdbBackend } from "../storage/lmdb/lmdb-backend.js";
import { NodeFS } from "../storage/fs/node-fs.js";

type Out = { out: (s: string) => void; err: (s: string) => void };

function parseFlags(args: readonly string[], bools: readonly string[]): { pos: string[]; flags: Map<string, string> } {
  const pos: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      pos.push(a);
      continue;
    }
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    if (eq >= 0) flags.set(body.slice(0, eq), body.slice(eq + 1));
    else if (bools.includes(body)) flags.set(body, "true");
    else {
      if (i + 1 >= args.length) throw new Error(`flag needs an argument: --${body}`);
      flags.set(body, args[++i]!);
    }
  }
  return { pos, flags };
}

function parseCluster(s: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const part of s.split(",").filter((x) => x !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`invalid initial cluster entry ${JSON.stringify(part)} (want name=url)`);
    const name = part.slice(0, eq);
    m.set(name, [...(m.get(name) ?? []), part.slice(eq + 1)]);
  }
  return m;
}

async function save(file: string, endpoint: string, o: Out): Promise<number> {
  const r = await fetch(`${endpoint.replace(/\/$/, "")}/v3/maintenance/snapshot`, { method: "POST", body: "{}" });
  if (r.status !== 200) {
    o.err(`Error: ${await r.text()}\n`);
    return 1;
  }
  const chunks: Buffer[] = [];
  for (const line of (await r.text()).split("\n")) {
    if (line.trim() === "") continue;
    const msg = JSON.parse(line) as { result?: { blob?: string }; error?: { message: string } };
    if (msg.error) {
      o.err(`Error: ${msg.error.message}\n`);
      return 1;
    }
    chunks.push(Buffer.from(msg.result?.blob ?? "", "base64"));
  }
  const data = Buffer.concat(chunks);
  const part = `${file}.part`;
  writeFileSync(part, data);
  renameSync(part, file);
  o.out(`Snapshot saved at ${file}\n`);
  return 0;
}

async function restore(file: string, flags: Map<string, string>, o: Out): Promise<number> {
  const name = flags.get("name") ?? "default";
  const peerURLs = (flags.get("initial-advertise-peer-urls") ?? "http://localhost:2380").split(",");
  const initialCluster = parseCluster(flags.get("initial-cluster") ?? `${name}=${peerURLs.join(`,${name}=`)}`);
  const dataDir = flags.get("data-dir") ?? `${name}.etcd`;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    o.err(`Error: data-dir ${JSON.stringify(dataDir)} exists and is not empty\n`);
    return 1;
  }
  const snapDir = join(dataDir, "member", "snap");
  const backend = openLmdbBackend(join(snapDir, "db"));
  try {
    const cluster = await restoreSnapshot(new Uint8Array(readFileSync(file)), backend, {
      fs: new NodeFS(),
      walDir: flags.get("wal-dir") || join(dataDir, "member", "wal"),
      snapDir,
      maxWals: 5,
      maxSnapshots: 5,
    }, {
      name,
      initialCluster,
      initialClusterToken: flags.get("initial-cluster-token") ?? "etcd-cluster",
      skipHashCheck: flags.get("skip-hash-check") === "true",
    });
    o.out(`restored snapshot ${file} into ${dataDir}: cluster ${cluster.clusterID.toString(16)}, member ${cluster.memberByName(name)!.id.toString(16)}\n`);
    return 0;
  } catch (e) {
    o.err(`Error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await backend.close();
  }
}

export async function snapshotCommand(args: readonly string[], o: Out): Promise<number> {
  const [sub, ...rest] = args;
  try {
    const { pos, flags } = parseFlags(rest, ["skip-hash-check"]);
    if ((sub !== "save" && sub !== "restore") || pos.length !== 1) {
      o.err("Usage: edgecd snapshot save FILE [--endpoints URL]\n       edgecd snapshot restore FILE [--name N] [--data-dir DIR] [--initial-cluster N=URL,...] [--initial-cluster-token T] [--initial-advertise-peer-urls URL] [--skip-hash-check]\n");
      return 2;
    }
    if (sub === "save") return await save(pos[0]!, (flags.get("endpoints") ?? "http://127.0.0.1:2379").split(",")[0]!, o);
    return await restore(pos[0]!, flags, o);
  } catch (e) {
    o.err(`Error: ${(e as Error).message}\n`);
    return 1;
  }
}
