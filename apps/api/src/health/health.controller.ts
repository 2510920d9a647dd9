import { Controller, Get, Inject, Logger, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { PrismaClient } from '@modelsmith/db';
import { SYSTEM_PRISMA } from '@modelsmith/db/nest';
import type { QueueMap } from '@modelsmith/jobs';
import { QUEUE_MAP } from '@modelsmith/jobs/nest';
import type { ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { Public } from '../auth/decorators';

const TIMEOUT_MS = 2_000;

class LiveDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

class CheckDto {
  @ApiProperty({ enum: ['up', 'down'] }) status!: 'up' | 'down';
  @ApiProperty({ description: 'How long the check took' }) ms!: number;
}

class ChecksDto {
  @ApiProperty({ type: CheckDto }) postgres!: CheckDto;
  @ApiProperty({ type: CheckDto }) redis!: CheckDto;
  @ApiProperty({ type: CheckDto }) objectStore!: CheckDto;
}

class ReadyDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status!: 'ok' | 'unavailable';
  @ApiProperty({ type: ChecksDto }) checks!: ChecksDto;
}

const logger = new Logger('Health');

/**
 * One dependency's check. The route is public, so a failure answers only `down`: its message (which
 * may name internal hosts and ports) goes to the log.
 */
async function probe(
  name: string,
  fn: () => Promise<unknown>,
): Promise<{ status: 'up' | 'down'; ms: number }> {
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
    logger.warn(`readiness: ${name} is down: ${e instanceof Error ? e.message : String(e)}`);
    return { status: 'down', ms: Date.now() - started };
  }
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(SYSTEM_PRISMA) private readonly db: PrismaClient,
    @Inject(QUEUE_MAP) private readonly queues: QueueMap,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Postgres, Redis and the object store answer (503 otherwise)' })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ type: ReadyDto, description: 'A dependency is down' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadyDto> {
    const [postgres, redis, objectStore] = await Promise.all([
      probe('postgres', () => this.db.$queryRaw`SELECT 1`),
      probe('redis', async () => {
        for (const q of Object.values(this.queues)) await q.getWaitingCount();
      }),
      probe('object store', () => this.store.ping()),
    ]);
    const ok = [postgres, redis, objectStore].every((c) => c.status === 'up');
    if (!ok) res.status(503);
    return { status: ok ? 'ok' : 'unavailable', checks: { postgres, redis, objectStore } };
  }
}
