import sharp from 'sharp';
import { call, createTenant, startPlatform, type Platform } from '../support/platform';
import { mnistPng } from '../support/archives';
import { storeModel, tinyDigitModel } from '../support/models';

jest.setTimeout(300_000);

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** POSTs one or more images (multipart) with optional form fields to a serving path. */
async function postForm(
  url: string,
  token: string | undefined,
  images: Buffer[],
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  images.forEach((img, i) => form.append('image', new Blob([img], { type: 'image/png' }), `${i}.png`));
  const res = await fetch(url, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  const body: any = text ? JSON.parse(text) : null;
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
}

describe('explanations end to end (serving app: POST /v1/models/:id/explain, predict with explain)', () => {
  let p: Platform;
  let owner: { id: string; key: string };
  let modelId: string;
  let digit: Buffer;

  beforeAll(async () => {
    p = await startPlatform();
    owner = await createTenant(p, 'Explainer');
    modelId = (await storeModel(p, owner.id, tinyDigitModel(5), DIGITS, 'explained')).id;
    digit = await mnistPng(3, 0);
  });

  afterAll(async () => {
    await p?.stop();
  });

  const explainUrl = (id = modelId) => `${p.servingUrl}/v1/models/${id}/explain`;

  it('answers each method with a grid heatmap, a PNG overlay and its cost; grad-cam by default', async () => {
    const plain = await postForm(explainUrl(), owner.key, [digit]);
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ modelId, method: 'grad-cam', heatmap: { rows: 16, cols: 16 } });
    expect(DIGITS).toContain(plain.body.target.label);
    for (const [method, extra] of [
      ['integrated-gradients', { steps: 8 }],
      ['smoothgrad', { samples: 4 }],
      ['lime', { samples: 32, segments: 16 }],
    ] as const) {
      const r = await postForm(explainUrl(), owner.key, [digit], {
        explain: JSON.stringify({ method, ...extra, grid: 7 }),
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        method,
        heatmap: { rows: 7, cols: 7 },
        overlay: { contentType: 'image/png' },
      });
      expect(r.body.heatmap.values.flat().every((v: unknown) => typeof v === 'number')).toBe(true);
      const png = await sharp(Buffer.from(r.body.overlay.base64, 'base64')).metadata();
      expect(png).toMatchObject({ format: 'png', width: 28, height: 28 });
      expect(r.body.cost.modelImages).toBeGreaterThan(1);
      if (method === 'integrated-gradients') expect(Math.abs(r.body.completenessGap)).toBeLessThan(0.5);
    }
    // JSON body with base64, an explicit target, no overlay.
    const json = await call(p.servingUrl, 'POST', `/v1/models/${modelId}/explain`, {
      token: owner.key,
      body: { image: digit.toString('base64'), explain: { target: 9, overlay: false } },
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ target: { index: 9, label: '9' }, overlay: null });
  });

  it('refuses hostile or unbounded requests with problem+json 4xx, and keeps tenants apart', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [
        { explain: JSON.stringify({ method: 'integrated-gradients', steps: 100000 }) },
        400,
        'VALIDATION_FAILED',
      ],
      [{ explain: JSON.stringify({ method: 'smoothgrad', samples: 65 }) }, 400, 'VALIDATION_FAILED'],
      [{ explain: JSON.stringify({ method: 'lime', samples: 10_000 }) }, 400, 'VALIDATION_FAILED'],
      [{ explain: JSON.stringify({ method: 'deep-dream' }) }, 400, 'VALIDATION_FAILED'],
      [{ explain: JSON.stringify({ grid: 1000 }) }, 400, 'VALIDATION_FAILED'],
      [{ explain: JSON.stringify({ evil: true }) }, 400, 'VALIDATION_FAILED'],
      [{ explain: JSON.stringify([1, 2]) }, 400, 'VALIDATION_FAILED'],
      [{ explain: '{not json' }, 400, 'BAD_REQUEST'],
      [{ explain: JSON.stringify({ target: 10 }) }, 422, 'UNPROCESSABLE'],
    ];
    for (const [fields, status, code] of cases) {
      const r = await postForm(explainUrl(), owner.key, [digit], fields);
      expect({ fields, status: r.status, code: r.body?.code }).toEqual({ fields, status, code });
      expect(r.type).toContain('application/problem+json');
    }
    expect((await postForm(explainUrl(), owner.key, [digit, digit])).status).toBe(413);
    expect((await postForm(explainUrl(), owner.key, [Buffer.from('not an image')])).status).toBe(422);
    expect((await postForm(explainUrl(), undefined, [digit])).status).toBe(401);
    expect((await postForm(explainUrl('not-a-uuid'), owner.key, [digit])).status).toBe(404);
    const other = await createTenant(p, 'Someone else');
    const foreign = await postForm(explainUrl(), other.key, [digit]);
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain('explained');
  });

  it('explains predictions when predict asks for it, bounded to a few images', async () => {
    const d = await call(p.apiUrl, 'POST', '/v1/deployments', {
      token: owner.key,
      body: { modelId, name: 'explained' },
    });
    expect(d.status).toBe(201);
    const url = `${p.servingUrl}/v1/deployments/${d.body.id}/predict`;
    const two = [digit, await mnistPng(7, 0)];
    const r = await postForm(url, owner.key, two, {
      explain: JSON.stringify({ method: 'grad-cam', grid: 4 }),
    });
    expect(r.status).toBe(200);
    expect(r.body.predictions).toHaveLength(2);
    for (const prediction of r.body.predictions) {
      expect(prediction.explanation).toMatchObject({ method: 'grad-cam', heatmap: { rows: 4, cols: 4 } });
      expect(prediction.explanation.target.label).toBe(prediction.label);
    }
    const plain = await postForm(url, owner.key, two);
    expect(plain.body.predictions[0].explanation).toBeUndefined();
    const five = await postForm(url, owner.key, [digit, digit, digit, digit, digit], { explain: '{}' });
    expect(five.status).toBe(400);
    expect(five.body.code).toBe('VALIDATION_FAILED');
  });
});
