import { startPlatform, type Platform } from '../support/platform';
import { fuzz, formatReport, type FuzzReport } from '../support/fuzz/runner';
import { DEFAULT_FUZZ_SEED, fuzzWorld, platformHealth } from '../support/fuzz/setup';

// A fixed seed, printed; FUZZ_SEED (and FUZZ_ONLY, FUZZ_PATH from a failure's report) replay or explore.
const SEED = Number(process.env.FUZZ_SEED ?? DEFAULT_FUZZ_SEED);
// Requests per operation: about 2 minutes for the ~40 operations on a 2-core CI machine.
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

jest.setTimeout(600_000);

describe(`API fuzz: hostile requests to every route of the API and serving (seed ${SEED}, ${RUNS} per operation)`, () => {
  let p: Platform;
  let report: FuzzReport | undefined;

  beforeAll(async () => {
    p = await startPlatform({}, { storage: 'fs' });
  });

  afterAll(async () => {
    await p?.stop();
  });

  it('answers every request with a success or a 4xx problem+json carrying a code and a requestId, never a 5xx', async () => {
    const world = await fuzzWorld(p);
    expect(world.ops.length).toBeGreaterThan(30);
    report = await fuzz({
      ...world,
      seed: SEED,
      runs: RUNS,
      only: process.env.FUZZ_ONLY,
      replayPath: process.env.FUZZ_PATH,
    });
    // The seed and size of the run, for the CI log; the failures in the assertion's message.
    console.log(
      `API fuzz: seed ${SEED} (FUZZ_SEED), ${RUNS} runs per operation (FUZZ_RUNS), ${report.requests} requests to ${report.operations.length} operations in ${(report.ms / 1000).toFixed(1)} s`,
    );
    if (report.failures.length) throw new Error(formatReport(report));
    expect(report.operations.filter((o) => o.requests === 0)).toEqual([]);
  });

  it('leaves the API, serving and worker processes alive and ready', async () => {
    expect(report).toBeDefined();
    expect({
      api: p.api.child.exitCode,
      serving: p.serving.child.exitCode,
      worker: p.workers[0].child.exitCode,
    }).toEqual({ api: null, serving: null, worker: null });
    expect(await platformHealth(p)).toEqual({ api: 200, serving: 200, worker: 200 });
  });
});
