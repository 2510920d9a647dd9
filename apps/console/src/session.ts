import { ModelsmithClient } from '@modelsmith/sdk/browser';

const KEY = 'modelsmith.apiKey';

/** The API key of this tab (sessionStorage) or of this browser (localStorage, when remembered). */
export function savedKey(): string | undefined {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? undefined;
}

export function saveKey(key: string, remember: boolean): void {
  forgetKey();
  (remember ? localStorage : sessionStorage).setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

/** A client of the API on this page's own origin (the console is served by the API). */
export function clientFor(key: string): ModelsmithClient {
  return new ModelsmithClient({ baseUrl: location.origin, apiKey: key, userAgent: 'modelsmith-console' });
}
