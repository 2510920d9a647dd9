import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { loadConfig, ConfigError } from '@modelsmith/config';
import { AppModule } from './app.module';
import { configureApp } from './configure-app';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`modelsmith api: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  configureApp(app, config);
  app.enableShutdownHooks();
  const server = await app.listen(config.API_PORT, config.API_HOST);
  // Keep-alive longer than load balancers' idle timeouts (and than a busy client's pauses): with
  // Node's 5 s default, a client reusing a pooled connection just as the server closes it gets a
  // reset ("other side closed") instead of an answer.
  server.keepAliveTimeout = 65_000;
  app.get(Logger).log(`API listening on ${await app.getUrl()}`);
}

void bootstrap();
