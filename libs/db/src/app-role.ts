import { Client } from 'pg';

/** The non-superuser role the application's queries run as; row-level security binds it. */
export const APP_ROLE = 'modelsmith_app';

/** The transaction-local setting row-level security policies compare `tenant_id` with. */
export const TENANT_SETTING = 'app.tenant_id';

/**
 * Lets the application role log in with `password` (the RLS migration creates it NOLOGIN, since
 * a migration must not carry a secret). Run with the owner URL after migrations, at deploy/boot.
 * Roles are cluster-wide; concurrent calls from several processes are retried.
 */
export async function ensureAppRole(ownerUrl: string, password: string): Promise<void> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const sql = `ALTER ROLE ${client.escapeIdentifier(APP_ROLE)} LOGIN PASSWORD ${client.escapeLiteral(password)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (err) {
        // "tuple concurrently updated" (XX000) when another process alters the role at the same time.
        if ((err as { code?: string }).code !== 'XX000' || attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  } finally {
    await client.end();
  }
}
