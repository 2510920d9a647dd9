import { backoffDelay, RestartPolicy, type RestartPolicyOptions } from './restart-policy';

const options: RestartPolicyOptions = {
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  maxDeaths: 6,
  windowMs: 60_000,
};

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('stays at the cap for absurd death counts (no Infinity or NaN)', () => {
    expect(backoffDelay(5_000, options)).toBe(1_000);
  });
});

describe('RestartPolicy', () => {
  it('restarts with growing delays, then gives up at the maxDeaths-th death within the window', () => {
    const policy = new RestartPolicy(options);
    const decisions = [0, 1_000, 2_000, 3_000, 4_000, 5_000].map((t) => policy.recordDeath(t));
    expect(decisions.slice(0, 5).map((d) => (d.action === 'restart' ? d.delayMs : d.action))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    const last = decisions[5];
    expect(last.action).toBe('give-up');
    expect(last.deathsInWindow).toBe(6);
    if (last.action === 'give-up') expect(last.reason).toBe('died 6 times within 60 s');
  });

  it('forgets deaths older than the window: a child that stayed up starts again from the first delay', () => {
    const policy = new RestartPolicy(options);
    for (const t of [0, 1_000, 2_000, 3_000, 4_000]) expect(policy.recordDeath(t).action).toBe('restart');
    // 60 s after the fifth death: the earlier five are out of the window.
    const later = policy.recordDeath(64_000);
    expect(later).toEqual({ action: 'restart', delayMs: 100, deathsInWindow: 1 });
  });

  it('counts only the deaths inside the sliding window', () => {
    const policy = new RestartPolicy(options);
    policy.recordDeath(0);
    policy.recordDeath(30_000);
    // At 70 s the death at 0 has left the window, the one at 30 s has not.
    expect(policy.recordDeath(70_000)).toEqual({ action: 'restart', delayMs: 200, deathsInWindow: 2 });
  });

  it('with maxDeaths 1 gives up at the first death', () => {
    expect(new RestartPolicy({ ...options, maxDeaths: 1 }).recordDeath(0).action).toBe('give-up');
  });

  it('rejects options that cannot work', () => {
    expect(() => new RestartPolicy({ ...options, maxDeaths: 0 })).toThrow(RangeError);
    expect(() => new RestartPolicy({ ...options, maxDelayMs: 10 })).toThrow(RangeError);
    expect(() => new RestartPolicy({ ...options, windowMs: 0 })).toThrow(RangeError);
  });
});
