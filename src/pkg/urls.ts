/**
 * etcd's URL lists (client/pkg/types.NewURLs, URLsMap) and the bind/advertise host checks of
 * embed.Config.Validate, over strings. A URL is kept as Go's url.URL.String() would print it
 * (scheme lower-cased, the rest as given); lists come back sorted, as NewURLs sorts them.
 */

export class URLError extends Error {}

interface ParsedURL {
  scheme: string;
  host: string;
  path: string;
  /** The URL as Go prints it. */
  text: string;
}

/** Go's url.Parse, reduced to what etcd's URL flags can meet. */
function parseURL(raw: string): ParsedURL {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(raw);
  if (!m) {
    const slash = raw.indexOf("/");
    const firstSeg = slash < 0 ? raw : raw.slice(0, slash);
    if (firstSeg.includes(":")) {
      throw new URLError(`parse ${JSON.stringify(raw)}: first path segment in URL cannot contain colon`);
    }
    return { scheme: "", host: "", path: raw, text: raw };
  }
  const scheme = m[1]!.toLowerCase();
  let rest = m[2]!;
  if (!rest.startsWith("//")) return { scheme, host: "", path: "", text: `${scheme}:${rest}` };
  rest = rest.slice(2);
  const end = rest.search(/[/?#]/);
  const host = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? "" : rest.slice(end);
  const path = /^[^?#]*/.exec(tail)![0];
  return { scheme, host, path, text: `${scheme}://${host}${tail}` };
}

/**
 * Go's net.SplitHostPort: "host:port", "[v6]:port", ":port". Returns null where Go errors
 * ("missing port in address", "too many colons in address").
 */
export function splitHostPort(hostport: string): { host: string; port: string } | null {
  if (hostport.startsWith("[")) {
    const close = hostport.indexOf("]");
    if (close < 0 || hostport[close + 1] !== ":") return null;
    return { host: hostport.slice(1, close), port: hostport.slice(close + 2) };
  }
  const i = hostport.lastIndexOf(":");
  if (i < 0) return null;
  const host = hostport.slice(0, i);
  if (host.includes(":") || host.includes("[") || host.includes("]")) return null;
  return { host, port: hostport.slice(i + 1) };
}

/** etcd's types.NewURLs: validates each comma-separated entry and sorts them. */
export function newURLs(strs: string[]): string[] {
  if (strs.length === 0) throw new URLError("no valid URLs given");
  const out: string[] = [];
  for (const s of strs) {
    const input = s.trim();
    const u = parseURL(input);
    switch (u.scheme) {
      case "http":
      case "https":
        if (splitHostPort(u.host) === null) {
          throw new URLError(`URL address does not have the form "host:port": ${input}`);
        }
        if (u.path !== "") throw new URLError(`URL must not contain a path: ${input}`);
        break;
      case "unix":
      case "unixs":
        break;
      default:
        throw new URLError(`URL scheme must be http, https, unix, or unixs: ${input}`);
    }
    out.push(u.text);
  }
  return out.sort();
}

/** flags.UniqueURLs.Set: a comma list, deduplicated; `exceptions` (such as "*") pass unparsed. */
export function uniqueURLs(s: string, exceptions: readonly string[] = []): string[] {
  if (exceptions.includes(s)) return [s];
  return [...new Set(newURLs(s.split(",")))];
}

/** Go's net.ParseIP, enough to tell an IP literal from a host name. */
export function isIP(host: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host)) {
    return host.split(".").every((p) => Number(p) <= 255 && !(p.length > 1 && p[0] === "0"));
  }
  if (!host.includes(":")) return false;
  // IPv6: at most one "::", hex groups of up to 4 digits, an optional trailing dotted IPv4.
  let h = host;
  let groups = 8;
  const v4 = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(h);
  if (v4) {
    if (!isIP(v4[1]!)) return false;
    h = h.slice(0, h.length - v4[1]!.length) + "0:0";
  }
  const dbl = h.split("::");
  if (dbl.length > 2) return false;
  const parts = dbl.flatMap((p) => (p === "" ? [] : p.split(":")));
  if (!parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p))) return false;
  return dbl.length === 2 ? parts.length < groups : parts.length === groups;
}

/** embed's checkBindURLs: a listen URL's host must be an IP literal or "localhost". */
export function checkBindURLs(urls: readonly string[]): void {
  for (const raw of urls) {
    const u = parseURL(raw);
    if (u.scheme === "unix" || u.scheme === "unixs") continue;
    const hp = splitHostPort(u.host);
    if (hp === null) throw new URLError(`address ${u.host}: missing port in address`);
    if (hp.host === "localhost") continue;
    if (!isIP(hp.host)) throw new URLError(`expected IP in URL for binding (${raw})`);
  }
}

/** embed's checkHostURLs: an advertised URL needs a non-empty host. */
export function checkHostURLs(urls: readonly string[]): void {
  for (const raw of urls) {
    const u = parseURL(raw);
    const hp = splitHostPort(u.host);
    if (hp === null) throw new URLError(`address ${u.host}: missing port in address`);
    if (hp.host === "") throw new URLError(`unexpected empty host (${raw})`);
  }
}

/** The host and port a listen URL binds ("localhost" kept as given). */
export function bindAddress(raw: string): { scheme: string; host: string; port: number } {
  const u = parseURL(raw);
  const hp = splitHostPort(u.host) ?? { host: u.host, port: "" };
  return { scheme: u.scheme, host: hp.host, port: Number(hp.port) };
}

/**
 * etcd's types.NewURLsMap: "name=url,name=url,…" (a name may repeat); each name's URLs validated
 * and sorted. Entries without "=" get an empty URL (which then fails validation, as in etcd).
 */
export function newURLsMap(s: string): Map<string, string[]> {
  const raw = new Map<string, string[]>();
  for (const item of s.split(",")) {
    if (item === "") continue;
    const i = item.indexOf("=");
    const [k, v] = i >= 0 ? [item.slice(0, i), item.slice(i + 1)] : [item, ""];
    raw.set(k, [...(raw.get(k) ?? []), v]);
  }
  const out = new Map<string, string[]>();
  for (const [k, v] of raw) out.set(k, newURLs(v));
  return out;
}

/** types.URLsMap.String(): sorted "name=url" pairs joined by ",". */
export function urlsMapString(m: ReadonlyMap<string, readonly string[]>): string {
  const pairs: string[] = [];
  for (const [name, urls] of m) for (const u of urls) pairs.push(`${name}=${u}`);
  return pairs.sort().join(",");
}
