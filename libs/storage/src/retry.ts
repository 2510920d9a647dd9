const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Runs `fn`, and once more if it failed because the connection was reset. A keep-alive socket the
 * server closed while idle is reused by the client and reset on the next request; one retry on a
 * fresh socket covers that race. Only for requests that are safe to repeat (all S3 calls made here
 * are: GET/HEAD/PUT/DELETE of whole objects or parts; a repeated multipart initiate leaves at most an
 * orphan upload that the bucket's lifecycle rules clean).
 */
export async function retryOnReset<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
    if (typeof code !== 'string' || !RESET_CODES.has(code)) throw e;
    return fn();
  }
}
