/**
 * One running member: the EtcdServer (src/etcdserver/server.ts) and its listeners — the client
 * app (src/api/etcdhttp `newClientApp`) on every --listen-client-urls, the peer app on every
 * --listen-peer-urls. Stopping closes the listeners first (no new requests), then the server.
 */
import { openNodeStorage } from "./data-dir.js";
import type { EtcdConfig, ListenConfig } from "../../src/etcdmain/config.js";
import type { ServerConfig } from "../../src/etcdserver/config.js";
import type { Logger } from "../../src/logger/zap.js";
import { type EtcdServer, startEtcdServer } from "../../src/etcdserver/server.js";
import { newClientApp } from "../../src/api/etcdhttp/client.js";
import { newPeerApp } from "../../src/api/etcdhttp/peer.js";
import type { ServerDeps } from "../../src/etcdserver/server.js";
import { nodeClock } from "./clock.js";
import { nodeProcessStats } from "./process-stats.js";
import { nodePeerDialer } from "./peer-dialer.js";
import { type FetchApp, type Listener, serveURL, upgradeWebSocket } from "./serve.js";

/** What the member needs of the server module (src/etcdserver/server.ts). */
export interface ServerHandle {
  stop(): Promise<void>;
  /** Resolves once the server has stopped, also by itself (removed from the cluster). */
  done?: Promise<void>;
  /** Resolves once the member has published itself through raft (etcd's ReadyNotify). */
  ready?: Promise<void>;
}

/** The server and app factories the member wires together. */
export interface Wiring {
  startEtcdServer(
    cfg: ServerConfig,
    deps: ServerDeps,
  ): ServerHandle | Promise<ServerHandle>;
  newClientApp(
    server: ServerHandle,
    opts: {
      upgradeWebSocket: typeof upgradeWebSocket;
      logger: Logger;
      cors: string[];
      hostWhitelist: string[];
      enableGrpcGateway: boolean;
    },
  ): FetchApp;
  /** The peer handler (raft streams and posts, /members, /version, /leases…); absent: no peer listeners. */
  newPeerApp?(server: ServerHandle, opts: { upgradeWebSocket: typeof upgradeWebSocket; logger: Logger }): FetchApp;
}

/** The real server, client app and peer app (src/etcdserver/server.ts, src/api/etcdhttp/client.ts, peer.ts). */
export async function loadWiring(): Promise<Wiring> {
  return {
    newPeerApp: (server, opts) => newPeerApp(server as EtcdServer, { upgradeWebSocket: opts.upgradeWebSocket, logger: opts.logger }),
    startEtcdServer: (cfg, deps) => startEtcdServer(cfg, deps),
    newClientApp: (server, opts) =>
      // Watch progress timers use the Node clock.
      newClientApp(server as EtcdServer, {
        upgradeWebSocket: opts.upgradeWebSocket,
        setTimer: nodeClock.setTimer,
        cors: opts.cors,
        hostWhitelist: opts.hostWhitelist,
      }),
  };
}

export interface Member {
  server: ServerHandle;
  clientListeners: Listener[];
  peerListeners: Listener[];
  stop(): Promise<void>;
}

/** Starts the server, then serves it; on a listener failure, whatever started is stopped again. */
export async function startMember(
  cfg: { config: EtcdConfig; server: ServerConfig; listen: ListenConfig },
  lg: Logger,
  wiring?: Wiring,
): Promise<Member> {
  const w = wiring ?? (await loadWiring());
  lg.info("starting an etcd server", {
    name: cfg.server.name,
    "data-dir": cfg.server.dataDir,
    "initial-cluster": [...cfg.server.initialCluster].map(([n, us]) => us.map((u) => `${n}=${u}`).join(",")).join(","),
    "initial-cluster-state": cfg.server.initialClusterState,
    "listen-client-urls": cfg.listen.listenClientUrls,
    "listen-peer-urls": cfg.listen.listenPeerUrls,
    "advertise-client-urls": cfg.listen.advertiseClientUrls,
    "initial-advertise-peer-urls": cfg.listen.advertisePeerUrls,
  });
  const v = cfg.config.values;
  // An explicitly empty --data-dir: an ephemeral member (the server's memory WAL and backend).
  const storage =
    cfg.server.dataDir === ""
      ? undefined
      : openNodeStorage(cfg.server.dataDir, {
          walDir: (v.get("wal-dir") as string | undefined) ?? "",
          maxWals: (v.get("max-wals") as number | undefined) ?? 5,
          maxSnapshots: (v.get("max-snapshots") as number | undefined) ?? 5,
          batchInterval: (v.get("backend-batch-interval") as number | undefined) ?? 0,
          batchLimit: (v.get("backend-batch-limit") as number | undefined) ?? 0,
          logger: lg,
        });
  if (storage?.kind === "member") {
    lg.info("found a member directory; restarting it (the initial-cluster settings are ignored)", { "data-dir": cfg.server.dataDir });
  }
  let server: ServerHandle;
  try {
    server = await w.startEtcdServer(cfg.server, {
      clock: nodeClock,
      logger: lg,
      backend: storage?.backend,
      disk: storage?.disk,
      peer: { dialer: nodePeerDialer },
      processStats: nodeProcessStats(),
    });
  } catch (e) {
    await storage?.backend.close().catch(() => {});
    throw e;
  }
  const clientListeners: Listener[] = [];
  const peerListeners: Listener[] = [];
  const stopListeners = async () => {
    await Promise.all([...clientListeners, ...peerListeners].map((l) => l.close()));
  };
  try {
    if (w.newPeerApp) {
      const peerApp = w.newPeerApp(server, { upgradeWebSocket, logger: lg });
      for (const u of cfg.listen.listenPeerUrls) {
        peerListeners.push(await serveURL(peerApp, u));
        lg.info("serving peer traffic", { address: u });
      }
    } else {
      lg.warn("peer listeners not started: the peer handler is not built yet", { "listen-peer-urls": cfg.listen.listenPeerUrls });
    }
    const app = w.newClientApp(server, {
      upgradeWebSocket,
      logger: lg,
      cors: cfg.listen.cors,
      hostWhitelist: cfg.listen.hostWhitelist,
      enableGrpcGateway: cfg.listen.enableGrpcGateway,
    });
    // etcd binds the client listeners at once but serves them only once the member has published
    // itself through raft (serveCtx.serve waits on ReadyNotify): requests wait until then.
    const ready = server.ready;
    const clientApp: FetchApp =
      ready === undefined ? app : { fetch: (req, env) => ready.then(() => app.fetch(req, env)) };
    for (const u of cfg.listen.listenClientUrls) {
      clientListeners.push(await serveURL(clientApp, u));
      lg.info("serving client traffic insecurely; this is strongly discouraged!", { address: u });
    }
  } catch (e) {
    await stopListeners();
    await server.stop();
    throw e;
  }
  return {
    server,
    clientListeners,
    peerListeners,
    async stop() {
      await stopListeners();
      await server.stop();
    },
  };
}
