import { useEffect, useState } from 'preact/hooks';
import type { IngestionReport, Version } from '../types';
import { bytes, ErrorNote, Section, Status, Table, useClient, useLoad, when } from '../ui';
import { UploadCard } from './upload';
import { TrainCard } from './train';

export function DatasetPage({ id }: { id: string }) {
  const c = useClient();
  const ds = useLoad(
    async () => await c.ok(c.api.GET('/v1/datasets/{id}', { params: { path: { id } } })),
    [c, id],
  );
  const versions = ds.data?.versions ?? [];
  const [selected, setSelected] = useState<string>();
  const newestReady = versions.find((v) => v.status === 'READY');
  const shown = versions.find((v) => v.id === selected) ?? newestReady ?? versions[0];
  // While a version is being ingested, refresh the list every 2 s.
  const pending = versions.some((v) => v.status === 'QUEUED' || v.status === 'INGESTING');
  useEffect(() => {
    if (!pending) return;
    const t = setInterval(ds.reload, 2000);
    return () => clearInterval(t);
  }, [pending, ds.reload]);

  if (ds.error) return <ErrorNote error={ds.error} />;
  if (!ds.data) return <p aria-live="polite">Loading…</p>;
  const d = ds.data;
  return (
    <>
      <h1>
        {d.name} <span class="muted small">{d.task}</span>
      </h1>
      {d.description && <p>{d.description}</p>}
      <UploadCard datasetId={d.id} task={d.task} onChanged={ds.reload} />
      <Section title="Versions">
        {versions.length === 0 ? (
          <p>No versions yet: upload a file above.</p>
        ) : (
          <Table
            head={['Version', 'Status', 'Size', 'Created', <span class="visually-hidden">Actions</span>]}
          >
            {versions.map((v) => (
              <tr key={v.id} class={v.id === shown?.id ? 'selected' : ''}>
                <td>v{v.version}</td>
                <td>
                  <Status status={v.status} />
                  {v.status === 'INGESTING' || v.status === 'QUEUED' ? ` ${Math.round(v.percent ?? 0)}%` : ''}
                  {v.failureReason ? <span class="error small"> {v.failureReason}</span> : null}
                </td>
                <td>{bytes(v.sizeBytes)}</td>
                <td>{when(v.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    class="small"
                    aria-pressed={v.id === shown?.id}
                    onClick={() => setSelected(v.id)}
                  >
                    Show v{v.version}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
      {shown && shown.status === 'READY' && (
        <>
          <ReportCard datasetId={d.id} version={shown} />
          <TrainCard datasetTask={d.task} version={shown} />
        </>
      )}
    </>
  );
}

function ReportCard({ datasetId, version }: { datasetId: string; version: Version }) {
  const c = useClient();
  const path = { id: datasetId, versionId: version.id };
  const report = useLoad(
    async () =>
      (await c.ok(
        c.api.GET('/v1/datasets/{id}/versions/{versionId}/report', { params: { path } }),
      )) as unknown as {
        report: IngestionReport | null;
      },
    [c, version.id],
  );
  const preview = useLoad(
    async () =>
      version.stats && (version.stats as { kind?: string }).kind !== 'image'
        ? { classes: [] }
        : await c.ok(c.api.GET('/v1/datasets/{id}/versions/{versionId}/preview', { params: { path } })),
    [c, version.id],
  );
  const r = report.data?.report;
  const thumbs = new Map((preview.data?.classes ?? []).map((k) => [k.name, k.samples]));
  return (
    <Section title={`Ingestion report of v${version.version}`} id="report-title">
      <ErrorNote error={report.error ?? preview.error} />
      {!r && report.loading && <p>Loading…</p>}
      {r && (
        <>
          <dl class="stats">
            <div>
              <dt>Samples</dt>
              <dd data-testid="samples">{r.totals.samples}</dd>
            </div>
            <div>
              <dt>Classes</dt>
              <dd>{r.classes.length}</dd>
            </div>
            <div>
              <dt>Skipped</dt>
              <dd>{r.totals.skipped}</dd>
            </div>
            <div>
              <dt>Duplicates</dt>
              <dd>{r.totals.duplicates}</dd>
            </div>
            <div>
              <dt>Splits</dt>
              <dd>
                {Object.entries(r.splits)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(' · ')}
              </dd>
            </div>
            {r.images && (
              <div>
                <dt>Stored at</dt>
                <dd>
                  {r.images.cache.width}×{r.images.cache.height}×{r.images.cache.channels}
                </dd>
              </div>
            )}
          </dl>
          {r.warnings.length > 0 && (
            <>
              <h3>Warnings</h3>
              <ul class="warnings">
                {r.warnings.map((w, i) => (
                  <li key={i}>
                    <strong>{w.code.replace(/_/g, ' ')}</strong>: {w.message}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h3>Classes</h3>
          <Table
            head={[
              'Class',
              'Samples',
              'train / validation / test',
              ...(r.kind === 'image' ? ['Examples'] : []),
            ]}
          >
            {r.classes.map((k) => (
              <tr key={k.index}>
                <th scope="row">{k.name}</th>
                <td>{k.count}</td>
                <td>
                  {k.splits.train ?? 0} / {k.splits.validation ?? 0} / {k.splits.test ?? 0}
                </td>
                {r.kind === 'image' && (
                  <td class="thumbs">
                    {(thumbs.get(k.name) ?? []).slice(0, 6).map((src, i) => (
                      <img
                        key={i}
                        src={src}
                        alt={`example ${i + 1} of ${k.name}`}
                        width={40}
                        height={40}
                        loading="lazy"
                      />
                    ))}
                  </td>
                )}
              </tr>
            ))}
          </Table>
          {Object.keys(r.skippedByReason).length > 0 && (
            <>
              <h3>Skipped</h3>
              <ul>
                {Object.entries(r.skippedByReason).map(([reason, n]) => (
                  <li key={reason}>
                    {reason.replace(/_/g, ' ')}: {n}
                  </li>
                ))}
              </ul>
              <details>
                <summary>Skipped files</summary>
                <ul class="small">
                  {r.skipped.map((s, i) => (
                    <li key={i}>
                      {s.path ?? (s.line !== undefined ? `line ${s.line}` : '')}: {s.message}
                    </li>
                  ))}
                </ul>
                {r.truncatedLists && <p class="muted">(list cut)</p>}
              </details>
            </>
          )}
        </>
      )}
    </Section>
  );
}
