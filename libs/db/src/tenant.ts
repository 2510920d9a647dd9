import { APP_ROLE, TENANT_SETTING } from './app-role';
import { transactionDefaults } from './client';
import { InvalidTenantIdError } from './errors';
import type { PrismaClient } from './generated/client';
import type { Prisma } from './generated/client';

/** The client inside withTenant(): every query is scoped to one tenant by row-level security. */
export type TenantTx = Prisma.TransactionClient;

export interface WithTenantOptions {
  /** Interactive transaction timeout (default: the client's `transactionTimeoutMs`, else 10 s). */
  timeoutMs?: number;
  /** Time to wait for a pooled connection (default: the client's `transactionMaxWaitMs`, else 5 s). */
  maxWaitMs?: number;
  isolationLevel?: Prisma.TransactionIsolationLevel;
  /**
   * Further attempts when the transaction could not start within `maxWaitMs` (default 3). Safe: such
   * a transaction never ran `fn` (Prisma discards it if it starts late). Besides a busy pool, a
   * process that blocks its event loop for longer than `maxWaitMs` (the worker's synchronous kernels)
   * can miss the start by its own timer firing first.
   */
  startRetries?: number;
}

/** Prisma's error code and message for a transaction that did not start within maxWait. */
const START_TIMEOUT_CODE = 'P2028';
const START_TIMEOUT_MESSAGE = 'Unable to start a transaction in the given time';

/** True for the error Prisma raises when an interactive transaction could not start within maxWait. */
export function isTransactionStartTimeout(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  return (
    code === START_TIMEOUT_CODE && typeof message === 'string' && message.includes(START_TIMEOUT_MESSAGE)
  );
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
  const retries = opts.startRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await tenantTransaction(prisma, tenantId, fn, opts);
    } catch (e) {
      if (attempt >= retries || !isTransactionStartTimeout(e)) throw e;
    }
  }
}

function tenantTransaction<T>(
  prisma: PrismaClient,
  tenantId: string,
  fn: (tx: TenantTx) => Promise<T>,
  opts: WithTenantOptions,
): Promise<T> {
  const defaults = transactionDefaults(prisma);
  return prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT set_config(${TENANT_SETTING}, ${tenantId}, true), set_config('role', ${APP_ROLE}, true)`;
      return fn(tx);
    },
    {
      timeout: opts.timeoutMs ?? defaults.timeoutMs ?? 10_000,
      maxWait: opts.maxWaitMs ?? defaults.maxWaitMs ?? 5_000,
      isolationLevel: opts.isolationLevel,
    },
  );
}
