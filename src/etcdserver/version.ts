/**
 * The versions edgecd reports (etcd's version package): the etcd server version whose API and
 * behaviour it follows, and the cluster version. Clients (etcdctl, client libraries) gate features
 * on these, so they name the etcd release we match, not edgecd's own package version.
 */
export const ServerVersion = "3.5.0";
export const ClusterVersion = "3.5.0";
/** etcd's MinClusterVersion: the oldest cluster version a member of this version can join. */
export const MinClusterVersion = "3.0.0";
/** edgecd's own version (package.json). */
export const EdgecdVersion = "0.1.0";
