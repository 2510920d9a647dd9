import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { KeyRateLimiter, rateLimitHeaders, type AuthenticatedRequest } from '@modelsmith/http';

/**
 * Counts a request against the calling key's prediction rate (the budget serving's predict draws on
 * too): 429 RATE_LIMITED with Retry-After over it, X-RateLimit-* headers under it. Runs after the
 * global AuthGuard, so the key is known; before the handler, so a refused upload is never read.
 */
@Injectable()
export class PredictRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: KeyRateLimiter) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    // Only API keys have a rate; the AuthGuard lets nothing else reach a tenant route.
    if (principal?.kind !== 'api-key') return true;
    const state = await this.limiter.consume(principal);
    if (state) ctx.switchToHttp().getResponse<Response>().set(rateLimitHeaders(state));
    return true;
  }
}
