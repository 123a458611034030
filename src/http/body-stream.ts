/**
 * Reading a request body up to a byte limit without ever holding more than the limit: the body
 * stream is read chunk by chunk and cancelled at the first chunk past it.
 * @module
 */

/**
 * The body of `req` as bytes, or `undefined` once it grows past `limit` bytes (then the stream
 * is cancelled and what was kept is dropped; Bun discards the rest as it arrives, see `readJson`).
 */
export async function readLimited(req: Request, limit: number): Promise<Uint8Array | undefined> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      chunks.length = 0;
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
