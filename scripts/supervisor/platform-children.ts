import { join } from 'node:path';
import type { AppConfig } from '@modelsmith/config';
import type { ChildSpec } from './supervisor';

/** A local URL for a listen address: a wildcard address is reached on the loopback. */
function local(host: string, port: number, path: string): string {
  const reach = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}${path}`;
}

/** Healthy once the URL answers 2xx; each probe bounded to 2 s. */
function answers(url: string): () => Promise<boolean> {
  return async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
}

/**
 * The processes of `npm start`, from dist/ under `root`, each with the parent-watch preload (it stops the
 * process when the launcher goes away). Healthy means alive: the API's and serving's /health/live and
 * the worker's /health answer (the worker's says 503 while Postgres or Redis is away, which the
 * launcher has just checked). The worker may take its whole drain grace to stop, and a little more.
 */
export function platformChildren(config: AppConfig, env: NodeJS.ProcessEnv, root: string): ChildSpec[] {
  const node = (script: string) => [
    '--require',
    join(root, 'dist', 'scripts', 'supervisor', 'parent-watch.js'),
    join(root, 'dist', script),
  ];
  return [
    {
      name: 'api',
      command: process.execPath,
      args: node('apps/api/src/main.js'),
      env,
      healthy: answers(local(config.API_HOST, config.API_PORT, '/v1/health/live')),
      stopTimeoutMs: 30_000,
    },
    {
      name: 'worker',
      command: process.execPath,
      args: node('apps/worker/src/main.js'),
      env,
      healthy: answers(local(config.WORKER_HEALTH_HOST, config.WORKER_HEALTH_PORT, '/health')),
      stopTimeoutMs: (config.WORKER_SHUTDOWN_GRACE_SECONDS + 10) * 1_000,
    },
    {
      name: 'serving',
      command: process.execPath,
      args: node('apps/serving/src/main.js'),
      env,
      healthy: answers(local(config.SERVING_HOST, config.SERVING_PORT, '/v1/health/live')),
      stopTimeoutMs: 30_000,
    },
  ];
}
