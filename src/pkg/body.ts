/**
 * Reading a request or response body whole, with a size limit (the gateway's and the peer
 * handlers' bodies).
 */

/**
 * Reads a whole body, at most `limit` bytes; undefined when it is longer (the rest is not read).
 * Rejects when the body cannot be read.
 */
export async function readAllLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}
