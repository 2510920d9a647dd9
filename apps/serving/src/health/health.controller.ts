import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import type { PrismaClient } from '@modelsmith/db';
import { SYSTEM_PRISMA } from '@modelsmith/db/nest';
import { bearerToken, ProblemError, tokensEqual } from '@modelsmith/http';
import type { ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { ENGINE, type Engine } from '../engine.provider';
import { REDIS } from '../redis.provider';

const TIMEOUT_MS = 2_000;

async function probe(
  fn: () => Promise<unknown>,
): Promise<{ status: 'up' | 'down'; error?: string; ms: number }> {
  const started = Date.now();
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref(),
      ),
    ]);
    return { status: 'up', ms: Date.now() - started };
  } catch (e) {
    return { status: 'down', error: e instanceof Error ? e.message : String(e), ms: Date.now() - started };
  }
}

@Controller()
export class ServingHealthController {
  constructor(
    @Inject(SYSTEM_PRISMA) private readonly db: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  /** Postgres and the object store are needed to load models; Redis only for shared rate limits (degraded without). */
  @Get('health/ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const [postgres, objectStore, redis] = await Promise.all([
      probe(() => this.db.$queryRaw`SELECT 1`),
      probe(() => this.store.ping()),
      probe(() => this.redis.ping()),
    ]);
    const ok = postgres.status === 'up' && objectStore.status === 'up';
    if (!ok) res.status(503);
    return {
      status: ok ? (redis.status === 'up' ? 'ok' : 'degraded') : 'unavailable',
      checks: { postgres, objectStore, redis },
    };
  }

  /** Loaded models, cache use, batching counters. Operator only (ADMIN_TOKEN): it names every tenant's models. */
  @Get('serving/stats')
  stats(@Req() req: Request) {
    const token = bearerToken(req);
    if (!this.config.ADMIN_TOKEN || !token || !tokensEqual(token, this.config.ADMIN_TOKEN)) {
      throw new ProblemError({
        status: 403,
        code: 'FORBIDDEN',
        title: 'Operator only',
        detail: 'serving statistics need the operator ADMIN_TOKEN',
      });
    }
    return this.engine.stats();
  }
}
