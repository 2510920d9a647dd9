import { useEffect, useMemo, useState } from 'preact/hooks';
import { predictBlobs, type PredictAnswer } from '@modelsmith/sdk/browser';
import { CalibrationChart, ConfusionMatrix, LineChart, pointAt, PrChart, type Series } from '../charts';
import { href } from '../router';
import type { Deployment, EvaluationReport, Model } from '../types';
import { bytes, ErrorNote, num, pct, Section, Status, Table, useClient, useLoad, when } from '../ui';

export function ModelsPage() {
  const c = useClient();
  const list = useLoad(
    async () => await c.ok(c.api.GET('/v1/models', { params: { query: { limit: 50 } } })),
    [c],
  );
  return (
    <>
      <h1>Models</h1>
      <Section title="Trained models">
        <ErrorNote error={list.error} />
        {list.data && list.data.items.length === 0 && <p>No models yet: train one from a dataset.</p>}
        {list.data && list.data.items.length > 0 && (
          <Table head={['Model', 'Task', 'Backbone', 'Accuracy', 'Size', 'Created']}>
            {list.data.items.map((m) => (
              <tr key={m.id}>
                <td>
                  <a href={href('models', m.id)}>{m.name ?? m.id.slice(0, 8)}</a>
                </td>
                <td>{m.task}</td>
                <td>{m.backbone ?? '—'}</td>
                <td>{pct(typeof m.metrics?.accuracy === 'number' ? m.metrics.accuracy : null)}</td>
                <td>{bytes(m.sizeBytes)}</td>
                <td>{when(m.createdAt)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
    </>
  );
}

export function ModelPage({ id }: { id: string }) {
  const c = useClient();
  const model = useLoad(
    async () => (await c.ok(c.api.GET('/v1/models/{id}', { params: { path: { id } } }))) as unknown as Model,
    [c, id],
  );
  if (model.error) return <ErrorNote error={model.error} />;
  if (!model.data) return <p aria-live="polite">Loading…</p>;
  const m = model.data;
  const r = m.report && typeof m.report.accuracy === 'number' ? m.report : undefined;
  return (
    <>
      <h1>Model {m.name ?? <span class="mono small">{m.id}</span>}</h1>
      <Section title="Summary">
        <dl class="stats" data-testid="model-metrics">
          <div>
            <dt>Test accuracy</dt>
            <dd data-testid="accuracy">{pct(r?.accuracy ?? m.metrics?.accuracy)}</dd>
          </div>
          {r?.macro && (
            <div>
              <dt>Macro F1</dt>
              <dd>{num(r.macro.f1)}</dd>
            </div>
          )}
          {r?.logLoss !== undefined && (
            <div>
              <dt>Log loss</dt>
              <dd>{num(r.logLoss)}</dd>
            </div>
          )}
          {r && (
            <div>
              <dt>Test samples</dt>
              <dd>{r.numSamples}</dd>
            </div>
          )}
          <div>
            <dt>Backbone</dt>
            <dd>{m.backbone ?? '—'}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>{bytes(m.sizeBytes)}</dd>
          </div>
        </dl>
        {m.jobId && (
          <p>
            Trained by <a href={href('jobs', m.jobId)}>job {m.jobId.slice(0, 8)}</a>.
          </p>
        )}
      </Section>
      <DeployCard model={m} />
      {r && <Evaluation r={r} />}
      {m.trainingCurves && m.trainingCurves.length > 0 && <Curves history={m.trainingCurves} />}
    </>
  );
}

function Curves({ history }: { history: NonNullable<Model['trainingCurves']> }) {
  const pts = (f: (h: (typeof history)[number]) => number | undefined) =>
    history.flatMap((h, i) => {
      const y = f(h);
      return typeof y === 'number' ? [{ x: i + 1, y }] : [];
    });
  const loss: Series[] = [
    { name: 'training loss', tone: 'a', points: pts((h) => h.loss) },
    { name: 'validation loss', tone: 'b', points: pts((h) => h.val_loss) },
  ];
  const acc: Series[] = [
    { name: 'training accuracy', tone: 'c', points: pts((h) => h.accuracy) },
    { name: 'validation accuracy', tone: 'd', points: pts((h) => h.val_accuracy) },
  ];
  return (
    <Section title="Training curves">
      <div class="charts">
        <LineChart title="Loss" series={loss} xLabel="epoch" />
        <LineChart title="Accuracy" series={acc} xLabel="epoch" yRange={[0, 1]} />
      </div>
    </Section>
  );
}

function Evaluation({ r }: { r: EvaluationReport }) {
  const curves = r.prCurves ?? [];
  const [cls, setCls] = useState(0);
  const curve = curves[cls];
  const suggested = r.perClass?.[cls]?.suggestedThreshold?.threshold ?? 0.5;
  const [threshold, setThreshold] = useState(suggested);
  useEffect(() => setThreshold(suggested), [cls, suggested]);
  const at = curve && curve.points.length ? pointAt(curve.points, threshold) : undefined;
  return (
    <>
      <Section title="Evaluation on the held-out test split">
        {r.perClass && (
          <Table
            caption="Per class"
            head={['Class', 'Precision', 'Recall', 'F1', 'Average precision', 'Support']}
          >
            {r.perClass.map((k) => (
              <tr key={k.index}>
                <th scope="row">{k.name}</th>
                <td>{num(k.precision)}</td>
                <td>{num(k.recall)}</td>
                <td>{num(k.f1)}</td>
                <td>{num(k.averagePrecision)}</td>
                <td>{k.support}</td>
              </tr>
            ))}
          </Table>
        )}
        {r.confusionMatrix && <ConfusionMatrix names={r.classNames} m={r.confusionMatrix} />}
        {r.topK && r.topK.length > 1 && (
          <p>
            {r.topK.map((t) => (
              <span key={t.k} class="pill">
                top-{t.k} {pct(t.accuracy)}
              </span>
            ))}
          </p>
        )}
      </Section>
      {curve && (
        <Section title="Precision-recall and threshold">
          <div class="row">
            <div class="field">
              <label for="pr-class">Class</label>
              <select
                id="pr-class"
                value={String(cls)}
                onChange={(e) => setCls(Number(e.currentTarget.value))}
              >
                {curves.map((k, i) => (
                  <option key={k.index} value={String(i)}>
                    {k.name}
                  </option>
                ))}
              </select>
            </div>
            <div class="field grow">
              <label for="pr-threshold">Score threshold: {threshold.toFixed(2)}</label>
              <input
                id="pr-threshold"
                type="range"
                min={0}
                max={1}
                step={0.01}
                value={threshold}
                onInput={(e) => setThreshold(Number(e.currentTarget.value))}
              />
            </div>
          </div>
          {at && (
            <p aria-live="polite">
              Predicting “{curve.name}” when its score is at least {threshold.toFixed(2)}: precision{' '}
              {num(at.precision)}, recall {num(at.recall)}. Best F1 at {suggested.toFixed(2)}.
            </p>
          )}
          <PrChart title={`Class ${curve.name}`} points={curve.points} threshold={threshold} />
        </Section>
      )}
      {r.calibration && r.calibration.bins.length > 0 && (
        <Section title="Calibration">
          <CalibrationChart bins={r.calibration.bins} ece={r.calibration.ece} />
        </Section>
      )}
    </>
  );
}

/** Deploy the model (or use its active deployment), then try it: drop an image, type a text or a record. */
function DeployCard({ model }: { model: Model }) {
  const c = useClient();
  const deployments = useLoad(
    async () =>
      await c.ok(
        c.api.GET('/v1/deployments', { params: { query: { limit: 100, status: 'ACTIVE' } as never } }),
      ),
    [c, model.id],
  );
  const active = deployments.data?.items.find((d) => d.modelId === model.id && d.status === 'ACTIVE');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const deploy = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await c.ok(c.api.POST('/v1/deployments', { body: { modelId: model.id } }));
      deployments.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Deploy and try it">
      {active ? (
        <>
          <p data-testid="deployment" data-status={active.status}>
            <Status status={active.status} /> deployment <span class="mono small">{active.id}</span>. Predict
            URL: <code class="wrap">{active.predictUrl}</code>
          </p>
          <TryIt model={model} deployment={active} />
        </>
      ) : (
        <button
          type="button"
          class="primary"
          disabled={busy || deployments.loading}
          onClick={() => void deploy()}
        >
          {busy ? 'Deploying…' : 'Deploy this model'}
        </button>
      )}
      <ErrorNote error={error ?? deployments.error} />
    </Section>
  );
}

function TryIt({ model, deployment }: { model: Model; deployment: Deployment }) {
  const c = useClient();
  const image = model.task.toLowerCase().includes('image');
  const [answer, setAnswer] = useState<PredictAnswer>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [picture, setPicture] = useState<{ url: string; file: File }>();
  const [overlay, setOverlay] = useState<string>();
  const [text, setText] = useState('');
  const [over, setOver] = useState(false);
  useEffect(() => () => picture && URL.revokeObjectURL(picture.url), [picture]);

  const run = async (f: () => Promise<PredictAnswer>) => {
    setBusy(true);
    setError(undefined);
    setAnswer(undefined);
    setOverlay(undefined);
    try {
      setAnswer(await f());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const predictImage = (file: File) => {
    setPicture({ url: URL.createObjectURL(file), file });
    void run(() => predictBlobs(c, deployment.predictUrl, [{ name: file.name, blob: file }], 5));
  };
  const predictJson = () => {
    let instance: unknown = text;
    if (!model.task.toLowerCase().includes('text')) {
      try {
        instance = JSON.parse(text);
      } catch {
        setError(new Error('the record must be a JSON object, e.g. {"age": 41, "city": "Lyon"}'));
        return;
      }
    }
    void run(async () => {
      const res = await c.raw(deployment.predictUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: [instance], topK: 5 }),
      });
      return (await res.json()) as PredictAnswer;
    });
  };
  const explain = async () => {
    if (!picture) return;
    setBusy(true);
    setError(undefined);
    try {
      const form = new FormData();
      form.append('image', picture.file, picture.file.name);
      form.append('explain', JSON.stringify({ method: 'grad-cam', grid: 8 }));
      const url = `${new URL(deployment.predictUrl).origin}/v1/models/${encodeURIComponent(model.id)}/explain`;
      const res = await c.raw(url, { method: 'POST', body: form });
      const e = (await res.json()) as { overlay?: { contentType: string; base64: string } | null };
      if (e.overlay) setOverlay(`data:${e.overlay.contentType};base64,${e.overlay.base64}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const top = answer?.predictions[0];
  // Image and text models answer `top`; tabular classifiers `probabilities`; regression a `value`.
  const shown = useMemo(() => {
    if (!top || top.label === undefined) return [];
    if (top.top) return top.top;
    if (top.probabilities)
      return Object.entries(top.probabilities)
        .map(([label, score]) => ({ label, score }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 5);
    return [{ label: top.label, score: top.score }];
  }, [top]);
  return (
    <div class="tryit">
      {image ? (
        <div
          class={`dropzone${over ? ' over' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setOver(false);
            const f = e.dataTransfer?.files[0];
            if (f) predictImage(f);
          }}
        >
          <p>Drop an image here, or</p>
          <label class="button" for="try-file">
            Choose an image
          </label>
          <input
            id="try-file"
            class="visually-hidden"
            type="file"
            accept="image/*"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) predictImage(f);
            }}
          />
        </div>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            predictJson();
          }}
        >
          <label for="try-text">
            {model.task.toLowerCase().includes('text') ? 'Text' : 'Record (JSON object)'}
          </label>
          <textarea
            id="try-text"
            rows={4}
            maxLength={20000}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy || !text.trim()}>
            Predict
          </button>
        </form>
      )}
      {busy && <p aria-live="polite">Working…</p>}
      <ErrorNote error={error} />
      {answer && top && (
        <div class="prediction" aria-live="polite" data-testid="prediction">
          {picture && (
            <div class="pictures">
              <img src={picture.url} alt="the image sent" />
              {overlay && <img src={overlay} alt="explanation: where the model looked (Grad-CAM heatmap)" />}
            </div>
          )}
          {typeof top.value === 'number' ? (
            <p>
              Predicted value: <strong data-testid="predicted-value">{num(top.value, 4)}</strong>, in{' '}
              {answer.tookMs} ms
            </p>
          ) : (
            <p>
              Prediction: <strong data-testid="predicted-label">{top.label}</strong> ({pct(top.score)}), in{' '}
              {answer.tookMs} ms
            </p>
          )}
          {shown.length > 0 && (
            <table>
              <caption>Top {shown.length}</caption>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Score</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((t) => (
                  <tr key={t.label}>
                    <th scope="row">{t.label}</th>
                    <td>
                      <meter min={0} max={1} value={t.score} aria-label={`score of ${t.label}`} />{' '}
                      {pct(t.score)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {picture && !overlay && (
            <button type="button" disabled={busy} onClick={() => void explain()}>
              Explain (heatmap overlay)
            </button>
          )}
        </div>
      )}
    </div>
  );
}
