import * as os from 'node:os';
import { z } from 'zod';
import { configSchema, type AppConfig } from './config.schema';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Treats empty strings as unset, so `FOO=` in an env file falls back to the default. */
function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const name = issue.path.join('.') || '(root)';
    const detail =
      issue.code === 'invalid_type' && issue.input === undefined ? 'is required but not set' : issue.message;
    return `${name}: ${detail}`;
  });
}

/** Validates an environment (defaults to process.env) once; throws ConfigError naming every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = configSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error));
  return Object.freeze(parsed.data);
}

/** The ML backend settings as `initBackend` options (@modelsmith/ml): preferred backend, addon on/off. */
export function mlBackendOptions(cfg: Pick<AppConfig, 'ML_BACKEND' | 'ML_NATIVE_BLAS' | 'ML_BLAS_CORE'>): {
  prefer: AppConfig['ML_BACKEND'];
  nativeBlas: boolean;
  blasCore: string;
} {
  return {
    prefer: cfg.ML_BACKEND,
    nativeBlas: cfg.ML_NATIVE_BLAS !== 'off',
    blasCore: cfg.ML_BLAS_CORE,
  };
}

/** Threads one training run uses: TRAIN_THREADS, or with `auto` the cores shared by the jobs one worker runs. */
export function trainThreads(
  cfg: Pick<AppConfig, 'TRAIN_THREADS' | 'WORKER_CONCURRENCY'>,
  cores: number = os.availableParallelism(),
): number {
  if (cfg.TRAIN_THREADS !== 'auto') return cfg.TRAIN_THREADS;
  return Math.max(1, Math.floor(cores / cfg.WORKER_CONCURRENCY));
}

/** Threads one search trial uses: TRAIN_THREADS, or with `auto` the cores shared by the trials one worker runs. */
export function trialThreads(
  cfg: Pick<AppConfig, 'TRAIN_THREADS' | 'TRIAL_CONCURRENCY'>,
  cores: number = os.availableParallelism(),
): number {
  if (cfg.TRAIN_THREADS !== 'auto') return cfg.TRAIN_THREADS;
  return Math.max(1, Math.floor(cores / cfg.TRIAL_CONCURRENCY));
}

/** Base URL clients reach the API at: PUBLIC_URL, else http://API_HOST:API_PORT (no trailing slash). */
export function apiPublicUrl(cfg: Pick<AppConfig, 'PUBLIC_URL' | 'API_HOST' | 'API_PORT'>): string {
  return (
    cfg.PUBLIC_URL ??
    `http://${cfg.API_HOST.includes(':') ? `[${cfg.API_HOST}]` : cfg.API_HOST}:${cfg.API_PORT}`
  ).replace(/\/+$/, '');
}
