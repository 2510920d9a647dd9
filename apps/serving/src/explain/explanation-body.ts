import type { ExplainResult } from '@modelsmith/serving';

/** An explanation as the JSON answer carries it (the PNG overlay as base64). */
export function explanationBody(r: ExplainResult) {
  return {
    method: r.method,
    target: r.target,
    probability: r.probability,
    ...(r.testTimeViews ? { testTimeViews: r.testTimeViews } : {}),
    heatmap: r.heatmap,
    overlay: r.overlayPng ? { contentType: 'image/png', base64: r.overlayPng.toString('base64') } : null,
    cost: r.cost,
    ...(r.completenessGap !== undefined ? { completenessGap: r.completenessGap } : {}),
  };
}
