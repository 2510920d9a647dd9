import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `name` next to `callerFile` (pass `__filename`). From the
 * compiled output that is `name.js`; when the caller runs from TypeScript sources (jest, tsx
 * scripts) the worker gets `name.ts` with tsx's loader registered first.
 */
export function spawnModuleWorker(callerFile: string, name: string, workerData: unknown): Worker {
  const ext = path.extname(callerFile);
  const entry = path.join(path.dirname(callerFile), `${name}${ext}`);
  const preload = ext === '.ts' ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
  return new Worker(`${preload}require(${JSON.stringify(entry)});`, { eval: true, workerData });
}
