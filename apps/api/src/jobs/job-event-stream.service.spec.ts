import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import type { Job, JobEvent } from '@modelsmith/db';
import type { JobStore } from '@modelsmith/jobs';
import { JobEventStreamService } from './job-event-stream.service';

/** Just enough of express's Request/Response for the stream: headers, writes, end, and 'close'. */
class FakeResponse extends EventEmitter {
  statusCode = 0;
  headers: Record<string, string> = {};
  chunks: string[] = [];
  writableEnded = false;
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string) {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  flushHeaders() {}
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.writableEnded = true;
    this.emit('close');
    return this;
  }
}

const event = (seq: number, type: string): JobEvent => ({
  seq,
  type,
  id: BigInt(seq),
  tenantId: 't',
  jobId: 'j',
  stage: null,
  percent: null,
  message: null,
  data: null,
  createdAt: new Date(0),
});

function fakeStore(events: () => JobEvent[], status = 'RUNNING') {
  const calls: number[] = [];
  const store = {
    get: async () => ({ id: 'j', status }) as Job,
    events: async (_t: string, _j: string, after: number) => {
      calls.push(after);
      return events().filter((e) => e.seq > after);
    },
  };
  return { store: store as unknown as JobStore, calls };
}

function setup(events: () => JobEvent[], status?: string) {
  const { store, calls } = fakeStore(events, status);
  const svc = new JobEventStreamService(store);
  svc.pollMs = 10;
  svc.heartbeatMs = 30;
  const res = new FakeResponse();
  const req = { socket: { setKeepAlive: () => undefined } };
  const run = (after = 0) =>
    svc.stream(req as unknown as Request, res as unknown as Response, 't', 'j', after);
  return { svc, res, calls, run };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('JobEventStreamService', () => {
  it('writes SSE headers, each event once in order, and ends after the terminal event', async () => {
    const all = [event(1, 'queued'), event(2, 'started'), event(3, 'succeeded')];
    let visible = 1;
    const { res, run } = setup(() => all.slice(0, visible));
    const done = run();
    await sleep(30);
    visible = 3;
    await done;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toContain('no-cache');
    const text = res.chunks.join('');
    expect(text.startsWith('retry: 2000\n\n')).toBe(true);
    expect(text.match(/^id: \d+$/gm)).toEqual(['id: 1', 'id: 2', 'id: 3']);
    expect(text.match(/^event: \w+$/gm)).toEqual(['event: queued', 'event: started', 'event: succeeded']);
    expect(res.writableEnded).toBe(true);
  });

  it('sends comment heartbeats while idle and stops polling when the client disconnects', async () => {
    const { res, calls, run } = setup(() => [event(1, 'queued')]);
    const done = run();
    await sleep(120);
    expect(res.chunks.filter((c) => c.startsWith(': heartbeat')).length).toBeGreaterThanOrEqual(2);
    res.emit('close');
    await done;
    const polls = calls.length;
    await sleep(60);
    expect(calls.length).toBe(polls);
  });

  it('ends open streams on shutdown and refuses new ones', async () => {
    const { svc, res, run } = setup(() => []);
    const done = run();
    await sleep(20);
    svc.beforeApplicationShutdown();
    await done;
    expect(res.writableEnded).toBe(true);
    const late = new FakeResponse();
    await svc.stream(
      { socket: { setKeepAlive: () => undefined } } as unknown as Request,
      late as unknown as Response,
      't',
      'j',
      0,
    );
    expect(late.statusCode).toBe(503);
  });
});

describe('JobEventStreamService failures', () => {
  it('ends the stream (no throw after headers were sent) when the database fails', async () => {
    const store = {
      get: () => Promise.reject(new Error('db down')),
      events: () => Promise.resolve([]),
    } as unknown as JobStore;
    const svc = new JobEventStreamService(store);
    const res = new FakeResponse();
    await svc.stream(
      { socket: { setKeepAlive: () => undefined } } as unknown as Request,
      res as unknown as Response,
      't',
      'j',
      0,
    );
    expect(res.statusCode).toBe(200);
    expect(res.writableEnded).toBe(true);
  });
});
