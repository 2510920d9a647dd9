import { loopTurns } from './loop-turns';

/**
 * Whether awaiting `turn()` let the event loop run: an immediate scheduled before the call runs
 * before it resolves only when it took a turn (a plain resolve runs microtasks only).
 */
async function tookTurn(turn: () => Promise<void>): Promise<boolean> {
  let ran = false;
  const immediate = setImmediate(() => {
    ran = true;
  });
  await turn();
  clearImmediate(immediate);
  return ran;
}

describe('loopTurns', () => {
  it('lets the event loop run once the interval has passed on its clock, not on every call', async () => {
    let t = 1000;
    const turn = loopTurns(30, () => t);
    // Pieces of 10 ms: no turn until 30 ms have passed since the start, then again 30 ms after it.
    const seen: boolean[] = [];
    for (const step of [10, 10, 10, 10, 19, 1, 0]) {
      t += step;
      seen.push(await tookTurn(turn));
    }
    expect(seen).toEqual([false, false, true, false, false, true, false]);
    // loopTurns(0): a turn on every call.
    const every = loopTurns(0, () => t);
    expect([await tookTurn(every), await tookTurn(every)]).toEqual([true, true]);
  });
});
