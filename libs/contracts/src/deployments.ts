/**
 * Redis pub/sub channel on which the API announces a changed deployment (created, model swapped,
 * undeployed, activated, deleted) as JSON `{ "tenantId": "...", "deploymentId": "..." }`. Serving
 * processes drop their cached lookup of it (and warm a swapped-in model) at once.
 */
export function deploymentEventsChannel(queuePrefix: string): string {
  return `${queuePrefix}:deployments`;
}

export interface DeploymentEvent {
  tenantId: string;
  deploymentId: string;
}

/**
 * Redis pub/sub channel on which the API announces a revoked API key as JSON
 * `{ "tenantId": "...", "keyId": "..." }`. Serving processes forget their cached lookup of it, so a
 * revoked key stops predicting at once rather than within the cache's lifetime.
 */
export function apiKeyEventsChannel(queuePrefix: string): string {
  return `${queuePrefix}:api-keys`;
}

export interface ApiKeyEvent {
  tenantId: string;
  keyId: string;
}
