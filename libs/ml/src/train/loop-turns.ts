import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long ML code runs synchronous kernels before it lets the event loop take a turn (ms). */
export const YIELD_MS = 50;

/**
 * A function to await between pieces of synchronous work (a training step, an optimizer iteration,
 * a forward pass): once `everyMs` have passed since the last turn it lets the event loop run (the
 * worker's job-lock renewal, cancel poll and database calls), otherwise it returns at once. A
 * promise that resolves without a turn only runs microtasks, which is why an async loop over
 * in-memory data still held a worker's loop for 13.7 s at once before these turns. `now`: the clock
 * (a spec's own).
 */
export function loopTurns(everyMs = YIELD_MS, now: () => number = Date.now): () => Promise<void> {
  let last = now();
  return async () => {
    if (now() - last < everyMs) return;
    await nextTurn();
    last = now();
  };
}
