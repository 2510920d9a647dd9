import { explainRouteId, predictRouteId } from './predict-route';

describe('predictRouteId', () => {
  it('takes the deployment id of POST /v1/deployments/:id/predict, with a query, trailing slash or any case', () => {
    expect(predictRouteId('POST', '/v1/deployments/abc-123/predict')).toBe('abc-123');
    expect(predictRouteId('POST', '/v1/deployments/abc/predict?topK=3')).toBe('abc');
    expect(predictRouteId('POST', '/v1/deployments/abc/predict/')).toBe('abc');
    expect(predictRouteId('POST', '/V1/Deployments/abc/Predict')).toBe('abc');
    expect(predictRouteId('POST', '/v1/deployments/a%20b/predict')).toBe('a b');
  });

  it('leaves every other request to the router', () => {
    expect(predictRouteId('GET', '/v1/deployments/abc/predict')).toBeUndefined();
    expect(predictRouteId('POST', '/v1/deployments/abc')).toBeUndefined();
    expect(predictRouteId('POST', '/v1/deployments//predict')).toBeUndefined();
    expect(predictRouteId('POST', '/v1/deployments/a/b/predict')).toBeUndefined();
    expect(predictRouteId('POST', '/v1/deployments/abc/predictx')).toBeUndefined();
    expect(predictRouteId('POST', '/v2/deployments/abc/predict')).toBeUndefined();
    expect(predictRouteId('POST', '/v1/health/ready')).toBeUndefined();
    expect(predictRouteId(undefined, undefined)).toBeUndefined();
  });

  it('keeps an id that is not valid percent-encoding as sent (it answers 404 like any unknown id)', () => {
    expect(predictRouteId('POST', '/v1/deployments/%E0%A4%A/predict')).toBe('%E0%A4%A');
  });
});

describe('explainRouteId', () => {
  it('takes the model id of POST /v1/models/:id/explain and leaves everything else', () => {
    expect(explainRouteId('POST', '/v1/models/abc-123/explain')).toBe('abc-123');
    expect(explainRouteId('POST', '/V1/Models/abc/Explain/?x=1')).toBe('abc');
    expect(explainRouteId('GET', '/v1/models/abc/explain')).toBeUndefined();
    expect(explainRouteId('POST', '/v1/models/abc')).toBeUndefined();
    expect(explainRouteId('POST', '/v1/models/a/b/explain')).toBeUndefined();
    expect(explainRouteId('POST', '/v1/deployments/abc/predict')).toBeUndefined();
    expect(predictRouteId('POST', '/v1/models/abc/explain')).toBeUndefined();
  });
});
