import './styles.css';
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { clientFor, forgetKey, savedKey } from './session';
import { href, useRoute } from './router';
import { ClientContext } from './ui';
import { SignIn } from './pages/signin';
import { DatasetsPage } from './pages/datasets';
import { DatasetPage } from './pages/dataset';
import { JobPage, JobsPage } from './pages/job';
import { ModelPage, ModelsPage } from './pages/model';
import { KeysPage } from './pages/keys';

function Page({ route }: { route: string[] }) {
  const [section, id] = route;
  switch (section) {
    case undefined:
    case 'datasets':
      return id ? <DatasetPage id={id} /> : <DatasetsPage />;
    case 'jobs':
      return id ? <JobPage id={id} /> : <JobsPage />;
    case 'models':
      return id ? <ModelPage id={id} /> : <ModelsPage />;
    case 'keys':
      return <KeysPage />;
    default:
      return (
        <p role="alert">
          No such page. <a href={href('datasets')}>Go to the datasets</a>.
        </p>
      );
  }
}

const NAV: [string, string][] = [
  ['datasets', 'Datasets'],
  ['jobs', 'Jobs'],
  ['models', 'Models'],
  ['keys', 'API keys'],
];

function App() {
  const [key, setKey] = useState(savedKey);
  const route = useRoute();
  const client = useMemo(() => (key ? clientFor(key) : undefined), [key]);
  const current = route[0] ?? 'datasets';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('datasets')}>
          Modelsmith
        </a>
        {client && (
          <nav aria-label="Main">
            <ul>
              {NAV.map(([k, label]) => (
                <li key={k}>
                  <a href={href(k)} aria-current={current === k ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
              <li>
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    forgetKey();
                    setKey(undefined);
                  }}
                >
                  Sign out
                </button>
              </li>
            </ul>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {client ? (
          <ClientContext.Provider value={client}>
            <Page route={route} />
          </ClientContext.Provider>
        ) : (
          <SignIn onSignedIn={setKey} />
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading…" placeholder of index.html
render(<App />, root);
