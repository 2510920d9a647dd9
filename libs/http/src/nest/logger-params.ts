import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '@modelsmith/config';
import { accessLogOptions } from '../logging';

/** Structured JSON logs (pino) with request ids; secrets redacted. */
export function loggerParams(config: AppConfig, name: string): Params {
  return {
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: accessLogOptions(config, name),
  };
}
