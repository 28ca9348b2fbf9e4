/** The part of src/logger's Logger the WAL and the snapshotter write to; `nopLogger` drops all. */
import type { Logger } from "../logger/zap.js";

export type WalLogger = Pick<Logger, "info" | "warn" | "error">;

export const nopLogger: WalLogger = { info() {}, warn() {}, error() {} };
