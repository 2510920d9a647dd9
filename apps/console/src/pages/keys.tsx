import { useState } from 'preact/hooks';
import type { Schemas } from '@modelsmith/sdk/browser';
import { ErrorNote, Section, Table, useClient, useLoad, when } from '../ui';

type Scope = Schemas['CreateApiKeyDto']['scopes'][number];
const SCOPES: Scope[] = ['READ', 'TRAIN', 'PREDICT', 'ADMIN'];

/** This tenant's API keys (an ADMIN key manages them): list, create (the secret shown once), revoke. */
export function KeysPage() {
  const c = useClient();
  const keys = useLoad(() => c.ok(c.api.GET('/v1/api-keys')), [c]);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['PREDICT']);
  const [created, setCreated] = useState<string>();
  const [error, setError] = useState<unknown>();
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const k = await c.ok(c.api.POST('/v1/api-keys', { body: { name: name.trim(), scopes } }));
      setCreated(k.key);
      setName('');
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (id: string) => {
    setError(undefined);
    try {
      await c.ok(c.api.DELETE('/v1/api-keys/{id}', { params: { path: { id } } }));
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>API keys</h1>
      <Section title="New key">
        <form onSubmit={(e) => void create(e)}>
          <div class="row">
            <div class="field">
              <label for="key-name">Name</label>
              <input
                id="key-name"
                required
                maxLength={100}
                value={name}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </div>
            <fieldset class="field">
              <legend>Scopes</legend>
              {SCOPES.map((s) => (
                <label key={s} class="check">
                  <input
                    type="checkbox"
                    checked={scopes.includes(s)}
                    onChange={(e) =>
                      setScopes(e.currentTarget.checked ? [...scopes, s] : scopes.filter((x) => x !== s))
                    }
                  />
                  {s}
                </label>
              ))}
            </fieldset>
          </div>
          <button type="submit" disabled={!name.trim() || scopes.length === 0}>
            Create key
          </button>
        </form>
        {created && (
          <div class="notice" role="status">
            <p>Copy this key now: it is not shown again.</p>
            <code class="wrap" data-testid="new-key">
              {created}
            </code>
          </div>
        )}
        <ErrorNote error={error} />
      </Section>
      <Section title="Keys">
        <ErrorNote error={keys.error} />
        {keys.data && (
          <Table
            head={[
              'Name',
              'Prefix',
              'Scopes',
              'Last used',
              'State',
              <span class="visually-hidden">Actions</span>,
            ]}
          >
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td class="mono">{k.prefix}</td>
                <td>{k.scopes.join(', ')}</td>
                <td>{when(k.lastUsedAt)}</td>
                <td>{k.revokedAt ? `revoked ${when(k.revokedAt)}` : 'active'}</td>
                <td>
                  {!k.revokedAt && (
                    <button type="button" class="small danger" onClick={() => void revoke(k.id)}>
                      Revoke {k.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
    </>
  );
}
