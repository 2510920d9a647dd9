/** Message of anything thrown (errors from other realms, e.g. Node internals under jest, included). */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string')
    return err.message;
  return String(err);
}

export function asError(err: unknown): Error {
  return typeof err === 'object' && err !== null && 'message' in err
    ? (err as Error)
    : new Error(String(err));
}
