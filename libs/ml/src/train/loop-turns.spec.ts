import { loopTurns } from './loop-turns';

/** Busy-waits `ms` (synchronous work, as a kernel call is). */
function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('loopTurns', () => {
  it('lets timers run once the interval has passed, not on every call', async () => {
    const turn = loopTurns(30);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      // 2 ms pieces awaiting turn(): well under 30 ms between turns, no timer runs.
      for (let i = 0; i < 5; i++) {
        spin(2);
        await turn();
      }
      expect(ticks).toBe(0);
      // 300 ms of 10-ms pieces: a turn about every 30 ms.
      for (let i = 0; i < 30; i++) {
        spin(10);
        await turn();
      }
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(ticks).toBeLessThanOrEqual(15);
  });
});
