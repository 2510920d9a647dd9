import { APP_ROLE, TENANT_SETTING } from './app-role';
import { InvalidTenantIdError } from './errors';
import type { PrismaClient } from './generated/client';
import type { Prisma } from './generated/client';

/** The client inside withTenant(): every query is scoped to one tenant by row-level security. */
export type TenantTx = Prisma.TransactionClient;

export interface WithTenantOptions {
  /** Interactive transaction timeout (default 10 s). */
  timeoutMs?: number;
  /** Time to wait for a pooled connection (default 5 s). */
  maxWaitMs?: number;
  isolationLevel?: Prisma.TransactionIsolationLevel;
}

/**
 * Runs `fn` in an interactive transaction scoped to `tenantId`: the first statement sets the
 * transaction-local `app.tenant_id` (which the RLS policies compare with) and switches to the
 * application role for the transaction, so even a client connected as the owner cannot see or
 * write another tenant's rows inside, and a forgotten `where` returns only this tenant's rows.
 */
export async function withTenant<T>(
  prisma: PrismaClient,
  tenantId: string,
  fn: (tx: TenantTx) => Promise<T>,
  opts: WithTenantOptions = {},
): Promise<T> {
  if (typeof tenantId !== 'string' || tenantId.length === 0) throw new InvalidTenantIdError();
  return prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT set_config(${TENANT_SETTING}, ${tenantId}, true), set_config('role', ${APP_ROLE}, true)`;
      return fn(tx);
    },
    {
      timeout: opts.timeoutMs ?? 10_000,
      maxWait: opts.maxWaitMs ?? 5_000,
      isolationLevel: opts.isolationLevel,
    },
  );
}
