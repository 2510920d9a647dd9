import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@modelsmith/config';
import { APP_ROLE } from '../app-role';
import { createPrismaClient, createSystemPrismaClient } from '../client';
import { withCredentials } from '../database-url';
import type { PrismaClient } from '../generated/client';

/** Client bound by row-level security (role modelsmith_app): use with withTenant() for all tenant data. */
export const APP_PRISMA = Symbol('APP_PRISMA');
/** Client that bypasses row-level security: auth lookup by key prefix, tenant creation, reconciler only. */
export const SYSTEM_PRISMA = Symbol('SYSTEM_PRISMA');

class DbLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(APP_PRISMA) private readonly app: PrismaClient,
    @Inject(SYSTEM_PRISMA) private readonly system: PrismaClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.app.$disconnect(), this.system.$disconnect()]);
  }
}

@Global()
@Module({})
export class DbModule {
  /**
   * `transactions`: the app client's interactive-transaction defaults (createPrismaClient's
   * `transactionTimeoutMs` / `transactionMaxWaitMs`; default 10 s / 5 s).
   */
  static forRoot(
    config: AppConfig,
    transactions: { timeoutMs?: number; maxWaitMs?: number } = {},
  ): DynamicModule {
    return {
      module: DbModule,
      providers: [
        {
          provide: APP_PRISMA,
          useFactory: () =>
            createPrismaClient(withCredentials(config.DATABASE_URL, APP_ROLE, config.DATABASE_APP_PASSWORD), {
              poolSize: config.DATABASE_POOL_SIZE,
              transactionTimeoutMs: transactions.timeoutMs,
              transactionMaxWaitMs: transactions.maxWaitMs,
            }),
        },
        {
          provide: SYSTEM_PRISMA,
          useFactory: () => createSystemPrismaClient(config.DATABASE_URL, { poolSize: 4 }),
        },
        DbLifecycle,
      ],
      exports: [APP_PRISMA, SYSTEM_PRISMA],
    };
  }
}
