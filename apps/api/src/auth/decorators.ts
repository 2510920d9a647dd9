import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Scope } from '@modelsmith/contracts';
import { ProblemError, type AuthenticatedRequest, type TenantPrincipal } from '@modelsmith/http';

export const PUBLIC_ROUTE = 'modelsmith:public';
export const OPERATOR_ROUTE = 'modelsmith:operator';
export const REQUIRED_SCOPE = 'modelsmith:scope';

/** No authentication (health, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
/** Only the operator's ADMIN_TOKEN may call this route. */
export const OperatorOnly = () => SetMetadata(OPERATOR_ROUTE, true);
/** The API key must hold this scope (ADMIN holds all). Routes without it require READ. */
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);

/** The calling tenant's principal; only on routes authenticated by an API key. */
export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): TenantPrincipal => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (req.principal?.kind !== 'api-key') {
    throw new ProblemError({ status: 401, code: 'UNAUTHENTICATED', title: 'API key required' });
  }
  return req.principal;
});
