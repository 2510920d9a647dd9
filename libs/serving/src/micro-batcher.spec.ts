import { MicroBatcher } from './micro-batcher';
import { ServingClosedError, ServingOverloadedError, ServingTimeoutError } from './errors';

function doubler(
  opts: Partial<{ maxBatchSize: number; maxBatchWaitMs: number; maxQueued: number; delayMs: number }> = {},
) {
  const calls: number[][] = [];
  const batcher = new MicroBatcher<number, number>({
    maxBatchSize: opts.maxBatchSize ?? 4,
    maxBatchWaitMs: opts.maxBatchWaitMs ?? 5,
    maxQueued: opts.maxQueued ?? 100,
    run: async (items) => {
      calls.push(items);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
      return items.map((x) => x * 2);
    },
  });
  return { batcher, calls };
}

const later = (ms = 5_000) => Date.now() + ms;

describe('MicroBatcher', () => {
  it('packs concurrent requests into shared batches and gives each its own outputs in order', async () => {
    const { batcher, calls } = doubler({ maxBatchSize: 4, maxBatchWaitMs: 20 });
    const results = await Promise.all([
      batcher.submit([1, 2], later()),
      batcher.submit([3], later()),
      batcher.submit([4, 5, 6], later()),
    ]);
    expect(results).toEqual([[2, 4], [6], [8, 10, 12]]);
    // 6 items, batches of at most 4: two runs for three requests; a request may span batches.
    expect(calls).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    expect(batcher.stats()).toMatchObject({ batches: 2, items: 6, queued: 0 });
  });

  it('runs at once when idle with no wait, and collects what arrives during a batch into the next', async () => {
    const { batcher, calls } = doubler({ maxBatchSize: 8, maxBatchWaitMs: 0, delayMs: 30 });
    const first = batcher.submit([1], later());
    await new Promise((r) => setTimeout(r, 5));
    const rest = [batcher.submit([2], later()), batcher.submit([3], later()), batcher.submit([4], later())];
    await Promise.all([first, ...rest]);
    expect(calls).toEqual([[1], [2, 3, 4]]);
  });

  it('sheds a request that would pass the queue limit, with a retry hint', async () => {
    const { batcher } = doubler({ maxQueued: 3, maxBatchWaitMs: 50 });
    const queued = batcher.submit([1, 2], later());
    const error = await batcher.submit([3, 4], later()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServingOverloadedError);
    expect((error as ServingOverloadedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await expect(queued).resolves.toEqual([2, 4]);
    await expect(batcher.submit([3], later())).resolves.toEqual([6]);
  });

  it('takes a request out of the queue at its deadline', async () => {
    const { batcher, calls } = doubler({ maxBatchWaitMs: 200 });
    const late = batcher.submit([1], Date.now() + 20);
    await expect(late).rejects.toBeInstanceOf(ServingTimeoutError);
    expect(batcher.queued).toBe(0);
    await expect(batcher.submit([2], Date.now() - 1)).rejects.toBeInstanceOf(ServingTimeoutError);
    expect(calls).toEqual([]);
  });

  it('treats an Infinity or far deadline as none (setTimeout would fire those after 1 ms)', async () => {
    const { batcher } = doubler({ maxBatchSize: 2, maxBatchWaitMs: 0, delayMs: 15 });
    const far = Date.now() + 40 * 24 * 3600 * 1000;
    await expect(
      Promise.all([batcher.submit([1, 2, 3, 4, 5], Number.POSITIVE_INFINITY), batcher.submit([6], far)]),
    ).resolves.toEqual([[2, 4, 6, 8, 10], [12]]);
    await expect(batcher.submit([1], Number.NaN)).rejects.toBeInstanceOf(RangeError);
  });

  it('lets a request whose items are all in the running pass finish past its deadline; drops one still queued', async () => {
    const { batcher, calls } = doubler({ maxBatchSize: 2, maxBatchWaitMs: 0, delayMs: 60 });
    const running = batcher.submit([1, 2], Date.now() + 20);
    const queued = batcher.submit([3], Date.now() + 20).catch((e: unknown) => e);
    await expect(running).resolves.toEqual([2, 4]);
    expect(await queued).toBeInstanceOf(ServingTimeoutError);
    expect(calls).toEqual([[1, 2]]);
    expect(batcher.queued).toBe(0);
  });

  it('fails every request of a failed batch and keeps serving afterwards', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>({
      maxBatchSize: 2,
      maxBatchWaitMs: 10,
      maxQueued: 10,
      run: async (items) => {
        if (fail) throw new Error('boom');
        return items;
      },
    });
    const a = batcher.submit([1, 2, 3], later());
    await expect(a).rejects.toThrow('boom');
    expect(batcher.queued).toBe(0);
    fail = false;
    await expect(batcher.submit([7], later())).resolves.toEqual([7]);
  });

  it('refuses queued and new work once closed', async () => {
    const { batcher } = doubler({ maxBatchWaitMs: 100 });
    const queued = batcher.submit([1], later());
    batcher.close();
    await expect(queued).rejects.toBeInstanceOf(ServingClosedError);
    await expect(batcher.submit([1], later())).rejects.toBeInstanceOf(ServingClosedError);
  });
});

describe('MicroBatcher with a synchronous model (like a wasm forward pass)', () => {
  it('batches requests that become ready in the same event-loop turn even with no wait', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>({
      maxBatchSize: 16,
      maxBatchWaitMs: 0,
      maxQueued: 100,
      run: async (items) => {
        calls.push(items);
        const until = Date.now() + 5;
        while (Date.now() < until); // blocks the event loop like model.predict on wasm
        return items;
      },
    });
    // Eight requests completing their (async) preprocessing in the same turn, then eight more while the first pass blocks.
    const first = [1, 2, 3, 4, 5, 6, 7, 8].map((i) =>
      Promise.resolve().then(() => batcher.submit([i], Date.now() + 5_000)),
    );
    const later = new Promise<number[][]>((done) =>
      setTimeout(
        () =>
          void Promise.all([9, 10, 11, 12].map((i) => batcher.submit([i], Date.now() + 5_000))).then(done),
        1,
      ),
    );
    await Promise.all([...first, later]);
    // The eight that became ready together share the first pass (on a loaded machine the later four may join it too).
    expect(calls[0].slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(calls.flat().sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});

describe('MicroBatcher with overlapping batches (a runner in another thread)', () => {
  /** A runner whose batches finish only when released, and that records how many ran at once. */
  function gated(opts: { maxBatchSize: number; maxRunningBatches: number; overlapAt?: number }) {
    const calls: number[][] = [];
    const gates: Array<() => void> = [];
    let running = 0;
    let most = 0;
    const batcher = new MicroBatcher<number, number>({
      ...opts,
      maxBatchWaitMs: 0,
      maxQueued: 100,
      run: async (items) => {
        calls.push(items);
        most = Math.max(most, ++running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return items.map((x) => x * 10);
      },
    });
    const settle = () => new Promise((r) => setTimeout(r, 5));
    return { batcher, calls, gates, most: () => most, settle };
  }

  it('starts the next batch while one runs once overlapAt items wait, and never runs more than maxRunningBatches', async () => {
    const g = gated({ maxBatchSize: 4, maxRunningBatches: 2, overlapAt: 2 });
    const a = g.batcher.submit([1], later());
    await g.settle();
    expect(g.calls).toEqual([[1]]);
    const b = g.batcher.submit([2, 3], later());
    await g.settle();
    // Two waiting items reach overlapAt: a second batch runs beside the first.
    expect(g.calls).toEqual([[1], [2, 3]]);
    const c = g.batcher.submit([4, 5, 6, 7, 8], later());
    await g.settle();
    // Two running already: the rest waits however many items there are.
    expect(g.calls).toHaveLength(2);
    expect(g.batcher.queued).toBe(5);
    g.gates.shift()!();
    await expect(a).resolves.toEqual([10]);
    await g.settle();
    expect(g.calls[2]).toEqual([4, 5, 6, 7]);
    g.gates.shift()!();
    await expect(b).resolves.toEqual([20, 30]);
    await g.settle();
    // One item left, below overlapAt: it waits for the running batch.
    expect(g.calls).toHaveLength(3);
    g.gates.shift()!();
    await g.settle();
    expect(g.calls[3]).toEqual([8]);
    g.gates.shift()!();
    await expect(c).resolves.toEqual([40, 50, 60, 70, 80]);
    expect(g.most()).toBe(2);
    expect(g.batcher.overlapThreshold).toBe(2);
  });

  it('below overlapAt, items wait for the running batch and then go together (light load forms the same batches as one at a time)', async () => {
    const g = gated({ maxBatchSize: 8, maxRunningBatches: 2, overlapAt: 4 });
    const a = g.batcher.submit([1], later());
    await g.settle();
    const rest = [
      g.batcher.submit([2], later()),
      g.batcher.submit([3], later()),
      g.batcher.submit([4], later()),
    ];
    await g.settle();
    expect(g.calls).toEqual([[1]]);
    g.gates.shift()!();
    await a;
    await g.settle();
    expect(g.calls).toEqual([[1], [2, 3, 4]]);
    g.gates.shift()!();
    await expect(Promise.all(rest)).resolves.toEqual([[20], [30], [40]]);
    expect(g.most()).toBe(1);
  });

  it('runs one batch at a time by default, and refuses a bad setting', () => {
    expect(
      new MicroBatcher<number, number>({
        maxBatchSize: 4,
        maxBatchWaitMs: 0,
        maxQueued: 4,
        run: async (x) => x,
      }).overlapThreshold,
    ).toBeNull();
    expect(
      () =>
        new MicroBatcher<number, number>({
          maxBatchSize: 4,
          maxBatchWaitMs: 0,
          maxQueued: 4,
          maxRunningBatches: 0,
          run: async (x) => x,
        }),
    ).toThrow(RangeError);
  });
});
