/** etcd's wal package: see wal.ts for the life cycle, encoder.ts for the byte format. */
export * from "./errors.js";
export * from "./files.js";
export * from "./record.js";
export * from "./encoder.js";
export * from "./decoder.js";
export * from "./util.js";
export * from "./logger.js";
export * from "./purge.js";
export * from "./repair.js";
export * from "./wal.js";
export { MemoryFS, type CrashOptions, type MemoryFSStats } from "./memory-fs.js";
