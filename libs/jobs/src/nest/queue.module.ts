import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES, type QueueClass } from '@modelsmith/contracts';
import type { AppConfig } from '@modelsmith/config';
import { redisOptionsFromUrl } from '../redis';
import type { QueueMap } from '../dispatcher';

export const QUEUE_MAP = Symbol('QUEUE_MAP');

/** BullMQ connection plus one registered queue per queue class; QUEUE_MAP exposes them by class. */
@Module({})
export class QueueModule {
  static forRoot(
    config: AppConfig,
    classes: readonly QueueClass[] = ['cpu', 'gpu'],
    opts: { failFast?: boolean } = {},
  ): DynamicModule {
    const names = classes.map((c) => QUEUES[c]);
    return {
      module: QueueModule,
      global: true,
      imports: [
        BullModule.forRoot({
          connection: redisOptionsFromUrl(config.REDIS_URL, opts),
          prefix: config.QUEUE_PREFIX,
        }),
        BullModule.registerQueue(...names.map((name) => ({ name }))),
      ],
      providers: [
        {
          provide: QUEUE_MAP,
          inject: names.map((n) => getQueueToken(n)),
          useFactory: (...queues: Queue[]): QueueMap =>
            Object.fromEntries(classes.map((c, i) => [c, queues[i]])),
        },
      ],
      exports: [BullModule, QUEUE_MAP],
    };
  }
}
