import { useState } from 'preact/hooks';
import { href, go } from '../router';

import { ErrorNote, Section, Status, Table, useClient, useLoad, when } from '../ui';

const TASKS = [
  'image-classification',
  'text-classification',
  'tabular-classification',
  'tabular-regression',
] as const;

export function DatasetsPage() {
  const c = useClient();
  const list = useLoad(
    async () => await c.ok(c.api.GET('/v1/datasets', { params: { query: { limit: 100 } } })),
    [c],
  );
  const [name, setName] = useState('');
  const [task, setTask] = useState<(typeof TASKS)[number]>('image-classification');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const d = await c.ok(c.api.POST('/v1/datasets', { body: { name: name.trim(), task } }));
      go('datasets', d.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Datasets</h1>
      <Section title="New dataset">
        <form class="row" onSubmit={(e) => void create(e)}>
          <div class="field">
            <label for="ds-name">Name</label>
            <input
              id="ds-name"
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="ds-task">Task</label>
            <select id="ds-task" value={task} onChange={(e) => setTask(e.currentTarget.value as typeof task)}>
              {TASKS.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={busy || !name.trim()}>
            Create dataset
          </button>
        </form>
        <ErrorNote error={error} />
      </Section>
      <Section title="Your datasets">
        <ErrorNote error={list.error} />
        {list.loading && !list.data && <p aria-live="polite">Loading…</p>}
        {list.data && list.data.items.length === 0 && <p>No datasets yet: create one above.</p>}
        {list.data && list.data.items.length > 0 && (
          <Table head={['Name', 'Task', 'Latest version', 'Created']}>
            {list.data.items.map((d) => (
              <tr key={d.id}>
                <td>
                  <a href={href('datasets', d.id)}>{d.name}</a>
                </td>
                <td>{d.task}</td>
                <td>
                  {d.latestVersion ? (
                    <>
                      v{d.latestVersion.version} <Status status={d.latestVersion.status} />
                    </>
                  ) : (
                    'none'
                  )}
                </td>
                <td>{when(d.createdAt)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
    </>
  );
}
