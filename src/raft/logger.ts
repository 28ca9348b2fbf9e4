/**
 * Where the Raft core writes what it does. Defaults to silence; the server passes its own logger.
 * `panic` is for broken invariants: it must throw (etcd's raft panics there).
 */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const discardLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A broken invariant: etcd's raft panics here, and so do we. */
export function panic(msg: string): never {
  throw new Error(`raft: ${msg}`);
}
