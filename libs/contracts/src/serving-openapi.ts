/**
 * The serving app's routes in OpenAPI 3 form: `POST /v1/deployments/{id}/predict` and
 * `POST /v1/models/{id}/explain`. The serving app answers them from a hand-written request handler
 * (apps/serving/src/predict/predict.handler.ts, outside Nest's router), so no controller decorators
 * describe them; this fragment does, and the API's document (GET /docs/openapi.json, libs/sdk/openapi.json)
 * includes it with the serving app as the paths' server. Plain data: the API process imports it
 * without loading TensorFlow.js. apps/serving/src/explain/serving-openapi.spec.ts checks that its
 * bounds are the ones the serving app enforces.
 */

/** Bounds of an image explanation's budget (libs/ml EXPLAIN_LIMITS). */
export const IMAGE_EXPLAIN_BOUNDS = {
  steps: { min: 2, max: 128, default: 16 },
  smoothgradSamples: { min: 1, max: 64, default: 8 },
  limeSamples: { min: 16, max: 512, default: 64 },
  segments: { min: 4, max: 200, default: 32 },
  grid: { min: 1, max: 64, default: 16 },
} as const;

/** Bounds of a text explanation's budget (word-level LIME). */
export const TEXT_EXPLAIN_BOUNDS = {
  samples: { min: 16, max: 1024, default: 256 },
  maxWords: { min: 1, max: 200, default: 100 },
  /** Most characters of one explained text. */
  maxChars: 5_000,
} as const;

/** Most images or texts one predict request may ask explanations for. */
export const MAX_EXPLAINED_PER_PREDICT = 4;

type Schema = Record<string, unknown>;
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const int = (b: { min: number; max: number; default: number }, description: string): Schema => ({
  type: 'integer',
  minimum: b.min,
  maximum: b.max,
  default: b.default,
  description,
});

export const SERVING_OPENAPI_SCHEMAS: Record<string, Schema> = {
  ImageExplainOptions: {
    type: 'object',
    additionalProperties: false,
    description:
      'An image explanation and its budget (docs/interpretability.md). `samples` is SmoothGrad noise copies ' +
      `(${IMAGE_EXPLAIN_BOUNDS.smoothgradSamples.min}-${IMAGE_EXPLAIN_BOUNDS.smoothgradSamples.max}, default ${IMAGE_EXPLAIN_BOUNDS.smoothgradSamples.default}) ` +
      `or LIME perturbed images (${IMAGE_EXPLAIN_BOUNDS.limeSamples.min}-${IMAGE_EXPLAIN_BOUNDS.limeSamples.max}, default ${IMAGE_EXPLAIN_BOUNDS.limeSamples.default}).`,
    properties: {
      method: {
        type: 'string',
        enum: ['grad-cam', 'integrated-gradients', 'smoothgrad', 'lime'],
        default: 'grad-cam',
      },
      steps: int(IMAGE_EXPLAIN_BOUNDS.steps, 'Integrated Gradients: path intervals'),
      samples: {
        type: 'integer',
        minimum: IMAGE_EXPLAIN_BOUNDS.smoothgradSamples.min,
        maximum: IMAGE_EXPLAIN_BOUNDS.limeSamples.max,
        description: 'SmoothGrad noise copies or LIME perturbed images (bounds per method above)',
      },
      segments: int(IMAGE_EXPLAIN_BOUNDS.segments, 'LIME: SLIC superpixels'),
      target: {
        type: 'integer',
        minimum: 0,
        description: 'Class index to explain (default: the predicted class)',
      },
      seed: { type: 'integer', minimum: 0, maximum: 2147483647, default: 0 },
      grid: int(IMAGE_EXPLAIN_BOUNDS.grid, 'Rows and columns of the heatmap in the answer'),
      overlay: { type: 'boolean', default: true, description: 'Include a PNG of the heatmap over the image' },
    },
  },
  TextExplainOptions: {
    type: 'object',
    additionalProperties: false,
    description: `A text explanation (word-level LIME) and its budget; texts of at most ${TEXT_EXPLAIN_BOUNDS.maxChars} characters.`,
    properties: {
      method: { type: 'string', enum: ['lime'], default: 'lime' },
      samples: int(TEXT_EXPLAIN_BOUNDS.samples, 'Perturbed texts (each removes a random set of words)'),
      maxWords: int(TEXT_EXPLAIN_BOUNDS.maxWords, 'Most distinct words explained (the most frequent first)'),
      target: {
        type: 'integer',
        minimum: 0,
        description: 'Class index to explain (default: the predicted class)',
      },
      seed: { type: 'integer', minimum: 0, maximum: 2147483647, default: 0 },
    },
  },
  ExplainTarget: {
    type: 'object',
    required: ['index', 'label'],
    properties: { index: { type: 'integer' }, label: { type: 'string' } },
  },
  ImageExplanation: {
    type: 'object',
    required: ['method', 'target', 'probability', 'heatmap', 'overlay', 'cost'],
    properties: {
      method: { type: 'string', enum: ['grad-cam', 'integrated-gradients', 'smoothgrad', 'lime'] },
      target: ref('ExplainTarget'),
      probability: {
        type: 'number',
        description: 'p(target) for the image (alone, without test-time views)',
      },
      testTimeViews: {
        type: 'array',
        items: { type: 'string', enum: ['mirror', 'gray'] },
        description:
          "Only for a model with test-time averaging (its manifest's `tta`): predict averages the probabilities over the image and these views; the explanation and `probability` are of the image alone",
      },
      heatmap: {
        type: 'object',
        required: ['rows', 'cols', 'values'],
        description: 'The heatmap averaged over a grid, row-major; larger = more evidence for the target',
        properties: {
          rows: { type: 'integer' },
          cols: { type: 'integer' },
          values: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
        },
      },
      overlay: {
        type: 'object',
        nullable: true,
        required: ['contentType', 'base64'],
        properties: { contentType: { type: 'string', enum: ['image/png'] }, base64: { type: 'string' } },
      },
      cost: {
        type: 'object',
        required: ['modelImages', 'ms'],
        properties: { modelImages: { type: 'integer' }, ms: { type: 'number' } },
      },
      completenessGap: { type: 'number', description: 'Integrated Gradients only' },
    },
  },
  TextExplanation: {
    type: 'object',
    required: ['method', 'target', 'probability', 'words', 'intercept', 'score', 'cost'],
    properties: {
      method: { type: 'string', enum: ['lime'] },
      target: ref('ExplainTarget'),
      probability: { type: 'number', description: 'p(target) for the whole text' },
      words: {
        type: 'array',
        description: 'Distinct words (case-folded) by |weight|, largest first',
        items: {
          type: 'object',
          required: ['word', 'weight', 'spans'],
          properties: {
            word: { type: 'string' },
            weight: { type: 'number', description: 'Change of p(target) when the word is present' },
            spans: {
              type: 'array',
              description: '[start, end) UTF-16 offsets of each occurrence in the text',
              items: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 },
            },
          },
        },
      },
      intercept: { type: 'number' },
      score: { type: 'number', description: 'Weighted R² of the local linear model' },
      cost: {
        type: 'object',
        required: ['modelTexts', 'ms'],
        properties: { modelTexts: { type: 'integer' }, ms: { type: 'number' } },
      },
    },
  },
  Prediction: {
    description:
      "One instance's prediction: image and text models answer the label, its score and the top-k; tabular classifiers the label, its index, score and every class's probability; regression models `value`",
    anyOf: [ref('ClassPrediction'), ref('TabularClassPrediction'), ref('RegressionPrediction')],
  },
  ClassPrediction: {
    type: 'object',
    required: ['label', 'score', 'top'],
    description: "An image or text model's prediction",
    properties: {
      label: { type: 'string' },
      score: { type: 'number' },
      top: {
        type: 'array',
        items: {
          type: 'object',
          required: ['label', 'score'],
          properties: { label: { type: 'string' }, score: { type: 'number' } },
        },
      },
      explanation: {
        description: 'With the `explain` option',
        oneOf: [ref('ImageExplanation'), ref('TextExplanation')],
      },
    },
    additionalProperties: true,
  },
  TabularClassPrediction: {
    type: 'object',
    required: ['label', 'index', 'score', 'probabilities'],
    description: "A tabular classifier's prediction",
    properties: {
      label: { type: 'string' },
      index: { type: 'integer' },
      score: { type: 'number' },
      probabilities: { type: 'object', additionalProperties: { type: 'number' } },
    },
  },
  RegressionPrediction: {
    type: 'object',
    required: ['value'],
    description: "A tabular regression model's prediction",
    properties: { value: { type: 'number' } },
  },
  PredictAnswer: {
    type: 'object',
    required: ['deploymentId', 'modelId', 'modelVersion', 'predictions', 'tookMs'],
    properties: {
      deploymentId: { type: 'string' },
      modelId: { type: 'string' },
      modelVersion: { type: 'string' },
      predictions: { type: 'array', items: ref('Prediction') },
      tookMs: { type: 'number' },
    },
  },
  PredictJsonBody: {
    type: 'object',
    description:
      'Images as base64 (`images`) for image models, or `instances` for text models (strings) and tabular models (records). ' +
      `\`explain\` (image and text models): an explanation of each prediction, for at most ${MAX_EXPLAINED_PER_PREDICT} instances.`,
    properties: {
      images: {
        type: 'array',
        items: {
          oneOf: [
            { type: 'string', description: 'base64 (standard or url-safe) or a data: URL' },
            { type: 'object', required: ['base64'], properties: { base64: { type: 'string' } } },
          ],
        },
      },
      instances: {
        type: 'array',
        items: { oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }] },
      },
      topK: { type: 'integer', minimum: 1, maximum: 100 },
      explain: { oneOf: [ref('ImageExplainOptions'), ref('TextExplainOptions')] },
    },
  },
  ExplainJsonBody: {
    type: 'object',
    description:
      'One image (`image`, base64) for an image model, or one text (`instances: [text]`) for a text model.',
    properties: {
      image: { type: 'string', description: 'base64 (standard or url-safe) or a data: URL' },
      images: { type: 'array', maxItems: 1, items: { type: 'string' } },
      instances: { type: 'array', maxItems: 1, items: { type: 'string' } },
      explain: { oneOf: [ref('ImageExplainOptions'), ref('TextExplainOptions')] },
    },
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details (application/problem+json)',
    required: ['type', 'title', 'status', 'code'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string' },
      reason: { type: 'string' },
      requestId: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          properties: { field: { type: 'string' }, messages: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
    additionalProperties: true,
  },
};

const servingServer = [
  {
    url: '{servingUrl}',
    description: "The serving app (a deployment's predictUrl names it), not the API",
    variables: { servingUrl: { default: 'http://localhost:3002' } },
  },
];

const problems = (codes: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(codes).map(([status, description]) => [
      status,
      { description, content: { 'application/problem+json': { schema: ref('Problem') } } },
    ]),
  );

const multipartForm = (description: string): Schema => ({
  type: 'object',
  description,
  properties: {
    image: { type: 'array', items: { type: 'string', format: 'binary' } },
    topK: { type: 'string', description: 'An integer 1..100' },
    explain: { type: 'string', description: 'The explain options as JSON text' },
  },
});

const idParam = (description: string) => [
  { name: 'id', in: 'path', required: true, description, schema: { type: 'string', format: 'uuid' } },
];

export const SERVING_OPENAPI_PATHS: Record<string, Schema> = {
  '/v1/deployments/{id}/predict': {
    servers: servingServer,
    post: {
      tags: ['serving'],
      operationId: 'Serving_predict',
      summary: 'Predict with a deployment (the serving app; a PREDICT key)',
      description:
        'Images (multipart parts, JSON base64, or one raw image/* body) for image models; JSON `{"instances": [...]}` for text and ' +
        'tabular models. With `explain`, each prediction carries an `explanation` (image and text models). docs/serving.md.',
      security: [{ bearer: [] }],
      parameters: idParam('Deployment id'),
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: ref('PredictJsonBody') },
          'multipart/form-data': { schema: multipartForm('Every file part is an image, in order') },
          'image/*': { schema: { type: 'string', format: 'binary' } },
        },
      },
      responses: {
        '200': {
          description: 'One prediction per instance, in order',
          content: { 'application/json': { schema: ref('PredictAnswer') } },
        },
        ...problems({
          '400': 'Invalid input (names the field)',
          '401': 'No or bad key',
          '403': 'The key lacks PREDICT',
          '404': 'No such deployment for this tenant',
          '409': 'The deployment is undeployed',
          '413': 'Body or instance count over the limits',
          '415': 'Not multipart, JSON or image/*',
          '422': 'An image or model refused, or input that does not fit the model',
          '429': 'Over the key’s rate (Retry-After)',
          '503': 'Shed, timed out or shutting down (Retry-After)',
        }),
      },
    },
  },
  '/v1/models/{id}/explain': {
    servers: servingServer,
    post: {
      tags: ['serving'],
      operationId: 'Serving_explain',
      summary:
        'Explain one prediction of a model: a heatmap for an image, word weights for a text (the serving app; a PREDICT key)',
      description:
        'Image models: one image (multipart `image` part with an `explain` JSON field, or JSON `{"image", "explain"}`), answered with an ImageExplanation. ' +
        'Text models: JSON `{"instances": [text], "explain"}`, answered with a TextExplanation (word-level LIME). docs/serving.md, docs/interpretability.md.',
      security: [{ bearer: [] }],
      parameters: idParam('Model id'),
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: ref('ExplainJsonBody') },
          'multipart/form-data': { schema: multipartForm('One image part and the `explain` field') },
          'image/*': { schema: { type: 'string', format: 'binary' } },
        },
      },
      responses: {
        '200': {
          description: 'The explanation, with the model that gave it',
          content: {
            'application/json': {
              schema: {
                allOf: [
                  {
                    type: 'object',
                    required: ['modelId', 'modelVersion', 'tookMs'],
                    properties: {
                      modelId: { type: 'string' },
                      modelVersion: { type: 'string' },
                      tookMs: { type: 'number' },
                    },
                  },
                  { oneOf: [ref('ImageExplanation'), ref('TextExplanation')] },
                ],
              },
            },
          },
        },
        ...problems({
          '400': 'Invalid options or input (names the field; `limits` gives the bounds)',
          '401': 'No or bad key',
          '403': 'The key lacks PREDICT',
          '404': 'No such model for this tenant',
          '413': 'More than one image or text',
          '422':
            'An image refused, a target the model lacks, input that does not fit the model, or a model that cannot be explained',
          '429': 'Over the key’s rate (Retry-After)',
          '503': 'Explanations already running (QUEUE_FULL), or shed (Retry-After)',
        }),
      },
    },
  },
};
