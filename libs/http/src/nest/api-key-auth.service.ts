import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PrismaClient } from '@modelsmith/db';
import { SYSTEM_PRISMA } from '@modelsmith/db/nest';
import { keyMatchesHash, parseApiKey } from '../api-key-format';
import type { TenantPrincipal } from '../principal';

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Resolves an API key to its tenant. Runs on the system connection on purpose: the tenant is not known
 * until the key is, so this one lookup by the key's unique public prefix happens outside row-level security.
 */
@Injectable()
export class ApiKeyAuthService {
  private readonly logger = new Logger('ApiKeyAuth');

  constructor(@Inject(SYSTEM_PRISMA) private readonly db: PrismaClient) {}

  async authenticate(key: string): Promise<TenantPrincipal | null> {
    const prefix = parseApiKey(key);
    if (!prefix) return null;
    const row = await this.db.apiKey.findUnique({
      where: { prefix },
      include: { tenant: { select: { status: true } } },
    });
    if (!row || !keyMatchesHash(key, row.secretHash)) return null;
    const now = Date.now();
    if (row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now) || row.tenant.status !== 'ACTIVE')
      return null;
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      this.db.apiKey
        .update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } })
        .catch((e: unknown) => {
          this.logger.warn(`could not record last use of key ${row.prefix}: ${String(e)}`);
        });
    }
    return {
      kind: 'api-key',
      tenantId: row.tenantId,
      keyId: row.id,
      scopes: row.scopes,
      rateLimitPerMinute: row.rateLimitPerMinute,
    };
  }
}
