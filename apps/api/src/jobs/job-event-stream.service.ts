import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { followJobEvents, JobStore } from '@modelsmith/jobs';
import { JobEventDto } from './dto/job.dto';
import { formatSse, formatSseComment } from './sse';

export const SSE_HEARTBEAT_MS = 15_000;
export const SSE_POLL_MS = 400;
/** Clients reconnect after this long if the connection drops (the `retry:` field). */
export const SSE_RETRY_MS = 2_000;

/**
 * Streams a job's persisted events as Server-Sent Events: each event is one message with `id: <seq>`,
 * `event: <type>` and the JSON event as `data`; a comment line every 15 s keeps the connection alive;
 * the stream ends after the terminal event, when the client disconnects, or when the API shuts down.
 */
@Injectable()
export class JobEventStreamService implements BeforeApplicationShutdown {
  private readonly shutdown = new AbortController();
  private readonly logger = new Logger('JobEvents');
  /** Interval of the keep-alive comment lines. */
  heartbeatMs = SSE_HEARTBEAT_MS;
  /** Pause between database polls while nothing new arrived. */
  pollMs = SSE_POLL_MS;

  constructor(private readonly store: JobStore) {}

  /** Ends every open stream, so the HTTP server can close. */
  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }

  async stream(
    req: Request,
    res: Response,
    tenantId: string,
    jobId: string,
    afterSeq: number,
  ): Promise<void> {
    if (this.shutdown.signal.aborted) {
      res.status(503).setHeader('Retry-After', '2').end();
      return;
    }
    const stop = new AbortController();
    const onClose = () => stop.abort();
    res.on('close', onClose);
    const onShutdown = () => stop.abort();
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setKeepAlive(true);
    res.write(`retry: ${SSE_RETRY_MS}\n\n`);

    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(formatSseComment(`heartbeat ${new Date().toISOString()}`));
    }, this.heartbeatMs);
    try {
      for await (const e of followJobEvents(this.store, tenantId, jobId, afterSeq, {
        signal: stop.signal,
        pollMs: this.pollMs,
      })) {
        if (res.writableEnded) break;
        res.write(formatSse({ id: e.seq, event: e.type, data: JobEventDto.from(e) }));
      }
    } catch (e) {
      // Headers are sent: a problem+json body is impossible now. End the stream; the client
      // reconnects with Last-Event-ID and misses nothing.
      this.logger.warn(`event stream of job ${jobId} failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearInterval(heartbeat);
      res.off('close', onClose);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
      if (!res.writableEnded) res.end();
    }
  }
}
