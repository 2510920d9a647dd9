/**
 * What the HTTP apps (api, serving) share: RFC 9457 problems and their filter, request logging,
 * and API-key authentication. Nest-aware, but knows nothing of any one app's routes.
 */
export * from './problem';
export * from './problem.filter';
export * from './logging';
export * from './api-key-format';
export * from './api-key-auth.service';
export * from './principal';
export * from './bearer';
export * from './key-rate-limiter';
export * from './input';
