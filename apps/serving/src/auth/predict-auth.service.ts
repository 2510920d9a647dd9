import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { apiKeyEventsChannel, scopeSatisfies } from '@modelsmith/contracts';
import {
  bearerToken,
  forbiddenScope,
  hashKey,
  unauthenticated,
  type TenantPrincipal,
} from '@modelsmith/http';
import { ApiKeyAuthService } from '@modelsmith/http/nest';
import { onNotices, REDIS_SUBSCRIBER } from '../redis.provider';

/**
 * How long a key's lookup is reused. A key revoked through the API is forgotten at once (Redis
 * notice); this bounds the rest: a notice lost while Redis was away, expiry, a row changed by hand.
 */
export const AUTH_CACHE_TTL_MS = 10_000;

/**
 * Authenticates predict requests. Keys are looked up in Postgres once per AUTH_CACHE_TTL_MS and
 * remembered by the hash of the whole key (failures too, so a flood of bad keys cannot load the database).
 */
@Injectable()
export class PredictAuthService implements OnModuleInit {
  private readonly logger = new Logger('PredictAuth');
  private readonly cache = new LRUCache<string, { principal: TenantPrincipal | null }>({
    max: 10_000,
    ttl: AUTH_CACHE_TTL_MS,
  });

  constructor(
    private readonly keys: ApiKeyAuthService,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await onNotices(
      this.subscriber,
      apiKeyEventsChannel(this.config.QUEUE_PREFIX),
      this.logger,
      ({ keyId }) => {
        if (typeof keyId === 'string') this.forget(keyId);
      },
    );
  }

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

  /** Drops every cached lookup of the key, so its next request reads the row again. */
  forget(keyId: string): void {
    const stale: string[] = [];
    this.cache.forEach((entry, cacheKey) => {
      if (entry.principal?.keyId === keyId) stale.push(cacheKey);
    });
    for (const cacheKey of stale) this.cache.delete(cacheKey);
  }
}
