import type { ApiKey, PrismaClient, Tenant } from '@modelsmith/db';
import type { Scope } from '@modelsmith/contracts';
import { generateApiKey } from '@modelsmith/http';

export interface NewTenant {
  name: string;
  slug?: string;
  maxConcurrentJobs?: number;
  computeMinutesPerMonth?: number;
}

export interface CreatedTenant {
  tenant: Tenant;
  apiKey: ApiKey;
  /** The secret, shown once. */
  key: string;
}

export class TenantSlugTakenError extends Error {
  readonly code = 'TENANT_SLUG_TAKEN';
}

export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || 'tenant';
}

/**
 * Operator bootstrap, shared by the admin API and the CLI: creates a tenant and its first ADMIN key in
 * one transaction. Runs on the system connection (there is no tenant yet to scope to).
 */
export async function createTenantWithKey(
  db: PrismaClient,
  input: NewTenant,
  keyName = 'bootstrap',
  scopes: Scope[] = ['ADMIN'],
): Promise<CreatedTenant> {
  const slug = input.slug ?? slugify(input.name);
  const generated = generateApiKey();
  try {
    return await db.$transaction(async (tx) => {
      const tenant = await tx.tenant.create({
        data: {
          name: input.name,
          slug,
          ...(input.maxConcurrentJobs !== undefined ? { maxConcurrentJobs: input.maxConcurrentJobs } : {}),
          ...(input.computeMinutesPerMonth !== undefined
            ? { computeMinutesPerMonth: input.computeMinutesPerMonth }
            : {}),
        },
      });
      const apiKey = await tx.apiKey.create({
        data: {
          tenantId: tenant.id,
          name: keyName,
          prefix: generated.prefix,
          secretHash: generated.secretHash,
          scopes,
        },
      });
      return { tenant, apiKey, key: generated.key };
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'P2002')
      throw new TenantSlugTakenError(`a tenant with slug "${slug}" already exists`);
    throw e;
  }
}
