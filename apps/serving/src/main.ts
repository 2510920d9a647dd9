import { setFlagsFromString } from 'node:v8';
// Old-generation headroom: with V8's default growing factor the heap limit sat ~2 MB above this
// process's ~58 MB live size, so a full mark-compact ran every ~300 ms (5-30 ms each, on the request
// thread) and delayed 4% of MobileNetV2 predictions at concurrency 1 to ~2.3x their median. Growing
// the limit to twice the live size makes full collections rare (docs/serving.md, "GC and latency").
// V8 reads this flag each time it sets a limit, so it applies to a running process; it has to come
// before the first collections, hence first thing.
setFlagsFromString('--heap-growing-percent=100');
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { pinoHttp } from 'pino-http';
import { ConfigError, loadConfig, mlBackendOptions, type AppConfig } from '@modelsmith/config';
import { accessLogOptions, answerClientErrors } from '@modelsmith/http';
import { ProblemFilter } from '@modelsmith/http/nest';
import { chooseBlasCore, initBackend } from '@modelsmith/ml';
import { ENGINE, type Engine } from './engine.provider';
import { PredictHandler } from './predict/predict.handler';
import { SERVING_LOGGER_NAME, ServingModule } from './serving.module';

function config(): AppConfig {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`modelsmith serving: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}

/**
 * The serving app: online prediction for deployments (`POST /v1/deployments/:id/predict`), apart from
 * the API so it scales on its own. Bodies are parsed by the predict handler itself (size-capped).
 */
async function bootstrap(): Promise<void> {
  const cfg = config();
  const app = await NestFactory.create<NestExpressApplication>(ServingModule.forRoot(cfg), {
    bufferLogs: true,
    bodyParser: false,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  if (cfg.SERVING_INFERENCE === 'thread') {
    // OpenBLAS reads its kernel override (OPENBLAS_CORETYPE) from the process environment when it first
    // loads; a worker thread's process.env is its own copy, so the choice is made here, in the main
    // thread, before the inference thread loads the addon.
    const ml = mlBackendOptions(cfg);
    const core = ml.nativeBlas ? chooseBlasCore(ml.blasCore) : null;
    if (core) logger.log(`native BLAS kernels: ${core.core ?? 'as OpenBLAS picks'} (${core.reason})`);
    const thread = await app.get<Engine>(ENGINE).startInferenceThread();
    const blas = thread?.backend !== 'wasm' ? '' : `; native BLAS: ${thread.nativeBlas ?? 'absent or off'}`;
    logger.log(`serving: forward passes in an inference thread, on the ${thread?.backend} backend${blas}`);
  } else {
    const backend = await initBackend({ ...mlBackendOptions(cfg), log: (m) => logger.log(m) });
    logger.log(`serving: forward passes in the request thread, on the ${backend.name} backend`);
  }
  // Access logs of the Nest routes (health, stats) from pino-http itself: the same lines as
  // nestjs-pino's middleware writes, without its AsyncLocalStorage, whose promise hooks cost the
  // request thread ~10% with a model whose pass is next to free (five alternated probe pairs at
  // c=32: 0-29% less CPU per request without them).
  app.use(pinoHttp(accessLogOptions(cfg, SERVING_LOGGER_NAME)));
  app.setGlobalPrefix('v1');
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  // Predictions skip express and Nest's pipeline (see PredictHandler); everything else is routed as usual.
  app.get(PredictHandler).attach(app.getHttpServer());
  // Requests Node's parser refuses (control characters in the request line, oversized headers) get a problem too.
  answerClientErrors(app.getHttpServer());
  const server = await app.listen(cfg.SERVING_PORT, cfg.SERVING_HOST);
  // Keep-alive longer than typical load balancer idle timeouts, so pooled client connections are reused.
  server.keepAliveTimeout = 65_000;
  // A client that trickles its request (slow loris) is cut off once it could no longer be answered in time.
  server.requestTimeout = cfg.SERVING_REQUEST_TIMEOUT_MS;
  server.headersTimeout = Math.min(cfg.SERVING_REQUEST_TIMEOUT_MS, 30_000);
  logger.log(`serving listening on ${await app.getUrl()}`);
}

void bootstrap();
