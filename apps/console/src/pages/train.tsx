import { useState } from 'preact/hooks';
import type { Schemas } from '@modelsmith/sdk/browser';
import { go } from '../router';
import type { Estimate, Version } from '../types';
import { duration, ErrorNote, Section, useClient, useLoad } from '../ui';

type CreateJob = Schemas['CreateJobDto'];
const MODES = [
  ['auto', 'auto: search recipes and hyper-parameters within the budget'],
  ['fast', 'fast: one quick recipe'],
  ['balanced', 'balanced'],
  ['best', 'best: the longest recipe'],
] as const;

const jobTask = (datasetTask: string): CreateJob['task'] =>
  datasetTask === 'image-classification'
    ? 'image-classification'
    : datasetTask === 'text-classification'
      ? 'text-classification'
      : 'tabular';

/** The training form: mode, budget, backbone; the estimate (dryRun) first, then the real start. */
export function TrainCard({ datasetTask, version }: { datasetTask: string; version: Version }) {
  const c = useClient();
  const image = datasetTask === 'image-classification';
  const backbones = useLoad(async () => (image ? await c.ok(c.api.GET('/v1/backbones')) : []), [c, image]);
  const [mode, setMode] = useState<CreateJob['mode']>('fast');
  const [maxMinutes, setMaxMinutes] = useState('10');
  const [maxTrials, setMaxTrials] = useState('');
  const [backbone, setBackbone] = useState('auto');
  const [epochs, setEpochs] = useState('');
  const [target, setTarget] = useState('');
  const tabular = datasetTask.startsWith('tabular');
  const [estimate, setEstimate] = useState<Estimate>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<'estimate' | 'start'>();

  const body = (dryRun: boolean): CreateJob => {
    const options: Record<string, unknown> = {};
    if (image && backbone !== 'auto') options.backbone = backbone;
    if (epochs) options.epochs = Number(epochs);
    if (tabular && target.trim()) options.target = target.trim();
    return {
      task: jobTask(datasetTask),
      datasetVersionId: version.id,
      mode,
      budget: {
        maxMinutes: Number(maxMinutes),
        ...(mode === 'auto' && maxTrials ? { maxTrials: Number(maxTrials) } : {}),
      },
      ...(Object.keys(options).length ? { options: options as CreateJob['options'] } : {}),
      ...(dryRun ? { dryRun: true } : {}),
    } as CreateJob;
  };
  const changed = () => setEstimate(undefined);
  const ask = async (e: Event) => {
    e.preventDefault();
    if (!image) return start(); // the dry run estimates image classification only
    setBusy('estimate');
    setError(undefined);
    try {
      setEstimate((await c.ok(c.api.POST('/v1/jobs', { body: body(true) }))) as unknown as Estimate);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };
  const start = async () => {
    setBusy('start');
    setError(undefined);
    try {
      const job = await c.ok(c.api.POST('/v1/jobs', { body: body(false) }));
      go('jobs', job.id);
    } catch (err) {
      setError(err);
      setBusy(undefined);
    }
  };
  return (
    <Section title={`Train a model on v${version.version}`} id="train-title">
      <form onSubmit={(e) => void ask(e)}>
        <div class="row">
          <div class="field">
            <label for="train-mode">Mode</label>
            <select
              id="train-mode"
              value={mode}
              onChange={(e) => {
                setMode(e.currentTarget.value as CreateJob['mode']);
                changed();
              }}
            >
              {MODES.map(([m, label]) => (
                <option key={m} value={m}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="train-minutes">Budget (minutes)</label>
            <input
              id="train-minutes"
              type="number"
              min={1}
              max={1440}
              required
              value={maxMinutes}
              onInput={(e) => {
                setMaxMinutes(e.currentTarget.value);
                changed();
              }}
            />
          </div>
          {mode === 'auto' && (
            <div class="field">
              <label for="train-trials">Most trials</label>
              <input
                id="train-trials"
                type="number"
                min={1}
                max={200}
                placeholder="no limit"
                value={maxTrials}
                onInput={(e) => {
                  setMaxTrials(e.currentTarget.value);
                  changed();
                }}
              />
            </div>
          )}
          {image && (
            <div class="field">
              <label for="train-backbone">Backbone</label>
              <select
                id="train-backbone"
                value={backbone}
                onChange={(e) => {
                  setBackbone(e.currentTarget.value);
                  changed();
                }}
              >
                <option value="auto">auto (picked for the data)</option>
                {(backbones.data ?? []).map((b) => (
                  <option key={b.id} value={b.id}>
                    {b.displayName} ({b.id}
                    {b.pretrained ? ', pretrained' : ''})
                  </option>
                ))}
              </select>
            </div>
          )}
          {tabular && (
            <div class="field">
              <label for="train-target">Target column</label>
              <input
                id="train-target"
                maxLength={200}
                placeholder="the version's target"
                value={target}
                onInput={(e) => setTarget(e.currentTarget.value)}
              />
            </div>
          )}
          <div class="field">
            <label for="train-epochs">Epochs</label>
            <input
              id="train-epochs"
              type="number"
              min={1}
              max={500}
              placeholder="recipe default"
              value={epochs}
              onInput={(e) => {
                setEpochs(e.currentTarget.value);
                changed();
              }}
            />
          </div>
        </div>
        {image && (
          <button type="submit" disabled={busy !== undefined}>
            {busy === 'estimate' ? 'Estimating…' : 'Estimate'}
          </button>
        )}
      </form>
      {estimate && (
        <div class="estimate" aria-live="polite" data-testid="estimate">
          <h3>Estimate</h3>
          <dl class="stats">
            <div>
              <dt>Expected time</dt>
              <dd>{duration(estimate.expectedSeconds)}</dd>
            </div>
            <div>
              <dt>First model after</dt>
              <dd>{duration(estimate.firstModelSeconds)}</dd>
            </div>
            <div>
              <dt>Compute charged</dt>
              <dd>{estimate.computeMinutes} min</dd>
            </div>
            <div>
              <dt>Quota left</dt>
              <dd>
                {estimate.quota.remainingMinutes} of {estimate.quota.limitMinutes} min
              </dd>
            </div>
            <div>
              <dt>Training samples</dt>
              <dd>{estimate.samples.train}</dd>
            </div>
          </dl>
          {estimate.limitedByBudget && (
            <p>The budget ends the job before all its epochs: the best model so far is kept.</p>
          )}
          {!estimate.quota.fits && <p class="error">This job would exceed the remaining compute quota.</p>}
          {estimate.note && <p class="muted">{estimate.note}</p>}
        </div>
      )}
      {(estimate || !image) && (
        <button type="button" class="primary" disabled={busy !== undefined} onClick={() => void start()}>
          {busy === 'start' ? 'Starting…' : 'Start training'}
        </button>
      )}
      <ErrorNote error={error} />
    </Section>
  );
}
