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
