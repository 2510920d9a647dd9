import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { scopeSatisfies, type Scope } from '@modelsmith/contracts';
import {
  bearerToken,
  forbiddenScope,
  ProblemError,
  tokensEqual,
  unauthenticated,
  type AuthenticatedRequest,
} from '@modelsmith/http';
import { ApiKeyAuthService } from '@modelsmith/http/nest';
import { OPERATOR_ROUTE, PUBLIC_ROUTE, REQUIRED_SCOPE } from './decorators';

/** Global guard: every route needs an API key (or, for operator routes, the ADMIN_TOKEN) unless @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyAuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const token = bearerToken(req);
    if (!token) throw unauthenticated('send an API key as `Authorization: Bearer <key>`');

    const operatorRoute = this.reflector.getAllAndOverride<boolean>(OPERATOR_ROUTE, targets) ?? false;
    const isOperator = this.config.ADMIN_TOKEN !== undefined && tokensEqual(token, this.config.ADMIN_TOKEN);
    if (operatorRoute) {
      if (!isOperator) {
        throw new ProblemError({
          status: 403,
          code: 'FORBIDDEN',
          title: 'Operator only',
          detail: 'this route needs the operator ADMIN_TOKEN',
        });
      }
      req.principal = { kind: 'operator' };
      return true;
    }
    if (isOperator) {
      throw new ProblemError({
        status: 403,
        code: 'FORBIDDEN',
        title: 'Operator token is not a tenant key',
        detail: 'the ADMIN_TOKEN only manages tenants (/v1/admin/...); use a tenant API key here',
      });
    }
    const principal = await this.keys.authenticate(token);
    if (!principal) throw unauthenticated('the API key is invalid, expired or revoked');
    const scope = this.reflector.getAllAndOverride<Scope>(REQUIRED_SCOPE, targets) ?? 'READ';
    if (!scopeSatisfies(principal.scopes, scope)) throw forbiddenScope(scope);
    req.principal = principal;
    return true;
  }
}
