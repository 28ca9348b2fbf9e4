/** etcd's snap package: see snapshotter.ts. */
export * from "./snappb.js";
export * from "./snapshotter.js";
