import { useState } from 'preact/hooks';
import { clientFor, saveKey } from '../session';
import { ErrorNote } from '../ui';

/** Sign in with an API key: checked against the API (a dataset listing) before it is kept. */
export function SignIn({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const k = key.trim();
    try {
      const c = clientFor(k);
      await c.ok(c.api.GET('/v1/datasets', { params: { query: { limit: 1 } } }));
      saveKey(k, remember);
      onSignedIn(k);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card narrow" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <p>
        Paste an API key of your tenant (it starts with <code>msk_</code>). <code>npm start</code> prints the
        development tenant's key.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          required
          maxLength={200}
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />
          Remember on this device (otherwise the key is forgotten when this tab closes)
        </label>
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <ErrorNote error={error} />
      </form>
    </section>
  );
}
