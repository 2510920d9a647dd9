import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { SystemRoleCannotBypassRlsError } from './errors';
import { PrismaClient } from './generated/client';

export interface CreatePrismaClientOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Defaults of {@link withTenant}'s interactive transactions on this client: how long one may run
   * (default 10 s) and wait to start (default 5 s). A process that holds its event loop for seconds by
   * design (the worker's synchronous training kernels) needs longer ones: its transactions' own timers
   * expire while the loop is held, though the database work took milliseconds.
   */
  transactionTimeoutMs?: number;
  transactionMaxWaitMs?: number;
}

/** The transaction defaults set per client by createPrismaClient (withTenant reads them). */
const TRANSACTION_DEFAULTS = new WeakMap<object, { timeoutMs?: number; maxWaitMs?: number }>();

/** {@link CreatePrismaClientOptions}' transaction defaults of `client` (empty when none were set). */
export function transactionDefaults(client: object): { timeoutMs?: number; maxWaitMs?: number } {
  return TRANSACTION_DEFAULTS.get(client) ?? {};
}

const SYSTEM_BRAND: unique symbol = Symbol('modelsmith.systemPrismaClient');

/**
 * A client on the owner connection: bypasses row-level security. Only for paths that must work
 * before or across tenants: API-key lookup by prefix, tenant creation, the job reconciler,
 * migrations. Named and typed apart so it is never mistaken for the tenant-scoped client.
 */
export type SystemPrismaClient = PrismaClient & { readonly [SYSTEM_BRAND]: true };

/** A Prisma client over `@prisma/adapter-pg` (no engine binary). RLS applies per the URL's role. */
export function createPrismaClient(databaseUrl: string, opts: CreatePrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: opts.poolSize ?? 10,
    application_name: opts.applicationName ?? 'modelsmith',
  });
  const client = new PrismaClient({ adapter });
  TRANSACTION_DEFAULTS.set(client, {
    timeoutMs: opts.transactionTimeoutMs,
    maxWaitMs: opts.transactionMaxWaitMs,
  });
  return client;
}

/**
 * The deliberate RLS-bypassing client. Refuses a role that row-level security would bind (it
 * would silently see no tenant rows), so call it at boot.
 */
export async function createSystemPrismaClient(
  ownerUrl: string,
  opts: CreatePrismaClientOptions = {},
): Promise<SystemPrismaClient> {
  await assertBypassesRls(ownerUrl);
  const client = createPrismaClient(ownerUrl, { applicationName: 'modelsmith-system', ...opts });
  return Object.defineProperty(client, SYSTEM_BRAND, {
    value: true,
    enumerable: false,
  }) as SystemPrismaClient;
}

/** Throws SystemRoleCannotBypassRlsError unless the URL's role is superuser or BYPASSRLS. */
export async function assertBypassesRls(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ role: string; bypass: boolean }>(
      'SELECT current_user AS role, (rolsuper OR rolbypassrls) AS bypass FROM pg_roles WHERE rolname = current_user',
    );
    const row = rows[0];
    if (!row?.bypass) throw new SystemRoleCannotBypassRlsError(row?.role ?? 'unknown');
  } finally {
    await client.end();
  }
}
