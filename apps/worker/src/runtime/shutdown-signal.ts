import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Aborted as soon as shutdown begins (before BullMQ workers are closed, which waits for running jobs),
 * so running jobs checkpoint and hand themselves back to the queue instead of blocking the exit.
 */
@Injectable()
export class ShutdownSignal implements BeforeApplicationShutdown {
  private readonly controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  beforeApplicationShutdown(signal?: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new Error(`shutdown (${signal ?? 'close'})`));
  }
}
