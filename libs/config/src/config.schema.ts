import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/**
 * Every setting the platform reads, with its default. `loadConfig` validates the environment
 * against it once at boot; nothing else reads process.env.
 */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    API_HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(3000),
    /** Largest JSON/urlencoded request body the API accepts (uploads stream and have their own limits). */
    API_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
    /** Base URL clients use to reach the API (printed by the start command, used in links). */
    PUBLIC_URL: z.url().optional(),

    WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
    WORKER_HEALTH_PORT: port.default(3001),
    /** How many jobs one worker process runs at once on its CPU queue. */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
    /** Queues this worker consumes: cpu, gpu or both. */
    WORKER_QUEUES: z
      .string()
      .default('cpu')
      .transform((s) =>
        s
          .split(',')
          .map((q) => q.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(['cpu', 'gpu'])).min(1)),
    /**
     * Threads one training run uses (data parallel: the batch is split between them, see
     * docs/ml-engine.md). `auto`: the machine's cores divided by WORKER_CONCURRENCY. Only the wasm and
     * cpu backends use it (tfjs-node's kernels are multi-threaded themselves).
     */
    TRAIN_THREADS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).default('auto'),
    /**
     * `on`: a worker whose WORKER_QUEUES include gpu but whose GPU backend (tfjs-node-gpu) does not load
     * stops consuming the gpu queue and says why (and exits when no queue is left). `off`: it consumes
     * the gpu queue anyway, on whatever backend loads (a CPU stand-in, e.g. in tests).
     */
    WORKER_GPU_CHECK: z.enum(['on', 'off']).default('on'),
    /**
     * Search trials one worker process trains at once (the trial queue). tfjs runs a trial's kernels on
     * the thread that started it, so trials in one process share that thread: more than 1 overlaps
     * their I/O, not their compute. To give each core its own trial, start one worker process per
     * core (TRAIN_THREADS=1) or let one trial use the cores (TRAIN_THREADS=auto).
     */
    TRIAL_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
    /**
     * How a search runs its trials. `queue`: as BullMQ child jobs on the trial queue, as many at once
     * as there are trial slots listening (worker processes on the queue x TRIAL_CONCURRENCY), so
     * every worker process, on any machine, trains trials. `inline`: one after another inside the
     * TRAIN job (the worker that took the job does every trial).
     */
    SEARCH_TRIALS: z.enum(['queue', 'inline']).default('queue'),
    /**
     * `on`: an image search's trial 1 (after the first model) trains the default recipe itself, as a
     * fixed 'balanced' job would, so with the budget to finish that recipe the search never chooses
     * below it on validation (search-runner `defaultTrial`). `off`: the search only draws and promotes configurations.
     */
    SEARCH_DEFAULT_TRIAL: z.enum(['on', 'off']).default('on'),
    /**
     * Continuation trials (SearchInput.continuation): weight-averaged extra epochs of the best trial.
     * `on` since bench/search-vs-default.ts at 60 and 120 CPU-seconds (docs/training.md) found it never
     * below `off` on validation and ahead of the default recipe on every dataset at 120.
     */
    SEARCH_CONTINUATION: z.enum(['on', 'off']).default('on'),
    /**
     * BullMQ lock of a running job or trial (ms): a worker that does not renew it in time (killed, or
     * its event loop starved that long by a loaded machine) loses the job to another worker.
     */
    WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(5_000).max(3_600_000).default(30_000),
    /**
     * `on`: right after it starts, the worker runs a few small synthetic tabular searches (at most ~2
     * CPU seconds, off any job) so V8 has compiled the tabular trainers before the first tabular job
     * (docs/tabular.md, "Cold start"). `off`: it does not (a worker that never trains tables, or one
     * whose start-up CPU matters more).
     */
    WORKER_TABULAR_WARM_UP: z.enum(['on', 'off']).default('on'),
    /** Seconds the worker waits for the current step to checkpoint on SIGTERM before exiting. */
    WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).default(30),

    /** Owner / migration connection (bypasses row-level security; used for migrations and system paths). */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .default('postgresql://root@127.0.0.1:5432/modelsmith'),
    /** Password of the row-level-security-bound application role `modelsmith_app`. */
    DATABASE_APP_PASSWORD: z.string().min(8).default('modelsmith-app-dev-password'),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),

    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379'),
    /** BullMQ key prefix; lets several installations (or test runs) share one Redis. */
    QUEUE_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9_-]+$/)
      .default('modelsmith'),

    /**
     * S3-compatible endpoint, e.g. http://127.0.0.1:9000: the S3 driver (MinIO, AWS S3) stores the
     * objects. Unset: the filesystem driver stores them under STORAGE_DIR.
     */
    S3_ENDPOINT: z.url().optional(),
    /** Endpoint clients use for presigned URLs when it differs from S3_ENDPOINT (e.g. `minio:9000` inside compose). */
    S3_PUBLIC_ENDPOINT: z.url().optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    /** Required with S3_ENDPOINT. */
    S3_ACCESS_KEY: z.string().min(1).optional(),
    /** Required with S3_ENDPOINT. */
    S3_SECRET_KEY: z.string().min(1).optional(),
    S3_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
      .default('modelsmith'),
    /**
     * Directory of the filesystem object store (used when S3_ENDPOINT is unset; `npm start` sets
     * .data/objects). The API, worker and serving processes of one machine share it.
     */
    STORAGE_DIR: z.string().min(1).optional(),
    /**
     * Key of the HMAC-SHA256 signatures of the filesystem store's presigned URLs (served by the API
     * under PUBLIC_URL/v1/objects/...). Required with STORAGE_DIR; `npm start` generates one in .data.
     */
    STORAGE_URL_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Lifetime of presigned download/upload URLs. */
    S3_PRESIGN_EXPIRY_SECONDS: z.coerce.number().int().min(60).max(604_800).default(3600),

    /** Operator token that may create tenants and their first key (header `Authorization: Bearer <token>`). */
    ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),

    /** Most jobs RUNNING at once across all tenants (0: no global limit). Jobs over it stay QUEUED. */
    JOBS_GLOBAL_MAX_RUNNING: z.coerce.number().int().min(0).default(0),
    /** A RUNNING job whose heartbeat is older than this no longer holds a concurrency slot (its worker died). */
    JOBS_HEARTBEAT_STALE_SECONDS: z.coerce.number().int().min(5).default(90),
    /**
     * First retry delay of a job whose attempt failed with a transient error, in ms; each later one
     * doubles (BullMQ exponential backoff; 5 attempts). Read by the API, which enqueues the jobs.
     */
    JOB_RETRY_BACKOFF_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
    /**
     * Hours a finished job's scratch objects (training checkpoints, a batch job's input archive) are
     * kept before the API's sweep deletes them; a failed or cancelled job keeps them until then.
     */
    JOBS_SCRATCH_RETENTION_HOURS: z.coerce.number().min(0).default(24),
    /** How often the API sweeps finished jobs' scratch objects, in seconds. */
    JOBS_SCRATCH_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(600),

    /**
     * Let webhook endpoints point at private (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10) and
     * loopback addresses. Off: such targets are refused when the endpoint is saved and again at every
     * send. Link-local addresses (169.254/16 with the cloud metadata service, fe80::/10) stay refused.
     */
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
    /** One webhook attempt's whole time (connect, send, answer), in ms. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** Attempts per delivery (the first and its retries) before it is recorded FAILED. */
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
    /** First retry delay of a failed webhook attempt, in ms; each later one doubles (BullMQ exponential backoff). */
    WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
    /** How often the worker moves written-but-unqueued webhook deliveries (the outbox) to the queue, in ms. */
    WEBHOOK_RELAY_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),

    /** Interface and port of the serving app (online prediction, `POST /v1/deployments/:id/predict`). */
    SERVING_HOST: z.string().min(1).default('127.0.0.1'),
    SERVING_PORT: port.default(3002),
    /** Base URL clients use to reach the serving app (returned as a deployment's `predictUrl`). */
    SERVING_PUBLIC_URL: z.url().optional(),
    /**
     * Browser origins allowed to call predict and explain on the serving app (CORS), comma-separated, or
     * `*`. Default: the API's own origin (PUBLIC_URL, else http://API_HOST:API_PORT, with `localhost`
     * and `127.0.0.1` both when it is loopback), where the web console is served.
     */
    SERVING_CORS_ORIGINS: z
      .string()
      .optional()
      .transform((s) =>
        s === undefined
          ? undefined
          : s
              .split(',')
              .map((o) => o.trim().replace(/\/+$/, ''))
              .filter(Boolean),
      ),
    /** Memory the serving app may spend on loaded models (weights), in MiB; least recently used go first. */
    SERVING_MODEL_CACHE_MB: z.coerce.number().int().min(16).default(1024),
    /** Most images one forward pass takes (dynamic micro-batching). */
    SERVING_MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(1024).default(32),
    /** Measure each model's best batch size (up to SERVING_MAX_BATCH_SIZE) when it loads. */
    SERVING_AUTO_BATCH_SIZE: z
      .enum(['true', 'false', '1', '0'])
      .default('true')
      .transform((v) => v === 'true' || v === '1'),
    /**
     * Where forward passes run: `thread` (a worker thread owning the loaded models, so HTTP handling and
     * image decoding go on, on the other core, while a pass runs) or `in-process` (the request thread).
     */
    SERVING_INFERENCE: z.enum(['thread', 'in-process']).default('thread'),
    /**
     * Longest a request waits for others to share its batch when the model is idle, in ms. 0: an idle
     * model runs at once and batches form from what arrives while it is busy.
     */
    SERVING_MAX_BATCH_WAIT_MS: z.coerce.number().min(0).max(1000).default(0),
    /** Most images queued per model; a request beyond it is shed with 503 + Retry-After. */
    SERVING_MAX_QUEUED_IMAGES: z.coerce.number().int().min(1).default(256),
    /** Most predict requests one serving process handles at once; more are shed with 503 + Retry-After. */
    SERVING_MAX_CONCURRENT_REQUESTS: z.coerce.number().int().min(1).default(128),
    /** Explanations (POST /v1/models/:id/explain, predict's explain option) running at once per serving process; more get 503. */
    SERVING_MAX_CONCURRENT_EXPLANATIONS: z.coerce.number().int().min(1).max(64).default(1),
    /** A prediction not answered within this many ms fails with 503 (shed) instead of waiting on. */
    SERVING_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /** Largest predict request body (multipart or JSON with base64 images). */
    SERVING_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).default(10_485_760),
    /** Most images in one predict request. */
    SERVING_MAX_IMAGES_PER_REQUEST: z.coerce.number().int().min(1).max(1024).default(32),
    /** Requests per minute of a predict key that sets no `rateLimitPerMinute` of its own (0: unlimited). */
    PREDICT_DEFAULT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),

    /** TensorFlow.js backend: auto picks tensorflow-gpu -> tensorflow -> wasm -> cpu. */
    ML_BACKEND: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    /**
     * On wasm: run convolutions, matmuls and training batch norm on the native OpenBLAS addon where it
     * is built (auto), or never (off: the wasm kernels only, e.g. to rule the addon out).
     */
    ML_NATIVE_BLAS: z.enum(['auto', 'off']).default('auto'),
    /**
     * OpenBLAS kernels of the native addon: `auto` keeps OpenBLAS's pick unless it falls back to weaker
     * kernels than the CPU's instruction sets run (an unrecognized CPU gets generic Prescott ones), then
     * uses SkylakeX (AVX-512), Haswell (AVX2) or Sandybridge (AVX); `openblas` never overrides; a core
     * name (e.g. `SkylakeX`) forces it.
     */
    ML_BLAS_CORE: z
      .string()
      .regex(/^[A-Za-z0-9]{2,32}$/, 'must be auto, openblas or an OpenBLAS core name such as SkylakeX')
      .default('auto'),
  })
  .superRefine(
    (cfg, ctx) => {
      const require = (name: keyof typeof cfg, why: string) => {
        if (cfg[name] === undefined)
          ctx.addIssue({ code: 'custom', path: [name], input: undefined, message: `is required ${why}` });
      };
      if (cfg.S3_ENDPOINT !== undefined) {
        require('S3_ACCESS_KEY', 'with S3_ENDPOINT');
        require('S3_SECRET_KEY', 'with S3_ENDPOINT');
      } else {
        require('STORAGE_DIR', 'when S3_ENDPOINT is not set (the filesystem object store keeps its objects there)');
        require('STORAGE_URL_SECRET', "when S3_ENDPOINT is not set (it signs the filesystem store's presigned URLs)");
      }
      // Checked even when other settings are bad, so that one run names every problem.
    },
    { when: () => true },
  );

export type AppConfig = z.infer<typeof configSchema>;
