import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { scopeSatisfies } from '@modelsmith/contracts';
import { ApiKeyAuthService, bearerToken, forbiddenScope, hashKey, unauthenticated, type TenantPrincipal } from '@modelsmith/http';

/** How long a key's lookup is reused: a revoked key stops working within this time on every serving process. */
export const AUTH_CACHE_TTL_MS = 10_000;

/**
 * Authenticates predict requests. Keys are looked up in Postgres once per AUTH_CACHE_TTL_MS and
 * remembered by the hash of the whole key (failures too, so a flood of bad keys cannot load the database).
 */
@Injectable()
export class PredictAuthService {
  private readonly cache = new LRUCache<string, { principal: TenantPrincipal | null }>({ max: 10_000, ttl: AUTH_CACHE_TTL_MS });

  constructor(private readonly keys: ApiKeyAuthService) {}

  async authenticate(req: IncomingMessage): Promise<TenantPrincipal> {
    const token = bearerToken(req);
    if (!token) throw unauthenticated('send a PREDICT-scoped API key as `Authorization: Bearer <key>`');
    const cacheKey = hashKey(token);
    let entry = this.cache.get(cacheKey);
    if (!entry) {
      entry = { principal: await this.keys.authenticate(token) };
      this.cache.set(cacheKey, entry);
    }
    if (!entry.principal) throw unauthenticated('the API key is invalid, expired or revoked');
    if (!scopeSatisfies(entry.principal.scopes, 'PREDICT')) throw forbiddenScope('PREDICT');
    return entry.principal;
  }
}
