/**
 * What the HTTP apps (api, serving) share: RFC 9457 problems, request logging,
 * and API-key authentication; knows nothing of any one app's routes. This barrel loads no Nest: the
 * exception filter, the logger's Nest params and the Nest API-key service are in `@modelsmith/http/nest`.
 */
export * from './problem';
export * from './problem-response';
export * from './logging';
export * from './api-key-format';
export * from './principal';
export * from './bearer';
export * from './key-rate-limiter';
export * from './input';
