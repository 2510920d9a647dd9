import { useEffect, useMemo, useState } from 'preact/hooks';
import { LineChart, type Series } from '../charts';
import { isTerminal, useJob } from '../follow';
import { href } from '../router';
import { rankTrials, trialMetric, trialValue } from '../trial-rank';
import type { Job, JobEvent, Trial } from '../types';
import {
  duration,
  ErrorNote,
  num,
  pct,
  Progress,
  Section,
  Status,
  Table,
  useClient,
  useLoad,
  when,
} from '../ui';

interface EpochData {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  phase?: string;
}

/** Per-epoch points from the job's `metrics` events, numbered across phases (each restarts at 0). */
function curves(events: JobEvent[]): { loss: Series[]; accuracy: Series[] } {
  const rows = events
    .filter((e) => e.type === 'metrics' && e.data && typeof (e.data as { loss?: unknown }).loss === 'number')
    .map((e, i) => ({ x: i + 1, d: e.data as unknown as EpochData }));
  const pts = (f: (d: EpochData) => number | undefined) =>
    rows.flatMap((r) => {
      const y = f(r.d);
      return typeof y === 'number' && Number.isFinite(y) ? [{ x: r.x, y }] : [];
    });
  return {
    loss: [
      { name: 'training loss', tone: 'a', points: pts((d) => d.loss) },
      { name: 'validation loss', tone: 'b', points: pts((d) => d.val_loss) },
    ],
    accuracy: [
      { name: 'training accuracy', tone: 'c', points: pts((d) => d.accuracy) },
      { name: 'validation accuracy', tone: 'd', points: pts((d) => d.val_accuracy) },
    ],
  };
}

export function JobPage({ id }: { id: string }) {
  const c = useClient();
  const { job, events, error } = useJob(c, id);
  const chart = useMemo(() => curves(events), [events]);
  // Every epoch the job ran, in order: phases (warmup, main) and, in a search, one trial after another.
  const xLabel = 'epoch (in order)';
  const [cancelError, setCancelError] = useState<unknown>();
  const modelId = (job?.result as { modelId?: string } | null | undefined)?.modelId;
  if (!job) return error ? <ErrorNote error={error} /> : <p aria-live="polite">Loading…</p>;
  const cancel = async () => {
    try {
      await c.ok(c.api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } }));
    } catch (e) {
      setCancelError(e);
    }
  };
  return (
    <>
      <h1>
        Job <span class="mono small">{job.id}</span>
      </h1>
      <Section title="Progress">
        <p>
          <Status status={job.status} /> {job.kind.toLowerCase()}
          {job.stage ? ` · ${job.stage}` : ''}
        </p>
        <div aria-live="polite" data-testid="job-status" data-status={job.status}>
          <Progress
            label="Job progress"
            value={job.status === 'SUCCEEDED' ? 100 : job.percent}
            detail={
              isTerminal(job)
                ? `${job.status.toLowerCase()}${job.computeSeconds ? ` in ${duration(job.computeSeconds)}` : ''}`
                : `about ${duration(job.etaSeconds)} left`
            }
          />
        </div>
        <dl class="stats">
          <div>
            <dt>Best metric</dt>
            <dd>{pct(job.bestMetric)}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{when(job.startedAt)}</dd>
          </div>
          <div>
            <dt>Time left</dt>
            <dd>{isTerminal(job) ? '—' : duration(job.etaSeconds)}</dd>
          </div>
        </dl>
        {job.failureReason && (
          <p class="error" role="alert">
            {job.failureCode}: {job.failureReason}
          </p>
        )}
        {modelId && (
          <p>
            <a class="button primary" href={href('models', modelId)}>
              Open the model
            </a>
          </p>
        )}
        {!isTerminal(job) && (
          <button type="button" onClick={() => void cancel()}>
            Cancel job
          </button>
        )}
        <ErrorNote error={cancelError ?? error} />
      </Section>
      {job.kind !== 'INGEST_DATASET' && (
        <Section title="Training curves">
          <div class="charts">
            <LineChart title="Loss" series={chart.loss} xLabel={xLabel} />
            <LineChart title="Accuracy" series={chart.accuracy} xLabel={xLabel} yRange={[0, 1]} />
          </div>
        </Section>
      )}
      <Trials job={job} />
      <Section title="Events">
        <ol class="events" aria-live="off">
          {events.slice(-30).map((e) => (
            <li key={e.seq} data-type={e.type}>
              <span class="muted">{new Date(e.createdAt).toLocaleTimeString()}</span> {e.type}
              {e.stage ? ` · ${e.stage}` : ''}
              {e.percent !== null && e.percent !== undefined ? ` · ${Math.round(e.percent)}%` : ''}
              {e.message ? `: ${e.message}` : ''}
            </li>
          ))}
        </ol>
      </Section>
    </>
  );
}

/** The search's trials (mode auto) ranked by the metric the search chose by; refreshed while the job runs. */
function Trials({ job }: { job: Job }) {
  const c = useClient();
  const running = !isTerminal(job);
  const trials = useLoad(
    async () =>
      await c.ok(
        c.api.GET('/v1/jobs/{id}/trials', { params: { path: { id: job.id }, query: { limit: 100 } } }),
      ),
    [c, job.id, job.status],
  );
  useEffect(() => {
    if (!running) return;
    const t = setInterval(trials.reload, 3000);
    return () => clearInterval(t);
  }, [running, trials.reload]);
  const items = trials.data?.items ?? [];
  if (items.length === 0) return null;
  // By the metric the search chose by: text macro-F1, tabular validation loss, images accuracy.
  const metric = trialMetric(items);
  const ranked = rankTrials(items, metric);
  const shown = (t: Trial) => {
    const v = trialValue(t.metrics, metric.key);
    return v === undefined ? '—' : metric.percent ? pct(v) : num(v, 4);
  };
  return (
    <Section title="Trials leaderboard">
      <Table head={['Rank', 'Trial', 'Status', metric.label, 'Parameters', 'Cost']}>
        {ranked.map((t, i) => (
          <tr key={t.id} class={t.modelId ? 'selected' : ''}>
            <td>{i + 1}</td>
            <td>
              #{t.index}
              {t.modelId ? ' (kept)' : ''}
            </td>
            <td>
              <Status status={t.status} />
              {typeof (t.metrics as { error?: unknown } | null)?.error === 'string' && (
                <span class="small muted"> {String((t.metrics as { error: string }).error)}</span>
              )}
            </td>
            <td>{shown(t)}</td>
            <td class="small mono">
              {Object.entries((t.params ?? {}) as Record<string, unknown>)
                .map(
                  ([k, v]) => `${k}=${typeof v === 'number' ? num(v, 4).replace(/\.?0+$/, '') : String(v)}`,
                )
                .join(' ')}
            </td>
            <td>{duration(t.costSeconds)}</td>
          </tr>
        ))}
      </Table>
    </Section>
  );
}

export function JobsPage() {
  const c = useClient();
  const list = useLoad(
    async () => await c.ok(c.api.GET('/v1/jobs', { params: { query: { limit: 50 } } })),
    [c],
  );
  return (
    <>
      <h1>Jobs</h1>
      <Section title="Recent jobs">
        <ErrorNote error={list.error} />
        {list.data && list.data.items.length === 0 && <p>No jobs yet.</p>}
        {list.data && list.data.items.length > 0 && (
          <Table head={['Job', 'Kind', 'Status', 'Progress', 'Best', 'Created']}>
            {list.data.items.map((j) => (
              <tr key={j.id}>
                <td>
                  <a class="mono" href={href('jobs', j.id)}>
                    {j.id.slice(0, 8)}
                  </a>
                </td>
                <td>{j.kind.toLowerCase()}</td>
                <td>
                  <Status status={j.status} />
                </td>
                <td>{j.percent === null || j.percent === undefined ? '—' : `${Math.round(j.percent)}%`}</td>
                <td>{pct(j.bestMetric)}</td>
                <td>{when(j.createdAt)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
    </>
  );
}
