import { ServingClosedError, ServingOverloadedError, ServingTimeoutError } from './errors';

export interface MicroBatcherOptions<I, O> {
  /** Most items per call of `run`. */
  maxBatchSize: number;
  /** When idle, how long the first item waits for others to join its batch (0: run at once). */
  maxBatchWaitMs: number;
  /** Most items waiting; a submit that would pass it is refused with ServingOverloadedError. */
  maxQueued: number;
  /**
   * Most batches handed to `run` at once (default 1). Above 1, the runner (e.g. another thread) has
   * its next batch at hand the moment it finishes one instead of waiting for this side to collect it.
   */
  maxRunningBatches?: number;
  /**
   * With maxRunningBatches above 1, how many waiting items start another batch while one runs
   * (default maxBatchSize). Below that, they wait to join the batch that starts when one finishes, so
   * light load forms batches as large as with one running batch.
   */
  overlapAt?: number;
  /** Runs one batch; returns one output per input, in order. */
  run(items: I[]): Promise<O[]>;
  now?: () => number;
}

export interface BatcherStats {
  queued: number;
  batches: number;
  items: number;
  /** Smoothed items per second of the last batches (0 until one ran). */
  itemsPerSecond: number;
}

/** Longest delay setTimeout takes (longer ones fire after 1 ms); later deadlines re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Request<O> {
  outputs: O[];
  remaining: number;
  settled: boolean;
  resolve(outputs: O[]): void;
  reject(error: unknown): void;
  timer?: NodeJS.Timeout;
}

interface Entry<I, O> {
  item: I;
  index: number;
  request: Request<O>;
}

/**
 * Dynamic micro-batching: items of concurrent requests are packed into calls of `run` of up to
 * maxBatchSize. While a batch runs, new items wait and go together into the next one, so batches
 * grow with load and an idle batcher adds at most maxBatchWaitMs of latency. A request's items may
 * span batches; it resolves once all of them are done. Bounded: over maxQueued items a request is
 * refused (shed), and a request past its deadline leaves the queue with ServingTimeoutError.
 */
export class MicroBatcher<I, O> {
  private readonly queue: Entry<I, O>[] = [];
  /** Batches handed to `run` and not yet finished. */
  private running = 0;
  private readonly maxRunning: number;
  private readonly overlapAt: number;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private batches = 0;
  private items = 0;
  private rate = 0;
  private readonly now: () => number;

  constructor(private readonly options: MicroBatcherOptions<I, O>) {
    if (options.maxBatchSize < 1 || options.maxQueued < 1)
      throw new RangeError('maxBatchSize and maxQueued must be >= 1');
    this.maxRunning = options.maxRunningBatches ?? 1;
    if (!Number.isInteger(this.maxRunning) || this.maxRunning < 1)
      throw new RangeError('maxRunningBatches must be an integer >= 1');
    this.overlapAt = Math.min(options.overlapAt ?? options.maxBatchSize, options.maxBatchSize);
    if (!(this.overlapAt >= 1)) throw new RangeError('overlapAt must be >= 1');
    this.now = options.now ?? Date.now;
  }

  get maxBatchSize(): number {
    return this.options.maxBatchSize;
  }

  get maxBatchWaitMs(): number {
    return this.options.maxBatchWaitMs;
  }

  /** Waiting items that start a batch while another runs; null when batches never overlap. */
  get overlapThreshold(): number | null {
    return this.maxRunning > 1 ? this.overlapAt : null;
  }

  get queued(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running > 0 || this.queue.length > 0;
  }

  stats(): BatcherStats {
    return {
      queued: this.queue.length,
      batches: this.batches,
      items: this.items,
      itemsPerSecond: Math.round(this.rate * 100) / 100,
    };
  }

  /** Seconds a client should wait before retrying when `extra` more items cannot be queued now. */
  retryAfterSeconds(extra = 0): number {
    const backlog = this.queue.length + extra;
    return this.rate > 0 ? Math.max(1, Math.ceil(backlog / this.rate)) : 1;
  }

  /** The error a submit of `count` more items would be refused with now, if any (to shed before costly work). */
  overloaded(count: number): ServingOverloadedError | undefined {
    if (this.queue.length + count <= this.options.maxQueued) return undefined;
    return new ServingOverloadedError(
      `${this.queue.length} images are already waiting for this model (limit ${this.options.maxQueued})`,
      this.retryAfterSeconds(count),
    );
  }

  /**
   * Queues the items; resolves with their outputs in order. `deadline` is a `now()` time in ms
   * (Infinity: none). At the deadline, a request with items still queued is rejected with
   * ServingTimeoutError and its items leave the queue; one whose items are all in running passes
   * gets their outputs.
   */
  submit(items: readonly I[], deadline: number): Promise<O[]> {
    if (Number.isNaN(deadline))
      return Promise.reject(new RangeError('deadline must be a number of ms (Infinity for none)'));
    if (this.closed) return Promise.reject(new ServingClosedError());
    if (items.length === 0) return Promise.resolve([]);
    const full = this.overloaded(items.length);
    if (full) return Promise.reject(full);
    return new Promise<O[]>((resolve, reject) => {
      const request: Request<O> = {
        outputs: new Array<O>(items.length),
        remaining: items.length,
        settled: false,
        resolve,
        reject,
      };
      if (deadline - this.now() <= 0) return this.fail(request, this.timeoutError());
      this.arm(request, deadline);
      items.forEach((item, index) => this.queue.push({ item, index, request }));
      this.schedule();
    });
  }

  /** Refuses everything queued with ServingClosedError; running batches finish. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const waiting = this.queue.splice(0);
    for (const e of waiting) this.fail(e.request, new ServingClosedError());
  }

  private timeoutError(): ServingTimeoutError {
    return new ServingTimeoutError(
      'the request waited past its deadline for the model',
      this.retryAfterSeconds(),
    );
  }

  private arm(request: Request<O>, deadline: number): void {
    const wait = deadline - this.now();
    if (wait === Number.POSITIVE_INFINITY) return;
    request.timer = setTimeout(
      () => (wait > MAX_TIMER_MS ? this.arm(request, deadline) : this.expire(request)),
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
    request.timer.unref?.();
  }

  private expire(request: Request<O>): void {
    if (request.settled) return;
    let queued = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].request === request) {
        this.queue.splice(i, 1);
        queued++;
      }
    }
    // Every item left is in a forward pass running now: a pass is not interrupted, and answers it.
    if (queued === 0 && this.running > 0) return;
    this.fail(request, this.timeoutError());
  }

  private fail(request: Request<O>, error: unknown): void {
    if (request.settled) return;
    request.settled = true;
    if (request.timer) clearTimeout(request.timer);
    request.reject(error);
  }

  /** Whether another batch may start now: none running, or room for one and overlapAt items waiting. */
  private canStart(): boolean {
    if (this.closed || this.queue.length === 0) return false;
    if (this.running === 0) return true;
    return this.running < this.maxRunning && this.queue.length >= this.overlapAt;
  }

  private schedule(): void {
    if (!this.canStart()) return;
    if (this.queue.length >= this.options.maxBatchSize || this.options.maxBatchWaitMs <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.runSoon();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.runBatch();
    }, this.options.maxBatchWaitMs);
  }

  /**
   * Starts a batch after the I/O callbacks already due have run (setImmediate), so requests that
   * became ready in the same event-loop turn (or while a synchronous forward pass blocked the loop)
   * join it instead of each running alone.
   */
  private runSoon(): void {
    if (this.immediate) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      void this.runBatch();
    });
  }

  private async runBatch(): Promise<void> {
    if (!this.canStart()) return;
    this.running++;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    const started = this.now();
    try {
      const outputs = await this.options.run(batch.map((e) => e.item));
      if (outputs.length !== batch.length)
        throw new Error(`a batch of ${batch.length} gave ${outputs.length} outputs`);
      batch.forEach((e, i) => {
        const { request } = e;
        if (request.settled) return;
        request.outputs[e.index] = outputs[i];
        if (--request.remaining === 0) {
          request.settled = true;
          if (request.timer) clearTimeout(request.timer);
          request.resolve(request.outputs);
        }
      });
      const seconds = Math.max(1e-4, (this.now() - started) / 1000);
      const rate = batch.length / seconds;
      this.rate = this.rate === 0 ? rate : 0.8 * this.rate + 0.2 * rate;
      this.batches++;
      this.items += batch.length;
    } catch (error) {
      for (const e of batch) this.fail(e.request, error);
      // The rest of a failed request's items would only be thrown away.
      for (let i = this.queue.length - 1; i >= 0; i--)
        if (this.queue[i].request.settled) this.queue.splice(i, 1);
    } finally {
      this.running--;
      // Items that arrived meanwhile form the next batch at once (they have waited already), after
      // the event loop has taken in what became ready during this one.
      if (this.canStart()) this.runSoon();
    }
  }
}
