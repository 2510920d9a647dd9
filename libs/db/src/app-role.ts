import { Client } from 'pg';
import { scramSha256Verifier, scramVerifierMatches } from './scram';

/** The non-superuser role the application's queries run as; row-level security binds it. */
export const APP_ROLE = 'modelsmith_app';

/** The transaction-local setting row-level security policies compare `tenant_id` with. */
export const TENANT_SETTING = 'app.tenant_id';

/**
 * Lets the application role log in with `password` (the RLS migration creates it NOLOGIN, since
 * a migration must not carry a secret). Run with the owner URL after migrations, at deploy/boot.
 * The password is sent as a SCRAM-SHA-256 verifier, never in clear text (statement logs stay
 * clean); nothing is changed when the role can already log in with it. Roles are cluster-wide,
 * so concurrent calls from several processes are retried.
 */
export async function ensureAppRole(ownerUrl: string, password: string): Promise<void> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    if (await alreadyConfigured(client, password)) return;
    const sql = `ALTER ROLE ${client.escapeIdentifier(APP_ROLE)} LOGIN PASSWORD ${client.escapeLiteral(scramSha256Verifier(password))}`;
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

async function alreadyConfigured(client: Client, password: string): Promise<boolean> {
  try {
    // pg_authid is readable by superusers only; other owners fall through to ALTER ROLE.
    const { rows } = await client.query<{ rolcanlogin: boolean; rolpassword: string | null }>(
      'SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1',
      [APP_ROLE],
    );
    const row = rows[0];
    return row !== undefined && row.rolcanlogin && scramVerifierMatches(row.rolpassword, password);
  } catch {
    return false;
  }
}
