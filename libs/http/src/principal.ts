import type { Scope } from '@modelsmith/contracts';

export type Principal =
  | { kind: 'api-key'; tenantId: string; keyId: string; scopes: Scope[]; rateLimitPerMinute: number | null }
  | { kind: 'operator' };

export type TenantPrincipal = Extract<Principal, { kind: 'api-key' }>;

export interface AuthenticatedRequest {
  principal?: Principal;
}
