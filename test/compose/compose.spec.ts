import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@modelsmith/config';
import {
  environmentOf,
  interpolate,
  loadCompose,
  readText,
  ROOT,
  variablesIn,
  type ComposeService,
} from './compose-file';

const APP_SERVICES = ['api', 'worker', 'worker-gpu', 'serving'];
const INFRA = ['postgres', 'redis', 'minio'];

function dockerfileOf(service: ComposeService): string | undefined {
  if (service.build === undefined) return undefined;
  if (typeof service.build === 'string') return join(service.build, 'Dockerfile');
  return join(service.build.context, service.build.dockerfile ?? 'Dockerfile');
}

function healthcheckCommand(service: ComposeService): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

/** Compose durations as used here (`45s`, `1m30s`) in seconds. */
function durationSeconds(value: string | undefined): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(value ?? '');
  if (!value || !m) throw new Error(`unsupported duration: ${value}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

function expectValidConfig(env: Record<string, string>): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError)
      throw new Error(`compose environment fails the config schema:\n${e.message}`);
    throw e;
  }
}

describe('docker-compose.yml (static checks; no Docker engine here)', () => {
  const compose = loadCompose();
  const services = compose.services;

  it('runs postgres 16, redis 7, minio, api, worker and serving, plus a gpu-profile worker', () => {
    for (const name of [...INFRA, 'api', 'worker', 'worker-gpu', 'serving'])
      expect(Object.keys(services)).toContain(name);
    expect(services.postgres.image).toMatch(/^postgres:16(\b|-)/);
    expect(services.redis.image).toMatch(/^redis:7(\b|-)/);
    expect(services.minio.image).toMatch(/minio\/minio/);
    expect(services['worker-gpu'].profiles).toEqual(['gpu']);
    for (const name of ['api', 'worker', 'serving']) expect(services[name].profiles).toBeUndefined();
  });

  it('gives every service an image or a build', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, ok: Boolean(service.image ?? service.build) }).toEqual({ name, ok: true });
    }
  });

  it('gives every long-running service a healthcheck; only one-shot jobs disable it', () => {
    const oneShot = new Set(
      Object.values(services).flatMap((s) =>
        Object.entries(s.depends_on ?? {})
          .filter(([, d]) => d.condition === 'service_completed_successfully')
          .map(([dep]) => dep),
      ),
    );
    for (const [name, service] of Object.entries(services)) {
      expect({ name, hasHealthcheck: service.healthcheck !== undefined }).toEqual({
        name,
        hasHealthcheck: true,
      });
      if (service.healthcheck?.disable) {
        expect({ name, oneShot: oneShot.has(name) && service.restart === 'no' }).toEqual({
          name,
          oneShot: true,
        });
      } else {
        const test = service.healthcheck?.test;
        expect(Array.isArray(test) && ['CMD', 'CMD-SHELL'].includes(test[0])).toBe(true);
      }
    }
  });

  it('starts api, workers and serving only after postgres, redis and minio are healthy and migrations ran', () => {
    for (const name of APP_SERVICES) {
      const deps = services[name].depends_on ?? {};
      for (const infra of INFRA)
        expect({ name, infra, condition: deps[infra]?.condition }).toEqual({
          name,
          infra,
          condition: 'service_healthy',
        });
      expect(deps.migrate?.condition).toBe('service_completed_successfully');
    }
    expect(services.migrate.depends_on?.postgres?.condition).toBe('service_healthy');
  });

  it.each(APP_SERVICES)('passes the config schema with the environment given to %s', (name) => {
    const env = environmentOf(services[name]);
    const config = expectValidConfig(env);
    expect(config.NODE_ENV).toBe('production');
    expect(new URL(config.DATABASE_URL).hostname).toBe('postgres');
    expect(new URL(config.REDIS_URL).hostname).toBe('redis');
    expect(new URL(config.S3_ENDPOINT ?? '').hostname).toBe('minio');
    expect(config.S3_ACCESS_KEY).toBe(environmentOf(services.minio).MINIO_ROOT_USER);
    expect(config.S3_SECRET_KEY).toBe(environmentOf(services.minio).MINIO_ROOT_PASSWORD);
    expect(new URL(config.DATABASE_URL).password).toBe(environmentOf(services.postgres).POSTGRES_PASSWORD);
    expect(config.DATABASE_APP_PASSWORD).toBe(environmentOf(services.migrate).DATABASE_APP_PASSWORD);
    expect(config.DATABASE_URL).toBe(environmentOf(services.migrate).DATABASE_URL);
  });

  it('still passes with operator-supplied secrets from an .env file', () => {
    const operatorEnv = {
      POSTGRES_PASSWORD: 'pg-secret-value',
      MINIO_ROOT_USER: 'ops',
      MINIO_ROOT_PASSWORD: 'minio-secret-value',
      ADMIN_TOKEN: 'x'.repeat(32),
      DATABASE_APP_PASSWORD: 'app-secret-value',
    };
    const withSecrets = loadCompose(operatorEnv);
    for (const name of APP_SERVICES) {
      const config = expectValidConfig(environmentOf(withSecrets.services[name]));
      expect(config.ADMIN_TOKEN).toBe(operatorEnv.ADMIN_TOKEN);
      expect(config.S3_ACCESS_KEY).toBe('ops');
      expect(new URL(config.DATABASE_URL).password).toBe('pg-secret-value');
    }
  });

  it('needs no .env to start: every variable has a default', () => {
    for (const v of variablesIn(readText('docker-compose.yml')))
      expect({ name: v.name, op: v.op }).toEqual({ name: v.name, op: ':-' });
    expect(interpolate('${A:-x} ${B-y} ${C}', { B: '' })).toBe('x  ');
  });

  it('binds the apps to all interfaces and probes the ports and health routes they serve', () => {
    const api = expectValidConfig(environmentOf(services.api));
    expect(api.API_HOST).toBe('0.0.0.0');
    expect(healthcheckCommand(services.api)).toContain(`http://127.0.0.1:${api.API_PORT}/v1/health/ready`);
    for (const name of ['worker', 'worker-gpu']) {
      const worker = expectValidConfig(environmentOf(services[name]));
      expect(worker.WORKER_HEALTH_HOST).toBe('0.0.0.0');
      expect(healthcheckCommand(services[name])).toContain(
        `http://127.0.0.1:${worker.WORKER_HEALTH_PORT}/health`,
      );
    }
    const serving = expectValidConfig(environmentOf(services.serving));
    expect(serving.SERVING_HOST).toBe('0.0.0.0');
    expect(healthcheckCommand(services.serving)).toContain(
      `http://127.0.0.1:${serving.SERVING_PORT}/v1/health/ready`,
    );
  });

  it('publishes the serving port, which the api hands out as predictUrl base', () => {
    const serving = expectValidConfig(environmentOf(services.serving));
    expect(services.serving.ports).toContain(`${serving.SERVING_PORT}:${serving.SERVING_PORT}`);
    expect(services.api.ports).not.toContainEqual(
      expect.stringMatching(new RegExp(`:${serving.SERVING_PORT}$`)),
    );
    const api = expectValidConfig(environmentOf(services.api));
    expect(api.SERVING_PUBLIC_URL).toBe(`http://localhost:${serving.SERVING_PORT}`);
    expect(serving.SERVING_PUBLIC_URL).toBe(api.SERVING_PUBLIC_URL);
    const custom = loadCompose({ SERVING_PUBLIC_URL: 'https://predict.example.com' });
    expect(expectValidConfig(environmentOf(custom.services.api)).SERVING_PUBLIC_URL).toBe(
      'https://predict.example.com',
    );
  });

  it('gives serving an ML backend and time to finish in-flight predictions on stop', () => {
    const serving = expectValidConfig(environmentOf(services.serving));
    expect(serving.ML_BACKEND).toBe('auto');
    expect(
      expectValidConfig(environmentOf(loadCompose({ ML_BACKEND: 'wasm' }).services.serving)).ML_BACKEND,
    ).toBe('wasm');
    expect(durationSeconds(services.serving.stop_grace_period) * 1000).toBeGreaterThan(
      serving.SERVING_REQUEST_TIMEOUT_MS,
    );
    expect(durationSeconds('1m30s')).toBe(90);
  });

  it('routes the cpu worker to the cpu queue and the gpu worker to the gpu queue on a reserved GPU', () => {
    expect(expectValidConfig(environmentOf(services.worker)).WORKER_QUEUES).toEqual(['cpu']);
    const gpu = services['worker-gpu'];
    const gpuConfig = expectValidConfig(environmentOf(gpu));
    expect(gpuConfig.WORKER_QUEUES).toEqual(['gpu']);
    expect(gpuConfig.ML_BACKEND).toBe('tensorflow-gpu');
    const devices = gpu.deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toEqual([expect.objectContaining({ driver: 'nvidia', capabilities: ['gpu'] })]);
  });

  it('builds from Dockerfiles that exist and runs entry points the build produces', () => {
    for (const [name, service] of Object.entries(services)) {
      const dockerfile = dockerfileOf(service);
      if (dockerfile)
        expect({ name, dockerfile, exists: existsSync(join(ROOT, dockerfile)) }).toEqual({
          name,
          dockerfile,
          exists: true,
        });
      const script = service.command?.[1];
      if (service.command?.[0] === 'node' && script) {
        // tsc compiles <path>.ts to dist/<path>.js (tsconfig.build.json)
        const source = script.replace(/^dist\//, '').replace(/\.js$/, '.ts');
        expect({ name, source, exists: existsSync(join(ROOT, source)) }).toEqual({
          name,
          source,
          exists: true,
        });
      }
    }
    expect(services.api.command).toEqual(['node', 'dist/apps/api/src/main.js']);
    expect(services.worker.command).toEqual(['node', 'dist/apps/worker/src/main.js']);
    expect(services.serving.command).toEqual(['node', 'dist/apps/serving/src/main.js']);
    expect(services.serving.image).toBe(services.api.image);
    expect(services.serving.build).toEqual(services.api.build);
  });
});

describe('deploy/Dockerfile', () => {
  const text = readText('deploy/Dockerfile');
  const froms = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    image: m[1],
    stage: m[2],
  }));

  it('is multi-stage: installs with npm ci and builds with npm run build, runs on node:20-bookworm-slim', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/ARG NODE_IMAGE=node:20-bookworm-slim/);
    expect(froms.at(-1)).toEqual({ image: '${NODE_IMAGE}', stage: 'runtime' });
    expect(text).toMatch(/RUN npm ci\b/);
    expect(text).toMatch(/npm run build\b/);
    expect(text).toMatch(/npm run db:generate\b/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^CMD \["node", "dist\/apps\/api\/src\/main\.js"\]$/m);
  });

  it('does not mask a failing install or build', () => {
    expect(text).not.toMatch(/\|\|\s*true/);
  });

  it('copies what the migration runner reads at run time', () => {
    expect(text).toMatch(/COPY --from=build .*\/app\/prisma \.\/prisma/);
    expect(existsSync(join(ROOT, 'prisma', 'migrations'))).toBe(true);
  });

  it('ships the build output of every app the compose file runs (api, worker, serving)', () => {
    // The runtime stage copies all of dist, and the build compiles every app under apps/.
    expect(text).toMatch(/^COPY --from=build .*\/app\/dist \.\/dist$/m);
    const build = JSON.parse(readText('tsconfig.build.json')) as { include: string[]; exclude?: string[] };
    expect(build.include).toContain('apps/**/*.ts');
    // apps/console is browser code: bundled by esbuild (scripts/build-console.ts) into dist/console by the
    // same `npm run build`, not compiled by tsc.
    expect((build.exclude ?? []).filter((e) => e !== 'apps/console')).not.toContainEqual(
      expect.stringMatching(/^apps/),
    );
    expect(readText('package.json')).toMatch(/"build": "[^"]*node dist\/scripts\/build-console\.js/);
    expect(text).toMatch(/npm run build/);
    expect(existsSync(join(ROOT, 'apps', 'serving', 'src', 'main.ts'))).toBe(true);
    expect(text).toMatch(/^EXPOSE .*\b3002\b/m);
  });

  it('has a GPU variant for the worker', () => {
    const gpu = readText('deploy/Dockerfile.gpu');
    expect(gpu).toMatch(/nvidia\/cuda:11\.2\.\d+-cudnn8/);
    expect(gpu).toMatch(/RUN npm ci\b/);
    expect(gpu).toMatch(/^CMD \["node", "dist\/apps\/worker\/src\/main\.js"\]$/m);
    expect(gpu).not.toMatch(/\|\|\s*true/);
  });
});
