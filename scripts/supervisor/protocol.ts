/**
 * What the supervisor and its children's `parent-watch` preload agree on. The supervisor tells a child
 * "you are being stopped" (this message) just before its SIGTERM, so that the preload, should the
 * launcher then vanish mid-drain, does not send the child a second SIGTERM (which the worker takes for
 * "exit now").
 */
export const STOPPING_NOTICE = { modelsmith: 'stopping' } as const;

/** Set in each child's environment: how long the preload lets the child drain once the launcher is gone. */
export const GRACE_ENV = 'MODELSMITH_SUPERVISED_GRACE_MS';

export function isStoppingNotice(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { modelsmith?: unknown }).modelsmith === STOPPING_NOTICE.modelsmith
  );
}
