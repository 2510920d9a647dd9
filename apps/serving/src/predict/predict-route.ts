/** `POST /v1/deployments/:id/predict`, as express would match it: any case, optional trailing slash, any query. */
const PREDICT_PATH = /^\/v1\/deployments\/([^/?#]+)\/predict\/?(?:\?.*)?$/i;

/**
 * The deployment id of a predict request, or undefined when the request is anything else (including
 * another method on the same path, which the app's router answers). An id that is not valid
 * percent-encoding is returned as sent, so that it answers 404 like any unknown id.
 */
export function predictRouteId(method: string | undefined, url: string | undefined): string | undefined {
  if (method !== 'POST' || !url) return undefined;
  const match = PREDICT_PATH.exec(url);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/** `POST /v1/models/:id/explain`, matched the same way. */
const EXPLAIN_PATH = /^\/v1\/models\/([^/?#]+)\/explain\/?(?:\?.*)?$/i;

/** The model id of an explain request, or undefined when the request is anything else. */
export function explainRouteId(method: string | undefined, url: string | undefined): string | undefined {
  if (method !== 'POST' || !url) return undefined;
  const match = EXPLAIN_PATH.exec(url);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}
