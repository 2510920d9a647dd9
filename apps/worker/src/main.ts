import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig, type AppConfig } from '@modelsmith/config';
import { startTabularWarmUp } from './runtime/tabular-warm-up';
import { usableQueues } from './runtime/usable-queues';
import { WorkerModule } from './worker.module';

function config(): AppConfig {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`modelsmith worker: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}

async function bootstrap(): Promise<void> {
  const configured = config();
  const { queues, warning } = await usableQueues(configured);
  if (warning) process.stderr.write(`modelsmith worker: ${warning}\n`);
  if (queues.length === 0) {
    process.stderr.write('modelsmith worker: no queue left to consume; exiting\n');
    process.exit(78);
  }
  const cfg: AppConfig = { ...configured, WORKER_QUEUES: queues };
  // No body parser: the worker's only HTTP route is GET /health, and a body it never reads cannot fail to parse.
  const app = await NestFactory.create(WorkerModule.forRoot(cfg), { bufferLogs: true, bodyParser: false });
  const logger = app.get(Logger);
  app.useLogger(logger);

  // Graceful shutdown: the first SIGTERM/SIGINT aborts running jobs at their next step boundary (they
  // checkpoint and return to the queue), then closes queues and connections. A second signal, or the
  // grace period running out, exits at once.
  let closing: Promise<void> | undefined;
  const close = (signal: string): Promise<void> => {
    if (closing) {
      logger.warn(`received ${signal} again; exiting now`);
      process.exit(1);
    }
    logger.log(`received ${signal}; draining`);
    const timer = setTimeout(() => {
      logger.error(`shutdown took longer than ${cfg.WORKER_SHUTDOWN_GRACE_SECONDS}s; exiting`);
      process.exit(1);
    }, cfg.WORKER_SHUTDOWN_GRACE_SECONDS * 1000);
    timer.unref();
    closing = app.close().then(() => {
      logger.log('worker stopped');
      process.exit(0);
    });
    return closing;
  };
  process.on('SIGTERM', () => void close('SIGTERM'));
  process.on('SIGINT', () => void close('SIGINT'));

  await app.listen(cfg.WORKER_HEALTH_PORT, cfg.WORKER_HEALTH_HOST);
  logger.log(
    `worker ${process.pid} consuming ${cfg.WORKER_QUEUES.join(', ')}; health on ${await app.getUrl()}/health`,
  );
  // Compile the tabular trainers now rather than in a job's first search (in a fresh process most of
  // a small table's first search is V8 compiling them): a few small synthetic searches, at most ~2
  // CPU seconds, one at a time between the event loop's other work (docs/tabular.md, "Cold start").
  // WORKER_TABULAR_WARM_UP=off skips it.
  void startTabularWarmUp(cfg, logger);
}

void bootstrap();
